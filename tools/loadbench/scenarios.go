package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// Scenario names, as the report and docs/benchmarks.md use them.
const (
	scBaseline      = "baseline"
	scHealth        = "health-live"
	scBlip          = "blip"
	scBlip304       = "blip-304"
	scTimeline      = "timeline"
	scTimelineDeep  = "timeline-deep"
	scUserBlips     = "user-blips"
	scUserBlipsDeep = "user-blips-deep"
	scRefresh       = "refresh"
	scLogin         = "login"
	scHealthFlood   = "health-live-during-login"
	scPost          = "post"
	scPostCeleb     = "post-celebrity"
	scLike          = "like"
	scSoak          = "soak"
)

// fixtures are what the scenarios need from the seeded data, read through
// the API before measuring.
type fixtures struct {
	readers      []tokens // one logged-in ordinary user per connection
	readerIDs    []int
	timelineDeep []string   // per reader: the cursor at depth
	timelineIDs  [][]string // per reader: blip IDs of its timeline
	heavy        profile    // the most prolific and most followed user
	heavyTokens  tokens
	userDeep     string // cursor at depth in the heavy user's blips
	ordinary     profile
}

// heavyUser is the seeded user the skewed seed makes both the most prolific
// author and the most followed account.
const heavyUser = 1

// firstReader is the first seeded user logged in as a reader; readers are
// ordinary accounts with a normal timeline.
const firstReader = 101

func (b *bench) prepare(ctx context.Context, c *config) (*fixtures, error) {
	cl := newClient(c.base)
	f := &fixtures{}
	n := b.o.connections
	var err error
	if f.heavy, err = cl.profile(ctx, heavyUser); err != nil {
		return nil, err
	}
	if f.heavyTokens, err = cl.login(ctx, heavyUser); err != nil {
		return nil, err
	}
	if f.ordinary, err = cl.profile(ctx, firstReader); err != nil {
		return nil, err
	}
	for i := range n {
		user := firstReader + i
		t, err := cl.login(ctx, user)
		if err != nil {
			return nil, err
		}
		cursor, ids, err := cl.walk(ctx, "/api/v1/timeline", t.Access, b.o.depth)
		if err != nil {
			return nil, err
		}
		f.readers = append(f.readers, t)
		f.readerIDs = append(f.readerIDs, user)
		f.timelineDeep = append(f.timelineDeep, cursor)
		f.timelineIDs = append(f.timelineIDs, ids)
	}
	if f.userDeep, _, err = cl.walk(ctx, "/api/v1/users/"+seedUser(heavyUser)+"/blips", "", b.o.depth); err != nil {
		return nil, err
	}
	b.say("%s: fixtures ready: %d readers with timelines %d deep; %s has %d followers and %d blips; %s has %d followers",
		c.name, n, b.o.depth, f.heavy.Username, f.heavy.FollowersCount, f.heavy.BlipsCount,
		f.ordinary.Username, f.ordinary.FollowersCount)
	return f, nil
}

// measure runs every scenario of one configuration.
func (b *bench) measure(ctx context.Context, c *config, rep *report) error {
	f, err := b.prepare(ctx, c)
	if err != nil {
		return err
	}
	cr := rep.config(c.name)
	cr.HeavyFollowers, cr.HeavyBlips, cr.OrdinaryFollowers = f.heavy.FollowersCount, f.heavy.BlipsCount, f.ordinary.FollowersCount
	n := b.o.connections
	if err := b.measureBaseline(ctx, c, cr); err != nil {
		return err
	}

	perThread := func(build func(i int) []request) []string {
		var lines []string
		for i := range n {
			for _, r := range build(i) {
				r.thread = i + 1
				lines = append(lines, r.line())
			}
		}
		return lines
	}
	get := func(path, token string) request {
		return request{method: http.MethodGet, path: path, token: token, expect: http.StatusOK}
	}

	// Anonymous reads of single blips (a shared link): 20 per connection,
	// taken from the readers' timelines, read once so they are cached.
	cl := newClient(c.base)
	blipReqs := make([][]request, n)
	etagReqs := make([][]request, n)
	for i := range n {
		for _, id := range f.timelineIDs[i][:min(20, len(f.timelineIDs[i]))] {
			path := "/api/v1/blips/" + id
			etag, err := cl.etag(ctx, path)
			if err != nil {
				return err
			}
			blipReqs[i] = append(blipReqs[i], get(path, ""))
			etagReqs[i] = append(etagReqs[i], request{method: http.MethodGet, path: path, etag: etag, expect: http.StatusNotModified})
		}
	}
	heavyBlips := "/api/v1/users/" + seedUser(heavyUser) + "/blips"
	scenarios := []struct {
		name  string
		lines []string
	}{
		{scHealth, []string{get("/health/live", "").line()}},
		{scBlip, perThread(func(i int) []request { return blipReqs[i] })},
		{scBlip304, perThread(func(i int) []request { return etagReqs[i] })},
		{scTimeline, perThread(func(i int) []request { return []request{get("/api/v1/timeline", f.readers[i].Access)} })},
		{scTimelineDeep, perThread(func(i int) []request {
			return []request{get("/api/v1/timeline?cursor="+f.timelineDeep[i], f.readers[i].Access)}
		})},
		{scUserBlips, perThread(func(i int) []request { return []request{get(heavyBlips, f.readers[i].Access)} })},
		{scUserBlipsDeep, perThread(func(i int) []request {
			return []request{get(heavyBlips+"?cursor="+f.userDeep, f.readers[i].Access)}
		})},
	}
	for _, s := range scenarios {
		if err := b.scenario(ctx, c, cr, spec{name: s.name, lines: fixed(s.lines)}); err != nil {
			return err
		}
	}
	if err := b.measureRefresh(ctx, c, cr); err != nil {
		return err
	}
	if err := b.measureLogin(ctx, c, cr); err != nil {
		return err
	}
	post := func(token string, i int) []request {
		var rs []request
		for k := range 50 {
			rs = append(rs, request{method: http.MethodPost, path: "/api/v1/blips", token: token, expect: http.StatusCreated,
				body: fmt.Sprintf(`{"text":"benchmark blip %d from connection %d"}`, k, i)})
		}
		return rs
	}
	writes := []spec{
		{name: scPost, lines: fixed(perThread(func(i int) []request { return post(f.readers[i].Access, i) }))},
		// One connection: one account posts one blip at a time. Several
		// connections posting as the same account would measure the
		// queue on that account's counter row, not the cost of a post.
		{name: scPostCeleb, conns: 1, lines: fixed(perThread(func(i int) []request { return post(f.heavyTokens.Access, i) }))},
		{name: scLike, lines: fixed(perThread(func(i int) []request {
			var rs []request
			for _, id := range f.timelineIDs[i] {
				rs = append(rs, request{method: http.MethodPut, path: "/api/v1/blips/" + id + "/like",
					token: f.readers[i].Access, expect: http.StatusNoContent})
			}
			return rs
		}))},
	}
	for _, sp := range writes {
		if err := b.scenario(ctx, c, cr, sp); err != nil {
			return err
		}
	}
	if b.o.soak > 0 && c.soak {
		// The likes above changed the blips' ETags: read them again.
		for i := range n {
			if etagReqs[i][0].etag, err = cl.etag(ctx, etagReqs[i][0].path); err != nil {
				return err
			}
		}
		mix := perThread(func(i int) []request {
			tok := f.readers[i].Access
			return []request{
				get("/api/v1/timeline", tok),
				blipReqs[i][1], etagReqs[i][0],
				get(heavyBlips, tok),
				get("/api/v1/timeline?cursor="+f.timelineDeep[i], tok),
				{method: http.MethodPut, path: "/api/v1/blips/" + f.timelineIDs[i][len(f.timelineIDs[i])-1] + "/like", token: tok, expect: http.StatusNoContent},
				post(tok, i)[0],
				get("/health/live", ""),
			}
		})
		if err := b.measureSoak(ctx, c, cr, mix); err != nil {
			return err
		}
	}
	return b.measureBaseline(ctx, c, cr)
}

// measureBaseline measures the bare handler; each configuration measures
// it before and after its scenarios, and its ratios use the mean.
func (b *bench) measureBaseline(ctx context.Context, c *config, cr *configReport) error {
	lines := []string{request{method: http.MethodGet, path: "/", expect: http.StatusOK}.line()}
	w := wrkRun{script: "list.lua", lines: lines, connections: b.o.connections}
	if b.o.warmup > 0 {
		w.duration = b.o.warmup
		if _, err := b.runWrk(ctx, c.baseURL, w); err != nil {
			return err
		}
	}
	w.duration = b.o.duration
	before, err := readProcStat(c.baseline.pid())
	if err != nil {
		return err
	}
	res, err := b.runWrk(ctx, c.baseURL, w)
	if err != nil {
		return err
	}
	after, err := readProcStat(c.baseline.pid())
	if err != nil {
		return err
	}
	r := newResult(scBaseline, b.o.connections, res, after.cpu-before.cpu)
	cr.Baselines = append(cr.Baselines, r)
	b.say("%s: %s", c.name, r.summary())
	return nil
}

// spec is one scenario to run.
type spec struct {
	name   string
	script string // list.lua unless set
	conns  int    // -connections unless set
	// lines makes the request list of one run; it is called before each
	// (the warm-up and the measured run).
	lines func() ([]string, error)
}

// scenario runs a warm-up, then the measured run, sampling the server's
// CPU time around it (and its profiles with -profile).
func (b *bench) scenario(ctx context.Context, c *config, cr *configReport, sp spec) error {
	w := wrkRun{script: sp.script, connections: sp.conns}
	if w.script == "" {
		w.script = "list.lua"
	}
	if w.connections == 0 {
		w.connections = b.o.connections
	}
	var err error
	if b.o.warmup > 0 {
		if w.lines, err = sp.lines(); err != nil {
			return err
		}
		w.duration = b.o.warmup
		if _, err := b.runWrk(ctx, c.base, w); err != nil {
			return err
		}
	}
	if w.lines, err = sp.lines(); err != nil {
		return err
	}
	w.duration = b.o.duration
	r, err := b.measured(ctx, c, sp.name, w.connections, func() (wrkResult, error) { return b.runWrk(ctx, c.base, w) })
	if err != nil {
		return err
	}
	cr.Results = append(cr.Results, r)
	return nil
}

// fixed is a request list that is the same for every run.
func fixed(lines []string) func() ([]string, error) {
	return func() ([]string, error) { return lines, nil }
}

// measured runs one load, reading the server's CPU time before and after,
// and with -profile fetching its CPU and allocation profiles meanwhile.
func (b *bench) measured(ctx context.Context, c *config, name string, conns int, load func() (wrkResult, error)) (*result, error) {
	var wg sync.WaitGroup
	var profErr error
	if b.o.profile {
		secs := max(1, int(b.o.duration/time.Second)-1)
		for _, kind := range []string{"profile", "allocs"} {
			wg.Go(func() {
				dst := filepath.Join(b.o.out, "profiles", c.name+"-"+name+"."+map[string]string{"profile": "cpu", "allocs": "alloc"}[kind]+".pprof")
				if err := fetch(ctx, c.internal+"/debug/pprof/"+kind+"?seconds="+strconv.Itoa(secs), dst); err != nil {
					profErr = err
				}
			})
		}
	}
	before, err := readProcStat(c.server.pid())
	if err != nil {
		return nil, err
	}
	res, err := load()
	if err != nil {
		return nil, err
	}
	after, err := readProcStat(c.server.pid())
	if err != nil {
		return nil, err
	}
	wg.Wait()
	if profErr != nil {
		b.say("%s %s: profile: %v", c.name, name, profErr)
	}
	r := newResult(name, conns, res, after.cpu-before.cpu)
	b.say("%s: %s", c.name, r.summary())
	return r, nil
}

// measureRefresh runs the rotation chains, each from a fresh login for
// the warm-up and again for the measured run: a chain cut by the end of a
// run cannot be resumed (its last token may have been rotated unseen).
func (b *bench) measureRefresh(ctx context.Context, c *config, cr *configReport) error {
	cl := newClient(c.base)
	return b.scenario(ctx, c, cr, spec{name: scRefresh, script: "refresh.lua", lines: func() ([]string, error) {
		var lines []string
		for i := range b.o.connections {
			t, err := cl.login(ctx, firstReader+i)
			if err != nil {
				return nil, err
			}
			lines = append(lines, t.Refresh)
		}
		return lines, nil
	}})
}

// measureLogin floods the login route, every connection cycling through
// its own accounts, while a paced probe reads /health/live; raw Argon2id
// throughput is measured just before and just after.
func (b *bench) measureLogin(ctx context.Context, c *config, cr *configReport) error {
	raw1, err := b.argon2Rate(ctx)
	if err != nil {
		return err
	}
	var lines []string
	for i := range b.o.connections {
		for k := range 20 {
			user := firstReader + i + k*b.o.connections
			if user > b.o.users {
				user = 1 + (user-1)%b.o.users
			}
			lines = append(lines, request{thread: i + 1, method: http.MethodPost, path: "/api/token/", expect: http.StatusOK,
				body: fmt.Sprintf(`{"email":%q,"password":%q}`, seedEmail(user), seedPassword)}.line())
		}
	}
	w := wrkRun{script: "list.lua", lines: lines, connections: b.o.connections, duration: b.o.warmup}
	if b.o.warmup > 0 {
		if _, err := b.runWrk(ctx, c.base, w); err != nil {
			return err
		}
	}
	w.duration = b.o.duration
	probe := wrkRun{script: "list.lua", connections: 1, duration: b.o.duration, delayMS: 10,
		lines: []string{request{method: http.MethodGet, path: "/health/live", expect: http.StatusOK}.line()}}
	var probeRes wrkResult
	var probeErr error
	var wg sync.WaitGroup
	r, err := b.measured(ctx, c, scLogin, b.o.connections, func() (wrkResult, error) {
		wg.Go(func() { probeRes, probeErr = b.runWrk(ctx, c.base, probe) })
		res, err := b.runWrk(ctx, c.base, w)
		wg.Wait()
		return res, err
	})
	if err != nil {
		return err
	}
	if probeErr != nil {
		return probeErr
	}
	raw2, err := b.argon2Rate(ctx)
	if err != nil {
		return err
	}
	cr.Argon2PerSec = (raw1 + raw2) / 2
	r.Note = fmt.Sprintf("raw Argon2id %.1f/s (%.1f before, %.1f after)", cr.Argon2PerSec, raw1, raw2)
	cr.Results = append(cr.Results, r)
	pr := newResult(scHealthFlood, 1, probeRes, 0)
	pr.Note = "one connection, a request every 10 ms, during the login flood"
	pr.CPUPerReqUS = 0
	cr.Results = append(cr.Results, pr)
	b.say("%s: %s", c.name, pr.summary())
	return nil
}

// measureSoak runs a mix of every scenario for the soak duration and reads
// the server's RSS and goroutines after a warm-up and at the end.
func (b *bench) measureSoak(ctx context.Context, c *config, cr *configReport, lines []string) error {
	w := wrkRun{script: "list.lua", lines: lines, connections: b.o.connections, duration: max(b.o.warmup, 5*time.Second)}
	if _, err := b.runWrk(ctx, c.base, w); err != nil {
		return err
	}
	cl := newClient(c.base)
	sample := func() (soakSample, error) {
		// Let in-flight work and idle timers settle before reading.
		time.Sleep(2 * time.Second)
		st, err := readProcStat(c.server.pid())
		if err != nil {
			return soakSample{}, err
		}
		g, err := cl.metric(ctx, c.internal+"/metrics", "go_goroutines")
		if err != nil {
			return soakSample{}, err
		}
		return soakSample{RSSMiB: float64(st.rssKiB) / 1024, Goroutines: int(g), Threads: st.threads}, nil
	}
	before, err := sample()
	if err != nil {
		return err
	}
	w.duration = b.o.soak
	r, err := b.measured(ctx, c, scSoak, b.o.connections, func() (wrkResult, error) { return b.runWrk(ctx, c.base, w) })
	if err != nil {
		return err
	}
	after, err := sample()
	if err != nil {
		return err
	}
	cr.Soak = &soakReport{Duration: b.o.soak.String(), Before: before, After: after}
	r.Note = fmt.Sprintf("RSS %.0f → %.0f MiB, goroutines %d → %d", before.RSSMiB, after.RSSMiB, before.Goroutines, after.Goroutines)
	cr.Results = append(cr.Results, r)
	b.say("%s: soak %s", c.name, r.Note)
	return nil
}

// fetch saves the body of a GET to dst.
func fetch(ctx context.Context, url, dst string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := (&http.Client{Timeout: 5 * time.Minute}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	f, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := f.ReadFrom(resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
