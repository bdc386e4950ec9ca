package postgres_test

import (
	"bytes"
	"testing"

	"github.com/blipsocial/blip/internal/postgres"
	"github.com/blipsocial/blip/internal/storetest"
)

func TestSeeder(t *testing.T) {
	url := testURL(t)
	db := openSchema(t, url, freshSchema(t, url))
	if err := db.Migrate(t.Context(), "up", &bytes.Buffer{}); err != nil {
		t.Fatalf("migrate up: %v", err)
	}
	storetest.RunSeeder(t, postgres.NewSeeder(db), storetest.Stores{
		Users: postgres.NewUserStore(db), Blips: postgres.NewFeedStore(db), Graph: postgres.NewGraphStore(db),
	})
}
