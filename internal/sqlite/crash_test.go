package sqlite_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/blipsocial/blip/internal/blip"
	"github.com/blipsocial/blip/internal/sqlite"
)

// TestCrashDurability kills a writing process with SIGKILL and checks that
// every write it had acknowledged is in the database afterwards (WAL with
// synchronous=NORMAL).
func TestCrashDurability(t *testing.T) {
	if path := os.Getenv("BLIP_SQLITE_CRASH_CHILD"); path != "" {
		crashChild(path)
		return
	}
	if testing.Short() {
		t.Skip("spawns a process")
	}
	path := filepath.Join(t.TempDir(), "crash.db")
	//nolint:gosec // re-executes this very test binary as the writer to kill
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestCrashDurability$")
	cmd.Env = append(os.Environ(), "BLIP_SQLITE_CRASH_CHILD="+path)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var acked []string
	sc := bufio.NewScanner(stdout)
	for sc.Scan() && len(acked) < 200 {
		if id := sc.Text(); blip.ValidID(id) {
			acked = append(acked, id)
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if len(acked) < 200 {
		t.Fatalf("child acknowledged only %d writes", len(acked))
	}

	db, err := sqlite.Open(t.Context(), path, sqlite.Options{})
	if err != nil {
		t.Fatalf("reopen after kill: %v", err)
	}
	defer db.Close()
	users := sqlite.NewUserStore(db)
	for _, id := range acked {
		if _, err := users.UserByID(t.Context(), id); err != nil {
			t.Fatalf("acknowledged user %s lost after kill -9: %v", id, err)
		}
	}
}

// crashChild writes users forever, printing each ID once its write returned.
func crashChild(path string) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if err := db.Migrate(ctx, "up", &bytes.Buffer{}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	users := sqlite.NewUserStore(db)
	for i := 0; ; i++ {
		now := time.Now()
		u := &blip.User{ID: blip.NewID(), Email: fmt.Sprint("c", i, "@example.com"), Username: fmt.Sprint("c_", i),
			PasswordHash: "x", Role: blip.RoleUser, IsActive: true, CreatedAt: now, UpdatedAt: now}
		if err := users.CreateUser(ctx, u); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		fmt.Println(u.ID)
	}
}
