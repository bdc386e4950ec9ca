package main

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestCheckAlertTests(t *testing.T) {
	root := t.TempDir()
	write := func(rel, text string) string { return writeFile(t, root, rel, text) }
	rules := write("monitoring/prometheus/alerts.yml", `groups:
  - name: g
    rules:
      - alert: Covered
        expr: up == 0
      - alert: "OnlyFires"
        expr: up == 0
      - alert: Untested
        expr: up == 0
`)
	write("monitoring/prometheus/tests/a.yml", `tests:
  - input_series: []
    alert_rule_test:
      - eval_time: 1m
        alertname: Covered
        exp_alerts: []
      - eval_time: 5m
        alertname: Covered
        exp_alerts:
          - exp_labels: {severity: warning}
      - eval_time: 5m
        alertname: OnlyFires
        exp_alerts:
          - exp_labels: {severity: warning}
      - eval_time: 5m
        alertname: Gone
        exp_alerts: []
`)
	got, err := checkAlertTests(root, []string{rules})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"alert OnlyFires: no promtool test in monitoring/prometheus/tests expects it to stay quiet",
		"alert Untested: no promtool test in monitoring/prometheus/tests expects it to fire",
		"alert Untested: no promtool test in monitoring/prometheus/tests expects it to stay quiet",
		"monitoring/prometheus/tests: alert Gone is tested but not defined",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("checkAlertTests =\n%q\nwant\n%q", got, want)
	}
}

// writeFile writes text to root/rel, creating directories, and returns the
// file's path.
func writeFile(t *testing.T, root, rel, text string) string {
	t.Helper()
	path := filepath.Join(root, rel)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
