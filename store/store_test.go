package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/internal/testutil"
	"github.com/autoreplyd/autoreplyd/model"
)

// t0 is the tests' clock origin.
var t0 = time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)

func comment(id string) model.Comment {
	return model.Comment{
		Platform:  model.PlatformDouyin,
		ID:        id,
		ThreadID:  "7251524159191958327",
		PostID:    "7251517975340027197",
		RootID:    "7251524159191958327",
		ReplyToID: "0",
		Text:      "how much? " + id,
		CreatedAt: t0.Add(-time.Minute),
		User:      model.User{UID: "u" + id, Nickname: "nick" + id, UniqueID: "handle" + id},
	}
}

func pending(rule string) Claim {
	return Claim{Rule: rule, Responder: "kitkot", Status: model.StatusPending, ReplyText: "hello from " + rule}
}

func mustRecord(t testing.TB, s *Store, c model.Comment, now time.Time, claims ...Claim) []Claimed {
	t.Helper()
	got, err := s.Record(context.Background(), c, model.DispositionEvaluated, claims, now)
	if err != nil {
		t.Fatalf("Record %s: %v", c.ID, err)
	}
	return got
}

func TestMigrateFromEmpty(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	ctx := t.Context()
	v, err := s.schemaVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if v != SchemaVersion {
		t.Fatalf("user_version = %d, want %d", v, SchemaVersion)
	}
	for _, name := range []string{"comments", "replies", "threads", "pauses", "replies_v"} {
		var n int
		q := s.dialect(`SELECT count(*) FROM sqlite_schema WHERE name = ?`,
			`SELECT count(*) FROM pg_class WHERE relname = ? AND relkind IN ('r', 'v')`)
		if err := s.db.QueryRowContext(ctx, q, name).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("%s missing from schema", name)
		}
	}
	// Tables are STRICT: a non-integer attempts is refused.
	mustRecord(t, s, comment("1"), t0, pending("r"))
	if _, err := s.db.ExecContext(ctx, `UPDATE replies SET attempts = 'many'`); err == nil {
		t.Error("STRICT table accepted text in an INTEGER column")
	}
}

func TestReopenIsIdempotent(t *testing.T) {
	t.Parallel()
	s, path := openTest(t)
	ctx := t.Context()
	mustRecord(t, s, comment("1"), t0, pending("r"))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		s2, err := Open(ctx, path)
		if err != nil {
			t.Fatalf("reopen %d: %v", i, err)
		}
		v, err := s2.schemaVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if v != SchemaVersion {
			t.Errorf("user_version = %d after reopen", v)
		}
		known, err := s2.Known(ctx, model.PlatformDouyin, []string{"1"})
		if err != nil {
			t.Fatal(err)
		}
		if !known["1"] {
			t.Error("comment lost across reopen")
		}
		testutil.Close(t, s2)
	}
}

func setUserVersion(t *testing.T, path string, v int) {
	t.Helper()
	if IsPostgres(path) {
		db, err := sql.Open("pgx", path)
		if err != nil {
			t.Fatal(err)
		}
		defer testutil.Close(t, db)
		if _, err := db.Exec(`UPDATE schema_version SET version = $1`, v); err != nil {
			t.Fatal(err)
		}
		return
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer testutil.Close(t, db)
	if _, err := db.Exec(fmt.Sprintf("PRAGMA user_version = %d", v)); err != nil {
		t.Fatal(err)
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	t.Parallel()
	s, path := openTest(t)
	testutil.Close(t, s)
	setUserVersion(t, path, SchemaVersion+1)

	_, err := Open(t.Context(), path)
	if err == nil {
		t.Fatal("Open accepted a newer schema")
	}
	for _, want := range []string{path, fmt.Sprint(SchemaVersion + 1), fmt.Sprint(SchemaVersion), "newer"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if _, err := OpenReadOnly(t.Context(), path); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Errorf("OpenReadOnly on a newer schema: %v", err)
	}
}

func TestPragmasInEffect(t *testing.T) {
	sqliteOnly(t)
	t.Parallel()
	s, _ := openTest(t)
	ctx := t.Context()
	for _, p := range []struct{ pragma, want string }{
		{"journal_mode", "wal"},
		{"foreign_keys", "1"},
		{"busy_timeout", "5000"},
		{"synchronous", "1"}, // NORMAL
	} {
		var got string
		if err := s.db.QueryRowContext(ctx, "PRAGMA "+p.pragma).Scan(&got); err != nil {
			t.Fatalf("PRAGMA %s: %v", p.pragma, err)
		}
		if got != p.want {
			t.Errorf("PRAGMA %s = %q, want %q", p.pragma, got, p.want)
		}
	}
	// foreign_keys is really enforced: a claim for an unknown comment fails.
	_, err := s.db.ExecContext(ctx, `INSERT INTO replies (platform, comment_id, rule, status, created_at, updated_at)
		VALUES ('douyin', 'nope', 'r', 'pending', 'x', 'x')`)
	if err == nil {
		t.Error("foreign key not enforced")
	}
}

func TestPathNeedingEscapes(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "a dir?x=1#frag%20")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "db ?.sqlite")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	mustRecord(t, s, comment("1"), t0, pending("r"))
	testutil.Close(t, s)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database not at the given path: %v", err)
	}
	r, err := OpenReadOnly(t.Context(), path)
	if err != nil {
		t.Fatalf("OpenReadOnly: %v", err)
	}
	defer testutil.Close(t, r)
	rows, err := r.History(t.Context(), Filter{})
	if err != nil || len(rows) != 1 {
		t.Fatalf("History = %d rows, %v", len(rows), err)
	}
}

func TestOpenErrorNamesPath(t *testing.T) {
	t.Parallel()
	// A file where the database's directory should be: it cannot be made.
	blocker := filepath.Join(t.TempDir(), "not-a-dir")
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(blocker, "x.db")
	_, err := Open(t.Context(), path)
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("Open under a file: %v", err)
	}
}

func TestReadOnlyMissingFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "missing.db")
	_, err := OpenReadOnly(t.Context(), path)
	if err == nil || err.Error() != "database "+path+" does not exist" {
		t.Fatalf("OpenReadOnly(missing) = %v", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("OpenReadOnly created the file: %v", err)
	}
}

func TestReadOnlyOldSchema(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "old.db")
	setUserVersion(t, path, 0) // creates an empty database
	_, err := OpenReadOnly(t.Context(), path)
	if err == nil || !strings.Contains(err.Error(), "run the daemon once") || !strings.Contains(err.Error(), path) {
		t.Fatalf("OpenReadOnly(old schema) = %v", err)
	}
}

func TestReadOnlyWhileWriterInTransaction(t *testing.T) {
	t.Parallel()
	w, path := openTest(t)
	ctx := t.Context()
	mustRecord(t, w, comment("1"), t0, pending("r"))

	// The writer holds the write lock with uncommitted changes.
	tx, err := w.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `UPDATE replies SET status = 'sent'`); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO comments (platform, comment_id, disposition, seen_at)
		VALUES ('douyin', '2', 'backlog', 'x')`); err != nil {
		t.Fatal(err)
	}

	r, err := OpenReadOnly(ctx, path)
	if err != nil {
		t.Fatalf("OpenReadOnly while writer in transaction: %v", err)
	}
	defer testutil.Close(t, r)
	rows, err := r.History(ctx, Filter{})
	if err != nil {
		t.Fatalf("History: %v", err)
	}
	if len(rows) != 1 || rows[0].Status != model.StatusPending {
		t.Fatalf("reader saw %+v, want the committed pending claim", rows)
	}
	known, err := r.Known(ctx, model.PlatformDouyin, []string{"1", "2"})
	if err != nil {
		t.Fatal(err)
	}
	if !known["1"] || known["2"] {
		t.Errorf("Known = %v, want only the committed comment", known)
	}
	if _, err := r.Counts(ctx); err != nil {
		t.Errorf("Counts: %v", err)
	}

	// Writes are refused, by the store and by SQLite itself.
	if _, err := r.Record(ctx, comment("3"), model.DispositionEvaluated, nil, t0); !errors.Is(err, ErrReadOnly) {
		t.Errorf("Record on read-only store: %v", err)
	}
	checks := map[string]error{
		"Settle":          r.Settle(ctx, 1, Settlement{Status: model.StatusSent}, t0),
		"SaveThreadState": r.SaveThreadState(ctx, model.ThreadState{Platform: "douyin", ThreadID: "t"}),
		"SetPause":        r.SetPause(ctx, "source:douyin", time.Time{}, "x", t0),
		"ClearPause":      r.ClearPause(ctx, "source:douyin"),
	}
	_, _, checks["RecoverPending"] = r.RecoverPending(ctx, t0, 0)
	_, checks["BeginRetry"] = r.BeginRetry(ctx, 1, t0)
	for name, err := range checks {
		if !errors.Is(err, ErrReadOnly) {
			t.Errorf("%s on read-only store: %v", name, err)
		}
	}
	if _, err := r.db.ExecContext(ctx, `DELETE FROM pauses`); err == nil {
		t.Error("read-only connection accepted a write")
	}

	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	rows, err = r.History(ctx, Filter{})
	if err != nil || len(rows) != 1 || rows[0].Status != model.StatusSent {
		t.Fatalf("after commit reader saw %+v, %v", rows, err)
	}
}

func TestReadOnlyAfterWriterClosed(t *testing.T) {
	t.Parallel()
	w, path := openTest(t)
	mustRecord(t, w, comment("1"), t0, pending("r"))
	testutil.Close(t, w)
	r, err := OpenReadOnly(t.Context(), path)
	if err != nil {
		t.Fatalf("OpenReadOnly: %v", err)
	}
	defer testutil.Close(t, r)
	rows, err := r.History(t.Context(), Filter{})
	if err != nil || len(rows) != 1 {
		t.Fatalf("History = %+v, %v", rows, err)
	}
}

func TestUnicodeAndBigIDsRoundTrip(t *testing.T) {
	t.Parallel()
	s, path := openTest(t)
	ctx := t.Context()
	c := comment("7251536675678782265")
	c.ThreadID = "7251524159191958327"
	c.Text = "史密斯夫妇💑 [呲牙] 多少钱？"
	c.User.Nickname = "小明🐱"
	c.User.UID = "98765432109876543210"
	claims := mustRecord(t, s, c, t0, Claim{Rule: "价格", Responder: "kitkot", Status: model.StatusPending, ReplyText: "小明🐱 你好，价格请看橱窗 [呲牙]"})
	if err := s.Settle(ctx, claims[0].ID, Settlement{Status: model.StatusSent, PlatformReplyID: "7251536675678782999"}, t0); err != nil {
		t.Fatal(err)
	}
	testutil.Close(t, s)

	r, err := OpenReadOnly(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer testutil.Close(t, r)
	rows, err := r.History(ctx, Filter{Rule: "价格"})
	if err != nil || len(rows) != 1 {
		t.Fatalf("History = %+v, %v", rows, err)
	}
	h := rows[0]
	if h.CommentID != "7251536675678782265" || h.ThreadID != "7251524159191958327" ||
		h.UserUID != "98765432109876543210" || h.PlatformReplyID != "7251536675678782999" {
		t.Errorf("ids changed: %+v", h)
	}
	if h.CommentText != c.Text || h.UserNickname != "小明🐱" || h.ReplyText != "小明🐱 你好，价格请看橱窗 [呲牙]" || h.Rule != "价格" {
		t.Errorf("text changed: %+v", h)
	}
	var typ string
	if err := r.db.QueryRowContext(ctx, r.dialect(`SELECT typeof(comment_id) FROM comments`, `SELECT pg_typeof(comment_id)::text FROM comments`)).Scan(&typ); err != nil || typ != "text" {
		t.Errorf("comment_id stored as %q (%v), want text", typ, err)
	}
}

func TestTimesAreSortableUTCText(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	ctx := t.Context()
	shanghai := time.FixedZone("CST", 8*3600)
	now := time.Date(2025, 3, 1, 16, 4, 5, 678_900_000, shanghai)
	mustRecord(t, s, comment("1"), now, pending("r"))
	var created, viaSQLite string
	if err := s.db.QueryRowContext(ctx, s.dialect(`SELECT created_at, datetime(created_at) FROM replies`,
		`SELECT created_at, to_char(created_at::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') FROM replies`)).Scan(&created, &viaSQLite); err != nil {
		t.Fatal(err)
	}
	if created != "2025-03-01T08:04:05.678Z" || viaSQLite != "2025-03-01 08:04:05" {
		t.Errorf("created_at = %q, datetime() = %q", created, viaSQLite)
	}
}

func TestFailedMigrationRollsBack(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "conflict.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	// A stray table that makes migration 1 fail half-way (after comments).
	if _, err := db.Exec(`CREATE TABLE replies (x TEXT)`); err != nil {
		t.Fatal(err)
	}
	testutil.Close(t, db)

	_, err = Open(t.Context(), path)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "schema version 1") {
		t.Fatalf("Open = %v, want a migration error naming the path and version", err)
	}
	db, err = sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer testutil.Close(t, db)
	var v, n int
	if err := db.QueryRow(`PRAGMA user_version`).Scan(&v); err != nil || v != 0 {
		t.Errorf("user_version = %d, %v after failed migration", v, err)
	}
	if err := db.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE name = 'comments'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("comments table survived the rollback (%d, %v)", n, err)
	}
}
