package poller

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/model"
)

func TestAdaptiveOfDefaults(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		b      Binding
		period time.Duration
		want   adaptive
	}{
		{"off", Binding{}, time.Minute, adaptive{period: time.Minute, quiet: DefaultQuietPolls}},
		{"set", Binding{MaxInterval: time.Hour, QuietPolls: 5}, 2 * time.Minute, adaptive{period: 2 * time.Minute, max: time.Hour, quiet: 5}},
		{"no period", Binding{MaxInterval: time.Hour}, 0, adaptive{period: DefaultPeriod, max: time.Hour, quiet: DefaultQuietPolls}},
		{"negative", Binding{MaxInterval: -time.Hour, QuietPolls: -1}, -time.Second, adaptive{period: DefaultPeriod, quiet: DefaultQuietPolls}},
	} {
		if got := adaptiveOf(tc.b, tc.period); got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func TestAdaptiveInterval(t *testing.T) {
	t.Parallel()
	m := time.Minute
	std := adaptive{period: m, max: 15 * m, quiet: 3}
	for _, tc := range []struct {
		name string
		a    adaptive
		idle int64
		want time.Duration
	}{
		{"first empty poll", std, 1, 0},
		{"still not quiet", std, 2, 0},
		{"quiet: two periods", std, 3, 2 * m},
		{"doubling", std, 4, 4 * m},
		{"doubling again", std, 5, 8 * m},
		{"capped", std, 6, 15 * m},
		{"stays capped", std, 7, 15 * m},
		{"long quiet", std, 10_000, 15 * m},
		{"no overflow", std, math.MaxInt64, 15 * m},
		{"off", adaptive{period: m, quiet: 3}, 100, 0},
		{"quiet_polls 1", adaptive{period: m, max: 15 * m, quiet: 1}, 1, 2 * m},
		{"max not a power of two", adaptive{period: m, max: 5 * m, quiet: 3}, 5, 5 * m},
		{"max below the period", adaptive{period: m, max: 30 * time.Second, quiet: 3}, 3, 30 * time.Second},
		{"huge max, tiny period", adaptive{period: time.Nanosecond, max: math.MaxInt64, quiet: 1}, math.MaxInt64, math.MaxInt64},
		{"huge max, 40 doublings", adaptive{period: time.Nanosecond, max: math.MaxInt64, quiet: 1}, 40, 1 << 40},
	} {
		if got := tc.a.interval(tc.idle, 0); got != tc.want {
			t.Errorf("%s: interval(%d) = %s, want %s", tc.name, tc.idle, got, tc.want)
		}
	}
}

// After a longer gap than the count says (long cycles, a backlog of quiet
// threads, a restart), the next interval is twice that gap, at most max; the
// first back-off is two periods whatever the gap.
func TestAdaptiveIntervalFromGap(t *testing.T) {
	t.Parallel()
	m := time.Minute
	std := adaptive{period: m, max: 15 * m, quiet: 3}
	for _, tc := range []struct {
		name string
		idle int64
		gap  time.Duration
		want time.Duration
	}{
		{"not quiet", 2, time.Hour, 0},
		{"first back-off", 3, 10 * m, 2 * m},
		{"gap as the count says", 4, 2 * m, 4 * m},
		{"gap shorter (a cycle early)", 4, 90 * time.Second, 4 * m},
		{"gap longer", 4, 5 * m, 10 * m},
		{"gap past half of max", 4, 8 * m, 15 * m},
		{"a day down", 5, 24 * time.Hour, 15 * m},
		{"overflowing gap", 5, math.MaxInt64, 15 * m},
	} {
		if got := std.interval(tc.idle, tc.gap); got != tc.want {
			t.Errorf("%s: interval(%d, %s) = %s, want %s", tc.name, tc.idle, tc.gap, got, tc.want)
		}
	}
	// In after: the gap is from the poll before (prev.LastPolled).
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	prev := model.ThreadState{IdlePolls: 3, LastPolled: now.Add(-5 * m)}
	if got := std.after(prev, model.ThreadState{LastPolled: now}, 0, now); !got.NextPoll.Equal(now.Add(10*m - 30*time.Second)) {
		t.Errorf("after a 5 min gap: next %s, want in 9m30s", got.NextPoll.Sub(now))
	}
}

func TestAdaptiveAfter(t *testing.T) {
	t.Parallel()
	m := time.Minute
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	std := adaptive{period: m, max: 15 * m, quiet: 3}
	stale := now.Add(-time.Hour) // a NextPoll the source copied from prev
	for _, tc := range []struct {
		name      string
		a         adaptive
		prev, st  model.ThreadState
		found     int
		wantIdle  int64
		wantNext  time.Time
		wantPolls int64 // what the source set is kept
	}{
		{"activity snaps back", std, model.ThreadState{IdlePolls: 9, NextPoll: stale}, model.ThreadState{IdlePolls: 9, NextPoll: stale, Polls: 4}, 2, 0, time.Time{}, 4},
		{"first empty poll", std, model.ThreadState{}, model.ThreadState{Polls: 1}, 0, 1, time.Time{}, 1},
		{"not quiet yet", std, model.ThreadState{IdlePolls: 1}, model.ThreadState{IdlePolls: 1, Polls: 2}, 0, 2, time.Time{}, 2},
		{"quiet: half a period early", std, model.ThreadState{IdlePolls: 2}, model.ThreadState{Polls: 3}, 0, 3, now.Add(2*m - 30*time.Second), 3},
		{"capped", std, model.ThreadState{IdlePolls: 40, NextPoll: stale}, model.ThreadState{IdlePolls: 40, NextPoll: stale}, 0, 41, now.Add(15*m - 30*time.Second), 0},
		{"counted from prev, not from the source's state", std, model.ThreadState{IdlePolls: 3}, model.ThreadState{}, 0, 4, now.Add(4*m - 30*time.Second), 0},
		{"off: counted, never deferred", adaptive{period: m, quiet: 3}, model.ThreadState{IdlePolls: 10, NextPoll: stale}, model.ThreadState{NextPoll: stale}, 0, 11, time.Time{}, 0},
	} {
		got := tc.a.after(tc.prev, tc.st, tc.found, now)
		if got.IdlePolls != tc.wantIdle || !got.NextPoll.Equal(tc.wantNext) || got.Polls != tc.wantPolls {
			t.Errorf("%s: idle %d next %s polls %d; want idle %d next %s polls %d", tc.name,
				got.IdlePolls, got.NextPoll, got.Polls, tc.wantIdle, tc.wantNext, tc.wantPolls)
		}
	}
}

func TestAdaptiveDue(t *testing.T) {
	t.Parallel()
	m := time.Minute
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	std := adaptive{period: m, max: 15 * m, quiet: 3}
	at := func(d time.Duration) model.ThreadState {
		return model.ThreadState{Initialized: true, IdlePolls: 5, NextPoll: now.Add(d)}
	}
	for _, tc := range []struct {
		name string
		a    adaptive
		prev model.ThreadState
		want bool
	}{
		{"never seen", std, model.ThreadState{}, true},
		{"active", std, model.ThreadState{Initialized: true}, true},
		{"not yet", std, at(time.Second), false},
		{"not for max", std, at(15 * m), false},
		{"exactly due", std, at(0), true},
		{"overdue", std, at(-time.Hour), true},
		{"off", adaptive{period: m, quiet: 3}, at(10 * m), true},
		{"set under a larger max_interval", std, at(15*m + time.Second), true},
		{"clock set back a day", std, at(24 * time.Hour), true},
	} {
		if got := tc.a.due(tc.prev, now); got != tc.want {
			t.Errorf("%s: due = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// A thread that never finds anything is polled at cycles 0, 1, 2, then 2,
// 4, 8 and 15 cycles apart; cycles that start up to half a period early do
// not change that.
func TestAdaptiveSequence(t *testing.T) {
	t.Parallel()
	m := time.Minute
	a := adaptive{period: m, max: 15 * m, quiet: 3}
	start := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	want := []int{0, 1, 2, 4, 8, 16, 31, 46, 61, 76, 91}
	for _, early := range []time.Duration{0, 10 * time.Second, 29 * time.Second} {
		var st model.ThreadState
		var polled []int
		for k := range 100 {
			now := start.Add(time.Duration(k)*m - early*time.Duration(k%2)) // every other cycle early
			if !a.due(st, now) {
				continue
			}
			polled = append(polled, k)
			cur := st
			cur.LastPolled = now // as the sources do: the gap counts too
			st = a.after(st, cur, 0, now)
		}
		if !slices.Equal(polled, want) {
			t.Errorf("cycles early by %s: polled at %v, want %v", early, polled, want)
		}
	}
}
