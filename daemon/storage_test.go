package daemon

// Storage faults: a database locked by another process, full, or read-only
// gives a clear error and a retry, never an exit and never a send without a
// committed claim.

import (
	"context"
	"database/sql"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/internal/syncbuf"
	"github.com/autoreplyd/autoreplyd/internal/testutil"
	"github.com/autoreplyd/autoreplyd/poller"
	"github.com/autoreplyd/autoreplyd/simulator"
	"github.com/autoreplyd/autoreplyd/store"
)

// storageWorld is a daemon over the imitations, driven cycle by cycle.
type storageWorld struct {
	t    *testing.T
	jo   *simulator.JustOneAPI
	kk   *simulator.Kitkot
	cfg  string
	logs *syncbuf.Buffer
	d    *Daemon
}

func newStorageWorld(t *testing.T) *storageWorld {
	t.Helper()
	w := &storageWorld{t: t, jo: simulator.NewJustOneAPI(token), kk: simulator.NewKitkot(apiKey, sessionKey), logs: &syncbuf.Buffer{}}
	mux := http.NewServeMux()
	mux.Handle("/api/douyin/", w.jo)
	mux.Handle("/api/video/", w.kk)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	w.cfg = writeConfig(t, t.TempDir(), srv.URL, "@every 1h", rulesV1, "")
	return w
}

func (w *storageWorld) options(wait bool) Options {
	return Options{Logger: slog.New(slog.NewTextHandler(w.logs, nil)), WaitForStore: wait,
		Tune: func(o *poller.Options) { o.Jitter = nil }}
}

// start builds the daemon and runs the first cycle (first sight of the
// threads).
func (w *storageWorld) start() {
	w.t.Helper()
	d, err := New(w.t.Context(), load(w.t, w.cfg), w.options(false))
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(func() { testutil.Close(w.t, d) })
	w.d = d
	if st := d.Cycle(w.t.Context()); st.Polled != 2 || st.Errors != 0 {
		w.t.Fatalf("first cycle %+v", st)
	}
}

func (w *storageWorld) add(nickname, text string) string {
	return w.jo.AddReply(threadA, simulator.Reply{AwemeID: aweme, Text: text, UserUID: "u-" + nickname, Nickname: nickname,
		CreateTime: time.Now().Unix(), ReplyToReplyID: "0"})
}

// statusOf is the history status/reason of comment id ("" when unrecorded).
func (w *storageWorld) statusOf(id string) string {
	w.t.Helper()
	rows, err := w.d.Store().History(w.t.Context(), store.Filter{})
	if err != nil {
		w.t.Fatal(err)
	}
	for _, r := range rows {
		if r.CommentID == id {
			return r.Status + "/" + r.Reason
		}
	}
	return ""
}

// lockHolder is another process's long write transaction (a long sqlite3
// query would hold the same lock).
type lockHolder struct {
	t    *testing.T
	db   *sql.DB
	conn *sql.Conn
	once sync.Once
}

func holdLock(t *testing.T, path string) *lockHolder {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
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
	h := &lockHolder{t: t, db: db, conn: conn}
	t.Cleanup(h.release)
	return h
}

func (h *lockHolder) release() {
	h.once.Do(func() {
		_, _ = h.conn.ExecContext(context.Background(), "ROLLBACK")
		testutil.Close(h.t, h.conn)
		testutil.Close(h.t, h.db)
	})
}

// A lock held longer than the busy timeout: the cycle logs it clearly,
// nothing is sent (no claim could be committed), the daemon goes on, and
// once the lock is gone the reply is answered exactly once.
func TestStorageLockedAtRunTime(t *testing.T) {
	t.Parallel()
	w := newStorageWorld(t)
	w.start()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(w.d.Store().SetBusyTimeout(t.Context(), 200*time.Millisecond))
	id := w.add("阿强", "多少钱")
	h := holdLock(t, w.d.Store().Path())
	for range 2 {
		st := w.d.Cycle(t.Context())
		if st.Errors == 0 || st.Claimed != 0 {
			t.Fatalf("cycle while locked: %+v", st)
		}
	}
	if n := w.kk.Requests(); n != 0 {
		t.Fatalf("kitkot reached %d times while no claim could be committed", n)
	}
	if !strings.Contains(w.logs.String(), "database is locked by another process") {
		t.Errorf("the lock was not logged clearly:\n%s", w.logs.String())
	}
	h.release()
	if st := w.d.Cycle(t.Context()); st.Sent != 1 {
		t.Fatalf("cycle after the lock: %+v\n%s", st, w.logs.String())
	}
	w.d.Cycle(t.Context())
	if n := len(w.kk.Posts()); n != 1 {
		t.Fatalf("%d posts, want 1", n)
	}
	if got := w.statusOf(id); got != "sent/" {
		t.Fatalf("status %q", got)
	}
}

// The lock is taken while the reply is on its way: the send went out, and
// its settlement waits for the lock instead of leaving the claim pending
// (which a restart would turn into unknown).
func TestStorageLockedWhileSettling(t *testing.T) {
	t.Parallel()
	w := newStorageWorld(t)
	w.start()
	if err := w.d.Store().SetBusyTimeout(t.Context(), 200*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	id := w.add("阿花", "价格多少")
	var h *lockHolder
	w.kk.OnPost = func(simulator.Post) {
		h = holdLock(t, w.d.Store().Path())
		time.AfterFunc(1500*time.Millisecond, h.release)
	}
	st := w.d.Cycle(t.Context())
	if st.Sent != 1 {
		t.Fatalf("cycle %+v", st)
	}
	if got := w.statusOf(id); got != "sent/" {
		t.Fatalf("status after a settlement that met a lock: %q\n%s", got, w.logs.String())
	}
}

// A full database: the claim cannot be committed, so nothing is sent; the
// error says the disk is full; once there is room the reply is answered once.
func TestStorageFullAtRunTime(t *testing.T) {
	t.Parallel()
	w := newStorageWorld(t)
	w.start()
	if _, err := w.d.Store().LimitPages(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	// A long comment needs new pages.
	id := w.add("大卫", "多少钱 "+strings.Repeat("真的很想知道价格 ", 2000))
	for range 2 {
		if st := w.d.Cycle(t.Context()); st.Errors == 0 || st.Claimed != 0 {
			t.Fatalf("cycle while full: %+v", st)
		}
	}
	if n := w.kk.Requests(); n != 0 {
		t.Fatalf("kitkot reached %d times while no claim could be committed", n)
	}
	if !strings.Contains(w.logs.String(), "database or disk is full") {
		t.Errorf("the full disk was not logged clearly:\n%s", w.logs.String())
	}
	if _, err := w.d.Store().LimitPages(t.Context(), 0); err != nil {
		t.Fatal(err)
	}
	if st := w.d.Cycle(t.Context()); st.Sent != 1 {
		t.Fatalf("cycle after room was made: %+v", st)
	}
	w.d.Cycle(t.Context())
	if n := len(w.kk.Posts()); n != 1 || w.statusOf(id) != "sent/" {
		t.Fatalf("%d posts, status %q", n, w.statusOf(id))
	}
}

// A database locked when the daemon starts: run --once (no waiting) fails
// with a clear message; the daemon waits, logging why, and starts once the
// lock is gone.
func TestStorageLockedAtStartup(t *testing.T) {
	t.Parallel()
	w := newStorageWorld(t)
	w.start()
	testutil.Close(t, w.d)
	cfg := load(t, w.cfg)
	h := holdLock(t, cfg.Database)

	onceErr := make(chan error, 1)
	go func() {
		d, err := New(t.Context(), cfg, w.options(false))
		if err == nil {
			testutil.Close(t, d)
		}
		onceErr <- err
	}()
	type result struct {
		d   *Daemon
		err error
	}
	waited := make(chan result, 1)
	go func() {
		d, err := New(t.Context(), cfg, w.options(true))
		waited <- result{d, err}
	}()

	select {
	case err := <-onceErr:
		if err == nil || !strings.Contains(err.Error(), "database is locked by another process (busy for 5s)") {
			t.Fatalf("New without waiting: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("New without waiting did not fail")
	}
	testutil.WaitFor(t, "the retry to be logged", func() bool {
		return strings.Contains(w.logs.String(), "database unavailable") && strings.Contains(w.logs.String(), "locked by another process")
	})
	select {
	case r := <-waited:
		t.Fatalf("New returned while the database was locked: %v", r.err)
	default:
	}
	h.release()
	select {
	case r := <-waited:
		if r.err != nil {
			t.Fatalf("New after the lock: %v", r.err)
		}
		defer testutil.Close(t, r.d)
		if !strings.Contains(w.logs.String(), "database available again") {
			t.Errorf("recovery not logged:\n%s", w.logs.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("New did not start after the lock was released")
	}
}

// Cancelled while waiting (SIGTERM): New returns promptly.
func TestStorageWaitEndsWithContext(t *testing.T) {
	t.Parallel()
	w := newStorageWorld(t)
	w.start()
	testutil.Close(t, w.d)
	cfg := load(t, w.cfg)
	holdLock(t, cfg.Database)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		d, err := New(ctx, cfg, w.options(true))
		if err == nil {
			testutil.Close(t, d)
		}
		done <- err
	}()
	testutil.WaitFor(t, "the retry to be logged", func() bool { return strings.Contains(w.logs.String(), "database unavailable") })
	cancel()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "stopped while waiting") {
			t.Fatalf("New after cancellation: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("New did not return after cancellation")
	}
}

// A permanent problem is not waited for: a file that is not a database.
func TestStorageNotADatabaseFailsAtOnce(t *testing.T) {
	t.Parallel()
	w := newStorageWorld(t)
	cfg := load(t, w.cfg)
	if err := os.WriteFile(cfg.Database, []byte(strings.Repeat("not a database\n", 400)), 0o600); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err := New(t.Context(), cfg, w.options(true))
	if err == nil || !strings.Contains(err.Error(), "not an SQLite database") {
		t.Fatalf("New over a file that is not a database: %v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("a permanent problem was retried (%s)", time.Since(start))
	}
}

// A read-only database file (for a process that may not write it; root may
// write anything, so this runs only unprivileged; the end-to-end test covers
// it as root by running the binary as nobody): the daemon waits, and starts
// when the permissions are fixed.
func TestStorageReadOnlyAtStartup(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root ignores file permissions; see TestEndToEndReadOnlyDatabase")
	}
	t.Parallel()
	w := newStorageWorld(t)
	w.start()
	testutil.Close(t, w.d)
	cfg := load(t, w.cfg)
	files, _ := filepath.Glob(cfg.Database + "*")
	for _, f := range files {
		if err := os.Chmod(f, 0o444); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := New(t.Context(), cfg, w.options(false)); err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Fatalf("New without waiting over a read-only database: %v", err)
	}
	type result struct {
		d   *Daemon
		err error
	}
	waited := make(chan result, 1)
	go func() {
		d, err := New(t.Context(), cfg, w.options(true))
		waited <- result{d, err}
	}()
	testutil.WaitFor(t, "the retry to be logged", func() bool { return strings.Contains(w.logs.String(), "database is read-only") })
	files, _ = filepath.Glob(cfg.Database + "*")
	for _, f := range files {
		if err := os.Chmod(f, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case r := <-waited:
		if r.err != nil {
			t.Fatal(r.err)
		}
		testutil.Close(t, r.d)
	case <-time.After(30 * time.Second):
		t.Fatal("New did not start once the permissions were fixed")
	}
}
