package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/blipsocial/blip/internal/blip"
)

// newSession creates a session of user created at created and valid for ttl.
func newSession(t *testing.T, s Stores, userID string, created time.Time, ttl time.Duration) *blip.Session {
	t.Helper()
	sess := &blip.Session{
		ID:         blip.NewID(),
		UserID:     userID,
		RefreshJTI: blip.NewID(),
		CreatedAt:  created,
		LastUsedAt: created,
		ExpiresAt:  created.Add(ttl),
		UserAgent:  "storetest/1.0",
		IP:         "192.0.2.1",
	}
	noErr(t, "CreateSession", s.Sessions.CreateSession(ctx(t), sess))
	return sess
}

func testSessionsCreateAndGet(t *testing.T, s Stores) {
	u := newUser(t, s, "erin")
	sess := newSession(t, s, u.ID, t0, time.Hour)
	got, err := s.Sessions.SessionByID(ctx(t), sess.ID)
	noErr(t, "SessionByID", err)
	if got.RevokedAt != nil || got.ID != sess.ID || got.UserID != u.ID || got.RefreshJTI != sess.RefreshJTI ||
		!got.CreatedAt.Equal(micro(t0)) || !got.LastUsedAt.Equal(micro(t0)) ||
		!got.ExpiresAt.Equal(micro(t0.Add(time.Hour))) || got.UserAgent != sess.UserAgent || got.IP != sess.IP {
		t.Errorf("SessionByID:\n got %+v\nwant %+v", *got, *sess)
	}
	if got.CreatedAt.Location() != time.UTC {
		t.Errorf("CreatedAt location %v, want UTC", got.CreatedAt.Location())
	}
	_, err = s.Sessions.SessionByID(ctx(t), blip.NewID())
	wantCode(t, "SessionByID missing", err, blip.CodeNotFound)
	_, err = s.Sessions.SessionByID(ctx(t), "garbage")
	wantCode(t, "SessionByID malformed", err, blip.CodeNotFound)
	orphan := &blip.Session{ID: blip.NewID(), UserID: blip.NewID(), RefreshJTI: "j",
		CreatedAt: t0, LastUsedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	if err := s.Sessions.CreateSession(ctx(t), orphan); err == nil {
		t.Error("CreateSession for a missing user succeeded")
	}
}

func testSessionsRotate(t *testing.T, s Stores) {
	u := newUser(t, s, "frank")
	sess := newSession(t, s, u.ID, t0, time.Hour)
	used, exp := t0.Add(10*time.Minute), t0.Add(2*time.Hour)

	noErr(t, "Rotate", s.Sessions.RotateSession(ctx(t), sess.ID, sess.RefreshJTI, "jti-2", used, exp))
	got, err := s.Sessions.SessionByID(ctx(t), sess.ID)
	noErr(t, "SessionByID", err)
	if got.RefreshJTI != "jti-2" || !got.LastUsedAt.Equal(micro(used)) || !got.ExpiresAt.Equal(micro(exp)) {
		t.Fatalf("after rotation: %+v", got)
	}

	// Reuse of the old jti: refused, nothing changes.
	err = s.Sessions.RotateSession(ctx(t), sess.ID, sess.RefreshJTI, "jti-3", used.Add(time.Minute), exp.Add(time.Hour))
	wantCode(t, "Rotate with old jti", err, blip.CodeTokenNotValid)
	after, err := s.Sessions.SessionByID(ctx(t), sess.ID)
	noErr(t, "SessionByID", err)
	if after.RefreshJTI != "jti-2" || !after.LastUsedAt.Equal(got.LastUsedAt) || !after.ExpiresAt.Equal(got.ExpiresAt) {
		t.Errorf("failed rotation changed the session: %+v", after)
	}

	// Expired at usedAt: refused.
	err = s.Sessions.RotateSession(ctx(t), sess.ID, "jti-2", "jti-4", exp.Add(time.Second), exp.Add(time.Hour))
	wantCode(t, "Rotate expired", err, blip.CodeTokenNotValid)

	// Missing session: refused the same way.
	err = s.Sessions.RotateSession(ctx(t), blip.NewID(), "jti-2", "jti-4", used, exp)
	wantCode(t, "Rotate missing", err, blip.CodeTokenNotValid)

	// Revoked: refused.
	noErr(t, "Revoke", s.Sessions.RevokeSession(ctx(t), sess.ID, used))
	err = s.Sessions.RotateSession(ctx(t), sess.ID, "jti-2", "jti-5", used, exp)
	wantCode(t, "Rotate revoked", err, blip.CodeTokenNotValid)
}

func testSessionsRevoke(t *testing.T, s Stores) {
	u := newUser(t, s, "gina")
	sess := newSession(t, s, u.ID, t0, time.Hour)
	first := t0.Add(time.Minute)
	noErr(t, "Revoke", s.Sessions.RevokeSession(ctx(t), sess.ID, first))
	noErr(t, "Revoke again", s.Sessions.RevokeSession(ctx(t), sess.ID, first.Add(time.Minute)))
	got, err := s.Sessions.SessionByID(ctx(t), sess.ID)
	noErr(t, "SessionByID", err)
	if got.RevokedAt == nil || !got.RevokedAt.Equal(micro(first)) {
		t.Errorf("RevokedAt = %v, want the first revocation %v", got.RevokedAt, micro(first))
	}
	if got.Active(first) {
		t.Error("revoked session is active")
	}
	wantCode(t, "Revoke missing", s.Sessions.RevokeSession(ctx(t), blip.NewID(), first), blip.CodeNotFound)
}

func testSessionsRevokeUser(t *testing.T, s Stores) {
	u := newUser(t, s, "hank")
	other := newUser(t, s, "ivy")
	keep := newSession(t, s, u.ID, t0, time.Hour)
	a := newSession(t, s, u.ID, t0, time.Hour)
	b := newSession(t, s, u.ID, t0, time.Hour)
	already := newSession(t, s, u.ID, t0, time.Hour)
	expired := newSession(t, s, u.ID, t0.Add(-2*time.Hour), time.Hour)
	theirs := newSession(t, s, other.ID, t0, time.Hour)
	noErr(t, "Revoke", s.Sessions.RevokeSession(ctx(t), already.ID, t0))

	at := t0.Add(time.Minute)
	ids, err := s.Sessions.RevokeUserSessions(ctx(t), u.ID, keep.ID, at)
	noErr(t, "RevokeUserSessions", err)
	slices.Sort(ids)
	want := []string{a.ID, b.ID}
	slices.Sort(want)
	if !slices.Equal(ids, want) {
		t.Errorf("revoked %v, want %v", ids, want)
	}
	for _, c := range []struct {
		sess    *blip.Session
		revoked bool
	}{{keep, false}, {a, true}, {b, true}, {already, true}, {expired, false}, {theirs, false}} {
		got, err := s.Sessions.SessionByID(ctx(t), c.sess.ID)
		noErr(t, "SessionByID", err)
		if (got.RevokedAt != nil) != c.revoked {
			t.Errorf("session %s revoked=%v, want %v", c.sess.ID, got.RevokedAt != nil, c.revoked)
		}
	}
	if got, _ := s.Sessions.SessionByID(ctx(t), already.ID); !got.RevokedAt.Equal(micro(t0)) {
		t.Errorf("already revoked session's time changed to %v", got.RevokedAt)
	}

	// "" revokes every active session, the kept one too.
	ids, err = s.Sessions.RevokeUserSessions(ctx(t), u.ID, "", at)
	noErr(t, "RevokeUserSessions all", err)
	if !slices.Equal(ids, []string{keep.ID}) {
		t.Errorf("revoked %v, want [%s]", ids, keep.ID)
	}
	ids, err = s.Sessions.RevokeUserSessions(ctx(t), u.ID, "", at)
	noErr(t, "RevokeUserSessions none left", err)
	if len(ids) != 0 {
		t.Errorf("revoked %v again", ids)
	}
}

func testSessionsListActive(t *testing.T, s Stores) {
	u := newUser(t, s, "jack")
	old := newSession(t, s, u.ID, t0, time.Hour)
	newer := newSession(t, s, u.ID, t0.Add(time.Minute), time.Hour)
	revoked := newSession(t, s, u.ID, t0.Add(2*time.Minute), time.Hour)
	newSession(t, s, u.ID, t0.Add(-3*time.Hour), time.Hour) // expired
	newSession(t, s, newUser(t, s, "kate").ID, t0, time.Hour)
	noErr(t, "Revoke", s.Sessions.RevokeSession(ctx(t), revoked.ID, t0))

	list, err := s.Sessions.ListSessions(ctx(t), u.ID, t0.Add(5*time.Minute))
	noErr(t, "ListSessions", err)
	var got []string
	for _, x := range list {
		got = append(got, x.ID)
	}
	if want := []string{newer.ID, old.ID}; !slices.Equal(got, want) {
		t.Errorf("ListSessions = %v, want %v (newest first, active only)", got, want)
	}
	list, err = s.Sessions.ListSessions(ctx(t), u.ID, t0.Add(2*time.Hour))
	noErr(t, "ListSessions later", err)
	if len(list) != 0 {
		t.Errorf("ListSessions after expiry returned %d sessions", len(list))
	}
}

func testSessionsDeleteExpired(t *testing.T, s Stores) {
	u := newUser(t, s, "liam")
	live := newSession(t, s, u.ID, t0, time.Hour)
	expired := newSession(t, s, u.ID, t0.Add(-3*time.Hour), time.Hour)
	revokedOld := newSession(t, s, u.ID, t0, time.Hour)
	revokedNew := newSession(t, s, u.ID, t0, time.Hour)
	noErr(t, "Revoke", s.Sessions.RevokeSession(ctx(t), revokedOld.ID, t0.Add(-time.Hour)))
	noErr(t, "Revoke", s.Sessions.RevokeSession(ctx(t), revokedNew.ID, t0.Add(time.Minute)))

	n, err := s.Sessions.DeleteExpiredSessions(ctx(t), t0)
	noErr(t, "DeleteExpiredSessions", err)
	if n != 2 {
		t.Errorf("deleted %d sessions, want 2", n)
	}
	for _, c := range []struct {
		id   string
		gone bool
	}{{live.ID, false}, {expired.ID, true}, {revokedOld.ID, true}, {revokedNew.ID, false}} {
		_, err := s.Sessions.SessionByID(ctx(t), c.id)
		if c.gone {
			wantCode(t, "deleted session", err, blip.CodeNotFound)
		} else {
			noErr(t, "kept session", err)
		}
	}
}
