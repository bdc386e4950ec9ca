package sqlite_test

import (
	"github.com/blipsocial/blip/internal/blip"
	"github.com/blipsocial/blip/internal/sqlite"
)

// blipStore and graphStore return nil until the stores exist.
func blipStore(*sqlite.DB) blip.BlipStore   { return nil }
func graphStore(*sqlite.DB) blip.GraphStore { return nil }
