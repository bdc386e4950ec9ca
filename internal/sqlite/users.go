package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/blipsocial/blip/internal/blip"
)

// UserStore implements blip.UserStore.
type UserStore struct{ db *DB }

var _ blip.UserStore = (*UserStore)(nil)

// NewUserStore returns a UserStore on db.
func NewUserStore(db *DB) *UserStore { return &UserStore{db: db} }

// userColumns lists the columns scanUser reads, in its order, for a table
// aliased u; userReturning is the same list for RETURNING clauses.
const (
	userColumns = `u.id, u.email, u.username, u.name, u.bio, u.password_hash, u.role,
	u.is_active, u.token_version, u.created_at, u.updated_at,
	u.followers_count, u.following_count, u.blips_count`
	userReturning = `id, email, username, name, bio, password_hash, role,
	is_active, token_version, created_at, updated_at,
	followers_count, following_count, blips_count`
)

// scanUser reads one row of userColumns, optionally preceded by extra
// destinations.
func scanUser(row scanner, extra ...any) (*blip.User, error) {
	var u blip.User
	var role, created, updated string
	dest := make([]any, 0, len(extra)+14)
	dest = append(dest, extra...)
	dest = append(dest,
		&u.ID, &u.Email, &u.Username, &u.Name, &u.Bio, &u.PasswordHash, &role,
		&u.IsActive, &u.TokenVersion, &created, &updated,
		&u.FollowersCount, &u.FollowingCount, &u.BlipsCount)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	u.Role = blip.Role(role)
	var err error
	if u.CreatedAt, err = parseTime(created); err != nil {
		return nil, err
	}
	if u.UpdatedAt, err = parseTime(updated); err != nil {
		return nil, err
	}
	return &u, nil
}

// userNotFound is the error for a missing user; a fresh value each time, as
// callers may hold on to it.
func userNotFound() error { return blip.Errorf(blip.CodeNotFound, "User not found.") }

// userConflict names the taken field without revealing the index.
func userConflict(err error) error {
	msg := err.Error() // driver text: inspected here, never shown
	switch {
	case strings.Contains(msg, "users_email_lower_key"):
		return blip.Errorf(blip.CodeConflict, "A user with that email already exists.")
	case strings.Contains(msg, "users_username_lower_key"):
		return blip.Errorf(blip.CodeConflict, "A user with that username already exists.")
	}
	return blip.Errorf(blip.CodeConflict, "A user with that email or username already exists.")
}

// CreateUser inserts u; CodeConflict when its email or username is taken,
// case-insensitively. It normalises u's times to the stored precision.
func (s *UserStore) CreateUser(ctx context.Context, u *blip.User) error {
	ctx, cancel := s.db.bound(ctx)
	defer cancel()
	if !blip.ValidID(u.ID) {
		return errors.New("sqlite: create user: invalid ID")
	}
	u.CreatedAt, u.UpdatedAt = utc(u.CreatedAt), utc(u.UpdatedAt)
	_, err := s.db.write.ExecContext(ctx, `
		INSERT INTO users (id, email, username, name, bio, password_hash, role,
			is_active, token_version, created_at, updated_at,
			followers_count, following_count, blips_count)
		VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 0, 0, 0)`,
		u.ID, u.Email, u.Username, u.Name, u.Bio, u.PasswordHash, string(u.Role),
		u.IsActive, u.TokenVersion, fmtTime(u.CreatedAt), fmtTime(u.UpdatedAt))
	if err != nil {
		if isUnique(err) {
			return userConflict(err)
		}
		return errorf("sqlite: create user: %w", err)
	}
	u.FollowersCount, u.FollowingCount, u.BlipsCount = 0, 0, 0
	return nil
}

// getUser runs a single-user query and maps no rows to CodeNotFound.
func (s *UserStore) getUser(ctx context.Context, what, query, arg string) (*blip.User, error) {
	ctx, cancel := s.db.bound(ctx)
	defer cancel()
	if !storable(arg) {
		return nil, userNotFound()
	}
	u, err := scanUser(s.db.read.QueryRowContext(ctx, query, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, userNotFound()
	}
	if err != nil {
		return nil, errorf("sqlite: user by %s: %w", what, err)
	}
	return u, nil
}

// UserByID returns the user with the given ID; CodeNotFound.
func (s *UserStore) UserByID(ctx context.Context, id string) (*blip.User, error) {
	return s.getUser(ctx, "id", `SELECT `+userColumns+` FROM users u WHERE u.id = ?1`, id)
}

// UserByEmail returns the user whose email matches case-insensitively; CodeNotFound.
func (s *UserStore) UserByEmail(ctx context.Context, email string) (*blip.User, error) {
	return s.getUser(ctx, "email", `SELECT `+userColumns+` FROM users u WHERE lower(u.email) = lower(?1)`, email)
}

// UserByUsername returns the user whose username matches case-insensitively; CodeNotFound.
func (s *UserStore) UserByUsername(ctx context.Context, username string) (*blip.User, error) {
	return s.getUser(ctx, "username", `SELECT `+userColumns+` FROM users u WHERE lower(u.username) = lower(?1)`, username)
}

// UpdateUser applies upd in one statement and returns the updated user;
// CodeNotFound.
func (s *UserStore) UpdateUser(ctx context.Context, id string, upd blip.UserUpdate, at time.Time) (*blip.User, error) {
	ctx, cancel := s.db.bound(ctx)
	defer cancel()
	var role *string
	if upd.Role != nil {
		r := string(*upd.Role)
		role = &r
	}
	bump := 0
	if upd.BumpTokenVersion {
		bump = 1
	}
	u, err := scanUser(s.db.write.QueryRowContext(ctx, `
		UPDATE users AS u SET
			name = COALESCE(?2, u.name),
			bio = COALESCE(?3, u.bio),
			password_hash = COALESCE(?4, u.password_hash),
			role = COALESCE(?5, u.role),
			is_active = COALESCE(?6, u.is_active),
			token_version = u.token_version + ?7,
			updated_at = ?8
		WHERE u.id = ?1
		RETURNING `+userReturning,
		id, upd.Name, upd.Bio, upd.PasswordHash, role, upd.IsActive, bump, fmtTime(at)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, userNotFound()
	}
	if err != nil {
		return nil, errorf("sqlite: update user: %w", err)
	}
	return u, nil
}

// storable reports whether s could be stored in a text column (valid
// UTF-8 without NUL, which PostgreSQL refuses and SQLite's LIKE truncates
// at); a string that could not be stored matches no row.
func storable(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// likePattern turns a user's query into a LIKE pattern matching it as a
// literal, lower-cased substring (with ESCAPE '\').
func likePattern(q string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(strings.ToLower(q)) + "%"
}

// ListUsers returns one offset page ordered by creation and the number of
// users matching f.Query (a case-insensitive substring of username or email).
func (s *UserStore) ListUsers(ctx context.Context, f blip.UserFilter) ([]*blip.User, int, error) {
	ctx, cancel := s.db.bound(ctx)
	defer cancel()
	if !storable(f.Query) {
		return []*blip.User{}, 0, nil
	}
	pattern := likePattern(f.Query)
	const where = `(?1 = '' OR lower(u.username) LIKE ?2 ESCAPE '\' OR lower(u.email) LIKE ?2 ESCAPE '\')`
	var total int
	err := s.db.read.QueryRowContext(ctx, `SELECT count(*) FROM users u WHERE `+where, f.Query, pattern).Scan(&total)
	if err != nil {
		return nil, 0, errorf("sqlite: list users: count: %w", err)
	}
	limit, offset := max(f.Limit, 0), max(f.Offset, 0)
	rows, err := s.db.read.QueryContext(ctx, `SELECT `+userColumns+` FROM users u WHERE `+where+`
		ORDER BY u.created_at, u.id LIMIT ?3 OFFSET ?4`, f.Query, pattern, limit, offset)
	if err != nil {
		return nil, 0, errorf("sqlite: list users: %w", err)
	}
	defer rows.Close()
	users := []*blip.User{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, 0, errorf("sqlite: list users: %w", err)
		}
		users = append(users, u)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, errorf("sqlite: list users: %w", err)
	}
	return users, total, nil
}
