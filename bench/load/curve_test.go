package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseCurve(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in     string
		axis   string
		values []int
		err    string
	}{
		{in: "1000,10000,100000", axis: "threads", values: []int{1000, 10000, 100000}},
		{in: "threads=1k, 10k ,100k", axis: "threads", values: []int{1000, 10000, 100000}},
		{in: "history=0,10M", axis: "history", values: []int{0, 10000000}},
		{in: "history=1000000", axis: "history", values: []int{1000000}},
		{in: "100000,1000", axis: "threads", values: []int{100000, 1000}}, // in the order given
		{in: "threads=0,10", err: "at least 1 thread"},
		{in: "videos=1,2", err: "must be threads or history"},
		{in: "1000,,2000", err: `"" is not a count`},
		{in: "1.5k", err: `"1.5" is not a count`},
		{in: "-10", err: `"-10" is not a count`},
		{in: "10G", err: `"10G" is not a count`},
		{in: "history=99999999999M", err: "too large"},
	} {
		c, err := parseCurve(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("parseCurve(%q) = %+v, %v; want an error with %q", tc.in, c, err, tc.err)
			}
			continue
		}
		if err != nil || c.Axis != tc.axis || !slices.Equal(c.Values, tc.values) {
			t.Errorf("parseCurve(%q) = %+v, %v; want %s %v", tc.in, c, err, tc.axis, tc.values)
		}
	}
}

// The curve's defaults fill in the options not given; those given stay.
func TestCurveDefaults(t *testing.T) {
	t.Parallel()
	o := defaultOptions()
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	o.register(fs)
	if err := fs.Parse([]string{"-curve", "1k,10k", "-period", "10s", "-threads-file=false", "-cycles", "4"}); err != nil {
		t.Fatal(err)
	}
	applied, err := applyCurveDefaults(fs)
	if err != nil {
		t.Fatal(err)
	}
	// Given: kept.
	if o.Period != 10*time.Second || o.ThreadsFile || o.Cycles != 4 {
		t.Errorf("given options changed: period %s, threads file %v, cycles %d", o.Period, o.ThreadsFile, o.Cycles)
	}
	// Not given: the curve's.
	if o.Replies != 10 || o.Active != 0.001 || o.Sticky != 1 || o.Warmup != 8 || o.SourceRate != "1000/s" ||
		o.MaxInterval != "5m" || o.QuietPolls != 3 || o.SendJitter != "0" || o.Restarts != 3 {
		t.Errorf("curve defaults not applied: %+v", o)
	}
	// Options the curve has no default for keep the harness's.
	if o.Concurrency != 8 || o.PageSize != 10 || o.Threads != 10000 {
		t.Errorf("other options changed: %+v", o)
	}
	want := []string{"-active 0.001", "-max-interval 5m", "-quiet-polls 3", "-replies 10", "-restarts 3", "-send-jitter 0",
		"-source-rate 1000/s", "-sticky 1", "-warmup 8"}
	if !slices.Equal(applied, want) {
		t.Errorf("applied %q, want %q", applied, want)
	}
	// Every default names a flag and parses.
	for name := range curveDefaults {
		if fs.Lookup(name) == nil {
			t.Errorf("curve default for -%s: no such flag", name)
		}
	}
}

// Each step runs with the curve's value and its own directories; a step
// whose options are wrong stops the curve before any run.
func TestStepOptions(t *testing.T) {
	t.Parallel()
	o := defaultOptions()
	o.Dir, o.Pprof, o.Curve = "/tmp/run", "/tmp/prof", "threads=1,2"
	s := stepOptions(o, curve{Axis: "threads", Values: []int{1000}}, 1000)
	if s.Threads != 1000 || s.Dir != "/tmp/run/threads-1000" || s.Pprof != "/tmp/prof/threads-1000" || s.Curve != "" {
		t.Errorf("threads step: %+v", s)
	}
	o = defaultOptions()
	s = stepOptions(o, curve{Axis: "history", Values: []int{10000000}}, 10000000)
	if s.History != 10000000 || s.Threads != o.Threads || s.Dir != "" || s.Pprof != "" {
		t.Errorf("history step: %+v", s)
	}
	o.Database = "pg"
	var log bytes.Buffer
	cr, err := runCurve(context.Background(), o, curve{Axis: "history", Values: []int{0, 1000}}, &log)
	if cr != nil || err == nil || !strings.Contains(err.Error(), "-curve history=1000: -history needs -database sqlite") {
		t.Errorf("runCurve with a wrong step: %v, %v", cr, err)
	}
	if log.Len() > 0 {
		t.Errorf("a run started:\n%s", log.String())
	}
}

// The table has one row per run with its figures; a run that failed its
// check or did not finish says so.
func TestCurveTable(t *testing.T) {
	t.Parallel()
	cr := &curveReport{
		Machine: machine{CPUs: 2, CPUModel: "Test CPU", MemoryGiB: 23, Kernel: "Linux 6.1", Go: "go1.26"},
		Curve:   curve{Axis: "threads", Values: []int{1000, 10000, 100000}},
		Steps: []curveStep{
			{Threads: 1000, PeakRSS: 31_400_000, StartupSeconds: 0.123, RestartSeconds: []float64{0.1, 0.11, 0.125},
				FirstCycleSeconds: 1.04, CycleP50: 0.31, CycleMax: 0.52, CallsPerIdleThread: 0.0337, LatencyP50: 29.61, LatencyP99: 29.9,
				LatencyCount: 5, Questions: 5, Posts: 5, SentRows: 5},
			{Threads: 10000, HistoryRows: 1000000, PeakRSS: 45_000_000, StartupSeconds: 0.31, FirstCycleSeconds: 10.2,
				CycleP50: 1.2, CycleMax: 3.4, CallsPerIdleThread: 0.064, LatencyP50: 29.6, LatencyP99: 29.95,
				Questions: 48, Posts: 47, SentRows: 47, Problems: []string{"a", "b"}},
			{Threads: 100000, Error: "autoreplyd exited before it was ready"},
		},
	}
	if !cr.problems() {
		t.Error("problems() = false with a failed check and an unfinished run")
	}
	var b bytes.Buffer
	if err := cr.printTable(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"curve: threads 1000 → 10000 → 100000 (one run each",
		"machine: 2 CPU Test CPU, 23 GiB, Linux 6.1, go1.26",
		"   1000         0    31 MB   0.12s   0.10 / 0.11 / 0.12 s    1.0s     0.31/0.52s      0.034      29.61/29.90s      5/5  OK\n",
		"  10000   1000000    45 MB   0.31s                      -   10.2s     1.20/3.40s      0.064      29.60/29.95s    47/48  FAILED (2 problems)\n",
		" 100000         0  did not finish: autoreplyd exited before it was ready\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	cr.Steps = cr.Steps[:1]
	if cr.problems() {
		t.Error("problems() = true with every run checked OK")
	}
	js, err := json.Marshal(cr)
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		Curve curve `json:"curve"`
		Steps []map[string]any
	}
	if err := json.Unmarshal(js, &back); err != nil || back.Curve.Axis != "threads" || len(back.Steps) != 1 ||
		back.Steps[0]["peak_rss_bytes"] != 31_400_000.0 || back.Steps[0]["reaction_p99_seconds"] != 29.9 {
		t.Errorf("JSON %s: %+v, %v", js, back, err)
	}
}

// A small curve end to end: two runs with the threads in a list file and a
// restart each, every question answered once in both.
func TestCurveSmoke(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and runs the daemon")
	}
	tmp := t.TempDir()
	o := defaultOptions()
	o.Replies, o.Cycles, o.Period = 3, 1, time.Second
	o.Active, o.NewPerActive, o.Match, o.Spam = 0.5, 2, 0.5, 0
	o.SendJitter, o.ThreadsFile, o.Restarts = "0", true, 1
	o.Bin, o.Dir = buildDaemonForTest(t, tmp), filepath.Join(tmp, "run")
	o.Timeout = 2 * time.Minute
	var log bytes.Buffer
	cr, err := runCurve(context.Background(), o, curve{Axis: "threads", Values: []int{4, 8}}, &log)
	if err != nil {
		t.Fatalf("runCurve: %v\n%s", err, log.String())
	}
	if len(cr.Steps) != 2 || len(cr.Runs) != 2 || cr.problems() {
		t.Fatalf("steps %+v\n%s", cr.Steps, log.String())
	}
	for i, n := range []int{4, 8} {
		s := cr.Steps[i]
		// Half the threads get two new replies, one of them a question.
		if s.Threads != n || s.Questions != n/2 || s.Posts != n/2 || s.SentRows != n/2 || s.LatencyCount != n/2 {
			t.Errorf("step %d: %+v", i, s)
		}
		if s.StartupSeconds <= 0 || len(s.RestartSeconds) != 1 || s.RestartSeconds[0] <= 0 || s.PeakRSS <= 0 || s.CycleP50 <= 0 {
			t.Errorf("step %d figures: %+v", i, s)
		}
		dir := filepath.Join(o.Dir, "threads-"+strconv.Itoa(n))
		cfg, err := os.ReadFile(filepath.Join(dir, "config.yaml"))
		if err != nil || !strings.Contains(string(cfg), "threads_file: ") || strings.Contains(string(cfg), "threads:") {
			t.Errorf("step %d config (%v):\n%s", i, err, cfg)
		}
		list, err := os.ReadFile(filepath.Join(dir, threadsFileName))
		if err != nil || strings.Count(string(list), "\n") != n || !strings.Contains(string(list), `{"comment_id": "`+threadID(n-1)+`", "aweme_id": "`+awemeID(n-1)+`"}`) {
			t.Errorf("step %d list file (%v):\n%s", i, err, list)
		}
		// The restart ran the daemon on the run's database.
		if _, err := os.Stat(filepath.Join(dir, "autoreplyd-restart-1.log")); err != nil {
			t.Errorf("step %d: %v", i, err)
		}
	}
	var b bytes.Buffer
	if err := cr.print(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"=== threads 4 ===", "=== threads 8 ===", "4 threads in threads_file", "restarts on the database the run left",
		"curve: threads 4 → 8", " 2/2  OK\n", " 4/4  OK\n"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, b.String())
		}
	}
}
