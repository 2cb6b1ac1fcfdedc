package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/internal/testutil"
	"github.com/autoreplyd/autoreplyd/model"
)

var (
	year10000 = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	yearMinus = time.Date(-5, 1, 1, 0, 0, 0, 0, time.UTC)
	// lastStored is the last instant TimeLayout writes.
	lastStored = time.Date(9999, 12, 31, 23, 59, 59, 999_000_000, time.UTC)
)

// No time is written that the store cannot read back: a comment's
// impossible create time and a thread's impossible poll times become NULL
// (unknown), deadlines are clamped into the years 1-9999 (keeping their
// meaning), and a clock outside them refuses the write.
func TestWritesNeverUnreadableTimes(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	ctx := context.Background()

	// A comment's create time: NULL, the rest of the row kept.
	far, past := comment("1"), comment("2")
	far.CreatedAt, past.CreatedAt = year10000, yearMinus
	a := mustRecord(t, s, far, t0, pending("r"))
	mustRecord(t, s, past, t0, pending("r"))
	rows, err := s.History(ctx, Filter{})
	if err != nil {
		t.Fatalf("History: %v", err)
	}
	if len(rows) != 2 || !rows[0].CommentCreatedAt.IsZero() || !rows[1].CommentCreatedAt.IsZero() || !rows[0].CreatedAt.Equal(t0) {
		t.Fatalf("rows %+v", rows)
	}

	// A retry due after 9999 is due never, and readable.
	if err := s.Settle(ctx, a[0].ID, Settlement{Status: model.StatusRetrying, NextAttempt: year10000}, t0); err != nil {
		t.Fatalf("Settle: %v", err)
	}
	if r, err := s.ClaimRow(ctx, a[0].ID); err != nil || !r.NextAttemptAt.Equal(lastStored) {
		t.Fatalf("next attempt %v, %v; want %v", r.NextAttemptAt, err, lastStored)
	}
	if due, err := s.DueRetries(ctx, t0.AddDate(100, 0, 0), 0); err != nil || len(due) != 0 {
		t.Fatalf("due %+v, %v", due, err)
	}
	// A hold until before year 1 is due now.
	held := mustRecord(t, s, comment("3"), t0, pending("r"))
	if err := s.Hold(ctx, held[0].ID, "paused", "held", yearMinus, t0); err != nil {
		t.Fatalf("Hold: %v", err)
	}
	if due, err := s.DueRetries(ctx, t0, 0); err != nil || len(due) != 1 || due[0].ID != held[0].ID {
		t.Fatalf("due %+v, %v", due, err)
	}

	// Pauses: past 9999 stays far off, before year 1 has ended (never "until
	// cleared", which the zero time would say).
	if err := s.SetPause(ctx, "source:douyin", year10000, "quota", t0); err != nil {
		t.Fatal(err)
	}
	if err := s.SetPause(ctx, "source:weibo", yearMinus, "old", t0); err != nil {
		t.Fatal(err)
	}
	ps, err := s.Pauses(ctx)
	if err != nil || len(ps) != 2 || !ps[0].Until.Equal(lastStored) || ps[1].Until.IsZero() || !ps[1].Until.Before(t0) {
		t.Fatalf("pauses %+v, %v", ps, err)
	}

	// A thread's poll times: NULL, never/unknown.
	if err := s.SaveThreadState(ctx, model.ThreadState{Platform: "douyin", ThreadID: "7", Initialized: true,
		LastFullScan: yearMinus, LastPolled: year10000, NextPoll: year10000}); err != nil {
		t.Fatal(err)
	}
	st, ok, err := s.ThreadState(ctx, "douyin", "7")
	if err != nil || !ok || !st.Initialized || !st.LastFullScan.IsZero() || !st.LastPolled.IsZero() || !st.NextPoll.IsZero() {
		t.Fatalf("state %+v %v %v", st, ok, err)
	}

	// Query bounds beyond the storable years select what the years' ends do.
	if rows, err := s.History(ctx, Filter{Since: yearMinus, Until: year10000}); err != nil || len(rows) != 3 {
		t.Fatalf("History over all time: %d rows, %v", len(rows), err)
	}
	if sr, err := s.Stats(ctx, StatsFilter{Since: yearMinus, Until: year10000}, nil); err != nil || len(sr) == 0 {
		t.Fatalf("Stats over all time: %+v, %v", sr, err)
	}

	// The clock's own time outside the years: refused, saying why, and
	// nothing written.
	before, _ := s.Counts(ctx)
	_, err = s.Record(ctx, comment("4"), model.DispositionEvaluated, []Claim{pending("r")}, year10000)
	if err == nil || !strings.Contains(err.Error(), "clock") || !strings.Contains(err.Error(), "record comment") {
		t.Fatalf("Record at year 10000: %v", err)
	}
	if k, _ := s.Known(ctx, "douyin", []string{"4"}); k["4"] {
		t.Fatal("a comment was recorded on a broken clock")
	}
	b := mustRecord(t, s, comment("5"), t0, pending("r"))
	if err := s.Settle(ctx, b[0].ID, Settlement{Status: model.StatusSent}, year10000); err == nil || !strings.Contains(err.Error(), "clock") {
		t.Fatalf("Settle at year 10000: %v", err)
	}
	if err := s.SetPause(ctx, "responder:kitkot", time.Time{}, "x", yearMinus); err == nil {
		t.Fatal("SetPause before year 1 accepted")
	}
	after, _ := s.Counts(ctx)
	if after[model.StatusPending] != before[model.StatusPending]+1 {
		t.Fatalf("counts %v -> %v: the refused Settle changed something", before, after)
	}
}

// poison writes, with raw SQL as an older version or a hand edit could
// have, timestamps no reader parses into every time column.
func poison(t *testing.T, s *Store, stmts ...string) {
	t.Helper()
	for _, q := range stmts {
		if _, err := s.db.ExecContext(context.Background(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// One row with an unreadable time never stops a query that serves the
// others: every reader returns every row, the bad time as unknown (zero).
func TestReadersSurvivePoisonedRows(t *testing.T) {
	t.Parallel()
	s, path := openTest(t)
	ctx := context.Background()
	var ids []int64
	for _, id := range []string{"1", "2", "3", "4"} {
		ids = append(ids, mustRecord(t, s, comment(id), t0, pending("r"))[0].ID)
	}
	for _, id := range ids {
		if err := s.Settle(ctx, id, Settlement{Status: model.StatusRetrying, Error: "HTTP 503", NextAttempt: t0.Add(time.Minute)}, t0); err != nil {
			t.Fatal(err)
		}
	}
	for _, th := range []string{"a", "b"} {
		if err := s.SaveThreadState(ctx, model.ThreadState{Platform: "douyin", ThreadID: th, Initialized: true, LastPolled: t0}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SetPause(ctx, "source:douyin", t0.Add(time.Hour), "quota", t0); err != nil {
		t.Fatal(err)
	}
	if err := s.SetPause(ctx, "responder:kitkot", t0.Add(time.Hour), "breaker", t0); err != nil {
		t.Fatal(err)
	}
	poison(t, s,
		`UPDATE comments SET comment_created_at = '10000-01-01T00:00:00.000Z' WHERE comment_id = '1'`,
		`UPDATE comments SET comment_created_at = 'abc' WHERE comment_id = '2'`,
		`UPDATE replies SET created_at = '10000-01-01T00:00:00.000Z', updated_at = 'abc' WHERE comment_id = '3'`,
		`UPDATE replies SET next_attempt_at = '2025-03-01T08:00:00.000Z', updated_at = '-0001-01-01T00:00:00.000Z' WHERE comment_id = '4'`,
		`UPDATE threads SET last_polled = 'abc', next_poll = '10000-01-01T00:00:00.000Z', last_full_scan = '' WHERE thread_id = 'a'`,
		`UPDATE pauses SET until = 'abc', created_at = '10000-01-01T00:00:00.000Z' WHERE scope = 'source:douyin'`,
	)

	due, err := s.DueRetries(ctx, t0.Add(time.Hour), 0)
	if err != nil || len(due) != 4 {
		t.Fatalf("DueRetries: %d due, %v; want all 4", len(due), err)
	}
	for _, it := range due {
		switch it.Comment.ID {
		case "1", "2":
			if !it.Comment.CreatedAt.IsZero() || !it.CreatedAt.Equal(t0) {
				t.Errorf("claim of %s: comment created %v, claim created %v", it.Comment.ID, it.Comment.CreatedAt, it.CreatedAt)
			}
		case "3":
			if !it.CreatedAt.IsZero() {
				t.Errorf("claim of 3 created %v, want unknown", it.CreatedAt)
			}
		}
	}

	for _, st := range []*Store{s, mustOpenReadOnly(t, path)} {
		rows, err := st.History(ctx, Filter{})
		if err != nil || len(rows) != 4 {
			t.Fatalf("History: %d rows, %v", len(rows), err)
		}
		byComment := map[string]HistoryRow{}
		for _, r := range rows {
			byComment[r.CommentID] = r
		}
		if !byComment["1"].CommentCreatedAt.IsZero() || !byComment["2"].CommentCreatedAt.IsZero() ||
			!byComment["3"].CreatedAt.IsZero() || !byComment["3"].UpdatedAt.IsZero() || !byComment["4"].UpdatedAt.IsZero() ||
			!byComment["4"].CreatedAt.Equal(t0) {
			t.Errorf("history times: %+v", rows)
		}
		for _, id := range ids {
			if _, err := st.ClaimRow(ctx, id); err != nil {
				t.Errorf("ClaimRow %d: %v", id, err)
			}
		}
		ths, err := st.ThreadStates(ctx, "douyin")
		if err != nil || len(ths) != 2 || !ths["a"].LastPolled.IsZero() || !ths["a"].NextPoll.IsZero() || !ths["b"].LastPolled.Equal(t0) {
			t.Errorf("ThreadStates: %+v, %v", ths, err)
		}
		if _, ok, err := st.ThreadState(ctx, "douyin", "a"); err != nil || !ok {
			t.Errorf("ThreadState: %v %v", ok, err)
		}
		ps, err := st.Pauses(ctx)
		if err != nil || len(ps) != 2 {
			t.Fatalf("Pauses: %+v, %v", ps, err)
		}
		// An unreadable end: the pause holds until cleared.
		if ps[1].Scope != "source:douyin" || !ps[1].Until.IsZero() || !ps[1].CreatedAt.IsZero() || !ps[0].Until.Equal(t0.Add(time.Hour)) {
			t.Errorf("pauses %+v", ps)
		}
		sr, err := st.Stats(ctx, StatsFilter{}, time.UTC)
		if err != nil {
			t.Fatalf("Stats: %v", err)
		}
		total, unknown := 0, 0
		for _, r := range sr {
			total += r.Count
			if r.Day == "unknown" {
				unknown += r.Count
			}
		}
		if total != 4 || unknown != 1 || sr[len(sr)-1].Day != "unknown" {
			t.Errorf("stats %+v", sr)
		}
	}
}

func mustOpenReadOnly(t *testing.T, path string) *Store {
	t.Helper()
	ro, err := OpenReadOnly(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { testutil.Close(t, ro) })
	return ro
}

// A read-only store refuses writes as before: the clock check comes after.
func TestReadOnlyRefusesBeforeClock(t *testing.T) {
	t.Parallel()
	_, path := openTest(t)
	ro := mustOpenReadOnly(t, path)
	if _, err := ro.Record(context.Background(), comment("1"), model.DispositionEvaluated, nil, year10000); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("Record on a read-only store: %v", err)
	}
}
