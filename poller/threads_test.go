package poller_test

// Adaptive polling and concurrent polling of one source's threads, with a
// fake source (goroutine-safe, counting its calls and the polls in flight),
// a real store and real rules. Time is the injected clock: one cycle a
// minute.

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/internal/testutil"
	"github.com/autoreplyd/autoreplyd/metrics"
	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/platform"
	"github.com/autoreplyd/autoreplyd/poller"
	"github.com/autoreplyd/autoreplyd/rules"
	"github.com/autoreplyd/autoreplyd/store"
)

const (
	fakePlatform = model.PlatformDouyin
	period       = time.Minute
)

// fakeSource lists the comments a test queued for each thread.
type fakeSource struct {
	threads []model.Thread
	delay   time.Duration // how long each poll takes (a slow platform)
	// clk, when set, is moved on by tick at each poll: a slow platform in
	// the fake clock's time.
	clk  *clock
	tick time.Duration

	mu       sync.Mutex
	pending  map[string][]model.Comment
	calls    map[string]int
	errs     map[string]error // the thread's next poll fails with it
	block    map[string]bool  // the thread's polls last until their ctx ends
	panics   map[string]bool
	inflight int
	peak     int // the most polls in flight at once
	// ask: every poll of a thread seen before asks its known function
	// about the ids its earlier polls listed (an idle poll's look-up of its
	// first page); unknown counts the ids it answered not recorded.
	ask     bool
	listed  map[string][]string
	unknown int
	started int
	ended   int
	order   []string // the threads polled, in order
}

func newFakeSource(n int) *fakeSource {
	s := &fakeSource{pending: map[string][]model.Comment{}, calls: map[string]int{}, errs: map[string]error{},
		block: map[string]bool{}, panics: map[string]bool{}}
	for i := range n {
		s.threads = append(s.threads, model.Thread{ID: threadID(i), PostID: "9000"})
	}
	return s
}

func threadID(i int) string { return fmt.Sprintf("%d", 7000000+i) }

func (s *fakeSource) Platform() string        { return fakePlatform }
func (s *fakeSource) Threads() []model.Thread { return slices.Clone(s.threads) }

// KnownCodes: the codes the tests' errors carry are labelled by themselves.
func (s *fakeSource) KnownCodes() []string { return []string{"302"} }

func (s *fakeSource) PollThread(ctx context.Context, th model.Thread, prev model.ThreadState, known platform.KnownFunc) (model.PollResult, error) {
	if s.clk != nil {
		s.clk.Advance(s.tick)
	}
	s.mu.Lock()
	s.calls[th.ID]++
	s.order = append(s.order, th.ID)
	s.started++
	s.inflight++
	s.peak = max(s.peak, s.inflight)
	err := s.errs[th.ID]
	delete(s.errs, th.ID)
	block, panics := s.block[th.ID], s.panics[th.ID]
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.inflight--
		s.ended++
		s.mu.Unlock()
	}()
	if panics {
		panic("fake source bug")
	}
	cancelled := func() (model.PollResult, error) {
		return model.PollResult{State: prev}, &model.SourceError{Action: model.SourceRetry, Msg: "stopped: " + ctx.Err().Error()}
	}
	if block {
		<-ctx.Done()
		return cancelled()
	}
	if s.delay > 0 {
		t := time.NewTimer(s.delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return cancelled()
		}
	}
	if err != nil {
		return model.PollResult{State: prev, Calls: 1}, err
	}
	s.mu.Lock()
	cs := s.pending[th.ID]
	delete(s.pending, th.ID)
	asked := slices.Clone(s.listed[th.ID])
	s.mu.Unlock()
	if s.ask && prev.Initialized && len(asked) > 0 {
		got, err := known(ctx, asked)
		if err != nil {
			return model.PollResult{State: prev, Calls: 1}, err
		}
		s.mu.Lock()
		for _, id := range asked {
			if !got[id] {
				s.unknown++
			}
		}
		s.mu.Unlock()
	}
	if s.ask {
		s.mu.Lock()
		if s.listed == nil {
			s.listed = map[string][]string{}
		}
		for _, c := range cs {
			s.listed[th.ID] = append(s.listed[th.ID], c.ID)
		}
		s.mu.Unlock()
	}
	st := prev
	st.Platform, st.ThreadID, st.Initialized = fakePlatform, th.ID, true
	st.Polls++
	return model.PollResult{Comments: cs, State: st, Calls: 1}, nil
}

func (s *fakeSource) callsOf(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[id]
}

// counts returns the polls started, in flight, ended, and the peak in flight.
func (s *fakeSource) counts() (started, inflight, ended, peak int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.started, s.inflight, s.ended, s.peak
}

// world is one test's source, store, rules and responder.
type world struct {
	t    *testing.T
	ctx  context.Context
	clk  *clock
	dbf  string
	st   *store.Store
	src  *fakeSource
	resp *recResponder
	set  *rules.Set
	seq  int
}

func newWorld(t *testing.T, threads int) *world {
	t.Helper()
	w := &world{t: t, ctx: context.Background(), clk: &clock{t: time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)},
		src: newFakeSource(threads), resp: &recResponder{name: "fake"}}
	w.dbf = filepath.Join(t.TempDir(), "autoreplyd.db")
	var err error
	if w.st, err = store.Open(w.ctx, w.dbf); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.st.Close() })
	w.set, err = rules.LoadBytes("rules.yaml", []byte(baseRules), rules.Options{Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// poller builds a Poller over the world; b and o adjust the binding and the
// options (either may be nil).
func (w *world) poller(b func(*poller.Binding), o func(*poller.Options)) *poller.Poller {
	w.t.Helper()
	bd := poller.Binding{Source: w.src, Responder: w.resp.name}
	if b != nil {
		b(&bd)
	}
	opts := poller.Options{
		Store:      w.st,
		Bindings:   []poller.Binding{bd},
		Responders: map[string]platform.Responder{w.resp.name: w.resp},
		Logger:     slog.New(slog.DiscardHandler),
		Now:        w.clk.Now,
		Period:     period,
	}
	if o != nil {
		o(&opts)
	}
	set := w.set
	p, err := poller.New(opts, func() *rules.Set { return set })
	if err != nil {
		w.t.Fatal(err)
	}
	return p
}

// add queues a question in thread i and returns its id.
func (w *world) add(i int) string {
	w.seq++
	id := fmt.Sprintf("%d", 8000000+w.seq)
	c := model.Comment{Platform: fakePlatform, ID: id, ThreadID: threadID(i), PostID: "9000", Text: "多少钱",
		CreatedAt: w.clk.Now().Add(-time.Second), User: model.User{UID: fmt.Sprintf("%d", 5000+w.seq), Nickname: "路人"}}
	w.src.mu.Lock()
	w.src.pending[c.ThreadID] = append(w.src.pending[c.ThreadID], c)
	w.src.mu.Unlock()
	return id
}

// cycle runs one cycle at the clock's time, then moves the clock a period on.
func (w *world) cycle(p *poller.Poller) poller.Stats {
	w.t.Helper()
	st := p.Cycle(w.ctx)
	w.clk.Advance(period)
	return st
}

func (w *world) states() map[string]model.ThreadState {
	w.t.Helper()
	m, err := w.st.ThreadStates(w.ctx, fakePlatform)
	if err != nil {
		w.t.Fatal(err)
	}
	return m
}

func adaptiveOn(b *poller.Binding) { b.MaxInterval, b.QuietPolls = 15*time.Minute, 3 }

// A quiet thread backs off 2, 4, 8 then 15 cycles (the cap); a reply snaps
// it back to every cycle, and it backs off again when quiet.
func TestAdaptiveBackoffAndSnapBack(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 1)
	m := metrics.New("test")
	p := w.poller(adaptiveOn, func(o *poller.Options) { o.Metrics = m })
	wantMetric(t, m, 0, "autoreplyd_polls_deferred_total", "platform", fakePlatform, "source", fakePlatform)
	th := threadID(0)
	var polled []int
	var cid string
	deferred := 0
	for k := range 41 {
		if k == 20 {
			cid = w.add(0)
		}
		before := w.src.callsOf(th)
		st := w.cycle(p)
		if w.src.callsOf(th) > before {
			polled = append(polled, k)
		}
		deferred += st.Deferred
		if st.Errors != 0 || st.Polled+st.Deferred != 1 {
			t.Fatalf("cycle %d: %+v", k, st)
		}
		if k == 30 && w.resp.count() != 0 {
			t.Fatal("the reply of cycle 20 answered before the thread was due")
		}
	}
	// Quiet from the start: polled at 0, 1, 2, then 2, 4, 8 and 15 cycles
	// apart; the reply of cycle 20 is found at 31, and the thread backs off
	// again from there.
	want := []int{0, 1, 2, 4, 8, 16, 31, 32, 33, 34, 36, 40}
	if !slices.Equal(polled, want) {
		t.Fatalf("polled at cycles %v, want %v", polled, want)
	}
	if w.resp.count() != 1 || w.resp.sent[0].Comment.ID != cid {
		t.Fatalf("sent: %+v", w.resp.sent)
	}
	if deferred != 41-len(want) {
		t.Fatalf("deferred %d, want %d", deferred, 41-len(want))
	}
	wantMetric(t, m, float64(deferred), "autoreplyd_polls_deferred_total", "platform", fakePlatform, "source", fakePlatform)
	wantMetric(t, m, float64(len(want)), "autoreplyd_polls_total", "platform", fakePlatform, "source", fakePlatform)
	// Last polled at 40 (the clock is now at 41), its 5th quiet poll: due
	// again at 40 + 8 − ½.
	s := w.states()[th]
	if s.IdlePolls != 5 || !s.NextPoll.Equal(w.clk.Now().Add(-period+8*period-period/2)) {
		t.Fatalf("state: idle %d next %s (now %s)", s.IdlePolls, s.NextPoll, w.clk.Now())
	}
}

// When polling every thread takes several periods (10,000 threads at 100
// calls a second), the back-off counts cycles, not periods: a thread that
// turned quiet skips the next cycle rather than being polled in every long
// cycle until its interval outgrows them. No thread waits longer than
// max_interval and a cycle.
func TestAdaptiveUnitIsTheCycle(t *testing.T) {
	t.Parallel()
	const threads = 20
	w := newWorld(t, threads)
	// Every poll takes 15 s: a cycle polling all threads lasts 5 periods.
	w.src.clk, w.src.tick = w.clk, 15*time.Second
	p := w.poller(adaptiveOn, nil)
	start := w.clk.Now()
	last := map[string]time.Time{}
	var gap time.Duration
	for k := 0; w.clk.Now().Sub(start) < 3*time.Hour; k++ {
		began := w.clk.Now()
		before := map[string]int{}
		for i := range threads {
			before[threadID(i)] = w.src.callsOf(threadID(i))
		}
		st := p.Cycle(w.ctx)
		for i := range threads {
			id := threadID(i)
			if w.src.callsOf(id) > before[id] {
				if prev, ok := last[id]; ok {
					gap = max(gap, began.Sub(prev))
				}
				last[id] = began
			}
		}
		switch {
		case k < 3 && st.Polled != threads:
			t.Fatalf("cycle %d (not quiet yet): %+v", k, st)
		case k == 3 && (st.Polled != 0 || st.Deferred != threads):
			// Quiet after cycle 2's poll: two cycles (10 min) on, not two
			// periods, which cycle 3 (starting 5 min later) would have
			// found passed.
			t.Fatalf("cycle 3: %+v, want every thread deferred", st)
		}
		// cron skips the ticks that fall during a cycle.
		took := w.clk.Now().Sub(began)
		w.clk.Advance(-took + (took/period+1)*period)
	}
	if limit := 15*time.Minute + 5*time.Minute; gap > limit {
		t.Fatalf("a thread waited %s between polls, more than max_interval and a cycle (%s)", gap, limit)
	}
}

// Quiet threads whose intervals end together (they went quiet together)
// are not all polled in one cycle: each cycle polls them for three quarters
// of the period, the longest overdue first, and leaves the rest to the next
// cycles. A thread in conversation is polled first and whatever the time.
func TestQuietThreadsShareTheCycles(t *testing.T) {
	t.Parallel()
	const threads = 20
	talker := threads - 1 // last in the config, never quiet
	w := newWorld(t, threads)
	m := metrics.New("test")
	p := w.poller(adaptiveOn, func(o *poller.Options) { o.Metrics = m })
	for range 3 { // three empty polls: all but the talker quiet at once
		w.add(talker)
		if st := w.cycle(p); st.Polled != threads {
			t.Fatalf("before the back-off: %+v", st)
		}
	}
	// Long after their intervals ended, with a slow platform: 10 s a call.
	w.clk.Advance(time.Hour)
	w.src.clk, w.src.tick = w.clk, 10*time.Second
	order := func() []string { // the threads polled since the last call, in order
		w.src.mu.Lock()
		defer w.src.mu.Unlock()
		o := slices.Clone(w.src.order)
		w.src.order = nil
		return o
	}
	order()
	seen := map[string]int{}
	var sequence []string
	deferred := 0
	for k := 0; len(seen) < threads-1; k++ {
		if k > 10 {
			t.Fatalf("quiet threads not all polled in 10 cycles: %v", seen)
		}
		id := w.add(talker)
		began := w.clk.Now()
		st := w.cycle(p)
		took := w.clk.Now().Add(-period).Sub(began)
		got := order()
		if len(got) == 0 || got[0] != threadID(talker) {
			t.Fatalf("cycle %d: polled %v, the talker not first", k, got)
		}
		if known, err := w.st.Known(w.ctx, fakePlatform, []string{id}); err != nil || !known[id] {
			t.Fatalf("cycle %d: the talker's question not recorded: %v %v", k, known, err)
		}
		// The last quiet poll started before 45 s (three quarters of a
		// minute) and lasted one call.
		if took > 45*time.Second+10*time.Second {
			t.Fatalf("cycle %d took %s: %v", k, took, got)
		}
		for _, th := range got[1:] {
			seen[th]++
			sequence = append(sequence, th)
		}
		deferred += st.Deferred
		if len(seen) < threads-1 && st.Deferred == 0 {
			t.Fatalf("cycle %d: %d quiet threads left, none deferred: %+v", k, threads-1-len(seen), st)
		}
	}
	// Each quiet thread polled once, in the order their intervals ended
	// (the order they were polled in), before any was polled again.
	var want []string
	for i := range threads - 1 {
		want = append(want, threadID(i))
	}
	if !slices.Equal(sequence[:threads-1], want) {
		t.Fatalf("quiet threads polled in the order %v, want %v", sequence, want)
	}
	wantMetric(t, m, float64(deferred), "autoreplyd_polls_deferred_total", "platform", fakePlatform, "source", fakePlatform)
}

// Of the quiet threads due, the longest overdue are polled first when the
// cycle's time runs out, whatever their order in the config.
func TestQuietThreadsLongestOverdueFirst(t *testing.T) {
	t.Parallel()
	const threads = 10
	w := newWorld(t, threads)
	now := w.clk.Now()
	for i := range threads { // thread 9 overdue the longest
		st := model.ThreadState{Platform: fakePlatform, ThreadID: threadID(i), Initialized: true, Polls: 9, IdlePolls: 9,
			NextPoll: now.Add(-time.Duration(i+1) * time.Minute)}
		if err := w.st.SaveThreadState(w.ctx, st); err != nil {
			t.Fatal(err)
		}
	}
	w.src.clk, w.src.tick = w.clk, 10*time.Second
	st := w.cycle(w.poller(adaptiveOn, nil))
	want := []string{threadID(9), threadID(8), threadID(7), threadID(6), threadID(5)} // at 0, 10, ... 40 s
	if !slices.Equal(w.src.order, want) || st.Polled != 5 || st.Deferred != 5 {
		t.Fatalf("polled %v, want %v; %+v", w.src.order, want, st)
	}
}

// With max_interval 0 (the default) every thread is polled every cycle, as
// before adaptive polling, and NextPoll is never set.
func TestAdaptiveOff(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 3)
	p := w.poller(nil, nil)
	for k := range 10 {
		if st := w.cycle(p); st.Polled != 3 || st.Deferred != 0 {
			t.Fatalf("cycle %d: %+v", k, st)
		}
	}
	for id, s := range w.states() {
		if s.IdlePolls != 10 || !s.NextPoll.IsZero() {
			t.Fatalf("thread %s: %+v", id, s)
		}
	}
}

// 100 threads over 100 cycles: thread 0 (1%) gets a question every cycle,
// thread 50 one every third cycle (never quiet for quiet_polls 3 polls in a
// row), the others none. Adaptive polling cuts the calls on the quiet
// threads by more than 5×, while every question is still answered in the
// cycle it appeared, as without it.
func TestAdaptiveSavesCallsNotReactionTime(t *testing.T) {
	t.Parallel()
	const threads, cycles = 100, 100
	every := map[int]int{0: 1, 50: 3} // active thread -> a question every n cycles
	run := func(t *testing.T, b func(*poller.Binding)) (quietCalls int) {
		w := newWorld(t, threads)
		p := w.poller(b, nil)
		w.cycle(p) // first sight of every thread
		for k := 1; k < cycles; k++ {
			var ids []string
			for i, n := range every {
				if k%n == 1%n { // from cycle 1 on
					ids = append(ids, w.add(i))
				}
			}
			sent := w.resp.count()
			st := w.cycle(p)
			if st.Errors != 0 || st.Sent != len(ids) || w.resp.count() != sent+len(ids) {
				t.Fatalf("cycle %d: %d questions, %+v", k, len(ids), st)
			}
			known, err := w.st.Known(w.ctx, fakePlatform, ids)
			if err != nil || len(known) != len(ids) {
				t.Fatalf("cycle %d: questions of the cycle not all recorded: %v %v", k, known, err)
			}
		}
		for i := range threads {
			n := w.src.callsOf(threadID(i))
			if _, active := every[i]; active {
				if n != cycles {
					t.Fatalf("active thread %d polled %d times in %d cycles", i, n, cycles)
				}
				continue
			}
			quietCalls += n
		}
		return quietCalls
	}
	all := run(t, nil)
	adaptive := run(t, adaptiveOn)
	t.Logf("calls on quiet threads in %d cycles: %d polling every cycle, %d adaptive (%.1f×)", cycles, all, adaptive, float64(all)/float64(adaptive))
	if all != (threads-len(every))*cycles {
		t.Fatalf("without adaptive polling: %d calls on quiet threads", all)
	}
	if adaptive*5 > all {
		t.Fatalf("adaptive polling: %d calls on quiet threads, not 5× fewer than %d", adaptive, all)
	}
}

// The back-off is in the store: a new Poller (a restart) keeps it.
func TestAdaptiveSurvivesRestart(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 1)
	th := threadID(0)
	p1 := w.poller(adaptiveOn, nil)
	for range 5 { // polls at cycles 0 to 4; the last sets NextPoll 4 − ½ cycles on
		w.cycle(p1)
	}
	if n := w.src.callsOf(th); n != 4 {
		t.Fatalf("calls before the restart: %d", n)
	}
	p2 := w.poller(adaptiveOn, nil)
	for k := 5; k < 8; k++ {
		if st := w.cycle(p2); st.Deferred != 1 || st.Polled != 0 {
			t.Fatalf("cycle %d after the restart: %+v", k, st)
		}
	}
	if st := w.cycle(p2); st.Polled != 1 {
		t.Fatalf("cycle 8: %+v", st)
	}
	// Turned off: polled at once, whatever NextPoll says.
	p3 := w.poller(nil, nil)
	if st := w.cycle(p3); st.Polled != 1 || st.Deferred != 0 {
		t.Fatalf("adaptive polling off: %+v", st)
	}
}

// At most Concurrency polls are in flight, and that many are (the source is
// slow); everything they find is recorded and answered once.
func TestConcurrencyBounded(t *testing.T) {
	t.Parallel()
	for _, limit := range []int{1, 4, 8} {
		t.Run(fmt.Sprint("concurrency ", limit), func(t *testing.T) {
			const threads = 24
			w := newWorld(t, threads)
			p := w.poller(func(b *poller.Binding) { b.Concurrency = limit }, nil)
			w.cycle(p) // first sight
			w.src.delay = 20 * time.Millisecond
			for i := range threads {
				w.add(i)
			}
			st := w.cycle(p)
			if st.Polled != threads || st.Sent != threads || st.Errors != 0 {
				t.Fatalf("stats: %+v", st)
			}
			if _, _, _, peak := w.src.counts(); peak != limit {
				t.Fatalf("peak polls in flight %d, want %d", peak, limit)
			}
			if w.resp.count() != threads {
				t.Fatalf("sent %d", w.resp.count())
			}
			states := w.states()
			for i := range threads {
				if s := states[threadID(i)]; s.Polls != 2 || s.IdlePolls != 0 {
					t.Fatalf("thread %d: %+v", i, s)
				}
			}
		})
	}
}

// A backoff asked by the platform on one thread cancels the source's other
// polls: they are neither errors nor saved, and the source rests until the
// backoff ends.
func TestBackoffStopsOtherPolls(t *testing.T) {
	t.Parallel()
	const threads, limit = 20, 3
	w := newWorld(t, threads)
	for i := range threads {
		w.src.block[threadID(i)] = true
	}
	w.src.block[threadID(1)] = false
	w.src.errs[threadID(1)] = &model.SourceError{Action: model.SourceBackoff, Code: "302", Msg: "too fast", RetryAfter: 10 * time.Minute}
	m := metrics.New("test")
	p := w.poller(func(b *poller.Binding) { b.Concurrency = limit }, func(o *poller.Options) { o.Metrics = m })
	done := make(chan poller.Stats, 1)
	go func() { done <- p.Cycle(w.ctx) }()
	st := waitCycle(t, done)
	started, inflight, _, _ := w.src.counts()
	// Threads 0, 1 and (unless 1's error was handled first) 2 start; 1's
	// slot is freed only once its error is handled, which stops the
	// source: thread 3 never starts.
	w.src.mu.Lock()
	order := slices.Clone(w.src.order)
	w.src.mu.Unlock()
	if started < 2 || started > limit || inflight != 0 || !slices.Contains(order, threadID(1)) {
		t.Fatalf("polls started %d (%v), in flight %d", started, order, inflight)
	}
	for i := limit; i < threads; i++ {
		if slices.Contains(order, threadID(i)) {
			t.Fatalf("thread %d polled after the source stopped: %v", i, order)
		}
	}
	if st.Errors != 1 || st.Polled != started {
		t.Fatalf("stats: %+v", st)
	}
	wantMetric(t, m, 1, "autoreplyd_poll_errors_total", "platform", fakePlatform, "source", fakePlatform, "code", "302")
	if s := w.states(); len(s) != 0 {
		t.Fatalf("states saved: %+v", s)
	}
	w.clk.Advance(9 * time.Minute)
	if st := p.Cycle(w.ctx); st.Polled != 0 {
		t.Fatalf("polled while backing off: %+v", st)
	}
	clear(w.src.block)
	w.clk.Advance(2 * time.Minute)
	if st := p.Cycle(w.ctx); st.Polled != threads || st.Errors != 0 {
		t.Fatalf("after the backoff: %+v", st)
	}
}

// Cancelling the cycle's context ends polling at once: the polls in flight
// are cancelled (not errors, not saved), the states of the threads polled
// before are saved, no further poll starts.
func TestCancelMidSource(t *testing.T) {
	t.Parallel()
	const threads, limit = 10, 2
	w := newWorld(t, threads)
	for i := 3; i < threads; i++ {
		w.src.block[threadID(i)] = true
	}
	p := w.poller(func(b *poller.Binding) { b.Concurrency = limit }, nil)
	ctx, cancel := context.WithCancel(w.ctx)
	defer cancel()
	done := make(chan poller.Stats, 1)
	go func() { done <- p.Cycle(ctx) }()
	testutil.WaitFor(t, "threads 3 and 4 in flight", func() bool {
		_, inflight, ended, _ := w.src.counts()
		return inflight == limit && ended == 3
	})
	cancel()
	st := waitCycle(t, done)
	if started, _, _, _ := w.src.counts(); started != 5 {
		t.Fatalf("polls started: %d", started)
	}
	if st.Errors != 0 || st.Polled != 5 {
		t.Fatalf("stats: %+v", st)
	}
	states := w.states()
	for i := range threads {
		if _, saved := states[threadID(i)]; saved != (i < 3) {
			t.Fatalf("thread %d: saved %v", i, saved)
		}
	}
}

// A source that panics fails that poll only.
func TestSourcePanicIsAPollError(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 3)
	w.src.panics[threadID(1)] = true
	p := w.poller(func(b *poller.Binding) { b.Concurrency = 2 }, nil)
	if st := w.cycle(p); st.Errors != 1 || st.Polled != 3 {
		t.Fatalf("stats: %+v", st)
	}
	states := w.states()
	if _, ok := states[threadID(1)]; ok || len(states) != 2 {
		t.Fatalf("states: %+v", states)
	}
}

// More quiet threads than one batch of saved states holds.
func TestIdleStatesSavedInBatches(t *testing.T) {
	t.Parallel()
	const threads = 450
	w := newWorld(t, threads)
	p := w.poller(adaptiveOn, nil)
	for k := range 3 {
		if st := w.cycle(p); st.Polled != threads || st.Errors != 0 {
			t.Fatalf("cycle %d: %+v", k, st)
		}
	}
	states := w.states()
	if len(states) != threads {
		t.Fatalf("%d states saved", len(states))
	}
	for id, s := range states {
		if s.Polls != 3 || s.IdlePolls != 3 || s.NextPoll.IsZero() {
			t.Fatalf("thread %s: %+v", id, s)
		}
	}
	if st := w.cycle(p); st.Deferred != threads {
		t.Fatalf("cycle 3: %+v", st)
	}
}

// The real Douyin source, polled 4 threads at a time against the JustOneAPI
// imitation (with a page size that makes polls page, and the source's rate
// limit shared): every reply is answered exactly once and the listings are
// read as when polled one at a time.
func TestDouyinConcurrent(t *testing.T) {
	t.Parallel()
	var threads []model.Thread
	for i := range 12 {
		threads = append(threads, model.Thread{ID: fmt.Sprintf("72515241591919%05d", i), PostID: aweme})
	}
	h := newHarness(t, setup{threads: threads, pageSize: 3})
	p := h.newPoller(func(o *poller.Options) {
		o.Bindings[0].Concurrency = 4
		o.Bindings[0].MaxInterval = 15 * time.Minute
		o.Period = time.Minute
	})
	h.initThreads(p)
	var want []string
	for round := range 2 {
		for i, th := range threads {
			for j := range 4 {
				want = append(want, h.add(th.ID, fmt.Sprintf("1000000000%03d%02d", i, round*4+j), "路人", "多少钱"))
			}
		}
		st := h.cycle(p)
		if st.Errors != 0 || st.Polled != len(threads) || st.Sent != 4*len(threads) {
			t.Fatalf("round %d: %+v", round, st)
		}
		h.clk.Advance(time.Minute)
	}
	for _, cid := range want {
		wantStatus(t, h.row(cid), model.StatusSent, "")
	}
	h.wantPosts(len(want))
	// Our answers show up in the threads: found (as ours) by the next
	// cycle, then the threads are quiet.
	if st := h.cycle(p); st.Errors != 0 || st.Sent != 0 {
		t.Fatalf("echo cycle: %+v", st)
	}
	h.wantPosts(len(want))
}

// probeResponder calls probe before each send.
type probeResponder struct {
	name  string
	probe func()
}

func (r *probeResponder) Name() string { return r.name }
func (r *probeResponder) Send(context.Context, model.Reply) (model.SendResult, error) {
	r.probe()
	return model.SendResult{}, nil
}

// Sends do not hold up polling: with one poll at a time (the default), the
// first answer's send is held until every thread has been polled, which
// would never happen if polling waited for it. Every answer is still sent
// and settled before the cycle ends.
func TestSendsDoNotHoldUpPolling(t *testing.T) {
	t.Parallel()
	const threads = 5
	w := newWorld(t, threads)
	var before int
	var mu sync.Mutex
	var startedAtSend []int
	resp := &probeResponder{name: w.resp.name, probe: func() {
		deadline := time.Now().Add(10 * time.Second)
		for {
			started, _, _, _ := w.src.counts()
			if started-before == threads || time.Now().After(deadline) {
				mu.Lock()
				startedAtSend = append(startedAtSend, started-before)
				mu.Unlock()
				return
			}
			time.Sleep(time.Millisecond)
		}
	}}
	p := w.poller(nil, func(o *poller.Options) { o.Responders = map[string]platform.Responder{resp.name: resp} })
	w.cycle(p)
	before, _, _, _ = w.src.counts()
	for i := range threads {
		w.add(i)
	}
	if st := w.cycle(p); st.Sent != threads {
		t.Fatalf("stats: %+v", st)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(startedAtSend) != threads || startedAtSend[0] != threads {
		t.Fatalf("polls started when each answer was sent: %v, want all %d at the first", startedAtSend, threads)
	}
}

// The daily cap counts the answers queued for sending and not yet settled:
// three threads with a question each, a cap of 2 and sends held until every
// thread is polled still make exactly 2 answers.
func TestDailyCapCountsQueuedAnswers(t *testing.T) {
	t.Parallel()
	const threads = 3
	w := newWorld(t, threads)
	var before int
	resp := &probeResponder{name: w.resp.name, probe: func() {
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			if started, _, _, _ := w.src.counts(); started-before == threads {
				return
			}
			time.Sleep(time.Millisecond)
		}
	}}
	p := w.poller(nil, func(o *poller.Options) {
		o.Responders = map[string]platform.Responder{resp.name: resp}
		o.Pacing = map[string]poller.Pacing{resp.name: {DailyCap: 2}}
	})
	w.cycle(p)
	before, _, _, _ = w.src.counts()
	for i := range threads {
		w.add(i)
	}
	st := w.cycle(p)
	if st.Sent != 2 || st.Skipped != 1 {
		t.Fatalf("stats: %+v; want 2 sent, 1 skipped by the daily cap", st)
	}
}

// The replies a poll recorded are known to the next poll's look-up without
// asking the database: after a first sight (which asks nothing) and after
// a poll that found new replies. To tell memory from the database, the
// test deletes the recorded rows behind the store's back: an answer from
// the database would then say "not recorded".
func TestKnownRepliesOfRecordedPages(t *testing.T) {
	t.Parallel()
	w := newWorld(t, 2)
	w.src.ask = true
	p := w.poller(nil, nil)
	w.add(0)
	w.add(0)
	w.add(1)
	if st := w.cycle(p); st.New != 3 {
		t.Fatalf("first sight: %+v", st)
	}
	raw, err := sql.Open("sqlite", w.dbf)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = raw.Close() }()
	forget := func() {
		t.Helper()
		// The claims first: they refer to their comments.
		for _, q := range []string{"DELETE FROM replies", "DELETE FROM comments"} {
			if _, err := raw.ExecContext(w.ctx, q); err != nil {
				t.Fatal(err)
			}
		}
	}
	forget()
	if st := w.cycle(p); st.Polled != 2 || st.Errors != 0 {
		t.Fatalf("second cycle: %+v", st)
	}
	if w.src.unknown != 0 {
		t.Fatalf("%d of the first sight's 3 replies looked up in the database, want all from memory", w.src.unknown)
	}
	// A new reply, answered, then looked up by the next poll.
	w.add(1)
	if st := w.cycle(p); st.New != 1 || st.Sent != 1 {
		t.Fatalf("third cycle: %+v", st)
	}
	forget()
	if st := w.cycle(p); st.Polled != 2 || st.Errors != 0 {
		t.Fatalf("fourth cycle: %+v", st)
	}
	if w.src.unknown != 0 {
		t.Fatalf("%d replies looked up in the database, want all from memory", w.src.unknown)
	}
}
