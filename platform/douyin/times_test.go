package douyin

import (
	"strconv"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/platform"
	"github.com/autoreplyd/autoreplyd/platform/platformtest"
	"github.com/autoreplyd/autoreplyd/simulator"
)

// A hostile create_time (a year past 9999, "1e300", -1, "abc", a bool...)
// neither fails the page nor reaches the comment: the comment gets the
// poll's time, the poll reports it once, and the listing's order is judged
// from the other replies. A time in milliseconds is read as such.
func TestHostileCreateTimes(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(a *simulator.JustOneAPI, _ *Config) {
		a.Order = simulator.OrderNewest
		a.PageSize = 4 // page boundaries between good and bad replies
	})
	want := map[string]time.Time{}
	hostile := map[string]bool{}
	ms := time.UnixMilli(1_700_000_000_000).UTC()
	want[h.api.AddReply(threadID, simulator.Reply{Text: "ms", CreateTime: ms.Unix(), CreateTimeJSON: "1.7e12"})] = ms
	base := h.clock.Add(-time.Hour)
	for i, raw := range simulator.HostileUnixTimes {
		at := base.Add(time.Duration(i) * time.Second)
		want[h.api.AddReply(threadID, simulator.Reply{Text: "好", CreateTime: at.Unix()})] = at
		// Listed next to a good reply of the same time (the imitation
		// orders by CreateTime), so the order observer sees them side by
		// side.
		id := h.api.AddReply(threadID, simulator.Reply{Text: "坏 " + raw, CreateTime: at.Unix(), CreateTimeJSON: raw})
		want[id], hostile[id] = h.clock, true
	}

	res := h.mustPoll()
	platformtest.CheckTimes(t, res, want, hostile, len(simulator.HostileUnixTimes))
	if res.State.Order != model.OrderNewest {
		t.Errorf("order %q: the replaced times changed the judgement", res.State.Order)
	}

	// Known replies are not reported again.
	h.add(1)
	if res := h.mustPoll(); len(res.Comments) != 1 || res.BadTimes.Count != 0 {
		t.Errorf("second poll: %d new, bad times %+v", len(res.Comments), res.BadTimes)
	}
}

// New replies whose times are all unusable are left out of the order's
// judgement: an oldest-first thread stays oldest first.
func TestHostileCreateTimesOnlyKeepOrder(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(a *simulator.JustOneAPI, _ *Config) { a.Order = simulator.OrderOldest })
	h.add(platform.MinOrderEvidence + 1) // enough to judge the order by
	h.mustPoll()
	if h.state.Order != model.OrderOldest {
		t.Fatalf("order %q", h.state.Order)
	}
	for i, raw := range []string{`"abc"`, `253402300800`, `-1`} {
		h.api.AddReply(threadID, simulator.Reply{Text: strconv.Itoa(i), CreateTime: h.clock.Unix() + int64(i), CreateTimeJSON: raw})
	}
	h.state.Polls = 0 // no periodic rescan
	res := h.mustPoll()
	if len(res.Comments) != 3 || res.State.Order != model.OrderOldest || res.BadTimes.Count != 3 {
		t.Errorf("%d new, order %q, bad %+v", len(res.Comments), res.State.Order, res.BadTimes)
	}
}
