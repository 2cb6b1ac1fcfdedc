package console

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/autoreplyd/autoreplyd/internal/pgtest"
)

// onPostgres says the pass runs on PostgreSQL: the console's tests run
// once on SQLite and again on PostgreSQL (when installed; always in CI),
// as package store's do, so every page's queries are proven on both.
var onPostgres bool

type bothBackends struct{ m *testing.M }

func (b bothBackends) Run() int {
	if code := b.m.Run(); code != 0 {
		return code
	}
	if why := pgtest.Skipped(); why != "" {
		fmt.Fprintln(os.Stderr, "console: the suite ran on SQLite only:", why)
		return 0
	}
	fmt.Fprintln(os.Stderr, "console: the same suite on PostgreSQL")
	onPostgres = true
	return b.m.Run()
}

func TestMain(m *testing.M) { os.Exit(pgtest.Main(bothBackends{m})) }

// testDatabase is an empty database of the pass's backend.
func testDatabase(t *testing.T, dir string) string {
	t.Helper()
	if onPostgres {
		return pgtest.NewDatabase(t)
	}
	return filepath.Join(dir, "autoreplyd.db")
}
