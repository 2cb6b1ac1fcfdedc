package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/store"
)

// TestSmoke runs the whole harness small: 20 threads of 5 replies, two
// measured cycles a second apart, over a seeded history of 2,000 rows. The
// daemon must answer every question exactly once (at kitkot and in the
// history) and every figure of the report must be filled.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the daemon")
	}
	start := time.Now()
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "autoreplyd")
	build := exec.Command("go", "build", "-o", bin, "./cmd/autoreplyd")
	build.Dir = "../.."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	o := defaultOptions()
	o.Threads, o.Replies, o.Cycles, o.Period = 20, 5, 2, time.Second
	o.Active, o.NewPerActive = 0.25, 1
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
	if c.Questions != 4 || c.Spam != 2 || c.Chatter != 4 {
		t.Errorf("kinds: %d questions, %d spam, %d chatter; want 4, 2, 4", c.Questions, c.Spam, c.Chatter)
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
	if len(rep.Cycles) != 2 {
		t.Fatalf("%d cycles reported, want 2", len(rep.Cycles))
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
	if rep.Fetch.Found != 10 || rep.Fetch.CommentsPerSecond <= 0 || s.Ratio <= 0 {
		t.Errorf("fetch+decode: %+v, ratio %v", rep.Fetch, s.Ratio)
	}

	var text, js bytes.Buffer
	if err := printReport(&text, rep, false); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"startup", "first cycle", "cycle time: p50", "comments/s", "API calls per new reply",
		"reaction latency", "daemon allocations", "peak (VmHWM", "pipeline ÷ fetch+decode", "check OK"} {
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
	if d := time.Since(start); d > 50*time.Second {
		t.Errorf("the smoke test took %s", d)
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
// same statements, as a database the store created; and the cache is reused.
func TestSeedHistory(t *testing.T) {
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
	info, err := prepareHistory(ctx, 1500, cache, filepath.Join(dir, "a.db"), logf)
	if err != nil {
		t.Fatal(err)
	}
	if info.Reused || info.Rows != 1500 {
		t.Errorf("first: %+v", info)
	}
	if got, want := schemaOf(t, filepath.Join(dir, "a.db")), schemaOf(t, fresh); !slices.Equal(got, want) {
		t.Errorf("schema differs:\n got %q\nwant %q", got, want)
	}
	info, err = prepareHistory(ctx, 1500, cache, filepath.Join(dir, "b.db"), logf)
	if err != nil || !info.Reused {
		t.Fatalf("second: %+v, %v", info, err)
	}
	// The copy opens as a store and its history reads back.
	rs, err := store.OpenReadOnly(ctx, filepath.Join(dir, "b.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	counts, err := rs.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, n := range counts {
		total += n
	}
	if total != 1500 || counts["sent"] < 1500/2 || counts["pending"] != 0 || counts["retrying"] != 0 {
		t.Errorf("counts: %v", counts)
	}
	// A different row count is not served from this cache.
	if ok, _ := historyCacheOK(ctx, cache, 1499); ok {
		t.Error("cache of 1500 rows accepted for 1499")
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
	defer db.Close()
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
	var v string
	if err := db.QueryRow("PRAGMA user_version").Scan(&v); err != nil {
		t.Fatal(err)
	}
	return append(out, "user_version "+v)
}

func TestParseMetrics(t *testing.T) {
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
