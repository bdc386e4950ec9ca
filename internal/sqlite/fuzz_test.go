package sqlite_test

import (
	"bytes"
	"testing"

	"github.com/blipsocial/blip/internal/sqlite"
	"github.com/blipsocial/blip/internal/storetest"
)

func FuzzHostileInputs(f *testing.F) {
	db, err := sqlite.Open(f.Context(), sqlite.Memory, sqlite.Options{})
	if err != nil {
		f.Fatalf("Open: %v", err)
	}
	defer db.Close()
	if err := db.Migrate(f.Context(), "up", &bytes.Buffer{}); err != nil {
		f.Fatalf("migrate: %v", err)
	}
	storetest.Fuzz(f, stores(db))
}
