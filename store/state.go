package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/autoreplyd/autoreplyd/model"
)

// threadColumns are the columns scanThread reads, in its order.
const threadColumns = `thread_id, initialized, total, known, listing_order, page_size, cursor, polls,
	last_full_scan, last_polled, idle_polls, next_poll`

// scanThread reads one threads row selected with threadColumns.
func scanThread(row interface{ Scan(...any) error }, platform string) (model.ThreadState, error) {
	st := model.ThreadState{Platform: platform}
	var full, polled, next sql.NullString
	err := row.Scan(&st.ThreadID, &st.Initialized, &st.Total, &st.Known, &st.Order, &st.PageSize, &st.Cursor, &st.Polls,
		&full, &polled, &st.IdlePolls, &next)
	if err != nil {
		return st, err
	}
	// An unreadable time is unknown: never scanned, never polled, due now.
	st.LastFullScan, st.LastPolled, st.NextPoll = readTime(full), readTime(polled), readTime(next)
	return st, nil
}

// ThreadState returns the saved poll state of a thread; false when the thread
// was never saved (the zero ThreadState then means "never polled").
func (s *Store) ThreadState(ctx context.Context, platform, threadID string) (model.ThreadState, bool, error) {
	st, err := scanThread(s.q.QueryRowContext(ctx,
		`SELECT `+threadColumns+` FROM threads WHERE platform = ? AND thread_id = ?`, platform, threadID), platform)
	if errors.Is(err, sql.ErrNoRows) {
		return model.ThreadState{}, false, nil
	}
	if err != nil {
		return model.ThreadState{}, false, fmt.Errorf("load state of %s thread %s: %w", platform, threadID, err)
	}
	return st, true, nil
}

// ThreadStates returns the saved poll state of every thread of platform, by
// thread id: one query per cycle instead of one per thread.
func (s *Store) ThreadStates(ctx context.Context, platform string) (map[string]model.ThreadState, error) {
	rows, err := s.q.QueryContext(ctx, `SELECT `+threadColumns+` FROM threads WHERE platform = ?`, platform)
	if err != nil {
		return nil, fmt.Errorf("load %s thread states: %w", platform, err)
	}
	defer rows.Close()
	out := map[string]model.ThreadState{}
	for rows.Next() {
		st, err := scanThread(rows, platform)
		if err != nil {
			return nil, fmt.Errorf("load %s thread states: %w", platform, err)
		}
		out[st.ThreadID] = st
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load %s thread states: %w", platform, err)
	}
	return out, nil
}

// SaveThreadState inserts or replaces the poll state of st's thread, with
// the thread's configured labels (see SetThreadLabels).
func (s *Store) SaveThreadState(ctx context.Context, st model.ThreadState) error {
	if err := s.writable("save thread state"); err != nil {
		return err
	}
	if st.Platform == "" || st.ThreadID == "" {
		return fmt.Errorf("save thread state: platform and thread id are required (got %q, %q)", st.Platform, st.ThreadID)
	}
	_, err := s.stmt(ctx, nil, s.stmts.saveThread).ExecContext(ctx,
		st.Platform, st.ThreadID, st.Initialized, st.Total, st.Known, st.Order, st.PageSize,
		st.Cursor, st.Polls, nullTime(st.LastFullScan), nullTime(st.LastPolled), st.IdlePolls, nullTime(st.NextPoll),
		s.labels.get(st.Platform, st.ThreadID))
	if err != nil {
		return fmt.Errorf("save state of %s thread %s: %w", st.Platform, st.ThreadID, err)
	}
	return nil
}

// Pause is a persisted pause of a source or responder.
type Pause struct {
	Scope     string    // "source:douyin", "responder:kitkot", ...
	Reason    string    // why, for logs and /-/ready
	Until     time.Time // zero: until cleared
	CreatedAt time.Time
}

// SetPause pauses scope until until (zero: indefinitely), replacing any
// earlier pause of the same scope.
func (s *Store) SetPause(ctx context.Context, scope string, until time.Time, reason string, now time.Time) error {
	if err := s.writableAt("set pause", now); err != nil {
		return err
	}
	if scope == "" {
		return errors.New("set pause: empty scope")
	}
	until = clampTime(until) // storable: past 9999 stays far off, before year 1 has ended
	_, err := s.q.ExecContext(ctx,
		`INSERT INTO pauses (scope, until, reason, created_at) VALUES (?, ?, ?, ?)
		 ON CONFLICT (scope) DO UPDATE SET
		   until = excluded.until, reason = excluded.reason, created_at = excluded.created_at`,
		scope, nullTime(until), s.scrub(reason), formatTime(now))
	if err != nil {
		return fmt.Errorf("set pause of %s: %w", scope, err)
	}
	return nil
}

// Pauses returns every stored pause, expired ones included (the caller
// compares Until with its clock), ordered by scope.
func (s *Store) Pauses(ctx context.Context) ([]Pause, error) {
	rows, err := s.q.QueryContext(ctx, `SELECT scope, until, reason, created_at FROM pauses ORDER BY scope`)
	if err != nil {
		return nil, fmt.Errorf("list pauses: %w", err)
	}
	defer rows.Close()
	var ps []Pause
	for rows.Next() {
		var p Pause
		var until, created sql.NullString
		if err := rows.Scan(&p.Scope, &until, &p.Reason, &created); err != nil {
			return nil, fmt.Errorf("list pauses: %w", err)
		}
		// An unreadable until is zero: the pause holds until cleared
		// (autoreplyd resume), the careful reading of a pause whose end
		// is not known.
		p.Until, p.CreatedAt = readTime(until), readTime(created)
		ps = append(ps, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list pauses: %w", err)
	}
	return ps, nil
}

// ClearPause removes the pause of scope; clearing an absent pause is not an
// error.
func (s *Store) ClearPause(ctx context.Context, scope string) error {
	if err := s.writable("clear pause"); err != nil {
		return err
	}
	if _, err := s.q.ExecContext(ctx, `DELETE FROM pauses WHERE scope = ?`, scope); err != nil {
		return fmt.Errorf("clear pause of %s: %w", scope, err)
	}
	return nil
}
