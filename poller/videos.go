package poller

// Whole videos: their new top-level comments, and the threads under them
// whose reply counts moved.

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/platform"
	"github.com/autoreplyd/autoreplyd/store"
)

// discovered are the threads found moving under b's videos this cycle, to
// be polled with the configured ones: each with the listed count its poll
// answers (store.MarkThreadPolled).
type discovered struct {
	threads []model.Thread
	listed  map[string]listedThread
}

// listedThread is a discovered thread due this cycle: the count its
// video listed, and since when its replies are new (zero: all of them; a
// thread found by a baseline listing had backlog replies).
type listedThread struct {
	total    int
	newSince time.Time
}

// pollVideos polls the due videos of a VideoSource, records their new
// top-level comments and listings, and returns the discovered threads to
// poll this cycle. It returns false when the source must not be polled
// further this cycle.
//
// The discovered threads are polled by the poller, not the source: the
// store knows which threads moved (ChangedThreads), and the thread
// machinery (rate limit, concurrency, source errors, adaptive polling,
// state) then applies to them as to configured threads. The thread under a
// top-level comment we answered needs nothing of its own: our answer
// raises the comment's count, so the next listing records the thread and
// it is polled then and whenever its count moves again (an answer is sent
// after the listing that found its comment, so polling the thread in the
// same cycle would find nothing but, at best, our answer).
func (p *Poller) pollVideos(ctx context.Context, b Binding, vs platform.VideoSource, states map[string]model.ThreadState,
	ad adaptive, st *Stats) (discovered, bool) {
	plat, name := b.Source.Platform(), b.SourceName()
	d := discovered{listed: map[string]listedThread{}}
	configured := map[string]bool{}
	for _, th := range b.Source.Threads() {
		configured[th.ID] = true
	}
	known := func(ctx context.Context, ids []string) (map[string]bool, error) {
		return p.opts.Store.Known(ctx, plat, ids)
	}
	// As for threads: videos with no back-off running are polled whatever
	// the time; quiet ones whose interval has passed, the longest overdue
	// first, while half the cycle's quiet budget lasts (the threads' polls
	// come after). Videos that went quiet together would otherwise come
	// due together, all in one long cycle, and stay in step (BENCHMARKS.md,
	// "Whole videos").
	videos := vs.Videos()
	now := p.opts.Now()
	var due, quiet []platform.Video
	held := map[string]bool{}
	for _, v := range videos {
		prev := states[platform.VideoStateID(v.ID)]
		if !p.holds(plat, platform.VideoStateID(v.ID)) {
			// Another daemon polls it, and the threads under it.
			st.Elsewhere++
			continue
		}
		held[v.ID] = true
		switch {
		case !ad.due(prev, now):
		case ad.max > 0 && !prev.NextPoll.IsZero():
			quiet = append(quiet, v)
		default:
			due = append(due, v)
		}
	}
	slices.SortStableFunc(quiet, func(a, b platform.Video) int {
		return states[platform.VideoStateID(a.ID)].NextPoll.Compare(states[platform.VideoStateID(b.ID)].NextPoll)
	})
	deadline := now.Add(QuietBudget(p.opts.Period) / 2)
	poll := map[string]bool{}
	for _, v := range due {
		poll[v.ID] = true
	}
	for _, v := range videos {
		if ctx.Err() != nil {
			return d, false
		}
		prev := states[platform.VideoStateID(v.ID)]
		if poll[v.ID] && p.holdsNow(plat, v, st) {
			if !p.pollVideo(ctx, b, vs, v, prev, ad, known, st) {
				return d, false
			}
		}
	}
	late := 0
	for i, v := range quiet {
		if ctx.Err() != nil {
			return d, false
		}
		if p.opts.Now().After(deadline) {
			late = len(quiet) - i
			break
		}
		poll[v.ID] = true
		if !p.holdsNow(plat, v, st) {
			continue
		}
		if !p.pollVideo(ctx, b, vs, v, states[platform.VideoStateID(v.ID)], ad, known, st) {
			return d, false
		}
	}
	if deferred := len(held) - len(poll); deferred > 0 {
		st.Deferred += deferred
		p.opts.Metrics.Deferred(plat, name, deferred)
	}
	if late > 0 {
		p.sourceLog(b).Info("quiet videos left for the next cycle: this cycle's time for them is up", "left", late)
	}
	for _, v := range videos {
		log := p.sourceLog(b).With("video", v.ID)
		if !v.DiscoverThreads || !held[v.ID] {
			continue
		}
		// Every cycle, due or not: a thread whose poll failed or was cut
		// short stays changed until one succeeds.
		changed, err := p.opts.Store.ChangedThreads(ctx, plat, v.ID)
		if err != nil {
			if p.storeDown(ctx, log, "list changed threads: polled next cycle", err, st) {
				return d, false
			}
			if failed(ctx, log, "list changed threads: polled next cycle", "problem", store.Describe(err), "err", err) {
				st.Errors++
			}
			continue
		}
		for _, t := range changed {
			if _, dup := d.listed[t.ThreadID]; configured[t.ThreadID] || dup {
				continue
			}
			lt := listedThread{total: t.ListedTotal}
			if t.Baseline {
				lt.newSince = t.DiscoveredAt
			}
			d.listed[t.ThreadID] = lt
			d.threads = append(d.threads, model.Thread{ID: t.ThreadID, PostID: v.ID, Labels: v.Labels})
		}
	}
	return d, true
}

// holdsNow asks Options.Holds again as video v's poll starts (a lease that
// lapsed during a long cycle may be another daemon's by now), counting a
// video let go in st.
func (p *Poller) holdsNow(plat string, v platform.Video, st *Stats) bool {
	if p.holds(plat, platform.VideoStateID(v.ID)) {
		return true
	}
	st.Elsewhere++
	return false
}

// pollVideo polls one video and records what it found; false: the source
// must not be polled further this cycle.
func (p *Poller) pollVideo(ctx context.Context, b Binding, vs platform.VideoSource, v platform.Video, prev model.ThreadState,
	ad adaptive, known platform.KnownFunc, st *Stats) bool {
	plat := b.Source.Platform()
	log := p.sourceLog(b).With("video", v.ID)
	var serr storeErrs
	listed := func(ctx context.Context, ids []string) (map[string]int, error) {
		m, err := p.opts.Store.ListedTotals(ctx, plat, ids)
		serr.keep(err)
		return m, err
	}
	lookup := func(ctx context.Context, ids []string) (map[string]bool, error) {
		m, err := known(ctx, ids)
		serr.keep(err)
		return m, err
	}
	res, err := vs.PollVideo(ctx, v, prev, lookup, listed)
	if bt := res.BadTimes; bt.Count > 0 {
		log.Warn("comment create times unusable (unreadable or out of range): recorded with the time they were seen",
			"comments", bt.Count, "first_comment", bt.FirstID, "first_value", bt.FirstRaw)
	}
	st.Polled++
	st.Calls += res.Calls
	p.opts.Metrics.Poll(plat, b.SourceName(), res.Calls)
	firstSight := !prev.Initialized
	if err := p.handleComments(ctx, b, res.Comments, firstSight, !v.AnswerTopLevel, st); err != nil {
		// Neither the listing nor the state is saved: the comments are
		// seen again next cycle.
		if ctx.Err() != nil || p.storeDown(ctx, log, "record comments: they are seen again", err, st) {
			return false
		}
		log.Error("record comments: they are seen again next cycle", "problem", store.Describe(err), "err", err)
		st.Errors++
		return true
	}
	if err != nil && !errors.Is(err, platform.ErrCycleEnds) && ctx.Err() == nil {
		if serr := serr.first(); serr != nil && p.storeDown(ctx, log, "look up known comments: the video is polled again", serr, st) {
			// The database, not the platform: one line for the outage,
			// and the source's other polls end.
			return false
		}
	}
	if v.DiscoverThreads && len(res.Listed) > 0 && !p.recordListing(ctx, b, v, res.Listed, firstSight && b.Backlog != BacklogAnswer, st) {
		return false
	}
	if err != nil {
		if ctx.Err() != nil || errors.Is(err, platform.ErrCycleEnds) {
			log.Debug("video poll cancelled", "err", err)
			return ctx.Err() == nil
		}
		st.Errors++
		p.opts.Metrics.PollError(plat, b.SourceName(), err)
		return p.handleSourceError(ctx, b, model.Thread{ID: platform.VideoStateID(v.ID), PostID: v.ID}, err)
	}
	// Saved after the comments and the listing: a crash before it polls
	// the video again as before, and what was recorded stays known.
	state := ad.after(prev, res.State, len(res.Comments), p.opts.Now())
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := p.opts.Store.SaveThreadState(sctx, state); err != nil {
		if p.storeDown(ctx, log, "save video state: the video is polled again", err, st) {
			return false
		}
		log.Error("save video state", "problem", store.Describe(err), "err", err)
		st.Errors++
	}
	log.Debug("video polled", "new", len(res.Comments), "calls", res.Calls, "total", res.State.Total)
	return true
}

// recordListing records a video's listed counts and keeps the video within
// its max_threads, logging what it found and dropped. baseline: the first
// sight of a video whose backlog is not answered, whose threads so far are
// taken as read.
//
// It returns false when the database is unavailable (logged once for the
// outage): the source must not be polled further this cycle.
func (p *Poller) recordListing(ctx context.Context, b Binding, v platform.Video, listed []platform.ListedThread, baseline bool, st *Stats) bool {
	plat := b.Source.Platform()
	log := p.sourceLog(b).With("video", v.ID)
	l := store.VideoListing{Platform: plat, AwemeID: v.ID, Labels: v.Labels, At: p.opts.Now(), Baseline: baseline}
	l.Threads = make([]store.ListedThread, len(listed))
	for i, t := range listed {
		l.Threads[i] = store.ListedThread{ThreadID: t.ThreadID, Total: t.Total}
	}
	found, err := p.opts.Store.RecordVideoListing(ctx, l)
	if err != nil {
		if p.storeDown(ctx, log, "record video listing: its threads are found at the next listing", err, st) {
			return false
		}
		if failed(ctx, log, "record video listing: its threads are found at the next listing", "problem", store.Describe(err), "err", err) {
			st.Errors++
		}
		return true
	}
	if len(found) > 0 {
		log.Info("threads discovered under the video", "found", len(found), "baseline", baseline)
	}
	dropped, err := p.opts.Store.EvictDiscoveredThreads(ctx, plat, v.ID, v.MaxThreads)
	if err != nil {
		if p.storeDown(ctx, log, "keep the video's threads within max_threads", err, st) {
			return false
		}
		if failed(ctx, log, "keep the video's threads within max_threads", "problem", store.Describe(err), "err", err) {
			st.Errors++
		}
		return true
	}
	for _, t := range dropped {
		log.Info("discovered thread dropped: the video keeps its max_threads most recently active",
			"thread", t.ThreadID, "last_active", t.LastActive.Format(time.RFC3339), "max_threads", v.MaxThreads)
	}
	return true
}
