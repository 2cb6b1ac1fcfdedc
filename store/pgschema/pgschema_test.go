package pgschema_test

import (
	"context"
	"errors"
	"os"
	"slices"
	"sync"
	"testing"

	"github.com/autoreplyd/autoreplyd/store/pgschema"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/autoreplyd/autoreplyd/internal/pgtest"
	"github.com/autoreplyd/autoreplyd/store"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func connect(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close(ctx) })
	return conn
}

// Every SQLite migration has its PostgreSQL counterpart.
func TestOneMigrationPerSQLiteMigration(t *testing.T) {
	if len(pgschema.Migrations) != store.SchemaVersion {
		t.Errorf("%d PostgreSQL migrations, %d SQLite ones", len(pgschema.Migrations), store.SchemaVersion)
	}
}

// Migrate takes a fresh database to the newest version, then does nothing.
func TestMigrate(t *testing.T) {
	ctx := context.Background()
	conn := connect(t, pgtest.NewDatabase(t))
	if v, err := pgschema.Version(ctx, conn); err != nil || v != 0 {
		t.Fatalf("fresh database: version %d, %v; want 0", v, err)
	}
	for range 2 {
		if err := pgschema.Migrate(ctx, conn); err != nil {
			t.Fatal(err)
		}
		if v, err := pgschema.Version(ctx, conn); err != nil || v != len(pgschema.Migrations) {
			t.Fatalf("version %d, %v; want %d", v, err, len(pgschema.Migrations))
		}
	}
	var rows int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM schema_version`).Scan(&rows); err != nil || rows != 1 {
		t.Errorf("schema_version has %d rows (%v), want 1", rows, err)
	}
}

// A database at an older version gets only the missing migrations.
func TestMigrateFromOlderVersion(t *testing.T) {
	ctx := context.Background()
	conn := connect(t, pgtest.NewDatabase(t))
	saved := pgschema.Migrations
	pgschema.Migrations = saved[:4]
	err := pgschema.Migrate(ctx, conn)
	pgschema.Migrations = saved
	if err != nil {
		t.Fatal(err)
	}
	// A version-4 row survives the later migrations with its id.
	if _, err := conn.Exec(ctx, `
INSERT INTO comments (platform, comment_id, disposition, seen_at) VALUES ('douyin', '7312345678901234567', 'evaluated', '2026-01-02T03:04:05.000Z');
INSERT INTO replies (id, platform, comment_id, rule, status, created_at, updated_at)
VALUES (41, 'douyin', '7312345678901234567', 'thanks', 'sent', '2026-01-02T03:04:05.000Z', '2026-01-02T03:04:05.000Z')`); err != nil {
		t.Fatal(err)
	}
	if err := pgschema.Migrate(ctx, conn); err != nil {
		t.Fatal(err)
	}
	var id int64
	var status, decidedBy, llm string
	if err := conn.QueryRow(ctx, `SELECT id, status, decided_by, llm FROM replies_v`).Scan(&id, &status, &decidedBy, &llm); err != nil {
		t.Fatal(err)
	}
	if id != 41 || status != "sent" || decidedBy != "" || llm != "" {
		t.Errorf("after migrating: id %d, status %q, decided_by %q, llm %q", id, status, decidedBy, llm)
	}
}

// A failing migration leaves the database as it was: no table, version 0.
func TestMigrateRollsBack(t *testing.T) {
	ctx := context.Background()
	conn := connect(t, pgtest.NewDatabase(t))
	saved := pgschema.Migrations
	pgschema.Migrations = append(slices.Clone(saved), `CREATE TABLE broken (`)
	err := pgschema.Migrate(ctx, conn)
	pgschema.Migrations = saved
	if err == nil {
		t.Fatal("a broken migration succeeded")
	}
	var tables int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()`).Scan(&tables); err != nil {
		t.Fatal(err)
	}
	if v, err := pgschema.Version(ctx, conn); err != nil || v != 0 || tables != 0 {
		t.Errorf("after a failed migration: version %d (%v), %d tables; want 0, 0", v, err, tables)
	}
}

// A database migrated by a newer autoreplyd is refused, untouched.
func TestMigrateRefusesNewer(t *testing.T) {
	ctx := context.Background()
	conn := connect(t, pgtest.NewDatabase(t))
	if err := pgschema.Migrate(ctx, conn); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `UPDATE schema_version SET version = version + 1`); err != nil {
		t.Fatal(err)
	}
	if err := pgschema.Migrate(ctx, conn); err == nil {
		t.Fatal("migrated a database newer than the code")
	}
	if v, _ := pgschema.Version(ctx, conn); v != len(pgschema.Migrations)+1 {
		t.Errorf("version %d after the refusal, want %d", v, len(pgschema.Migrations)+1)
	}
}

// Two instances starting at once on a fresh database both succeed: one
// migrates, the other waits for it and finds nothing to do.
func TestMigrateConcurrently(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)
	conns := []*pgx.Conn{connect(t, dsn), connect(t, dsn), connect(t, dsn)}
	errs := make([]error, len(conns))
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Go(func() { errs[i] = pgschema.Migrate(ctx, c) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("migrator %d: %v", i, err)
		}
	}
	if v, err := pgschema.Version(ctx, conns[0]); err != nil || v != len(pgschema.Migrations) {
		t.Errorf("version %d, %v; want %d", v, err, len(pgschema.Migrations))
	}
}

// A claim is made at most once per comment and rule: the second is a
// unique violation, or no row with ON CONFLICT DO NOTHING. Ids and text
// round-trip as they were.
func TestClaimAtMostOnce(t *testing.T) {
	ctx := context.Background()
	conn := connect(t, pgtest.NewDatabase(t))
	if err := pgschema.Migrate(ctx, conn); err != nil {
		t.Fatal(err)
	}
	const now = "2026-01-02T03:04:05.000Z"
	const text = "谢谢 🙏"
	if _, err := conn.Exec(ctx, `INSERT INTO comments (platform, comment_id, text, disposition, seen_at) VALUES ('douyin', '7312345678901234567', $1, 'evaluated', $2)`, text, now); err != nil {
		t.Fatal(err)
	}
	claim := `INSERT INTO replies (platform, comment_id, rule, status, created_at, updated_at) VALUES ('douyin', '7312345678901234567', 'thanks', 'pending', $1, $1)`
	if _, err := conn.Exec(ctx, claim, now); err != nil {
		t.Fatal(err)
	}
	_, err := conn.Exec(ctx, claim, now)
	if pe, ok := errors.AsType[*pgconn.PgError](err); !ok || pe.Code != "23505" {
		t.Errorf("second claim: %v, want a unique violation (23505)", err)
	}
	var id int64
	err = conn.QueryRow(ctx, claim+` ON CONFLICT DO NOTHING RETURNING id`, now).Scan(&id)
	if !errors.Is(err, pgx.ErrNoRows) {
		t.Errorf("second claim ON CONFLICT DO NOTHING: %v, want no row", err)
	}
	var commentID, got, labels string
	if err := conn.QueryRow(ctx, `SELECT comment_id, comment_text, labels FROM replies_v`).Scan(&commentID, &got, &labels); err != nil {
		t.Fatal(err)
	}
	if commentID != "7312345678901234567" || got != text || labels != "{}" {
		t.Errorf("replies_v: %q, %q, %q", commentID, got, labels)
	}
}

// The CHECKs refuse what SQLite's refuse: an unknown status or
// disposition, labels or a notify list that are not JSON. JSON text is
// kept byte for byte.
func TestChecks(t *testing.T) {
	ctx := context.Background()
	conn := connect(t, pgtest.NewDatabase(t))
	if err := pgschema.Migrate(ctx, conn); err != nil {
		t.Fatal(err)
	}
	const now = "2026-01-02T03:04:05.000Z"
	mustExec := func(sql string, args ...any) {
		t.Helper()
		if _, err := conn.Exec(ctx, sql, args...); err != nil {
			t.Fatal(err)
		}
	}
	mustExec(`INSERT INTO comments (platform, comment_id, disposition, seen_at) VALUES ('douyin', '1', 'evaluated', $1)`, now)
	for _, bad := range []struct{ what, sql string }{
		{"disposition", `INSERT INTO comments (platform, comment_id, disposition, seen_at) VALUES ('douyin', '2', 'maybe', '` + now + `')`},
		{"status", `INSERT INTO replies (platform, comment_id, rule, status, created_at, updated_at) VALUES ('douyin', '1', 'r', 'bogus', '` + now + `', '` + now + `')`},
		{"labels", `INSERT INTO threads (platform, thread_id, labels) VALUES ('douyin', 't', '{campaign')`},
		{"claim without comment", `INSERT INTO replies (platform, comment_id, rule, status, created_at, updated_at) VALUES ('douyin', '9', 'r', 'sent', '` + now + `', '` + now + `')`},
	} {
		if _, err := conn.Exec(ctx, bad.sql); err == nil {
			t.Errorf("bad %s accepted", bad.what)
		}
	}
	mustExec(`INSERT INTO replies (id, platform, comment_id, rule, status, created_at, updated_at) VALUES (7, 'douyin', '1', 'r', 'drafting', $1, $1)`, now)
	if _, err := conn.Exec(ctx, `INSERT INTO drafts (reply_id, llm, prompt, notify) VALUES (7, 'm', 'p', '["ops"')`); err == nil {
		t.Error("bad notify accepted")
	}
	const labels = `{"campaign":"春节","z":"1",  "a":"2"}`
	mustExec(`INSERT INTO threads (platform, thread_id, labels) VALUES ('douyin', 't', $1)`, labels)
	var got string
	if err := conn.QueryRow(ctx, `SELECT labels FROM threads`).Scan(&got); err != nil || got != labels {
		t.Errorf("labels read back %q (%v), want %q", got, err, labels)
	}
}
