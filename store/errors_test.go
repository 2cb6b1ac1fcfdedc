package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/internal/testutil"
	"github.com/autoreplyd/autoreplyd/model"
)

func TestClassifyNonStorageErrors(t *testing.T) {
	t.Parallel()
	for _, err := range []error{nil, errors.New("boom"), context.Canceled, ErrNotPending} {
		if IsTransient(err) {
			t.Errorf("IsTransient(%v) = true", err)
		}
		if d := Describe(err); d != "" {
			t.Errorf("Describe(%v) = %q", err, d)
		}
	}
	perm := fmt.Errorf("open database x: %w", &os.PathError{Op: "mkdir", Path: "/x", Err: syscall.EACCES})
	if !IsTransient(perm) || !strings.Contains(Describe(perm), "permission denied") {
		t.Errorf("EACCES: transient %v, %q", IsTransient(perm), Describe(perm))
	}
}

// Another connection holding the write lock longer than the busy timeout:
// a write fails with SQLITE_BUSY, classified transient, described clearly,
// and succeeds once the lock is gone.
func TestBusyIsTransient(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "a.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer testutil.Close(t, s)
	must(t, s.SetBusyTimeout(ctx, 100*time.Millisecond))

	holder := holdWriteLock(t, path)
	_, err = s.Record(ctx, comment("c1"), model.DispositionEvaluated, []Claim{{Rule: "r", Responder: "kitkot", Status: model.StatusPending, ReplyText: "x"}}, time.Now())
	if err == nil {
		t.Fatal("Record succeeded while another connection held the write lock")
	}
	if !IsTransient(err) || !strings.Contains(Describe(err), "locked by another process") {
		t.Fatalf("busy: transient %v, described %q: %v", IsTransient(err), Describe(err), err)
	}
	if !strings.Contains(Explain(err).Error(), "database is locked by another process (busy for 5s)") {
		t.Fatalf("Explain: %v", Explain(err))
	}
	holder()
	won, err := s.Record(ctx, comment("c1"), model.DispositionEvaluated, []Claim{{Rule: "r", Responder: "kitkot", Status: model.StatusPending, ReplyText: "x"}}, time.Now())
	if err != nil || len(won) != 1 {
		t.Fatalf("after the lock: %v %v", won, err)
	}
}

// A database at its size limit: a write that needs a page fails with
// SQLITE_FULL, rolled back whole, and works once there is room.
func TestFullIsTransient(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer testutil.Close(t, s)
	if _, err := s.LimitPages(ctx, 1); err != nil {
		t.Fatal(err)
	}
	c := comment("big")
	c.Text = strings.Repeat("多少钱", 10000) // ~90 KB: needs new pages
	_, err = s.Record(ctx, c, model.DispositionEvaluated, []Claim{{Rule: "r", Responder: "kitkot", Status: model.StatusPending, ReplyText: "x"}}, time.Now())
	if err == nil {
		t.Fatal("Record succeeded in a full database")
	}
	if !IsTransient(err) || Describe(err) != "database or disk is full" {
		t.Fatalf("full: transient %v, described %q: %v", IsTransient(err), Describe(err), err)
	}
	if known, err := s.Known(ctx, "douyin", []string{"big"}); err != nil || known["big"] {
		t.Fatalf("a failed Record left the comment behind: %v %v", known, err)
	}
	if _, err := s.LimitPages(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if won, err := s.Record(ctx, c, model.DispositionEvaluated, []Claim{{Rule: "r", Responder: "kitkot", Status: model.StatusPending, ReplyText: "x"}}, time.Now()); err != nil || len(won) != 1 {
		t.Fatalf("after room was made: %v %v", won, err)
	}
}

// A write through a connection SQLite opened read-only (what it does with a
// file the process may not write) fails with SQLITE_READONLY.
func TestReadOnlyIsTransient(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "a.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	testutil.Close(t, s)
	dsn, err := buildDSN(path, "mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer testutil.Close(t, db)
	_, err = db.ExecContext(ctx, `INSERT INTO pauses (scope, reason, created_at) VALUES ('x', '', '')`)
	if err == nil {
		t.Fatal("write through a read-only connection succeeded")
	}
	if !IsTransient(err) || !strings.HasPrefix(Describe(err), "database is read-only (check file permissions") {
		t.Fatalf("read-only: transient %v, described %q: %v", IsTransient(err), Describe(err), err)
	}
}

// Not a database: permanent, and said so.
func TestNotADatabaseIsPermanent(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "a.db")
	must(t, os.WriteFile(path, []byte(strings.Repeat("this is not a database\n", 200)), 0o600))
	_, err := Open(context.Background(), path)
	if err == nil {
		t.Fatal("opened a file that is not a database")
	}
	if IsTransient(err) || !strings.Contains(Describe(err), "not an SQLite database") {
		t.Fatalf("not a database: transient %v, described %q: %v", IsTransient(err), Describe(err), err)
	}
}

// holdWriteLock takes the database's write lock from another connection, as
// a long sqlite3 query would, and returns its release.
func holdWriteLock(t *testing.T, path string) (release func()) {
	t.Helper()
	dsn, err := buildDSN(path, "_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(context.Background(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	done := false
	release = func() {
		if done {
			return
		}
		done = true
		_, _ = conn.ExecContext(context.Background(), "ROLLBACK")
		testutil.Close(t, conn)
		testutil.Close(t, db)
	}
	t.Cleanup(release)
	return release
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
