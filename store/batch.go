package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// querier is what a query needs: the database or a transaction.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Batch runs fn with a Store whose every method works inside one immediate
// transaction, committed when fn returns nil and rolled back otherwise. Reads
// through it see the batch's own writes (a cooldown sees a claim recorded
// earlier in the same batch). One commit for a page of comments instead of
// one per comment is what makes recording cheap: each commit writes every
// page of the dozen b-trees a comment and its claim touch.
//
// Inside fn, use only the Store fn is given: the writer has one connection,
// so a call on the outer Store from fn's goroutine waits for the batch to end
// and never returns. Other goroutines' calls wait for the commit. A Batch
// inside a Batch joins the outer one.
func (s *Store) Batch(ctx context.Context, fn func(*Store) error) error {
	if s.tx != nil {
		return fn(s)
	}
	if err := s.writable("batch"); err != nil {
		return err
	}
	// Nothing is recorded into a file that is no longer the database.
	if err := s.recentCheck(); err != nil {
		return err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin batch: %w", err)
	}
	defer tx.Rollback()
	bs := *s
	bs.q, bs.tx = tx, tx
	if err := fn(&bs); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit batch: %w", err)
	}
	return nil
}

// txn is a write transaction of one method: its own, or the Batch's (whose
// Commit and Rollback are then left to the Batch).
type txn struct {
	*sql.Tx
	own bool
}

// begin starts a method's transaction, or joins the Batch's.
func (s *Store) begin(ctx context.Context) (txn, error) {
	if s.tx != nil {
		return txn{Tx: s.tx}, nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return txn{}, err
	}
	return txn{Tx: tx, own: true}, nil
}

func (t txn) Commit() error {
	if !t.own {
		return nil
	}
	return t.Tx.Commit()
}

func (t txn) Rollback() error {
	if !t.own {
		return nil
	}
	return t.Tx.Rollback()
}

// stmt returns the prepared statement st for use in t (or on the database
// when t is nil).
func (s *Store) stmt(ctx context.Context, t *sql.Tx, st *sql.Stmt) *sql.Stmt {
	switch {
	case t != nil:
		return t.StmtContext(ctx, st)
	case s.tx != nil:
		return s.tx.StmtContext(ctx, st)
	}
	return st
}

// Hot statements: run for every comment, claim or polled thread, so parsed
// once. (Statements with IN lists of varying length are not among them.)
const (
	sqlInsertComment = `INSERT INTO comments (platform, comment_id, thread_id, post_id, root_id, reply_to_id,
		   user_uid, user_nickname, user_unique_id, text, comment_created_at, disposition, seen_at)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		 ON CONFLICT (platform, comment_id) DO NOTHING`
	sqlInsertClaim = `INSERT INTO replies (platform, comment_id, thread_id, rule, responder, status, reason,
		   reply_text, attempts, created_at, updated_at, instance)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		 ON CONFLICT (platform, comment_id, rule) DO NOTHING
		 RETURNING id`
	sqlSettle = `UPDATE replies SET status = ?, reason = ?, error = ?,
		   platform_reply_id = CASE WHEN ? = '' THEN platform_reply_id ELSE ? END,
		   updated_at = ?, next_attempt_at = ?
		 WHERE id = ? AND status = ?`
	sqlStartSend = `UPDATE replies SET attempts = 1, updated_at = ?, instance = ?
		 WHERE id = ? AND status = ? AND attempts = 0`
	// The labels (?14) are the configured ones (SetThreadLabels); NULL when
	// not known keeps the row's own, '{}' on a new row.
	sqlSaveThread = `INSERT INTO threads (platform, thread_id, initialized, total, known, listing_order, page_size,
		   cursor, polls, last_full_scan, last_polled, idle_polls, next_poll, labels)
		 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, coalesce(?14, '{}'))
		 ON CONFLICT (platform, thread_id) DO UPDATE SET
		   initialized = excluded.initialized, total = excluded.total, known = excluded.known,
		   listing_order = excluded.listing_order, page_size = excluded.page_size,
		   cursor = excluded.cursor, polls = excluded.polls,
		   last_full_scan = excluded.last_full_scan, last_polled = excluded.last_polled,
		   idle_polls = excluded.idle_polls, next_poll = excluded.next_poll,
		   labels = coalesce(?14, threads.labels)`
)

type statements struct {
	insertComment, insertClaim, settle, startSend, saveThread *sql.Stmt
	// saveThreads saves statesPerInsert thread states (SaveThreadStates).
	saveThreads *sql.Stmt
	// Run for every thread of every listed video page (discovered.go).
	upsertDiscovered, zeroDiscovered *sql.Stmt
}

// prepare prepares the hot statements. It must run outside any transaction:
// with one connection, preparing while a transaction holds it never returns.
func prepare(ctx context.Context, db *sql.DB) (*statements, error) {
	st := &statements{}
	for _, p := range []struct {
		dst **sql.Stmt
		sql string
	}{
		{&st.insertComment, sqlInsertComment},
		{&st.insertClaim, sqlInsertClaim},
		{&st.settle, sqlSettle},
		{&st.startSend, sqlStartSend},
		{&st.saveThread, sqlSaveThread},
		{&st.saveThreads, sqlSaveThreadStates(statesPerInsert)},
		{&st.upsertDiscovered, sqlUpsertDiscovered},
		{&st.zeroDiscovered, sqlZeroDiscovered},
	} {
		s, err := db.PrepareContext(ctx, p.sql)
		if err != nil {
			return nil, errors.Join(fmt.Errorf("prepare statements: %w", err), st.close())
		}
		*p.dst = s
	}
	return st, nil
}

func (st *statements) close() error {
	if st == nil {
		return nil
	}
	var errs []error
	for _, s := range []*sql.Stmt{st.insertComment, st.insertClaim, st.settle, st.startSend, st.saveThread, st.saveThreads,
		st.upsertDiscovered, st.zeroDiscovered} {
		if s != nil {
			errs = append(errs, s.Close())
		}
	}
	return errors.Join(errs...)
}
