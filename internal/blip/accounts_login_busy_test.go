package blip_test

import (
	"context"
	"log/slog"
	"testing"

	"github.com/blipsocial/blip/internal/blip"
)

// oneUser is a UserStore holding a single account; other methods panic.
type oneUser struct {
	blip.UserStore
	u *blip.User
}

func (s oneUser) UserByEmail(_ context.Context, email string) (*blip.User, error) {
	if email == s.u.Email {
		return s.u, nil
	}
	return nil, blip.Errorf(blip.CodeNotFound, "Not found.")
}

// busyHasher behaves like auth.Argon2id with a full pool when busy is set,
// and with a full pool and queue when saturated is set.
type busyHasher struct{ busy, saturated bool }

func (h *busyHasher) err() error {
	if h.busy {
		return blip.Errorf(blip.CodeUnavailable, "Too many login attempts are being processed; retry shortly.")
	}
	return nil
}
func (h *busyHasher) Hash(string) (string, error) { return "hash", h.err() }
func (h *busyHasher) Verify(password, _ string) (bool, bool, error) {
	if err := h.err(); err != nil {
		return false, false, err
	}
	return password == "right password", false, nil
}
func (h *busyHasher) VerifyDummy(string) error { return h.err() }
func (h *busyHasher) Saturated() bool          { return h.saturated }

// TestLogin_BusyHasherRefusesAlike checks that when the password hasher
// refuses work, an unknown email and a wrong password get the same error,
// 503 unavailable, so the refusal enumerates nothing.
func TestLogin_BusyHasherRefusesAlike(t *testing.T) {
	h := &busyHasher{}
	a := blip.NewAccounts(blip.AccountsDeps{
		Users:  oneUser{u: &blip.User{ID: blip.NewID(), Email: "known@example.com", PasswordHash: "hash", IsActive: true}},
		Hasher: h,
		Logger: slog.New(slog.DiscardHandler),
	})
	tests := []struct {
		name string
		busy bool
		want blip.Code
	}{
		{"idle", false, blip.CodeNoActiveAccount},
		{"busy", true, blip.CodeUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.busy = tt.busy
			var msgs []string
			for _, email := range []string{"unknown@example.com", "known@example.com"} {
				_, err := a.Login(context.Background(), email, "wrong password", blip.ClientInfo{})
				if got := blip.ErrorCode(err); got != tt.want {
					t.Errorf("%s: code %q, want %q", email, got, tt.want)
				}
				msgs = append(msgs, blip.ErrorMessage(err))
			}
			if msgs[0] != msgs[1] {
				t.Errorf("messages differ: %q vs %q", msgs[0], msgs[1])
			}
		})
	}
}

// countingUsers counts account lookups.
type countingUsers struct {
	oneUser
	lookups *int
}

func (s countingUsers) UserByEmail(ctx context.Context, email string) (*blip.User, error) {
	*s.lookups++
	return s.oneUser.UserByEmail(ctx, email)
}

// TestLogin_SaturatedHasherTurnsAwayBeforeLookup: with the hashing pool
// saturated, a login is refused with 503 before the account is looked up,
// so a flood costs no database read, and known and unknown emails alike.
func TestLogin_SaturatedHasherTurnsAwayBeforeLookup(t *testing.T) {
	lookups := 0
	a := blip.NewAccounts(blip.AccountsDeps{
		Users: countingUsers{
			oneUser: oneUser{u: &blip.User{ID: blip.NewID(), Email: "known@example.com", PasswordHash: "hash", IsActive: true}},
			lookups: &lookups,
		},
		Hasher: &busyHasher{saturated: true},
		Logger: slog.New(slog.DiscardHandler),
	})
	for _, email := range []string{"unknown@example.com", "known@example.com"} {
		_, err := a.Login(context.Background(), email, "right password", blip.ClientInfo{})
		if got := blip.ErrorCode(err); got != blip.CodeUnavailable {
			t.Errorf("%s: code %q, want unavailable", email, got)
		}
	}
	if lookups != 0 {
		t.Errorf("%d account lookups with a saturated hasher, want 0", lookups)
	}
}
