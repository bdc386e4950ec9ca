package blip_test

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/blipsocial/blip/internal/auth"
	"github.com/blipsocial/blip/internal/blip"
	"github.com/blipsocial/blip/internal/memory"
	"github.com/blipsocial/blip/internal/sqlite"
)

// newAccounts returns an Accounts service over a private in-memory SQLite
// database and an in-process cache: real components, no fakes.
func newAccounts(t testing.TB, params auth.Argon2Params) *blip.Accounts {
	t.Helper()
	a, _ := newAccountsOn(t, params, memory.NewCache(0))
	return a
}

// newAccountsOn is newAccounts over the given cache; it also returns the
// token issuer, whose key lets a test sign tokens of its own.
func newAccountsOn(t testing.TB, params auth.Argon2Params, cache blip.Cache) (*blip.Accounts, *auth.Tokens) {
	t.Helper()
	db := migratedMemoryDB(t)
	tokens, err := auth.NewTokens(auth.TokenConfig{Secret: []byte("accounts-test-secret-0123456789abcdef")})
	if err != nil {
		t.Fatal(err)
	}
	return blip.NewAccounts(blip.AccountsDeps{
		Users: sqlite.NewUserStore(db), Sessions: sqlite.NewSessionStore(db), Tokens: tokens,
		Hasher: auth.NewArgon2id(params), Policy: auth.PasswordRules{},
		Cache: cache, Logger: slog.New(slog.DiscardHandler),
	}), tokens
}

// migratedMemoryDB returns a private, migrated in-memory SQLite database,
// closed when the test ends.
func migratedMemoryDB(t testing.TB) *sqlite.DB {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, sqlite.Memory, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	if err := db.Migrate(ctx, "up", io.Discard); err != nil {
		t.Fatal(err)
	}
	return db
}

// registered creates an account and returns its email and password.
func registered(t testing.TB, a *blip.Accounts, username string) (email, password string) {
	t.Helper()
	email, password = username+"@example.com", "Quiet-Harbour-Lamp-42"
	if _, err := a.Register(context.Background(), blip.Registration{Email: email, Username: username, Password: blip.Secret(password)}); err != nil {
		t.Fatal(err)
	}
	return email, password
}

func wantCode(t *testing.T, err error, code blip.Code, what string) {
	t.Helper()
	if got := blip.ErrorCode(err); got != code {
		t.Fatalf("%s: code %q (err %v), want %q", what, got, err, code)
	}
}

func TestAccounts_RefreshReuseRevokesFamily(t *testing.T) {
	ctx := context.Background()
	a := newAccounts(t, auth.InsecureArgon2Params())
	email, password := registered(t, a, "reuse_user")
	first, err := a.Login(ctx, email, password, blip.ClientInfo{UserAgent: "test"})
	if err != nil {
		t.Fatal(err)
	}
	second, err := a.Refresh(ctx, string(first.Refresh), blip.ClientInfo{})
	if err != nil {
		t.Fatalf("first rotation: %v", err)
	}
	if _, err := a.Authenticate(ctx, string(second.Access)); err != nil {
		t.Fatalf("rotated access token: %v", err)
	}

	_, err = a.Refresh(ctx, string(first.Refresh), blip.ClientInfo{})
	wantCode(t, err, blip.CodeTokenNotValid, "reused refresh token")
	_, err = a.Refresh(ctx, string(second.Refresh), blip.ClientInfo{})
	wantCode(t, err, blip.CodeTokenNotValid, "newest refresh token after reuse")
	for name, tok := range map[string]string{"first": string(first.Access), "second": string(second.Access)} {
		_, err := a.Authenticate(ctx, tok)
		wantCode(t, err, blip.CodeTokenNotValid, name+" access token after reuse")
	}
	wantCode(t, a.Verify(ctx, string(second.Refresh)), blip.CodeTokenNotValid, "verify of the revoked family")

	// Another login of the same user is a separate family, untouched.
	other, err := a.Login(ctx, email, password, blip.ClientInfo{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Refresh(ctx, string(other.Refresh), blip.ClientInfo{}); err != nil {
		t.Fatalf("other family: %v", err)
	}
}

func TestAccounts_ConcurrentRefreshOfOneToken(t *testing.T) {
	ctx := context.Background()
	a := newAccounts(t, auth.InsecureArgon2Params())
	email, password := registered(t, a, "race_user")
	for round := range 20 {
		pair, err := a.Login(ctx, email, password, blip.ClientInfo{})
		if err != nil {
			t.Fatal(err)
		}
		const n = 4
		var wg sync.WaitGroup
		results := make([]blip.TokenPair, n)
		errs := make([]error, n)
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				results[i], errs[i] = a.Refresh(ctx, string(pair.Refresh), blip.ClientInfo{})
			}()
		}
		close(start)
		wg.Wait()
		won := -1
		for i, err := range errs {
			switch {
			case err == nil && won >= 0:
				t.Fatalf("round %d: refreshes %d and %d both rotated the same token", round, won, i)
			case err == nil:
				won = i
			default:
				wantCode(t, err, blip.CodeTokenNotValid, "losing concurrent refresh")
			}
		}
		// Presenting one token n times is reuse: the family ends revoked,
		// whatever the interleaving.
		if won >= 0 {
			_, err := a.Refresh(ctx, string(results[won].Refresh), blip.ClientInfo{})
			wantCode(t, err, blip.CodeTokenNotValid, "winner's refresh token after the duplicates")
			_, err = a.Authenticate(ctx, string(results[won].Access))
			wantCode(t, err, blip.CodeTokenNotValid, "winner's access token after the duplicates")
		}
		_, err = a.Authenticate(ctx, string(pair.Access))
		wantCode(t, err, blip.CodeTokenNotValid, "original access token after the duplicates")
	}
}

func TestAccounts_PasswordChangeKeepsOnlyTheCallersRefresh(t *testing.T) {
	ctx := context.Background()
	a := newAccounts(t, auth.InsecureArgon2Params())
	email, password := registered(t, a, "change_user")
	mine, _ := a.Login(ctx, email, password, blip.ClientInfo{})
	other, _ := a.Login(ctx, email, password, blip.ClientInfo{})
	p, err := a.Authenticate(ctx, string(mine.Access))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.ChangePassword(ctx, p, password, "Brand-New-Lantern-77"); err != nil {
		t.Fatal(err)
	}
	for name, tok := range map[string]string{"mine": string(mine.Access), "other": string(other.Access)} {
		_, err := a.Authenticate(ctx, tok)
		wantCode(t, err, blip.CodeTokenNotValid, name+" old access token")
	}
	_, err = a.Refresh(ctx, string(other.Refresh), blip.ClientInfo{})
	wantCode(t, err, blip.CodeTokenNotValid, "other session's refresh")
	next, err := a.Refresh(ctx, string(mine.Refresh), blip.ClientInfo{})
	if err != nil {
		t.Fatalf("caller's refresh after its own password change: %v", err)
	}
	// Issued in the same second as the change, yet valid at once.
	if _, err := a.Authenticate(ctx, string(next.Access)); err != nil {
		t.Fatalf("access token issued right after the change: %v", err)
	}
}

// TestAccounts_LoginTimingHidesUnknownEmails compares, with the production
// Argon2id parameters, how long Login takes to refuse an unknown email and
// a wrong password for a known one: the medians must differ by less than
// 20%, or response times would reveal which emails have accounts.
func TestAccounts_LoginTimingHidesUnknownEmails(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: 30 Argon2id verifications with production parameters")
	}
	ctx := context.Background()
	a := newAccounts(t, auth.Argon2Params{}) // zero value = OWASP defaults
	email, password := registered(t, a, "timing_user")
	login := func(email, password string) time.Duration {
		start := time.Now()
		_, err := a.Login(ctx, email, password, blip.ClientInfo{})
		d := time.Since(start)
		wantCode(t, err, blip.CodeNoActiveAccount, "refused login")
		return d
	}
	// Warm up both paths (lazy initialisation, page faults of the 19 MiB
	// Argon2 buffer) before measuring.
	login("nobody@example.com", password)
	login(email, password+"x")

	const samples = 15
	var unknown, wrong []time.Duration
	for i := range samples {
		// Interleave, alternating which goes first, so that drift in machine
		// load affects both series alike.
		if i%2 == 0 {
			unknown = append(unknown, login("nobody@example.com", password))
			wrong = append(wrong, login(email, password+"x"))
		} else {
			wrong = append(wrong, login(email, password+"x"))
			unknown = append(unknown, login("nobody@example.com", password))
		}
	}
	mu, mw := median(unknown), median(wrong)
	diff := float64(mu-mw) / float64(max(mu, mw))
	if diff < 0 {
		diff = -diff
	}
	t.Logf("login refusal medians over %d samples: unknown email %s, wrong password %s (difference %.1f%%)",
		samples, mu.Round(10*time.Microsecond), mw.Round(10*time.Microsecond), 100*diff)
	if diff >= 0.20 {
		t.Errorf("unknown email %s vs wrong password %s: medians differ by %.1f%% (limit 20%%)", mu, mw, 100*diff)
	}
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
