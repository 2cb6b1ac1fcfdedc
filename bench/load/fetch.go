package main

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/autoreplyd/autoreplyd/config"
	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/platform"
	"github.com/autoreplyd/autoreplyd/platform/douyin"
)

// fetchResult is the baseline: the daemon's own Douyin source, in process
// and with nothing after it (no store, no rules, no sends), polling the same
// threads the daemon polled in each measured cycle, after the same new
// replies were added to the same threads, at the same concurrency and under
// the same rate limit.
type fetchResult struct {
	// Cycles are the measured cycles replayed; Threads the distinct threads
	// the daemon polled in them (each first seen untimed).
	Cycles  int `json:"cycles"`
	Threads int `json:"threads"`
	// Polls are the timed thread polls (the daemon's polls of the measured
	// cycles, one for one); ActivePolls those of threads with new replies.
	Polls       int `json:"polls"`
	ActivePolls int `json:"active_polls"`
	// NewReplies were added before the polls, as many to each thread as the
	// daemon's cycle listed first in it (the harness's and the daemon's own
	// answers); Found is how many the polls listed as not known.
	NewReplies int `json:"new_replies"`
	Found      int `json:"found"`
	Calls      int `json:"calls"`
	// Seconds is the time of the timed polls, CycleSeconds each cycle's.
	Seconds      float64   `json:"seconds"`
	CycleSeconds []float64 `json:"cycle_seconds"`
	// CPUSeconds is the harness's CPU time in the timed polls: fetching,
	// decoding and the imitation serving the pages.
	CPUSeconds float64 `json:"cpu_seconds"`
	// CommentsPerSecond is Found ÷ Seconds: new replies per second.
	CommentsPerSecond float64 `json:"comments_per_second"`
	Concurrency       int     `json:"concurrency"`
	// Rate and Burst are the source's rate limit, the daemon's
	// sources.douyin.rate and burst.
	Rate  string `json:"rate"`
	Burst int    `json:"burst"`
	// InHarness: polled from the harness's own process (beside the
	// imitation), not from a process of its own.
	InHarness bool `json:"in_harness"`
}

// baselineThread is one thread of the baseline and what its source knows
// of it between polls, as the daemon's store would: its state and the ids
// of its replies.
type baselineThread struct {
	th    model.Thread
	state model.ThreadState
	known map[string]bool
}

// fetchDecode measures fetching and decoding the pages the daemon fetched
// in the measured cycles. It first polls every thread the daemon polled in
// them once, untimed and without rate limit (a first sight: its state and
// known replies). Then, for each measured cycle in order, it adds to each
// thread as many new replies as the daemon's cycle listed first in it (the
// daemon's own answers count: they too were new to its polls), and times
// polling every thread the daemon polled in the cycle, each from its state
// with its known replies, o.fetchConcurrency() at a time and under the
// daemon's sources.douyin rate and burst. The replies found must be exactly
// those added.
//
// inHarness polls from the harness's own process, sharing its runtime with
// the imitation; otherwise a child process polls (fetchproc.go), as the
// daemon does, and the CPU time is the child's plus the harness's (the
// imitation serving) over each round.
func fetchDecode(ctx context.Context, im *imitation, g *generator, o options, cycles []cycleReport, inHarness bool) (fetchResult, error) {
	res := fetchResult{Cycles: len(cycles), Concurrency: o.fetchConcurrency(), Rate: o.SourceRate, Burst: o.SourceBurst, InHarness: inHarness}
	if _, err := config.ParseRate(o.SourceRate); err != nil {
		return res, fmt.Errorf("fetch baseline: -source-rate: %w", err)
	}
	seen := map[int]bool{}
	for _, c := range cycles {
		for t := range c.polled {
			seen[t] = true
		}
	}
	res.Threads = len(seen)
	if len(seen) == 0 {
		return res, nil
	}
	threads := slices.Sorted(maps.Keys(seen))
	var poll func([]int) (childResult, error)
	if inHarness {
		b, err := newBaseline(im.base, im.token, threads, o.SourceRate, o.SourceBurst)
		if err != nil {
			return res, err
		}
		if err := b.firstSight(ctx, res.Concurrency); err != nil {
			return res, err
		}
		poll = func(ts []int) (childResult, error) {
			start := time.Now()
			cpu0, ok0 := procCPU(os.Getpid())
			found, calls, err := b.round(ctx, ts, res.Concurrency)
			r := childResult{Found: found, Calls: calls, Seconds: time.Since(start).Seconds()}
			if cpu1, ok1 := procCPU(os.Getpid()); ok0 && ok1 {
				r.CPUSeconds = cpu1 - cpu0
			}
			return r, err
		}
	} else {
		setup := childSetup{Base: im.base, Token: im.token, Threads: threads,
			Concurrency: res.Concurrency, Rate: o.SourceRate, Burst: o.SourceBurst}
		if o.Pprof != "" {
			setup.CPUProfile = filepath.Join(o.Pprof, "fetch-cpu.pprof")
		}
		child, err := startFetchChild(ctx, setup)
		if err != nil {
			return res, err
		}
		defer func() { _ = child.close() }()
		poll = func(ts []int) (childResult, error) {
			cpu0, ok0 := procCPU(os.Getpid())
			r, err := child.round(ts)
			// The harness's share: the imitation serving the pages.
			if cpu1, ok1 := procCPU(os.Getpid()); ok0 && ok1 {
				r.CPUSeconds += cpu1 - cpu0
			}
			return r, err
		}
	}
	im.takeCalls(time.Now()) // not kept: the imitation's record stays small

	for _, c := range cycles {
		// The threads with new replies, grouped by how many.
		byCount := map[int][]int{}
		for t, fresh := range c.polled {
			if fresh > 0 {
				byCount[fresh] = append(byCount[fresh], t)
			}
		}
		for _, n := range slices.Sorted(maps.Keys(byCount)) {
			idx := byCount[n]
			slices.Sort(idx)
			res.NewReplies += len(im.addNew(g, idx, n, o.Match, o.Spam, false))
			res.ActivePolls += len(idx)
		}
		r, err := poll(slices.Sorted(maps.Keys(c.polled)))
		if err != nil {
			return res, fmt.Errorf("fetch baseline: cycle %d: %w", c.N, err)
		}
		im.takeCalls(time.Now())
		res.Polls += len(c.polled)
		res.Found += r.Found
		res.Calls += r.Calls
		res.Seconds += r.Seconds
		res.CPUSeconds += r.CPUSeconds
		res.CycleSeconds = append(res.CycleSeconds, r.Seconds)
	}
	if res.Seconds > 0 {
		res.CommentsPerSecond = float64(res.Found) / res.Seconds
	}
	if res.Found != res.NewReplies {
		return res, fmt.Errorf("fetch baseline: found %d new replies, %d were added", res.Found, res.NewReplies)
	}
	return res, nil
}

// baseline is the daemon's own Douyin source over the baseline's threads,
// with what it knows of each between polls.
type baseline struct {
	// free makes the first sight (not measured, and it would take long at
	// the daemon's rate), limited the measured polls.
	free, limited *douyin.Source
	threads       map[int]*baselineThread
}

func newBaseline(base, token string, threads []int, rate string, burst int) (*baseline, error) {
	limit, err := config.ParseRate(rate)
	if err != nil {
		return nil, fmt.Errorf("fetch baseline: -source-rate: %w", err)
	}
	b := &baseline{threads: make(map[int]*baselineThread, len(threads))}
	watched := make([]model.Thread, 0, len(threads))
	for _, t := range threads {
		bt := &baselineThread{th: model.Thread{ID: threadID(t), PostID: awemeID(t)}}
		b.threads[t] = bt
		watched = append(watched, bt.th)
	}
	cfg := douyin.Config{BaseURL: base, Token: token, Threads: watched, Timeout: time.Minute, FullRescanEvery: -1}
	if b.free, err = douyin.New(cfg); err != nil {
		return nil, err
	}
	cfg.Rate, cfg.Burst = limit, burst
	if b.limited, err = douyin.New(cfg); err != nil {
		return nil, err
	}
	return b, nil
}

// firstSight polls every thread once, without rate limit.
func (b *baseline) firstSight(ctx context.Context, conc int) error {
	all := make([]*baselineThread, 0, len(b.threads))
	for _, t := range slices.Sorted(maps.Keys(b.threads)) {
		all = append(all, b.threads[t])
	}
	if _, _, err := pollRound(ctx, b.free, all, conc); err != nil {
		return fmt.Errorf("fetch baseline: first sight: %w", err)
	}
	return nil
}

// round polls ts once each, under the rate limit.
func (b *baseline) round(ctx context.Context, ts []int, conc int) (found, calls int, err error) {
	polled := make([]*baselineThread, 0, len(ts))
	for _, t := range ts {
		bt := b.threads[t]
		if bt == nil {
			return 0, 0, fmt.Errorf("thread %d was not in the first sight", t)
		}
		polled = append(polled, bt)
	}
	return pollRound(ctx, b.limited, polled, conc)
}

// pollRound polls each of ts once through src, conc at a time, each from its
// state with its known replies (none on a first sight), and then updates both
// with what the poll found. It returns the replies found and the calls made.
func pollRound(ctx context.Context, src *douyin.Source, ts []*baselineThread, conc int) (found, calls int, err error) {
	errs := make([]error, len(ts))
	results := make([]model.PollResult, len(ts))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(max(conc, 1), len(ts)) {
		wg.Go(func() {
			for i := range next {
				t := ts[i]
				var kf platform.KnownFunc
				if t.state.Initialized {
					kf = func(_ context.Context, ids []string) (map[string]bool, error) {
						out := make(map[string]bool, len(ids))
						for _, id := range ids {
							if t.known[id] {
								out[id] = true
							}
						}
						return out, nil
					}
				}
				results[i], errs[i] = src.PollThread(ctx, t.th, t.state, kf)
			}
		})
	}
	for i := range ts {
		next <- i
	}
	close(next)
	wg.Wait()
	for i, t := range ts {
		if errs[i] != nil {
			return found, calls, fmt.Errorf("poll of %s: %w", t.th.ID, errs[i])
		}
		r := results[i]
		found += len(r.Comments)
		calls += r.Calls
		t.state = r.State
		if t.known == nil {
			t.known = make(map[string]bool, len(r.Comments))
		}
		for _, c := range r.Comments {
			t.known[c.ID] = true
		}
	}
	return found, calls, nil
}

// fetchConcurrency is the baseline's threads polled at once: -fetch-concurrency
// when set, else the daemon's (-concurrency).
func (o options) fetchConcurrency() int {
	return max(cmp.Or(o.FetchConcurrency, o.Concurrency), 1)
}
