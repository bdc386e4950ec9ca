// Package tools only anchors the tools module; its programs live in the
// subdirectories (checkmetrics, vulngate, composecheck) and are run with
// `go -C tools run`; promlive holds the test that runs the monitoring
// configuration on a real Prometheus (`go -C tools test ./promlive`, with
// BLIP_TEST_PROMETHEUS set).
package tools
