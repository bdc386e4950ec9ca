package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// panel is a dashboard panel with queries (rows have none).
type panel struct {
	title string
	exprs []string
}

// dashboardPanels returns the panels of a Grafana dashboard that have
// queries, including those inside collapsed rows.
func dashboardPanels(path string) ([]panel, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	type panelJSON struct {
		Title   string `json:"title"`
		Targets []struct {
			Expr string `json:"expr"`
		} `json:"targets"`
		Panels []json.RawMessage `json:"panels"`
	}
	var doc struct {
		Panels []json.RawMessage `json:"panels"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var out []panel
	var walk func([]json.RawMessage) error
	walk = func(raw []json.RawMessage) error {
		for _, r := range raw {
			var p panelJSON
			if err := json.Unmarshal(r, &p); err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			var exprs []string
			for _, t := range p.Targets {
				if strings.TrimSpace(t.Expr) != "" {
					exprs = append(exprs, t.Expr)
				}
			}
			if len(exprs) > 0 {
				out = append(out, panel{title: p.Title, exprs: exprs})
			}
			if err := walk(p.Panels); err != nil {
				return err
			}
		}
		return nil
	}
	return out, walk(doc.Panels)
}

// checkReadme requires monitoring/README.md to describe exactly the panels
// and alerts that exist: a "#### <panel title>" heading for each panel with
// each of its queries quoted verbatim in backticks, and a "### <alert
// name>" heading under "## Alerts" for each alert. Headings for panels or
// alerts that no longer exist are reported too.
func checkReadme(root string, dashboards, ruleFiles []string) ([]string, error) {
	const readmeRel = "monitoring/README.md"
	data, err := os.ReadFile(filepath.Join(root, readmeRel))
	if err != nil {
		return nil, err
	}
	text := string(data)
	panelHeads, alertHeads := map[string]bool{}, map[string]bool{}
	section := ""
	for _, line := range strings.Split(text, "\n") {
		switch {
		case strings.HasPrefix(line, "## "):
			section = strings.TrimSpace(line[3:])
		case strings.HasPrefix(line, "#### "):
			panelHeads[strings.TrimSpace(line[5:])] = true
		case strings.HasPrefix(line, "### ") && section == "Alerts":
			alertHeads[strings.TrimSpace(line[4:])] = true
		}
	}

	var problems []string
	panels := map[string]bool{}
	for _, path := range dashboards {
		ps, err := dashboardPanels(path)
		if err != nil {
			return nil, err
		}
		for _, p := range ps {
			panels[p.title] = true
			if !panelHeads[p.title] {
				problems = append(problems, fmt.Sprintf("%s: no \"#### %s\" section for the panel of %s", readmeRel, p.title, filepath.Base(path)))
				continue
			}
			for _, e := range p.exprs {
				if !strings.Contains(text, "`"+e+"`") {
					problems = append(problems, fmt.Sprintf("%s: panel %q: query not quoted verbatim: `%s`", readmeRel, p.title, e))
				}
			}
		}
	}
	alerts := map[string]bool{}
	for _, path := range ruleFiles {
		names, err := alertNames(path)
		if err != nil {
			return nil, err
		}
		for _, a := range names {
			alerts[a] = true
			if !alertHeads[a] {
				problems = append(problems, fmt.Sprintf("%s: no \"### %s\" section under \"## Alerts\"", readmeRel, a))
			}
		}
	}
	problems = append(problems, stale(panelHeads, panels, readmeRel+`: section "#### %s" names no dashboard panel`)...)
	problems = append(problems, stale(alertHeads, alerts, readmeRel+`: section "### %s" under "## Alerts" names no alert`)...)
	sort.Strings(problems)
	return problems, nil
}

// stale reports, with format, each heading that names nothing in existing.
func stale(headings, existing map[string]bool, format string) []string {
	var out []string
	for h := range headings {
		if !existing[h] {
			out = append(out, fmt.Sprintf(format, h))
		}
	}
	return out
}
