package poller_test

import (
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/platform"
	"github.com/autoreplyd/autoreplyd/poller"
	"github.com/autoreplyd/autoreplyd/simulator"
)

// holdSet is an Options.Holds answering from a set a test changes.
type holdSet struct {
	mu   sync.Mutex
	held map[string]bool // platform + ":" + thread id
}

func (h *holdSet) set(ids ...string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.held = map[string]bool{}
	for _, id := range ids {
		h.held[model.PlatformDouyin+":"+id] = true
	}
}

func (h *holdSet) holds(plat, id string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.held[plat+":"+id]
}

// calledThreads are the thread ids the reply listing was asked for, once
// each, sorted.
func calledThreads(calls []simulator.Call) []string {
	var out []string
	for _, c := range calls {
		if !slices.Contains(out, c.CommentID) {
			out = append(out, c.CommentID)
		}
	}
	slices.Sort(out)
	return out
}

// A thread this daemon does not hold is not polled: no call reaches the
// platform and its state is not written; once held, it is polled.
func TestHoldsSkipsThreadsOfOthers(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{threads: []model.Thread{{ID: threadA, PostID: aweme}, {ID: threadB, PostID: aweme}}})
	var hs holdSet
	hs.set(threadA)
	p := h.newPoller(func(o *poller.Options) { o.Holds = hs.holds })
	h.add(threadA, "10000000000000001", "路人", "第一")
	bc := h.add(threadB, "10000000000000002", "路人", "第二")
	st := h.cycle(p)
	if st.Polled != 1 || st.Elsewhere != 1 || st.Errors != 0 {
		t.Fatalf("stats %+v; want 1 polled, 1 elsewhere", st)
	}
	if got := calledThreads(h.jo.Calls()); !slices.Equal(got, []string{threadA}) {
		t.Fatalf("threads asked of the platform: %v, want only %s", got, threadA)
	}
	states, err := h.st.ThreadStates(h.ctx, model.PlatformDouyin)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := states[threadB]; ok {
		t.Errorf("the state of %s, held by another daemon, was written", threadB)
	}
	if h.known(bc)[bc] {
		t.Errorf("comment %s of a thread not held was recorded", bc)
	}

	// Its lease moves here: it is polled from then on, and A no longer.
	h.jo.ResetCalls()
	hs.set(threadB)
	st = h.cycle(p)
	if st.Polled != 1 || st.Elsewhere != 1 {
		t.Fatalf("stats %+v; want 1 polled, 1 elsewhere", st)
	}
	if got := calledThreads(h.jo.Calls()); !slices.Equal(got, []string{threadB}) {
		t.Fatalf("threads asked: %v, want only %s", got, threadB)
	}
	if !h.known(bc)[bc] {
		t.Errorf("comment %s not recorded once its thread was held", bc)
	}
}

// Holds is asked again as a poll starts: a lease lost during the cycle
// stops the poll.
func TestHoldsAskedAsThePollStarts(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{})
	var asked atomic.Int32
	p := h.newPoller(func(o *poller.Options) {
		o.Holds = func(string, string) bool { return asked.Add(1) == 1 } // lost after the first answer
	})
	st := h.cycle(p)
	if asked.Load() < 2 || st.Polled != 0 || st.Elsewhere != 1 || h.jo.CallCount() != 0 {
		t.Fatalf("asked %d times; stats %+v; %d calls; want the poll dropped before its call", asked.Load(), st, h.jo.CallCount())
	}
}

// A video's lease covers the video and the threads discovered under it:
// without it neither is polled, and nothing of them is written.
func TestHoldsCoversAVideosThreads(t *testing.T) {
	t.Parallel()
	h := videoHarness(t, "", true)
	var hs holdSet
	hs.set(platform.VideoStateID(aweme))
	p := h.newPoller(func(o *poller.Options) { o.Holds = hs.holds })
	top := h.comment("1001", "多少钱")
	h.cycleOK(p) // first sight
	h.jo.AddReply(top, simulator.Reply{AwemeID: aweme, Text: "多少钱呀", UserUID: "1002", Nickname: "乙",
		CreateTime: h.nextTime(), ReplyToReplyID: "0"})
	h.cycleOK(p) // the thread under top is discovered...
	h.cycleOK(p) // ...and polled
	if got := calledThreads(h.jo.Calls()); !slices.Contains(got, top) {
		t.Fatalf("the discovered thread %s was not polled while its video was held: %v", top, got)
	}

	// Another daemon takes the video: no call for it or its threads.
	hs.set()
	h.jo.ResetCalls()
	h.jo.AddReply(top, simulator.Reply{AwemeID: aweme, Text: "还是多少钱", UserUID: "1003", Nickname: "丙",
		CreateTime: h.nextTime(), ReplyToReplyID: "0"})
	before, err := h.st.ThreadStates(h.ctx, model.PlatformDouyin)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		st := h.cycleOK(p)
		if st.Polled != 0 || st.Elsewhere != 1 {
			t.Fatalf("stats %+v; want nothing polled, the video elsewhere", st)
		}
	}
	if n, v := h.jo.CallCount(), len(h.jo.VideoCalls()); n != 0 || v != 0 {
		t.Fatalf("%d reply and %d video calls for a video another daemon holds", n, v)
	}
	after, err := h.st.ThreadStates(h.ctx, model.PlatformDouyin)
	if err != nil {
		t.Fatal(err)
	}
	for id, s := range after {
		if b := before[id]; b.Polls != s.Polls || !b.LastPolled.Equal(s.LastPolled) {
			t.Errorf("state of %s written while another daemon held it: %+v -> %+v", id, b, s)
		}
	}
}
