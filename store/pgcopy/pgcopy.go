// Package pgcopy copies an autoreplyd history from its SQLite database into
// a PostgreSQL database (schema store/pgschema), so that an operator can
// move to PostgreSQL without losing a claim: every table, ids and times
// exact, in batches that each commit on their own, resumable after an
// interruption, verified by counts at the end.
//
// The SQLite database is only read (mode=ro, one read transaction for the
// whole run, so that the copy and the counts it is checked against see the
// same snapshot). It must be at store.SchemaVersion: an older one is
// migrated first by whoever calls Copy (the daemon, or store.Open), a newer
// one is refused. The target is migrated to the same version with
// pgschema.Migrate.
//
// Each table is copied in the order of its key: comments by SQLite's rowid
// (kept in PostgreSQL's comments.rowid), the others by their primary key,
// integer or text (PostgreSQL's text is COLLATE "C", bytewise, so both
// databases order text keys alike). A batch is read after the highest key
// the target already holds, so a run stopped anywhere (even by kill -9,
// which loses at most the batch being written) is resumed by running it
// again, and nothing is copied twice. meta, which the copy itself writes
// to, is copied whole each run (an upsert of a few rows).
//
// A target is accepted when it is empty or holds a copy of this very source:
// the copy records the source's fingerprint (see fingerprint) under the meta
// key MetaMigratedFrom before copying anything.
package pgcopy

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/autoreplyd/autoreplyd/store"
	"github.com/autoreplyd/autoreplyd/store/pgschema"
)

// DefaultBatch is how many rows a batch copies when Options.Batch is 0: big
// enough that a commit per batch costs little next to the rows (see
// BENCHMARKS.md, "Moving a history to PostgreSQL"), small enough that an
// interruption loses a fraction of a second of work.
const DefaultBatch = 10000

// MetaMigratedFrom is the meta key under which the target records the
// fingerprint of the SQLite database it is a copy of.
const MetaMigratedFrom = "migrated_from"

// AliveWindow is how recent an instance's heartbeat must be for the copy to
// take its daemon for running. A live daemon writes its heartbeat every
// quarter of its lease TTL (twice the schedule period): within ten minutes
// for any schedule of up to twenty minutes. A daemon stopped cleanly dates
// its heartbeat back to 1970; one killed looks alive until its heartbeat
// is that old.
const AliveWindow = 10 * time.Minute

// skipped are the tables of runtime state, which mean nothing in another
// database: whoever holds a lease, which daemons are running.
var skipped = []string{"leases", "instances"}

// copyLock is the key of the session advisory lock a copy holds on the
// target for its whole run, so that two copies into one database do not
// interleave their batches (each would resume after the other's keys).
const copyLock = 0x6175746f636f7079 // "autocopy"

// ErrSourceBehind is returned (wrapped) for a source whose schema is older
// than store.SchemaVersion: it must be migrated first.
var ErrSourceBehind = errors.New("the source database must be migrated first")

// ErrMismatch is returned (wrapped) by Copy when the target's counts or
// highest ids differ from the source's after the copy.
var ErrMismatch = errors.New("the copy does not match the source")

// Options configure a copy.
type Options struct {
	// Source is the SQLite database file.
	Source string
	// Target is the PostgreSQL connection (see ParseTarget).
	Target *pgx.ConnConfig
	// Batch is how many rows one transaction copies (0: DefaultBatch).
	Batch int
	// Now is the clock that judges a daemon's heartbeat (nil: time.Now).
	Now func() time.Time
	// Progress, when set, is told how many rows of table this run copied
	// so far: when the table's copy starts (0), after each committed batch,
	// and once more with done when the table is complete.
	Progress func(table string, copied int64, done bool)

	// afterBatch, set by tests, runs after each committed batch; an error
	// stops the copy there, as an interruption would.
	afterBatch func(table string) error
}

// Table is what the copy did to one table and what the check found.
type Table struct {
	Name   string
	Copied int64 // rows this run wrote
	Source int64 // rows in the source
	Target int64 // rows in the target after the copy (meta: without MetaMigratedFrom)
	// IDColumn names the integer key of a table keyed by one (replies.id,
	// comments' rowid, ...), whose highest value is checked too; "" for
	// tables with text keys.
	IDColumn             string
	SourceMax, TargetMax int64
}

// OK reports whether the target holds as many rows as the source, and the
// same highest id.
func (t Table) OK() bool {
	return t.Source == t.Target && t.SourceMax == t.TargetMax
}

// Report is the outcome of a copy.
type Report struct {
	SchemaVersion int
	// Fingerprint identifies the source (recorded in the target's meta).
	Fingerprint string
	// Tables are in the order they were copied (referenced tables first).
	Tables []Table
}

// Mismatched names the tables whose check failed.
func (r Report) Mismatched() []string {
	var out []string
	for _, t := range r.Tables {
		if !t.OK() {
			out = append(out, t.Name)
		}
	}
	return out
}

// table is a table to copy, as both databases describe it.
type table struct {
	name string
	// cols are the columns copied, in the source's order; a column named
	// rowid not declared in SQLite is its implicit rowid.
	cols []string
	// key is the ordering key: the columns of the primary key, or rowid.
	key []string
	// intKey says key is one integer column (checked by its maximum).
	intKey bool
	// whole says the table is copied whole with an upsert each run (meta).
	whole bool
}

// Copy copies the SQLite database opts.Source into opts.Target and checks
// the copy. A check that fails returns the report with an error wrapping
// ErrMismatch; the report is meaningful whenever its Tables are set.
func Copy(ctx context.Context, opts Options) (Report, error) {
	if opts.Batch <= 0 {
		opts.Batch = DefaultBatch
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Target == nil {
		return Report{}, errors.New("copy: no target")
	}
	if len(pgschema.Migrations) != store.SchemaVersion {
		// Both lists grow together; a build where they differ cannot copy.
		return Report{}, fmt.Errorf("copy: this autoreplyd's SQLite schema is version %d but its PostgreSQL schema %d", store.SchemaVersion, len(pgschema.Migrations))
	}
	src, err := openSource(ctx, opts.Source)
	if err != nil {
		return Report{}, err
	}
	defer func() { _ = src.Close() }() // only read: a failing close loses nothing
	// One read transaction: the batches, the fingerprint and the counts all
	// see one snapshot, even if something writes the file meanwhile.
	stx, err := src.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return Report{}, fmt.Errorf("source %s: %w", opts.Source, err)
	}
	defer func() { _ = stx.Rollback() }() // read-only: nothing to keep

	dst, err := pgx.ConnectConfig(ctx, opts.Target)
	if err != nil {
		return Report{}, fmt.Errorf("connect to the target: %w", err)
	}
	defer func() { _ = dst.Close(context.WithoutCancel(ctx)) }()

	c := &copier{opts: opts, src: stx, dst: dst}
	return c.run(ctx)
}

// openSource opens the SQLite file read-only and checks its schema version.
func openSource(ctx context.Context, path string) (*sql.DB, error) {
	fi, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("source %s does not exist", path)
		}
		return nil, fmt.Errorf("source %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("source %s is not a regular file", path)
	}
	dsn, err := sourceDSN(path)
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", path, err)
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	var v int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return nil, errors.Join(fmt.Errorf("source %s: read schema version: %w", path, err), db.Close())
	}
	switch {
	case v < store.SchemaVersion:
		return nil, errors.Join(fmt.Errorf("source %s has schema version %d, this autoreplyd copies version %d: %w", path, v, store.SchemaVersion, ErrSourceBehind), db.Close())
	case v > store.SchemaVersion:
		return nil, errors.Join(fmt.Errorf("source %s has schema version %d, newer than the %d this autoreplyd knows: copy it with the autoreplyd that wrote it", path, v, store.SchemaVersion), db.Close())
	}
	return db, nil
}

// sourceDSN is the read-only SQLite URI of path, escaped so that '?', '#'
// or '%' in the path cannot be taken for URI syntax. query_only refuses any
// write even should mode=ro be lost.
func sourceDSN(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	u := url.URL{Path: filepath.ToSlash(abs)}
	return "file://" + u.EscapedPath() + "?mode=ro&_pragma=busy_timeout(5000)&_pragma=query_only(1)", nil
}

// copier is one run of Copy.
type copier struct {
	opts Options
	src  *sql.Tx
	dst  *pgx.Conn
}

func (c *copier) run(ctx context.Context) (Report, error) {
	rep := Report{SchemaVersion: store.SchemaVersion}
	if err := pgschema.Migrate(ctx, c.dst); err != nil {
		return rep, fmt.Errorf("target: %w", err)
	}
	var locked bool
	if err := c.dst.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, int64(copyLock)).Scan(&locked); err != nil {
		return rep, fmt.Errorf("target: lock: %w", err)
	}
	if !locked {
		return rep, errors.New("target: another copy into this database is running")
	}
	// The session lock ends with the connection; unlocked here for a
	// connection that would outlive us.
	defer func() {
		_, _ = c.dst.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, int64(copyLock))
	}()

	if err := c.refuseLiveDaemon(ctx); err != nil {
		return rep, err
	}
	tables, err := c.tables(ctx)
	if err != nil {
		return rep, err
	}
	if rep.Fingerprint, err = c.fingerprint(ctx); err != nil {
		return rep, err
	}
	if err := c.claimTarget(ctx, tables, rep.Fingerprint); err != nil {
		return rep, err
	}
	// The batches commit without waiting for their WAL to reach the disk:
	// should the server crash, it loses the newest batches only, in commit
	// order, and the next run copies them again after the highest key that
	// survived. The commit in durable below waits for all of them before
	// anything is checked.
	if _, err := c.dst.Exec(ctx, `SET synchronous_commit = off`); err != nil {
		return rep, fmt.Errorf("target: %w", err)
	}
	for _, t := range tables {
		n, err := c.copyTable(ctx, t)
		rep.Tables = append(rep.Tables, Table{Name: t.name, Copied: n})
		if err != nil {
			return rep, err
		}
	}
	if err := c.durable(ctx, rep.Fingerprint); err != nil {
		return rep, err
	}
	// The identities continue after the copied ids, so that the daemon's
	// next claim on PostgreSQL does not take an id the copy used.
	if err := c.setIdentities(ctx); err != nil {
		return rep, err
	}
	for i, t := range tables {
		if err := c.check(ctx, t, &rep.Tables[i]); err != nil {
			return rep, err
		}
	}
	if bad := rep.Mismatched(); len(bad) > 0 {
		return rep, fmt.Errorf("%w: %s", ErrMismatch, strings.Join(bad, ", "))
	}
	return rep, nil
}

// durable makes every batch committed so far durable: a commit with
// synchronous_commit on returns once the WAL is on disk up to its own
// record, which comes after every earlier commit's.
func (c *copier) durable(ctx context.Context, fp string) error {
	if _, err := c.dst.Exec(ctx, `SET synchronous_commit = on`); err != nil {
		return fmt.Errorf("target: %w", err)
	}
	// A write, so that the commit has a record to wait for.
	if _, err := c.dst.Exec(ctx, `UPDATE meta SET value = $2 WHERE key = $1`, MetaMigratedFrom, fp); err != nil {
		return fmt.Errorf("target: flush the copy: %w", err)
	}
	return nil
}

// refuseLiveDaemon refuses a target a daemon is running on: the copy would
// race its writes, and its claims would stand between the copied ones. Only
// a database with the instances table (schema 10) can tell.
func (c *copier) refuseLiveDaemon(ctx context.Context) error {
	var exists bool
	if err := c.dst.QueryRow(ctx, `SELECT to_regclass('instances') IS NOT NULL`).Scan(&exists); err != nil {
		return fmt.Errorf("target: %w", err)
	}
	if !exists {
		return nil
	}
	since := c.opts.Now().Add(-AliveWindow).UTC().Format(store.TimeLayout)
	var name, host, beat string
	err := c.dst.QueryRow(ctx,
		`SELECT name, host, heartbeat_at FROM instances WHERE heartbeat_at > $1 ORDER BY heartbeat_at DESC LIMIT 1`, since).
		Scan(&name, &host, &beat)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil
	case err != nil:
		return fmt.Errorf("target: read instances: %w", err)
	}
	return fmt.Errorf("target: a daemon is running on it (instance %q on host %q, heartbeat at %s): stop every daemon using the database first (a stopped one counts as running until its heartbeat is %v old)",
		name, host, beat, AliveWindow)
}

// tables lists the source's tables in an order where every table comes
// after those it refers to, and matches each with the target's columns.
func (c *copier) tables(ctx context.Context) ([]table, error) {
	names, err := c.srcStrings(ctx, `SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\' ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("source: list tables: %w", err)
	}
	names = slices.DeleteFunc(names, func(n string) bool { return slices.Contains(skipped, n) })
	refs := map[string][]string{}
	for _, n := range names {
		if refs[n], err = c.srcStrings(ctx, `SELECT DISTINCT "table" FROM pragma_foreign_key_list(?) ORDER BY 1`, n); err != nil {
			return nil, fmt.Errorf("source: foreign keys of %s: %w", n, err)
		}
	}
	// Kahn's order, alphabetical among equals so that runs agree.
	var order []string
	done := map[string]bool{}
	for len(order) < len(names) {
		progressed := false
		for _, n := range names {
			if done[n] || !allDone(refs[n], done, n) {
				continue
			}
			order, done[n], progressed = append(order, n), true, true
		}
		if !progressed {
			return nil, errors.New("source: the tables' foreign keys form a cycle")
		}
	}
	var out []table
	for _, n := range order {
		t, err := c.describe(ctx, n)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// allDone reports whether every table in refs (but self) is in done.
func allDone(refs []string, done map[string]bool, self string) bool {
	for _, r := range refs {
		if r != self && !done[r] {
			return false
		}
	}
	return true
}

// describe matches table n's columns in both databases.
func (c *copier) describe(ctx context.Context, n string) (table, error) {
	t := table{name: n, whole: n == "meta"}
	rows, err := c.src.QueryContext(ctx, `SELECT name, upper(type), pk FROM pragma_table_info(?) ORDER BY cid`, n)
	if err != nil {
		return t, fmt.Errorf("source: columns of %s: %w", n, err)
	}
	type pkCol struct {
		pos  int
		name string
		typ  string
	}
	var pks []pkCol
	for rows.Next() {
		var col, typ string
		var pk int
		if err := rows.Scan(&col, &typ, &pk); err != nil {
			return t, errors.Join(fmt.Errorf("source: columns of %s: %w", n, err), rows.Close())
		}
		t.cols = append(t.cols, col)
		if pk > 0 {
			pks = append(pks, pkCol{pk, col, typ})
		}
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return t, fmt.Errorf("source: columns of %s: %w", n, err)
	}
	slices.SortFunc(pks, func(a, b pkCol) int { return a.pos - b.pos })

	pgRows, err := c.dst.Query(ctx, `SELECT column_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`, n)
	if err != nil {
		return t, fmt.Errorf("target: columns of %s: %w", n, err)
	}
	pgCols, err := pgx.CollectRows(pgRows, pgx.RowTo[string])
	if err != nil {
		return t, fmt.Errorf("target: columns of %s: %w", n, err)
	}
	if len(pgCols) == 0 {
		return t, fmt.Errorf("target: no table %s", n)
	}
	// PostgreSQL's explicit rowid stands in for SQLite's implicit one.
	if slices.Contains(pgCols, "rowid") && !slices.Contains(t.cols, "rowid") {
		t.cols = append(t.cols, "rowid")
		t.key, t.intKey = []string{"rowid"}, true
	} else {
		for _, p := range pks {
			t.key = append(t.key, p.name)
		}
		t.intKey = len(pks) == 1 && pks[0].typ == "INTEGER"
	}
	if len(t.key) == 0 {
		return t, fmt.Errorf("source: table %s has no primary key to copy it in order by", n)
	}
	a, b := slices.Sorted(slices.Values(t.cols)), slices.Sorted(slices.Values(pgCols))
	if !slices.Equal(a, b) {
		return t, fmt.Errorf("table %s: the source has the columns %s, the target %s", n, strings.Join(a, ", "), strings.Join(b, ", "))
	}
	return t, nil
}

// srcStrings runs a source query returning one text column.
func (c *copier) srcStrings(ctx context.Context, query string, args ...any) ([]string, error) {
	rows, err := c.src.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, errors.Join(err, rows.Close())
		}
		out = append(out, s)
	}
	return out, errors.Join(rows.Err(), rows.Close())
}

// fingerprint identifies the source's history by its oldest rows: the first
// comment (rowid, key, when seen), the first claim (id, key, when made) and
// the first thread (key). They are written once and never rewritten, and
// differ between any two databases that ever saw a comment; a database
// that never did fingerprints the same as any other like it, which is
// harmless (there is nothing of it to mix up). Retention can delete the
// oldest rows, so a source pruned between two runs of a copy no longer
// matches its partial copy (the copy is then refused: start it over).
func (c *copier) fingerprint(ctx context.Context) (string, error) {
	h := sha256.New()
	h.Write([]byte("autoreplyd sqlite history v1"))
	for _, q := range []string{
		`SELECT rowid, platform, comment_id, seen_at FROM comments ORDER BY rowid LIMIT 1`,
		`SELECT id, platform, comment_id, rule, created_at FROM replies ORDER BY id LIMIT 1`,
		`SELECT platform, thread_id, '', '' FROM threads ORDER BY platform, thread_id LIMIT 1`,
	} {
		rows, err := c.src.QueryContext(ctx, q)
		if err != nil {
			return "", fmt.Errorf("source: fingerprint: %w", err)
		}
		cols, _ := rows.Columns()
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		found := rows.Next()
		if found {
			if err := rows.Scan(ptrs...); err != nil {
				return "", errors.Join(fmt.Errorf("source: fingerprint: %w", err), rows.Close())
			}
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return "", fmt.Errorf("source: fingerprint: %w", err)
		}
		// Each value length-prefixed: no two row lists hash alike.
		fmt.Fprintf(h, "|%t", found)
		for _, v := range vals {
			fmt.Fprintf(h, "|%d:%s", len(v.String), v.String)
		}
	}
	return "sqlite-sha256:" + hex.EncodeToString(h.Sum(nil))[:32], nil
}

// claimTarget accepts an empty target, or one that is a copy of this
// source, and records the source's fingerprint in it.
func (c *copier) claimTarget(ctx context.Context, tables []table, fp string) error {
	var recorded string
	err := c.dst.QueryRow(ctx, `SELECT value FROM meta WHERE key = $1`, MetaMigratedFrom).Scan(&recorded)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
	case err != nil:
		return fmt.Errorf("target: read meta %s: %w", MetaMigratedFrom, err)
	}
	if recorded == fp {
		return nil // a copy of this source: resume it
	}
	var nonEmpty []string
	for _, t := range tables {
		q := `SELECT EXISTS (SELECT 1 FROM ` + pgx.Identifier{t.name}.Sanitize() + `)`
		if t.whole {
			q = `SELECT EXISTS (SELECT 1 FROM meta WHERE key <> '` + MetaMigratedFrom + `')`
		}
		var has bool
		if err := c.dst.QueryRow(ctx, q).Scan(&has); err != nil {
			return fmt.Errorf("target: look into %s: %w", t.name, err)
		}
		if has {
			nonEmpty = append(nonEmpty, t.name)
		}
	}
	switch {
	case recorded != "":
		if len(nonEmpty) > 0 {
			return fmt.Errorf("target: it holds a copy of another SQLite database (%s %s, this source is %s), or of this one before old rows were deleted from it: copy into an empty database", MetaMigratedFrom, recorded, fp)
		}
	case len(nonEmpty) > 0:
		return fmt.Errorf("target: it already holds rows (in %s) that were not copied from this source: copy into an empty database", strings.Join(nonEmpty, ", "))
	}
	_, err = c.dst.Exec(ctx, `INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, MetaMigratedFrom, fp)
	if err != nil {
		return fmt.Errorf("target: record meta %s: %w", MetaMigratedFrom, err)
	}
	return nil
}

// srcList is a comma-separated list of columns, quoted for SQLite.
func srcList(cols []string) string {
	q := make([]string, len(cols))
	for i, col := range cols {
		q[i] = `"` + strings.ReplaceAll(col, `"`, `""`) + `"`
	}
	return strings.Join(q, ", ")
}

// dstList is a comma-separated list of identifiers, quoted for PostgreSQL.
func dstList(cols []string) string {
	q := make([]string, len(cols))
	for i, col := range cols {
		q[i] = pgx.Identifier{col}.Sanitize()
	}
	return strings.Join(q, ", ")
}

// copyTable copies the rows of t the target lacks, batch by batch, and
// returns how many it wrote.
func (c *copier) copyTable(ctx context.Context, t table) (int64, error) {
	var last []any // the highest key copied so far; nil: none
	if !t.whole {
		var err error
		if last, err = c.targetLastKey(ctx, t); err != nil {
			return 0, err
		}
	}
	var copied int64
	tell := func(done bool) {
		if c.opts.Progress != nil {
			c.opts.Progress(t.name, copied, done)
		}
	}
	tell(false)
	for {
		rows, err := c.readBatch(ctx, t, last)
		if err != nil {
			return copied, fmt.Errorf("source: read %s: %w", t.name, err)
		}
		if len(rows) == 0 {
			tell(true)
			return copied, nil
		}
		if err := c.writeBatch(ctx, t, rows); err != nil {
			return copied, fmt.Errorf("target: copy into %s: %w", t.name, err)
		}
		copied += int64(len(rows))
		if c.opts.afterBatch != nil {
			if err := c.opts.afterBatch(t.name); err != nil {
				return copied, err
			}
		}
		if len(rows) < c.opts.Batch {
			tell(true)
			return copied, nil
		}
		tell(false)
		// The key columns of the last row read, by their place in t.cols.
		end := rows[len(rows)-1]
		last = last[:0]
		for _, k := range t.key {
			last = append(last, end[slices.Index(t.cols, k)])
		}
	}
}

// targetLastKey is the highest key of t in the target; nil when it is
// empty. Ordered as the source orders it: integers as numbers, text
// bytewise (COLLATE "C").
func (c *copier) targetLastKey(ctx context.Context, t table) ([]any, error) {
	desc := make([]string, len(t.key))
	for i, k := range t.key {
		desc[i] = pgx.Identifier{k}.Sanitize() + " DESC"
	}
	q := `SELECT ` + dstList(t.key) + ` FROM ` + pgx.Identifier{t.name}.Sanitize() +
		` ORDER BY ` + strings.Join(desc, ", ") + ` LIMIT 1`
	vals := make([]any, len(t.key))
	ptrs := make([]any, len(t.key))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	err := c.dst.QueryRow(ctx, q).Scan(ptrs...)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("target: highest key of %s: %w", t.name, err)
	}
	return vals, nil
}

// readBatch reads up to a batch of t's rows after key last (nil: from the
// first), in key order.
func (c *copier) readBatch(ctx context.Context, t table, last []any) ([][]any, error) {
	//nolint:gosec // G202: the names come from the source's own schema, quoted; the values are bound
	q := `SELECT ` + srcList(t.cols) + ` FROM ` + srcList([]string{t.name})
	args := slices.Clone(last)
	if last != nil {
		marks := strings.TrimSuffix(strings.Repeat("?, ", len(t.key)), ", ")
		q += ` WHERE (` + srcList(t.key) + `) > (` + marks + `)`
	}
	q += ` ORDER BY ` + srcList(t.key) + ` LIMIT ?`
	args = append(args, c.opts.Batch)
	rows, err := c.src.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	var out [][]any
	for rows.Next() {
		vals := make([]any, len(t.cols))
		ptrs := make([]any, len(t.cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, errors.Join(err, rows.Close())
		}
		for i, v := range vals {
			// A text column read as bytes (a BLOB written into a column
			// without STRICT) goes in as the same bytes.
			if b, ok := v.([]byte); ok {
				vals[i] = string(b)
			}
		}
		out = append(out, vals)
	}
	return out, errors.Join(rows.Err(), rows.Close())
}

// writeBatch writes rows into t in one transaction: COPY for the tables
// copied by key (the target has none of them yet), an upsert for a table
// copied whole.
func (c *copier) writeBatch(ctx context.Context, t table, rows [][]any) (err error) {
	tx, err := c.dst.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, tx.Rollback(context.WithoutCancel(ctx)))
		}
	}()
	if t.whole {
		var set []string
		for _, col := range t.cols {
			if !slices.Contains(t.key, col) {
				set = append(set, pgx.Identifier{col}.Sanitize()+" = excluded."+pgx.Identifier{col}.Sanitize())
			}
		}
		marks := make([]string, len(t.cols))
		for i := range marks {
			marks[i] = fmt.Sprintf("$%d", i+1)
		}
		q := `INSERT INTO ` + pgx.Identifier{t.name}.Sanitize() + ` (` + dstList(t.cols) + `) VALUES (` +
			strings.Join(marks, ", ") + `) ON CONFLICT (` + dstList(t.key) + `) DO `
		if len(set) == 0 {
			q += `NOTHING`
		} else {
			q += `UPDATE SET ` + strings.Join(set, ", ")
		}
		b := &pgx.Batch{}
		for _, r := range rows {
			b.Queue(q, r...)
		}
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return err
		}
	} else {
		n, err := tx.CopyFrom(ctx, pgx.Identifier{t.name}, t.cols, pgx.CopyFromRows(rows))
		if err != nil {
			return err
		}
		if n != int64(len(rows)) {
			return fmt.Errorf("COPY wrote %d rows of %d", n, len(rows))
		}
	}
	return tx.Commit(ctx)
}

// setIdentities moves every identity's sequence past the highest value its
// column holds (the copy wrote the ids itself, which does not advance it).
func (c *copier) setIdentities(ctx context.Context) error {
	rows, err := c.dst.Query(ctx, `SELECT table_name, column_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND is_identity = 'YES' ORDER BY table_name, column_name`)
	if err != nil {
		return fmt.Errorf("target: list identities: %w", err)
	}
	type ident struct{ table, column string }
	ids, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ident, error) {
		var i ident
		return i, r.Scan(&i.table, &i.column)
	})
	if err != nil {
		return fmt.Errorf("target: list identities: %w", err)
	}
	for _, id := range ids {
		// is_called false: the next value handed out is max + 1 (1 for
		// an empty table).
		q := `SELECT setval(pg_get_serial_sequence($1, $2), coalesce((SELECT max(` + pgx.Identifier{id.column}.Sanitize() +
			`) FROM ` + pgx.Identifier{id.table}.Sanitize() + `), 0) + 1, false)`
		if _, err := c.dst.Exec(ctx, q, pgx.Identifier{id.table}.Sanitize(), id.column); err != nil {
			return fmt.Errorf("target: move the identity %s.%s past the copied ids: %w", id.table, id.column, err)
		}
	}
	return nil
}

// check counts t's rows in both databases, and compares the highest id of a
// table with an integer key.
func (c *copier) check(ctx context.Context, t table, r *Table) error {
	from := pgx.Identifier{t.name}.Sanitize()
	if err := c.src.QueryRowContext(ctx, `SELECT count(*) FROM `+srcList([]string{t.name})).Scan(&r.Source); err != nil {
		return fmt.Errorf("source: count %s: %w", t.name, err)
	}
	q := `SELECT count(*) FROM ` + from
	if t.whole {
		q += ` WHERE key <> '` + MetaMigratedFrom + `'`
	}
	if err := c.dst.QueryRow(ctx, q).Scan(&r.Target); err != nil {
		return fmt.Errorf("target: count %s: %w", t.name, err)
	}
	if !t.intKey {
		return nil
	}
	r.IDColumn = t.key[0]
	if err := c.src.QueryRowContext(ctx, `SELECT coalesce(max(`+srcList(t.key)+`), 0) FROM `+srcList([]string{t.name})).Scan(&r.SourceMax); err != nil {
		return fmt.Errorf("source: highest %s of %s: %w", r.IDColumn, t.name, err)
	}
	if err := c.dst.QueryRow(ctx, `SELECT coalesce(max(`+dstList(t.key)+`), 0) FROM `+from).Scan(&r.TargetMax); err != nil {
		return fmt.Errorf("target: highest %s of %s: %w", r.IDColumn, t.name, err)
	}
	return nil
}
