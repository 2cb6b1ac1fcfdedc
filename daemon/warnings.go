package daemon

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"golang.org/x/time/rate"

	"github.com/autoreplyd/autoreplyd/config"
	"github.com/autoreplyd/autoreplyd/poller"
)

// Warnings are the problems of a valid configuration that let the daemon
// run but not as the operator meant: a source without self_uids, a
// max_interval too short to defer anything, a rate limit too low for the
// threads watched. The daemon logs them at start and `check` prints them,
// one a line, each naming the keys to change.
func Warnings(cfg *config.Config, bindings []poller.Binding) []string {
	var period time.Duration
	if sched, err := config.ParseSchedule(cfg.Schedule); err == nil {
		period = schedulePeriod(sched, time.Now().In(cfg.Location))
	}
	var ws []string
	for _, b := range bindings {
		for _, w := range []string{SelfUIDsWarning(b), adaptiveWarning(b, period)} {
			if w != "" {
				ws = append(ws, w)
			}
		}
		ws = append(ws, capacityWarnings(b, period)...)
	}
	return ws
}

// capacityWarnings compares the listing calls a source's threads need with
// what its rate limit allows, at one call per poll (the least: a busy
// thread takes a call a page):
//
//   - without adaptive polling every thread is polled every cycle, so a
//     cycle needs a call per thread within the period, or it runs over and
//     the next ones are skipped;
//   - with it a quiet thread needs a call every max_interval, from the
//     share of each cycle quiet polls get (poller.QuietBudget),
//     or it waits longer than max_interval;
//   - and until they go quiet (their first quiet_polls polls, on the first
//     start or when added) threads are all polled every cycle, which then
//     runs over as in the first case.
func capacityWarnings(b poller.Binding, period time.Duration) []string {
	n := len(b.Source.Threads())
	r := float64(b.Rate)
	if n == 0 || period <= 0 || r <= 0 || math.IsInf(r, 1) {
		return nil
	}
	key := "sources." + b.Source.Platform()
	perCycle := r*period.Seconds() + float64(max(b.Burst, 1))
	every := seconds(float64(n) / r)
	var ws []string
	if float64(n) > perCycle {
		if b.MaxInterval <= 0 {
			return []string{fmt.Sprintf("%s: %d threads polled every cycle need at least %d calls a cycle, but rate %s allows %d in the %s between cycles: "+
				"each cycle takes at least %s and the ones due meanwhile are skipped; raise %s.rate, set %s.max_interval (adaptive polling) or watch fewer threads",
				key, n, n, rateString(b.Rate), int(perCycle), period, every, key, key)}
		}
		quiet := max(b.QuietPolls, 1)
		ws = append(ws, fmt.Sprintf("%s: until they go quiet (%d polls that find nothing new), all %d threads are polled every cycle: at rate %s each of those cycles "+
			"takes at least %s, more than the %s between cycles (on the first start, and when many threads are added)",
			key, quiet, n, rateString(b.Rate), every, period))
	}
	if b.MaxInterval <= 0 {
		return ws
	}
	need := float64(n) / b.MaxInterval.Seconds()
	if have := r * poller.QuietBudget(period).Seconds() / period.Seconds(); need > have {
		ws = append(ws, fmt.Sprintf("%s: %d quiet threads polled once every max_interval %s need %s calls a second, more than the %s that rate %s leaves them "+
			"(three quarters of each cycle): each quiet thread will wait about %s between polls; raise %s.rate or %s.max_interval, or watch fewer threads",
			key, n, b.MaxInterval, strconv.FormatFloat(need, 'g', 3, 64), strconv.FormatFloat(have, 'g', 3, 64), rateString(b.Rate),
			seconds(float64(n)/have), key, key))
	}
	return ws
}

// seconds is s seconds as a duration, to the second.
func seconds(s float64) time.Duration {
	return time.Duration(s * float64(time.Second)).Round(time.Second)
}

// rateString writes a rate limit as config's N/s, N/m or N/h: in the first
// of these units that gives a whole count.
func rateString(l rate.Limit) string {
	perSecond := float64(l)
	for _, u := range []struct {
		name string
		secs float64
	}{{"s", 1}, {"m", 60}, {"h", 3600}} {
		v := perSecond * u.secs
		if math.Abs(v-math.Round(v)) < 1e-9*math.Max(1, v) {
			return strconv.FormatFloat(math.Round(v), 'f', -1, 64) + "/" + u.name
		}
	}
	return strconv.FormatFloat(perSecond*3600, 'g', 4, 64) + "/h"
}
