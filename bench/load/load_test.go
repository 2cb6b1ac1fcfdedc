package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/internal/pgtest"
	"github.com/autoreplyd/autoreplyd/internal/testutil"
	"github.com/autoreplyd/autoreplyd/store"
)

// TestMain lets the test binary be the fetch+decode baseline's child: the
// harness runs its own executable, which under `go test` is this one.
func TestMain(m *testing.M) {
	if len(os.Args) == 2 && os.Args[1] == fetchChildArg {
		os.Exit(fetchChild(os.Stdin, os.Stdout))
	}
	m.Run()
}

// TestSmoke runs the whole harness small: 20 threads of 5 replies, two
// measured cycles a second apart (no send jitter), over a seeded history of 2,000 rows. The
// daemon must answer every question exactly once (at kitkot and in the
// history) and every figure of the report must be filled.
func TestSmoke(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and runs the daemon")
	}
	tmp := t.TempDir()
	bin := buildDaemonForTest(t, tmp)

	o := defaultOptions()
	o.Threads, o.Replies, o.Cycles, o.Warmup, o.Period = 20, 5, 3, 1, time.Second
	o.Active, o.NewPerActive = 0.25, 1
	// No random pause before each send: up to 3 s a send by default, it
	// would make the sends, not the polls, each cycle's length.
	o.SendJitter = "0"
	o.History, o.HistoryCache = 2000, filepath.Join(tmp, "cache", "history-2000.db")
	o.Bin, o.Dir = bin, filepath.Join(tmp, "run")
	o.Timeout = 2 * time.Minute
	var log bytes.Buffer
	rep, err := run(context.Background(), o, &log)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, log.String())
	}
	t.Logf("harness log:\n%s", log.String())

	c := rep.Check
	if len(c.Problems) > 0 {
		t.Errorf("check problems: %q", c.Problems)
	}
	// 5 active threads × 1 new reply a cycle: 2 questions, 1 spam, 2 chatter.
	if c.Questions != 6 || c.Spam != 3 || c.Chatter != 6 {
		t.Errorf("kinds: %d questions, %d spam, %d chatter; want 6, 3, 6", c.Questions, c.Spam, c.Chatter)
	}
	if c.Posts != c.Questions || c.SentRows != c.Questions || c.Unanswered != 0 || c.Unexpected != 0 {
		t.Errorf("answers: %+v", c)
	}

	if rep.Startup.Seconds <= 0 || rep.Startup.HistoryRows != 2000 {
		t.Errorf("startup: %+v", rep.Startup)
	}
	if h := rep.History; h == nil || h.Rows != 2000 || h.Reused || h.Bytes <= 0 {
		t.Errorf("history: %+v", h)
	}
	f := rep.FirstCycle
	if f.Seconds <= 0 || f.Calls != 20 || f.Backlog != 100 || f.Mallocs <= 0 || !f.Spill && f.DaemonCalls != f.Calls {
		t.Errorf("first cycle: %+v", f)
	}
	if len(rep.Cycles) != 3 || !rep.Cycles[0].Warmup || rep.Cycles[1].Warmup || rep.Cycles[2].Warmup {
		t.Fatalf("%d cycles reported, want 3, the first a warm-up: %+v", len(rep.Cycles), rep.Cycles)
	}
	for _, cy := range rep.Cycles {
		// The harness's own counts are exact.
		if cy.Seconds <= 0 || cy.Calls != 20 || cy.NewReplies != 5 || cy.Seen < 5 || cy.Waiting != 0 ||
			cy.ActiveThreads < 5 || cy.CallsActive < cy.ActiveThreads || cy.IdleThreads != 20-cy.ActiveThreads || cy.CallsIdle != cy.IdleThreads ||
			cy.Mallocs <= 0 || cy.AllocBytes <= 0 {
			t.Errorf("cycle: %+v", cy)
		}
		// The daemon's, unless the next cycle had started when they were read.
		if !cy.Spill && (cy.DaemonCalls != 20 || cy.Handled != cy.Seen || cy.Sent != 2) {
			t.Errorf("cycle's daemon figures: %+v", cy)
		}
	}
	s := rep.Summary
	if s.CycleP50 <= 0 || s.CycleMax < s.CycleP50 || s.CommentsPerSecond <= 0 || s.CallsPerNewReply <= 0 ||
		s.CallsPerIdleThread != 1 || s.Seen < 10 || rep.Drain.Cycles != 0 {
		t.Errorf("summary: %+v", s)
	}
	if s.Spills == 0 && (s.Handled != s.Seen || s.Sent != 4) {
		t.Errorf("summary's daemon figures: %+v", s)
	}
	if s.LatencyCount != 4 || s.LatencyP50 <= 0 || s.LatencyP99 < s.LatencyP50 || s.LatencyMax < s.LatencyP99 {
		t.Errorf("latency: %+v", s)
	}
	if !rep.Daemon.GoRuntimeMetrics || s.MallocsPerCycle <= 0 || s.AllocBytesPerCycle <= 0 {
		t.Errorf("allocations: %+v %+v", rep.Daemon, s)
	}
	if rep.Daemon.PeakRSS <= 0 || rep.Daemon.PeakRSS < rep.Daemon.RSS {
		t.Errorf("rss: %+v", rep.Daemon)
	}
	// The summary leaves the warm-up out.
	if want := rep.Cycles[1].Seconds + rep.Cycles[2].Seconds; math.Abs(s.CycleSeconds-want) > 1e-9 ||
		s.Seen != rep.Cycles[1].Seen+rep.Cycles[2].Seen {
		t.Errorf("summary: %v s and %d seen, want the last two cycles' (%v s)", s.CycleSeconds, s.Seen, want)
	}
	// The baseline replays the measured cycles after the warm-up: the same
	// polls of the same threads (every thread, every cycle here), finding
	// the same new replies.
	polls := 0
	for _, cy := range rep.Cycles[1:] {
		polls += len(cy.polled)
	}
	fd := rep.Fetch
	if fd.Cycles != 2 || fd.Threads != 20 || fd.Polls != polls || fd.Polls != 40 || fd.ActivePolls < 10 ||
		fd.Found != s.Seen || fd.NewReplies != s.Seen || fd.Calls < fd.Polls || fd.Concurrency != o.Concurrency ||
		fd.Rate != o.SourceRate || len(fd.CycleSeconds) != 2 || fd.CommentsPerSecond <= 0 {
		t.Errorf("fetch+decode: %+v; the daemon's measured cycles polled %d threads", fd, polls)
	}
	if s.NewRepliesPerSecond <= 0 || s.Ratio <= 0 || math.Abs(s.Ratio-fd.Seconds/s.CycleSeconds) > 1e-9*s.Ratio {
		t.Errorf("ratio %v: want fetch+decode seconds ÷ pipeline seconds, %v ÷ %v", s.Ratio, fd.Seconds, s.CycleSeconds)
	}
	// The same baseline twice: from a process of its own (the child, which
	// found the replies, so it ran) and from the harness's process.
	fh := rep.FetchInHarness
	if fd.InHarness || !fh.InHarness || fh.Polls != fd.Polls || fh.Found != fd.Found || fh.Calls < fh.Polls ||
		fd.Seconds <= 0 || fh.Seconds <= 0 || math.Abs(s.RatioInHarness-fh.Seconds/s.CycleSeconds) > 1e-9*s.RatioInHarness {
		t.Errorf("fetch+decode in the harness: %+v, ratio %v; in a process of its own: %+v", fh, s.RatioInHarness, fd)
	}

	var text, js bytes.Buffer
	if err := printReport(&text, rep, false); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"startup", "first cycle", "cycle time: p50", "comments/s", "API calls per new reply",
		"reaction latency", "daemon allocations", "peak (VmHWM", "new replies through the pipeline", "fetch+decode of the same pages: 40 polls",
		"pipeline ÷ fetch+decode (same pages, same rate)", "the first 1 cycle(s), a warm-up, and their questions are left out", "(warm-up)", "sticky 0 (a fresh random pick every cycle)", "check OK"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, text.String())
		}
	}
	if err := printReport(&js, rep, true); err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatalf("JSON report: %v", err)
	}
	// The made-up secrets appear nowhere: not in the report, not in the
	// daemon's log, not in the config.
	secrets := readSecrets(t, filepath.Join(o.Dir, credDirName))
	files := map[string][]byte{"report": text.Bytes(), "json": js.Bytes(), "log": log.Bytes()}
	for _, name := range []string{"autoreplyd.log", "config.yaml"} {
		b, err := os.ReadFile(filepath.Join(o.Dir, name))
		if err != nil {
			t.Fatal(err)
		}
		files[name] = b
	}
	for name, b := range files {
		for _, sec := range secrets {
			if bytes.Contains(b, []byte(sec)) {
				t.Errorf("a secret shows in %s", name)
			}
		}
	}
}

// buildDaemonForTest builds ./cmd/autoreplyd into dir.
func buildDaemonForTest(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "autoreplyd")
	build := exec.Command("go", "build", "-o", bin, "./cmd/autoreplyd")
	build.Dir = "../.."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestSmokePostgres runs the harness small on its own throwaway PostgreSQL
// (-database pg): the daemon's history goes there (no SQLite file in the
// run directory), the check reads it from there, and the daemon's cycles
// are read from its log.
func TestSmokePostgres(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and runs the daemon")
	}
	if why := pgtest.Skipped(); why != "" {
		t.Skip(why)
	}
	tmp := t.TempDir()
	o := defaultOptions()
	o.Threads, o.Replies, o.Cycles, o.Period = 20, 5, 2, time.Second
	o.Active, o.NewPerActive, o.SendJitter = 0.25, 1, "0"
	o.Database = "pg"
	o.Bin, o.Dir = buildDaemonForTest(t, tmp), filepath.Join(tmp, "run")
	o.Timeout = 2 * time.Minute
	var log bytes.Buffer
	rep, err := run(context.Background(), o, &log)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, log.String())
	}
	c := rep.Check
	if len(c.Problems) > 0 || c.Questions != 4 || c.Posts != 4 || c.SentRows != 4 || c.Spam != 2 || c.Chatter != 4 {
		t.Errorf("check: %+v\n%s", c, log.String())
	}
	if _, err := os.Stat(filepath.Join(o.Dir, dbName)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("an SQLite database in the run directory (%v): the daemon did not use PostgreSQL", err)
	}
	cfg, err := os.ReadFile(filepath.Join(o.Dir, "config.yaml"))
	if err != nil || !strings.Contains(string(cfg), `database: "postgres://`) {
		t.Errorf("config (%v):\n%s", err, cfg)
	}
	if len(rep.Instances) != 1 {
		t.Fatalf("instances: %+v", rep.Instances)
	}
	in := rep.Instances[0]
	// The measured cycles, and perhaps one that ran unmeasured between them.
	if in.Cycles < 2 || in.CycleP50 <= 0 || in.CycleMax < in.CycleP50 || in.PollsPerCycle != 20 || in.PeakRSS <= 0 || in.CPUSeconds <= 0 {
		t.Errorf("instance: %+v", in)
	}
	if rep.Options.Database != "pg" || rep.Options.Instances != 1 {
		t.Errorf("options: %+v", rep.Options)
	}
}

// The flags that cannot go together are refused before anything starts.
func TestValidateDatabaseInstances(t *testing.T) {
	for _, tc := range []struct {
		set  func(*options)
		want string
	}{
		{func(o *options) { o.Database = "mysql" }, "-database must be sqlite or pg"},
		{func(o *options) { o.Database, o.History = "pg", 1000 }, "-history needs -database sqlite"},
		{func(o *options) { o.Instances = 0 }, "-instances must be at least 1"},
		{func(o *options) { o.Instances, o.Pprof = 2, "/tmp/prof" }, "-pprof profiles one daemon"},
	} {
		o := defaultOptions()
		tc.set(&o)
		if err := o.validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("validate: %v, want %q", err, tc.want)
		}
	}
	o := defaultOptions()
	o.Database, o.Instances = "pg", 2
	if err := o.validate(); err != nil {
		t.Errorf("-database pg -instances 2: %v", err)
	}
}

// A "cycle done" line gives its end, its length and the threads polled;
// the measured cycles are those started in the window and ended before
// the stop.
func TestCycleLines(t *testing.T) {
	log := `time=2026-12-03T12:00:00.000Z level=INFO msg="source backing off" until=x
time=2026-12-03T12:00:10.500Z level=INFO msg="cycle done" took=10.5s threads=5000 deferred=0 calls=5000
time=2026-12-03T12:00:22.000Z level=INFO msg="cycle done" took=2s threads=4999 deferred=0 calls=5000
time=2026-12-03T12:00:31.250Z level=INFO msg="cycle done" took=1.25s threads=5001 deferred=0 calls=5001
time=2026-12-03T12:00:41.000Z level=INFO msg="cycle done" took=4s threads=10 deferred=0 calls=10
time=2026-12-03T12:00:50.000Z level=WARN msg="cycle done soon" took=1s
`
	path := filepath.Join(t.TempDir(), "autoreplyd.log")
	if err := os.WriteFile(path, []byte(log), 0o600); err != nil {
		t.Fatal(err)
	}
	cycles, err := readCycles(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(cycles) != 4 || cycles[0].took != 10500*time.Millisecond || cycles[1].threads != 4999 ||
		!cycles[2].end.Equal(time.Date(2026, 12, 3, 12, 0, 31, 250e6, time.UTC)) {
		t.Fatalf("cycles: %+v", cycles)
	}
	at := func(s int) time.Time { return time.Date(2026, 12, 3, 12, 0, s, 0, time.UTC) }
	var r instanceReport
	// The first started before the window (at 0 s); the last ended after the stop.
	r.measuredCycles(cycles, at(5), at(40), at(40))
	if r.Cycles != 2 || r.CycleP50 != 1.25 || r.CycleMax != 2 || r.PollsPerCycle != 5000 {
		t.Errorf("measured: %+v", r)
	}
	var other instanceReport
	other.measuredCycles(cycles, at(0), at(40), at(60))
	rep := report{Instances: []instanceReport{r, other}}
	rep.combineInstances()
	// 1.25 and 2, with 10.5, 2, 1.25 and 4.
	if c := rep.Combined; c.Cycles != 6 || c.CycleP50 != 2 || c.CycleMax != 10.5 {
		t.Errorf("combined: %+v", c)
	}
}

func readSecrets(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	for _, n := range []string{tokenFile, apiKeyFile, sessionFile} {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, strings.TrimSpace(string(b)))
	}
	return out
}

// The seeded history has the real schema: the same indexes, made by the
// same statements, and the same journal mode as a database the store
// created; and the cache is reused. (1,550 rows: the last statement of the
// batch holds fewer rows than the others.)
func TestSeedHistory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	fresh := filepath.Join(dir, "fresh.db")
	st, err := store.Open(ctx, fresh)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	cache := filepath.Join(dir, "cache", "h.db")
	logf := func(string, ...any) {}
	info, err := prepareHistory(ctx, 1550, cache, filepath.Join(dir, "a.db"), logf)
	if err != nil {
		t.Fatal(err)
	}
	if info.Reused || info.Rows != 1550 {
		t.Errorf("first: %+v", info)
	}
	if got, want := schemaOf(t, filepath.Join(dir, "a.db")), schemaOf(t, fresh); !slices.Equal(got, want) {
		t.Errorf("schema differs:\n got %q\nwant %q", got, want)
	}
	info, err = prepareHistory(ctx, 1550, cache, filepath.Join(dir, "b.db"), logf)
	if err != nil || !info.Reused {
		t.Fatalf("second: %+v, %v", info, err)
	}
	// The copy opens as a store and its history reads back.
	rs, err := store.OpenReadOnly(ctx, filepath.Join(dir, "b.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer testutil.Close(t, rs)
	counts, err := rs.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, n := range counts {
		total += n
	}
	if total != 1550 || counts["sent"] < 1550/2 || counts["pending"] != 0 || counts["retrying"] != 0 {
		t.Errorf("counts: %v", counts)
	}
	// A different row count is not served from this cache.
	if ok, _ := historyCacheOK(ctx, cache, 1549); ok {
		t.Error("cache of 1550 rows accepted for 1549")
	}
}

// schemaOf lists the database's schema objects and user_version.
func schemaOf(t *testing.T, path string) []string {
	t.Helper()
	dsn, err := sqliteDSN(path, "mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer testutil.Close(t, db)
	rows, err := db.Query(`SELECT type || ' ' || name || ': ' || coalesce(sql, '') FROM sqlite_master ORDER BY type, name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	var v, mode string
	if err := db.QueryRow("PRAGMA user_version").Scan(&v); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil {
		t.Fatal(err)
	}
	return append(out, "user_version "+v, "journal_mode "+mode)
}

func TestParseMetrics(t *testing.T) {
	t.Parallel()
	body := `# HELP x
# TYPE autoreplyd_cycle_duration_seconds histogram
autoreplyd_cycle_duration_seconds_sum 12.5
autoreplyd_cycle_duration_seconds_count 3
autoreplyd_comments_fetched_total{platform="douyin",disposition="self"} 7
autoreplyd_build_info{goversion="go1.26",version="v\"1\\"} 1
go_memstats_mallocs_total 1.234e+06
`
	m, err := parseMetrics([]byte(body), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if cycleCount(m) != 3 || m.get("autoreplyd_cycle_duration_seconds_sum") != 12.5 ||
		m.get("autoreplyd_comments_fetched_total", "disposition", "self", "platform", "douyin") != 7 ||
		m.get("autoreplyd_build_info", "version", `v"1\`, "goversion", "go1.26") != 1 ||
		m.get("go_memstats_mallocs_total") != 1234000 || !m.has("go_memstats_mallocs_total") {
		t.Errorf("parsed %v", m.series)
	}
	if _, err := parseMetrics([]byte("broken{a=\"x} 1\n"), time.Now()); err == nil {
		t.Error("broken labels accepted")
	}
}

func TestKinds(t *testing.T) {
	t.Parallel()
	g := newGenerator(1)
	for _, tc := range []struct {
		n             int
		match, spam   float64
		wantQ, wantSp int
	}{{200, 0.3, 0.1, 60, 20}, {5, 0.3, 0.1, 2, 1}, {1, 0.3, 0.1, 1, 0}, {10, 0, 0, 0, 0}, {4, 0.5, 0.5, 2, 2}} {
		var q, sp int
		for _, k := range g.kinds(tc.n, tc.match, tc.spam) {
			switch k {
			case question:
				q++
			case spam:
				sp++
			}
		}
		if q != tc.wantQ || sp != tc.wantSp {
			t.Errorf("kinds(%d, %v, %v): %d questions, %d spam; want %d, %d", tc.n, tc.match, tc.spam, q, sp, tc.wantQ, tc.wantSp)
		}
	}
}

// -sticky: 1 keeps the active threads from one cycle to the next, a
// fraction keeps that share of them and takes the rest from the others, 0
// (or the first cycle, with no previous pick) picks afresh.
func TestChooseSticky(t *testing.T) {
	t.Parallel()
	g := newGenerator(1)
	first := g.chooseSticky(10, 100, nil, 1)
	if len(first) != 10 || len(distinct(first)) != 10 {
		t.Fatalf("first pick: %v", first)
	}
	again := g.chooseSticky(10, 100, first, 1)
	if !slices.Equal(sortedInts(again), sortedInts(first)) {
		t.Errorf("sticky 1: %v, then %v", first, again)
	}
	half := g.chooseSticky(10, 100, first, 0.5)
	kept := 0
	for _, i := range half {
		if slices.Contains(first, i) {
			kept++
		}
	}
	if len(distinct(half)) != 10 || kept != 5 {
		t.Errorf("sticky 0.5: %v after %v: %d kept, want 5", half, first, kept)
	}
	// Too few other threads: the rest comes from the previous pick.
	most := g.chooseSticky(8, 10, g.chooseSticky(8, 10, nil, 0), 0.25)
	if len(distinct(most)) != 8 {
		t.Errorf("sticky 0.25 with 8 of 10: %v", most)
	}
	// 0 is choose, with the same seed the same pick.
	if a, b := newGenerator(7).chooseSticky(10, 100, first, 0), newGenerator(7).choose(10, 100); !slices.Equal(a, b) {
		t.Errorf("sticky 0: %v, choose: %v", a, b)
	}
	for _, f := range []float64{-0.1, 1.1, math.NaN()} {
		o := defaultOptions()
		o.Sticky = f
		if o.validate() == nil {
			t.Errorf("-sticky %v accepted", f)
		}
	}
}

func TestThreadIndex(t *testing.T) {
	t.Parallel()
	for _, i := range []int{0, 1, 19, 9999, 123456} {
		if got, ok := threadIndex(threadID(i)); !ok || got != i {
			t.Errorf("threadIndex(threadID(%d)) = %d, %v", i, got, ok)
		}
	}
	for _, id := range []string{"", "x", "7300000000000000001", "42"} {
		if _, ok := threadIndex(id); ok {
			t.Errorf("threadIndex(%q) ok", id)
		}
	}
}

func distinct(s []int) map[int]bool {
	m := map[int]bool{}
	for _, i := range s {
		m[i] = true
	}
	return m
}

func sortedInts(s []int) []int {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}

// TestVideos runs the harness on a few watched videos and no configured
// thread, newest first and in Douyin's "hot" order: every new top-level
// question and every question replied in a discovered thread (one on the
// video listing's first page, where a listing shows its count moving) is
// answered once, at kitkot and in the history, and the calls that reached
// the imitation are the ones the costs promise.
func TestVideos(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and runs the daemon")
	}
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "autoreplyd")
	build := exec.Command("go", "build", "-o", bin, "./cmd/autoreplyd")
	build.Dir = "../.."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, order := range []string{"newest", "hot"} {
		t.Run(order, func(t *testing.T) {
			t.Parallel()
			o := defaultOptions()
			o.Threads, o.Videos, o.VideoComments, o.VideoActive = 0, 8, 240, 0.5
			o.VideoOrder, o.VideoRecent = order, true
			o.Cycles, o.Period, o.SendJitter = 2, 2*time.Second, "0"
			o.Bin, o.Dir, o.Timeout = bin, filepath.Join(tmp, order), 2*time.Minute
			var log bytes.Buffer
			rep, err := run(context.Background(), o, &log)
			if err != nil {
				t.Fatalf("run: %v\n%s", err, log.String())
			}
			t.Logf("harness log:\n%s", log.String())
			c := rep.Check
			if len(c.Problems) > 0 {
				t.Errorf("check problems: %q", c.Problems)
			}
			// 4 videos a cycle, each 1 new top-level comment and half of
			// them a reply in a discovered thread: 12 comments, 4 of them
			// questions (30%), each answered once.
			if c.TopLevel != 8 || c.VideoReplies != 4 || c.Questions != 4 || c.Posts != 4 || c.SentRows != 4 ||
				c.Unanswered != 0 || c.Unexpected != 0 {
				t.Errorf("check: %+v", c)
			}
			// First sight lists each video whole: 30 comments, 2 pages.
			if f := rep.FirstCycle.Video; f == nil || f.ListingCalls != 16 || f.ThreadCalls != 0 {
				t.Errorf("first cycle: %+v", f)
			}
			// Each new top-level comment makes its video's listing cost
			// page 1 and the page after it (newest first: the new ones
			// come first) or the whole listing (hot: the order is not
			// known), 2 pages either way here; an idle video one call.
			const perNew = 2
			for _, cy := range rep.Cycles {
				v := cy.Video
				if v == nil || v.NewTopLevel != 4 || v.NewReplies != 2 || v.TopVideos != 4 || v.TopSeen != 4 ||
					v.TopCalls != 4*perNew || v.IdleCalls != v.IdleVideos || v.WaitingVideos != 0 || v.IdleThreadCalls != 0 {
					t.Errorf("cycle %d: %+v", cy.N, v)
				}
			}
			vs := rep.Videos
			if vs == nil || vs.CallsPerIdleVideo != 1 || vs.CallsPerNewTopLevel != float64(perNew) || vs.CallsPerThreadReply <= 0 ||
				vs.TopLatency.Count == 0 || vs.ThreadLatency.Count == 0 || vs.TopLatency.P50 <= 0 {
				t.Errorf("summary: %+v", vs)
			}
			if rep.Daemon.PeakRSS <= 0 {
				t.Errorf("rss: %+v", rep.Daemon)
			}
			var text bytes.Buffer
			if err := printReport(&text, rep, false); err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"calls per idle video per cycle: 1.000", "reaction latency, top-level comments",
				"reaction latency, replies in discovered threads", "check OK"} {
				if !strings.Contains(text.String(), want) {
					t.Errorf("report lacks %q:\n%s", want, text.String())
				}
			}
		})
	}
}

// TestStatCPU: user + system time from a /proc/PID/stat line, whatever the
// command name holds.
func TestStatCPU(t *testing.T) {
	line := "4242 (auto reply) d) S 1 4242 4242 0 -1 4194304 1000 0 0 0 1234 567 0 0 20 0 9 0 100 0 0\n"
	if got, ok := statCPU(line); !ok || math.Abs(got-18.01) > 1e-9 {
		t.Errorf("statCPU = %v, %v; want 18.01 (1234 + 567 ticks)", got, ok)
	}
	if _, ok := statCPU("4242 (x) S 1 2"); ok {
		t.Error("a short line read")
	}
	if got, ok := procCPU(os.Getpid()); !ok || got < 0 {
		t.Errorf("procCPU(self) = %v, %v", got, ok)
	}
}
