// Package pgtest runs throwaway PostgreSQL servers for tests: it finds the
// server's binaries (Debian's /usr/lib/postgresql/*/bin, or PATH), runs
// initdb into a temporary directory, starts the server on a free loopback
// port with its unix socket in that directory, and gives each test a fresh
// database, dropped when the test ends. It is imported by tests, and by
// the load harness (bench/load -database pg) through StartServer.
//
// PostgreSQL refuses to run as root, and CI runs as root: then the
// server runs as the postgres user Debian's package creates (nobody when
// there is none), in a directory that user owns. As any other user it runs
// as that user.
//
// Without the binaries the tests that use it skip, saying why in one line,
// so `go test ./...` passes on a machine with only Go; with
// TEST_POSTGRES=require (as .ci/run sets it) they fail instead, so CI never
// passes without having run them.
//
// Most packages share one server per test binary, started on first use:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
//
//	func TestX(t *testing.T) { dsn := pgtest.NewDatabase(t); ... }
//
// A test that stops and starts the server uses its own, from Start.
package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// RequireEnv set to "require" turns missing PostgreSQL binaries from a
// skip into a failure. (Not an AUTOREPLYD_ name: those are config
// overrides.)
const RequireEnv = "TEST_POSTGRES"

// skipMessage is the one line a test skipped for want of a server says.
const skipMessage = "postgresql not installed: the PostgreSQL tests are skipped (apt-get install postgresql)"

// superuser is the role initdb creates; it connects without a password
// (trust), which is safe since the socket sits in a directory only the
// server's user and root can enter, and TCP listens on loopback only.
const superuser = "postgres"

// startTimeout bounds initdb and the server's start. Both take about a
// second; a loaded two-core CI machine may take several times that. It
// only stops a start that would hang.
const startTimeout = 90 * time.Second

// stopTimeout bounds a fast shutdown before the server is killed. With
// fsync off its checkpoint writes nothing to wait for.
const stopTimeout = 30 * time.Second

// portTries is how many free ports are tried: another process may take the
// port between our probe and the server's bind.
const portTries = 5

// debianRoot holds Debian's versioned server directories (a variable so
// that a test can point it at nothing).
var debianRoot = "/usr/lib/postgresql"

// errNotInstalled says the binaries were not found.
var errNotInstalled = errors.New(skipMessage)

// Server is one running PostgreSQL cluster in a temporary directory.
type Server struct {
	bin  string // directory holding initdb and postgres
	dir  string // the temporary directory: data/, the socket, server.log
	port int
	cred *syscall.Credential // whom the server runs as; nil: as we are

	mu     sync.Mutex
	cmd    *exec.Cmd     // the running postmaster; nil when stopped
	exited chan struct{} // closed when cmd has exited

	seq atomic.Int64 // numbers the databases NewDatabase creates
}

// Start starts a server of t's own, stopped and removed when t ends. It
// skips t (or fails it under TEST_POSTGRES=require) without the binaries.
func Start(t testing.TB) *Server {
	t.Helper()
	s, err := start()
	if err != nil {
		unavailable(t, err)
	}
	t.Cleanup(func() {
		if err := s.close(); err != nil {
			t.Errorf("pgtest: %v", err)
		}
	})
	return s
}

// StartServer starts a server outside a test (the load harness's): the
// caller must Close it. Its error names the missing binaries as Start's
// skip does.
func StartServer() (*Server, error) { return start() }

// Close stops a server from StartServer and removes its directory.
func (s *Server) Close() error { return s.close() }

// CreateDatabase creates an empty database name on s (a server from
// StartServer: nothing drops it but Close) and returns its DSN (see DSN).
func (s *Server) CreateDatabase(ctx context.Context, name string) (string, error) {
	if err := s.admin(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", fmt.Errorf("create database %s: %w", name, err)
	}
	return s.DSN(name), nil
}

// unavailable ends t for err: a skip for missing binaries unless they are
// required, a failure otherwise.
func unavailable(t testing.TB, err error) {
	t.Helper()
	switch v := os.Getenv(RequireEnv); {
	case v != "" && v != "require":
		// A typo must not turn CI's requirement into a silent skip.
		t.Fatalf("pgtest: %s=%q: the only value is require", RequireEnv, v)
	case errors.Is(err, errNotInstalled) && v == "":
		t.Skip(skipMessage)
	case errors.Is(err, errNotInstalled):
		t.Fatalf("pgtest: postgresql not installed and %s=require: apt-get install postgresql", RequireEnv)
	default:
		t.Fatalf("pgtest: %v", err)
	}
}

// findBin returns the directory holding initdb and postgres: the newest of
// Debian's versions, else where initdb on PATH lives (Debian puts neither
// binary on PATH; other builds do).
func findBin() (string, error) {
	var dirs []string
	versions, _ := filepath.Glob(filepath.Join(debianRoot, "*", "bin"))
	// Newest first: 17 before 15, by number, not text.
	slices.SortFunc(versions, func(a, b string) int {
		va, _ := strconv.Atoi(filepath.Base(filepath.Dir(a)))
		vb, _ := strconv.Atoi(filepath.Base(filepath.Dir(b)))
		return vb - va
	})
	dirs = append(dirs, versions...)
	if p, err := exec.LookPath("initdb"); err == nil {
		// A symlink (as /usr/local/bin/initdb may be) names the directory
		// where postgres sits beside it.
		if r, err := filepath.EvalSymlinks(p); err == nil {
			dirs = append(dirs, filepath.Dir(r))
		}
		dirs = append(dirs, filepath.Dir(p))
	}
	for _, d := range dirs {
		if executable(filepath.Join(d, "initdb")) && executable(filepath.Join(d, "postgres")) {
			return d, nil
		}
	}
	return "", errNotInstalled
}

func executable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

// runAs is whom the server runs as: nil (ourselves) unless we are root,
// which PostgreSQL refuses; then the postgres user, or nobody.
func runAs() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
		gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
		if err1 != nil || err2 != nil {
			continue
		}
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}, nil
	}
	return nil, errors.New("running as root, and neither a postgres nor a nobody user exists to run the server as")
}

// start runs initdb into a new temporary directory and starts the server.
func start() (*Server, error) {
	bin, err := findBin()
	if err != nil {
		return nil, err
	}
	cred, err := runAs()
	if err != nil {
		return nil, err
	}
	// A short name: the socket's path must fit in 107 bytes.
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		return nil, err
	}
	s := &Server{bin: bin, dir: dir, cred: cred}
	if err := s.initdb(); err != nil {
		return nil, errors.Join(err, os.RemoveAll(dir))
	}
	for range portTries {
		if s.port, err = freePort(); err != nil {
			break
		}
		if err = s.launch(); !errors.Is(err, errPortTaken) {
			break
		}
	}
	if err != nil {
		return nil, errors.Join(err, os.RemoveAll(dir))
	}
	return s, nil
}

// initdb creates the cluster: UTF-8 (Chinese and emoji round-trip), the C
// locale (text sorts bytewise, as in SQLite), trust authentication (see
// superuser), no fsync (a test's cluster is thrown away).
func (s *Server) initdb() error {
	if s.cred != nil {
		if err := os.Chown(s.dir, int(s.cred.Uid), int(s.cred.Gid)); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	//nolint:gosec // G204: the binary is the installed PostgreSQL's initdb
	cmd := exec.CommandContext(ctx, filepath.Join(s.bin, "initdb"),
		"--pgdata", s.dataDir(), "--username", superuser, "--auth", "trust",
		"--encoding", "UTF8", "--locale", "C", "--no-sync")
	cmd.Dir = s.dir
	cmd.Env = serverEnv()
	cmd.SysProcAttr = s.sysProcAttr()
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("initdb (as uid %d): %w\n%s", s.uid(), err, tail(out))
	}
	return nil
}

func (s *Server) dataDir() string { return filepath.Join(s.dir, "data") }
func (s *Server) logPath() string { return filepath.Join(s.dir, "server.log") }

func (s *Server) uid() int {
	if s.cred != nil {
		return int(s.cred.Uid)
	}
	return os.Geteuid()
}

// sysProcAttr runs a child as s.cred, and asks the kernel to send the
// postmaster SIGQUIT (immediate shutdown) should the test binary die
// without stopping it (a panic, a timeout, kill -9): no server outlives
// its tests. Go sets the death signal after switching user, so the switch
// does not clear it.
func (s *Server) sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: s.cred, Pdeathsig: syscall.SIGQUIT}
}

// serverEnv is our environment without PG* variables, which would steer
// initdb and the server (PGDATA, PGPORT, ...) away from what we pass.
func serverEnv() []string {
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "PG") })
	return append(env, "LC_ALL=C")
}

// errPortTaken says another process bound the port first.
var errPortTaken = errors.New("port taken")

// freePort is a loopback TCP port nothing listened on a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	return port, l.Close()
}

// launch starts the postmaster on s.port and waits until it accepts
// connections.
func (s *Server) launch() error {
	logf, err := os.OpenFile(s.logPath(), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	defer func() { _ = logf.Close() }() // the child holds its own descriptor
	//nolint:gosec // G204: the binary is the installed PostgreSQL's server
	cmd := exec.Command(filepath.Join(s.bin, "postgres"),
		"-D", s.dataDir(),
		"-p", strconv.Itoa(s.port),
		"-k", s.dir,
		"-c", "listen_addresses=127.0.0.1",
		// Speed over durability: the cluster is thrown away.
		"-c", "fsync=off",
		"-c", "synchronous_commit=off",
		"-c", "full_page_writes=off",
		"-c", "TimeZone=UTC",
		// Tests of pools and of two instances on one database open many.
		"-c", "max_connections=200",
	)
	cmd.Dir = s.dir
	cmd.Env = serverEnv()
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = s.sysProcAttr()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()

	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	for {
		select {
		case <-exited:
			log, _ := os.ReadFile(s.logPath())
			if bytes.Contains(log, []byte("could not bind")) || bytes.Contains(log, []byte("already in use")) {
				return errPortTaken
			}
			return fmt.Errorf("postgres (as uid %d) exited at start:\n%s", s.uid(), tail(log))
		case <-ctx.Done():
			_ = cmd.Process.Kill()
			<-exited
			log, _ := os.ReadFile(s.logPath())
			return fmt.Errorf("postgres did not accept connections within %v:\n%s", startTimeout, tail(log))
		case <-time.After(20 * time.Millisecond):
		}
		if err := s.ping(ctx); err == nil {
			break
		}
	}
	s.mu.Lock()
	s.cmd, s.exited = cmd, exited
	s.mu.Unlock()
	return nil
}

// ping connects to the postgres database once.
func (s *Server) ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.DSN("postgres"))
	if err != nil {
		return err
	}
	return conn.Close(ctx)
}

// tail is the last lines of a log, enough to say why a start failed.
func tail(b []byte) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 20 {
		lines = lines[len(lines)-20:]
	}
	return strings.Join(lines, "\n")
}

// Port is the loopback TCP port the server listens on; its socket's name
// ends in it too.
func (s *Server) Port() int { return s.port }

// SocketDir is the directory holding the server's unix socket.
func (s *Server) SocketDir() string { return s.dir }

// DSN is a connection URL for database name over the unix socket, the
// fastest way in.
func (s *Server) DSN(name string) string {
	q := url.Values{"host": {s.dir}, "port": {strconv.Itoa(s.port)}, "sslmode": {"disable"}}
	return (&url.URL{Scheme: "postgres", User: url.User(superuser), Path: "/" + name, RawQuery: q.Encode()}).String()
}

// TCPDSN is a connection URL for database name over loopback TCP, the way
// a remote server is reached.
func (s *Server) TCPDSN(name string) string {
	u := url.URL{Scheme: "postgres", User: url.User(superuser), Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)), Path: "/" + name, RawQuery: "sslmode=disable"}
	return u.String()
}

// unsafeName matches what a database name built from a test's name may not
// hold.
var unsafeName = regexp.MustCompile(`[^a-z0-9_]+`)

// NewDatabase creates an empty database for t on s and returns its DSN
// (see DSN). It is dropped when t ends, whatever connections are left.
func (s *Server) NewDatabase(t testing.TB) string {
	t.Helper()
	// Numbered so that names never collide; the test's name (shortened:
	// names hold at most 63 bytes) tells whose a leftover one was.
	name := fmt.Sprintf("t%d_%s", s.seq.Add(1), unsafeName.ReplaceAllString(strings.ToLower(t.Name()), "_"))
	if len(name) > 63 {
		name = name[:63]
	}
	ctx := context.Background()
	if err := s.admin(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("pgtest: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		// FORCE ends the connections a test left open.
		if err := s.admin(ctx, "DROP DATABASE "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	return s.DSN(name)
}

// admin runs one statement in the postgres database.
func (s *Server) admin(ctx context.Context, sql string) error {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.DSN("postgres"))
	if err != nil {
		return err
	}
	_, err = conn.Exec(ctx, sql)
	return errors.Join(err, conn.Close(ctx))
}

// Stop shuts the server down (a fast shutdown: open connections are
// ended) and waits for it to exit; its data stays for Restart. Stopping a
// stopped server does nothing.
func (s *Server) Stop() error {
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.cmd, s.exited = nil, nil
	s.mu.Unlock()
	if cmd == nil {
		return nil
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("stop postgres: %w", err)
	}
	select {
	case <-exited:
		return nil
	case <-time.After(stopTimeout):
		_ = cmd.Process.Kill()
		<-exited
		return fmt.Errorf("stop postgres: no exit within %v of a fast shutdown: killed", stopTimeout)
	}
}

// Restart starts a stopped server again, on the same port and data: what
// a database restart looks like to its clients.
func (s *Server) Restart() error {
	s.mu.Lock()
	running := s.cmd != nil
	s.mu.Unlock()
	if running {
		return errors.New("restart postgres: still running: Stop it first")
	}
	return s.launch()
}

// close stops the server and removes its directory.
func (s *Server) close() error {
	return errors.Join(s.Stop(), os.RemoveAll(s.dir))
}

// shared is the test binary's server for NewDatabase, started on first
// use and stopped by Main.
var shared struct {
	mu      sync.Mutex
	inMain  bool
	started bool
	srv     *Server
	err     error
}

// Runner runs a package's tests: its *testing.M, or a wrapper that runs
// them more than once (package store runs its suite on each backend).
type Runner interface{ Run() int }

// Skipped reports why tests needing a server would skip: the one-line
// reason when the binaries are missing and not required, "" when tests
// run (or, required and missing, fail).
func Skipped() string {
	if _, err := findBin(); err != nil && os.Getenv(RequireEnv) == "" {
		return skipMessage
	}
	return ""
}

// Twice is a Runner of m's tests on both of the store's backends: once as
// they are (SQLite), then, when a server is there (always under
// TEST_POSTGRES=require), again with *onPostgres set, for the packages
// whose tests open their database through a helper that looks at it. pkg
// names the package in the line saying which pass runs.
func Twice(m *testing.M, pkg string, onPostgres *bool) Runner {
	return twice{m, pkg, onPostgres}
}

type twice struct {
	m          *testing.M
	pkg        string
	onPostgres *bool
}

func (b twice) Run() int {
	if code := b.m.Run(); code != 0 {
		return code
	}
	if why := Skipped(); why != "" {
		fmt.Fprintf(os.Stderr, "%s: the suite ran on SQLite only: %s\n", b.pkg, why)
		return 0
	}
	fmt.Fprintf(os.Stderr, "%s: the same suite on PostgreSQL\n", b.pkg)
	*b.onPostgres = true
	return b.m.Run()
}

// Main runs the tests of m and then stops the shared server, if a test
// started it. Call it from TestMain in every package that calls
// NewDatabase:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
func Main(m Runner) int {
	shared.mu.Lock()
	shared.inMain = true
	shared.mu.Unlock()
	code := m.Run()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.srv != nil {
		if err := shared.srv.close(); err != nil {
			fmt.Fprintf(os.Stderr, "pgtest: %v\n", err)
			if code == 0 {
				code = 1
			}
		}
		shared.srv = nil
	}
	return code
}

// NewDatabase creates an empty database for t on the test binary's shared
// server (started by the first call) and returns its DSN; it is dropped
// when t ends. It skips t (or fails it under TEST_POSTGRES=require)
// without the binaries. The package's TestMain must call Main.
func NewDatabase(t testing.TB) string {
	t.Helper()
	shared.mu.Lock()
	if !shared.inMain {
		shared.mu.Unlock()
		t.Fatal("pgtest.NewDatabase: the package's TestMain must run the tests through pgtest.Main, which stops the shared server")
	}
	if !shared.started {
		shared.started = true
		shared.srv, shared.err = start()
	}
	srv, err := shared.srv, shared.err
	shared.mu.Unlock()
	if err != nil {
		unavailable(t, err)
	}
	return srv.NewDatabase(t)
}
