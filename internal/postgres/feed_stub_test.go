package postgres_test

import (
	"github.com/blipsocial/blip/internal/blip"
	"github.com/blipsocial/blip/internal/postgres"
)

// blipStore and graphStore return nil until the stores exist.
func blipStore(*postgres.DB) blip.BlipStore   { return nil }
func graphStore(*postgres.DB) blip.GraphStore { return nil }
