package poller

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/platform"
	"github.com/autoreplyd/autoreplyd/store"
)

const (
	// idleBatch is how many states of threads that found nothing new are
	// saved in one commit, in multi-row statements (store.SaveThreadStates):
	// a commit per thread cost ~100 µs on SQLite, a second a cycle with
	// 10,000 threads, and a statement per thread a round trip on
	// PostgreSQL (1.6 s a cycle). A commit of 1,000 holds the writer's lock
	// for about 10 ms on SQLite.
	idleBatch = 1000
	// idleSaveTimeout bounds saving a batch of idle states, which is done
	// even while the cycle is being cancelled (the polls did happen).
	idleSaveTimeout = 30 * time.Second
)

// pollSource polls the due threads of b's source, unless the source is
// stopped, backing off or paused.
func (p *Poller) pollSource(ctx context.Context, b Binding, pauses map[string]store.Pause, st *Stats) {
	plat, name := b.Source.Platform(), b.SourceName()
	log := p.sourceLog(b)
	p.mu.Lock()
	s := p.source(name)
	why, stopped, until := s.stopped, s.stopped != "", s.backoff
	p.mu.Unlock()
	if stopped {
		log.Error("source stopped until restart: fix the cause, then restart autoreplyd", "reason", why)
		return
	}
	if now := p.opts.Now(); now.Before(until) {
		log.Info("source backing off", "until", until.Format(time.RFC3339))
		return
	}
	if pz, ok := pauses[SourceScope(name)]; ok {
		log.Warn("source paused", "until", pz.Until.Format(time.RFC3339), "reason", pz.Reason)
		return
	}
	states, err := p.opts.Store.ThreadStates(ctx, plat)
	if err != nil {
		if p.storeDown(ctx, log, "load thread states: source not polled this cycle", err, st) {
			return
		}
		if ctx.Err() == nil {
			log.Error("load thread states: source not polled this cycle", "problem", store.Describe(err), "err", err)
			st.Errors++
		}
		return
	}
	p.mu.Lock()
	unit := max(p.opts.Period, p.lastCycle)
	p.mu.Unlock()
	ad := adaptiveOf(b, unit)
	var disc discovered
	if vs, ok := b.Source.(platform.VideoSource); ok {
		if disc, ok = p.pollVideos(ctx, b, vs, states, ad, st); !ok {
			return
		}
	}
	now := p.opts.Now()
	// Threads with no back-off running (new, active, not quiet yet) are
	// polled whatever the time; quiet ones whose interval has passed fill
	// the rest of the time, the longest overdue first.
	var due, quiet []model.Thread
	deferred := 0
	watched := b.Source.Threads()
	p.known.keep(name, watched)
	for _, th := range watched {
		prev := states[th.ID]
		switch {
		case !p.holds(plat, th.ID):
			st.Elsewhere++
		case !ad.due(prev, now):
			deferred++
		case ad.max > 0 && !prev.NextPoll.IsZero():
			quiet = append(quiet, th)
		default:
			due = append(due, th)
		}
	}
	// A discovered thread is polled because its count moved: it is active,
	// whatever its back-off said.
	due = append(due, disc.threads...)
	slices.SortStableFunc(quiet, func(a, b model.Thread) int {
		return states[a.ID].NextPoll.Compare(states[b.ID].NextPoll)
	})
	if deferred > 0 {
		st.Deferred += deferred
		p.opts.Metrics.Deferred(plat, name, deferred)
		log.Debug("quiet threads deferred", "deferred", deferred, "due", len(due)+len(quiet))
	}
	deadline := now.Add(QuietBudget(p.opts.Period))
	if late := p.pollThreads(ctx, b, due, quiet, deadline, states, disc.listed, ad, st); late > 0 {
		st.Deferred += late
		p.opts.Metrics.Deferred(plat, name, late)
		log.Info("quiet threads left for the next cycle: this cycle's time for them is up", "left", late,
			"polled", len(due)+len(quiet)-late)
	}
}

// QuietBudget is how long after a source's polls start its quiet threads
// (adaptive polling) may still be polled: three quarters of the schedule's
// period. Polling all 10,000 threads at 100 calls a second takes 100 s; when
// their back-off intervals end together (they went quiet together, at the
// start, or a max_interval later) a cycle could poll them all at once and
// overrun the schedule many times, and they would stay in step. With the
// budget, the cycle ends on time, the rest are polled next cycle, the
// longest overdue first, and their polls spread out over the cycles.
func QuietBudget(period time.Duration) time.Duration {
	if period <= 0 {
		period = DefaultPeriod
	}
	return period * 3 / 4
}

// polled is one PollThread call's outcome, passed from the goroutine that
// fetched it to the one that handles it.
type polled struct {
	th   model.Thread
	prev model.ThreadState
	res  model.PollResult
	err  error
	// cancelled: err came while the source's polls were being stopped (by
	// another thread's source error, or by the cycle's end, platform.ErrCycleEnds
	// included).
	cancelled bool
	// storeErr is the store's error that failed a look-up of the poll
	// (err is then the source's report of it, without the store's error).
	storeErr error
}

// pollThreads polls threads with at most b.Concurrency polls started and
// not yet handled, and handles what they find one thread at a time in this
// goroutine, in the order the polls end: Stats, the store's writes and the
// source errors stay single-threaded. A slot is freed once its result is
// handled, not when its call returns, so one at a time (the default) is
// exactly the sequence poll, handle, poll: no call is made ahead, the
// platform sees our requests in the same order, and a source error leaves
// no poll in flight. A source error that stops the source for this cycle
// cancels the polls not yet ended, and so does ctx.
//
// listed holds the discovered threads among them, with the listed count
// each poll answers.
//
// The quiet threads are polled after threads, and only those whose poll
// can start before deadline (by Options.Now); it returns how many were not.
func (p *Poller) pollThreads(ctx context.Context, b Binding, threads, quiet []model.Thread, deadline time.Time,
	states map[string]model.ThreadState, listed map[string]listedThread, ad adaptive, st *Stats) (late int) {
	if len(threads)+len(quiet) == 0 {
		return 0
	}
	plat, name := b.Source.Platform(), b.SourceName()
	limit := max(b.Concurrency, 1)
	// sctx ends this source's polls for this cycle.
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	lookup := func(ctx context.Context, ids []string) (map[string]bool, error) {
		return p.opts.Store.Known(ctx, plat, ids)
	}
	slots := make(chan struct{}, limit)
	// Never full: at most limit polls are started and not yet handled.
	results := make(chan polled, limit)
	// quit frees the dispatcher should the handling below panic; on a
	// normal return it has ended already.
	quit := make(chan struct{})
	defer close(quit)
	all := append(slices.Clip(threads), quiet...)
	// left and elsewhere are written by the dispatcher before it closes
	// results.
	left, elsewhere := 0, 0
	// The polls run on limit workers, each polling one thread after
	// another: a goroutine a poll would grow a fresh stack through the
	// decoding of every page (1.5% of the daemon's CPU at 10,000 threads).
	// The slots still bound the polls started and not yet handled; a
	// worker is always free when a slot is, since results never blocks.
	type job struct {
		th   model.Thread
		prev model.ThreadState
		disc bool
	}
	work := make(chan job)
	go func() {
		var polls sync.WaitGroup
		defer close(results)
		defer polls.Wait()
		defer close(work)
		for range limit {
			polls.Go(func() {
				for j := range work {
					if j.disc {
						results <- p.pollOne(sctx, b.Source, j.th, j.prev, lookup)
						continue
					}
					known, done := p.known.lookup(p.opts.Store, plat, name, j.th.ID)
					r := p.pollOne(sctx, b.Source, j.th, j.prev, known)
					done()
					results <- r
				}
			})
		}
		for i, th := range all {
			select {
			case slots <- struct{}{}:
			case <-sctx.Done():
				return
			case <-quit:
				return
			}
			if sctx.Err() != nil {
				return // stopped while waiting for a slot
			}
			if i >= len(threads) && !p.opts.Now().Before(deadline) {
				<-slots // not used
				left = len(all) - i
				return
			}
			// Asked again as the poll starts: a lease that lapsed during
			// a long cycle may be another daemon's by now.
			_, disc := listed[th.ID]
			lease := th.ID
			if disc {
				lease = platform.VideoStateID(th.PostID) // its video's lease covers it
			}
			if !p.holds(plat, lease) {
				<-slots // not used
				elsewhere++
				continue
			}
			work <- job{th: th, prev: states[th.ID], disc: disc}
		}
	}()

	idle := &idleStates{p: p, ctx: ctx, log: p.log.With("platform", plat), st: st}
	stopped := false
	// Every result is taken, even once stopped: its poll may have found
	// comments, and its goroutine must end.
	for r := range results {
		if !p.handlePolled(ctx, b, r, listed, ad, idle, st) && !stopped {
			stopped = true
			stop() // before the slot is freed: no poll starts after the stop
		}
		<-slots
	}
	idle.flush()
	st.Elsewhere += elsewhere
	return left
}

// pollOne calls the source for one thread; a panic in the source is turned
// into an error of this poll (it runs outside the cron job's recovery).
func (p *Poller) pollOne(ctx context.Context, src platform.Source, th model.Thread, prev model.ThreadState, known platform.KnownFunc) (r polled) {
	r = polled{th: th, prev: prev}
	defer func() {
		if v := recover(); v != nil {
			p.log.Error("source panicked", "platform", src.Platform(), "thread", th.ID, "panic", v, "stack", string(debug.Stack()))
			r.res, r.err = model.PollResult{State: prev}, fmt.Errorf("poll %s thread %s: panic: %v", src.Platform(), th.ID, v)
		}
	}()
	var serr storeErrs
	if known != nil {
		lookup := known
		known = func(ctx context.Context, ids []string) (map[string]bool, error) {
			m, err := lookup(ctx, ids)
			serr.keep(err)
			return m, err
		}
	}
	r.res, r.err = src.PollThread(ctx, th, prev, known)
	r.cancelled = r.err != nil && (ctx.Err() != nil || errors.Is(r.err, platform.ErrCycleEnds))
	if r.err != nil {
		r.storeErr = serr.first()
	}
	return r
}

// storeErrs keeps the first store error a poll's look-ups met: a source
// reports a failed look-up as its own error, without the store's, and the
// poller must tell the database being down from the platform failing.
type storeErrs struct {
	mu  sync.Mutex
	err error
}

func (s *storeErrs) keep(err error) {
	if err == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = err
	}
}

func (s *storeErrs) first() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// handlePolled records what one poll found and saves the thread's state. It
// returns false when the source must not be polled further this cycle.
func (p *Poller) handlePolled(ctx context.Context, b Binding, r polled, listed map[string]listedThread, ad adaptive, idle *idleStates, st *Stats) bool {
	plat := b.Source.Platform()
	if bt := r.res.BadTimes; bt.Count > 0 {
		// One line per poll however many comments it concerns: a platform
		// sending garbage times must not flood the log.
		p.sourceLog(b).Warn("comment create times unusable (unreadable or out of range): recorded with the time they were seen",
			"thread", r.th.ID, "comments", bt.Count, "first_comment", bt.FirstID, "first_value", bt.FirstRaw)
	}
	st.Polled++
	st.Calls += r.res.Calls
	p.opts.Metrics.Poll(plat, b.SourceName(), r.res.Calls)
	if r.err == nil && len(r.res.Comments) == 0 {
		// Nothing new: the state is saved with others', in one commit.
		idle.add(ad.after(r.prev, r.res.State, 0, p.opts.Now()))
		p.markPolled(ctx, b, r.th, listed, st)
		// The logger is made only when the line is written: most polls
		// find nothing, and making it allocates for every one of them.
		if p.log.Enabled(ctx, slog.LevelDebug) {
			p.sourceLog(b).Debug("thread polled", "thread", r.th.ID, "new", 0, "calls", r.res.Calls, "total", r.res.State.Total)
		}
		return true
	}
	log := p.sourceLog(b).With("thread", r.th.ID)
	// A discovered thread is polled once the video was seen and its count
	// moved: its replies are new, even at its first poll, except, for a
	// thread that had replies when the video was first seen (a baseline
	// listing), those created before then: backlog, recorded and never
	// answered (a reply whose time is unknown is taken for backlog).
	lt, isDiscovered := listed[r.th.ID]
	firstSight := !r.prev.Initialized && !isDiscovered
	comments := r.res.Comments
	if isDiscovered && !r.prev.Initialized && !lt.newSince.IsZero() {
		var old, fresh []model.Comment
		for _, c := range comments {
			if c.CreatedAt.IsZero() || !c.CreatedAt.After(lt.newSince) {
				old = append(old, c)
			} else {
				fresh = append(fresh, c)
			}
		}
		if err := p.handleComments(ctx, b, old, true, false, st); err != nil {
			if ctx.Err() != nil || p.storeDown(ctx, log, "record comments: they are seen again", err, st) {
				return false
			}
			log.Error("record comments: they are seen again next cycle", "problem", store.Describe(err), "err", err)
			st.Errors++
			return true
		}
		comments = fresh
	}
	if err := p.handleComments(ctx, b, comments, firstSight, false, st); err != nil {
		// The thread state is not saved: comments not recorded are seen
		// again next cycle, so nothing is lost.
		if ctx.Err() != nil || p.storeDown(ctx, log, "record comments: they are seen again", err, st) {
			return false
		}
		log.Error("record comments: they are seen again next cycle", "problem", store.Describe(err), "err", err)
		st.Errors++
		return true
	}
	if !isDiscovered {
		// Committed: the next poll's look-up of them needs no query.
		p.known.learn(b.SourceName(), r.th.ID, comments, r.res.State.PageSize)
	}
	if r.err == nil {
		state := ad.after(r.prev, r.res.State, len(r.res.Comments), p.opts.Now())
		// Saved even when the cycle is being cancelled (SIGTERM during the
		// sends): the comments are recorded, so the state is true.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		err := p.opts.Store.SaveThreadState(sctx, state)
		cancel()
		if err != nil {
			log.Error("save thread state", "problem", store.Describe(err), "err", err)
			st.Errors++
		} else {
			p.markPolled(ctx, b, r.th, listed, st)
		}
		log.Debug("thread polled", "new", len(r.res.Comments), "calls", r.res.Calls, "total", r.res.State.Total)
		return true
	}
	if r.cancelled {
		// Not a failure of the thread: its poll was cut short because the
		// source stopped for this cycle (or the cycle ended). Its state is
		// not saved, so it is polled again next time.
		log.Debug("poll cancelled", "err", r.err)
		return ctx.Err() == nil
	}
	if r.storeErr != nil && p.storeDown(ctx, log, "look up known replies: the thread is polled again", r.storeErr, st) {
		// The database, not the platform: one line for the outage, and
		// the source's other polls end (they would fail the same way).
		return false
	}
	st.Errors++
	p.opts.Metrics.PollError(plat, b.SourceName(), r.err)
	return p.handleSourceError(ctx, b, r.th, r.err)
}

// idleStates collects the states of threads whose poll found nothing new and
// saves them idleBatch at a time, in one commit each.
type idleStates struct {
	p      *Poller
	ctx    context.Context
	log    *slog.Logger
	st     *Stats
	states []model.ThreadState
}

func (s *idleStates) add(ts model.ThreadState) {
	s.states = append(s.states, ts)
	if len(s.states) >= idleBatch {
		s.flush()
	}
}

// flush saves the states collected. A failure loses nothing but the
// progress of those threads' polls: they are polled again as if they had
// not been.
func (s *idleStates) flush() {
	if len(s.states) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(s.ctx), idleSaveTimeout)
	defer cancel()
	err := s.p.opts.Store.Batch(ctx, func(db *store.Store) error {
		// Only db here: the outer store would wait for this batch for ever.
		return db.SaveThreadStates(ctx, s.states)
	})
	if err != nil {
		s.log.Error("save thread states", "threads", len(s.states), "problem", store.Describe(err), "err", err)
		s.st.Errors++
	}
	s.states = s.states[:0]
}

// markPolled records that a discovered thread was polled for the count its
// video listed (store.MarkThreadPolled): it is not polled again until the
// count moves. A failure only polls it again next cycle.
func (p *Poller) markPolled(ctx context.Context, b Binding, th model.Thread, listed map[string]listedThread, st *Stats) {
	lt, ok := listed[th.ID]
	if !ok {
		return
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := p.opts.Store.MarkThreadPolled(sctx, b.Source.Platform(), th.ID, lt.total); err != nil {
		p.sourceLog(b).Error("mark discovered thread polled: polled again next cycle", "thread", th.ID,
			"problem", store.Describe(err), "err", err)
		st.Errors++
	}
}
