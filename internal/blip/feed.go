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

// Sentinel IDs: every canonical UUID sorts strictly between them, so a
// store can express "no bound" as an ordinary comparison and keep each
// page query one static, parameterised statement.
const (
	MinID = "00000000-0000-0000-0000-000000000000"
	MaxID = "ffffffff-ffff-ffff-ffff-ffffffffffff"
)

// UpperBound returns the exclusive upper ID bound of a newest-first page:
// MaxID for the first page. A bound that is not an ID is CodeInvalid.
func (p PageRequest) UpperBound() (string, error) { return p.bound(MaxID) }

// LowerBound returns the exclusive lower ID bound of an oldest-first page:
// MinID for the first page. A bound that is not an ID is CodeInvalid.
func (p PageRequest) LowerBound() (string, error) { return p.bound(MinID) }

func (p PageRequest) bound(first string) (string, error) {
	if p.After == "" {
		return first, nil
	}
	if !ValidID(p.After) {
		return "", Errorf(CodeInvalid, "Invalid cursor.")
	}
	return p.After, nil
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
