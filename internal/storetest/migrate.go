package storetest

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
)

// Migrator is what each engine's DB offers for `blip migrate`.
type Migrator interface {
	Migrate(ctx context.Context, cmd string, out io.Writer) error
}

// RunMigrate walks a fresh, empty database through status, up, down and up
// again and checks what each step prints, so that `blip migrate` behaves
// the same on every engine.
func RunMigrate(t *testing.T, db Migrator) {
	t.Helper()
	steps := []struct {
		cmd  string
		want []string // substrings of the output, in order
	}{
		{"status", []string{"00001_users_sessions.sql       pending", "00002_blips_graph.sql          pending", "00003_cache_generation.sql     pending"}},
		{"up", []string{"OK    up 00001_users_sessions.sql", "OK    up 00002_blips_graph.sql", "OK    up 00003_cache_generation.sql"}},
		{"up", []string{"no pending migrations; schema at version 3"}},
		{"status", []string{"00001_users_sessions.sql       applied", "00002_blips_graph.sql          applied", "00003_cache_generation.sql     applied"}},
		{"down", []string{"OK    down 00003_cache_generation.sql"}},
		{"status", []string{"00002_blips_graph.sql          applied", "00003_cache_generation.sql     pending"}},
		{"down", []string{"OK    down 00002_blips_graph.sql"}},
		{"down", []string{"OK    down 00001_users_sessions.sql"}},
		{"down", []string{"no migration to roll back"}},
		{"up", []string{"OK    up 00001_users_sessions.sql", "OK    up 00002_blips_graph.sql", "OK    up 00003_cache_generation.sql"}},
	}
	for i, st := range steps {
		var out bytes.Buffer
		if err := db.Migrate(t.Context(), st.cmd, &out); err != nil {
			t.Fatalf("step %d %s: %v", i, st.cmd, err)
		}
		rest := out.String()
		for _, w := range st.want {
			j := strings.Index(rest, w)
			if j < 0 {
				t.Fatalf("step %d %s: output lacks %q:\n%s", i, st.cmd, w, out.String())
			}
			rest = rest[j+len(w):]
		}
	}
	if err := db.Migrate(t.Context(), "sideways", &bytes.Buffer{}); err == nil {
		t.Error("unknown command accepted")
	}
}
