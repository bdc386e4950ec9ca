// Package tools only anchors the tools module; its programs live in the
// subdirectories (checkmetrics, vulngate, composecheck, ociimage) and are
// run with `go -C tools run`. promlive holds the test that runs the
// monitoring configuration on a real Prometheus (BLIP_TEST_PROMETHEUS set),
// ociimage the test that runs the built image with an OCI runtime
// (BLIP_TEST_OCI_RUNTIME set).
package tools
