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

// statesPerInsert is how many thread states one multi-row upsert of
// SaveThreadStates carries: 14 parameters each, well within SQLite's 32,766
// and PostgreSQL's 65,535 parameters a statement.
const statesPerInsert = 500

// SaveThreadStates saves many threads' states, as SaveThreadState does for
// one, in multi-row statements: on PostgreSQL each statement is a round
// trip, and 10,000 idle threads' states one at a time took 1.6 s a cycle
// (BenchmarkSaveIdleStates). A thread whose labels were never set (its row
// keeps its own) is saved on its own, as by SaveThreadState. Call it in a
// Batch to have them all in one commit.
func (s *Store) SaveThreadStates(ctx context.Context, states []model.ThreadState) error {
	if err := s.writable("save thread states"); err != nil {
		return err
	}
	rows := make([]any, 0, min(len(states), statesPerInsert)*14)
	n := 0
	// in holds the threads of the statement being built: PostgreSQL
	// refuses an upsert that changes one row twice, so a thread seen again
	// starts the next statement (the later state wins, as in order).
	in := map[threadKey]bool{}
	flush := func() error {
		if n == 0 {
			return nil
		}
		var err error
		if n == statesPerInsert {
			_, err = s.stmt(ctx, nil, s.stmts.saveThreads).ExecContext(ctx, rows...)
		} else {
			_, err = s.q.ExecContext(ctx, sqlSaveThreadStates(n), rows...)
		}
		if err != nil {
			return fmt.Errorf("save the states of %d threads: %w", n, err)
		}
		rows, n = rows[:0], 0
		clear(in)
		return nil
	}
	for _, st := range states {
		if st.Platform == "" || st.ThreadID == "" {
			return fmt.Errorf("save thread state: platform and thread id are required (got %q, %q)", st.Platform, st.ThreadID)
		}
		labels := s.labels.get(st.Platform, st.ThreadID)
		if labels == nil {
			if err := s.SaveThreadState(ctx, st); err != nil {
				return err
			}
			continue
		}
		k := threadKey{st.Platform, st.ThreadID}
		if in[k] {
			if err := flush(); err != nil {
				return err
			}
		}
		in[k] = true
		rows = append(rows, st.Platform, st.ThreadID, st.Initialized, st.Total, st.Known, st.Order, st.PageSize,
			st.Cursor, st.Polls, nullTime(st.LastFullScan), nullTime(st.LastPolled), st.IdlePolls, nullTime(st.NextPoll), labels)
		if n++; n == statesPerInsert {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// sqlSaveThreadStates is the upsert of n thread states, each with its
// labels.
func sqlSaveThreadStates(n int) string {
	var b strings.Builder
	b.Grow(n*48 + 1024)
	b.WriteString(`INSERT INTO threads (platform, thread_id, initialized, total, known, listing_order, page_size,
		   cursor, polls, last_full_scan, last_polled, idle_polls, next_poll, labels) VALUES `)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
	}
	b.WriteString(`
		 ON CONFLICT (platform, thread_id) DO UPDATE SET
		   initialized = excluded.initialized, total = excluded.total, known = excluded.known,
		   listing_order = excluded.listing_order, page_size = excluded.page_size,
		   cursor = excluded.cursor, polls = excluded.polls,
		   last_full_scan = excluded.last_full_scan, last_polled = excluded.last_polled,
		   idle_polls = excluded.idle_polls, next_poll = excluded.next_poll,
		   labels = excluded.labels`)
	return b.String()
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
