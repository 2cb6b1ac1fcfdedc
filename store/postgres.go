package store

// PostgreSQL: the same store over pgx's database/sql driver. The store's
// SQL is written once, in the dialect both databases share; the driver
// wrapper below rewrites the two things PostgreSQL spells otherwise
// (placeholders and SQLite's INDEXED BY hints), so that every query, the
// prepared hot statements and the read cache included, runs unchanged.

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/autoreplyd/autoreplyd/internal/dburl"
	"github.com/autoreplyd/autoreplyd/store/pgschema"
)

// IsPostgres reports whether database (the config's `database` value)
// names a PostgreSQL database rather than an SQLite file.
func IsPostgres(database string) bool { return dburl.IsPostgres(database) }

// pgWriteLock is the key of the advisory lock every write transaction
// takes at BEGIN: PostgreSQL's counterpart of SQLite's BEGIN IMMEDIATE.
// Writers across every instance on the database run one after the other,
// so a read-then-write (a daily cap counted, then a claim) behaves exactly
// as on SQLite; reads never wait for it.
const pgWriteLock = 0x6172642d77726974 // "ard-writ"

// pgMaxConns bounds the pool: writers queue on the lock anyway; readers
// (the console, history while the daemon runs) get connections of their
// own.
const pgMaxConns = 8

// PGOptions are what a PostgreSQL connection needs beyond its URL.
type PGOptions struct {
	// Password is the config's database_password (from
	// database_password_file); "" leaves it to the URL's passfile, or
	// none.
	Password string
}

var pgOptions struct {
	mu sync.Mutex
	o  PGOptions
}

// SetPGOptions sets the options every later Open and OpenReadOnly of a
// PostgreSQL URL uses (the daemon and the commands set them from the
// config once, before opening).
func SetPGOptions(o PGOptions) {
	pgOptions.mu.Lock()
	pgOptions.o = o
	pgOptions.mu.Unlock()
}

// pgConfig parses dsn into pgx's connection settings, with the password
// from the options' file.
func pgConfig(dsn string, readOnly bool) (*pgx.ConnConfig, error) {
	if err := dburl.Check(dsn); err != nil {
		return nil, err
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// The URL holds no password (refused above); pgx's message may
		// quote it.
		return nil, fmt.Errorf("read the PostgreSQL URL: %w", err)
	}
	pgOptions.mu.Lock()
	o := pgOptions.o
	pgOptions.mu.Unlock()
	if o.Password != "" {
		cfg.Password = o.Password
	}
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	cfg.RuntimeParams["application_name"] = "autoreplyd"
	// Times are text in the store; the zone only matters to an analyst's
	// casts, which then read UTC.
	cfg.RuntimeParams["timezone"] = "UTC"
	if readOnly {
		cfg.RuntimeParams["default_transaction_read_only"] = "on"
	}
	return cfg, nil
}

// openPostgres opens the database at dsn (a postgres:// URL) for writing,
// migrating it, or for reading only.
func openPostgres(ctx context.Context, dsn string, readOnly bool) (*Store, error) {
	shown := dburl.Display(dsn)
	cfg, err := pgConfig(dsn, readOnly)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", shown, err)
	}
	db := sql.OpenDB(pgConnector{stdlib.GetConnector(*cfg)})
	db.SetMaxOpenConns(pgMaxConns)
	db.SetMaxIdleConns(pgMaxConns)
	s := &Store{db: db, q: db, path: shown, readOnly: readOnly, pg: true, cache: &stmtCache{}}
	if readOnly {
		v, err := pgVersion(ctx, db)
		if err != nil {
			return nil, errors.Join(fmt.Errorf("open database %s: %w", shown, err), db.Close())
		}
		if err := versionError(shown, v, true); err != nil {
			return nil, errors.Join(err, db.Close())
		}
		return s, nil
	}
	s.labels = &labelSet{}
	before, err := pgVersion(ctx, db)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("open database %s: %w", shown, err), db.Close())
	}
	if err := versionError(shown, before, false); err != nil {
		return nil, errors.Join(err, db.Close())
	}
	if err := pgMigrate(ctx, db); err != nil {
		return nil, errors.Join(fmt.Errorf("open database %s: %w", shown, err), db.Close())
	}
	s.created = before == 0
	if s.stmts, err = prepare(ctx, db); err != nil {
		return nil, errors.Join(fmt.Errorf("open database %s: %w", shown, err), db.Close())
	}
	return s, nil
}

// versionError refuses a schema this code cannot use: newer always, older
// for a reader (only the daemon migrates).
func versionError(shown string, v int, reader bool) error {
	switch {
	case v > SchemaVersion:
		return fmt.Errorf("database %s has schema version %d, newer than the %d this autoreplyd knows: upgrade autoreplyd", shown, v, SchemaVersion)
	case reader && v < SchemaVersion:
		return fmt.Errorf("database %s has schema version %d, this autoreplyd needs %d: run the daemon once to migrate it", shown, v, SchemaVersion)
	}
	return nil
}

// pgVersion is the schema version of the database (0: never migrated).
func pgVersion(ctx context.Context, db *sql.DB) (v int, err error) {
	err = withPgx(ctx, db, func(c *pgx.Conn) error {
		v, err = pgschema.Version(ctx, c)
		return err
	})
	return v, err
}

// pgMigrate runs pgschema's migrations on one of the pool's connections.
func pgMigrate(ctx context.Context, db *sql.DB) error {
	return withPgx(ctx, db, func(c *pgx.Conn) error { return pgschema.Migrate(ctx, c) })
}

// withPgx runs fn with the pgx connection under one of db's.
func withPgx(ctx context.Context, db *sql.DB, fn func(*pgx.Conn) error) (err error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, conn.Close()) }()
	return conn.Raw(func(dc any) error {
		c, ok := dc.(*pgConn)
		if !ok {
			return fmt.Errorf("unexpected driver connection %T", dc)
		}
		return fn(c.Conn.Conn())
	})
}

// dialect is sqlite's query, or pg's on PostgreSQL: for the few queries
// the two spell too differently for pgSQL's rewriting (JSON functions).
func (s *Store) dialect(sqlite, pg string) string {
	if s.pg {
		return pg
	}
	return sqlite
}

// schemaVersion is the database's schema version as recorded in it.
func (s *Store) schemaVersion(ctx context.Context) (int, error) {
	if s.pg {
		return pgVersion(ctx, s.db)
	}
	return userVersion(ctx, s.db)
}

// pgConnector hands out pgConns.
type pgConnector struct{ driver.Connector }

func (c pgConnector) Connect(ctx context.Context) (driver.Conn, error) {
	dc, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	sc, ok := dc.(*stdlib.Conn)
	if !ok {
		_ = dc.Close()
		return nil, fmt.Errorf("unexpected driver connection %T", dc)
	}
	return &pgConn{sc}, nil
}

// pgConn is pgx's database/sql connection with the store's SQL rewritten
// on the way in, and the write lock taken by every transaction. Every
// other method (Ping, ResetSession, CheckNamedValue...) is pgx's own.
type pgConn struct{ *stdlib.Conn }

func (c *pgConn) Prepare(query string) (driver.Stmt, error) {
	return c.Conn.PrepareContext(context.Background(), pgSQL(query))
}

func (c *pgConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.Conn.PrepareContext(ctx, pgSQL(query))
}

func (c *pgConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	return c.Conn.ExecContext(ctx, pgSQL(query), args)
}

func (c *pgConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	return c.Conn.QueryContext(ctx, pgSQL(query), args)
}

func (c *pgConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *pgConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	tx, err := c.Conn.BeginTx(ctx, opts)
	if err != nil || opts.ReadOnly {
		return tx, err
	}
	if _, err := c.Conn.Conn().Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(pgWriteLock)); err != nil {
		return nil, errors.Join(err, tx.Rollback())
	}
	return tx, nil
}

// CheckNamedValue turns Go bools into 0 and 1, as SQLite's driver does:
// the schema's flags are integers in both databases. Everything else goes
// to pgx as it is.
func (c *pgConn) CheckNamedValue(nv *driver.NamedValue) error {
	if b, ok := nv.Value.(bool); ok {
		nv.Value = int64(0)
		if b {
			nv.Value = int64(1)
		}
	}
	return nil
}

// pgSQLCache holds each query's PostgreSQL text: the store runs a few
// hundred distinct queries, each many times.
var pgSQLCache sync.Map

// pgSQLCached counts the texts stored in pgSQLCache, at most pgSQLCacheMax.
var pgSQLCached atomic.Int64

const pgSQLCacheMax = 4096

// pgSQL is query in PostgreSQL's spelling (see rebind).
func pgSQL(query string) string {
	if v, ok := pgSQLCache.Load(query); ok {
		return v.(string)
	}
	out := rebind(crossJoin.ReplaceAllString(indexedBy.ReplaceAllString(query, ""), "JOIN"))
	// Bounded: queries with IN lists come in as many texts as list
	// lengths; past the bound a text is rewritten each time, not kept.
	if pgSQLCached.Add(1) <= pgSQLCacheMax {
		pgSQLCache.Store(query, out)
	}
	return out
}

// indexedBy matches SQLite's index hint, which PostgreSQL's planner has no
// use for (nor syntax).
var indexedBy = regexp.MustCompile(`(?i)\s+INDEXED\s+BY\s+[A-Za-z_][A-Za-z0-9_]*`)

// crossJoin matches SQLite's CROSS JOIN, which the store writes only with
// an ON clause, as SQLite's hint to keep the left table the outer loop:
// PostgreSQL takes no ON after CROSS JOIN, and an inner JOIN means the same.
var crossJoin = regexp.MustCompile(`\bCROSS\s+JOIN\b`)

// rebind turns SQLite's placeholders into PostgreSQL's: ?N becomes $N and
// a bare ? the next number after the largest seen so far, as SQLite
// numbers them. Question marks inside string literals, quoted identifiers
// and comments are left alone.
func rebind(query string) string {
	var b strings.Builder
	b.Grow(len(query) + 8)
	n := 0
	for i := 0; i < len(query); i++ {
		ch := query[i]
		switch ch {
		case '\'', '"':
			j := i + 1
			for j < len(query) {
				if query[j] == ch {
					if j+1 < len(query) && query[j+1] == ch { // doubled quote
						j += 2
						continue
					}
					break
				}
				j++
			}
			end := min(j+1, len(query))
			b.WriteString(query[i:end])
			i = end - 1
		case '-':
			if i+1 < len(query) && query[i+1] == '-' {
				j := strings.IndexByte(query[i:], '\n')
				if j < 0 {
					j = len(query) - i
				}
				b.WriteString(query[i : i+j])
				i += j - 1
				continue
			}
			b.WriteByte(ch)
		case '?':
			j := i + 1
			for j < len(query) && query[j] >= '0' && query[j] <= '9' {
				j++
			}
			if j > i+1 {
				k, _ := strconv.Atoi(query[i+1 : j])
				n = max(n, k)
				b.WriteString("$" + query[i+1:j])
				i = j - 1
				continue
			}
			n++
			b.WriteString("$" + strconv.Itoa(n))
		default:
			b.WriteByte(ch)
		}
	}
	return b.String()
}

// Ping reports whether the database answers. On PostgreSQL it asks the
// server (the daemon asks before each cycle, so that a database down is
// one skipped cycle, not an error for every thread); an SQLite file is
// always there to ask, its troubles showing at the writes themselves.
func (s *Store) Ping(ctx context.Context) error {
	if !s.pg {
		return nil
	}
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("database %s: %w", s.path, err)
	}
	return nil
}
