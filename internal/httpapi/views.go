package httpapi

import (
	"time"

	"github.com/blipsocial/blip/internal/blip"
)

// The JSON representations. Field names are part of the API (docs/api.md).

type userJSON struct {
	ID             string `json:"id"`
	Username       string `json:"username"`
	Name           string `json:"name"`
	Bio            string `json:"bio"`
	CreatedAt      string `json:"created_at"`
	FollowersCount int64  `json:"followers_count"`
	FollowingCount int64  `json:"following_count"`
	BlipsCount     int64  `json:"blips_count"`
	FollowedByMe   *bool  `json:"followed_by_me,omitempty"`
}

type meJSON struct {
	userJSON
	Email    string    `json:"email"`
	Role     blip.Role `json:"role"`
	IsActive bool      `json:"is_active"`
}

type authorJSON struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	Name     string `json:"name"`
}

type blipJSON struct {
	ID         string     `json:"id"`
	Text       string     `json:"text"`
	CreatedAt  string     `json:"created_at"`
	Author     authorJSON `json:"author"`
	ReplyTo    *string    `json:"reply_to"`
	LikeCount  int64      `json:"like_count"`
	ReplyCount int64      `json:"reply_count"`
	LikedByMe  *bool      `json:"liked_by_me,omitempty"`
}

type sessionJSON struct {
	ID         string `json:"id"`
	CreatedAt  string `json:"created_at"`
	LastUsedAt string `json:"last_used_at"`
	UserAgent  string `json:"user_agent"`
	IP         string `json:"ip"`
	Current    bool   `json:"current"`
}

// pageJSON is a cursor page.
type pageJSON[T any] struct {
	Results []T     `json:"results"`
	Next    *string `json:"next"`
}

func timeJSON(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func newUserJSON(u *blip.User, followedByMe *bool) userJSON {
	return userJSON{
		ID: u.ID, Username: u.Username, Name: u.Name, Bio: u.Bio, CreatedAt: timeJSON(u.CreatedAt),
		FollowersCount: u.FollowersCount, FollowingCount: u.FollowingCount, BlipsCount: u.BlipsCount,
		FollowedByMe: followedByMe,
	}
}

func newMeJSON(u *blip.User) meJSON {
	return meJSON{userJSON: newUserJSON(u, nil), Email: u.Email, Role: u.Role, IsActive: u.IsActive}
}

func newBlipJSON(v blip.FeedItem) blipJSON {
	var replyTo *string
	if v.ReplyTo != "" {
		r := v.ReplyTo
		replyTo = &r
	}
	return blipJSON{
		ID: v.ID, Text: v.Text, CreatedAt: timeJSON(v.CreatedAt),
		Author:  authorJSON{ID: v.Author.ID, Username: v.Author.Username, Name: v.Author.Name},
		ReplyTo: replyTo, LikeCount: v.LikeCount, ReplyCount: v.ReplyCount, LikedByMe: v.LikedByMe,
	}
}

func newSessionJSON(s *blip.Session, current string) sessionJSON {
	return sessionJSON{
		ID: s.ID, CreatedAt: timeJSON(s.CreatedAt), LastUsedAt: timeJSON(s.LastUsedAt),
		UserAgent: s.UserAgent, IP: s.IP, Current: s.ID == current,
	}
}

func mapSlice[T, U any](in []T, f func(T) U) []U {
	out := make([]U, len(in))
	for i, v := range in {
		out[i] = f(v)
	}
	return out
}
