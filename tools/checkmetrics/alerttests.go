package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
)

var (
	alertNameRE = regexp.MustCompile(`^\s*-\s*alert:\s*["']?([A-Za-z0-9_]+)["']?\s*$`)
	testAlertRE = regexp.MustCompile(`^\s*(?:-\s*)?alertname:\s*["']?([A-Za-z0-9_]+)["']?\s*$`)
	expAlertsRE = regexp.MustCompile(`^\s*exp_alerts:\s*(\S*)\s*$`)
)

// alertNames returns the alert names of a rule file, in file order.
func alertNames(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, line := range strings.Split(string(data), "\n") {
		if m := alertNameRE.FindStringSubmatch(line); m != nil {
			names = append(names, m[1])
		}
	}
	return names, nil
}

// alertCoverage reads promtool unit test files and reports, per alert name,
// whether some alert_rule_test expects it to fire (a non-empty exp_alerts
// list) and whether some test expects it to stay quiet (exp_alerts: []).
func alertCoverage(paths []string) (fires, quiet map[string]bool, err error) {
	fires, quiet = map[string]bool{}, map[string]bool{}
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, nil, err
		}
		current := ""
		for _, line := range strings.Split(string(data), "\n") {
			if m := testAlertRE.FindStringSubmatch(line); m != nil {
				current = m[1]
				continue
			}
			m := expAlertsRE.FindStringSubmatch(line)
			if m == nil || current == "" {
				continue
			}
			switch m[1] {
			case "[]":
				quiet[current] = true
			case "":
				fires[current] = true // a block list of expected alerts follows
			}
			current = ""
		}
	}
	return fires, quiet, nil
}

// checkAlertTests requires, for every alert in the rule files, a promtool
// unit test under monitoring/prometheus/tests that makes it fire and one
// that keeps it quiet, and no test naming an alert that does not exist.
func checkAlertTests(root string, ruleFiles []string) ([]string, error) {
	var alerts []string
	for _, path := range ruleFiles {
		names, err := alertNames(path)
		if err != nil {
			return nil, err
		}
		alerts = append(alerts, names...)
	}
	tests, err := filepath.Glob(filepath.Join(root, "monitoring", "prometheus", "tests", "*.yml"))
	if err != nil {
		return nil, err
	}
	fires, quiet, err := alertCoverage(tests)
	if err != nil {
		return nil, err
	}
	var problems []string
	known := map[string]bool{}
	for _, a := range alerts {
		known[a] = true
		if !fires[a] {
			problems = append(problems, fmt.Sprintf("alert %s: no promtool test in monitoring/prometheus/tests expects it to fire", a))
		}
		if !quiet[a] {
			problems = append(problems, fmt.Sprintf("alert %s: no promtool test in monitoring/prometheus/tests expects it to stay quiet", a))
		}
	}
	for _, m := range []map[string]bool{fires, quiet} {
		for a := range m {
			if !known[a] {
				problems = append(problems, fmt.Sprintf("monitoring/prometheus/tests: alert %s is tested but not defined", a))
			}
		}
	}
	sort.Strings(problems)
	return slices.Compact(problems), nil
}
