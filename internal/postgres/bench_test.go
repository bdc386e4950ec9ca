package postgres_test

import (
	"context"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/blipsocial/blip/internal/blip"
	"github.com/blipsocial/blip/internal/postgres"
)

// benchPageSize is the API's default page size.
const benchPageSize = 20

// benchDeepPage is the deep page measured against page 1: 9,980 rows in.
const benchDeepPage = 500

// benchDB opens the database named by BLIP_BENCH_DATABASE_URL, filled by
// `blip seed` (docs/benchmarks.md), or skips; the plain connection is for
// the setup queries, the pool for the stores. It is a database of its own:
// the benchmarks only read, but they need the million rows to mean anything.
func benchDB(b *testing.B) (*postgres.DB, *pgx.Conn) {
	b.Helper()
	url := os.Getenv("BLIP_BENCH_DATABASE_URL")
	if url == "" {
		b.Skip("BLIP_BENCH_DATABASE_URL not set: depth benchmarks skipped (seed a database with " +
			"`blip seed --users 10000 --blips 1000000 --follows 50` first; see docs/benchmarks.md)")
	}
	db, err := postgres.Open(b.Context(), url, postgres.Options{MaxConns: 2})
	if err != nil {
		b.Fatalf("Open: %v", err)
	}
	b.Cleanup(db.Close)
	conn, err := pgx.Connect(b.Context(), url)
	if err != nil {
		b.Fatalf("connect: %v", err)
	}
	b.Cleanup(func() { conn.Close(context.Background()) })
	return db, conn
}

// BenchmarkTimelineDepth reads timeline page 1 and page 500 of the user
// with the most followees, ties going to the one whose followees posted
// the most: the API promises that the cost of a page does not grow with its depth.
func BenchmarkTimelineDepth(b *testing.B) {
	db, conn := benchDB(b)
	user := benchQueryID(b, conn, "timeline user", `
		SELECT f.follower_id FROM follows f JOIN users u ON u.id = f.followee_id
		GROUP BY f.follower_id
		ORDER BY count(*) DESC, sum(u.blips_count) DESC, f.follower_id
		LIMIT 1`)
	// The plain OFFSET form of the timeline, read once to find where page
	// 500 starts without paging there.
	cursor := benchCursor(b, conn, user, `
		SELECT id FROM blips
		WHERE deleted_at IS NULL
			AND (author_id = $1 OR author_id IN (SELECT followee_id FROM follows WHERE follower_id = $1))
		ORDER BY id DESC OFFSET $2 LIMIT 2`)
	feed := postgres.NewFeedStore(db)
	benchDepths(b, user, cursor, func(ctx context.Context, p blip.PageRequest) ([]*blip.Blip, error) {
		return feed.Timeline(ctx, user, p)
	})
}

// BenchmarkUserBlipsDepth reads page 1 and page 500 of the most prolific
// author's blips.
func BenchmarkUserBlipsDepth(b *testing.B) {
	db, conn := benchDB(b)
	user := benchQueryID(b, conn, "author", `SELECT id FROM users ORDER BY blips_count DESC, id LIMIT 1`)
	cursor := benchCursor(b, conn, user, `
		SELECT id FROM blips WHERE author_id = $1 AND deleted_at IS NULL
		ORDER BY id DESC OFFSET $2 LIMIT 2`)
	feed := postgres.NewFeedStore(db)
	benchDepths(b, user, cursor, func(ctx context.Context, p blip.PageRequest) ([]*blip.Blip, error) {
		return feed.UserBlips(ctx, user, p)
	})
}

// benchQueryID runs a query returning one ID.
func benchQueryID(b *testing.B, conn *pgx.Conn, what, query string, args ...any) string {
	b.Helper()
	var id string
	if err := conn.QueryRow(b.Context(), query, args...).Scan(&id); err != nil {
		b.Fatalf("%s: %v (is the database seeded?)", what, err)
	}
	return id
}

// depthCursor is where a deep page starts: the cursor (the last ID of the
// page before) and the ID the page must start with.
type depthCursor struct{ after, first string }

// benchCursor returns page 500's cursor: the ID of the last row of page
// 499, at offset 499×20−1 of query (which must select the user's IDs in
// page order with OFFSET $2 LIMIT 2), and the ID after it.
func benchCursor(b *testing.B, conn *pgx.Conn, user, query string) depthCursor {
	b.Helper()
	offset := (benchDeepPage-1)*benchPageSize - 1
	rows, err := conn.Query(b.Context(), query, user, offset)
	if err != nil {
		b.Fatalf("cursor: %v", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			b.Fatalf("cursor: %v", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		b.Fatalf("cursor: %v", err)
	}
	if len(ids) < 2 {
		b.Skipf("user %s has fewer than %d rows: seed more blips", user, offset+2)
	}
	return depthCursor{after: ids[0], first: ids[1]}
}

// benchDepths runs page=1 and page=500 as sub-benchmarks in the same run
// and reports the ratio of their times per read (metric x_page1 of
// page=500, and a log line with -v).
func benchDepths(b *testing.B, user string, c depthCursor,
	read func(ctx context.Context, p blip.PageRequest) ([]*blip.Blip, error)) {
	b.Helper()
	pages := []struct {
		name  string
		after string
		first string // the ID the page must start with; "" for any
	}{
		{"page=1", "", ""},
		{"page=500", c.after, c.first},
	}
	perOp := map[string]float64{}
	for _, pg := range pages {
		b.Run(pg.name, func(b *testing.B) {
			p := blip.PageRequest{After: pg.after, Limit: benchPageSize}
			got, err := read(b.Context(), p)
			if err != nil || len(got) != benchPageSize || (pg.first != "" && got[0].ID != pg.first) {
				b.Fatalf("%s: %d rows, err %v; want %d starting at %q", pg.name, len(got), err, benchPageSize, pg.first)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := read(b.Context(), p); err != nil {
					b.Fatal(err)
				}
			}
			perOp[pg.name] = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			// The ratio to the latest page=1 run, on the benchmark's own
			// line: the parent's log shows only with -v.
			if first := perOp["page=1"]; pg.after != "" && first > 0 {
				b.ReportMetric(perOp[pg.name]/first, "x_page1")
			}
		})
	}
	if perOp["page=1"] > 0 && perOp["page=500"] > 0 {
		b.Logf("user %s, page 500 after %s: page=1 %.0f ns/op, page=500 %.0f ns/op, page500/page1 = %.2f",
			user, c.after, perOp["page=1"], perOp["page=500"], perOp["page=500"]/perOp["page=1"])
	}
}
