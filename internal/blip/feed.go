package blip

import "time"

// Blip is a short text post, possibly a reply to another blip.
type Blip struct {
	ID         string
	AuthorID   string
	Text       string
	ReplyTo    string // "" when the blip is not a reply
	CreatedAt  time.Time
	DeletedAt  *time.Time
	LikeCount  int64
	ReplyCount int64
	Author     Author
}

// Author is the summary of a user embedded in a blip.
type Author struct {
	ID       string
	Username string
	Name     string
}

// Follow is an edge of the social graph; ID orders a user's follower and
// following lists by the time the edge was made.
type Follow struct {
	ID         string
	FollowerID string
	FolloweeID string
	CreatedAt  time.Time
}

// PageRequest asks a store for one keyset page. After is the exclusive ID
// bound in the page's order ("" for the first page); Limit is already clamped.
type PageRequest struct {
	After string
	Limit int
}

// IdempotencyRecord remembers the outcome of a POST made with an
// Idempotency-Key, so that a retry replays it instead of acting twice.
type IdempotencyRecord struct {
	UserID      string
	Key         string
	RequestHash string // digest of the request body the key was first used with
	BlipID      string
	CreatedAt   time.Time
}
