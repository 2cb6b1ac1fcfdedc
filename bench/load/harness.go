package main

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
)

// tickMargin is the least time before the next cycle starts in which the
// harness still adds a cycle's new replies (which takes a few milliseconds).
const tickMargin = 100 * time.Millisecond

// cycleEnd is when the last cycle of m ended (the daemon's clock is ours).
func cycleEnd(m metrics) time.Time {
	return time.Unix(0, int64(m.get("autoreplyd_last_cycle_timestamp_seconds")*1e9))
}

// cycleStart is when the last cycle of m started, prev being the scrape
// after the cycle before it (the zero metrics for the first cycle).
func cycleStart(m, prev metrics) time.Time {
	d := m.get("autoreplyd_cycle_duration_seconds_sum") - prev.get("autoreplyd_cycle_duration_seconds_sum")
	return cycleEnd(m).Add(-time.Duration(d * 1e9))
}

// tickClock predicts the daemon's "@every PERIOD" ticks: robfig/cron fires
// on whole seconds, PERIOD apart (a tick during a cycle is skipped).
type tickClock struct {
	period time.Duration
	last   time.Time // a tick: the first after the cron started, less one period, or one that started a cycle
}

// tickSlack is how late cron may fire a tick: a tick due just before a
// cycle ended may still start the next cycle, its timer firing after the end.
const tickSlack = 100 * time.Millisecond

// next is the first tick after t, or the one just before t (within
// tickSlack) that may not have fired yet.
func (c *tickClock) next(t time.Time) time.Time {
	t = t.Add(-tickSlack)
	if !t.After(c.last) {
		return c.last.Add(c.period)
	}
	n := t.Sub(c.last)/c.period + 1
	return c.last.Add(n * c.period)
}

// seen re-anchors the clock on a cycle that started at start, and reports
// whether that was on a predicted tick.
func (c *tickClock) seen(start time.Time) bool {
	tick := start.Truncate(time.Second)
	ok := tick.Sub(c.last)%c.period == 0
	c.last = tick
	return ok
}

func (o options) validate() error {
	switch {
	case o.Threads < 0 || o.Threads == 0 && o.Videos == 0:
		return errors.New("-threads must be at least 1 (or 0 with -videos)")
	case o.Videos < 0 || o.VideoComments < 0 || o.VideoNew < 0 || o.VideoMaxPages < 0:
		return errors.New("-videos, -video-comments, -video-new and -video-max-pages must not be negative")
	case o.VideoActive <= 0 || o.VideoActive > 1:
		return errors.New("-video-active must be in (0, 1]")
	case !(o.VideoThreadReplies >= 0 && o.VideoThreadReplies <= 1):
		return errors.New("-video-thread-replies must be in [0, 1]")
	case o.VideoPageSize < 1:
		return errors.New("-video-page-size must be at least 1")
	case o.Replies < 0:
		return errors.New("-replies must not be negative")
	case o.Active <= 0 || o.Active > 1:
		return errors.New("-active must be in (0, 1]")
	case o.NewPerActive < 1:
		return errors.New("-new-per-active must be at least 1")
	case o.Match < 0 || o.Spam < 0 || o.Match+o.Spam > 1:
		return errors.New("-match and -spam must be fractions adding up to at most 1")
	case o.Period < time.Second || o.Period%time.Second != 0:
		return errors.New("-period must be a whole number of seconds (cron's @every resolution)")
	case o.Cycles < 1:
		return errors.New("-cycles must be at least 1")
	case o.Warmup < 0 || o.Warmup >= o.Cycles:
		return errors.New("-warmup must be at least 0 and less than -cycles")
	case o.PageSize < 1:
		return errors.New("-page-size must be at least 1")
	case o.History < 0:
		return errors.New("-history must not be negative")
	case !(o.Sticky >= 0 && o.Sticky <= 1):
		return errors.New("-sticky must be in [0, 1]")
	case o.FetchConcurrency < 0:
		return errors.New("-fetch-concurrency must not be negative")
	case o.Database != "sqlite" && o.Database != "pg":
		return errors.New("-database must be sqlite or pg")
	case o.Database == "pg" && o.History > 0:
		// The seeded history is an SQLite file; copying it into
		// PostgreSQL is autoreplyd migrate's job, not the harness's.
		return errors.New("-history needs -database sqlite")
	case o.Instances < 1:
		return errors.New("-instances must be at least 1")
	case o.Instances > 1 && o.Pprof != "":
		return errors.New("-pprof profiles one daemon: it needs -instances 1")
	case o.Restarts < 0:
		return errors.New("-restarts must not be negative")
	case o.Restarts > 0 && o.Instances > 1:
		return errors.New("-restarts times one daemon's start: it needs -instances 1")
	}
	return nil
}

// activeThreads is how many threads get new replies each cycle.
func (o options) activeThreads() int {
	return min(max(int(float64(o.Threads)*o.Active+0.5), 1), o.Threads)
}

// run runs the whole harness and returns its report; progress goes to logw.
func run(ctx context.Context, o options, logw io.Writer) (_ *report, err error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	logf := func(format string, args ...any) {
		// Progress only: a line that cannot be written is lost, the run goes on.
		_, _ = fmt.Fprintf(logw, "%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
	}
	rep := &report{Machine: describeMachine(), Options: o.summary()}

	dir := o.Dir
	if dir == "" {
		// Not err: the deferred removal must set run's result.
		d, merr := os.MkdirTemp("", "autoreplyd-load-")
		if merr != nil {
			return nil, merr
		}
		defer func() { err = errors.Join(err, os.RemoveAll(d)) }()
		dir = d
	} else if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}

	im, err := startImitation(o.Order, o.PageSize, o.VideoOrder, o.VideoPageSize, o.Echo)
	if err != nil {
		return nil, err
	}
	defer im.close()
	g := newGenerator(o.Seed)
	start := time.Now()
	for i := range o.Threads {
		im.jo.AddThread(threadID(i), g.backlog(i, o.Replies, start))
	}
	logf("imitation on %s: %d threads, %d replies each (%s order, %d a page)", im.base, o.Threads, o.Replies, o.Order, o.PageSize)
	var world *videoWorld
	if o.Videos > 0 {
		world = setupVideos(im, g, o, start)
		discoverable := 0
		for _, ts := range world.threads {
			discoverable += len(ts)
		}
		logf("imitation: %d videos, %d top-level comments (%s order, %d a page), %d of them with replies",
			o.Videos, o.VideoComments, o.VideoOrder, o.VideoPageSize, discoverable)
	}

	bin := o.Bin
	switch {
	case bin == "" && o.Pprof != "":
		bin = filepath.Join(dir, "pprofd")
		logf("building ./bench/pprofd")
		if err := buildProfiled(ctx, bin); err != nil {
			return nil, err
		}
	case bin == "":
		bin = filepath.Join(dir, "autoreplyd")
		logf("building ./cmd/autoreplyd")
		if err := buildDaemon(ctx, bin); err != nil {
			return nil, err
		}
	}
	rep.Binary = describeBinary(bin, o.Bin == "")
	if o.History > 0 {
		cache := o.HistoryCache
		if cache == "" {
			if cache, err = defaultHistoryCache(o.History); err != nil {
				return nil, err
			}
		}
		info, err := prepareHistory(ctx, o.History, cache, filepath.Join(dir, dbName), logf)
		if err != nil {
			return nil, err
		}
		rep.History = &info
		logf("history: %d rows, %.0f MB (cache %s, reused %v)", info.Rows, float64(info.Bytes)/1e6, info.Cache, info.Reused)
	}
	database := filepath.Join(dir, dbName)
	if o.Database == "pg" {
		srv, dsn, perr := startPostgres(ctx)
		if perr != nil {
			return nil, perr
		}
		// After the daemons are stopped (deferred later, run earlier).
		defer func() { err = errors.Join(err, srv.Close()) }()
		database = dsn
		logf("PostgreSQL: a throwaway cluster in %s (fsync off), database %s", srv.SocketDir(), pgDatabase)
	}
	credDir, err := writeSecrets(dir, im)
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	listen := fmt.Sprintf("127.0.0.1:%d", port)
	cfgPath, err := writeConfig(dir, o, im, listen, database)
	if err != nil {
		return nil, err
	}

	var prof *profiler
	var pre []string
	if o.Pprof != "" {
		pport, err := freePort()
		if err != nil {
			return nil, err
		}
		paddr := fmt.Sprintf("127.0.0.1:%d", pport)
		if prof, err = newProfiler(o.Pprof, paddr); err != nil {
			return nil, err
		}
		pre = []string{"-pprof-listen", paddr}
	}

	logf("starting %d × autoreplyd run (schedule @every %s, source rate %s, concurrency %d, database %s)", o.Instances, o.Period, o.SourceRate, o.Concurrency, o.Database)
	ds, startups, err := startDaemons(ctx, o.Instances, bin, pre, cfgPath, credDir, listen, dir)
	if err != nil {
		return nil, err
	}
	stopped := false
	defer func() {
		if !stopped {
			for _, d := range ds {
				err = errors.Join(err, d.kill())
			}
		}
	}()
	// Daemon 0 paces the run: the harness adds replies before its ticks
	// and measures its cycles; the others run on their own ticks, and the
	// imitation counts everyone's calls.
	d, startup := ds[0], startups[0]
	rep.Startup = startupReport{Seconds: startup.Seconds(), HistoryRows: o.History, Threads: o.Threads}
	for i, t := range startups {
		logf("daemon %d ready after %s", i, t.Round(time.Millisecond))
	}

	// The first cycle: every thread seen for the first time.
	// The schedule's ticks: @every fires on whole seconds, PERIOD apart,
	// counted from when the cron started, just before the first cycle (the
	// clock is set right when the first cycle's start is known).
	ticks := &tickClock{period: o.Period, last: time.Now().Truncate(time.Second)}
	m, scrapes, err := d.waitCycles(ctx, 1, time.Now(), ticks)
	if err != nil {
		return nil, err
	}
	lastEnd := cycleEnd(m)
	ticks.last = cycleStart(m, metrics{}).Truncate(time.Second)
	cc := im.takeCalls(lastEnd)
	first := cycleReport{N: 0, DaemonCycles: cycleCount(m), Calls: cc.total, IdleThreads: o.Threads, Scrapes: scrapes}
	for _, tc := range cc.threads {
		first.CallsIdle += tc.calls
	}
	if o.Videos > 0 {
		v := videoFigures(cc, o.Videos)
		first.Video = &v
	}
	first.fill(m, metrics{})
	first.Spill = o.Instances == 1 && first.DaemonCalls != first.Calls
	rep.FirstCycle = first
	rep.Daemon.RSSAfterFirstCycle = procStatus(d.cmd.Process.Pid, "VmRSS")["VmRSS"]
	logf("first cycle: %.1fs, %d calls, %d backlog replies recorded", first.Seconds, first.Calls, first.Backlog)

	// The scrapes allocate in the daemon too: their cost, measured between
	// cycles, is taken off the allocation figures at the end.
	var costs []scrapeCost
	measureCost := func() {
		if time.Until(ticks.next(lastEnd)) > 1500*time.Millisecond {
			if c, ok := d.scrapeCost(ctx); ok {
				costs = append(costs, c)
			}
		}
	}
	measureCost()
	// waitNext waits for the next cycle to end and takes its calls.
	waitNext := func(prev metrics) (metrics, int, cycleCalls, error) {
		m, scrapes, err := d.waitCycles(ctx, cycleCount(prev)+1, ticks.next(lastEnd), ticks)
		if err != nil {
			return m, 0, cycleCalls{}, err
		}
		return m, scrapes, im.takeCalls(cycleEnd(m)), nil
	}

	var cpu0 cpuMark // CPU times at the start of the measured cycles
	var instCPU0 []float64
	cpuOK := false
	var added []newReply
	var chosen []int       // the threads given new replies before the last cycle
	var chosenVideos []int // the videos given new comments before the last cycle
	prev := m
	active := o.activeThreads()
	// The replies of the warm-up cycles are left out of the summary.
	measuredFrom := time.Now()
	for k := 1; k <= o.Cycles; k++ {
		if k == 1 && o.Videos > 0 {
			// Create times are whole seconds, and a thread found at a
			// video's first sight takes the replies created before that
			// moment as backlog: a reply made in the same second would be
			// one of them.
			time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second)))
		}
		// New replies must be in place before the next cycle starts, or
		// some threads would see them a cycle late: when the next tick is
		// too close, that cycle runs without them and is not measured.
		skipped := 0
		for time.Until(ticks.next(lastEnd)) < tickMargin {
			logf("the next cycle starts in %s: too soon to add replies; it runs unmeasured",
				time.Until(ticks.next(lastEnd)).Round(time.Millisecond))
			m, _, _, err := waitNext(prev)
			if err != nil {
				return nil, err
			}
			ticks.seen(cycleStart(m, prev))
			lastEnd = cycleEnd(m)
			prev = m
			skipped++
		}
		echoes := im.takeEchoes()
		chosen = g.chooseSticky(active, o.Threads, chosen, o.Sticky)
		if k == o.Warmup+1 {
			measuredFrom = time.Now()
			cpu0, cpuOK = markCPU(d.cmd.Process.Pid)
			instCPU0 = instancesCPU(ds)
			if prof != nil {
				if err := prof.start(ctx); err != nil {
					return nil, err
				}
			}
		}
		fresh := im.addNew(g, chosen, o.NewPerActive, o.Match, o.Spam, true)
		added = append(added, fresh...)
		var freshV []newReply
		if o.Videos > 0 {
			chosenVideos = g.chooseSticky(o.activeVideos(), o.Videos, chosenVideos, o.Sticky)
			freshV = im.addVideoNew(g, world, chosenVideos, o)
			added = append(added, freshV...)
		}
		late := im.callsAfter(lastEnd) > 0

		m, scrapes, cc, err := waitNext(prev)
		if err != nil {
			return nil, err
		}
		calls, unseen := cc.threads, cc.unseen
		c := cycleReport{N: k, Warmup: k <= o.Warmup, DaemonCycles: cycleCount(m) - cycleCount(prev), Calls: cc.total, NewReplies: len(fresh), Echoes: echoes,
			Scrapes: scrapes, Unmeasured: skipped, Late: late || !ticks.seen(cycleStart(m, prev))}
		if o.Videos > 0 {
			v := videoFigures(cc, o.Videos)
			for _, r := range freshV {
				if r.Where == topLevel {
					v.NewTopLevel++
				} else {
					v.NewReplies++
				}
			}
			c.Video = &v
		}
		c.fill(m, prev)
		// The calls the harness counted are exactly the cycle's; the
		// daemon's count differs when the scrape came after the next cycle
		// had started polling. (With several daemons it is daemon 0's
		// share: nothing to compare.)
		c.Spill = o.Instances == 1 && c.DaemonCalls != c.Calls
		c.polled = make(map[int]int, len(calls))
		for id, tc := range calls {
			if t, ok := threadIndex(id); ok {
				c.polled[t] = tc.fresh
			} else {
				logf("cycle %d: calls for thread %q, not one of the harness's: left out of the fetch+decode baseline", k, id)
			}
			if tc.fresh > 0 {
				c.ActiveThreads++
				c.CallsActive += tc.calls
				c.Seen += tc.fresh
			} else {
				c.CallsIdle += tc.calls
			}
		}
		for t := range unseen {
			if calls[t].calls == 0 {
				c.Waiting++
			}
		}
		c.IdleThreads = o.Threads - c.ActiveThreads - c.Waiting
		rep.Cycles = append(rep.Cycles, c)
		logf("cycle %d: %.1fs, %d calls (%d on %d threads with new replies, %d on %d idle; %d threads with new replies not polled), %d new replies + %d own answers, %d handled, %d sent",
			k, c.Seconds, c.Calls, c.CallsActive, c.ActiveThreads, c.CallsIdle, c.IdleThreads, c.Waiting, c.NewReplies, c.Echoes, c.Handled, c.Sent)
		if v := c.Video; v != nil {
			logf("cycle %d videos: %d listing calls (%d on %d videos with %d new top-level comments, %d on %d changed by replies only, %d on %d idle; %d changed videos not listed), %d thread calls (%d on %d threads with %d new replies, %d on threads with none; %d threads with new replies not polled)",
				k, v.ListingCalls, v.TopCalls, v.TopVideos, v.TopSeen, v.ReplyVideoCalls, v.ReplyVideos, v.IdleCalls, v.IdleVideos, v.WaitingVideos,
				v.ThreadCalls, v.ActiveThreadCalls, v.ActiveThreads, v.ThreadSeen, v.IdleThreadCalls, v.WaitingThreads)
		}
		prev, lastEnd = m, cycleEnd(m)
		if err := exitedEarly(ds); err != nil {
			return nil, err
		}
		measureCost()
	}
	measuredTo := lastEnd

	instCPU1 := instancesCPU(ds)
	if cpu1, ok := markCPU(d.cmd.Process.Pid); ok && cpuOK {
		rep.Daemon.CPUSeconds, rep.Harness.CPUSeconds = cpu1.daemon-cpu0.daemon, cpu1.harness-cpu0.harness
	}
	if prof != nil {
		if err := prof.stop(ctx); err != nil {
			return nil, err
		}
		logf("profiles of the measured cycles in %s", o.Pprof)
	}

	// Adaptive polling may leave questions in quiet threads for up to
	// max_interval: let the daemon run on (no new replies) until they are
	// answered, so that the check and the latencies count them.
	drainStart := time.Now()
	limit := drainLimit(o, rep.Cycles)
	for im.answers().Pending > 0 && time.Since(drainStart) < limit {
		if rep.Drain.Cycles == 0 {
			logf("%d questions not answered yet: running on (at most %s) until they are", im.answers().Pending, limit.Round(time.Second))
		}
		m, _, _, err := waitNext(prev)
		if err != nil {
			return nil, err
		}
		ticks.seen(cycleStart(m, prev))
		prev, lastEnd = m, cycleEnd(m)
		rep.Drain.Cycles++
	}
	if rep.Drain.Cycles > 0 {
		rep.Drain.Seconds = time.Since(drainStart).Seconds()
		logf("ran %d more cycles (%.0fs): %d questions still unanswered", rep.Drain.Cycles, rep.Drain.Seconds, im.answers().Pending)
	}

	if c, ok := median(costs); ok {
		rep.Daemon.ScrapeMallocs, rep.Daemon.ScrapeAllocBytes = c.mallocs, c.bytes
		for _, cy := range append([]*cycleReport{&rep.FirstCycle}, pointers(rep.Cycles)...) {
			cy.Mallocs -= float64(cy.Scrapes) * c.mallocs
			cy.AllocBytes -= float64(cy.Scrapes) * c.bytes
		}
	}
	// Just before SIGTERM: the daemons' peak RSS so far.
	st := procStatus(d.cmd.Process.Pid, "VmHWM", "VmRSS")
	rep.Daemon.PeakRSS, rep.Daemon.RSS = st["VmHWM"], st["VmRSS"]
	rep.Daemon.GoRuntimeMetrics = prev.has("go_memstats_mallocs_total")
	for i, di := range ds {
		rep.Instances = append(rep.Instances, instanceReport{Name: cmp.Or(instanceName(i, o.Instances), "(default)"),
			StartupSeconds: startups[i].Seconds(), PeakRSS: procStatus(di.cmd.Process.Pid, "VmHWM")["VmHWM"]})
		if instCPU0 != nil && instCPU1 != nil {
			rep.Instances[i].CPUSeconds = instCPU1[i] - instCPU0[i]
		}
	}
	stopAt := time.Now()
	var stopErrs []error
	for i, di := range ds {
		took, err := di.stop(90 * time.Second)
		if i == 0 {
			rep.Daemon.StopSeconds = took.Seconds()
		}
		stopErrs = append(stopErrs, err)
	}
	stopped = true
	rep.Daemon.LogLines = map[string]int{}
	for i, di := range ds {
		r := &rep.Instances[i]
		r.LogLines = di.logLines()
		for k, v := range r.LogLines {
			rep.Daemon.LogLines[k] += v
		}
		cycles, err := readCycles(di.logPath)
		if err != nil {
			return nil, err
		}
		r.measuredCycles(cycles, measuredFrom, measuredTo, stopAt)
	}
	rep.combineInstances()
	if err := errors.Join(stopErrs...); err != nil {
		return nil, err
	}
	logf("autoreplyd stopped after SIGTERM in %s", time.Since(stopAt).Round(time.Millisecond))

	ans := im.answers()
	rep.Check, err = verify(ctx, o.Database == "pg", database, added, ans)
	if err != nil {
		return nil, fmt.Errorf("verify the history: %w", err)
	}
	rep.latencies(ans.since(measuredFrom, inThread))
	rep.topLatency, rep.videoThreadLatency = ans.since(measuredFrom, topLevel), ans.since(measuredFrom, inVideoThread)

	replayed := rep.Cycles[o.Warmup:]
	polls := 0
	for _, c := range replayed {
		polls += len(c.polled)
	}
	if o.Threads > 0 {
		logf("fetch+decode baseline: the daemon's %d polls of the %d measured cycles, %d at a time, rate %s burst %d",
			polls, len(replayed), o.fetchConcurrency(), o.SourceRate, o.SourceBurst)
		// In a process of its own first, as the daemon is; then from the
		// harness's process, beside the imitation (the figure of the
		// earlier runs in BENCHMARKS.md).
		rep.Fetch, err = fetchDecode(ctx, im, g, o, replayed, false)
		if err != nil {
			return nil, err
		}
		logf("fetch+decode baseline (a process of its own): %d new replies found in %d calls, %.2fs", rep.Fetch.Found, rep.Fetch.Calls, rep.Fetch.Seconds)
		rep.FetchInHarness, err = fetchDecode(ctx, im, g, o, replayed, true)
		if err != nil {
			return nil, err
		}
		logf("fetch+decode baseline (in the harness's process): %d new replies found in %d calls, %.2fs", rep.FetchInHarness.Found, rep.FetchInHarness.Calls, rep.FetchInHarness.Seconds)
	}
	// Last: a restarted daemon runs a cycle at once, and nothing after this
	// reads the imitation's calls or the history.
	for i := range o.Restarts {
		took, err := restart(ctx, bin, pre, cfgPath, credDir, listen, dir, i+1)
		if err != nil {
			return nil, err
		}
		rep.Startup.RestartSeconds = append(rep.Startup.RestartSeconds, took.Seconds())
		logf("restart %d: ready after %s", i+1, took.Round(time.Millisecond))
	}
	rep.Harness.PeakRSS = procStatus(os.Getpid(), "VmHWM")["VmHWM"]
	rep.summarize()
	rep.summarizeVideos()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return rep, nil
}

// restart starts the daemon once more on the run's config and database
// (the run's history, the poll states it left) and stops it as soon as
// /-/ready answers 200; it returns the time from exec to that answer.
func restart(ctx context.Context, bin string, pre []string, cfg, credDir, listen, dir string, n int) (time.Duration, error) {
	d, took, err := startDaemon(ctx, bin, pre, cfg, credDir, listen, "", dir, fmt.Sprintf("autoreplyd-restart-%d.log", n))
	if err != nil {
		return 0, fmt.Errorf("restart %d: %w", n, err)
	}
	// The first cycle starts right away: SIGTERM lets it finish.
	if _, err := d.stop(90 * time.Second); err != nil {
		return 0, fmt.Errorf("restart %d: %w", n, err)
	}
	return took, nil
}

// fill sets the figures the daemon's metrics give, as the difference
// between m and prev (the scrape after the cycle before).
func (c *cycleReport) fill(m, prev metrics) {
	d := func(name string, labels ...string) float64 { return m.get(name, labels...) - prev.get(name, labels...) }
	c.Seconds = d("autoreplyd_cycle_duration_seconds_sum")
	c.DaemonCalls = int(d("autoreplyd_api_calls_total", "platform", "douyin", "source", "douyin"))
	c.Polls = int(d("autoreplyd_polls_total", "platform", "douyin", "source", "douyin"))
	c.Deferred = int(d("autoreplyd_polls_deferred_total", "platform", "douyin", "source", "douyin"))
	c.Handled = int(d("autoreplyd_comments_fetched_total", "disposition", "evaluated", "platform", "douyin") +
		d("autoreplyd_comments_fetched_total", "disposition", "self", "platform", "douyin"))
	c.Backlog = int(d("autoreplyd_comments_fetched_total", "disposition", "backlog", "platform", "douyin"))
	c.Sent = int(d("autoreplyd_replies_total", "platform", "douyin", "responder", "kitkot", "status", "sent"))
	c.Skipped = int(d("autoreplyd_replies_total", "platform", "douyin", "responder", "kitkot", "status", "skipped"))
	c.Mallocs = d("go_memstats_mallocs_total")
	c.AllocBytes = d("go_memstats_alloc_bytes_total")
}

// drainLimit is how long the harness waits after the last cycle for
// questions still unanswered: adaptive polling's max_interval (when set)
// plus two of the longest cycles and periods; else two of them.
func drainLimit(o options, cycles []cycleReport) time.Duration {
	longest := o.Period
	for _, c := range cycles {
		longest = max(longest, time.Duration(c.Seconds*float64(time.Second))+o.Period)
	}
	limit := 2 * longest
	if o.MaxInterval != "" {
		mi, err := time.ParseDuration(o.MaxInterval)
		if err != nil {
			mi = time.Hour // a form Go does not parse (e.g. 1d): wait long
		}
		limit += mi
	}
	return limit
}

// machine describes where the harness ran.
type machine struct {
	CPUs      int    `json:"cpus"`
	CPUModel  string `json:"cpu_model"`
	MemoryGiB int    `json:"memory_gib"`
	Kernel    string `json:"kernel"`
	Go        string `json:"go"`
}

func describeMachine() machine {
	m := machine{CPUs: runtime.NumCPU(), Go: runtime.Version()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int64
		if _, err := fmt.Sscanf(string(b), "MemTotal: %d kB", &kb); err == nil {
			m.MemoryGiB = int((kb + 512*1024) / (1024 * 1024))
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = "Linux " + strings.TrimSpace(string(b))
	}
	return m
}

// describeBinary identifies the daemon binary: its hash and when it was
// built (the file's time; "" path for one built by the harness itself).
func describeBinary(path string, ours bool) binaryInfo {
	b := binaryInfo{Path: path}
	if ours {
		b.Path = "go build ./cmd/autoreplyd (this run)"
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return b
	}
	sum := sha256.Sum256(data)
	b.SHA256 = hex.EncodeToString(sum[:])[:16]
	if fi, err := os.Stat(path); err == nil {
		b.Built = fi.ModTime().UTC().Format("2006-01-02 15:04:05Z")
	}
	return b
}

func pointers[T any](s []T) []*T {
	out := make([]*T, len(s))
	for i := range s {
		out[i] = &s[i]
	}
	return out
}

func sortedCopy(v []float64) []float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s
}
