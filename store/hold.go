package store

import (
	"context"
	"fmt"
	"time"

	"github.com/autoreplyd/autoreplyd/model"
)

// Hold settles pending claim id as retrying without a send having been made
// (its responder is paused): attempts is given back, so the held time does
// not use up the claim's retries, and the claim is due again at next.
func (s *Store) Hold(ctx context.Context, id int64, reason, msg string, next, now time.Time) error {
	if err := s.writableAt("hold claim", now); err != nil {
		return err
	}
	if next.IsZero() {
		return fmt.Errorf("hold claim %d: a next attempt time is required", id)
	}
	next = clampTime(next) // storable: past 9999 stays far off, before year 1 is due now
	res, err := s.q.ExecContext(ctx,
		`UPDATE replies SET status = ?, reason = ?, error = ?, attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END,
		   updated_at = ?, next_attempt_at = ?
		 WHERE id = ? AND status = ?`,
		model.StatusRetrying, s.scrub(reason), s.scrub(msg), formatTime(now), nullTime(next), id, model.StatusPending)
	if err != nil {
		return fmt.Errorf("hold claim %d: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("hold claim %d: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("hold claim %d: %w", id, ErrNotPending)
	}
	return nil
}

// ReleaseHeld makes the retrying claims of responder held with reason due
// now, when their next attempt is later (the pause that held them was lifted
// early). It returns how many it released.
func (s *Store) ReleaseHeld(ctx context.Context, responder, reason string, now time.Time) (int, error) {
	if err := s.writableAt("release held claims", now); err != nil {
		return 0, err
	}
	ts := formatTime(now)
	res, err := s.q.ExecContext(ctx,
		`UPDATE replies SET next_attempt_at = ?
		 WHERE status = ? AND responder = ? AND reason = ? AND next_attempt_at > ?`,
		ts, model.StatusRetrying, responder, reason, ts)
	if err != nil {
		return 0, fmt.Errorf("release held claims of %s: %w", responder, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("release held claims of %s: %w", responder, err)
	}
	return int(n), nil
}
