// Command load is the load harness of issue 8. It serves a loopback
// imitation of JustOneAPI (Douyin reply listing) and kitkot (reply posting)
// with thousands of watched threads, runs the real autoreplyd binary against
// it as a child process, adds new replies to a fraction of the threads every
// cycle, and reports what the daemon did: cycle time, comments per second,
// API calls per new reply and per idle thread, reaction latency,
// allocations, peak RSS and startup time (optionally over a large pre-seeded
// history), and the pipeline's speed next to merely fetching and decoding
// the same pages (the daemon's own Douyin source, in process, polling the
// threads the daemon polled in each measured cycle after the same new
// replies, at the same concurrency and rate limit).
//
//	go run ./bench/load -threads 10000 -replies 20 -active 0.01 -period 10s -cycles 6
//	go run ./bench/load -history 1000000 -cycles 2
//	go run ./bench/load -threads 0 -videos 1000 -video-comments 50000 -video-active 0.05 -video-order hot
//	go run ./bench/load -database pg -instances 2 -cycles 4 -source-rate 100000/s
//	go run ./bench/load -curve threads=1000,10000,100000
//	go run ./bench/load -curve history=0,10M -threads 10000 -cycles 2 -warmup 0
//
// -curve runs the scenario once per value of -threads or -history, one run
// at a time, and ends with a table of one row per run.
//
// Everything stays on 127.0.0.1; the secrets are made up for the run and
// never printed.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/autoreplyd/autoreplyd/simulator"
)

// options are the harness's flags.
type options struct {
	Threads      int
	Replies      int
	Active       float64
	NewPerActive int
	Match        float64
	Spam         float64
	Period       time.Duration
	Cycles       int
	Warmup       int
	Sticky       float64

	SourceRate  string
	SourceBurst int
	Concurrency int
	SendRate    string
	SendBurst   int
	MaxInterval string
	QuietPolls  int
	SendJitter  string

	Order    string
	PageSize int
	Echo     bool

	History      int
	HistoryCache string
	ThreadsFile  bool
	Restarts     int
	Curve        string

	Database  string
	Instances int

	Videos             int
	VideoComments      int
	VideoActive        float64
	VideoNew           int
	VideoThreadReplies float64
	VideoRecent        bool
	VideoOrder         string
	VideoPageSize      int
	VideoMaxPages      int

	FetchConcurrency int
	Pprof            string

	Seed    uint64
	Bin     string
	Dir     string
	JSON    bool
	JSONOut string
	Timeout time.Duration
}

func defaultOptions() options {
	return options{
		Threads:            10000,
		Replies:            20,
		Active:             0.01,
		NewPerActive:       2,
		Match:              0.3,
		Spam:               0.1,
		Period:             10 * time.Second,
		Cycles:             6,
		SourceRate:         "100/s",
		SourceBurst:        1,
		Concurrency:        8,
		Order:              "newest",
		PageSize:           10,
		Echo:               true,
		VideoComments:      50000,
		VideoActive:        0.05,
		VideoNew:           1,
		VideoThreadReplies: 0.5,
		VideoOrder:         "newest",
		VideoPageSize:      simulator.DefaultVideoPageSize,
		Database:           "sqlite",
		Instances:          1,
		Seed:               1,
		Timeout:            3 * time.Hour,
	}
}

func (o *options) register(fs *flag.FlagSet) {
	fs.IntVar(&o.Threads, "threads", o.Threads, "watched threads")
	fs.IntVar(&o.Replies, "replies", o.Replies, "existing replies per thread (the backlog of the first cycle)")
	fs.Float64Var(&o.Active, "active", o.Active, "fraction of threads that get new replies each cycle (at least one thread)")
	fs.IntVar(&o.NewPerActive, "new-per-active", o.NewPerActive, "new replies per active thread and cycle")
	fs.Float64Var(&o.Match, "match", o.Match, "fraction of new replies that are questions the rules answer (price, buy_link)")
	fs.Float64Var(&o.Spam, "spam", o.Spam, "fraction of new replies that are spam (the spam rule skips them); the rest is chatter no rule matches")
	fs.DurationVar(&o.Period, "period", o.Period, "the daemon's schedule: @every PERIOD")
	fs.IntVar(&o.Cycles, "cycles", o.Cycles, "measured cycles after the first one")
	fs.IntVar(&o.Warmup, "warmup", o.Warmup, "of the measured cycles, how many to leave out of the summary, latencies and baseline (adaptive polling's back-off settling)")
	fs.Float64Var(&o.Sticky, "sticky", o.Sticky, "fraction in [0, 1] of each cycle's active threads (and active videos) taken from the previous cycle's (the rest from the others; 0 = a fresh random pick, 1 = the same ones every cycle)")
	fs.StringVar(&o.SourceRate, "source-rate", o.SourceRate, "sources.douyin.rate")
	fs.IntVar(&o.SourceBurst, "source-burst", o.SourceBurst, "sources.douyin.burst")
	fs.IntVar(&o.Concurrency, "concurrency", o.Concurrency, "sources.douyin.concurrency")
	fs.StringVar(&o.SendRate, "send-rate", o.SendRate, `responders.kitkot.rate ("" = effectively unlimited: 1000000/s, burst 1000; the daemon's own default is 20/m)`)
	fs.IntVar(&o.SendBurst, "send-burst", o.SendBurst, "responders.kitkot.burst when -send-rate is set (0 = the daemon's default)")
	fs.StringVar(&o.MaxInterval, "max-interval", o.MaxInterval, `sources.douyin.max_interval ("" = key omitted)`)
	fs.IntVar(&o.QuietPolls, "quiet-polls", o.QuietPolls, "sources.douyin.quiet_polls (0 = key omitted)")
	fs.StringVar(&o.SendJitter, "send-jitter", o.SendJitter, `send_jitter, the longest random pause before each send ("" = key omitted; 0 = none)`)
	fs.StringVar(&o.Order, "order", o.Order, "the imitation's listing order: newest, oldest or recommended")
	fs.IntVar(&o.PageSize, "page-size", o.PageSize, "the imitation's page size")
	fs.BoolVar(&o.Echo, "echo", o.Echo, "answers show up in their thread, as on Douyin (the daemon sees them as its own)")
	fs.IntVar(&o.History, "history", o.History, "rows of pre-seeded history (comments + replies) in the database at start (the target is 1000000)")
	fs.StringVar(&o.HistoryCache, "history-cache", o.HistoryCache, `seeded database cache ("" = <user cache dir>/autoreplyd-bench/history-N.db)`)
	fs.BoolVar(&o.ThreadsFile, "threads-file", o.ThreadsFile, "list the watched threads in a JSON Lines file (sources.douyin.threads_file) instead of inline in the YAML")
	fs.IntVar(&o.Restarts, "restarts", o.Restarts, "at the end, start the daemon again this many times on the run's config and database and time each start (exec → first 200 from /-/ready), stopping it right after")
	fs.StringVar(&o.Curve, "curve", o.Curve, "run the scenario once for each value of one option, a fresh daemon and database each time, and print one row per value: threads=1000,10000,100000 or history=0,10M (a bare list is threads; k and M multiply by 1,000 and 1,000,000). Options not given take the curve's defaults (see docs/development.md)")
	fs.StringVar(&o.Database, "database", o.Database, "sqlite (a file in the run directory) or pg (a throwaway PostgreSQL cluster the harness starts, fsync off, stopped at exit)")
	fs.IntVar(&o.Instances, "instances", o.Instances, "daemons run on the same config and database, each with AUTOREPLYD_INSTANCE=bench-<i> when more than one (they share the threads through leases)")
	fs.IntVar(&o.Videos, "videos", o.Videos, "watched videos (sources.douyin.videos, top_level answer, threads discover); 0 = none, and -threads 0 watches videos only")
	fs.IntVar(&o.VideoComments, "video-comments", o.VideoComments, "top-level comments already there, spread evenly over the videos (the backlog of their first sight); a share of them have replies")
	fs.Float64Var(&o.VideoActive, "video-active", o.VideoActive, "fraction of videos that get new top-level comments each cycle (at least one video)")
	fs.IntVar(&o.VideoNew, "video-new", o.VideoNew, "new top-level comments per active video and cycle")
	fs.Float64Var(&o.VideoThreadReplies, "video-thread-replies", o.VideoThreadReplies, "fraction of active videos that also get one new reply under one of their discovered threads (a backlog comment with replies)")
	fs.BoolVar(&o.VideoRecent, "video-recent", o.VideoRecent, "reply only in discovered threads a newest-first listing shows on page 1 (comments people just read); otherwise in any, older ones included")
	fs.StringVar(&o.VideoOrder, "video-order", o.VideoOrder, "the imitation's order of top-level comments: newest, oldest or hot (Douyin's default)")
	fs.IntVar(&o.VideoPageSize, "video-page-size", o.VideoPageSize, "top-level comments a page of the video listing")
	fs.IntVar(&o.VideoMaxPages, "video-max-pages", o.VideoMaxPages, "sources.douyin.video_max_pages (0 = key omitted)")
	fs.IntVar(&o.FetchConcurrency, "fetch-concurrency", o.FetchConcurrency, "threads polled at once in the fetch+decode baseline (0 = as many as the daemon: -concurrency)")
	fs.StringVar(&o.Pprof, "pprof", o.Pprof, `profile the daemon's measured cycles into this directory (CPU, allocations; runs bench/pprofd, the daemon with a profiling listener: -bin must then be a build of it), and the fetch+decode baseline's process (fetch-cpu.pprof)`)
	fs.Uint64Var(&o.Seed, "seed", o.Seed, "traffic seed")
	fs.StringVar(&o.Bin, "bin", o.Bin, `autoreplyd binary ("" = go build ./cmd/autoreplyd into the run directory)`)
	fs.StringVar(&o.Dir, "dir", o.Dir, `run directory, kept afterwards ("" = a temporary one, removed)`)
	fs.BoolVar(&o.JSON, "json", o.JSON, "print the report as JSON")
	fs.StringVar(&o.JSONOut, "json-out", o.JSONOut, "also write the JSON report to this file")
	fs.DurationVar(&o.Timeout, "timeout", o.Timeout, "give up after this long")
}

func main() {
	if len(os.Args) == 2 && os.Args[1] == fetchChildArg {
		os.Exit(fetchChild(os.Stdin, os.Stdout))
	}
	opts := defaultOptions()
	fs := flag.NewFlagSet("load", flag.ExitOnError)
	opts.register(fs)
	_ = fs.Parse(os.Args[1:])
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "load: unexpected arguments %q\n", fs.Args())
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if opts.Curve != "" {
		os.Exit(mainCurve(ctx, fs, &opts))
	}
	rep, err := run(ctx, opts, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
	if err := printReport(os.Stdout, rep, opts.JSON); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
	if opts.JSONOut != "" {
		f, err := os.Create(opts.JSONOut)
		if err == nil {
			err = printReport(f, rep, true)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "load:", err)
			os.Exit(1)
		}
	}
	if len(rep.Check.Problems) > 0 {
		os.Exit(3)
	}
}

// mainCurve runs -curve and prints its reports and table; it returns the
// exit code: 0, 1 when a run did not finish (the rows so far are printed),
// 2 for a mistake in the options, 3 when a run failed its check.
func mainCurve(ctx context.Context, fs *flag.FlagSet, opts *options) int {
	c, err := parseCurve(opts.Curve)
	if err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		return 2
	}
	applied, err := applyCurveDefaults(fs)
	if err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		return 2
	}
	if len(applied) > 0 {
		fmt.Fprintf(os.Stderr, "load: curve defaults for the options not given: %s\n", strings.Join(applied, " "))
	}
	cr, runErr := runCurve(ctx, *opts, c, os.Stderr)
	if cr == nil {
		fmt.Fprintln(os.Stderr, "load:", runErr)
		return 2
	}
	var perr error
	if opts.JSON {
		perr = writeJSON(os.Stdout, cr)
	} else {
		perr = cr.print(os.Stdout)
	}
	if opts.JSONOut != "" {
		perr = errors.Join(perr, writeJSONFile(opts.JSONOut, cr))
	}
	switch {
	case runErr != nil || perr != nil:
		fmt.Fprintln(os.Stderr, "load:", errors.Join(runErr, perr))
		return 1
	case cr.problems():
		return 3
	}
	return 0
}

// writeJSON writes v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// writeJSONFile writes v as indented JSON into the file at path.
func writeJSONFile(path string, v any) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	return errors.Join(writeJSON(f, v), f.Close())
}

func printReport(w io.Writer, rep *report, asJSON bool) error {
	if asJSON {
		return writeJSON(w, rep)
	}
	return rep.print(w)
}
