package main

import (
	"fmt"
	"io"
	"math"
	"strings"
	"time"
)

// report is what the harness measured. Times are in seconds, memory in
// bytes.
type report struct {
	Machine    machine        `json:"machine"`
	Binary     binaryInfo     `json:"binary"`
	Options    optionsSummary `json:"options"`
	Startup    startupReport  `json:"startup"`
	History    *historyInfo   `json:"history,omitempty"`
	FirstCycle cycleReport    `json:"first_cycle"`
	Cycles     []cycleReport  `json:"cycles"`
	Summary    summary        `json:"summary"`
	// Fetch is the fetch+decode baseline polled from a process of its own,
	// FetchInHarness the same polled from the harness's process.
	Fetch          fetchResult   `json:"fetch_decode"`
	FetchInHarness fetchResult   `json:"fetch_decode_in_harness"`
	Daemon         daemonReport  `json:"daemon"`
	Harness        harnessReport `json:"harness"`
	Drain          drainReport   `json:"drain"`
	// Instances is each daemon's cycles (from its log), RSS and log lines.
	Instances []instanceReport `json:"instances"`
	// Combined is every daemon's measured cycles together.
	Combined combinedCycles `json:"instances_combined"`
	Check    check          `json:"check"`
	// Videos is the watched videos' summary (nil without -videos).
	Videos  *videoSummary   `json:"videos,omitempty"`
	latency []time.Duration // raw, for summarize: replies in configured threads
	// topLatency and videoThreadLatency are raw too, for summarizeVideos.
	topLatency, videoThreadLatency []time.Duration
}

// optionsSummary is the run's parameters as they went into the config.
type optionsSummary struct {
	Threads      int     `json:"threads"`
	Replies      int     `json:"replies"`
	Active       float64 `json:"active"`
	NewPerActive int     `json:"new_per_active"`
	Match        float64 `json:"match"`
	Spam         float64 `json:"spam"`
	Period       string  `json:"period"`
	Cycles       int     `json:"cycles"`
	Warmup       int     `json:"warmup"`
	Sticky       float64 `json:"sticky"`
	SourceRate   string  `json:"source_rate"`
	SourceBurst  int     `json:"source_burst"`
	Concurrency  int     `json:"concurrency"`
	SendRate     string  `json:"send_rate"`
	MaxInterval  string  `json:"max_interval"`
	QuietPolls   int     `json:"quiet_polls"`
	SendJitter   string  `json:"send_jitter"`
	Order        string  `json:"order"`
	PageSize     int     `json:"page_size"`
	Echo         bool    `json:"echo"`
	History      int     `json:"history"`
	ThreadsFile  bool    `json:"threads_file"`
	Database     string  `json:"database"`
	Instances    int     `json:"instances"`

	Videos             int     `json:"videos,omitempty"`
	VideoComments      int     `json:"video_comments,omitempty"`
	VideoActive        float64 `json:"video_active,omitempty"`
	VideoNew           int     `json:"video_new,omitempty"`
	VideoThreadReplies float64 `json:"video_thread_replies,omitempty"`
	VideoRecent        bool    `json:"video_recent,omitempty"`
	VideoOrder         string  `json:"video_order,omitempty"`
	VideoPageSize      int     `json:"video_page_size,omitempty"`
	VideoMaxPages      int     `json:"video_max_pages,omitempty"`
}

func (o options) summary() optionsSummary {
	s := optionsSummary{Threads: o.Threads, Replies: o.Replies, Active: o.Active, NewPerActive: o.NewPerActive, Match: o.Match,
		Spam: o.Spam, Period: o.Period.String(), Cycles: o.Cycles, Warmup: o.Warmup, Sticky: o.Sticky, SourceRate: o.SourceRate, SourceBurst: o.SourceBurst,
		Concurrency: o.Concurrency, SendRate: o.SendRate, MaxInterval: o.MaxInterval, QuietPolls: o.QuietPolls, SendJitter: o.SendJitter,
		Order: o.Order, PageSize: o.PageSize, Echo: o.Echo, History: o.History, ThreadsFile: o.ThreadsFile, Database: o.Database, Instances: o.Instances}
	if o.Videos > 0 {
		s.Videos, s.VideoComments, s.VideoActive, s.VideoNew = o.Videos, o.VideoComments, o.VideoActive, o.VideoNew
		s.VideoThreadReplies, s.VideoOrder, s.VideoPageSize, s.VideoMaxPages = o.VideoThreadReplies, o.VideoOrder, o.VideoPageSize, o.VideoMaxPages
		s.VideoRecent = o.VideoRecent
	}
	if s.SendRate == "" {
		s.SendRate = "unlimited (1000000/s)"
	}
	if s.MaxInterval == "" {
		s.MaxInterval = "(omitted)"
	}
	if s.SendJitter == "" {
		s.SendJitter = "(omitted)"
	}
	return s
}

// binaryInfo identifies the daemon measured (the tree it was built from
// may have changed since).
type binaryInfo struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Built  string `json:"built"`
}

type startupReport struct {
	// Seconds is from the exec of `autoreplyd run` to the first 200 from /-/ready.
	Seconds     float64 `json:"seconds"`
	HistoryRows int     `json:"history_rows"`
	Threads     int     `json:"threads"`
	// RestartSeconds are the starts of -restarts, on the database the
	// run left, exec to the first 200 each.
	RestartSeconds []float64 `json:"restart_seconds,omitempty"`
}

// cycleReport is one cycle: N 0 is the first (every thread seen for the
// first time).
type cycleReport struct {
	N int `json:"n"`
	// DaemonCycles is how many daemon cycles the numbers cover (1 unless two
	// ended between scrapes; the first cycle's is its count).
	DaemonCycles int     `json:"daemon_cycles"`
	Seconds      float64 `json:"seconds"`
	// Calls is counted by the imitation, DaemonCalls by the daemon.
	Calls       int `json:"calls"`
	DaemonCalls int `json:"daemon_calls"`
	// Polls are thread polls; Deferred the polls adaptive polling put off
	// (autoreplyd_polls_deferred_total, 0 when the daemon has none).
	Polls         int `json:"polls"`
	Deferred      int `json:"deferred"`
	ActiveThreads int `json:"active_threads"`
	CallsActive   int `json:"calls_active"`
	IdleThreads   int `json:"idle_threads"`
	CallsIdle     int `json:"calls_idle"`
	// NewReplies were added by the harness before the cycle; Echoes are the
	// daemon's own answers that showed up in threads since the last cycle.
	NewReplies int `json:"new_replies"`
	Echoes     int `json:"echoes"`
	// Seen counts the new replies this cycle's polls listed first (a reply
	// in a thread adaptive polling deferred is seen by a later cycle);
	// Waiting the threads holding new replies this cycle did not poll.
	Seen    int `json:"seen"`
	Waiting int `json:"waiting"`
	Handled int `json:"handled"`
	Backlog int `json:"backlog"`
	Sent    int `json:"sent"`
	Skipped int `json:"skipped"`
	// Mallocs and AllocBytes are the daemon's (go_memstats_*), less what
	// the harness's Scrapes of /metrics cost it.
	Mallocs    float64 `json:"mallocs"`
	AllocBytes float64 `json:"alloc_bytes"`
	Scrapes    int     `json:"scrapes"`
	// Unmeasured cycles ran before this one, started too soon after the
	// previous one for the harness to add replies in between.
	Unmeasured int `json:"unmeasured,omitempty"`
	// Warmup: one of the first -warmup cycles, left out of the summary and
	// of the baseline (adaptive polling still backing off).
	Warmup bool `json:"warmup,omitempty"`
	// Late: the cycle did not start on the predicted tick, or had started
	// before the harness finished adding its replies: some replies may have
	// been seen a cycle late, and the split of calls may be off.
	Late bool `json:"late,omitempty"`
	// Spill: the scrape that saw the cycle end came after the next cycle
	// had started, so the daemon's figures (seconds excepted) include a
	// little of it; the harness's own counts (calls, seen) are exact.
	Spill bool `json:"spill,omitempty"`
	// Video is what the cycle did with the watched videos (nil without
	// -videos).
	Video *videoCycle `json:"video,omitempty"`
	// polled maps each thread the cycle polled (by index) to the new
	// replies its polls listed first (0 for an idle thread): what the
	// fetch+decode baseline replays.
	polled map[int]int
}

type summary struct {
	CycleP50     float64 `json:"cycle_p50_seconds"`
	CycleMax     float64 `json:"cycle_max_seconds"`
	CycleSeconds float64 `json:"cycle_total_seconds"`
	NewReplies   int     `json:"new_replies"`
	Echoes       int     `json:"echoes"`
	Seen         int     `json:"seen"`
	Handled      int     `json:"handled"`
	Sent         int     `json:"sent"`
	// CommentsPerSecond is Handled ÷ CycleSeconds (the daemon's count of
	// comments evaluated or recognised as its own).
	CommentsPerSecond float64 `json:"comments_per_second"`
	// NewRepliesPerSecond is Seen ÷ CycleSeconds: the new replies (the
	// harness's and the daemon's own answers) the measured cycles moved.
	NewRepliesPerSecond float64 `json:"new_replies_per_second"`
	// CallsPerNewReply: calls on threads with new replies ÷ their new
	// replies (the harness's and the daemon's own answers), counted in
	// the cycle that first listed them.
	CallsPerNewReply float64 `json:"calls_per_new_reply"`
	// CallsPerIdleThread: calls on idle threads ÷ (idle threads × cycles).
	CallsPerIdleThread float64 `json:"calls_per_idle_thread_cycle"`
	LatencyCount       int     `json:"latency_count"`
	LatencyP50         float64 `json:"latency_p50_seconds"`
	LatencyP99         float64 `json:"latency_p99_seconds"`
	LatencyMax         float64 `json:"latency_max_seconds"`
	MallocsPerCycle    float64 `json:"mallocs_per_cycle"`
	AllocBytesPerCycle float64 `json:"alloc_bytes_per_cycle"`
	MallocsPerHandled  float64 `json:"mallocs_per_handled_comment"`
	// Ratio is the pipeline's new replies per second ÷ the fetch+decode
	// baseline's over the same pages at the same rate limit (the target is
	// at least 0.9, issue 22; 0.5 before it). Both move the same replies (the baseline checks it
	// finds as many as the cycles saw), so it is the baseline's seconds ÷
	// the measured cycles' seconds. The baseline polls from a process of
	// its own, as the daemon does; RatioInHarness is the same against the
	// baseline polled from the harness's process (the figure of runs before
	// 2026-12-03 in BENCHMARKS.md).
	Ratio          float64 `json:"pipeline_to_fetch_ratio"`
	RatioInHarness float64 `json:"pipeline_to_fetch_in_harness_ratio"`
	// Late counts cycles whose split of calls may be off; Unmeasured the
	// cycles that ran between measured ones without new replies.
	Late       int `json:"late"`
	Spills     int `json:"spills"`
	Unmeasured int `json:"unmeasured"`
}

type daemonReport struct {
	PeakRSS            int64          `json:"peak_rss_bytes"`
	RSS                int64          `json:"rss_bytes"`
	RSSAfterFirstCycle int64          `json:"rss_after_first_cycle_bytes"`
	GoRuntimeMetrics   bool           `json:"go_runtime_metrics"`
	ScrapeMallocs      float64        `json:"scrape_mallocs"`
	ScrapeAllocBytes   float64        `json:"scrape_alloc_bytes"`
	StopSeconds        float64        `json:"stop_seconds"`
	LogLines           map[string]int `json:"log_lines"`
	// CPUSeconds is the daemon's CPU time over the measured cycles (0:
	// not read).
	CPUSeconds float64 `json:"cpu_seconds"`
}

// drainReport is the cycles run after the measured ones, with no new
// replies, until every question was answered.
type drainReport struct {
	Cycles  int     `json:"cycles"`
	Seconds float64 `json:"seconds"`
}

type harnessReport struct {
	PeakRSS int64 `json:"peak_rss_bytes"`
	// CPUSeconds is the harness's CPU time over the measured cycles: the
	// imitation serving the daemon, adding replies, the scrapes.
	CPUSeconds float64 `json:"cpu_seconds"`
}

func (r *report) latencies(ls []time.Duration) { r.latency = ls }

// summarize fills Summary from the cycles, the latencies and the baseline.
func (r *report) summarize() {
	s := &r.Summary
	var secs []float64
	var callsActive, callsIdle, idle, seen int
	for _, c := range r.Cycles {
		if c.Warmup {
			continue
		}
		secs = append(secs, c.Seconds)
		s.CycleSeconds += c.Seconds
		s.NewReplies += c.NewReplies
		s.Echoes += c.Echoes
		s.Handled += c.Handled
		s.Sent += c.Sent
		callsActive += c.CallsActive
		seen += c.Seen
		s.Seen += c.Seen
		callsIdle += c.CallsIdle
		idle += c.IdleThreads
		s.MallocsPerCycle += c.Mallocs
		s.AllocBytesPerCycle += c.AllocBytes
		if c.Late {
			s.Late++
		}
		if c.Spill {
			s.Spills++
		}
		s.Unmeasured += c.Unmeasured
	}
	sorted := sortedCopy(secs)
	s.CycleP50 = percentile(sorted, 50)
	if len(sorted) > 0 {
		s.CycleMax = sorted[len(sorted)-1]
	}
	if s.CycleSeconds > 0 {
		s.CommentsPerSecond = float64(s.Handled) / s.CycleSeconds
		s.NewRepliesPerSecond = float64(s.Seen) / s.CycleSeconds
	}
	if seen > 0 {
		s.CallsPerNewReply = float64(callsActive) / float64(seen)
	}
	if idle > 0 {
		s.CallsPerIdleThread = float64(callsIdle) / float64(idle)
	}
	if s.Handled > 0 {
		s.MallocsPerHandled = s.MallocsPerCycle / float64(s.Handled)
	}
	if n := len(r.Cycles); n > 0 {
		s.MallocsPerCycle /= float64(n)
		s.AllocBytesPerCycle /= float64(n)
	}
	ls := make([]float64, len(r.latency))
	for i, l := range r.latency {
		ls[i] = l.Seconds()
	}
	ls = sortedCopy(ls)
	s.LatencyCount = len(ls)
	s.LatencyP50, s.LatencyP99 = percentile(ls, 50), percentile(ls, 99)
	if len(ls) > 0 {
		s.LatencyMax = ls[len(ls)-1]
	}
	if r.Fetch.CommentsPerSecond > 0 {
		s.Ratio = s.NewRepliesPerSecond / r.Fetch.CommentsPerSecond
	}
	if r.FetchInHarness.CommentsPerSecond > 0 {
		s.RatioInHarness = s.NewRepliesPerSecond / r.FetchInHarness.CommentsPerSecond
	}
}

// percentile is the nearest-rank percentile p (0-100) of sorted values.
func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(float64(len(sorted))*p/100)) - 1
	return sorted[min(max(rank, 0), len(sorted)-1)]
}

func mb(b int64) string { return fmt.Sprintf("%.0f MB", float64(b)/1e6) }

// print writes the report as text; it returns the first write error.
func (r *report) print(w io.Writer) (err error) {
	o, s := r.Options, r.Summary
	p := func(format string, args ...any) {
		if err == nil {
			_, err = fmt.Fprintf(w, format+"\n", args...)
		}
	}
	p("autoreplyd load harness (bench/load)")
	p("machine: %d CPU %s, %d GiB, %s, %s", r.Machine.CPUs, r.Machine.CPUModel, r.Machine.MemoryGiB, r.Machine.Kernel, r.Machine.Go)
	p("load: %d threads × %d replies (%s order, %d a page, answers echoed: %v); each cycle %.2g of threads get %d new replies (%.0f%% questions, %.0f%% spam), sticky %.2g (%s)",
		o.Threads, o.Replies, o.Order, o.PageSize, o.Echo, o.Active, o.NewPerActive, o.Match*100, o.Spam*100, o.Sticky, stickyText(o.Sticky))
	p("config: @every %s, send_jitter %s, sources.douyin rate %s burst %d concurrency %d, max_interval %s, quiet_polls %s; kitkot rate %s, no daily cap",
		o.Period, o.SendJitter, o.SourceRate, o.SourceBurst, o.Concurrency, o.MaxInterval, omitted(o.QuietPolls), o.SendRate)
	p("daemon: %s (sha256 %s, built %s); %d instance(s) on %s", r.Binary.Path, r.Binary.SHA256, r.Binary.Built, o.Instances, databaseText(o.Database))
	p("")
	if h := r.History; h != nil {
		how := "reused"
		if !h.Reused {
			how = fmt.Sprintf("seeded in %.0fs", h.SeedSeconds)
		}
		p("history: %d rows (comments + replies), %s database, %s, cache %s", h.Rows, mb(h.Bytes), how, h.Cache)
	}
	p("startup (exec → first 200 from /-/ready, %d threads%s, %d history rows): %.3fs", r.Startup.Threads, threadsWhere(o.ThreadsFile), r.Startup.HistoryRows, r.Startup.Seconds)
	f := r.FirstCycle
	spill := ""
	if f.Spill {
		spill = " (spill: the daemon's figures include a little of the next cycle)"
	}
	p("first cycle (every thread first seen): %.1fs, %d calls (daemon counted %d) in %d polls, %d backlog replies recorded, %.0f mallocs, %s allocated%s",
		f.Seconds, f.Calls, f.DaemonCalls, f.Polls, f.Backlog, f.Mallocs, mb(int64(f.AllocBytes)), spill)
	p("")
	p("%5s %8s %6s %6s %8s %12s %12s %7s %5s %5s %5s %7s %5s %9s %9s", "cycle", "seconds", "calls", "polls", "deferred",
		"active:calls", "idle:calls", "waiting", "new", "echo", "seen", "handled", "sent", "mallocs", "allocated")
	for _, c := range r.Cycles {
		mark := ""
		if c.Warmup {
			mark = " (warm-up)"
		}
		if c.Late {
			mark = " (late)"
		}
		if c.Spill {
			mark += " (spill)"
		}
		if c.Unmeasured > 0 {
			mark += fmt.Sprintf(" (after %d unmeasured)", c.Unmeasured)
		}
		if c.DaemonCycles != 1 {
			mark += fmt.Sprintf(" (%d daemon cycles)", c.DaemonCycles)
		}
		p("%5d %8.2f %6d %6d %8d %12s %12s %7d %5d %5d %5d %7d %5d %9.0f %9s%s", c.N, c.Seconds, c.Calls, c.Polls, c.Deferred,
			fmt.Sprintf("%d:%d", c.ActiveThreads, c.CallsActive), fmt.Sprintf("%d:%d", c.IdleThreads, c.CallsIdle),
			c.Waiting, c.NewReplies, c.Echoes, c.Seen, c.Handled, c.Sent, c.Mallocs, mb(int64(c.AllocBytes)), mark)
	}
	p("")
	p("(active: threads whose new replies the cycle listed first; idle: the others, deferred ones included; waiting: threads with")
	p(" new replies the cycle did not poll; new: replies added before it; echo: our answers that showed up since the last cycle;")
	p(" seen: new replies it listed first; mallocs, allocated: the daemon's, less the harness's scrapes)")
	r.printVideos(p)
	if r.Drain.Cycles > 0 {
		p("after the measured cycles: %d more cycles (%.0fs) without new replies, until the questions of deferred threads were answered", r.Drain.Cycles, r.Drain.Seconds)
	}
	p("")
	warm := ""
	if o.Warmup > 0 {
		warm = fmt.Sprintf("; the first %d cycle(s), a warm-up, and their questions are left out of every figure below", o.Warmup)
	}
	p("cycle time: p50 %.2fs, max %.2fs (%d cycles, %.1fs in all%s)", s.CycleP50, s.CycleMax, len(r.Cycles)-o.Warmup, s.CycleSeconds, warm)
	p("comments/s through poll → rules → claim → send → settle: %.2f (%d handled, %d new replies and own answers listed first; %d sent)",
		s.CommentsPerSecond, s.Handled, s.Seen, s.Sent)
	if o.Threads > 0 {
		p("API calls per new reply: %.2f; per idle thread per cycle: %.3f", s.CallsPerNewReply, s.CallsPerIdleThread)
		p("reaction latency (reply appears → answer at kitkot, %d answers): p50 %.2fs, p99 %.2fs, max %.2fs",
			s.LatencyCount, s.LatencyP50, s.LatencyP99, s.LatencyMax)
	}
	if r.Daemon.GoRuntimeMetrics {
		scrapes := fmt.Sprintf("less the harness's scrapes at %.0f mallocs / %.0f KB each", r.Daemon.ScrapeMallocs, r.Daemon.ScrapeAllocBytes/1e3)
		if r.Daemon.ScrapeMallocs == 0 {
			scrapes = "with the harness's scrapes: no gap between cycles was long enough to measure them"
		}
		p("daemon allocations (go_memstats_*, %s): %.0f mallocs and %s a cycle, %.0f mallocs per handled comment",
			scrapes, s.MallocsPerCycle, mb(int64(s.AllocBytesPerCycle)), s.MallocsPerHandled)
	} else {
		p("daemon allocations: not exposed (/metrics has no go_memstats_mallocs_total)")
	}
	if rs := r.Startup.RestartSeconds; len(rs) > 0 {
		p("restarts on the database the run left (exec → first 200 from /-/ready): %s", secondsList(rs))
	}
	p("daemon RSS: peak (VmHWM before SIGTERM) %s, now %s, after the first cycle %s; stopped %.2fs after SIGTERM",
		mb(r.Daemon.PeakRSS), mb(r.Daemon.RSS), mb(r.Daemon.RSSAfterFirstCycle), r.Daemon.StopSeconds)
	r.printInstances(p)
	if o.Threads > 0 {
		fd := r.Fetch
		p("new replies through the pipeline: %d listed first in %.3fs of measured cycles: %.1f new replies/s", s.Seen, s.CycleSeconds, s.NewRepliesPerSecond)
		p("fetch+decode of the same pages: %d polls (%d calls) over %d cycles, concurrency %d, rate %s burst %d: %.3f s, %.1f new replies/s (%d found, %d on %d threads with new replies)",
			fd.Polls, fd.Calls, fd.Cycles, fd.Concurrency, fd.Rate, fd.Burst, fd.Seconds, fd.CommentsPerSecond, fd.Found, fd.NewReplies, fd.ActivePolls)
		p("pipeline ÷ fetch+decode (same pages, same rate): %.3g (target ≥ 0.9); both move the same new replies through the same pages, so this is fetch+decode seconds ÷ pipeline seconds (%.3fs ÷ %.3fs); fetch+decode polls from a process of its own, as the daemon does",
			s.Ratio, fd.Seconds, s.CycleSeconds)
		fh := r.FetchInHarness
		p("  the same against fetch+decode from the harness's own process, beside the imitation: %.3g (%.3fs, %d calls)", s.RatioInHarness, fh.Seconds, fh.Calls)
		if run := r.Daemon.CPUSeconds + r.Harness.CPUSeconds; run > 0 && fd.CPUSeconds > 0 {
			p("CPU time, less moved by other work on the machine than wall time: the measured cycles %.1fs (daemon %.1fs, harness %.1fs: the imitation, new replies, scrapes), fetch+decode %.1fs (its process and the imitation); fetch+decode ÷ pipeline %.3g; from the harness's process %.1fs, %.3g",
				run, r.Daemon.CPUSeconds, r.Harness.CPUSeconds, fd.CPUSeconds, fd.CPUSeconds/run, fh.CPUSeconds, fh.CPUSeconds/run)
		}
	} else {
		p("no configured threads: no per-thread figures and no fetch+decode baseline (it replays thread polls)")
	}
	p("daemon log lines: %s; harness peak RSS %s", logSummary(r.Daemon.LogLines), mb(r.Harness.PeakRSS))
	c := r.Check
	status := "OK"
	if len(c.Problems) > 0 {
		status = "FAILED"
	}
	p("check %s: %d questions → %d answers at kitkot, %d sent rows in the history, %d unanswered, %d unexpected; %d spam skipped, %d chatter unclaimed",
		status, c.Questions, c.Posts, c.SentRows, c.Unanswered, c.Unexpected, c.Spam, c.Chatter)
	if o.Videos > 0 {
		p("  of them on videos: %d top-level comments (%d questions, %d unanswered) and %d replies in discovered threads (%d questions, %d unanswered), each answered once under its own thread",
			c.TopLevel, c.TopQuestions, c.UnansweredTop, c.VideoReplies, c.VideoReplyQuestions, c.UnansweredVideoThread)
	}
	for _, pr := range c.Problems {
		p("  %s", pr)
	}
	if s.Spills > 0 {
		p("note: %d cycle(s) ended too close to the next one for a clean scrape: their daemon figures include a little of the next", s.Spills)
	}
	if s.Late > 0 {
		p("note: %d cycle(s) started before their replies were all added or off the predicted tick: their split of calls may be off", s.Late)
	}
	return err
}

// threadsWhere says where the config lists the threads.
func threadsWhere(file bool) string {
	if file {
		return " in threads_file"
	}
	return " inline in the YAML"
}

// secondsList is "0.79 / 0.85 / 0.95 s".
func secondsList(s []float64) string {
	parts := make([]string, len(s))
	for i, v := range s {
		parts[i] = fmt.Sprintf("%.2f", v)
	}
	return strings.Join(parts, " / ") + " s"
}

// stickyText says what -sticky does to the pick of active threads.
func stickyText(f float64) string {
	switch f {
	case 0:
		return "a fresh random pick every cycle"
	case 1:
		return "the same threads every cycle"
	}
	return fmt.Sprintf("%.0f%% of them the previous cycle's", f*100)
}

func omitted(n int) string {
	if n == 0 {
		return "(omitted)"
	}
	return fmt.Sprint(n)
}

func logSummary(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	var parts []string
	for _, k := range []string{"error", "warn", "info", "debug", "other"} {
		if m[k] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", m[k], k))
		}
	}
	return strings.Join(parts, ", ")
}

// printVideos writes the watched videos' part of the report.
func (r *report) printVideos(p func(format string, args ...any)) {
	o, v := r.Options, r.Videos
	if v == nil {
		return
	}
	p("")
	p("videos: %d watched (top_level answer, threads discover), %d top-level comments already there (%s order, %d a page, video_max_pages %s); each cycle %.2g of them get %d new top-level comments, %.0f%% of those also a reply in a discovered thread (%s)",
		o.Videos, o.VideoComments, o.VideoOrder, o.VideoPageSize, omitted(o.VideoMaxPages), o.VideoActive, o.VideoNew, o.VideoThreadReplies*100, recentText(o.VideoRecent))
	if f := r.FirstCycle.Video; f != nil {
		p("first sight: %d listing calls (%.2f a video), %d calls of discovered threads", f.ListingCalls, float64(f.ListingCalls)/float64(o.Videos), f.ThreadCalls)
	}
	p("%5s %9s %10s %12s %12s %12s %7s %14s %10s %7s", "cycle", "new top:re", "listing", "top:calls", "reply:calls", "idle:calls", "waiting",
		"threads:calls", "idle-polls", "waiting")
	for _, c := range r.Cycles {
		cv := c.Video
		if cv == nil {
			continue
		}
		p("%5d %9s %10d %12s %12s %12s %7d %14s %10d %7d", c.N, fmt.Sprintf("%d:%d", cv.NewTopLevel, cv.NewReplies), cv.ListingCalls,
			fmt.Sprintf("%d:%d", cv.TopVideos, cv.TopCalls), fmt.Sprintf("%d:%d", cv.ReplyVideos, cv.ReplyVideoCalls),
			fmt.Sprintf("%d:%d", cv.IdleVideos, cv.IdleCalls), cv.WaitingVideos,
			fmt.Sprintf("%d:%d", cv.ActiveThreads, cv.ActiveThreadCalls), cv.IdleThreadCalls, cv.WaitingThreads)
	}
	p("(new top:re: top-level comments and replies in discovered threads added before the cycle; listing: video listing calls;")
	p(" top: videos listed with new top-level comments; reply: videos changed only by replies under their comments, ours included;")
	p(" idle: the others, deferred ones included; waiting: changed videos, then threads with new replies, the cycle did not list;")
	p(" threads: discovered threads whose polls listed new replies first; idle-polls: calls of discovered threads with nothing new)")
	p("video calls: %d listing, %d discovered threads (%d of them found nothing new); %d new top-level comments, %d new replies in discovered threads",
		v.ListingCalls, v.ThreadCalls, v.IdleThreadCalls, v.NewTopLevel, v.NewReplies)
	p("calls per idle video per cycle: %.3f (target ≤ 1, ≤ 0.2 with adaptive polling); per new top-level comment: %.2f; per video changed only by replies: %.2f; per new reply in a discovered thread: %.2f",
		v.CallsPerIdleVideo, v.CallsPerNewTopLevel, v.CallsPerReplyVideo, v.CallsPerThreadReply)
	l := v.TopLatency
	p("reaction latency, top-level comments (%d answers): p50 %.2fs, p99 %.2fs, max %.2fs", l.Count, l.P50, l.P99, l.Max)
	l = v.ThreadLatency
	p("reaction latency, replies in discovered threads (%d answers): p50 %.2fs, p99 %.2fs, max %.2fs", l.Count, l.P50, l.P99, l.Max)
}

func recentText(recent bool) string {
	if recent {
		return "one on a newest-first listing's page 1"
	}
	return "any, older ones included"
}

// databaseText names the -database of the run.
func databaseText(db string) string {
	if db == "pg" {
		return "PostgreSQL (a throwaway local cluster, unix socket, fsync off)"
	}
	return "SQLite"
}

// printInstances writes each daemon's cycles as its log records them.
func (r *report) printInstances(p func(format string, args ...any)) {
	if len(r.Instances) == 0 {
		return
	}
	p("per daemon (cycles from its log's \"cycle done\" lines, started in the measured window):")
	for _, in := range r.Instances {
		p("  %s: %d cycles, p50 %.2fs, max %.2fs, %.0f threads polled a cycle; CPU %.1fs over the measured cycles; peak RSS %s; startup %.3fs; log %s",
			in.Name, in.Cycles, in.CycleP50, in.CycleMax, in.PollsPerCycle, in.CPUSeconds, mb(in.PeakRSS), in.StartupSeconds, logSummary(in.LogLines))
	}
	if len(r.Instances) > 1 {
		p("  all %d daemons: %d cycles, p50 %.2fs, max %.2fs", len(r.Instances), r.Combined.Cycles, r.Combined.CycleP50, r.Combined.CycleMax)
		p("  (the cycle table and the figures above are daemon 0's cycles; the calls, idle-thread calls and check count every daemon's)")
	}
}
