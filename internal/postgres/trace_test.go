package postgres_test

import (
	"testing"

	"github.com/blipsocial/blip/internal/postgres"
)

func TestSQLVerb(t *testing.T) {
	for sql, want := range map[string]string{
		"SELECT id FROM users WHERE email = $1":     "SELECT",
		"  insert into sessions (id) values ($1)":   "INSERT",
		"-- name: x\n-- more\nUPDATE users SET a=1": "UPDATE",
		"begin":                                "BEGIN",
		"WITH x AS (SELECT 1) SELECT * FROM x": "WITH",
		"":                                     "SQL",
		"(SELECT 1)":                           "SQL",
	} {
		if got := postgres.SQLVerb(sql); got != want {
			t.Errorf("sqlVerb(%q) = %q, want %q", sql, got, want)
		}
	}
}
