// Command loadbench is `make bench`: it builds Blip, seeds a benchmark
// database with `blip seed`, starts the real server on loopback and drives
// it with wrk, next to a bare net/http handler measured in the same run (the
// baseline: the cheapest HTTP answer this machine gives). It prints one
// Markdown table and writes the same figures as JSON.
//
// Every figure that is compared is compared within one run: a scenario's
// requests per second as a ratio to the baseline's, login to raw Argon2id
// hashes per second, a deep page to page 1. The server's CPU time per
// request comes from /proc, so it holds on a machine that other work
// shares. docs/benchmarks.md describes the scenarios and keeps the history.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

func main() {
	// The baseline server is this same binary started again.
	if len(os.Args) > 1 && os.Args[1] == "baseline" {
		if err := serveBaseline(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "loadbench baseline:", err)
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadbench:", err)
		os.Exit(1)
	}
}

// options are the flags; every size and duration is settable so that a
// shared machine can run a small version.
type options struct {
	repo        string
	out         string
	configs     []string
	users       int
	blips       int
	follows     int
	depth       int
	connections int
	duration    time.Duration
	warmup      time.Duration
	soak        time.Duration
	profile     bool
	smoke       bool
	databaseURL string
	pprofVar    string
}

func parseOptions(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("loadbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	var configs string
	fs.StringVar(&o.repo, "repo", "..", "root of the Blip repository")
	fs.StringVar(&o.out, "out", "", "output directory (default <repo>/bin/bench)")
	fs.StringVar(&configs, "configs", "postgres,sqlite", "configurations to run: postgres (PostgreSQL + Redis), sqlite (SQLite + in-process caches)")
	fs.IntVar(&o.users, "users", 20_000, "seeded users")
	fs.IntVar(&o.blips, "blips", 1_000_000, "seeded blips")
	fs.IntVar(&o.follows, "follows", 50, "accounts each seeded user follows")
	fs.IntVar(&o.depth, "depth", 5000, "blips before the deep page of a timeline or a user's blips")
	fs.IntVar(&o.connections, "connections", 8, "concurrent connections (one wrk thread each)")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "measured time per scenario")
	fs.DurationVar(&o.warmup, "warmup", 2*time.Second, "unmeasured run before each scenario")
	fs.DurationVar(&o.soak, "soak", 2*time.Minute, "mixed-load run that checks RSS and goroutines stay flat (0: skip)")
	fs.BoolVar(&o.profile, "profile", false, "save CPU and allocation profiles per scenario (pprof on the internal listener)")
	fs.BoolVar(&o.smoke, "smoke", false, "a run of a few seconds on tiny data, to check the harness itself")
	fs.StringVar(&o.databaseURL, "database-url", "postgres://postgres@127.0.0.1:5432/blip_bench?sslmode=disable",
		"PostgreSQL database the benchmark owns (created, and re-created when its data does not match)")
	fs.StringVar(&o.pprofVar, "pprof-var", "PPROF", "the server setting that enables pprof on METRICS_ADDR")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if o.smoke {
		o.users, o.blips, o.follows, o.depth = 300, 6000, 20, 200
		o.connections = min(o.connections, 2)
		o.duration, o.warmup, o.soak = time.Second, 200*time.Millisecond, 2*time.Second
		if !flagSet(fs, "configs") {
			configs = "sqlite"
		}
		if !flagSet(fs, "database-url") {
			// Its own database, so that a smoke run does not replace the
			// full-size data a real run reuses.
			o.databaseURL = strings.Replace(o.databaseURL, "/blip_bench?", "/blip_bench_smoke?", 1)
		}
	}
	for _, c := range strings.Split(configs, ",") {
		switch c = strings.TrimSpace(c); c {
		case "postgres", "sqlite":
			o.configs = append(o.configs, c)
		case "":
		default:
			return o, fmt.Errorf("-configs: unknown configuration %q (postgres, sqlite)", c)
		}
	}
	switch {
	case len(o.configs) == 0:
		return o, errors.New("-configs: nothing to run")
	case o.users < 2 || o.blips < 1 || o.follows < 1 || o.follows >= o.users:
		return o, errors.New("-users, -blips and -follows: need at least 2 users, 1 blip, 1 follow, and fewer follows than users")
	case o.connections < 1 || o.duration <= 0 || o.depth < 1:
		return o, errors.New("-connections, -duration and -depth must be positive")
	}
	repo, err := filepath.Abs(o.repo)
	if err != nil {
		return o, fmt.Errorf("-repo: %w", err)
	}
	o.repo = repo
	if o.out == "" {
		o.out = filepath.Join(repo, "bin", "bench")
	}
	if o.out, err = filepath.Abs(o.out); err != nil {
		return o, fmt.Errorf("-out: %w", err)
	}
	return o, nil
}

func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseOptions(args, stderr)
	if err != nil {
		return err
	}
	b, err := newBench(o, stdout)
	if err != nil {
		return err
	}
	defer b.cleanup()
	rep, err := b.run(ctx)
	if rep != nil {
		// Whatever was measured is written, also when a later step failed.
		if werr := b.writeReport(rep); werr != nil && err == nil {
			err = werr
		}
	}
	return err
}
