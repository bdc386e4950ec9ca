// Package tools only anchors the tools module; its programs live in the
// subdirectories (checkmetrics, vulngate, composecheck) and are run with `go -C tools run`.
package tools
