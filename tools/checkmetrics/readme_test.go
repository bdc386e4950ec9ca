package main

import (
	"reflect"
	"testing"
)

func TestCheckReadme(t *testing.T) {
	root := t.TempDir()
	write := func(rel, text string) string { return writeFile(t, root, rel, text) }
	dash := write("monitoring/grafana/dashboards/d.json", `{"panels": [
  {"type": "row", "title": "Traffic"},
  {"title": "Requests", "targets": [{"expr": "sum(rate(a[5m]))"}, {"expr": "sum(rate(b[5m]))"}]},
  {"type": "row", "title": "Collapsed", "panels": [{"title": "Hidden", "targets": [{"expr": "c"}]}]}
]}`)
	rules := write("monitoring/prometheus/alerts.yml", `groups:
  - name: g
    rules:
      - alert: Described
        expr: up == 0
      - alert: Undescribed
        expr: up == 0
`)
	write("monitoring/README.md", "# M\n\n## Dashboard\n\n#### Requests\n\n- Query: `sum(rate(a[5m]))`\n\n#### Gone\n\n"+
		"## Alerts\n\n### Described\n\n### Removed\n")
	got, err := checkReadme(root, []string{dash}, []string{rules})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`monitoring/README.md: no "### Undescribed" section under "## Alerts"`,
		`monitoring/README.md: no "#### Hidden" section for the panel of d.json`,
		"monitoring/README.md: panel \"Requests\": query not quoted verbatim: `sum(rate(b[5m]))`",
		`monitoring/README.md: section "### Removed" under "## Alerts" names no alert`,
		`monitoring/README.md: section "#### Gone" names no dashboard panel`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("checkReadme =\n%q\nwant\n%q", got, want)
	}
}
