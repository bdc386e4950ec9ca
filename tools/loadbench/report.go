package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// result is one measured scenario.
type result struct {
	Scenario    string  `json:"scenario"`
	Connections int     `json:"connections"`
	Requests    int64   `json:"requests"`
	RPS         float64 `json:"rps"`
	Ratio       float64 `json:"ratio_to_baseline"`
	P50MS       float64 `json:"p50_ms"`
	P99MS       float64 `json:"p99_ms"`
	P999MS      float64 `json:"p999_ms"`
	Errors      int64   `json:"errors"`
	// ErrorStatus is one unexpected status seen, to start looking.
	ErrorStatus int     `json:"error_status,omitempty"`
	CPUPerReqUS float64 `json:"server_cpu_us_per_request"`
	Note        string  `json:"note,omitempty"`
}

func newResult(name string, conns int, w wrkResult, cpu time.Duration) *result {
	r := &result{
		Scenario: name, Connections: conns, Requests: w.Requests, RPS: w.rps(),
		P50MS: float64(w.LatencyUS.P50) / 1000, P99MS: float64(w.LatencyUS.P99) / 1000, P999MS: float64(w.LatencyUS.P999) / 1000,
		Errors: w.errorCount(), ErrorStatus: w.Errors.UnexpectedStatus,
	}
	if w.Requests > 0 {
		r.CPUPerReqUS = float64(cpu.Microseconds()) / float64(w.Requests)
	}
	return r
}

func (r *result) summary() string {
	s := fmt.Sprintf("%-26s %9.0f req/s  p50 %7.2f ms  p99 %7.2f ms  p99.9 %7.2f ms  errors %d  cpu %.0f µs/req",
		r.Scenario, r.RPS, r.P50MS, r.P99MS, r.P999MS, r.Errors, r.CPUPerReqUS)
	if r.ErrorStatus != 0 {
		s += fmt.Sprintf(" (e.g. status %d)", r.ErrorStatus)
	}
	return s
}

type soakSample struct {
	RSSMiB     float64 `json:"rss_mib"`
	Goroutines int     `json:"goroutines"`
	Threads    int     `json:"threads"`
}

type soakReport struct {
	Duration string     `json:"duration"`
	Before   soakSample `json:"before"`
	After    soakSample `json:"after"`
}

// configReport is everything measured in one configuration.
type configReport struct {
	Name              string      `json:"name"`
	Baselines         []*result   `json:"baselines"`
	BaselineRPS       float64     `json:"baseline_rps"`
	Results           []*result   `json:"results"`
	Argon2PerSec      float64     `json:"argon2id_raw_per_second"`
	Soak              *soakReport `json:"soak,omitempty"`
	HeavyFollowers    int64       `json:"heavy_user_followers"`
	HeavyBlips        int64       `json:"heavy_user_blips"`
	OrdinaryFollowers int64       `json:"ordinary_user_followers"`
}

func (cr *configReport) result(name string) *result {
	for _, r := range cr.Results {
		if r.Scenario == name {
			return r
		}
	}
	return nil
}

// target is one goal of docs/benchmarks.md, checked on a run.
type target struct {
	Config   string `json:"config"`
	Goal     string `json:"goal"`
	Measured string `json:"measured"`
	Met      bool   `json:"met"`
}

// report is the whole run, as written to JSON.
type report struct {
	Date             string          `json:"date"`
	Commit           string          `json:"commit"`
	Machine          machine         `json:"machine"`
	Params           map[string]any  `json:"params"`
	MiddlewareAllocs *float64        `json:"middleware_allocs_per_request,omitempty"`
	Configs          []*configReport `json:"configs"`
	Targets          []target        `json:"targets"`
	Elapsed          string          `json:"elapsed"`
	start            time.Time
}

type machine struct {
	CPUs        int    `json:"cpus"`
	CPUModel    string `json:"cpu_model"`
	Go          string `json:"go"`
	LoadBefore  string `json:"loadavg_before"`
	LoadAfter   string `json:"loadavg_after"`
	MemTotalMiB int64  `json:"mem_total_mib"`
}

func newReport(o options) *report {
	return &report{
		Date:  time.Now().UTC().Format(time.RFC3339),
		start: time.Now(),
		Machine: machine{CPUs: runtime.NumCPU(), CPUModel: cpuModel(), Go: runtime.Version(),
			LoadBefore: loadAvg(), MemTotalMiB: memTotalMiB()},
		Params: map[string]any{
			"users": o.users, "blips": o.blips, "follows": o.follows, "depth": o.depth,
			"connections": o.connections, "duration": o.duration.String(), "warmup": o.warmup.String(),
			"soak": o.soak.String(), "load_generator": "wrk (one thread per connection)",
		},
	}
}

func (rep *report) config(name string) *configReport {
	cr := &configReport{Name: name}
	rep.Configs = append(rep.Configs, cr)
	return cr
}

// finish computes ratios and checks the targets.
func (rep *report) finish() {
	rep.Machine.LoadAfter = loadAvg()
	rep.Elapsed = time.Since(rep.start).Round(time.Second).String()
	rep.Targets = nil
	if rep.MiddlewareAllocs != nil {
		rep.Targets = append(rep.Targets, target{"all", "middleware chain ≤ 10 allocations per request",
			fmt.Sprintf("%.0f allocs", *rep.MiddlewareAllocs), *rep.MiddlewareAllocs <= 10})
	}
	for _, cr := range rep.Configs {
		var sum float64
		for _, b := range cr.Baselines {
			sum += b.RPS
		}
		if len(cr.Baselines) > 0 {
			cr.BaselineRPS = sum / float64(len(cr.Baselines))
		}
		for _, r := range append(append([]*result{}, cr.Baselines...), cr.Results...) {
			if cr.BaselineRPS > 0 && r.Scenario != scHealthFlood {
				r.Ratio = r.RPS / cr.BaselineRPS
			}
		}
		rep.Targets = append(rep.Targets, cr.targets()...)
	}
}

func (cr *configReport) targets() []target {
	var ts []target
	ratio := func(name string, least float64) {
		if r := cr.result(name); r != nil {
			ts = append(ts, target{cr.Name, fmt.Sprintf("%s ≥ %.0f%% of baseline", name, least*100),
				fmt.Sprintf("%.1f%%", r.Ratio*100), r.Ratio >= least})
		}
	}
	relative := func(deep, first string) {
		d, p := cr.result(deep), cr.result(first)
		if d != nil && p != nil && p.RPS > 0 {
			x := d.RPS / p.RPS
			ts = append(ts, target{cr.Name, fmt.Sprintf("%s ≥ 80%% of %s", deep, first), fmt.Sprintf("%.0f%%", x*100), x >= 0.8})
		}
	}
	p99 := func(name string, maxMS float64) {
		if r := cr.result(name); r != nil {
			ts = append(ts, target{cr.Name, fmt.Sprintf("%s p99 < %.0f ms", name, maxMS), fmt.Sprintf("%.1f ms", r.P99MS), r.P99MS < maxMS})
		}
	}
	ratio(scHealth, 0.60)
	ratio(scBlip, 0.25)
	ratio(scBlip304, 0.30)
	ratio(scTimeline, 0.15)
	relative(scTimelineDeep, scTimeline)
	relative(scUserBlipsDeep, scUserBlips)
	ratio(scRefresh, 0.08)
	if r := cr.result(scLogin); r != nil && cr.Argon2PerSec > 0 {
		x := r.RPS / cr.Argon2PerSec
		ts = append(ts, target{cr.Name, "login ≥ 80% of raw Argon2id hashes/s", fmt.Sprintf("%.0f%%", x*100), x >= 0.8})
	}
	p99(scHealthFlood, 100)
	p99(scPostCeleb, 50)
	var errs int64
	var which []string
	for _, r := range append(append([]*result{}, cr.Baselines...), cr.Results...) {
		errs += r.Errors
		if r.Errors > 0 {
			which = append(which, r.Scenario)
		}
	}
	m := "0"
	if errs > 0 {
		m = fmt.Sprintf("%d (%s)", errs, strings.Join(which, ", "))
	}
	ts = append(ts, target{cr.Name, "no errors in any scenario", m, errs == 0})
	if s := cr.Soak; s != nil {
		// Flat: RSS within 25% (the heap settles in steps of GOGC) and no
		// more than a handful of extra goroutines (pool connections).
		rssOK := s.After.RSSMiB <= s.Before.RSSMiB*1.25
		gOK := s.After.Goroutines <= s.Before.Goroutines+10
		ts = append(ts, target{cr.Name, "RSS and goroutines flat over the soak (RSS ≤ +25%, goroutines ≤ +10)",
			fmt.Sprintf("RSS %.0f → %.0f MiB, goroutines %d → %d", s.Before.RSSMiB, s.After.RSSMiB, s.Before.Goroutines, s.After.Goroutines),
			rssOK && gOK})
	}
	return ts
}

// markdown writes the tables.
func (rep *report) markdown(w io.Writer) {
	fmt.Fprintf(w, "\n%s, commit %s, %d CPUs (%s), %s, load average %s → %s, %s\n\n",
		rep.Date, rep.Commit, rep.Machine.CPUs, rep.Machine.CPUModel, rep.Machine.Go,
		rep.Machine.LoadBefore, rep.Machine.LoadAfter, rep.Elapsed)
	fmt.Fprintf(w, "Data: %v users, %v blips, %v follows each; %v connections; %v per scenario after %v warm-up.\n\n",
		rep.Params["users"], rep.Params["blips"], rep.Params["follows"], rep.Params["connections"], rep.Params["duration"], rep.Params["warmup"])
	fmt.Fprintln(w, "| config | scenario | req/s | × baseline | p50 ms | p99 ms | p99.9 ms | errors | server CPU µs/req | note |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|---:|---:|---:|---|")
	for _, cr := range rep.Configs {
		for _, r := range append(append([]*result{}, cr.Baselines...), cr.Results...) {
			ratio := "–"
			if r.Ratio > 0 {
				ratio = fmt.Sprintf("%.1f%%", r.Ratio*100)
			}
			cpu := "–"
			if r.CPUPerReqUS > 0 {
				cpu = fmt.Sprintf("%.0f", r.CPUPerReqUS)
			}
			fmt.Fprintf(w, "| %s | %s | %.0f | %s | %.2f | %.2f | %.2f | %d | %s | %s |\n",
				cr.Name, r.Scenario, r.RPS, ratio, r.P50MS, r.P99MS, r.P999MS, r.Errors, cpu, r.Note)
		}
	}
	fmt.Fprintln(w)
	for _, cr := range rep.Configs {
		fmt.Fprintf(w, "%s: heavy user seed_000001 has %d followers and %d blips; the ordinary poster has %d followers.\n",
			cr.Name, cr.HeavyFollowers, cr.HeavyBlips, cr.OrdinaryFollowers)
	}
	fmt.Fprintln(w, "\n| config | target | measured | met |")
	fmt.Fprintln(w, "|---|---|---|---|")
	for _, t := range rep.Targets {
		met := "yes"
		if !t.Met {
			met = "**NO**"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", t.Config, t.Goal, t.Measured, met)
	}
}

// writeReport prints the tables and writes results-<date>.json and
// latest.json.
func (b *bench) writeReport(rep *report) error {
	rep.markdown(b.stdout)
	raw, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	name := filepath.Join(b.o.out, "results-"+time.Now().UTC().Format("20060102T150405Z")+".json")
	if err := os.WriteFile(name, raw, 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(b.o.out, "latest.json"), raw, 0o600); err != nil {
		return err
	}
	fmt.Fprintf(b.stdout, "\nJSON: %s\nServer warnings and errors: %s\n", name, b.log.Name())
	return nil
}

func cpuModel() string {
	raw, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	for line := range strings.SplitSeq(string(raw), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

func memTotalMiB() int64 {
	raw, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	var kib int64
	for line := range strings.SplitSeq(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			_, _ = fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), &kib)
		}
	}
	return kib / 1024
}
