package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/autoreplyd/autoreplyd/model"
)

// maxVars bounds the bound parameters of one IN (...) list, well under
// SQLite's variable limit (32766 since 3.32, 999 before).
const maxVars = 500

// Claim is one rule's decision about a comment, recorded before anything is
// sent.
type Claim struct {
	Rule      string
	Responder string
	Status    string // model.StatusPending, or the terminal dry_run, skipped, failed
	Reason    string
	ReplyText string
}

// Claimed is a claim that Record inserted, with its id.
type Claimed struct {
	ID int64
	Claim
}

// Settlement is the outcome of a send, recorded on a pending claim.
type Settlement struct {
	Status          string // sent, retrying, failed, unknown or skipped
	Reason          string
	Error           string
	PlatformReplyID string    // our reply's id on the platform, when sent
	NextAttempt     time.Time // required with retrying
}

// RetryItem is a claim due to be sent again.
type RetryItem struct {
	Claimed
	Comment   model.Comment // rebuilt from the comments table; Labels are nil
	Attempts  int           // sends attempted so far
	CreatedAt time.Time
}

// validDisposition reports whether d is a model.Disposition* value.
func validDisposition(d string) bool {
	switch d {
	case model.DispositionEvaluated, model.DispositionBacklog, model.DispositionSelf:
		return true
	}
	return false
}

// RecoverPending marks every pending claim unknown with reason "crashed" and
// returns how many there were. The daemon calls it once at start, before
// sending anything: a claim still pending then was interrupted mid-send and
// its outcome cannot be known, so it is never resent automatically.
func (s *Store) RecoverPending(ctx context.Context, now time.Time) (int, error) {
	if err := s.writable("recover pending claims"); err != nil {
		return 0, err
	}
	res, err := s.db.ExecContext(ctx,
		`UPDATE replies SET status = ?, reason = ?, error = ?, updated_at = ?, next_attempt_at = NULL
		 WHERE status = ?`,
		model.StatusUnknown, model.ReasonCrashed,
		"pending when the daemon stopped; the reply may or may not have been posted",
		formatTime(now), model.StatusPending)
	if err != nil {
		return 0, fmt.Errorf("recover pending claims: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("recover pending claims: %w", err)
	}
	return int(n), nil
}

// Known reports which of ids are recorded comments of platform. Only known
// ids are keys of the result.
func (s *Store) Known(ctx context.Context, platform string, ids []string) (map[string]bool, error) {
	known, err := s.matchIDs(ctx,
		`SELECT comment_id FROM comments WHERE platform = ? AND comment_id IN `, platform, ids)
	if err != nil {
		return nil, fmt.Errorf("look up known %s comments: %w", platform, err)
	}
	return known, nil
}

// OwnReplies reports which of ids are replies we posted on platform (the
// platform_reply_id of a claim), so they are never answered.
func (s *Store) OwnReplies(ctx context.Context, platform string, ids []string) (map[string]bool, error) {
	own, err := s.matchIDs(ctx,
		`SELECT platform_reply_id FROM replies WHERE platform = ? AND platform_reply_id <> '' AND platform_reply_id IN `,
		platform, ids)
	if err != nil {
		return nil, fmt.Errorf("look up own %s replies: %w", platform, err)
	}
	return own, nil
}

// OwnTexts reports which of texts we claimed as a reply in a thread and may
// have posted (sent, pending or unknown): a comment with such a text is our
// own reply showing up, even when the send's outcome was unknown and left no
// platform id to recognise it by.
func (s *Store) OwnTexts(ctx context.Context, platform, threadID string, texts []string) (map[string]bool, error) {
	own, err := s.matchIDs(ctx,
		`SELECT reply_text FROM replies WHERE platform = ? AND thread_id = ? AND status IN ('sent', 'pending', 'unknown') AND reply_text IN `,
		platform, texts, threadID)
	if err != nil {
		return nil, fmt.Errorf("look up own %s reply texts: %w", platform, err)
	}
	return own, nil
}

// matchIDs runs query + "(?, ?, ...)" over ids in chunks of maxVars and
// collects the ids it returns; the query's first parameters are platform,
// then lead. Empty ids are ignored.
func (s *Store) matchIDs(ctx context.Context, query, platform string, ids []string, lead ...any) (map[string]bool, error) {
	found := make(map[string]bool)
	args := make([]any, 0, maxVars+1+len(lead))
	for start := 0; start < len(ids); {
		args = append(append(args[:0], platform), lead...)
		for ; start < len(ids) && len(args) <= maxVars; start++ {
			if ids[start] != "" {
				args = append(args, ids[start])
			}
		}
		n := len(args) - 1 - len(lead)
		if n == 0 {
			continue
		}
		q := query + "(?" + strings.Repeat(", ?", n-1) + ")"
		rows, err := s.db.QueryContext(ctx, q, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, err
			}
			found[id] = true
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return found, nil
}

// Record stores comment c (if not already stored) with its disposition and
// inserts claims, all in one immediate transaction. A claim whose
// (platform, comment, rule) already exists is neither inserted nor returned:
// the returned claims are exactly those this call won, so a caller sends only
// those, and a second Record of the same comment and rule, from this process
// or another, gets none.
//
// A pending claim starts with attempts = 1 (the send about to happen);
// dry_run, skipped and failed claims are terminal and start at 0.
func (s *Store) Record(ctx context.Context, c model.Comment, disposition string, claims []Claim, now time.Time) ([]Claimed, error) {
	if err := s.writable("record comment"); err != nil {
		return nil, err
	}
	if c.Platform == "" || c.ID == "" {
		return nil, fmt.Errorf("record comment: platform and id are required (got %q, %q)", c.Platform, c.ID)
	}
	if !validDisposition(disposition) {
		return nil, fmt.Errorf("record %s comment %s: unknown disposition %q", c.Platform, c.ID, disposition)
	}
	for _, cl := range claims {
		if cl.Rule == "" {
			return nil, fmt.Errorf("record %s comment %s: claim without a rule", c.Platform, c.ID)
		}
		switch cl.Status {
		case model.StatusPending, model.StatusDryRun, model.StatusSkipped, model.StatusFailed:
		default:
			return nil, fmt.Errorf("record %s comment %s: rule %s: a new claim cannot have status %q", c.Platform, c.ID, cl.Rule, cl.Status)
		}
	}

	ts := formatTime(now)
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("record %s comment %s: %w", c.Platform, c.ID, err)
	}
	defer tx.Rollback()

	_, err = tx.ExecContext(ctx,
		`INSERT INTO comments (platform, comment_id, thread_id, post_id, root_id, reply_to_id,
		   user_uid, user_nickname, user_unique_id, text, comment_created_at, disposition, seen_at)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		 ON CONFLICT (platform, comment_id) DO NOTHING`,
		c.Platform, c.ID, c.ThreadID, c.PostID, c.RootID, c.ReplyToID,
		c.User.UID, c.User.Nickname, c.User.UniqueID, c.Text, nullTime(c.CreatedAt), disposition, ts)
	if err != nil {
		return nil, fmt.Errorf("record %s comment %s: %w", c.Platform, c.ID, err)
	}

	var won []Claimed
	for _, cl := range claims {
		attempts := 0
		if cl.Status == model.StatusPending {
			attempts = 1
		}
		var id int64
		err := tx.QueryRowContext(ctx,
			`INSERT INTO replies (platform, comment_id, thread_id, rule, responder, status, reason,
			   reply_text, attempts, created_at, updated_at)
			 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			 ON CONFLICT (platform, comment_id, rule) DO NOTHING
			 RETURNING id`,
			c.Platform, c.ID, c.ThreadID, cl.Rule, cl.Responder, cl.Status, cl.Reason,
			cl.ReplyText, attempts, ts, ts).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			continue // already claimed, by us earlier or by another process
		}
		if err != nil {
			return nil, fmt.Errorf("record %s comment %s: claim for rule %s: %w", c.Platform, c.ID, cl.Rule, err)
		}
		won = append(won, Claimed{ID: id, Claim: cl})
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("record %s comment %s: commit: %w", c.Platform, c.ID, err)
	}
	return won, nil
}

// Settle records the outcome of sending claim id. Only a pending claim can be
// settled; otherwise the error (wrapping ErrNotPending or ErrNoClaim) names
// its current status.
func (s *Store) Settle(ctx context.Context, id int64, st Settlement, now time.Time) error {
	if err := s.writable("settle claim"); err != nil {
		return err
	}
	switch st.Status {
	case model.StatusSent, model.StatusFailed, model.StatusUnknown, model.StatusSkipped, model.StatusDryRun:
	case model.StatusRetrying:
		if st.NextAttempt.IsZero() {
			return fmt.Errorf("settle claim %d: retrying needs a next attempt time", id)
		}
	default:
		return fmt.Errorf("settle claim %d: cannot settle as %q", id, st.Status)
	}
	var next sql.NullString
	if st.Status == model.StatusRetrying {
		next = nullTime(st.NextAttempt)
	}

	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("settle claim %d: %w", id, err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx,
		`UPDATE replies SET status = ?, reason = ?, error = ?,
		   platform_reply_id = CASE WHEN ? = '' THEN platform_reply_id ELSE ? END,
		   updated_at = ?, next_attempt_at = ?
		 WHERE id = ? AND status = ?`,
		st.Status, st.Reason, st.Error, st.PlatformReplyID, st.PlatformReplyID,
		formatTime(now), next, id, model.StatusPending)
	if err != nil {
		return fmt.Errorf("settle claim %d: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("settle claim %d: %w", id, err)
	}
	if n == 0 {
		var cur string
		err := tx.QueryRowContext(ctx, `SELECT status FROM replies WHERE id = ?`, id).Scan(&cur)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("settle claim %d: %w", id, ErrNoClaim)
		}
		if err != nil {
			return fmt.Errorf("settle claim %d: %w", id, err)
		}
		return fmt.Errorf("settle claim %d: status is %s: %w", id, cur, ErrNotPending)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("settle claim %d: commit: %w", id, err)
	}
	return nil
}

// DueRetries returns up to limit (all when limit <= 0) retrying claims whose
// next attempt is at or before now, oldest claim first.
func (s *Store) DueRetries(ctx context.Context, now time.Time, limit int) ([]RetryItem, error) {
	q := `SELECT r.id, r.rule, r.responder, r.status, r.reason, r.reply_text, r.attempts, r.created_at,
	        c.platform, c.comment_id, c.thread_id, c.post_id, c.root_id, c.reply_to_id,
	        c.user_uid, c.user_nickname, c.user_unique_id, c.text, c.comment_created_at
	      FROM replies r
	      JOIN comments c ON c.platform = r.platform AND c.comment_id = r.comment_id
	      WHERE r.status = ? AND r.next_attempt_at <= ?
	      ORDER BY r.created_at, r.id`
	args := []any{model.StatusRetrying, formatTime(now)}
	if limit > 0 {
		q += ` LIMIT ?`
		args = append(args, limit)
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list due retries: %w", err)
	}
	defer rows.Close()
	var items []RetryItem
	for rows.Next() {
		var it RetryItem
		var created, commentCreated sql.NullString
		c := &it.Comment
		if err := rows.Scan(&it.ID, &it.Rule, &it.Responder, &it.Status, &it.Reason, &it.ReplyText,
			&it.Attempts, &created,
			&c.Platform, &c.ID, &c.ThreadID, &c.PostID, &c.RootID, &c.ReplyToID,
			&c.User.UID, &c.User.Nickname, &c.User.UniqueID, &c.Text, &commentCreated); err != nil {
			return nil, fmt.Errorf("list due retries: %w", err)
		}
		if it.CreatedAt, err = parseTime(created); err != nil {
			return nil, fmt.Errorf("list due retries: claim %d: %w", it.ID, err)
		}
		if c.CreatedAt, err = parseTime(commentCreated); err != nil {
			return nil, fmt.Errorf("list due retries: claim %d: %w", it.ID, err)
		}
		items = append(items, it)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list due retries: %w", err)
	}
	return items, nil
}

// BeginRetry claims a retrying claim for one more send: it becomes pending
// with attempts+1, committed before the send. It reports false, changing
// nothing, when the claim is no longer retrying or not yet due (another
// worker took it, or it was settled meanwhile).
func (s *Store) BeginRetry(ctx context.Context, id int64, now time.Time) (bool, error) {
	if err := s.writable("begin retry"); err != nil {
		return false, err
	}
	ts := formatTime(now)
	res, err := s.db.ExecContext(ctx,
		`UPDATE replies SET status = ?, attempts = attempts + 1, updated_at = ?, next_attempt_at = NULL
		 WHERE id = ? AND status = ? AND next_attempt_at <= ?`,
		model.StatusPending, ts, id, model.StatusRetrying, ts)
	if err != nil {
		return false, fmt.Errorf("begin retry of claim %d: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("begin retry of claim %d: %w", id, err)
	}
	return n == 1, nil
}

// CountSent counts the claims of responder sent (settled as sent) at or after
// since, for daily caps.
func (s *Store) CountSent(ctx context.Context, responder string, since time.Time) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx,
		`SELECT count(*) FROM replies WHERE status = ? AND responder = ? AND updated_at >= ?`,
		model.StatusSent, responder, formatTime(since)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count sent replies of %s: %w", responder, err)
	}
	return n, nil
}
