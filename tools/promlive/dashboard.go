// Package promlive proves the monitoring/ directory on the real tools: its
// test starts a built Blip (PostgreSQL and Redis) and Debian's Prometheus
// with monitoring/prometheus/prometheus.yml, sends traffic, and asks
// Prometheus' HTTP API whether the target is up, whether every alert rule
// and every Grafana panel query parses, and whether every panel has data.
//
// The test runs when BLIP_TEST_PROMETHEUS names a prometheus binary (.ci/run
// sets it); this file holds the dashboard reading it needs.
package promlive

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
)

// PanelQuery is one query (target) of a Grafana dashboard panel.
type PanelQuery struct {
	Panel string // the panel's title
	RefID string // the target's refId (A, B, ...)
	Expr  string // PromQL, with Grafana variables still in it
}

// Variable is a dashboard template variable of type "query".
type Variable struct {
	Name       string
	Query      string // e.g. label_values(blip_build_info, instance)
	Multi      bool
	IncludeAll bool
}

type dashboardJSON struct {
	Panels     []panelJSON `json:"panels"`
	Templating struct {
		List []struct {
			Name       string          `json:"name"`
			Type       string          `json:"type"`
			Query      json.RawMessage `json:"query"`
			Definition string          `json:"definition"`
			Multi      bool            `json:"multi"`
			IncludeAll bool            `json:"includeAll"`
		} `json:"list"`
	} `json:"templating"`
}

type panelJSON struct {
	Title   string `json:"title"`
	Type    string `json:"type"`
	Targets []struct {
		Expr  string `json:"expr"`
		RefID string `json:"refId"`
	} `json:"targets"`
	Panels []panelJSON `json:"panels"` // a collapsed row holds its panels
}

// ReadDashboard returns every panel query and template variable of a
// Grafana dashboard file. Rows are not panels: they have no targets.
func ReadDashboard(path string) ([]PanelQuery, []Variable, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	var d dashboardJSON
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	var queries []PanelQuery
	var walk func([]panelJSON)
	walk = func(panels []panelJSON) {
		for _, p := range panels {
			for _, t := range p.Targets {
				if strings.TrimSpace(t.Expr) != "" {
					queries = append(queries, PanelQuery{Panel: p.Title, RefID: t.RefID, Expr: t.Expr})
				}
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)

	var vars []Variable
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			return nil, nil, fmt.Errorf("%s: template variable %q has type %q; only query variables are supported", path, v.Name, v.Type)
		}
		q := v.Definition
		var obj struct {
			Query string `json:"query"`
		}
		var s string
		switch {
		case json.Unmarshal(v.Query, &obj) == nil && obj.Query != "":
			q = obj.Query
		case json.Unmarshal(v.Query, &s) == nil && s != "":
			q = s
		}
		vars = append(vars, Variable{Name: v.Name, Query: q, Multi: v.Multi, IncludeAll: v.IncludeAll})
	}
	return queries, vars, nil
}

// labelValuesRE matches Grafana's label_values(metric, label) variable query.
var labelValuesRE = regexp.MustCompile(`^\s*label_values\(\s*([A-Za-z_:][A-Za-z0-9_:]*(?:\{[^}]*\})?)\s*,\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*$`)

// ParseLabelValues splits label_values(series, label) into its parts.
func ParseLabelValues(query string) (series, label string, err error) {
	m := labelValuesRE.FindStringSubmatch(query)
	if m == nil {
		return "", "", fmt.Errorf("variable query %q is not label_values(series, label)", query)
	}
	return m[1], m[2], nil
}

// FormatVariable renders the values of a template variable the way
// Grafana's Prometheus data source puts them into a query: a multi-value or
// include-all variable is a regular expression (special characters escaped
// for both the regexp and the PromQL string, several values as (a|b)); a
// single-value variable is the value with backslashes and quotes escaped.
func FormatVariable(v Variable, values []string) string {
	if !v.Multi && !v.IncludeAll {
		if len(values) == 0 {
			return ""
		}
		return strings.NewReplacer(`\`, `\\`, `'`, `\\'`).Replace(values[0])
	}
	escaped := make([]string, len(values))
	for i, s := range values {
		var b strings.Builder
		for _, r := range s {
			switch {
			case r == '\\':
				b.WriteString(`\\\\`)
			case strings.ContainsRune(`$^*{}[]'+?.()|`, r):
				b.WriteString(`\\`)
				b.WriteRune(r)
			default:
				b.WriteRune(r)
			}
		}
		escaped[i] = b.String()
	}
	if len(escaped) == 1 {
		return escaped[0]
	}
	return "(" + strings.Join(escaped, "|") + ")"
}

// variableRE matches Grafana's three variable syntaxes: $name, ${name} or
// ${name:format}, and [[name]].
var variableRE = regexp.MustCompile(`\$\{([A-Za-z0-9_]+)(?::[A-Za-z0-9_]+)?\}|\$([A-Za-z0-9_]+)|\[\[([A-Za-z0-9_]+)\]\]`)

// Expand replaces every Grafana variable in expr by its value in values,
// and fails on a variable it has no value for, so that a dashboard using a
// new variable cannot pass with the variable left in.
func Expand(expr string, values map[string]string) (string, error) {
	var missing []string
	out := variableRE.ReplaceAllStringFunc(expr, func(m string) string {
		sub := variableRE.FindStringSubmatch(m)
		name := sub[1] + sub[2] + sub[3]
		v, ok := values[name]
		if !ok {
			missing = append(missing, name)
			return m
		}
		return v
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("no value for Grafana variable(s) %s in %q", strings.Join(missing, ", "), expr)
	}
	return out, nil
}
