package pgtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

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

// A fresh database takes Chinese text and emoji and gives them back, in a
// UTF-8 cluster whose text sorts bytewise.
func TestNewDatabase(t *testing.T) {
	ctx := context.Background()
	conn := connect(t, NewDatabase(t))
	var enc, collate string
	if err := conn.QueryRow(ctx, `SELECT current_setting('server_encoding'), datcollate FROM pg_database WHERE datname = current_database()`).Scan(&enc, &collate); err != nil {
		t.Fatal(err)
	}
	if enc != "UTF8" || collate != "C" {
		t.Errorf("encoding %s, collation %s; want UTF8, C", enc, collate)
	}
	const text = "谢谢你的评论 👍🏽"
	if _, err := conn.Exec(ctx, `CREATE TABLE t (s text)`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `INSERT INTO t VALUES ($1)`, text); err != nil {
		t.Fatal(err)
	}
	var got string
	if err := conn.QueryRow(ctx, `SELECT s FROM t`).Scan(&got); err != nil {
		t.Fatal(err)
	}
	if got != text {
		t.Errorf("read back %q, want %q", got, text)
	}
}

// Each test's database is its own: a table made in one is not in another,
// and a database is gone once its test ended.
func TestDatabasesIsolated(t *testing.T) {
	ctx := context.Background()
	var first string
	t.Run("a", func(t *testing.T) {
		conn := connect(t, NewDatabase(t))
		if _, err := conn.Exec(ctx, `CREATE TABLE only_in_a (x int)`); err != nil {
			t.Fatal(err)
		}
		if err := conn.QueryRow(ctx, `SELECT current_database()`).Scan(&first); err != nil {
			t.Fatal(err)
		}
		// A connection left open does not stop the drop.
	})
	t.Run("b", func(t *testing.T) {
		conn := connect(t, NewDatabase(t))
		var name string
		var n int
		if err := conn.QueryRow(ctx, `SELECT current_database(), (SELECT count(*) FROM pg_tables WHERE tablename = 'only_in_a')`).Scan(&name, &n); err != nil {
			t.Fatal(err)
		}
		if name == first {
			t.Fatalf("both tests got database %s", name)
		}
		if n != 0 {
			t.Errorf("b's database %s has a's table", name)
		}
		var left int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_database WHERE datname = $1`, first).Scan(&left); err != nil {
			t.Fatal(err)
		}
		if left != 0 {
			t.Errorf("a's database %s outlived its test", first)
		}
	})
}

// The server never runs as root: as root, the tests hand it to another
// user.
func TestServerUnprivileged(t *testing.T) {
	ctx := context.Background()
	conn := connect(t, NewDatabase(t))
	var pid int
	if err := conn.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
		t.Fatal(err)
	}
	status, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Skipf("cannot read the backend's process status: %v", err)
	}
	for line := range strings.Lines(string(status)) {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "Uid:" {
			if f[1] == "0" {
				t.Errorf("backend %d runs as root", pid)
			}
			if want := strconv.Itoa(os.Geteuid()); os.Geteuid() != 0 && f[1] != want {
				t.Errorf("backend %d runs as uid %s, want ours (%s)", pid, f[1], want)
			}
			return
		}
	}
	t.Fatalf("no Uid line in /proc/%d/status", pid)
}

// A server of a test's own stops and starts again with its data; while it
// is stopped nothing connects, by socket or by TCP.
func TestStopRestart(t *testing.T) {
	ctx := context.Background()
	srv := Start(t)
	dsn := srv.NewDatabase(t)
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `CREATE TABLE kept (s text); INSERT INTO kept VALUES ('评论')`); err != nil {
		t.Fatal(err)
	}
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := conn.Ping(ctx); err == nil {
		t.Error("a connection survived the stop")
	}
	_ = conn.Close(ctx)
	if c, err := pgx.Connect(ctx, dsn); err == nil {
		_ = c.Close(ctx)
		t.Error("connected to a stopped server")
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	// Over TCP this time: the server listens there too.
	conn = connect(t, srv.TCPDSN(dbName(t, dsn)))
	var s string
	if err := conn.QueryRow(ctx, `SELECT s FROM kept`).Scan(&s); err != nil {
		t.Fatal(err)
	}
	if s != "评论" {
		t.Errorf("after restart read %q", s)
	}
}

// dbName is the database a DSN names.
func dbName(t *testing.T, dsn string) string {
	t.Helper()
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Database
}

// fakeTB records how a test would have ended.
type fakeTB struct {
	testing.TB
	skipped, fatal string
}

func (f *fakeTB) Helper() {}

func (f *fakeTB) Skip(args ...any) {
	f.skipped = fmt.Sprint(args...)
	runtime.Goexit()
}

func (f *fakeTB) Fatal(args ...any) {
	f.fatal = fmt.Sprint(args...)
	runtime.Goexit()
}

func (f *fakeTB) Fatalf(format string, args ...any) {
	f.fatal = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (f *fakeTB) Cleanup(func()) {}

// end runs Start on a fake test and returns how it ended.
func end(t *testing.T) *fakeTB {
	f := &fakeTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv := Start(f)
		_ = srv.close()
		t.Error("Start returned without binaries")
	}()
	<-done
	return f
}

// Without binaries a test skips with one line, or fails under
// TEST_POSTGRES=require; a misspelt value fails too.
func TestWithoutBinaries(t *testing.T) {
	old := debianRoot
	debianRoot = t.TempDir()
	t.Cleanup(func() { debianRoot = old })
	t.Setenv("PATH", t.TempDir())
	if _, err := findBin(); !errors.Is(err, errNotInstalled) {
		t.Fatalf("findBin: %v, want not installed", err)
	}

	t.Setenv(RequireEnv, "")
	if f := end(t); f.skipped != skipMessage || f.fatal != "" {
		t.Errorf("unset: skipped %q, failed %q; want the skip line", f.skipped, f.fatal)
	}
	t.Setenv(RequireEnv, "require")
	if f := end(t); f.skipped != "" || !strings.Contains(f.fatal, "TEST_POSTGRES=require") {
		t.Errorf("require: skipped %q, failed %q; want a failure", f.skipped, f.fatal)
	}
	t.Setenv(RequireEnv, "reqire")
	if f := end(t); f.skipped != "" || !strings.Contains(f.fatal, `"reqire"`) {
		t.Errorf("misspelt: skipped %q, failed %q; want a failure", f.skipped, f.fatal)
	}
}

// A server from StartServer (outside a test's lifetime) makes databases
// one can use, and Close stops it and removes its directory.
func TestStartServerClose(t *testing.T) {
	if Skipped() != "" {
		t.Skip(Skipped())
	}
	ctx := context.Background()
	s, err := StartServer()
	if err != nil {
		t.Fatal(err)
	}
	dsn, err := s.CreateDatabase(ctx, "bench")
	if err != nil {
		_ = s.Close()
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		_ = s.Close()
		t.Fatal(err)
	}
	var name string
	err = conn.QueryRow(ctx, `SELECT current_database()`).Scan(&name)
	_ = conn.Close(ctx)
	if err != nil || name != "bench" {
		t.Errorf("current_database() = %q, %v; want bench", name, err)
	}
	if _, err := s.CreateDatabase(ctx, "bench"); err == nil {
		t.Error("a second database named bench was created")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.SocketDir()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("directory %s after Close: %v; want it gone", s.SocketDir(), err)
	}
	if _, err := pgx.Connect(ctx, dsn); err == nil {
		t.Error("connected after Close")
	}
}
