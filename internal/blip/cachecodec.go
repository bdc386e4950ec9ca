package blip

import (
	"encoding/binary"
	"errors"
	"time"
)

// The feed cache stores blips, users and timeline pages in a compact binary
// form, not JSON: decoding some thirty JSON entries took a quarter of the
// CPU of a warm timeline read (make bench PROFILE=1), most of it spent
// scanning and reflecting. Each value starts with a format byte, so that an
// entry of another kind or written by another release fails to decode and
// counts as a miss, never as data. Integers are varints, strings are a
// length then their bytes, times are Unix nanoseconds in UTC.

// Format bytes of cached values.
const (
	codecBlip byte = 0xB1
	codecUser byte = 0xB2
	codecPage byte = 0xB3
)

var errCodec = errors.New("cache: malformed entry")

// cacheValue is what the feed cache stores.
type cacheValue interface {
	appendCache(b []byte) []byte
}

// cacheTarget is what the feed cache decodes into.
type cacheTarget interface {
	readCache(data []byte) error
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendTime(b []byte, t time.Time) []byte { return binary.AppendVarint(b, t.UnixNano()) }

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

// decoder reads a value. All its strings are slices of one copy of the
// data, so decoding an entry allocates once for all of them.
type decoder struct {
	b   []byte // the data, read from off
	s   string // the same bytes, for strings
	off int
	bad bool
}

func newDecoder(data []byte, format byte) *decoder {
	d := &decoder{b: data, s: string(data)}
	if d.byte() != format {
		d.bad = true
	}
	return d
}

func (d *decoder) byte() byte {
	if d.bad || d.off >= len(d.b) {
		d.bad = true
		return 0
	}
	d.off++
	return d.b[d.off-1]
}

func (d *decoder) uvarint() uint64 {
	if d.bad {
		return 0
	}
	v, n := binary.Uvarint(d.b[d.off:])
	if n <= 0 {
		d.bad = true
		return 0
	}
	d.off += n
	return v
}

func (d *decoder) varint() int64 {
	if d.bad {
		return 0
	}
	v, n := binary.Varint(d.b[d.off:])
	if n <= 0 {
		d.bad = true
		return 0
	}
	d.off += n
	return v
}

func (d *decoder) string() string {
	n := d.uvarint()
	if d.bad || n > uint64(len(d.b)-d.off) {
		d.bad = true
		return ""
	}
	s := d.s[d.off : d.off+int(n)]
	d.off += int(n)
	return s
}

func (d *decoder) time() time.Time { return time.Unix(0, d.varint()).UTC() }

func (d *decoder) bool() bool { return d.byte() == 1 }

// count reads a slice length, bounded by the bytes left (each element
// takes at least one), so that a corrupt length cannot allocate much.
func (d *decoder) count() int {
	n := d.uvarint()
	if d.bad || n > uint64(len(d.b)-d.off) {
		d.bad = true
		return 0
	}
	return int(n)
}

// done reports the outcome: every byte read, none missing.
func (d *decoder) done() error {
	if d.bad || d.off != len(d.b) {
		return errCodec
	}
	return nil
}

func (cb cachedBlip) appendCache(b []byte) []byte {
	b = append(b, codecBlip)
	b = appendString(b, cb.ID)
	b = appendString(b, cb.AuthorID)
	b = appendString(b, cb.Text)
	b = appendString(b, cb.ReplyTo)
	b = appendTime(b, cb.CreatedAt)
	b = binary.AppendVarint(b, cb.LikeCount)
	b = binary.AppendVarint(b, cb.ReplyCount)
	b = appendString(b, cb.Author.ID)
	b = appendString(b, cb.Author.Username)
	return appendString(b, cb.Author.Name)
}

func (cb *cachedBlip) readCache(data []byte) error {
	d := newDecoder(data, codecBlip)
	*cb = cachedBlip{
		ID: d.string(), AuthorID: d.string(), Text: d.string(), ReplyTo: d.string(), CreatedAt: d.time(),
		LikeCount: d.varint(), ReplyCount: d.varint(),
		Author: Author{ID: d.string(), Username: d.string(), Name: d.string()},
	}
	return d.done()
}

// appendCache stores what the cache may hold of a user: never its email or
// password hash.
func (u User) appendCache(b []byte) []byte {
	b = append(b, codecUser)
	b = appendString(b, u.ID)
	b = appendString(b, u.Username)
	b = appendString(b, u.Name)
	b = appendString(b, u.Bio)
	b = appendString(b, string(u.Role))
	b = appendBool(b, u.IsActive)
	b = binary.AppendVarint(b, u.TokenVersion)
	b = appendTime(b, u.CreatedAt)
	b = appendTime(b, u.UpdatedAt)
	b = binary.AppendVarint(b, u.FollowersCount)
	b = binary.AppendVarint(b, u.FollowingCount)
	return binary.AppendVarint(b, u.BlipsCount)
}

func (u *User) readCache(data []byte) error {
	d := newDecoder(data, codecUser)
	*u = User{
		ID: d.string(), Username: d.string(), Name: d.string(), Bio: d.string(), Role: Role(d.string()),
		IsActive: d.bool(), TokenVersion: d.varint(), CreatedAt: d.time(), UpdatedAt: d.time(),
		FollowersCount: d.varint(), FollowingCount: d.varint(), BlipsCount: d.varint(),
	}
	return d.done()
}

func (cp cachedPage) appendCache(b []byte) []byte {
	b = append(b, codecPage)
	b = binary.AppendUvarint(b, uint64(len(cp.IDs)))
	for i, id := range cp.IDs {
		b = appendString(b, id)
		b = appendString(b, cp.Authors[i])
		b = appendBool(b, cp.Liked[i])
	}
	return appendString(b, cp.Next)
}

func (cp *cachedPage) readCache(data []byte) error {
	d := newDecoder(data, codecPage)
	n := d.count()
	*cp = cachedPage{IDs: make([]string, n), Authors: make([]string, n), Liked: make([]bool, n)}
	for i := range n {
		cp.IDs[i], cp.Authors[i], cp.Liked[i] = d.string(), d.string(), d.bool()
	}
	cp.Next = d.string()
	return d.done()
}
