package store

import (
	"context"
	"os"
	"testing"

	"github.com/autoreplyd/autoreplyd/internal/pgtest"
	"github.com/autoreplyd/autoreplyd/internal/testutil"
)

// onPostgres says the suite's current pass runs on PostgreSQL: the store's
// tests run twice, on SQLite and then (when PostgreSQL is installed, and
// always in CI) on PostgreSQL, one suite for both backends.
var onPostgres bool

func TestMain(m *testing.M) { os.Exit(pgtest.Main(pgtest.Twice(m, "store", &onPostgres))) }

// openTest opens an empty store on the pass's backend and returns it with
// what Open was given (the SQLite file, or the PostgreSQL URL).
func openTest(t testing.TB) (*Store, string) {
	t.Helper()
	dsn := testDatabase(t)
	s, err := Open(context.Background(), dsn)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { testutil.Close(t, s) })
	return s, dsn
}

// testDatabase is where an empty database of the pass's backend is: a file
// path in t's temporary directory, or a fresh PostgreSQL database.
func testDatabase(t testing.TB) string {
	t.Helper()
	if onPostgres {
		return pgtest.NewDatabase(t)
	}
	return t.TempDir() + "/autoreplyd.db"
}

// sqliteOnly skips t in the PostgreSQL pass: it tests the SQLite file
// itself (its path, pragmas, locks, what the sqlite3 shell sees).
func sqliteOnly(t testing.TB) {
	t.Helper()
	if onPostgres {
		t.Skip("SQLite file behaviour")
	}
}
