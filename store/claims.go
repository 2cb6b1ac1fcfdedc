package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
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
	// Queued records a pending claim whose send has not started (attempts
	// 0): StartSend marks it attempted right before the send. A queued
	// claim found at startup was never sent and is sent then; only an
	// attempted one becomes unknown.
	Queued bool
	// Notify names the channels told of the claim: one outbox row each,
	// inserted with the claim when Record wins it. A drafting claim's
	// channels are told when its draft is held or flagged: give them in
	// Draft.Notify.
	Notify []string
	// Draft is the request of a drafting claim (status drafting), kept
	// with it.
	Draft *DraftRequest
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
func validDisposition(d string) bool { return slices.Contains(Dispositions, d) }

// Dispositions lists what a recorded comment can be (the disposition column
// of comments and replies_v).
var Dispositions = []string{model.DispositionEvaluated, model.DispositionBacklog, model.DispositionSelf}

// RecoverPending settles the pending claims a previous run left behind and
// returns how many became unknown and how many were requeued. The daemon
// calls it once at start, before sending anything. A claim whose send was
// started (attempts > 0) was interrupted mid-send: its outcome cannot be
// known, so it becomes unknown ("crashed") and is never resent
// automatically. A queued claim (attempts 0) was never sent: it becomes
// retrying, due now ("requeued"), without using up an attempt.
//
// Only claims no live daemon may still be sending are settled: those of
// this store's instance (SetInstance), of no instance (made before schema
// 10) and of instances dead at now, whose heartbeat is ttl old or older
// or which have no row. A claim of another daemon still alive is left to
// it. With ttl <= 0 every other instance counts as dead.
func (s *Store) RecoverPending(ctx context.Context, now time.Time, ttl time.Duration) (unknown, requeued int, err error) {
	if ttl <= 0 {
		return s.recoverPending(ctx, "recover pending claims", now, `1 = 1`)
	}
	return s.recoverPending(ctx, "recover pending claims", now,
		`(instance = ? OR instance = '' OR NOT EXISTS
		   (SELECT 1 FROM instances i WHERE i.name = replies.instance AND i.heartbeat_at > ?))`,
		s.instance, formatTime(now.Add(-ttl)))
}

// recoverPending settles as RecoverPending does the pending claims that
// also meet cond (an SQL condition on replies, with args).
func (s *Store) recoverPending(ctx context.Context, op string, now time.Time, cond string, args ...any) (unknown, requeued int, err error) {
	if err := s.writableAt(op, now); err != nil {
		return 0, 0, err
	}
	tx, err := s.begin(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("%s: %w", op, err)
	}
	defer tx.Rollback()
	ts := formatTime(now)
	res, err := tx.ExecContext(ctx,
		`UPDATE replies SET status = ?, reason = ?, error = ?, updated_at = ?, next_attempt_at = ?
		 WHERE status = ? AND attempts = 0 AND `+cond,
		append([]any{model.StatusRetrying, model.ReasonRequeued,
			"queued but not yet sent when the daemon stopped", ts, ts, model.StatusPending}, args...)...)
	if err != nil {
		return 0, 0, fmt.Errorf("%s: %w", op, err)
	}
	q, err := res.RowsAffected()
	if err != nil {
		return 0, 0, fmt.Errorf("%s: %w", op, err)
	}
	res, err = tx.ExecContext(ctx,
		`UPDATE replies SET status = ?, reason = ?, error = ?, updated_at = ?, next_attempt_at = NULL
		 WHERE status = ? AND `+cond,
		append([]any{model.StatusUnknown, model.ReasonCrashed,
			"pending when the daemon stopped; the reply may or may not have been posted",
			ts, model.StatusPending}, args...)...)
	if err != nil {
		return 0, 0, fmt.Errorf("%s: %w", op, err)
	}
	u, err := res.RowsAffected()
	if err != nil {
		return 0, 0, fmt.Errorf("%s: %w", op, err)
	}
	if err := tx.Commit(); err != nil {
		return 0, 0, fmt.Errorf("%s: commit: %w", op, err)
	}
	return int(u), int(q), nil
}

// RequeueQueued makes the queued claims among ids (pending, never marked
// attempted: nothing was sent) retrying, due now, reason requeued, as
// RecoverPending does at a start; the poller calls it for the claims a
// send could not mark attempted while the database was unavailable. It
// returns how many it requeued; others (settled meanwhile, attempted) are
// left as they are.
func (s *Store) RequeueQueued(ctx context.Context, ids []int64, now time.Time) (int, error) {
	if err := s.writableAt("requeue queued claims", now); err != nil {
		return 0, err
	}
	tx, err := s.begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("requeue queued claims: %w", err)
	}
	defer tx.Rollback()
	ts := formatTime(now)
	n := 0
	for _, id := range ids {
		res, err := tx.ExecContext(ctx,
			`UPDATE replies SET status = ?, reason = ?, error = ?, updated_at = ?, next_attempt_at = ?
			 WHERE id = ? AND status = ? AND attempts = 0`,
			model.StatusRetrying, model.ReasonRequeued, "queued but not marked attempted while the database was unavailable",
			ts, ts, id, model.StatusPending)
		if err != nil {
			return 0, fmt.Errorf("requeue queued claim %d: %w", id, err)
		}
		k, err := res.RowsAffected()
		if err != nil {
			return 0, fmt.Errorf("requeue queued claim %d: %w", id, err)
		}
		n += int(k)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("requeue queued claims: commit: %w", err)
	}
	return n, nil
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
		rows, err := s.q.QueryContext(ctx, q, args...)
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
	if err := s.writableAt("record comment", now); err != nil {
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
		case model.StatusPending, model.StatusDryRun, model.StatusSkipped, model.StatusFailed,
			model.StatusFlagged, model.StatusHeld:
		case model.StatusDrafting:
			if cl.Draft == nil || cl.Draft.LLM == "" {
				return nil, fmt.Errorf("record %s comment %s: rule %s: a drafting claim needs its request", c.Platform, c.ID, cl.Rule)
			}
		default:
			return nil, fmt.Errorf("record %s comment %s: rule %s: a new claim cannot have status %q", c.Platform, c.ID, cl.Rule, cl.Status)
		}
	}

	ts := formatTime(now)
	tx, err := s.begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("record %s comment %s: %w", c.Platform, c.ID, err)
	}
	defer tx.Rollback()

	_, err = s.stmt(ctx, tx.Tx, s.stmts.insertComment).ExecContext(ctx,
		c.Platform, c.ID, c.ThreadID, c.PostID, c.RootID, c.ReplyToID,
		c.User.UID, s.scrub(c.User.Nickname), s.scrub(c.User.UniqueID), s.scrub(c.Text), nullTime(c.CreatedAt), disposition, ts)
	if err != nil {
		return nil, fmt.Errorf("record %s comment %s: %w", c.Platform, c.ID, err)
	}

	var won []Claimed
	for _, cl := range claims {
		attempts := 0
		if cl.Status == model.StatusPending && !cl.Queued {
			attempts = 1
		}
		var id int64
		err := s.stmt(ctx, tx.Tx, s.stmts.insertClaim).QueryRowContext(ctx,
			c.Platform, c.ID, c.ThreadID, cl.Rule, cl.Responder, cl.Status, s.scrub(cl.Reason),
			s.scrub(cl.ReplyText), attempts, ts, ts, s.instance).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			continue // already claimed, by us earlier or by another process
		}
		if err != nil {
			return nil, fmt.Errorf("record %s comment %s: claim for rule %s: %w", c.Platform, c.ID, cl.Rule, err)
		}
		if cl.Status == model.StatusDrafting {
			if err := s.insertDraft(ctx, tx.Tx, id, cl.Draft, ts); err != nil {
				return nil, fmt.Errorf("record %s comment %s: draft request of rule %s: %w", c.Platform, c.ID, cl.Rule, err)
			}
			won = append(won, Claimed{ID: id, Claim: cl})
			continue
		}
		// The outbox row commits with the claim: a person hears of
		// every claim that exists, and of none that does not.
		for _, ch := range cl.Notify {
			if _, err := tx.ExecContext(ctx, sqlInsertNotification, id, ch, eventOf(cl.Status), ts, ts, ts); err != nil {
				return nil, fmt.Errorf("record %s comment %s: notification of rule %s to %s: %w", c.Platform, c.ID, cl.Rule, ch, err)
			}
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
	if err := s.writableAt("settle claim", now); err != nil {
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
		next = nullTime(clampTime(st.NextAttempt))
	}

	// One statement: autocommitted on its own, or part of the Batch.
	res, err := s.stmt(ctx, nil, s.stmts.settle).ExecContext(ctx,
		st.Status, s.scrub(st.Reason), s.scrub(st.Error), st.PlatformReplyID, st.PlatformReplyID,
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
		err := s.q.QueryRowContext(ctx, `SELECT status FROM replies WHERE id = ?`, id).Scan(&cur)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("settle claim %d: %w", id, ErrNoClaim)
		}
		if err != nil {
			return fmt.Errorf("settle claim %d: %w", id, err)
		}
		return fmt.Errorf("settle claim %d: status is %s: %w", id, cur, ErrNotPending)
	}
	return nil
}

// StartSend marks queued claim id attempted, committed right before its send:
// from then on a crash leaves it unknown instead of queued. It reports false,
// changing nothing, when the claim is no longer a queued pending claim.
func (s *Store) StartSend(ctx context.Context, id int64, now time.Time) (bool, error) {
	if err := s.writableAt("start send", now); err != nil {
		return false, err
	}
	// No send whose claim lives only in a deleted file.
	if err := s.sendCheck(); err != nil {
		return false, fmt.Errorf("start send of claim %d: %w", id, err)
	}
	res, err := s.stmt(ctx, nil, s.stmts.startSend).ExecContext(ctx, formatTime(now), s.instance, id, model.StatusPending)
	if err != nil {
		return false, fmt.Errorf("start send of claim %d: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("start send of claim %d: %w", id, err)
	}
	return n == 1, nil
}

// DueRetries returns up to limit (all when limit <= 0) retrying claims whose
// next attempt is at or before now, oldest claim first.
func (s *Store) DueRetries(ctx context.Context, now time.Time, limit int) ([]RetryItem, error) {
	// An approved answer's age counts from its approval: the time it
	// waited for a person is not the send's delay.
	q := `SELECT r.id, r.rule, r.responder, r.status, r.reason, r.reply_text, r.attempts, coalesce(r.decided_at, r.created_at),
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
	rows, err := s.q.QueryContext(ctx, q, args...)
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
		// An unreadable time is unknown (zero): the claim is still sent,
		// and the others due with it are not held up by it.
		it.CreatedAt, c.CreatedAt = readTime(created), readTime(commentCreated)
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
	if err := s.writableAt("begin retry", now); err != nil {
		return false, err
	}
	if err := s.sendCheck(); err != nil {
		return false, fmt.Errorf("begin retry of claim %d: %w", id, err)
	}
	ts := formatTime(now)
	res, err := s.q.ExecContext(ctx,
		`UPDATE replies SET status = ?, attempts = attempts + 1, updated_at = ?, next_attempt_at = NULL, instance = ?
		 WHERE id = ? AND status = ? AND next_attempt_at <= ?`,
		model.StatusPending, ts, s.instance, id, model.StatusRetrying, ts)
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
	err := s.q.QueryRowContext(ctx,
		`SELECT count(*) FROM replies WHERE status = ? AND responder = ? AND updated_at >= ?`,
		model.StatusSent, responder, formatTime(since)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count sent replies of %s: %w", responder, err)
	}
	return n, nil
}
