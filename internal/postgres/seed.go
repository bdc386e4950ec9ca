package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/blipsocial/blip/internal/blip"
)

// Seeder bulk-loads demo and benchmark data (`blip seed`) with COPY. It
// bypasses the stores' per-row count updates: callers load users, follows,
// blips and likes, then call RecountAll once so that every count matches
// the rows again.
type Seeder struct{ db *DB }

// NewSeeder returns a Seeder on db.
func NewSeeder(db *DB) *Seeder { return &Seeder{db: db} }

// InsertUsers inserts the users whose email and username are free and
// skips the others, so that a second run of the same seed does not fail.
// It then sets each u.ID to the ID of the stored user with u's username
// (the existing one when skipped), so callers can refer to them. A user
// skipped for its email alone has no stored row to point at: that is an
// error. Counts start at zero; times are normalised.
func (s *Seeder) InsertUsers(ctx context.Context, users []*blip.User) error {
	if len(users) == 0 {
		return nil
	}
	for _, u := range users {
		if !blip.ValidID(u.ID) {
			return fmt.Errorf("postgres: seed users: invalid ID for %q", u.Username)
		}
		u.CreatedAt, u.UpdatedAt = utc(u.CreatedAt), utc(u.UpdatedAt)
		u.FollowersCount, u.FollowingCount, u.BlipsCount = 0, 0, 0
	}
	err := s.db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `CREATE TEMP TABLE seed_users (LIKE users INCLUDING DEFAULTS) ON COMMIT DROP`); err != nil {
			return fmt.Errorf("temp table: %w", err)
		}
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"seed_users"},
			[]string{"id", "email", "username", "name", "bio", "password_hash", "role",
				"is_active", "token_version", "created_at", "updated_at"},
			pgx.CopyFromSlice(len(users), func(i int) ([]any, error) {
				u := users[i]
				return []any{u.ID, u.Email, u.Username, u.Name, u.Bio, u.PasswordHash, string(u.Role),
					u.IsActive, u.TokenVersion, u.CreatedAt, u.UpdatedAt}, nil
			}))
		if err != nil {
			return fmt.Errorf("copy: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO users SELECT * FROM seed_users ON CONFLICT DO NOTHING`); err != nil {
			return fmt.Errorf("insert: %w", err)
		}
		rows, err := tx.Query(ctx, `
			SELECT s.username, u.id FROM seed_users s
			JOIN users u ON lower(u.username) = lower(s.username)`)
		if err != nil {
			return fmt.Errorf("read IDs: %w", err)
		}
		ids := make(map[string]string, len(users))
		var name, id string
		_, err = pgx.ForEachRow(rows, []any{&name, &id}, func() error {
			ids[name] = id
			return nil
		})
		if err != nil {
			return fmt.Errorf("read IDs: %w", err)
		}
		for _, u := range users {
			stored, ok := ids[u.Username]
			if !ok {
				return fmt.Errorf("user %q: email taken by another username", u.Username)
			}
			u.ID = stored
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgres: seed users: %w", err)
	}
	return nil
}

// InsertFollows inserts the edges that do not exist yet and skips the
// rest. Counts are left to RecountAll.
func (s *Seeder) InsertFollows(ctx context.Context, follows []*blip.Follow) error {
	for _, f := range follows {
		f.CreatedAt = utc(f.CreatedAt)
	}
	err := s.copyThenInsert(ctx, "follows", []string{"id", "follower_id", "followee_id", "created_at"},
		len(follows), func(i int) []any {
			f := follows[i]
			return []any{f.ID, f.FollowerID, f.FolloweeID, f.CreatedAt}
		})
	if err != nil {
		return fmt.Errorf("postgres: seed follows: %w", err)
	}
	return nil
}

// InsertLikes inserts the likes that do not exist yet and skips the rest.
// Counts are left to RecountAll.
func (s *Seeder) InsertLikes(ctx context.Context, likes []blip.Like) error {
	err := s.copyThenInsert(ctx, "likes", []string{"user_id", "blip_id", "created_at"},
		len(likes), func(i int) []any {
			l := likes[i]
			return []any{l.UserID, l.BlipID, utc(l.CreatedAt)}
		})
	if err != nil {
		return fmt.Errorf("postgres: seed likes: %w", err)
	}
	return nil
}

// copyThenInsert copies n rows into a temporary copy of table and moves
// them with ON CONFLICT DO NOTHING: COPY itself cannot skip duplicates.
func (s *Seeder) copyThenInsert(ctx context.Context, table string, cols []string, n int, row func(int) []any) error {
	if n == 0 {
		return nil
	}
	tmp := "seed_" + table
	return s.db.inTx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `CREATE TEMP TABLE `+tmp+` (LIKE `+table+` INCLUDING DEFAULTS) ON COMMIT DROP`)
		if err != nil {
			return fmt.Errorf("temp table: %w", err)
		}
		_, err = tx.CopyFrom(ctx, pgx.Identifier{tmp}, cols,
			pgx.CopyFromSlice(n, func(i int) ([]any, error) { return row(i), nil }))
		if err != nil {
			return fmt.Errorf("copy: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO `+table+` SELECT * FROM `+tmp+` ON CONFLICT DO NOTHING`); err != nil {
			return fmt.Errorf("insert: %w", err)
		}
		return nil
	})
}

// InsertBlips copies blips straight into the table: their IDs are new
// UUIDv7s, so there is nothing to skip. A reply's parent must exist
// already or come earlier in the same call. Counts are left to RecountAll;
// like and reply counts start at zero and nothing is deleted.
func (s *Seeder) InsertBlips(ctx context.Context, blips []*blip.Blip) error {
	if len(blips) == 0 {
		return nil
	}
	_, err := s.db.pool.CopyFrom(ctx, pgx.Identifier{"blips"},
		[]string{"id", "author_id", "text", "reply_to", "created_at"},
		pgx.CopyFromSlice(len(blips), func(i int) ([]any, error) {
			b := blips[i]
			b.CreatedAt, b.DeletedAt, b.LikeCount, b.ReplyCount = utc(b.CreatedAt), nil, 0, 0
			return []any{b.ID, b.AuthorID, b.Text, nullID(b.ReplyTo), b.CreatedAt}, nil
		}))
	if err != nil {
		return fmt.Errorf("postgres: seed blips: %w", err)
	}
	return nil
}

// RecountAll recomputes every stored count from the rows: users'
// followers, following and visible blips, and visible blips' likes and
// replies, writing only the rows whose counts differ. It locks the four
// tables against writers for its duration (in the order the stores' own
// transactions take them: likes, follows, blips, users), so that no
// concurrent increment is lost between the count and the write. Then it
// refreshes the planner's statistics, which a bulk load leaves stale until
// autovacuum comes by.
func (s *Seeder) RecountAll(ctx context.Context) error {
	err := s.db.inTx(ctx, func(tx pgx.Tx) error {
		// Counting a large table can outlast the pool's statement timeout.
		if _, err := tx.Exec(ctx, `SET LOCAL statement_timeout = 0`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `LOCK TABLE likes, follows, blips, users IN SHARE ROW EXCLUSIVE MODE`); err != nil {
			return fmt.Errorf("lock: %w", err)
		}
		if _, err := tx.Exec(ctx, recountBlips); err != nil {
			return fmt.Errorf("blips: %w", err)
		}
		if _, err := tx.Exec(ctx, recountUsers); err != nil {
			return fmt.Errorf("users: %w", err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgres: recount: %w", err)
	}
	if _, err := s.db.pool.Exec(ctx, `ANALYZE users, follows, blips, likes`); err != nil {
		return fmt.Errorf("postgres: analyze: %w", err)
	}
	return nil
}

// recountBlips sets like_count and reply_count from likes and visible
// replies. The last branch brings in blips whose stored counts are not
// zero, so that a count with nothing left to count is reset too.
const recountBlips = `
	WITH c AS (
		SELECT id, sum(l)::bigint AS l, sum(r)::bigint AS r FROM (
			SELECT blip_id AS id, count(*) AS l, 0 AS r FROM likes GROUP BY blip_id
			UNION ALL
			SELECT reply_to, 0, count(*) FROM blips
			WHERE reply_to IS NOT NULL AND deleted_at IS NULL GROUP BY reply_to
			UNION ALL
			SELECT id, 0, 0 FROM blips WHERE like_count <> 0 OR reply_count <> 0
		) x GROUP BY id
	)
	UPDATE blips b SET like_count = c.l, reply_count = c.r
	FROM c WHERE b.id = c.id AND (b.like_count, b.reply_count) <> (c.l, c.r)`

// recountUsers sets followers_count, following_count and blips_count.
const recountUsers = `
	WITH c AS (
		SELECT id, sum(fr)::bigint AS fr, sum(fg)::bigint AS fg, sum(bl)::bigint AS bl FROM (
			SELECT followee_id AS id, count(*) AS fr, 0 AS fg, 0 AS bl FROM follows GROUP BY followee_id
			UNION ALL
			SELECT follower_id, 0, count(*), 0 FROM follows GROUP BY follower_id
			UNION ALL
			SELECT author_id, 0, 0, count(*) FROM blips WHERE deleted_at IS NULL GROUP BY author_id
			UNION ALL
			SELECT id, 0, 0, 0 FROM users
		) x GROUP BY id
	)
	UPDATE users u SET followers_count = c.fr, following_count = c.fg, blips_count = c.bl
	FROM c WHERE u.id = c.id
		AND (u.followers_count, u.following_count, u.blips_count) <> (c.fr, c.fg, c.bl)`
