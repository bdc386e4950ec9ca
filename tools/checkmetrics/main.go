// Command checkmetrics fails when a Grafana dashboard or a Prometheus rule
// queries a metric that Blip does not export, when an alert has no promtool
// unit test (monitoring/prometheus/tests) that makes it fire and one that
// keeps it quiet, or when monitoring/README.md does not describe every panel
// (title and queries) and every alert, or describes ones that are gone.
//
// The list of exported series lives in monitoring/metrics.txt, one series
// name per line as it appears in the /metrics exposition (histograms list
// their _bucket, _sum and _count series), optionally followed by the label
// names the series carries. A Go test in the service compares that file with
// the real /metrics output, so together the two checks keep every panel and
// alert pointed at something that exists.
//
// PromQL is not fully parsed: the program strips strings, label matchers,
// grouping clauses, ranges and Grafana variables, then treats every remaining
// identifier that is not a keyword or a function call as a metric name. Rule
// files are read line by line: `expr:` may hold a one-line expression or a
// block scalar (`expr: |`).
//
// Usage (from the repository root):
//
//	go -C tools run ./checkmetrics -root ..
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "checkmetrics:", err)
		os.Exit(1)
	}
}

// query is one PromQL expression and where it was found.
type query struct {
	where string
	expr  string
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("checkmetrics", flag.ContinueOnError)
	root := fs.String("root", ".", "repository root")
	if err := fs.Parse(args); err != nil {
		return err
	}
	known, err := readMetrics(filepath.Join(*root, "monitoring", "metrics.txt"))
	if err != nil {
		return err
	}

	var queries []query
	dashboards, err := filepath.Glob(filepath.Join(*root, "monitoring", "grafana", "dashboards", "*.json"))
	if err != nil {
		return err
	}
	for _, path := range dashboards {
		qs, err := dashboardQueries(path)
		if err != nil {
			return err
		}
		queries = append(queries, qs...)
	}
	rules, err := filepath.Glob(filepath.Join(*root, "monitoring", "prometheus", "*.yml"))
	if err != nil {
		return err
	}
	for _, path := range rules {
		qs, err := ruleQueries(path)
		if err != nil {
			return err
		}
		queries = append(queries, qs...)
	}
	if len(dashboards) == 0 || len(queries) == 0 {
		return errors.New("no dashboards or queries found: wrong -root?")
	}

	var problems []string
	used := map[string]bool{}
	for _, q := range queries {
		for _, ref := range references(q.expr) {
			used[ref.metric] = true
			labels, ok := known[ref.metric]
			if !ok && prometheusSeries[ref.metric] {
				labels, ok = map[string]bool{}, true
			}
			if !ok {
				problems = append(problems, fmt.Sprintf("%s: unknown metric %q in %q", q.where, ref.metric, q.expr))
				continue
			}
			for _, l := range ref.labels {
				if !labels[l] && !implicitLabel(ref.metric, l) {
					problems = append(problems, fmt.Sprintf("%s: metric %q has no label %q in %q", q.where, ref.metric, l, q.expr))
				}
			}
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return fmt.Errorf("%d problem(s); add the metric to monitoring/metrics.txt only if the server exports it:\n  %s",
			len(problems), strings.Join(problems, "\n  "))
	}
	fmt.Fprintf(stdout, "checkmetrics: %d queries in %d dashboard(s) and %d rule file(s) use %d known series\n",
		len(queries), len(dashboards), len(rules), len(used))

	problems, err = checkAlertTests(*root, rules)
	if err != nil {
		return err
	}
	if len(problems) > 0 {
		return fmt.Errorf("%d alert test problem(s):\n  %s", len(problems), strings.Join(problems, "\n  "))
	}
	fmt.Fprintln(stdout, "checkmetrics: every alert has a promtool test that fires it and one that keeps it quiet")

	problems, err = checkReadme(*root, dashboards, rules)
	if err != nil {
		return err
	}
	if len(problems) > 0 {
		return fmt.Errorf("%d problem(s) in monitoring/README.md:\n  %s", len(problems), strings.Join(problems, "\n  "))
	}
	fmt.Fprintln(stdout, "checkmetrics: monitoring/README.md describes every panel (with its queries) and every alert")
	return nil
}

// prometheusSeries are written by Prometheus itself for every target, so
// they are queryable without the server exporting them.
var prometheusSeries = map[string]bool{
	"up":                                    true,
	"scrape_duration_seconds":               true,
	"scrape_samples_scraped":                true,
	"scrape_samples_post_metric_relabeling": true,
	"scrape_series_added":                   true,
}

// implicitLabel reports labels that Prometheus or the exposition format add
// to every series, so metrics.txt need not list them.
func implicitLabel(metric, label string) bool {
	switch label {
	case "job", "instance", "__name__":
		return true
	case "le":
		return strings.HasSuffix(metric, "_bucket")
	}
	return false
}

// readMetrics parses metrics.txt: "name [label ...]" per line, # comments.
func readMetrics(path string) (map[string]map[string]bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	known := map[string]map[string]bool{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		if line == "" {
			continue
		}
		fields := strings.Fields(line)
		if !identRE.MatchString(fields[0]) {
			return nil, fmt.Errorf("%s:%d: bad metric name %q", path, n, fields[0])
		}
		labels := map[string]bool{}
		for _, l := range fields[1:] {
			labels[l] = true
		}
		known[fields[0]] = labels
	}
	return known, sc.Err()
}

// dashboardQueries collects every "expr" string and every templating
// "query" in a Grafana dashboard, wherever it is nested (rows, panels).
func dashboardQueries(path string) ([]query, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc any
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var out []query
	var walk func(v any, trail string)
	walk = func(v any, trail string) {
		switch v := v.(type) {
		case map[string]any:
			title, _ := v["title"].(string)
			if title != "" {
				trail = title
			}
			for k, child := range v {
				if s, ok := child.(string); ok && (k == "expr" || k == "query") && strings.TrimSpace(s) != "" {
					out = append(out, query{where: path + " (" + trail + ")", expr: s})
					continue
				}
				walk(child, trail)
			}
		case []any:
			for _, child := range v {
				walk(child, trail)
			}
		}
	}
	walk(doc, "")
	return out, nil
}

// ruleQueries collects the `expr:` values of a Prometheus rule file.
func ruleQueries(path string) ([]query, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	lines := strings.Split(string(data), "\n")
	var out []query
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		trimmed := strings.TrimSpace(line)
		if !strings.HasPrefix(trimmed, "expr:") && !strings.HasPrefix(trimmed, "- expr:") {
			continue
		}
		value := strings.TrimSpace(trimmed[strings.Index(trimmed, "expr:")+len("expr:"):])
		start := i + 1
		if strings.HasPrefix(value, "|") || strings.HasPrefix(value, ">") {
			indent := len(line) - len(strings.TrimLeft(line, " "))
			var block []string
			for i+1 < len(lines) {
				next := lines[i+1]
				if strings.TrimSpace(next) != "" && len(next)-len(strings.TrimLeft(next, " ")) <= indent {
					break
				}
				block = append(block, strings.TrimSpace(next))
				i++
			}
			value = strings.Join(block, " ")
		} else {
			value = strings.Trim(value, `'"`)
		}
		if value != "" {
			out = append(out, query{where: fmt.Sprintf("%s:%d", path, start), expr: value})
		}
	}
	return out, nil
}

// ref is a metric named in a query, with the labels its own matchers use.
type ref struct {
	metric string
	labels []string
}

var (
	identRE      = regexp.MustCompile(`^[A-Za-z_:][A-Za-z0-9_:]*$`)
	stringRE     = regexp.MustCompile("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'|`[^`]*`")
	labelValRE   = regexp.MustCompile(`label_values\(\s*([A-Za-z_:][A-Za-z0-9_:]*)?\s*(\{[^}]*\})?\s*,?[^)]*\)`)
	variableRE   = regexp.MustCompile(`\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*|\[\[[^\]]*\]\]`)
	rangeRE      = regexp.MustCompile(`\[[^\]]*\]`)
	groupingRE   = regexp.MustCompile(`\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	selectorRE   = regexp.MustCompile(`([A-Za-z_:][A-Za-z0-9_:]*)?\s*\{([^}]*)\}`)
	matcherRE    = regexp.MustCompile(`([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)`)
	tokenRE      = regexp.MustCompile(`[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?[A-Za-z]*|[A-Za-z_:][A-Za-z0-9_:]*(\s*\()?`)
	promKeywords = map[string]bool{
		"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
		"bool": true, "and": true, "or": true, "unless": true, "offset": true, "atan2": true,
		"sum": true, "min": true, "max": true, "avg": true, "count": true, "stddev": true, "stdvar": true,
		"group": true, "topk": true, "bottomk": true, "quantile": true, "count_values": true,
		"limitk": true, "limit_ratio": true, "inf": true, "nan": true, "Inf": true, "NaN": true,
	}
)

// references returns the metrics an expression selects.
func references(expr string) []ref {
	var out []ref
	// Grafana's label_values(metric, label): only the metric is a series.
	expr = labelValRE.ReplaceAllStringFunc(expr, func(m string) string {
		sub := labelValRE.FindStringSubmatch(m)
		if sub[1] != "" && !strings.Contains(m, ",") {
			// label_values(label): one argument is a label, not a metric.
			return " "
		}
		return " " + sub[1] + sub[2] + " "
	})
	expr = variableRE.ReplaceAllString(expr, "1")
	// Matchers first, while the strings they compare against are intact.
	seen := map[string]bool{}
	expr = selectorRE.ReplaceAllStringFunc(expr, func(m string) string {
		sub := selectorRE.FindStringSubmatch(m)
		body := stringRE.ReplaceAllString(sub[2], `""`)
		var labels []string
		for _, lm := range matcherRE.FindAllStringSubmatch(body, -1) {
			labels = append(labels, lm[1])
		}
		if sub[1] != "" && !promKeywords[sub[1]] {
			out = append(out, ref{metric: sub[1], labels: labels})
			seen[sub[1]] = true
			return " "
		}
		return " " + sub[1] + " "
	})
	expr = stringRE.ReplaceAllString(expr, " ")
	expr = rangeRE.ReplaceAllString(expr, " ")
	expr = groupingRE.ReplaceAllString(expr, " ")
	for _, tok := range tokenRE.FindAllStringSubmatch(expr, -1) {
		word := tok[0]
		if tok[1] != "" || word[0] >= '0' && word[0] <= '9' || promKeywords[word] {
			continue // a function call, a number or duration, or a keyword
		}
		if !seen[word] {
			out = append(out, ref{metric: word})
		}
	}
	return out
}
