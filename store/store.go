// Package store owns autoreplyd's database (SQLite, or PostgreSQL for
// several instances on one ledger; see postgres.go): its schema and
// migrations, the claims that guarantee at most one answer per comment and
// rule, per-thread poll state, pauses of sources and responders, and the
// history queries analysts and the history command run.
//
// One process writes (the daemon, through Open); any number read at the same
// time (history, check, through OpenReadOnly), which WAL mode allows.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/autoreplyd/autoreplyd/internal/redact"
)

// TimeLayout is how every timestamp is stored: UTC with milliseconds. It
// sorts as text and sqlite's datetime() understands it.
const TimeLayout = "2006-01-02T15:04:05.000Z"

// busyTimeoutMS is how long a connection waits for another's lock before
// failing: long enough to ride out the daemon's short write transactions.
const busyTimeoutMS = 5000

// writerParams configure the daemon's connection. mode=rw: SQLite never
// creates the file (Open does, once; see there). busy_timeout is applied
// first by the driver; _txlock=immediate makes every transaction take the
// write lock at BEGIN, so a read-then-write never fails with SQLITE_BUSY
// half-way under contention.
const writerParams = "mode=rw&_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)&_txlock=immediate"

// newFileMode is the mode a new database file is created with (less the
// umask), as SQLite itself would; its -wal and -shm files take the same.
const newFileMode = 0o644

// readerParams configure a read-only connection: it never creates the file,
// never migrates, and reads alongside a writer thanks to WAL.
const readerParams = "mode=ro&_pragma=busy_timeout(5000)"

// ErrReadOnly is returned by write methods of a store opened with
// OpenReadOnly.
var ErrReadOnly = errors.New("store is read-only")

// ErrNotPending is returned (wrapped) by Settle when the claim is not pending.
var ErrNotPending = errors.New("claim is not pending")

// ErrNoClaim is returned (wrapped) when a claim id does not exist.
var ErrNoClaim = errors.New("no such claim")

// Store is an open autoreplyd database. Its methods are safe for concurrent
// use.
type Store struct {
	db       *sql.DB
	path     string // the SQLite file, or the PostgreSQL URL as shown
	readOnly bool
	// pg says the database is PostgreSQL (see postgres.go).
	pg bool

	// q runs the queries: db, or the transaction of a Batch.
	q querier
	// tx is the transaction of a Batch (nil outside one).
	tx *sql.Tx
	// stmts are the hot statements, prepared once by Open (nil when read-only).
	stmts *statements
	// redact scrubs the configured secrets from the free text written (nil:
	// nothing to scrub); see SetRedactor.
	redact *redact.Redactor
	// instance is the daemon's name, written on the claims it makes and
	// the sends and drafts it starts; see SetInstance.
	instance string
	// ident is the file the writer opened, to notice its loss (nil when
	// read-only); created says Open created it.
	ident   *identity
	created bool
	// labels are the configured labels of the watched threads, written
	// with their poll states (nil when read-only; shared by batches).
	labels *labelSet
	// cache holds the read statements prepared on first use (the console's
	// pages run the same few queries many times; preparing one costs about
	// as much as running it). Shared by batches; closed by Close.
	cache *stmtCache
	// leasesRead, when set (by tests), runs in AcquireLeases's
	// transaction between its read of the leases and its take.
	leasesRead func(ctx context.Context, tx *sql.Tx) error
}

// SetRedactor makes the store scrub r's secrets from every free-text column
// it writes from then on: errors and reasons (a platform may echo another
// platform's credential in its message), pause reasons, comment texts and
// names. Call it right after Open, before the store is shared.
func (s *Store) SetRedactor(r *redact.Redactor) { s.redact = r }

// scrub is s with the configured secrets replaced.
func (s *Store) scrub(x string) string { return s.redact.String(x) }

// Open opens (creating if needed) the database at path for writing and
// migrates it to SchemaVersion. Only the daemon should call it.
//
// path may also be a PostgreSQL URL (postgres://...; see IsPostgres).
func Open(ctx context.Context, path string) (*Store, error) {
	if IsPostgres(path) {
		return openPostgres(ctx, path, false)
	}
	// The directory is created if missing (systemd's StateDirectory does it
	// too); the database file below.
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	if err := checkRegular(path); err != nil {
		return nil, err
	}
	// The file is created here, empty (SQLite takes an empty file for an
	// empty database), and SQLite opens it with mode=rw: a connection opened
	// later, after the file was deleted under the running daemon, fails
	// instead of silently creating a fresh database that would take every
	// comment for new.
	created := false
	if f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, newFileMode); err == nil {
		created = true
		if err := f.Close(); err != nil {
			return nil, fmt.Errorf("open database %s: %w", path, err)
		}
	} else if !errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	dsn, err := buildDSN(path, writerParams)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	// One connection: SQLite has one writer anyway, and a single connection
	// makes the pool serialise our writers instead of SQLITE_BUSY doing it.
	db.SetMaxOpenConns(1)
	s := &Store{db: db, q: db, path: path, created: created, labels: &labelSet{}, cache: &stmtCache{}}
	if err := s.migrate(ctx); err != nil {
		return nil, errors.Join(err, db.Close())
	}
	if s.ident, err = newIdentity(path); err != nil {
		return nil, errors.Join(fmt.Errorf("open database %s: %w", path, err), db.Close())
	}
	if s.stmts, err = prepare(ctx, db); err != nil {
		return nil, errors.Join(fmt.Errorf("open database %s: %w", path, err), db.Close())
	}
	return s, nil
}

// OpenReadOnly opens an existing database for reading only. It works while
// the daemon has the database open. It refuses a missing file and a schema
// other than SchemaVersion.
func OpenReadOnly(ctx context.Context, path string) (*Store, error) {
	if IsPostgres(path) {
		return openPostgres(ctx, path, true)
	}
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("database %s does not exist", path)
		}
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	if err := checkRegular(path); err != nil {
		return nil, err
	}
	dsn, err := buildDSN(path, readerParams)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	s := &Store{db: db, q: db, path: path, readOnly: true, cache: &stmtCache{}}
	v, err := userVersion(ctx, db)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("open database %s: %w", path, err), db.Close())
	}
	switch {
	case v < SchemaVersion:
		return nil, errors.Join(fmt.Errorf("database %s has schema version %d, this autoreplyd needs %d: run the daemon once to migrate it", path, v, SchemaVersion), db.Close())
	case v > SchemaVersion:
		return nil, errors.Join(fmt.Errorf("database %s has schema version %d, newer than the %d this autoreplyd knows: upgrade autoreplyd", path, v, SchemaVersion), db.Close())
	}
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error {
	if s.tx != nil {
		return errors.New("close database: called inside a batch")
	}
	if err := errors.Join(s.stmts.close(), s.cache.close(), s.db.Close()); err != nil {
		return fmt.Errorf("close database %s: %w", s.path, err)
	}
	return nil
}

// Created reports whether Open created the database file (on PostgreSQL:
// found the database empty and created the schema): an empty database,
// which takes every thread for one never seen.
func (s *Store) Created() bool { return s.created }

// Path is the database file the store was opened on (a PostgreSQL URL
// without its password).
func (s *Store) Path() string { return s.path }

// buildDSN turns a file path into an SQLite URI: the path is made absolute and
// percent-escaped so that '?', '#', '%' or spaces in it cannot be taken for
// URI syntax (the driver also splits the DSN at the first '?').
func buildDSN(path, params string) (string, error) {
	if path == "" {
		return "", errors.New("empty database path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	p := filepath.ToSlash(abs)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // Windows drive letters: file:///C:/...
	}
	u := url.URL{Path: p}
	return "file://" + u.EscapedPath() + "?" + params, nil
}

func userVersion(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) (int, error) {
	var v int
	if err := q.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return v, nil
}

// migrate applies the missing migrations in one immediate transaction, so a
// failure leaves the database as it was and two daemons starting at once
// cannot both migrate.
func (s *Store) migrate(ctx context.Context) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("open database %s: %w", s.path, err)
	}
	defer tx.Rollback()
	v, err := userVersion(ctx, tx)
	if err != nil {
		return fmt.Errorf("open database %s: %w", s.path, err)
	}
	if v > SchemaVersion {
		return fmt.Errorf("database %s has schema version %d, newer than the %d this autoreplyd knows: upgrade autoreplyd", s.path, v, SchemaVersion)
	}
	if v == SchemaVersion {
		return nil
	}
	for i := v; i < SchemaVersion; i++ {
		if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
			return fmt.Errorf("migrate database %s to schema version %d: %w", s.path, i+1, err)
		}
	}
	// PRAGMA takes no bound parameters; SchemaVersion is a constant.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", SchemaVersion)); err != nil {
		return fmt.Errorf("migrate database %s: set schema version: %w", s.path, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate database %s: commit: %w", s.path, err)
	}
	return nil
}

// writable returns ErrReadOnly, wrapped with op, on a read-only store.
func (s *Store) writable(op string) error {
	if s.readOnly {
		return fmt.Errorf("%s: database %s: %w", op, s.path, ErrReadOnly)
	}
	return nil
}
