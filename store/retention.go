package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/autoreplyd/autoreplyd/model"
)

// prunableStatuses are the terminal statuses of a claim: nothing will ever
// happen to it again, so its row is history only. pending, retrying and
// unknown claims are never pruned: they are still being sent, or their
// outcome waits to be reconciled or resolved.
var prunableStatuses = []string{model.StatusSent, model.StatusFailed, model.StatusDryRun, model.StatusSkipped,
	model.StatusRejected, model.StatusExpired, model.StatusHandled}

// DefaultPruneBatch is how many rows one pruning transaction touches at most.
const DefaultPruneBatch = 500

// pruneBatchPause is the pause after each pruning transaction that changed
// something, so that the daemon's own writes (one connection) get their turn
// between batches. A variable so that tests can shorten it.
var pruneBatchPause = 20 * time.Millisecond

// pruneHook, if set, is called between batches, with no transaction open
// (tests).
var pruneHook func()

// PruneResult counts what Prune did.
type PruneResult struct {
	// Replies is how many terminal claims were deleted.
	Replies int
	// Comments is how many comments had their text, nickname and handle
	// blanked. Their rows are kept.
	Comments int
}

// Prune applies a retention limit: it deletes the claims (replies rows)
// with a terminal status (sent, failed, dry_run, skipped) last updated
// before before, then blanks the text, nickname and handle of the comments
// first seen before before that no claim refers to any more.
//
// Comment rows themselves are kept, with their ids, thread, user uid,
// disposition and times: they are the memory that a comment was handled.
// Deleting one would make the comment new again on the next poll if the
// platform still lists it, and it would be answered a second time. pending,
// retrying and unknown claims, and the comments they refer to, are never
// touched.
//
// Work is done in transactions of at most batch rows (DefaultPruneBatch when
// batch <= 0), with a short pause after each, so that the daemon's writer is
// never held up for long. On an error or a cancelled ctx, what was done so
// far stays done and is counted in the result.
func (s *Store) Prune(ctx context.Context, before time.Time, batch int) (PruneResult, error) {
	var res PruneResult
	if err := s.writable("prune history"); err != nil {
		return res, err
	}
	if err := s.sendCheck(); err != nil {
		return res, fmt.Errorf("prune history: %w", err)
	}
	if batch <= 0 {
		batch = DefaultPruneBatch
	}
	ts := formatTime(before)
	statuses := "('" + strings.Join(prunableStatuses, "', '") + "')"

	// Claims: created_at <= updated_at, so the created_at bound is implied;
	// it lets SQLite walk replies_status instead of the whole table.
	// A claim's notifications and draft go with it, first (they refer to it); the
	// same ordered selection picks the same claims in both statements.
	pick := `SELECT id FROM replies
		WHERE status IN ` + statuses + ` AND created_at < ?1 AND updated_at < ?1
		ORDER BY id LIMIT ?2`
	delNotifications := `DELETE FROM notifications WHERE reply_id IN (` + pick + `)`
	delDrafts := `DELETE FROM drafts WHERE reply_id IN (` + pick + `)`
	delReplies := `DELETE FROM replies WHERE id IN (` + pick + `)`
	for {
		n, err := s.pruneStep(ctx, []string{delNotifications, delDrafts, delReplies}, ts, batch)
		res.Replies += n
		if err != nil {
			return res, fmt.Errorf("prune history: delete claims: %w", err)
		}
		if n < batch {
			break
		}
		if err := s.prunePause(ctx, n); err != nil {
			return res, fmt.Errorf("prune history: %w", err)
		}
	}

	// Comments: walk the table by rowid in windows of batch rows, so that
	// each statement looks at a bounded number of rows however few of them
	// need blanking.
	var maxRowid int64
	if err := s.db.QueryRowContext(ctx, `SELECT coalesce(max(rowid), 0) FROM comments`).Scan(&maxRowid); err != nil {
		return res, fmt.Errorf("prune history: comments: %w", err)
	}
	blank := `UPDATE comments SET text = '', user_nickname = '', user_unique_id = ''
		WHERE rowid > ?3 AND rowid <= ?3 + ?2
		  AND seen_at < ?1
		  AND (text <> '' OR user_nickname <> '' OR user_unique_id <> '')
		  AND NOT EXISTS (SELECT 1 FROM replies r
		                  WHERE r.platform = comments.platform AND r.comment_id = comments.comment_id)`
	for from := int64(0); from < maxRowid; from += int64(batch) {
		n, err := s.pruneStep(ctx, []string{blank}, ts, batch, from)
		res.Comments += n
		if err != nil {
			return res, fmt.Errorf("prune history: blank comments: %w", err)
		}
		if err := s.prunePause(ctx, n); err != nil {
			return res, fmt.Errorf("prune history: %w", err)
		}
	}
	return res, nil
}

// pruneStep runs pruning statements in one (immediate) transaction, each
// with args, and returns the rows the last one changed.
func (s *Store) pruneStep(ctx context.Context, stmts []string, args ...any) (int, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	var r sql.Result
	for _, stmt := range stmts {
		if r, err = tx.ExecContext(ctx, stmt, args...); err != nil {
			return 0, err
		}
	}
	n, err := r.RowsAffected()
	if err != nil {
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, err
	}
	return int(n), nil
}

// prunePause gives other writers their turn after a batch that wrote
// something (n > 0), and runs pruneHook.
func (s *Store) prunePause(ctx context.Context, n int) error {
	if pruneHook != nil {
		pruneHook()
	}
	if n == 0 {
		return ctx.Err()
	}
	t := time.NewTimer(pruneBatchPause)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
