package store

import (
	"context"
	"strings"
	"testing"

	"github.com/autoreplyd/autoreplyd/internal/pgtest"
	"github.com/autoreplyd/autoreplyd/internal/testutil"
	"github.com/autoreplyd/autoreplyd/model"
)

// A PostgreSQL that stops is waited out: while it is down nothing can be
// recorded (so nothing is claimed, so nothing is sent), the error says so
// and is transient; once it is back the same store records again, on
// fresh connections, and what was recorded before is there.
func TestPostgresStoppedAndStarted(t *testing.T) {
	if !onPostgres {
		t.Skip("a PostgreSQL server's restart")
	}
	srv := pgtest.Start(t)
	dsn := srv.NewDatabase(t)
	ctx := t.Context()
	s, err := Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer testutil.Close(t, s)
	mustRecord(t, s, comment("1"), t0, pending("r"))

	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	_, err = s.Record(ctx, comment("2"), model.DispositionEvaluated, []Claim{pending("r")}, t0)
	if err == nil {
		t.Fatal("a claim was recorded while PostgreSQL was down")
	}
	if !IsTransient(err) {
		t.Errorf("PostgreSQL down is not transient: %v", err)
	}
	if why := Describe(err); !strings.Contains(why, "PostgreSQL") || !strings.Contains(why, "nothing is claimed or sent") {
		t.Errorf("Describe = %q", why)
	}
	if _, err := s.History(ctx, Filter{}); err == nil || !IsTransient(err) {
		t.Errorf("a read while down: %v", err)
	}

	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	won := mustRecord(t, s, comment("2"), t0, pending("r"))
	if len(won) != 1 {
		t.Fatalf("after the restart: %+v", won)
	}
	rows, err := s.History(ctx, Filter{})
	if err != nil || len(rows) != 2 {
		t.Fatalf("history after the restart: %d rows, %v", len(rows), err)
	}
}

// What an operator must fix is not waited out, and says what it is.
func TestPostgresRefusals(t *testing.T) {
	if !onPostgres {
		t.Skip("PostgreSQL's refusals")
	}
	dsn := testDatabase(t)
	ctx := context.Background()
	missing := strings.Replace(dsn, "/t", "/nosuchdb_t", 1)
	_, err := Open(ctx, missing)
	if err == nil || IsTransient(err) || !strings.Contains(Describe(err), "does not exist") {
		t.Errorf("a missing database: transient %v, %q, %v", IsTransient(err), Describe(err), err)
	}
	// A closed port: unreachable, waited out.
	_, err = Open(ctx, "postgres://u@127.0.0.1:1/db?sslmode=disable&connect_timeout=2")
	if err == nil || !IsTransient(err) || !strings.Contains(Describe(err), "unreachable") {
		t.Errorf("a closed port: transient %v, %q, %v", IsTransient(err), Describe(err), err)
	}
	// A password in the URL is refused without showing it.
	_, err = Open(ctx, "postgres://u:s3cret-pw@127.0.0.1:1/db")
	if err == nil || strings.Contains(err.Error(), "s3cret-pw") || !strings.Contains(err.Error(), "password") {
		t.Errorf("a password in the URL: %v", err)
	}
}
