package console

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/autoreplyd/autoreplyd/internal/pgtest"
)

// onPostgres says the pass runs on PostgreSQL: the console's tests run
// once on SQLite and again on PostgreSQL (when installed; always in CI),
// as package store's do, so every page's queries are proven on both.
var onPostgres bool

func TestMain(m *testing.M) { os.Exit(pgtest.Main(pgtest.Twice(m, "console", &onPostgres))) }

// testDatabase is an empty database of the pass's backend.
func testDatabase(t *testing.T, dir string) string {
	t.Helper()
	if onPostgres {
		return pgtest.NewDatabase(t)
	}
	return filepath.Join(dir, "autoreplyd.db")
}
