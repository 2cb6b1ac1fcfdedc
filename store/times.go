package store

import (
	"database/sql"
	"fmt"
	"time"
)

// Every time the store writes must read back: TimeLayout has four-digit
// years, so a time past 9999 (a platform's milliseconds taken for seconds,
// "1e300") was written as text no reader parses, and one such row made
// history fail and stopped every due retry. Each column is written in one
// of three ways, by what its value means:
//
//   - the daemon's clock (created_at, updated_at, seen_at, a pause's
//     created_at): checkClock refuses a write outside the storable years
//     with an error saying so. Only a broken clock reads that; nothing is
//     claimed or settled on its word, and since a claim is committed before
//     its send, a refused claim is never sent.
//   - a time that may be unknown (comment_created_at, last_full_scan,
//     last_polled, next_poll): nullTime writes NULL, "unknown" or "never",
//     which the readers and the poller already handle.
//   - a deadline whose NULL means something else (next_attempt_at: NULL is
//     never due; a pause's until: NULL is until cleared), and the bounds of
//     queries: clampTime and formatTime move it into the storable years,
//     which keeps the meaning (a retry due after 9999 is due never, one
//     before year 1 is due now; a bound before year 1 selects what year 1
//     does).
//
// Readers (readTime) take any text they cannot parse, rows written by older
// versions included, as an unknown (zero) time: one bad row never stops a
// query that serves others.

var (
	// minStored and maxStored are the first and last instants TimeLayout
	// writes and reads back.
	minStored = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	maxStored = time.Date(9999, 12, 31, 23, 59, 59, 999_000_000, time.UTC)
)

// storable reports whether t is within the years TimeLayout writes.
func storable(t time.Time) bool { return !t.Before(minStored) && !t.After(maxStored) }

// clampTime is t moved into the storable years. The zero time is kept; a
// time before year 1 becomes the first instant after it, since the zero time
// itself means "none" (NULL) to every column.
func clampTime(t time.Time) time.Time {
	switch {
	case t.Before(minStored):
		return minStored.Add(time.Millisecond)
	case t.After(maxStored):
		return maxStored
	}
	return t
}

// formatTime renders t in TimeLayout, clamped into the storable years.
func formatTime(t time.Time) string { return clampTime(t).UTC().Format(TimeLayout) }

// nullTime renders t in TimeLayout, or NULL (unknown) for the zero time and
// for a time outside the storable years.
func nullTime(t time.Time) sql.NullString {
	if t.IsZero() || !storable(t) {
		return sql.NullString{}
	}
	return sql.NullString{String: formatTime(t), Valid: true}
}

// checkClock refuses now, the clock's time of a write, when it is outside
// the storable years.
func checkClock(now time.Time) error {
	if !storable(now) {
		return fmt.Errorf("the clock reads %s, outside the years 0001-9999 the database stores: fix the system clock", now.UTC().Format(time.RFC3339))
	}
	return nil
}

// readLayouts are the forms readTime accepts: TimeLayout, and the forms an
// analyst's hand edit in sqlite3 may leave (RFC 3339, datetime()).
var readLayouts = []string{TimeLayout, time.RFC3339Nano, time.DateTime}

// readTime reads a stored timestamp. NULL, empty and unreadable text (a
// row written by an older version, a hand edit) are the zero time:
// unknown.
func readTime(v sql.NullString) time.Time {
	if !v.Valid || v.String == "" {
		return time.Time{}
	}
	for _, layout := range readLayouts {
		if t, err := time.Parse(layout, v.String); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// writableAt is writable, and also refuses now, the clock's time that the
// write op records, outside the storable years.
func (s *Store) writableAt(op string, now time.Time) error {
	if err := s.writable(op); err != nil {
		return err
	}
	if err := checkClock(now); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}
