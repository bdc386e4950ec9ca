package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"strings"
	"testing"
	"time"
)

func TestParseOptions(t *testing.T) {
	o, err := parseOptions([]string{"-smoke", "-repo", "/tmp"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(o.configs) != 1 || o.configs[0] != "sqlite" || o.duration != time.Second || o.out != "/tmp/bin/bench" {
		t.Errorf("smoke options = %+v", o)
	}
	o, err = parseOptions([]string{"-smoke", "-configs", "postgres,sqlite"}, io.Discard)
	if err != nil || len(o.configs) != 2 {
		t.Errorf("-smoke -configs postgres,sqlite = %v, %v; want both configurations", o.configs, err)
	}
	for _, args := range [][]string{
		{"-configs", "mysql"},
		{"-configs", ""},
		{"-users", "10", "-follows", "10"},
		{"-duration", "0s"},
		{"extra"},
	} {
		if _, err := parseOptions(args, io.Discard); err == nil {
			t.Errorf("parseOptions(%q) accepted", args)
		}
	}
}

func TestReadProcStat(t *testing.T) {
	// Burn a little CPU so that the reading is not all zero.
	deadline := time.Now().Add(30 * time.Millisecond)
	spins := 0
	for time.Now().Before(deadline) {
		spins++
	}
	s, err := readProcStat(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if s.rssKiB <= 0 || s.threads <= 0 || s.cpu < 0 || spins == 0 {
		t.Errorf("readProcStat(self) = %+v", s)
	}
}

func TestRequestLine(t *testing.T) {
	r := request{thread: 2, method: "POST", path: "/api/v1/blips", token: "t", expect: 201, body: `{"text":"x"}`}
	if got, want := r.line(), "2\tPOST\t/api/v1/blips\tt\t\t201\t{\"text\":\"x\"}"; got != want {
		t.Errorf("line() = %q, want %q", got, want)
	}
}

// TestReport checks the ratios, the targets and both outputs on a made-up
// run.
func TestReport(t *testing.T) {
	rep := newReport(options{users: 10, blips: 100, follows: 2, connections: 2, duration: time.Second})
	allocs := 12.0
	rep.MiddlewareAllocs = &allocs
	cr := rep.config("sqlite")
	mk := func(name string, rps float64, p99 float64, errs int64) *result {
		return &result{Scenario: name, RPS: rps, P99MS: p99, Errors: errs}
	}
	cr.Baselines = []*result{mk(scBaseline, 900, 1, 0), mk(scBaseline, 1100, 1, 0)}
	cr.Results = []*result{
		mk(scHealth, 700, 1, 0), mk(scTimeline, 100, 5, 0), mk(scTimelineDeep, 90, 5, 0),
		mk(scLogin, 8, 900, 0), mk(scHealthFlood, 100, 150, 0), mk(scPostCeleb, 50, 20, 3),
	}
	cr.Argon2PerSec = 10
	cr.Soak = &soakReport{Before: soakSample{RSSMiB: 40, Goroutines: 20}, After: soakSample{RSSMiB: 41, Goroutines: 21}}
	rep.finish()
	if cr.BaselineRPS != 1000 || cr.Results[0].Ratio != 0.7 {
		t.Errorf("baseline %v, health ratio %v; want 1000 and 0.7", cr.BaselineRPS, cr.Results[0].Ratio)
	}
	met := map[string]bool{}
	for _, tg := range rep.Targets {
		met[tg.Goal] = tg.Met
	}
	for goal, want := range map[string]bool{
		"middleware chain ≤ 10 allocations per request":                        false,
		"health-live ≥ 60% of baseline":                                        true,
		"timeline ≥ 15% of baseline":                                           false,
		"timeline-deep ≥ 80% of timeline":                                      true,
		"login ≥ 80% of raw Argon2id hashes/s":                                 true,
		"health-live-during-login p99 < 100 ms":                                false,
		"post-celebrity p99 < 50 ms":                                           true,
		"no errors in any scenario":                                            false,
		"RSS and goroutines flat over the soak (RSS ≤ +25%, goroutines ≤ +10)": true,
	} {
		if got, ok := met[goal]; !ok || got != want {
			t.Errorf("target %q: met=%v (present %v), want %v", goal, got, ok, want)
		}
	}
	var md bytes.Buffer
	rep.markdown(&md)
	for _, want := range []string{"| sqlite | health-live | 700 | 70.0% |", "| sqlite | no errors in any scenario | 3 (post-celebrity) | **NO** |"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, md.String())
		}
	}
	if _, err := json.Marshal(rep); err != nil {
		t.Fatal(err)
	}
}

func TestWrkResult(t *testing.T) {
	var r wrkResult
	if err := json.Unmarshal([]byte(`{"requests":2000,"duration_us":2000000,"errors":{"read":1,"status":3,"unexpected":5}}`), &r); err != nil {
		t.Fatal(err)
	}
	if r.rps() != 1000 || r.errorCount() != 6 {
		t.Errorf("rps %v errors %v, want 1000 and 6", r.rps(), r.errorCount())
	}
}
