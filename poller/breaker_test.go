package poller_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/platform/douyin"
	"github.com/autoreplyd/autoreplyd/poller"
	"github.com/autoreplyd/autoreplyd/simulator"
)

const testBreakerPause = 30 * time.Minute

// withBreaker turns the responder's breaker on: 5 failures, 30 minutes.
func withBreaker(o *poller.Options) {
	o.Pacing = map[string]poller.Pacing{responderName: {BreakerFailures: 5, BreakerPause: testBreakerPause}}
}

// accountRefusal is a kitkot refusal about the account (its session), which
// counts toward the breaker.
const accountRefusal = "Invalid session_key: please log in again"

// refuse makes kitkot refuse the next n sends for the account's session.
func (h *harness) refuse(n int) {
	for range n {
		h.kk.Faults.Push(simulator.Fault{Kind: simulator.FaultCode, Code: 400, Msg: accountRefusal})
	}
}

func (h *harness) pauses(p *poller.Poller) []poller.PauseState {
	h.t.Helper()
	ps, err := p.Pauses(h.ctx)
	if err != nil {
		h.t.Fatalf("Pauses: %v", err)
	}
	return ps
}

func TestResponderBreakerTripsHoldsAndResumes(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{})
	p := h.newPoller(withBreaker)
	h.initThreads(p)

	h.refuse(5)
	var refused []string
	for i := range 5 {
		refused = append(refused, h.add(threadA, "7001000000000000"+string(rune('1'+i)), "甲", "多少钱"))
	}
	held := h.add(threadA, "7001000000000009", "乙", "多少钱")
	trippedAt := h.clk.Now()
	st := h.cycle(p)
	if st.Failed != 5 || st.Retrying != 1 || st.Sent != 0 {
		t.Fatalf("stats: %+v", st)
	}
	h.wantRequests(5)
	for _, cid := range refused {
		if r := h.row(cid); r.Status != model.StatusFailed || r.Reason != "platform_400" {
			t.Fatalf("refused %s: %s/%s", cid, r.Status, r.Reason)
		}
	}
	r := h.row(held)
	if r.Status != model.StatusRetrying || r.Reason != poller.ReasonResponderPaused {
		t.Fatalf("held: %s/%s", r.Status, r.Reason)
	}
	pauseEnd := trippedAt.Add(testBreakerPause)
	if !r.NextAttemptAt.Equal(pauseEnd) {
		t.Fatalf("held: next attempt %s, want the pause end %s", r.NextAttemptAt, pauseEnd)
	}
	if r.Attempts != 0 {
		t.Fatalf("held: %d attempts, want 0 (nothing was sent)", r.Attempts)
	}
	ps := h.pauses(p)
	if len(ps) != 1 || ps[0].Scope != "responder:kitkot" || ps[0].Kind != poller.PauseKindPaused ||
		!ps[0].Until.Equal(pauseEnd) || !strings.Contains(ps[0].Reason, "code 400") {
		t.Fatalf("pauses: %+v", ps)
	}

	// A restart honours the persisted pause: a new comment is held too.
	p2 := h.newPoller(withBreaker)
	h.clk.Advance(10 * time.Minute)
	later := h.add(threadA, "7001000000000010", "丙", "价格")
	st = h.cycle(p2)
	if st.Retrying != 1 || st.Sent != 0 {
		t.Fatalf("after restart: %+v", st)
	}
	h.wantRequests(5)
	if r := h.row(later); r.Status != model.StatusRetrying || r.Reason != poller.ReasonResponderPaused || !r.NextAttemptAt.Equal(pauseEnd) {
		t.Fatalf("held after restart: %s/%s next %s", r.Status, r.Reason, r.NextAttemptAt)
	}

	// After the pause, the held answers go out.
	h.clk.Set(pauseEnd.Add(time.Second))
	st = h.cycle(p2)
	if st.Sent != 2 {
		t.Fatalf("after the pause: %+v", st)
	}
	h.wantPosts(2)
	for _, cid := range []string{held, later} {
		if r := h.row(cid); r.Status != model.StatusSent {
			t.Fatalf("%s after the pause: %s/%s", cid, r.Status, r.Reason)
		}
	}
	if ps := h.pauses(p2); len(ps) != 0 {
		t.Fatalf("pauses after the end: %+v", ps)
	}
}

// Refusals of one reply's content (a nickname the template echoes is against
// the guidelines) fail that reply only: a run of them longer than
// breaker_failures never pauses the responder, and the next answer goes out
// in the same cycle. Account refusals in the same numbers still trip it.
func TestBreakerIgnoresRefusalsOfOneReply(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{})
	p := h.newPoller(withBreaker)
	h.initThreads(p)
	h.kk.BannedWords = []string{"违规"}

	var refused []string
	for i := range 6 { // one more than breaker_failures
		refused = append(refused, h.add(threadA, "7005000000000000"+string(rune('1'+i)), "违规用户"+string(rune('1'+i)), "多少钱"))
	}
	ok := h.add(threadA, "7005000000000009", "乙", "多少钱")
	st := h.cycle(p)
	if st.Failed != 6 || st.Sent != 1 || st.Retrying != 0 {
		t.Fatalf("stats: %+v", st)
	}
	h.wantRequests(7)
	for _, cid := range refused {
		if r := h.row(cid); r.Status != model.StatusFailed || r.Reason != "platform_400" || !strings.Contains(r.Error, "guidelines") {
			t.Fatalf("refused %s: %s/%s %q", cid, r.Status, r.Reason, r.Error)
		}
	}
	if r := h.row(ok); r.Status != model.StatusSent {
		t.Fatalf("the answer after the refusals: %s/%s", r.Status, r.Reason)
	}
	if ps := h.pauses(p); len(ps) != 0 {
		t.Fatalf("paused by refusals of single replies: %+v", ps)
	}

	// Account refusals, as many as breaker_failures, still trip it.
	h.refuse(5)
	for i := range 5 {
		h.add(threadA, "7005000000000010"+string(rune('1'+i)), "丙"+string(rune('1'+i)), "多少钱")
	}
	held := h.add(threadA, "7005000000000019", "丁", "多少钱")
	if st := h.cycle(p); st.Failed != 5 || st.Retrying != 1 || st.Sent != 0 {
		t.Fatalf("account refusals: %+v", st)
	}
	if r := h.row(held); r.Status != model.StatusRetrying || r.Reason != poller.ReasonResponderPaused {
		t.Fatalf("held: %s/%s", r.Status, r.Reason)
	}
	ps := h.pauses(p)
	if len(ps) != 1 || ps[0].Scope != "responder:kitkot" || !strings.Contains(ps[0].Reason, "session_key") {
		t.Fatalf("pauses: %+v", ps)
	}
}

func TestResponderBreakerSuccessResetsCount(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{})
	p := h.newPoller(withBreaker)
	h.initThreads(p)

	h.refuse(4)
	for i := range 4 {
		h.add(threadA, "7002000000000000"+string(rune('1'+i)), "甲", "多少钱")
	}
	h.cycle(p)
	ok := h.add(threadA, "7002000000000005", "乙", "多少钱") // accepted: the count starts again
	h.cycle(p)
	if r := h.row(ok); r.Status != model.StatusSent {
		t.Fatalf("accepted: %s/%s", r.Status, r.Reason)
	}
	h.refuse(4)
	for i := range 4 {
		h.add(threadA, "7002000000000010"+string(rune('1'+i)), "丙", "多少钱")
	}
	st := h.cycle(p)
	if st.Failed != 4 || st.Retrying != 0 {
		t.Fatalf("stats: %+v", st)
	}
	if ps := h.pauses(p); len(ps) != 0 {
		t.Fatalf("paused after 4+4 failures with a success between: %+v", ps)
	}
	next := h.add(threadA, "7002000000000020", "丁", "多少钱")
	h.cycle(p)
	if r := h.row(next); r.Status != model.StatusSent {
		t.Fatalf("next: %s/%s", r.Status, r.Reason)
	}
}

// A pause lifted early (autoreplyd resume clears it in the store) releases
// the held answers at the next cycle, whatever their next attempt time.
func TestResponderPauseLiftedEarly(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{})
	p := h.newPoller(withBreaker)
	h.initThreads(p)
	h.refuse(5)
	for i := range 5 {
		h.add(threadA, "7003000000000000"+string(rune('1'+i)), "甲", "多少钱")
	}
	held := h.add(threadA, "7003000000000009", "乙", "多少钱")
	h.cycle(p)
	if r := h.row(held); r.Status != model.StatusRetrying {
		t.Fatalf("held: %s/%s", r.Status, r.Reason)
	}
	// Due retries of a paused responder are left alone.
	h.cycle(p)
	h.wantRequests(5)

	if err := h.st.ClearPause(h.ctx, poller.ResponderScope(responderName)); err != nil {
		t.Fatal(err)
	}
	h.clk.Advance(time.Minute)
	st := h.cycle(p)
	if st.Sent != 1 {
		t.Fatalf("after resume: %+v", st)
	}
	if r := h.row(held); r.Status != model.StatusSent {
		t.Fatalf("held after resume: %s/%s", r.Status, r.Reason)
	}
}

func TestBreakerOffByDefault(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{})
	p := h.newPoller(nil) // Pacing without BreakerFailures
	h.initThreads(p)
	h.refuse(6)
	for i := range 6 {
		h.add(threadA, "7004000000000000"+string(rune('1'+i)), "甲", "多少钱")
	}
	if st := h.cycle(p); st.Failed != 6 {
		t.Fatalf("stats: %+v", st)
	}
	if ps := h.pauses(p); len(ps) != 0 {
		t.Fatalf("pauses: %+v", ps)
	}
}

// JustOneAPI 601 stops the source for this process and persists a pause, so
// a restarted daemon makes no call until it ends.
func TestSourceStopPersistsPause(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{})
	p := h.newPoller(func(o *poller.Options) { o.Bindings[0].StopPause = 2 * time.Hour })
	h.initThreads(p)
	h.jo.Faults.Push(simulator.Fault{Kind: simulator.FaultCode, Code: 601, Msg: "Insufficient balance"})
	stoppedAt := h.clk.Now()
	h.cycle(p)
	calls := h.jo.CallCount()

	ps := h.pauses(p)
	var persisted, stopped bool
	for _, pz := range ps {
		switch {
		case pz.Scope == "source:douyin" && pz.Kind == poller.PauseKindPaused:
			persisted = pz.Until.Equal(stoppedAt.Add(2*time.Hour)) && strings.HasPrefix(pz.Reason, "code 601: ")
		case pz.Scope == "source:douyin" && pz.Kind == poller.PauseKindStopped:
			stopped = true
		}
	}
	if !persisted || !stopped {
		t.Fatalf("pauses: %+v", ps)
	}

	// A new Poller on the same store (a restart) makes no call.
	p2 := h.newPoller(nil)
	h.clk.Advance(time.Hour)
	h.cycle(p2)
	if got := h.jo.CallCount(); got != calls {
		t.Fatalf("calls during the pause: %d, want %d", got, calls)
	}
	h.clk.Advance(time.Hour + time.Second)
	if st := h.cycle(p2); st.Calls == 0 {
		t.Fatalf("no call after the pause ended: %+v", st)
	}
	// The first Poller keeps its in-memory stop until restart.
	before := h.jo.CallCount()
	h.cycle(p)
	if h.jo.CallCount() != before {
		t.Fatal("the stopped Poller polled again")
	}
}

// The source waits for its rate limit before each call; a cancelled or too
// short context returns at once without a call.
func TestSourceRateLimit(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{threads: []model.Thread{{ID: threadA, PostID: aweme}, {ID: threadB, PostID: aweme}}})
	src, err := douyin.New(douyin.Config{
		BaseURL: h.srv.URL, Token: testToken, Timeout: 5 * time.Second, Threads: h.setup.threads,
		Location: shanghai, Now: h.clk.Now, Rate: rate.Every(time.Hour), Burst: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.PollThread(h.ctx, model.Thread{ID: threadA}, model.ThreadState{}, nil); err != nil {
		t.Fatalf("first poll: %v", err)
	}
	if n := h.jo.CallCount(); n != 1 {
		t.Fatalf("calls: %d", n)
	}
	cancelled, cancel := context.WithCancel(h.ctx)
	cancel()
	short, cancel2 := context.WithTimeout(h.ctx, 10*time.Second) // the wait is an hour
	defer cancel2()
	for name, ctx := range map[string]context.Context{"cancelled": cancelled, "deadline": short} {
		start := time.Now()
		res, err := src.PollThread(ctx, model.Thread{ID: threadB}, model.ThreadState{}, nil)
		var se *model.SourceError
		if !errors.As(err, &se) || se.Action != model.SourceRetry || res.Calls != 0 {
			t.Fatalf("%s: err %v, calls %d", name, err, res.Calls)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("%s: returned after %s", name, d)
		}
	}
	if n := h.jo.CallCount(); n != 1 {
		t.Fatalf("calls after the waits: %d, want 1", n)
	}
}
