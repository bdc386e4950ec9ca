package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

// bench is one run of the benchmark.
type bench struct {
	o      options
	stdout io.Writer
	tmp    string
	wrk    string
	blip   string // the server binary
	self   string // this program, which also serves the baseline
	tests  map[string]string
	log    *os.File // warnings and errors of the servers
	procs  []*process
	start  time.Time
}

func newBench(o options, stdout io.Writer) (*bench, error) {
	wrk, err := exec.LookPath("wrk")
	if err != nil {
		return nil, errors.New("wrk is not installed: run `make bench` (scripts/bench.sh installs it) or `apt-get install wrk`")
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	for _, d := range []string{"bin", "data", "tmp", "profiles"} {
		if err := os.MkdirAll(filepath.Join(o.out, d), 0o750); err != nil {
			return nil, err
		}
	}
	tmp, err := os.MkdirTemp(filepath.Join(o.out, "tmp"), "run-")
	if err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(o.out, "server.log"))
	if err != nil {
		return nil, err
	}
	return &bench{o: o, stdout: stdout, tmp: tmp, wrk: wrk, self: self, log: logf,
		tests: map[string]string{}, start: time.Now()}, nil
}

func (b *bench) cleanup() {
	for i := len(b.procs) - 1; i >= 0; i-- {
		b.procs[i].stop()
	}
	b.procs = nil
	b.log.Close()
	os.RemoveAll(b.tmp)
}

func (b *bench) say(format string, args ...any) {
	fmt.Fprintf(b.stdout, "[%5.0fs] %s\n", time.Since(b.start).Seconds(), fmt.Sprintf(format, args...))
}

// run builds, then measures every configuration.
func (b *bench) run(ctx context.Context) (*report, error) {
	rep := newReport(b.o)
	if err := b.build(ctx); err != nil {
		return nil, err
	}
	rep.Commit = b.commit(ctx)
	if allocs, err := b.middlewareAllocs(ctx); err != nil {
		b.say("middleware allocations: %v", err)
	} else {
		rep.MiddlewareAllocs = &allocs
	}
	// Both databases are seeded at once, before anything is measured:
	// PostgreSQL's load runs mostly in its own processes, SQLite's in
	// blip seed, so together they take little longer than the slower one.
	urls := make([]string, len(b.o.configs))
	errs := make([]error, len(b.o.configs))
	var wg sync.WaitGroup
	for i, name := range b.o.configs {
		wg.Go(func() { urls[i], errs[i] = b.prepareData(ctx, name) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for i, name := range b.o.configs {
		// The soak runs in the first configuration only: one two-minute
		// run answers whether memory and goroutines stay flat.
		if err := b.runConfig(ctx, name, urls[i], i == 0, rep); err != nil {
			rep.finish()
			return rep, fmt.Errorf("%s: %w", name, err)
		}
	}
	rep.finish()
	return rep, nil
}

// build compiles the server and the test binaries the run uses.
func (b *bench) build(ctx context.Context) error {
	b.say("building blip and the benchmark binaries")
	b.blip = filepath.Join(b.o.out, "bin", "blip")
	env := []string{"CGO_ENABLED=0"}
	if _, err := runCommand(ctx, b.o.repo, env, "go", "build", "-trimpath", "-o", b.blip, "./cmd/blip"); err != nil {
		return err
	}
	for _, pkg := range []string{"auth", "httpapi"} {
		bin := filepath.Join(b.o.out, "bin", pkg+".test")
		if _, err := runCommand(ctx, b.o.repo, env, "go", "test", "-c", "-o", bin, "./internal/"+pkg); err != nil {
			return err
		}
		b.tests[pkg] = bin
	}
	return nil
}

func (b *bench) commit(ctx context.Context) string {
	out, err := runCommand(ctx, b.o.repo, nil, "git", "describe", "--always", "--dirty")
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(out)
}

// goBench runs one Go benchmark of a compiled test binary and returns its
// ns/op and allocs/op.
func (b *bench) goBench(ctx context.Context, pkg, pattern string, benchtime string) (nsOp, allocsOp float64, err error) {
	out, err := runCommand(ctx, b.o.repo, nil, b.tests[pkg], "-test.run", "^$", "-test.bench", pattern,
		"-test.benchmem", "-test.benchtime", benchtime)
	if err != nil {
		return 0, 0, err
	}
	for line := range strings.SplitSeq(out, "\n") {
		if !strings.HasPrefix(line, "Benchmark") {
			continue
		}
		f := strings.Fields(line)
		for i := 1; i+1 < len(f); i++ {
			switch f[i+1] {
			case "ns/op":
				nsOp, _ = strconv.ParseFloat(f[i], 64)
			case "allocs/op":
				allocsOp, _ = strconv.ParseFloat(f[i], 64)
			}
		}
		if nsOp > 0 {
			return nsOp, allocsOp, nil
		}
	}
	return 0, 0, fmt.Errorf("no result for %s in:\n%s", pattern, out)
}

// middlewareAllocs is the allocations per request of the middleware chain
// alone (httpapi's BenchmarkMiddlewareChain).
func (b *bench) middlewareAllocs(ctx context.Context) (float64, error) {
	_, allocs, err := b.goBench(ctx, "httpapi", "^BenchmarkMiddlewareChain$/^live$", "20000x")
	return allocs, err
}

// argon2Rate is the raw Argon2id hashes per second: verifications with the
// production parameters through the production pool (one hash at a time
// per free core), without HTTP, database or tokens around them.
func (b *bench) argon2Rate(ctx context.Context) (float64, error) {
	ns, _, err := b.goBench(ctx, "auth", "^BenchmarkVerifyParallel$/^default$", "3s")
	if err != nil {
		return 0, err
	}
	return 1e9 / ns, nil
}

// config is one configuration being measured.
type config struct {
	name     string
	env      []string
	server   *process
	base     string // http://127.0.0.1:port
	internal string // http://127.0.0.1:port of METRICS_ADDR
	baseline *process
	baseURL  string
	soak     bool // run the soak here
}

func (b *bench) runConfig(ctx context.Context, name, dbURL string, soak bool, rep *report) error {
	c := &config{name: name, soak: soak}
	c.env = append(c.env, "DATABASE_URL="+dbURL)
	if name == "postgres" {
		redisURL, err := b.startRedis(ctx)
		if err != nil {
			return err
		}
		c.env = append(c.env, "REDIS_URL="+redisURL)
	}
	if err := b.startBaseline(ctx, c); err != nil {
		return err
	}
	if err := b.startServer(ctx, c); err != nil {
		return err
	}
	defer func() {
		c.server.stop()
		c.baseline.stop()
	}()
	return b.measure(ctx, c, rep)
}

// prepareData returns the DATABASE_URL of seeded data, seeding it unless
// a previous run left the same data.
func (b *bench) prepareData(ctx context.Context, name string) (string, error) {
	o := b.o
	seedArgs := []string{"seed", "--users", strconv.Itoa(o.users), "--blips", strconv.Itoa(o.blips),
		"--follows", strconv.Itoa(o.follows)}
	if name == "sqlite" {
		path := filepath.Join(o.out, "data", fmt.Sprintf("blip-u%d-b%d-f%d.db", o.users, o.blips, o.follows))
		dbURL := "sqlite://" + path
		marker := path + ".seeded"
		if _, err := os.Stat(marker); err == nil {
			b.say("sqlite: reusing %s", path)
			return dbURL, nil
		}
		for _, suffix := range []string{"", "-wal", "-shm"} {
			_ = os.Remove(path + suffix)
		}
		if err := b.seed(ctx, name, dbURL, seedArgs); err != nil {
			return "", err
		}
		return dbURL, os.WriteFile(marker, nil, 0o600)
	}
	u, err := url.Parse(o.databaseURL)
	if err != nil {
		return "", fmt.Errorf("-database-url: %w", err)
	}
	db := strings.TrimPrefix(u.Path, "/")
	if !strings.Contains(db, "bench") {
		// The database is dropped and re-created: never one that might
		// hold anything else.
		return "", fmt.Errorf("-database-url: the database name %q must contain \"bench\"", db)
	}
	admin := *u
	admin.Path = "/postgres"
	psql := func(sql string, dbURL string) (string, error) {
		out, err := runCommand(ctx, "", nil, "psql", dbURL, "-X", "-v", "ON_ERROR_STOP=1", "-Atqc", sql)
		return strings.TrimSpace(out), err
	}
	exists, err := psql("SELECT count(*) FROM pg_database WHERE datname = '"+db+"'", admin.String())
	if err != nil {
		return "", err
	}
	if exists == "1" {
		got, err := psql("SELECT (SELECT count(*) FROM users) || ' ' || (SELECT count(*) FROM blips) || ' ' || (SELECT count(*) FROM follows)", o.databaseURL)
		if err == nil {
			var users, blips, follows int
			if _, err := fmt.Sscan(got, &users, &blips, &follows); err == nil &&
				users == o.users && blips >= o.blips && follows == o.users*o.follows {
				b.say("postgres: reusing %s (%d users, %d blips, %d follows)", db, users, blips, follows)
				return o.databaseURL, nil
			}
		}
		b.say("postgres: %s holds other data (%q); re-creating it", db, got)
		if _, err := psql("DROP DATABASE "+db+" WITH (FORCE)", admin.String()); err != nil {
			return "", err
		}
	}
	if _, err := psql("CREATE DATABASE "+db, admin.String()); err != nil {
		return "", err
	}
	return o.databaseURL, b.seed(ctx, name, o.databaseURL, seedArgs)
}

func (b *bench) seed(ctx context.Context, name, dbURL string, args []string) error {
	b.say("%s: seeding: blip %s", name, strings.Join(args, " "))
	cmd := exec.CommandContext(ctx, b.blip, args...)
	cmd.Env = append(os.Environ(), "DATABASE_URL="+dbURL, "AUTO_MIGRATE=1", "APP_ENV=development", "LOG_LEVEL=warn")
	out := &prefixWriter{w: b.stdout, prefix: name + " seed: "}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("blip seed: %w", err)
	}
	return nil
}

// startRedis starts a private Redis on a free port: the shared one is
// never flushed or loaded by the benchmark.
func (b *bench) startRedis(ctx context.Context) (string, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return "", errors.New("redis-server is not installed (scripts/bench.sh installs it)")
	}
	port, err := freePort()
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp(b.tmp, "redis-")
	if err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", dir)
	p, err := startProcess("redis", cmd, nil)
	if err != nil {
		return "", err
	}
	b.procs = append(b.procs, p)
	addr := "127.0.0.1:" + strconv.Itoa(port)
	for i := 0; ; i++ {
		if ok, err := p.exited(); ok {
			return "", fmt.Errorf("%w:\n%s", err, p.output())
		}
		if strings.Contains(p.output(), "Ready to accept connections") {
			break
		}
		if i > 100 {
			return "", fmt.Errorf("redis did not start:\n%s", p.output())
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.say("redis: private instance on %s", addr)
	return "redis://" + addr + "/0", nil
}

func (b *bench) startBaseline(ctx context.Context, c *config) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	p, err := startProcess("baseline", exec.CommandContext(ctx, b.self, "baseline", "-addr", addr), b.log)
	if err != nil {
		return err
	}
	b.procs = append(b.procs, p)
	c.baseline, c.baseURL = p, "http://"+addr
	return p.waitHTTP(ctx, c.baseURL+"/", 10*time.Second)
}

// startServer starts `blip serve` in production mode, as deployed, with
// rate limits on and set high enough not to reject.
func (b *bench) startServer(ctx context.Context, c *config) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	iport, err := freePort()
	if err != nil {
		return err
	}
	key := make([]byte, 48)
	_, _ = rand.Read(key)
	const high = "1000000/second"
	env := append([]string{
		"APP_ENV=production",
		"SECRET_KEY=" + base64.RawURLEncoding.EncodeToString(key),
		"ALLOWED_HOSTS=127.0.0.1,localhost",
		"SECURE_SSL_REDIRECT=0", // plain HTTP on loopback; TLS ends at a proxy in production
		"HTTP_ADDR=127.0.0.1:" + strconv.Itoa(port),
		"METRICS_ADDR=127.0.0.1:" + strconv.Itoa(iport),
		"AUTO_MIGRATE=1",
		"ACCESS_TOKEN_LIFETIME=2h", // tokens made before the scenarios outlive the run
		"THROTTLE_ANON=" + high, "THROTTLE_USER=" + high, "THROTTLE_LOGIN=" + high,
		"THROTTLE_REGISTER=" + high, "THROTTLE_REFRESH=" + high,
		"GOMAXPROCS=" + strconv.Itoa(runtime.NumCPU()),
	}, c.env...)
	if b.o.profile {
		env = append(env, b.o.pprofVar+"=1")
	}
	cmd := exec.CommandContext(ctx, b.blip)
	cmd.Env = append(os.Environ(), env...)
	p, err := startProcess("blip-"+c.name, cmd, b.log)
	if err != nil {
		return err
	}
	b.procs = append(b.procs, p)
	c.server = p
	c.base = "http://127.0.0.1:" + strconv.Itoa(port)
	c.internal = "http://127.0.0.1:" + strconv.Itoa(iport)
	if err := p.waitHTTP(ctx, c.base+"/health/live", 2*time.Minute); err != nil {
		return err
	}
	b.say("%s: blip serving on %s (internal %s)", c.name, c.base, c.internal)
	return nil
}

// prefixWriter writes whole lines to w, each after prefix, so that two
// seeds running at once print legibly. It is used by one writer at a time
// (os/exec copies a command's output from one goroutine), and w is safe
// for whole-line writes from several.
type prefixWriter struct {
	w      io.Writer
	prefix string
	buf    []byte
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.buf = append(p.buf, b...)
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			return len(b), nil
		}
		line := append([]byte(p.prefix), p.buf[:i+1]...)
		p.buf = p.buf[i+1:]
		if _, err := p.w.Write(line); err != nil {
			return len(b), err
		}
	}
}
