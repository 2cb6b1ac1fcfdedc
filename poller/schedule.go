package poller

import (
	"time"

	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/platform"
)

// Adaptive polling: a thread with recent activity is polled every cycle; a
// thread whose polls keep finding nothing backs off, each interval twice the
// last, up to Binding.MaxInterval, and is polled every cycle again as soon as
// a poll finds something. The cost is reaction time on a quiet thread that
// wakes up: at worst MaxInterval later than without adaptive polling.
//
// The intervals count cycles: their unit is the schedule's period, or the
// last cycle's length when that was longer (10,000 threads at 100 calls a
// second take 100 s to poll once, whatever the schedule says). Counting in
// periods instead, a quiet thread would be polled every one of those long
// cycles until its interval outgrew them; counting in cycles, the back-off
// catches up with the load, and cycles shorten as threads back off.

const (
	// DefaultQuietPolls is Binding.QuietPolls when unset: the config's (see
	// package platform).
	DefaultQuietPolls = platform.DefaultQuietPolls
	// DefaultPeriod is Options.Period when unset: the default schedule's
	// (@every 1m).
	DefaultPeriod = time.Minute
)

// adaptive is one source's adaptive polling settings.
type adaptive struct {
	period time.Duration // one cycle: the schedule's period or the last cycle's length
	max    time.Duration // the longest interval; 0 turns adaptive polling off
	quiet  int64         // empty polls in a row before a thread backs off
}

// adaptiveOf is b's adaptive polling with period, defaults filled in.
func adaptiveOf(b Binding, period time.Duration) adaptive {
	a := adaptive{period: period, max: max(b.MaxInterval, 0), quiet: int64(b.QuietPolls)}
	if a.period <= 0 {
		a.period = DefaultPeriod
	}
	if a.quiet < 1 {
		a.quiet = DefaultQuietPolls
	}
	return a
}

// due reports whether a thread whose saved state is prev (the zero state for
// a thread never polled) is polled by a cycle at now.
func (a adaptive) due(prev model.ThreadState, now time.Time) bool {
	if a.max <= 0 || prev.NextPoll.IsZero() || !now.Before(prev.NextPoll) {
		return true
	}
	// A NextPoll further than max away was set under a larger max_interval,
	// or before the clock was set back: it must not defer the thread longer
	// than max_interval promises.
	return prev.NextPoll.Sub(now) > a.max
}

// interval is how long a thread waits after its idle-th empty poll in a row,
// gap after the poll before (0: unknown): 0 (the next cycle) until it is
// quiet, then period × 2^(idle−quiet+1), or twice gap when that is longer,
// at most max. Twice gap: a thread that showed nothing new for gap waits
// up to twice that, however long the cycles were (the doubling by count
// assumes the thread was polled at the last interval's end, but long
// cycles and quiet threads left for the next cycle poll it later, and
// those quiet spells count too).
func (a adaptive) interval(idle int64, gap time.Duration) time.Duration {
	if a.max <= 0 || idle < a.quiet {
		return 0
	}
	if idle > a.quiet && gap > a.max/2 {
		return a.max
	}
	d := a.period
	for k := idle - a.quiet + 1; k > 0 && d < a.max; k-- {
		if d > a.max/2 {
			d = a.max // doubling would pass max (or overflow)
			break
		}
		d *= 2
	}
	if idle > a.quiet {
		d = max(d, 2*gap)
	}
	return min(d, a.max)
}

// after returns st, the state a successful poll at now returned, with the
// adaptive fields set from prev (the state before the poll) and found, the
// number of new comments the poll found.
func (a adaptive) after(prev, st model.ThreadState, found int, now time.Time) model.ThreadState {
	st.NextPoll = time.Time{}
	if found > 0 {
		st.IdlePolls = 0
		return st
	}
	st.IdlePolls = prev.IdlePolls + 1
	var gap time.Duration
	if !prev.LastPolled.IsZero() {
		gap = max(now.Sub(prev.LastPolled), 0)
	}
	if d := a.interval(st.IdlePolls, gap); d > 0 {
		// Half a period early, so that a cycle starting a little early does
		// not find the thread not yet due and defer it once more.
		st.NextPoll = now.Add(d - a.period/2)
	}
	return st
}
