package main

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// The load generator is wrk (Debian's package): a C event loop that costs
// the shared cores far less per request than a Go client would, so the
// server under test gets most of the machine, and its Lua hooks give each
// connection its own token, rotation chain and cursor. One wrk thread per
// connection keeps a thread's Lua state and its one connection in step,
// which is what lets a response be matched to its request.
//
//go:embed lua/*.lua
var luaScripts embed.FS

// request is one line of a wrk request list (lua/list.lua).
type request struct {
	thread int // 1-based wrk thread; 0 for every thread
	method string
	path   string
	token  string
	etag   string
	expect int
	body   string
}

func (r request) line() string {
	return strings.Join([]string{strconv.Itoa(r.thread), r.method, r.path, r.token, r.etag,
		strconv.Itoa(r.expect), r.body}, "\t")
}

// wrkResult is what lua's done() writes.
type wrkResult struct {
	Requests   int64 `json:"requests"`
	DurationUS int64 `json:"duration_us"`
	Bytes      int64 `json:"bytes"`
	Errors     struct {
		Connect          int64 `json:"connect"`
		Read             int64 `json:"read"`
		Write            int64 `json:"write"`
		Status           int64 `json:"status"`
		Timeout          int64 `json:"timeout"`
		Unexpected       int64 `json:"unexpected"`
		UnexpectedStatus int   `json:"unexpected_status"`
	} `json:"errors"`
	LatencyUS struct {
		Mean float64 `json:"mean"`
		P50  int64   `json:"p50"`
		P90  int64   `json:"p90"`
		P99  int64   `json:"p99"`
		P999 int64   `json:"p999"`
		Max  int64   `json:"max"`
	} `json:"latency_us"`
}

// errorCount is every failed request: transport errors plus answers with
// an unexpected status (which include wrk's own count of 4xx and 5xx, as
// no scenario expects one).
func (r wrkResult) errorCount() int64 {
	e := r.Errors
	return e.Connect + e.Read + e.Write + e.Timeout + max(e.Status, e.Unexpected)
}

func (r wrkResult) rps() float64 {
	if r.DurationUS == 0 {
		return 0
	}
	return float64(r.Requests) / (float64(r.DurationUS) / 1e6)
}

// wrkRun is one invocation of wrk.
type wrkRun struct {
	script      string // lua/<script>, which loads lua/common.lua
	lines       []string
	connections int
	duration    time.Duration
	delayMS     int // pace each connection; 0 for as fast as possible
}

// runWrk runs wrk against base and returns the summary.
func (b *bench) runWrk(ctx context.Context, base string, w wrkRun) (wrkResult, error) {
	var res wrkResult
	dir, err := os.MkdirTemp(b.tmp, "wrk-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)
	for _, name := range []string{w.script, "common.lua"} {
		script, err := luaScripts.ReadFile("lua/" + name)
		if err != nil {
			return res, err
		}
		if err := os.WriteFile(filepath.Join(dir, name), script, 0o600); err != nil {
			return res, err
		}
	}
	scriptPath := filepath.Join(dir, w.script)
	reqPath := filepath.Join(dir, "requests.tsv")
	resPath := filepath.Join(dir, "result.json")
	if err := os.WriteFile(reqPath, []byte(strings.Join(w.lines, "\n")+"\n"), 0o600); err != nil {
		return res, err
	}
	secs := max(1, int(w.duration.Round(time.Second)/time.Second))
	args := []string{
		"-t", strconv.Itoa(w.connections), "-c", strconv.Itoa(w.connections),
		"-d", strconv.Itoa(secs) + "s", "--timeout", "10s", "-s", scriptPath, base,
	}
	cmd := exec.CommandContext(ctx, b.wrk, args...)
	cmd.Env = append(os.Environ(), "BENCH_REQUESTS="+reqPath, "BENCH_RESULT="+resPath,
		"BENCH_COMMON="+filepath.Join(dir, "common.lua"))
	if w.delayMS > 0 {
		cmd.Env = append(cmd.Env, "BENCH_DELAY_MS="+strconv.Itoa(w.delayMS))
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return res, fmt.Errorf("wrk %s: %w\n%s", w.script, err, out)
	}
	raw, err := os.ReadFile(resPath)
	if err != nil {
		return res, fmt.Errorf("wrk %s wrote no result: %w\n%s", w.script, err, out)
	}
	if err := json.Unmarshal(raw, &res); err != nil {
		return res, fmt.Errorf("wrk %s result: %w: %s", w.script, err, raw)
	}
	return res, nil
}
