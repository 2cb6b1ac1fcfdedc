package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/autoreplyd/autoreplyd/model"
)

// ThreadState returns the saved poll state of a thread; false when the thread
// was never saved (the zero ThreadState then means "never polled").
func (s *Store) ThreadState(ctx context.Context, platform, threadID string) (model.ThreadState, bool, error) {
	st := model.ThreadState{Platform: platform, ThreadID: threadID}
	var full, polled sql.NullString
	err := s.db.QueryRowContext(ctx,
		`SELECT initialized, total, known, listing_order, page_size, cursor, polls, last_full_scan, last_polled
		 FROM threads WHERE platform = ? AND thread_id = ?`, platform, threadID).
		Scan(&st.Initialized, &st.Total, &st.Known, &st.Order, &st.PageSize, &st.Cursor, &st.Polls, &full, &polled)
	if errors.Is(err, sql.ErrNoRows) {
		return model.ThreadState{}, false, nil
	}
	if err != nil {
		return model.ThreadState{}, false, fmt.Errorf("load state of %s thread %s: %w", platform, threadID, err)
	}
	if st.LastFullScan, err = parseTime(full); err != nil {
		return model.ThreadState{}, false, fmt.Errorf("load state of %s thread %s: %w", platform, threadID, err)
	}
	if st.LastPolled, err = parseTime(polled); err != nil {
		return model.ThreadState{}, false, fmt.Errorf("load state of %s thread %s: %w", platform, threadID, err)
	}
	return st, true, nil
}

// SaveThreadState inserts or replaces the poll state of st's thread.
func (s *Store) SaveThreadState(ctx context.Context, st model.ThreadState) error {
	if err := s.writable("save thread state"); err != nil {
		return err
	}
	if st.Platform == "" || st.ThreadID == "" {
		return fmt.Errorf("save thread state: platform and thread id are required (got %q, %q)", st.Platform, st.ThreadID)
	}
	_, err := s.db.ExecContext(ctx,
		`INSERT INTO threads (platform, thread_id, initialized, total, known, listing_order, page_size,
		   cursor, polls, last_full_scan, last_polled)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		 ON CONFLICT (platform, thread_id) DO UPDATE SET
		   initialized = excluded.initialized, total = excluded.total, known = excluded.known,
		   listing_order = excluded.listing_order, page_size = excluded.page_size,
		   cursor = excluded.cursor, polls = excluded.polls,
		   last_full_scan = excluded.last_full_scan, last_polled = excluded.last_polled`,
		st.Platform, st.ThreadID, st.Initialized, st.Total, st.Known, st.Order, st.PageSize,
		st.Cursor, st.Polls, nullTime(st.LastFullScan), nullTime(st.LastPolled))
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
	if err := s.writable("set pause"); err != nil {
		return err
	}
	if scope == "" {
		return errors.New("set pause: empty scope")
	}
	_, err := s.db.ExecContext(ctx,
		`INSERT INTO pauses (scope, until, reason, created_at) VALUES (?, ?, ?, ?)
		 ON CONFLICT (scope) DO UPDATE SET
		   until = excluded.until, reason = excluded.reason, created_at = excluded.created_at`,
		scope, nullTime(until), reason, formatTime(now))
	if err != nil {
		return fmt.Errorf("set pause of %s: %w", scope, err)
	}
	return nil
}

// Pauses returns every stored pause, expired ones included (the caller
// compares Until with its clock), ordered by scope.
func (s *Store) Pauses(ctx context.Context) ([]Pause, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT scope, until, reason, created_at FROM pauses ORDER BY scope`)
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
		if p.Until, err = parseTime(until); err != nil {
			return nil, fmt.Errorf("list pauses: %s: %w", p.Scope, err)
		}
		if p.CreatedAt, err = parseTime(created); err != nil {
			return nil, fmt.Errorf("list pauses: %s: %w", p.Scope, err)
		}
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
	if _, err := s.db.ExecContext(ctx, `DELETE FROM pauses WHERE scope = ?`, scope); err != nil {
		return fmt.Errorf("clear pause of %s: %w", scope, err)
	}
	return nil
}
