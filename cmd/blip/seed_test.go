package main

import (
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/blipsocial/blip/internal/blip"
)

func TestIDAt(t *testing.T) {
	rng := newSeedRand()
	base := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	times := []time.Time{
		time.UnixMilli(0).UTC(),
		base,
		base.Add(time.Microsecond),
		base.Add(2 * time.Microsecond),
		base.Add(999 * time.Microsecond),
		base.Add(time.Millisecond),
		base.Add(time.Millisecond + 245*time.Nanosecond), // one 1/4096 ms step (244.1 ns) later
		base.Add(time.Hour),
		time.UnixMilli(1<<48 - 1).UTC(), // the last millisecond of 48 bits
	}
	prev := ""
	for i, at := range times {
		id := idAt(at, rng)
		if !blip.ValidID(id) {
			t.Fatalf("idAt(%v) = %q: not a canonical UUID", at, id)
		}
		u := uuid.MustParse(id)
		if u.Version() != 7 || u.Variant() != uuid.RFC4122 {
			t.Errorf("idAt(%v) = %s: version %d, variant %v, want 7 and RFC 4122", at, id, u.Version(), u.Variant())
		}
		ms := int64(binary.BigEndian.Uint64(u[0:8]) >> 16) // 48 bits
		if ms != at.UnixMilli() {
			t.Errorf("idAt(%v): timestamp %d ms, want %d", at, ms, at.UnixMilli())
		}
		if i > 0 && id <= prev {
			t.Errorf("idAt(%v) = %s does not sort after %s (the previous, earlier time)", at, id, prev)
		}
		prev = id
	}
	// Random bits differ for the same instant.
	if a, b := idAt(base, rng), idAt(base, rng); a == b {
		t.Errorf("two IDs for one instant are equal: %s", a)
	}
}

// TestIDAt_ordersLikeTimes checks many increasing microsecond times, as
// seedBlips makes them.
func TestIDAt_ordersLikeTimes(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	prev := ""
	for i := range 100_000 {
		at = at.Add(time.Duration(1+rng.IntN(3000)) * time.Microsecond)
		id := idAt(at, rng)
		if id <= prev {
			t.Fatalf("step %d: %s at %v sorts before %s", i, id, at, prev)
		}
		prev = id
	}
}

func TestLineProgress(t *testing.T) {
	var out strings.Builder
	p := newProgress(&out, false, "blips", 1000)
	for range 40 {
		p.Add(25)
	}
	p.Finish()
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 10 {
		t.Fatalf("%d lines, want one per tenth:\n%s", len(lines), out.String())
	}
	for i, l := range lines {
		want := fmt.Sprintf("blips: %d/1000 (%d%%) ", (i+1)*100, (i+1)*10)
		if !strings.HasPrefix(l, want) || !strings.HasSuffix(l, "s") {
			t.Errorf("line %d = %q, want %q… ending in seconds", i, l, want)
		}
	}
}

func TestSeed_badFlags(t *testing.T) {
	env := envOf(map[string]string{"DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "x.db")})
	for _, args := range [][]string{
		{"--users", "0"},
		{"--blips", "-1"},
		{"--replies", "1.5"},
		{"--password", ""},
		{"--frobnicate"},
		{"extra"},
	} {
		var errOut strings.Builder
		code := runMain(t.Context(), append([]string{"blip", "seed"}, args...), env, strings.NewReader(""), io.Discard, &errOut)
		if code != 2 || !strings.HasPrefix(errOut.String(), "blip: seed: ") || !strings.Contains(errOut.String(), `"blip seed --help"`) {
			t.Errorf("seed %v: exit %d, stderr %q; want 2 and one line pointing at blip seed --help", args, code, errOut.String())
		}
	}
}

// TestSeed runs `blip seed` twice on each database and checks that the
// counts the API shows agree with what was loaded.
func TestSeed(t *testing.T) {
	dbs := map[string]string{"sqlite": "sqlite:" + filepath.Join(t.TempDir(), "seed.db")}
	if pg := os.Getenv("BLIP_TEST_DATABASE_URL"); pg != "" {
		dbs["postgres"] = freshSchema(t, pg)
	}
	for name, dbURL := range dbs {
		t.Run(name, func(t *testing.T) {
			env := map[string]string{"DATABASE_URL": dbURL, "AUTO_MIGRATE": "1", "BLIP_ENV_FILE": "/nonexistent/.env"}
			const users, blips, follows = 30, 2500, 4
			args := []string{"blip", "seed", "--users", fmt.Sprint(users), "--blips", fmt.Sprint(blips),
				"--follows", fmt.Sprint(follows), "--likes", "3", "--password", "Seeded-Pass-123"}
			for runNo := 1; runNo <= 2; runNo++ {
				var out, errOut strings.Builder
				if err := run(t.Context(), args, envOf(env), strings.NewReader(""), &out, &errOut); err != nil {
					t.Fatalf("run %d: %v\n%s%s", runNo, err, out.String(), errOut.String())
				}
				for _, want := range []string{"users: 30/30 (100%)", "blips: 2500/2500 (100%)", "recount: 1/1", `"Seeded-Pass-123"`} {
					if !strings.Contains(out.String(), want) {
						t.Errorf("run %d: output lacks %q:\n%s", runNo, want, out.String())
					}
				}
			}
			cfg, err := loadEnv(envOf(env))
			if err != nil {
				t.Fatal(err)
			}
			db, err := openDatabase(t.Context(), cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer db.close()
			var total, followers int64
			var top *blip.User
			for i := 1; i <= users; i++ {
				u, err := db.users.UserByUsername(t.Context(), seedUsername(i))
				if err != nil {
					t.Fatalf("%s: %v", seedUsername(i), err)
				}
				if u.FollowingCount != follows {
					t.Errorf("%s follows %d, want %d (a re-run adds no edges)", u.Username, u.FollowingCount, follows)
				}
				total += u.BlipsCount
				followers += u.FollowersCount
				if top == nil || u.BlipsCount > top.BlipsCount {
					top = u
				}
			}
			if total != 2*blips || followers != users*follows {
				t.Errorf("blips counts add up to %d, followers to %d; want %d and %d", total, followers, 2*blips, users*follows)
			}
			// The prolific author's own pages hold exactly its count.
			var n int64
			p := blip.PageRequest{Limit: 100}
			for {
				page, err := db.blips.UserBlips(t.Context(), top.ID, p)
				if err != nil {
					t.Fatal(err)
				}
				for i, b := range page {
					if i > 0 && !b.CreatedAt.Before(page[i-1].CreatedAt) {
						t.Fatalf("user blips out of time order: %v after %v", b.CreatedAt, page[i-1].CreatedAt)
					}
				}
				n += int64(len(page))
				if len(page) < p.Limit {
					break
				}
				p.After = page[len(page)-1].ID
			}
			if n != top.BlipsCount || n < 2*blips/20 {
				t.Errorf("%s: %d blips listed, count %d; want equal and skewed (≥ 5%% of all)", top.Username, n, top.BlipsCount)
			}
			tl, err := db.blips.Timeline(t.Context(), top.ID, blip.PageRequest{Limit: 20})
			if err != nil || len(tl) != 20 {
				t.Errorf("timeline of %s: %d blips, err %v", top.Username, len(tl), err)
			}
			u, err := db.users.UserByUsername(t.Context(), "seed_000001")
			if err != nil || !strings.HasPrefix(u.PasswordHash, "$argon2id$v=19$m=19456,t=2,p=1$") {
				t.Errorf("seed_000001: %v, hash %q; want production Argon2id parameters", err, u.PasswordHash)
			}
		})
	}
}
