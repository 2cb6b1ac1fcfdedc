package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// A curve (-curve) runs the same scenario once for each value of one
// option, each run with its own imitation, daemon, database and run
// directory, and puts one row per value in a table: issue 22 asks for the
// figures at 1,000, 10,000 and 100,000 threads measured in one run, so
// that they are compared under the same conditions.

// curve is the parsed -curve: the option it varies and its values, in the
// order they run.
type curve struct {
	Axis   string `json:"axis"` // "threads" or "history"
	Values []int  `json:"values"`
}

// parseCurve parses "threads=1000,10000,100000", "history=0,10M" or a bare
// list (threads). A value may end in k (× 1,000) or M (× 1,000,000).
func parseCurve(s string) (curve, error) {
	axis, list, ok := strings.Cut(s, "=")
	if !ok {
		axis, list = "threads", s
	}
	axis = strings.TrimSpace(axis)
	if axis != "threads" && axis != "history" {
		return curve{}, fmt.Errorf("-curve %q: the option varied must be threads or history", s)
	}
	c := curve{Axis: axis}
	for _, f := range strings.Split(list, ",") {
		n, err := parseCount(strings.TrimSpace(f))
		if err != nil {
			return curve{}, fmt.Errorf("-curve %q: %w", s, err)
		}
		if axis == "threads" && n < 1 {
			return curve{}, fmt.Errorf("-curve %q: a run needs at least 1 thread", s)
		}
		c.Values = append(c.Values, n)
	}
	return c, nil
}

// parseCount parses a non-negative count with an optional k or M suffix.
func parseCount(s string) (int, error) {
	mul := 1
	switch {
	case strings.HasSuffix(s, "k"):
		s, mul = strings.TrimSuffix(s, "k"), 1000
	case strings.HasSuffix(s, "M"):
		s, mul = strings.TrimSuffix(s, "M"), 1000000
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a count (digits, optionally followed by k or M)", s)
	}
	// Counts beyond this are not a run this harness can make.
	if n > 1<<40/mul {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return n * mul, nil
}

// curveDefaults are the options a curve runs with unless given on the
// command line: the scenario of "100,000 threads on one instance" in
// BENCHMARKS.md (adaptive polling at 1,000 calls a second, the same 0.1% of
// threads in conversation every cycle), cut to what finishes on a 2-core
// machine in about a quarter of an hour at 100,000 threads. Ten replies a
// thread are one page: a daemon's first sight of 100,000 threads is
// 100,000 calls, 100 s at that rate (twenty replies, two pages, doubled
// it). 16 measured cycles, the first 8 a warm-up, are what adaptive polling
// needs to settle on a 30 s schedule with max_interval 5m (quiet threads
// go to 5 min after 2, 4, 8 and 16 cycles' back-off). The threads are in a
// list file, as a config of 100,000 threads would be, and the daemon is
// restarted three times at the end.
var curveDefaults = map[string]string{
	"replies":      "10",
	"active":       "0.001",
	"sticky":       "1",
	"period":       "30s",
	"cycles":       "16",
	"warmup":       "8",
	"source-rate":  "1000/s",
	"max-interval": "5m",
	"quiet-polls":  "3",
	"send-jitter":  "0",
	"threads-file": "true",
	"restarts":     "3",
}

// applyCurveDefaults sets, in fs (parsed already), each of curveDefaults
// not given on the command line; it returns those it set, sorted.
func applyCurveDefaults(fs *flag.FlagSet) ([]string, error) {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var applied []string
	for name, v := range curveDefaults {
		if given[name] {
			continue
		}
		if err := fs.Set(name, v); err != nil {
			return nil, fmt.Errorf("curve default -%s %s: %w", name, v, err)
		}
		applied = append(applied, "-"+name+" "+v)
	}
	slices.Sort(applied)
	return applied, nil
}

// curveStep is one run of a curve: the figures of its row.
type curveStep struct {
	Threads     int `json:"threads"`
	HistoryRows int `json:"history_rows"`
	// PeakRSS is the daemon's VmHWM just before SIGTERM, in bytes.
	PeakRSS            int64     `json:"peak_rss_bytes"`
	StartupSeconds     float64   `json:"startup_seconds"`
	RestartSeconds     []float64 `json:"restart_seconds,omitempty"`
	FirstCycleSeconds  float64   `json:"first_cycle_seconds"`
	CycleP50           float64   `json:"cycle_p50_seconds"`
	CycleMax           float64   `json:"cycle_max_seconds"`
	Cycles             int       `json:"cycles"` // measured, the warm-up left out
	CallsPerIdleThread float64   `json:"calls_per_idle_thread"`
	LatencyP50         float64   `json:"reaction_p50_seconds"`
	LatencyP99         float64   `json:"reaction_p99_seconds"`
	LatencyCount       int       `json:"reaction_count"`
	Questions          int       `json:"questions"`
	Posts              int       `json:"answers_at_kitkot"`
	SentRows           int       `json:"sent_rows"`
	Problems           []string  `json:"problems,omitempty"`
	// Error ends the curve: the run did not finish.
	Error string `json:"error,omitempty"`
}

// curveReport is a curve's table and each run's whole report.
type curveReport struct {
	Machine machine     `json:"machine"`
	Curve   curve       `json:"curve"`
	Steps   []curveStep `json:"steps"`
	Runs    []*report   `json:"runs"`
}

// stepOptions are o with the curve's value v set, and the run directory
// and profiles of the step in a directory of their own.
func stepOptions(o options, c curve, v int) options {
	name := fmt.Sprintf("%s-%d", c.Axis, v)
	switch c.Axis {
	case "threads":
		o.Threads = v
	case "history":
		o.History = v
	}
	if o.Dir != "" {
		o.Dir = filepath.Join(o.Dir, name)
	}
	if o.Pprof != "" {
		o.Pprof = filepath.Join(o.Pprof, name)
	}
	o.Curve = ""
	return o
}

// stepOf takes a run's row from its report.
func stepOf(o options, r *report) curveStep {
	s := curveStep{Threads: o.Threads, HistoryRows: o.History, PeakRSS: r.Daemon.PeakRSS, StartupSeconds: r.Startup.Seconds,
		RestartSeconds: r.Startup.RestartSeconds, FirstCycleSeconds: r.FirstCycle.Seconds,
		CycleP50: r.Summary.CycleP50, CycleMax: r.Summary.CycleMax, Cycles: len(r.Cycles) - o.Warmup,
		CallsPerIdleThread: r.Summary.CallsPerIdleThread, LatencyP50: r.Summary.LatencyP50, LatencyP99: r.Summary.LatencyP99,
		LatencyCount: r.Summary.LatencyCount, Questions: r.Check.Questions, Posts: r.Check.Posts, SentRows: r.Check.SentRows,
		Problems: r.Check.Problems}
	return s
}

// runCurve runs o once for each value of c, in turn, each with run: one
// run at a time, so that the runs do not share the machine. A run that
// fails ends the curve; its row holds the error, and the error is returned
// with the rows so far.
func runCurve(ctx context.Context, o options, c curve, logw io.Writer) (*curveReport, error) {
	// Every step's options are checked before the first one runs: a
	// mistake must not show after an hour of measuring.
	for _, v := range c.Values {
		if err := stepOptions(o, c, v).validate(); err != nil {
			return nil, fmt.Errorf("-curve %s=%d: %w", c.Axis, v, err)
		}
	}
	cr := &curveReport{Machine: describeMachine(), Curve: c}
	for i, v := range c.Values {
		so := stepOptions(o, c, v)
		_, _ = fmt.Fprintf(logw, "%s  curve: run %d of %d, %s %d\n", time.Now().Format("15:04:05"), i+1, len(c.Values), c.Axis, v)
		rep, err := run(ctx, so, logw)
		if err != nil {
			cr.Steps = append(cr.Steps, curveStep{Threads: so.Threads, HistoryRows: so.History, Error: err.Error()})
			return cr, fmt.Errorf("-curve %s=%d: %w", c.Axis, v, err)
		}
		cr.Steps = append(cr.Steps, stepOf(so, rep))
		cr.Runs = append(cr.Runs, rep)
	}
	return cr, nil
}

// problems reports whether a row failed its check or did not finish.
func (cr *curveReport) problems() bool {
	for _, s := range cr.Steps {
		if len(s.Problems) > 0 || s.Error != "" {
			return true
		}
	}
	return false
}

// print writes each run's report, then the curve's table; it returns the
// first write error.
func (cr *curveReport) print(w io.Writer) error {
	for i, r := range cr.Runs {
		if _, err := fmt.Fprintf(w, "=== %s %d ===\n", cr.Curve.Axis, cr.Curve.Values[i]); err != nil {
			return err
		}
		if err := r.print(w); err != nil {
			return err
		}
		if _, err := fmt.Fprintln(w); err != nil {
			return err
		}
	}
	return cr.printTable(w)
}

// printTable writes the curve's table: one row per run.
func (cr *curveReport) printTable(w io.Writer) (err error) {
	p := func(format string, args ...any) {
		if err == nil {
			_, err = fmt.Fprintf(w, format+"\n", args...)
		}
	}
	vals := make([]string, len(cr.Curve.Values))
	for i, v := range cr.Curve.Values {
		vals[i] = strconv.Itoa(v)
	}
	p("curve: %s %s (one run each, in turn: a fresh imitation, daemon and database, the other options the same)",
		cr.Curve.Axis, strings.Join(vals, " → "))
	p("machine: %d CPU %s, %d GiB, %s, %s", cr.Machine.CPUs, cr.Machine.CPUModel, cr.Machine.MemoryGiB, cr.Machine.Kernel, cr.Machine.Go)
	const row = "%7s %9s %8s %7s %22s %7s %14s %10s %17s %8s  %s"
	p(row, "threads", "history", "peak RSS", "startup", "restarts", "first", "cycle p50/max", "idle calls", "reaction p50/p99", "answers", "check")
	for _, s := range cr.Steps {
		if s.Error != "" {
			p("%7d %9d  did not finish: %s", s.Threads, s.HistoryRows, s.Error)
			continue
		}
		restarts := "-"
		if len(s.RestartSeconds) > 0 {
			restarts = secondsList(s.RestartSeconds)
		}
		check := "OK"
		if len(s.Problems) > 0 {
			check = fmt.Sprintf("FAILED (%d problems)", len(s.Problems))
		}
		p(row, strconv.Itoa(s.Threads), strconv.Itoa(s.HistoryRows), mb(s.PeakRSS), fmt.Sprintf("%.2fs", s.StartupSeconds), restarts,
			fmt.Sprintf("%.1fs", s.FirstCycleSeconds), fmt.Sprintf("%.2f/%.2fs", s.CycleP50, s.CycleMax), fmt.Sprintf("%.3f", s.CallsPerIdleThread),
			fmt.Sprintf("%.2f/%.2fs", s.LatencyP50, s.LatencyP99), fmt.Sprintf("%d/%d", s.Posts, s.Questions), check)
	}
	p("(peak RSS: the daemon's VmHWM before SIGTERM; startup: exec → first 200 from /-/ready on the new database; restarts: the same")
	p(" on the database the run left; first: the first cycle, every thread first seen; cycle p50/max: the measured cycles after the")
	p(" warm-up; idle calls: API calls per idle thread per cycle; reaction: reply appears → answer at kitkot; answers: answered at")
	p(" kitkot / questions asked; check: every question answered exactly once, at kitkot and in the history)")
	return err
}
