package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/autoreplyd/autoreplyd/model"
)

// What a person can decide about a held or flagged claim (Decide).
const (
	// DecideApprove sends a held answer, as written or edited: the claim
	// becomes retrying, due now, and the daemon's next cycle sends it
	// through the normal send path (pacing, daily cap, breaker, retries).
	DecideApprove = "approve"
	// DecideReject records a held answer rejected: never sent.
	DecideReject = "reject"
	// DecideDone records a flagged comment dealt with by a person: handled.
	DecideDone = "done"
)

// ErrNotDecidable is wrapped by Decide's error when the claim's status does
// not allow the decision (approving a claim that is not held, or twice).
var ErrNotDecidable = errors.New("not awaiting this decision")

// ErrExpired is wrapped by Decide's error when a held answer was approved
// after approval.max_age: it is recorded expired instead, never sent.
var ErrExpired = errors.New("held past approval.max_age")

// Decision is a person's decision about one claim.
type Decision struct {
	Action string // DecideApprove, DecideReject or DecideDone
	// Text replaces the held answer when approving ("" keeps it). The
	// caller validates it like a rendered answer.
	Text string
	By   string // who decided (recorded as decided_by)
	Note string // a rejection's reason (decision_note)
	// MaxAge is approval.max_age: a held claim at least this old expires
	// instead of being approved. 0 means no limit.
	MaxAge time.Duration
}

// Decide records d about claim id and returns its status before and after.
// A claim whose status does not allow the decision is left alone and the
// error (wrapping ErrNotDecidable, or ErrNoClaim) names its status. An
// approval that comes too late records the claim expired and wraps
// ErrExpired.
//
// Safe while the daemon runs: one short immediate transaction, conditional
// on the status read in it, so a decision racing the daemon's expiry (or
// another person's decision) takes effect at most once.
func (s *Store) Decide(ctx context.Context, id int64, d Decision, now time.Time) (before, after string, err error) {
	op := fmt.Sprintf("%s claim %d", d.Action, id)
	if err := s.writableAt(op, now); err != nil {
		return "", "", err
	}
	var want string
	switch d.Action {
	case DecideApprove, DecideReject:
		want = model.StatusHeld
	case DecideDone:
		want = model.StatusFlagged
	default:
		return "", "", fmt.Errorf("%s: unknown decision (want %s, %s or %s)", op, DecideApprove, DecideReject, DecideDone)
	}
	tx, err := s.begin(ctx)
	if err != nil {
		return "", "", fmt.Errorf("%s: %w", op, err)
	}
	defer tx.Rollback()
	var created, decided sql.NullString
	var by string
	err = tx.QueryRowContext(ctx, `SELECT status, created_at, decided_by, decided_at FROM replies WHERE id = ?`, id).
		Scan(&before, &created, &by, &decided)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", fmt.Errorf("%s: %w", op, ErrNoClaim)
	}
	if err != nil {
		return "", "", fmt.Errorf("%s: %w", op, err)
	}
	if before != want {
		msg := fmt.Sprintf("%s: it is %s", op, before)
		if by != "" || decided.Valid {
			msg += fmt.Sprintf(" (decided by %s at %s)", orUnknown(by), formatTime(readTime(decided)))
		}
		return before, "", fmt.Errorf("%s; only a %s claim can be %s: %w", msg, want, pastTense(d.Action), ErrNotDecidable)
	}
	ts := formatTime(now)
	var q string
	var args []any
	switch d.Action {
	case DecideApprove:
		if age := now.Sub(readTime(created)); d.MaxAge > 0 && created.Valid && age >= d.MaxAge {
			after = model.StatusExpired
			if _, err := tx.ExecContext(ctx,
				`UPDATE replies SET status = ?, reason = ?, error = ?, updated_at = ?, next_attempt_at = NULL
				 WHERE id = ? AND status = ?`,
				after, model.ReasonMaxAge, expiredMsg(d.MaxAge), ts, id, before); err != nil {
				return before, "", fmt.Errorf("%s: %w", op, err)
			}
			if err := tx.Commit(); err != nil {
				return before, "", fmt.Errorf("%s: commit: %w", op, err)
			}
			return before, after, fmt.Errorf("%s: held %s, past approval.max_age %s: recorded expired, never sent: %w",
				op, age.Round(time.Minute), d.MaxAge, ErrExpired)
		}
		// Due now with no attempt used: BeginRetry counts the first.
		after = model.StatusRetrying
		note := ""
		if d.Text != "" {
			note = decisionEdited
		}
		q = `UPDATE replies SET status = ?, reason = ?, error = '', attempts = 0, updated_at = ?, next_attempt_at = ?,
		       reply_text = CASE WHEN ? = '' THEN reply_text ELSE ? END,
		       decided_by = ?, decided_at = ?, decision_note = ?
		     WHERE id = ? AND status = ?`
		args = []any{after, model.ReasonApproved, ts, ts, d.Text, s.scrub(d.Text), s.scrub(d.By), ts, note, id, before}
	case DecideReject:
		after = model.StatusRejected
		q = `UPDATE replies SET status = ?, reason = '', updated_at = ?, decided_by = ?, decided_at = ?, decision_note = ?
		     WHERE id = ? AND status = ?`
		args = []any{after, ts, s.scrub(d.By), ts, s.scrub(d.Note), id, before}
	case DecideDone:
		after = model.StatusHandled
		q = `UPDATE replies SET status = ?, updated_at = ?, decided_by = ?, decided_at = ?, decision_note = ?
		     WHERE id = ? AND status = ?`
		args = []any{after, ts, s.scrub(d.By), ts, s.scrub(d.Note), id, before}
	}
	if _, err := tx.ExecContext(ctx, q, args...); err != nil {
		return before, "", fmt.Errorf("%s: %w", op, err)
	}
	if err := tx.Commit(); err != nil {
		return before, "", fmt.Errorf("%s: commit: %w", op, err)
	}
	return before, after, nil
}

func orUnknown(s string) string {
	if s == "" {
		return "(unknown)"
	}
	return s
}

func pastTense(action string) string {
	switch action {
	case DecideApprove:
		return "approved"
	case DecideReject:
		return "rejected"
	}
	return "marked done"
}

func expiredMsg(maxAge time.Duration) string {
	return fmt.Sprintf("held for approval longer than approval.max_age (%s): a late answer reads as spam; never sent", maxAge)
}

// Expired is one held claim ExpireHeld recorded expired.
type Expired struct {
	ID                  int64
	Platform, Responder string
}

// ExpireHeld records expired the held claims created at least maxAge before
// now (approval.max_age) and returns them. The daemon calls it every cycle;
// `approve` expires a late claim itself.
func (s *Store) ExpireHeld(ctx context.Context, maxAge time.Duration, now time.Time) ([]Expired, error) {
	if maxAge <= 0 {
		return nil, nil
	}
	if err := s.writableAt("expire held answers", now); err != nil {
		return nil, err
	}
	rows, err := s.q.QueryContext(ctx,
		`UPDATE replies SET status = ?, reason = ?, error = ?, updated_at = ?, next_attempt_at = NULL
		 WHERE status = ? AND created_at <= ?
		 RETURNING id, platform, responder`,
		model.StatusExpired, model.ReasonMaxAge, expiredMsg(maxAge), formatTime(now),
		model.StatusHeld, formatTime(now.Add(-maxAge)))
	if err != nil {
		return nil, fmt.Errorf("expire held answers: %w", err)
	}
	defer rows.Close()
	var out []Expired
	for rows.Next() {
		var e Expired
		if err := rows.Scan(&e.ID, &e.Platform, &e.Responder); err != nil {
			return nil, fmt.Errorf("expire held answers: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("expire held answers: %w", err)
	}
	return out, nil
}
