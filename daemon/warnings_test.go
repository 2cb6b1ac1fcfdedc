package daemon

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/time/rate"

	"github.com/autoreplyd/autoreplyd/config"
	"github.com/autoreplyd/autoreplyd/internal/testutil"
)

// warningsOf builds c's source with n threads, the schedule and the polling
// keys given, from YAML as an operator writes it, and returns its warnings.
func warningsOf(t *testing.T, c pollingCase, schedule, polling string, n int) []string {
	t.Helper()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = c.id(i)
	}
	dir := t.TempDir()
	testutil.WriteFile(t, filepath.Join(dir, "rules.yaml"), rulesV1)
	path := filepath.Join(dir, "config.yaml")
	testutil.WriteFile(t, path, fmt.Sprintf("database: autoreplyd.db\nrules: rules.yaml\nschedule: %q\ntimezone: Asia/Shanghai\n", schedule)+
		c.config("http://127.0.0.1:9", polling, ids))
	cfg := load(t, path)
	bindings, _, _, err := Build(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return Warnings(cfg, bindings)
}

// A rate limit too low for the threads watched is a warning naming the
// source's keys, with what it costs: cycles that run over, or quiet threads
// polled less often than max_interval. Each source section's rate, burst and
// max_interval reach the computation.
func TestCapacityWarnings(t *testing.T) {
	t.Parallel()
	for _, c := range pollingCases {
		t.Run(c.name, func(t *testing.T) {
			key := "sources." + c.name
			for _, tc := range []struct {
				name, schedule, polling string
				threads                 int
				want                    [][]string // each warning's substrings, in order
			}{
				{name: "enough", schedule: "@every 1m", polling: "rate: 5/s, max_interval: 0", threads: 300},
				{name: "burst covers the rest", schedule: "@every 1m", polling: "rate: 5/s, burst: 20, max_interval: 0", threads: 320},
				{name: "every cycle too many", schedule: "@every 1m", polling: "rate: 5/s, max_interval: 0", threads: 1000, want: [][]string{{
					key + ": 1000 threads polled every cycle need at least 1000 calls a cycle, but rate 5/s allows 301 in the 1m0s between cycles",
					"each cycle takes at least 3m20s", "raise " + key + ".rate, set " + key + ".max_interval"}}},
				{name: "per minute", schedule: "@every 1m", polling: "rate: 90/m, max_interval: 0", threads: 100, want: [][]string{{
					"rate 90/m allows 91 in the 1m0s", "at least 1m7s"}}},
				{name: "adaptive: only until quiet", schedule: "@every 1m", polling: "rate: 5/s, max_interval: 15m, quiet_polls: 3", threads: 1000, want: [][]string{{
					key + ": until they go quiet (3 polls that find nothing new), all 1000 threads are polled every cycle: at rate 5/s each of those cycles takes at least 3m20s"}}},
				{name: "adaptive: quiet threads late too", schedule: "@every 10s", polling: "rate: 5/s, max_interval: 5m", threads: 10000, want: [][]string{
					{"all 10000 threads are polled every cycle", "at least 33m20s, more than the 10s between cycles"},
					{key + ": 10000 quiet threads polled once every max_interval 5m0s need 33.3 calls a second, more than the 3.75 that rate 5/s leaves them",
						"each quiet thread will wait about 44m27s between polls; raise " + key + ".rate or " + key + ".max_interval"}}},
				{name: "adaptive: bench (a3)", schedule: "@every 10s", polling: "rate: 100/s, max_interval: 5m", threads: 10000, want: [][]string{{
					"all 10000 threads are polled every cycle: at rate 100/s each of those cycles takes at least 1m40s"}}},
				{name: "adaptive: enough", schedule: "@every 1m", polling: "rate: 5/s, max_interval: 15m", threads: 300},
			} {
				var got []string
				for _, w := range warningsOf(t, c, tc.schedule, tc.polling, tc.threads) {
					if strings.Contains(w, "threads") && strings.Contains(w, "rate") {
						got = append(got, w)
					}
				}
				if len(got) != len(tc.want) {
					t.Errorf("%s: %d capacity warnings, want %d: %q", tc.name, len(got), len(tc.want), got)
					continue
				}
				for i, subs := range tc.want {
					for _, sub := range subs {
						if !strings.Contains(got[i], sub) {
							t.Errorf("%s: warning %d lacks %q: %s", tc.name, i, sub, got[i])
						}
					}
				}
			}
		})
	}
}

// The schedule's warnings stay quiet when there is nothing to compare:
// a schedule that never fires.
func TestCapacityWarningsNeverFiring(t *testing.T) {
	t.Parallel()
	for _, w := range warningsOf(t, pollingCases[0], "0 0 30 2 *", "rate: 1/h, max_interval: 0", 100) {
		if strings.Contains(w, "rate") {
			t.Errorf("warning for a schedule that never fires: %s", w)
		}
	}
}

func TestRateString(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		l    rate.Limit
		want string
	}{
		{5, "5/s"},
		{0.5, "30/m"},
		{90.0 / 60, "90/m"},
		{1.0 / 3600, "1/h"},
		{7.0 / 3600, "7/h"},
		{100, "100/s"},
		{1.0 / 7000, "0.5143/h"},
	} {
		if got := rateString(tc.l); got != tc.want {
			t.Errorf("rateString(%v) = %q, want %q", float64(tc.l), got, tc.want)
		}
	}
}

// The daemon logs the warnings when it starts.
func TestNewLogsWarnings(t *testing.T) {
	t.Parallel()
	path := writeConfig(t, t.TempDir(), closedURL(t), "@every 1m", rulesV1, "")
	cfg, err := config.Load(path, []string{"AUTOREPLYD_SOURCES__DOUYIN__RATE=1/h", "AUTOREPLYD_SOURCES__DOUYIN__MAX_INTERVAL=0"})
	if err != nil {
		t.Fatal(err)
	}
	var logs strings.Builder
	d, err := New(t.Context(), cfg, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer testutil.Close(t, d)
	if !strings.Contains(logs.String(), `level=WARN msg="sources.douyin: 2 threads polled every cycle need at least 2 calls a cycle, but rate 1/h allows 1`) {
		t.Errorf("no capacity warning in the log:\n%s", logs.String())
	}
}
