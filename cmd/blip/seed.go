package main

import (
	"context"
	crand "crypto/rand"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/blipsocial/blip/internal/auth"
	"github.com/blipsocial/blip/internal/blip"
	"github.com/blipsocial/blip/internal/config"
)

// defaultSeedPassword is every seeded user's password unless --password
// says otherwise; seeded data is demo data, and the command prints it.
const defaultSeedPassword = "blip-seed-password" //nolint:gosec // G101: the documented demo password (docs/benchmarks.md) for synthetic users, printed by the command; not a secret

// seedBatch is the number of rows per bulk insert (one COPY or one
// transaction): large enough to amortise round trips, small enough to keep
// memory flat for millions of rows.
const seedBatch = 10_000

// seedSpan is how far back seeded blips go, so pages have realistic times.
const seedSpan = 30 * 24 * time.Hour

// seedOptions are the flags of `blip seed`.
type seedOptions struct {
	users    int     // seed_000001 … seed_N
	blips    int     // new blips per run
	follows  int     // followees per user
	likes    int     // likes per user
	replies  float64 // share of blips that reply to a recent blip
	password string
	force    bool // seed even with APP_ENV=production
}

// seeder is what `blip seed` needs of a database; postgres.Seeder and
// sqlite.Seeder provide it.
type seeder interface {
	InsertUsers(ctx context.Context, users []*blip.User) error
	InsertFollows(ctx context.Context, follows []*blip.Follow) error
	InsertBlips(ctx context.Context, blips []*blip.Blip) error
	InsertLikes(ctx context.Context, likes []blip.Like) error
	RecountAll(ctx context.Context) error
}

// seedFlags declares the flags of `blip seed`.
func seedFlags() (*flag.FlagSet, *seedOptions) {
	var o seedOptions
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	fs.IntVar(&o.users, "users", 100, "number of seeded users (seed_000001 …)")
	fs.IntVar(&o.blips, "blips", 1000, "number of blips to add")
	fs.IntVar(&o.follows, "follows", 10, "accounts each user follows (lowered to users-1 when larger)")
	fs.IntVar(&o.likes, "likes", 5, "likes each user gives")
	fs.Float64Var(&o.replies, "replies", 0.1, "share of blips that reply to a recent blip (0 to 1)")
	fs.StringVar(&o.password, "password", defaultSeedPassword, "password of every seeded user")
	fs.BoolVar(&o.force, "force", false, "seed even with APP_ENV=production (accounts with a known password in a real database)")
	return fs, &o
}

// seedCommand implements `blip seed`: demo and benchmark data. Seeded
// users are seed_000001 … seed_N and are reused by a later run, whose
// blips and likes are added to the earlier ones; follows are the same
// every run (a user's followees derive from its number), so a re-run adds
// none.
func seedCommand(ctx context.Context, cfg config.Config, args []string, stdout io.Writer) error {
	fs, o := seedFlags()
	if err := parseFlagsOnly("seed", fs, args); err != nil {
		return err
	}
	if err := o.check(); err != nil {
		return usagef("seed: %v; run \"blip seed --help\" to see the flags", err)
	}
	if cfg.Env == config.Production && !o.force {
		return usageError{msg: "seed: APP_ENV is production: seeding creates accounts with a known password in this database; " +
			"seed a development database instead, or pass --force if you really mean it"}
	}
	if o.follows > o.users-1 {
		fmt.Fprintf(stdout, "--follows %d lowered to %d: with %d users, each can follow at most %d others\n",
			o.follows, o.users-1, o.users, o.users-1)
		o.follows = o.users - 1
	}
	db, err := openMigratedDatabase(ctx, cfg, nil)
	if err != nil {
		return err
	}
	defer db.close()
	s := db.seeder
	// One hash for everyone: hashing a million times would take hours, and
	// the stored hash is still a real Argon2id hash with production
	// parameters, so logging in as a seeded user costs what it does in
	// production.
	hash, err := auth.NewArgon2id(auth.Argon2Params{}).Hash(o.password)
	if err != nil {
		return fmt.Errorf("hash password: %w", err)
	}
	tty := false
	if f, ok := stdout.(*os.File); ok {
		tty = term.IsTerminal(int(f.Fd())) // a file descriptor fits in an int
	}
	start := time.Now()
	fmt.Fprintf(stdout, "seeding %s: %d users, %d blips, %d follows and %d likes per user\n",
		cfg.DBEngine, o.users, o.blips, o.follows, o.likes)
	err = runSeed(ctx, s, *o, hash, timeNow(), newSeedRand(), func(what string, total int) progress {
		return newProgress(stdout, tty, what, total)
	})
	if err != nil {
		return fmt.Errorf("seed: %w;%s the rows written so far stay, and running the same command again completes them", err, migrateHint(cfg))
	}
	// The password is a login to every seeded account: shown where the
	// data is a developer's own, never into a production log.
	password := "the --password value (printed only with APP_ENV=development)"
	if cfg.Env == config.Development {
		password = strconv.Quote(o.password)
	}
	fmt.Fprintf(stdout, "done in %s; every seeded user (seed_000001 … seed_%06d, email seed_NNNNNN@example.com) has the password %s\n",
		time.Since(start).Round(100*time.Millisecond), o.users, password)
	return nil
}

// check validates the options.
func (o seedOptions) check() error {
	switch {
	case o.users < 1:
		return errors.New("--users must be at least 1")
	case o.blips < 0 || o.likes < 0 || o.follows < 0:
		return errors.New("--blips, --follows and --likes must not be negative")
	case o.replies < 0 || o.replies > 1 || math.IsNaN(o.replies):
		return errors.New("--replies must be between 0 and 1")
	case o.password == "":
		return errors.New("--password must not be empty")
	}
	return nil
}

// newSeedRand returns a fast generator seeded from the system's random
// source: blip IDs take their random bits from it, so they stay as
// unguessable as NewID's.
func newSeedRand() *rand.Rand {
	var seed [32]byte
	_, _ = crand.Read(seed[:]) // never fails (crypto/rand.Read panics instead)
	// ChaCha8 is a cryptographically strong generator; seeded from
	// crypto/rand, its output is as unpredictable as crypto/rand's.
	return rand.New(rand.NewChaCha8(seed)) //nolint:gosec // G404: ChaCha8 seeded from crypto/rand, see above
}

// runSeed loads the data: users, follows, blips, likes, then recounts.
// now is the end of the time span; rng supplies IDs and choices.
func runSeed(ctx context.Context, s seeder, o seedOptions, hash string, now time.Time, rng *rand.Rand,
	newProg func(what string, total int) progress) error {
	start := now.Add(-seedSpan)
	userIDs, err := seedUsers(ctx, s, o, hash, start, rng, newProg("users", o.users))
	if err != nil {
		return err
	}
	if err := seedFollows(ctx, s, o, userIDs, start, now, rng, newProg("follows", o.users*o.follows)); err != nil {
		return err
	}
	sample, err := seedBlips(ctx, s, o, userIDs, start, now, rng, newProg("blips", o.blips))
	if err != nil {
		return err
	}
	if len(sample) > 0 && o.likes > 0 {
		if err := seedLikes(ctx, s, o, userIDs, sample, now, rng, newProg("likes", o.users*o.likes)); err != nil {
			return err
		}
	}
	p := newProg("recount", 1)
	if err := s.RecountAll(ctx); err != nil {
		return err
	}
	p.Add(1)
	p.Finish()
	return nil
}

// seedUsername is the deterministic name of the i-th seeded user (from 1),
// which is what makes a second run find the first run's users.
func seedUsername(i int) string { return fmt.Sprintf("seed_%06d", i) }

// seedUsers inserts or finds the seeded users and returns their IDs,
// index i for seed user i+1. They were "created" a day before the span.
func seedUsers(ctx context.Context, s seeder, o seedOptions, hash string, start time.Time,
	rng *rand.Rand, p progress) ([]string, error) {
	ids := make([]string, 0, o.users)
	created := start.Add(-24 * time.Hour)
	batch := make([]*blip.User, 0, min(seedBatch, o.users))
	for i := 1; i <= o.users; i++ {
		at := created.Add(time.Duration(i) * time.Millisecond)
		name := seedUsername(i)
		batch = append(batch, &blip.User{
			ID: idAt(at, rng), Email: name + "@example.com", Username: name,
			Name: fmt.Sprintf("Seed User %d", i), Bio: "Demo account made by blip seed.",
			PasswordHash: hash, Role: blip.RoleUser, IsActive: true, CreatedAt: at, UpdatedAt: at,
		})
		if len(batch) == cap(batch) || i == o.users {
			if err := s.InsertUsers(ctx, batch); err != nil {
				return nil, err
			}
			for _, u := range batch {
				ids = append(ids, u.ID) // the stored ID, also for users seeded before
			}
			p.Add(len(batch))
			batch = batch[:0]
		}
	}
	p.Finish()
	return ids, nil
}

// skewed picks an index in [0, n) with a power law: index x is chosen with
// density ∝ x^(-2/3), so the first 1% of users get about a fifth of the
// picks. Blip authors and followees both use it: prolific accounts are
// also the popular ones, as on real networks.
func skewed(rng *rand.Rand, n int) int {
	u := rng.Float64()
	return min(int(float64(n)*u*u*u), n-1)
}

// seedFollows makes every user follow o.follows others, half of them
// picked with skewed and half uniformly. The picks come from a generator
// seeded with the user's number, so every run makes the same edges and a
// re-run adds none.
func seedFollows(ctx context.Context, s seeder, o seedOptions, userIDs []string, start, now time.Time,
	rng *rand.Rand, p progress) error {
	n := len(userIDs)
	batch := make([]*blip.Follow, 0, seedBatch)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := s.InsertFollows(ctx, batch); err != nil {
			return err
		}
		p.Add(len(batch))
		batch = batch[:0]
		return nil
	}
	picked := make(map[int]bool, o.follows)
	for i := range n {
		pick := rand.New(rand.NewPCG(uint64(i), 0x626c6970)) //nolint:gosec // choices, not secrets
		clear(picked)
		for tries := 0; len(picked) < o.follows; tries++ {
			var j int
			switch {
			case tries > 20*o.follows: // dense graphs: take the next free one
				j = (i + 1 + tries) % n
			case tries%2 == 0:
				j = skewed(pick, n)
			default:
				j = pick.IntN(n)
			}
			if j == i || picked[j] {
				continue
			}
			picked[j] = true
			at := start.Add(time.Duration(rng.Int64N(int64(now.Sub(start)))))
			batch = append(batch, &blip.Follow{ID: idAt(at, rng), FollowerID: userIDs[i], FolloweeID: userIDs[j], CreatedAt: at})
		}
		if len(batch) >= seedBatch-o.follows {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	p.Finish()
	return nil
}

// seededBlip is one entry of the sample that likes are drawn from.
type seededBlip struct {
	id string
	at time.Time
}

// seedSampleSize bounds the blips kept in memory for likes.
const seedSampleSize = 100_000

// seedBlips adds o.blips blips spread evenly over [start, now) in time
// order, with authors picked by skewed and o.replies of them replying to
// one of the previous thousand. It returns a uniform sample of them
// (reservoir sampling) for likes.
func seedBlips(ctx context.Context, s seeder, o seedOptions, userIDs []string, start, now time.Time,
	rng *rand.Rand, p progress) ([]seededBlip, error) {
	words := strings.Fields(seedVocabulary)
	step := now.Sub(start) / time.Duration(max(o.blips, 1))
	recent := make([]string, 0, 1000)
	sample := make([]seededBlip, 0, min(o.blips, seedSampleSize))
	batch := make([]*blip.Blip, 0, min(seedBatch, o.blips))
	last := time.Time{}
	for i := range o.blips {
		at := start.Add(time.Duration(i) * step)
		if step > 0 {
			at = at.Add(time.Duration(rng.Int64N(int64(step))))
		}
		// Strictly increasing microseconds make strictly increasing IDs
		// (see idAt), so ID order is created_at order, as for real blips.
		at = at.Truncate(time.Microsecond)
		if !at.After(last) {
			at = last.Add(time.Microsecond)
		}
		last = at
		b := &blip.Blip{ID: idAt(at, rng), AuthorID: userIDs[skewed(rng, len(userIDs))], Text: seedText(rng, words), CreatedAt: at}
		if len(recent) > 0 && rng.Float64() < o.replies {
			b.ReplyTo = recent[rng.IntN(len(recent))]
		}
		if len(recent) < cap(recent) {
			recent = append(recent, b.ID)
		} else {
			recent[i%cap(recent)] = b.ID
		}
		if len(sample) < seedSampleSize {
			sample = append(sample, seededBlip{b.ID, at})
		} else if j := rng.IntN(i + 1); j < seedSampleSize {
			sample[j] = seededBlip{b.ID, at}
		}
		batch = append(batch, b)
		if len(batch) == cap(batch) || i == o.blips-1 {
			if err := s.InsertBlips(ctx, batch); err != nil {
				return nil, err
			}
			p.Add(len(batch))
			batch = batch[:0]
		}
	}
	p.Finish()
	return sample, nil
}

// seedLikes makes every user like o.likes blips of the sample, each some
// time after it was posted. Repeated picks are skipped by the store.
func seedLikes(ctx context.Context, s seeder, o seedOptions, userIDs []string, sample []seededBlip, now time.Time,
	rng *rand.Rand, p progress) error {
	batch := make([]blip.Like, 0, seedBatch)
	for i, uid := range userIDs {
		for range o.likes {
			b := sample[rng.IntN(len(sample))]
			at := b.at
			if d := now.Sub(b.at); d > 0 {
				at = at.Add(time.Duration(rng.Int64N(int64(d))))
			}
			batch = append(batch, blip.Like{UserID: uid, BlipID: b.id, CreatedAt: at})
		}
		if len(batch) >= seedBatch-o.likes || i == len(userIDs)-1 {
			if err := s.InsertLikes(ctx, batch); err != nil {
				return err
			}
			p.Add(len(batch))
			batch = batch[:0]
		}
	}
	p.Finish()
	return nil
}

// seedVocabulary is the words of seeded blips.
const seedVocabulary = `the a of and to in is on for with that this it my our your just today
	coffee morning release build deploy postgres sqlite redis golang latency page cursor timeline
	follow like reply blip ship test bug fix review lunch weekend music book run walk city rain sun
	great small quick slow new old happy tired busy finally again really maybe #go #dev #blip`

// seedText returns 3 to 30 of words, well within MaxTextRunes.
func seedText(rng *rand.Rand, words []string) string {
	n := 3 + rng.IntN(28)
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(words[rng.IntN(len(words))])
	}
	b.WriteByte('.')
	return b.String()
}

// idAt returns a UUIDv7 (RFC 9562 §5.7) for time t, which must not be
// before 1970: the 48-bit Unix time in milliseconds, the version, 12 bits
// of sub-millisecond time in rand_a (§6.2, method 3: about 244 ns
// resolution, so times a microsecond apart give increasing IDs), the
// variant, and 62 random bits from rng. blip.NewID stamps the current time;
// seeded rows need IDs for times in the past that sort like those times.
func idAt(t time.Time, rng *rand.Rand) string {
	ms := t.UnixMilli()
	frac := t.Sub(time.UnixMilli(ms)) // [0, 1ms)
	randA := uint64(frac) * 4096 / uint64(time.Millisecond)
	var u uuid.UUID
	binary.BigEndian.PutUint64(u[0:8], uint64(ms)<<16|0x7000|randA) // t is after 1970
	binary.BigEndian.PutUint64(u[8:16], rng.Uint64()&^(3<<62)|(2<<62))
	return u.String()
}

// progress reports one phase of the seed.
type progress interface {
	Add(n int)
	Finish()
}

// newProgress returns a progress bar on a terminal and plain lines every
// 10% otherwise (logs, CI, pipes).
func newProgress(w io.Writer, tty bool, what string, total int) progress {
	if tty {
		bar := progressbar.NewOptions64(int64(total),
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription(fmt.Sprintf("%-8s", what)),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("rows"),
			progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionShowElapsedTimeOnFinish(),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
		)
		// Start the clock now: the bar otherwise starts it at its first
		// render, after the first batch is written, and divides that
		// batch by almost no time (rates of hundreds of millions of rows
		// a second).
		bar.StartWithoutRender()
		_ = bar.RenderBlank() // a failed terminal write is not worth stopping for
		return &barProgress{bar: bar}
	}
	return &lineProgress{w: w, what: what, total: total, start: time.Now()}
}

// barProgress is a terminal progress bar.
type barProgress struct{ bar *progressbar.ProgressBar }

func (p *barProgress) Add(n int) { _ = p.bar.Add(n) } // a failed terminal write is not worth stopping for
func (p *barProgress) Finish()   { _ = p.bar.Finish() }

// lineProgress prints "what: done/total (pct%) elapsed" at every tenth.
type lineProgress struct {
	w           io.Writer
	what        string
	done, total int
	printed     int // last tenth printed
	start       time.Time
}

func (p *lineProgress) Add(n int) {
	p.done += n
	if p.total <= 0 {
		return
	}
	if tenth := p.done * 10 / p.total; tenth > p.printed && p.done < p.total {
		p.printed = tenth
		p.line()
	}
}

func (p *lineProgress) Finish() {
	p.done = max(p.done, p.total)
	p.line()
}

func (p *lineProgress) line() {
	pct := 100
	if p.total > 0 {
		pct = p.done * 100 / p.total
	}
	fmt.Fprintf(p.w, "%s: %d/%d (%d%%) %.1fs\n", p.what, p.done, p.total, pct, time.Since(p.start).Seconds())
}
