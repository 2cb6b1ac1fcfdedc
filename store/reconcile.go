package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/autoreplyd/autoreplyd/model"
)

// Reasons recorded when an unknown outcome is settled after the fact.
const (
	// ReasonReconciled: our reply showed up in the thread, so the send whose
	// outcome was unknown did post it.
	ReasonReconciled = "reconciled"
	// ReasonResolvedSent, ReasonResolvedRetry and ReasonResolvedDrop: the
	// operator settled the claim by hand (autoreplyd resolve).
	ReasonResolvedSent  = "resolved_sent"
	ReasonResolvedRetry = "resolved_retry"
	ReasonResolvedDrop  = "resolved_drop"
)

// Actions of Resolve.
const (
	ResolveSent  = "sent"  // it was posted: settle sent
	ResolveRetry = "retry" // it was not posted: send it again on the next cycle
	ResolveDrop  = "drop"  // give up: settle failed, never sent
)

// reconcileClockSkew is how much earlier than its claim a reply may look and
// still be taken for the claim's reply. The platform stamps a reply with its
// own clock in whole seconds, the claim is stamped with ours in
// milliseconds, and the post leaves right after the claim commits: a reply
// posted after the claim can look a little older. Two minutes covers clocks
// a little apart without letting an old look-alike comment through.
const reconcileClockSkew = 2 * time.Minute

// ErrNotResolvable is returned (wrapped) by Resolve when the claim's status
// cannot be settled by hand.
var ErrNotResolvable = errors.New("claim cannot be resolved")

// Reconcile settles an unknown send whose reply turned out to be posted: a
// comment by us (ourReplyID, posted at postedAt) showed up in thread threadID
// of platform with text. In one immediate transaction it takes the oldest
// claim of that thread with status unknown, that reply text, no platform
// reply id yet, created no later than postedAt (give or take
// reconcileClockSkew), and settles it sent with reason "reconciled" and
// platform reply id ourReplyID. It reports the claim's id, or ok false when
// no claim fits (nothing changes).
//
// Pending claims are never reconciled: one may be mid-send in this process,
// and its own settlement will say what happened. A zero postedAt (the
// platform did not say) reconciles nothing: the reply cannot be shown to
// follow the claim.
func (s *Store) Reconcile(ctx context.Context, platform, threadID, text, ourReplyID string, postedAt, now time.Time) (int64, bool, error) {
	if err := s.writableAt("reconcile claim", now); err != nil {
		return 0, false, err
	}
	if platform == "" || ourReplyID == "" || text == "" || postedAt.IsZero() {
		return 0, false, nil
	}
	op := fmt.Sprintf("reconcile %s reply %s", platform, ourReplyID)
	tx, err := s.begin(ctx)
	if err != nil {
		return 0, false, fmt.Errorf("%s: %w", op, err)
	}
	defer tx.Rollback()
	var id int64
	err = tx.QueryRowContext(ctx,
		`SELECT id FROM replies
		 WHERE platform = ? AND thread_id = ? AND status = ? AND reply_text = ?
		   AND platform_reply_id = '' AND created_at <= ?
		 ORDER BY created_at, id LIMIT 1`,
		platform, threadID, model.StatusUnknown, text,
		formatTime(postedAt.Add(reconcileClockSkew))).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("%s: %w", op, err)
	}
	if _, err := tx.ExecContext(ctx,
		`UPDATE replies SET status = ?, reason = ?, platform_reply_id = ?, updated_at = ?, next_attempt_at = NULL
		 WHERE id = ? AND status = ?`,
		model.StatusSent, ReasonReconciled, ourReplyID, formatTime(now), id, model.StatusUnknown); err != nil {
		return 0, false, fmt.Errorf("%s: claim %d: %w", op, id, err)
	}
	if err := tx.Commit(); err != nil {
		return 0, false, fmt.Errorf("%s: commit: %w", op, err)
	}
	return id, true, nil
}

// Resolve settles claim id by hand, for the operator (autoreplyd resolve):
// action ResolveSent settles it sent ("resolved_sent"), ResolveRetry makes it
// retrying and due now ("resolved_retry"; its attempts are unchanged),
// ResolveDrop settles it failed ("resolved_drop"). The error column says
// "resolved by hand" and what the status was. Only unknown, failed and
// retrying claims can be resolved: a pending one may be being sent by the
// daemon right now. It returns the status before and after; a missing id
// wraps ErrNoClaim, a status that cannot be resolved ErrNotResolvable.
func (s *Store) Resolve(ctx context.Context, id int64, action string, now time.Time) (before, after string, err error) {
	if err := s.writableAt("resolve claim", now); err != nil {
		return "", "", err
	}
	var reason string
	var next sql.NullString
	switch action {
	case ResolveSent:
		after, reason = model.StatusSent, ReasonResolvedSent
	case ResolveRetry:
		after, reason = model.StatusRetrying, ReasonResolvedRetry
		next = nullTime(now)
	case ResolveDrop:
		after, reason = model.StatusFailed, ReasonResolvedDrop
	default:
		return "", "", fmt.Errorf("resolve claim %d: unknown action %q (want %s, %s or %s)", id, action, ResolveSent, ResolveRetry, ResolveDrop)
	}

	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return "", "", fmt.Errorf("resolve claim %d: %w", id, err)
	}
	defer tx.Rollback()
	var oldReason string
	err = tx.QueryRowContext(ctx, `SELECT status, reason FROM replies WHERE id = ?`, id).Scan(&before, &oldReason)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", fmt.Errorf("resolve claim %d: %w", id, ErrNoClaim)
	}
	if err != nil {
		return "", "", fmt.Errorf("resolve claim %d: %w", id, err)
	}
	switch before {
	case model.StatusUnknown, model.StatusFailed, model.StatusRetrying:
	case model.StatusPending:
		return before, "", fmt.Errorf("resolve claim %d: it is pending: the daemon may be sending it right now; wait until it settles: %w", id, ErrNotResolvable)
	default:
		return before, "", fmt.Errorf("resolve claim %d: it is %s; only unknown, failed or retrying claims can be resolved: %w", id, before, ErrNotResolvable)
	}
	note := "resolved by hand; was " + before
	if oldReason != "" {
		note += " (" + oldReason + ")"
	}
	if _, err := tx.ExecContext(ctx,
		`UPDATE replies SET status = ?, reason = ?, error = ?, updated_at = ?, next_attempt_at = ?
		 WHERE id = ? AND status = ?`,
		after, reason, note, formatTime(now), next, id, before); err != nil {
		return before, "", fmt.Errorf("resolve claim %d: %w", id, err)
	}
	if err := tx.Commit(); err != nil {
		return before, "", fmt.Errorf("resolve claim %d: commit: %w", id, err)
	}
	return before, after, nil
}

// ClaimRow returns claim id with the comment it answers, as History shows
// it; a missing id wraps ErrNoClaim.
func (s *Store) ClaimRow(ctx context.Context, id int64) (HistoryRow, error) {
	r, err := scanHistory(s.q.QueryRowContext(ctx, `SELECT `+historyCols+` FROM replies_v WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return HistoryRow{}, fmt.Errorf("claim %d: %w", id, ErrNoClaim)
	}
	if err != nil {
		return HistoryRow{}, fmt.Errorf("read claim %d: %w", id, err)
	}
	return r, nil
}
