package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/autoreplyd/autoreplyd/model"
)

// Notification events: what a person is told about a claim.
const (
	EventFlagged  = "flagged"  // a rule flagged the comment for a person
	EventHeld     = "held"     // an answer waits for approval
	EventAnswered = "answered" // a rule with notify answered (or, in dry-run, would have)
	EventSkipped  = "skipped"  // a rule with notify matched and skipped the comment
)

// Outbox statuses of a notification.
const (
	NotificationPending = "pending" // not yet accepted by its channel
	NotificationSent    = "sent"    // accepted: never delivered again
	NotificationFailed  = "failed"  // given up (too old), kept for the record
)

// eventOf is the notification event of a new claim of status.
func eventOf(status string) string {
	switch status {
	case model.StatusFlagged:
		return EventFlagged
	case model.StatusHeld:
		return EventHeld
	case model.StatusSkipped, model.StatusFailed:
		return EventSkipped
	}
	return EventAnswered
}

// Notification is one due outbox row with the claim and comment it tells
// of.
type Notification struct {
	ID        int64 // the outbox row's id
	Channel   string
	Event     string
	Attempts  int
	CreatedAt time.Time
	Claim     HistoryRow
}

const sqlInsertNotification = `INSERT INTO notifications (reply_id, channel, event, status, created_at, updated_at, next_attempt_at)
	VALUES (?, ?, ?, 'pending', ?, ?, ?)
	ON CONFLICT (reply_id, channel, event) DO NOTHING`

// DueNotifications returns up to limit pending notifications of channel
// ("" for every channel) due at now, oldest first. Asked per channel, a
// channel failing for days cannot crowd the others out of the limit.
func (s *Store) DueNotifications(ctx context.Context, channel string, now time.Time, limit int) ([]Notification, error) {
	if limit <= 0 {
		limit = 1000
	}
	cols := strings.Split(historyCols, ",")
	for i, c := range cols {
		cols[i] = "v." + strings.TrimSpace(c)
	}
	rows, err := s.q.QueryContext(ctx,
		`SELECT n.id, n.channel, n.event, n.attempts, n.created_at, `+strings.Join(cols, ", ")+`
		 FROM notifications n JOIN replies_v v ON v.id = n.reply_id
		 WHERE n.status = 'pending' AND n.next_attempt_at <= ? AND (? = '' OR n.channel = ?)
		 ORDER BY n.created_at, n.id LIMIT ?`, formatTime(now), channel, channel, limit)
	if err != nil {
		return nil, fmt.Errorf("list due notifications: %w", err)
	}
	defer rows.Close()
	var out []Notification
	for rows.Next() {
		var n Notification
		var created sql.NullString
		r, err := scanHistory(scanPrefix{rows, []any{&n.ID, &n.Channel, &n.Event, &n.Attempts, &created}})
		if err != nil {
			return nil, fmt.Errorf("list due notifications: %w", err)
		}
		n.CreatedAt, n.Claim = readTime(created), r
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list due notifications: %w", err)
	}
	return out, nil
}

// scanPrefix scans lead columns before the ones its caller asks for.
type scanPrefix struct {
	sc   interface{ Scan(...any) error }
	lead []any
}

func (p scanPrefix) Scan(dest ...any) error { return p.sc.Scan(append(p.lead, dest...)...) }

// NotificationsDelivered records notifications ids accepted by their
// channel: they are never delivered again.
func (s *Store) NotificationsDelivered(ctx context.Context, ids []int64, now time.Time) error {
	return s.updateNotifications(ctx, "record notifications delivered", ids,
		`UPDATE notifications SET status = 'sent', attempts = attempts + 1, error = '', updated_at = ?, next_attempt_at = NULL
		 WHERE status = 'pending' AND id IN `, formatTime(now))
}

// NotificationsRetry records a failed delivery of notifications ids: due
// again at next.
func (s *Store) NotificationsRetry(ctx context.Context, ids []int64, errText string, next, now time.Time) error {
	return s.updateNotifications(ctx, "record notifications to retry", ids,
		`UPDATE notifications SET attempts = attempts + 1, error = ?, updated_at = ?, next_attempt_at = ?
		 WHERE status = 'pending' AND id IN `, s.scrub(errText), formatTime(now), formatTime(clampTime(next)))
}

// NotificationsAbandon gives notifications ids up: failed, kept for the
// record.
func (s *Store) NotificationsAbandon(ctx context.Context, ids []int64, errText string, now time.Time) error {
	return s.updateNotifications(ctx, "give notifications up", ids,
		`UPDATE notifications SET status = 'failed', error = ?, updated_at = ?, next_attempt_at = NULL
		 WHERE status = 'pending' AND id IN `, s.scrub(errText), formatTime(now))
}

// updateNotifications runs query + "(?, ...)" over ids in chunks, lead
// parameters first, in one transaction.
func (s *Store) updateNotifications(ctx context.Context, op string, ids []int64, query string, lead ...any) error {
	if len(ids) == 0 {
		return nil
	}
	if err := s.writable(op); err != nil {
		return err
	}
	tx, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	defer tx.Rollback()
	for start := 0; start < len(ids); start += maxVars {
		chunk := ids[start:min(start+maxVars, len(ids))]
		args := append([]any{}, lead...)
		for _, id := range chunk {
			args = append(args, id)
		}
		if _, err := tx.ExecContext(ctx, query+"(?"+strings.Repeat(", ?", len(chunk)-1)+")", args...); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s: commit: %w", op, err)
	}
	return nil
}

// NotificationsQueued counts the undelivered notifications of each
// channel, due or not.
func (s *Store) NotificationsQueued(ctx context.Context) (map[string]int, error) {
	counts, err := s.NotificationCounts(ctx, NotificationPending)
	if err != nil {
		return nil, err
	}
	out := make(map[string]int, len(counts))
	for ch, m := range counts {
		out[ch] = m[NotificationPending]
	}
	return out, nil
}

// NotificationCounts counts the outbox by channel and status (only the
// statuses given, when any).
func (s *Store) NotificationCounts(ctx context.Context, statuses ...string) (map[string]map[string]int, error) {
	q := `SELECT channel, status, count(*) FROM notifications`
	var args []any
	if len(statuses) > 0 {
		q += ` WHERE status IN (?` + strings.Repeat(", ?", len(statuses)-1) + `)`
		for _, st := range statuses {
			args = append(args, st)
		}
	}
	rows, err := s.q.QueryContext(ctx, q+` GROUP BY channel, status`, args...)
	if err != nil {
		return nil, fmt.Errorf("count notifications: %w", err)
	}
	defer rows.Close()
	out := map[string]map[string]int{}
	for rows.Next() {
		var ch, st string
		var n int
		if err := rows.Scan(&ch, &st, &n); err != nil {
			return nil, fmt.Errorf("count notifications: %w", err)
		}
		if out[ch] == nil {
			out[ch] = map[string]int{}
		}
		out[ch][st] = n
	}
	return out, rows.Err()
}

// InboxCounts counts the claims waiting for a person (flagged, held).
func (s *Store) InboxCounts(ctx context.Context) (map[string]int, error) {
	rows, err := s.q.QueryContext(ctx,
		`SELECT status, count(*) FROM replies WHERE status IN (?, ?) GROUP BY status`,
		model.StatusFlagged, model.StatusHeld)
	if err != nil {
		return nil, fmt.Errorf("count the inbox: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, fmt.Errorf("count the inbox: %w", err)
		}
		out[st] = n
	}
	return out, rows.Err()
}
