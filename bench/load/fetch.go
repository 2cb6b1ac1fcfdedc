package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/poller/douyin"
)

// fetchResult is the baseline: the new replies of the active threads found
// by the daemon's own Douyin source, in process, with nothing after it (no
// store, no rules, no sends).
type fetchResult struct {
	Rounds            int     `json:"rounds"`
	Threads           int     `json:"threads"`
	NewReplies        int     `json:"new_replies"`
	Found             int     `json:"found"`
	Calls             int     `json:"calls"`
	Seconds           float64 `json:"seconds"`
	CommentsPerSecond float64 `json:"comments_per_second"`
	Concurrency       int     `json:"concurrency"`
}

// fetchDecode measures fetching and decoding the pages that hold new
// replies, as the daemon's source fetches them: for each round it picks
// active threads, polls each once untimed (a first sight: its state and
// known replies, as the daemon has them before new replies come), adds
// perThread new replies to each, then times polling them again from that
// state, conc threads at a time.
func fetchDecode(ctx context.Context, im *imitation, g *generator, o options, active int) (fetchResult, error) {
	res := fetchResult{Rounds: max(o.Cycles, 1), Concurrency: max(o.FetchConcurrency, 1)}
	for range res.Rounds {
		idx := g.choose(active, o.Threads)
		threads := make([]model.Thread, len(idx))
		for i, t := range idx {
			threads[i] = model.Thread{ID: threadID(t), PostID: awemeID(t)}
		}
		src, err := douyin.New(douyin.Config{BaseURL: im.base, Token: im.token, Threads: threads, Timeout: time.Minute,
			FullRescanEvery: -1})
		if err != nil {
			return res, err
		}
		states := make([]model.ThreadState, len(threads))
		known := make([]map[string]bool, len(threads))
		for i, th := range threads {
			r, err := src.PollThread(ctx, th, model.ThreadState{}, nil)
			if err != nil {
				return res, fmt.Errorf("fetch baseline: first poll of %s: %w", th.ID, err)
			}
			states[i] = r.State
			known[i] = make(map[string]bool, len(r.Comments))
			for _, c := range r.Comments {
				known[i][c.ID] = true
			}
		}
		added := im.addNew(g, idx, o.NewPerActive, o.Match, o.Spam, false)
		res.NewReplies += len(added)
		res.Threads += len(threads)

		found := make([]int, len(threads))
		calls := make([]int, len(threads))
		errs := make([]error, len(threads))
		next := make(chan int)
		var wg sync.WaitGroup
		start := time.Now()
		for range res.Concurrency {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range next {
					kn := known[i]
					r, err := src.PollThread(ctx, threads[i], states[i], func(_ context.Context, ids []string) (map[string]bool, error) {
						out := make(map[string]bool, len(ids))
						for _, id := range ids {
							if kn[id] {
								out[id] = true
							}
						}
						return out, nil
					})
					found[i], calls[i], errs[i] = len(r.Comments), r.Calls, err
				}
			}()
		}
		for i := range threads {
			next <- i
		}
		close(next)
		wg.Wait()
		res.Seconds += time.Since(start).Seconds()
		for i := range threads {
			if errs[i] != nil {
				return res, fmt.Errorf("fetch baseline: poll of %s: %w", threads[i].ID, errs[i])
			}
			res.Found += found[i]
			res.Calls += calls[i]
		}
	}
	if res.Seconds > 0 {
		res.CommentsPerSecond = float64(res.Found) / res.Seconds
	}
	if res.Found != res.NewReplies {
		return res, fmt.Errorf("fetch baseline: found %d new replies, %d were added", res.Found, res.NewReplies)
	}
	return res, nil
}
