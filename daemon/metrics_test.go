package daemon

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/autoreplyd/autoreplyd/internal/testutil"
	"github.com/autoreplyd/autoreplyd/metrics/metricstest"
	"github.com/autoreplyd/autoreplyd/simulator"
)

// /metrics is served on the health mux: the build, the rules (re)loads, and
// every series at 0 from start; a refused reload shows.
func TestMetricsOnHealthMux(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := load(t, writeConfig(t, dir, closedURL(t), "@every 1h", rulesV1, ""))
	d, err := New(t.Context(), cfg, Options{Logger: quietLogger(), Version: "v9.8.7"})
	if err != nil {
		t.Fatal(err)
	}
	defer testutil.Close(t, d)
	h := d.HealthHandler()

	code, body := get(t, h, "/metrics")
	if code != 200 {
		t.Fatalf("/metrics: %d %q", code, body)
	}
	for _, w := range []string{
		`autoreplyd_build_info{goversion="go`, `version="v9.8.7"} 1`,
		"autoreplyd_rules_reload_success 1\n",
		"autoreplyd_rules_loaded 2\n",
		`autoreplyd_rule_matches_total{rule="price"} 0`,
		`autoreplyd_rule_errors_total{rule="spam"} 0`,
		`autoreplyd_polls_total{platform="douyin",source="douyin"} 0`,
		`autoreplyd_replies_total{platform="douyin",responder="kitkot",status="sent"} 0`,
		`autoreplyd_paused{scope="source:douyin"} 0`,
		`autoreplyd_paused{scope="responder:kitkot"} 0`,
	} {
		if !strings.Contains(body, w) {
			t.Errorf("/metrics lacks %q", w)
		}
	}

	testutil.WriteFile(t, cfg.Rules, rulesBroken)
	if err := d.Reload(); err == nil {
		t.Fatal("broken rules reloaded")
	}
	_, body = get(t, h, "/metrics")
	if !strings.Contains(body, "autoreplyd_rules_reload_success 0\n") || !strings.Contains(body, "autoreplyd_rules_loaded 2\n") {
		t.Errorf("after a refused reload:\n%s", body)
	}
	testutil.WriteFile(t, cfg.Rules, rulesV2)
	if err := d.Reload(); err != nil {
		t.Fatal(err)
	}
	_, body = get(t, h, "/metrics")
	for _, w := range []string{"autoreplyd_rules_reload_success 1\n", "autoreplyd_rules_loaded 3\n", `autoreplyd_rule_matches_total{rule="thanks"} 0`} {
		if !strings.Contains(body, w) {
			t.Errorf("after a good reload, /metrics lacks %q", w)
		}
	}
	for _, s := range []string{token, apiKey, sessionKey} {
		if strings.Contains(body, s) {
			t.Errorf("a secret is in /metrics")
		}
	}
}

// A schedule tick that finds the previous cycle still running starts no
// cycle: it is logged and counted in autoreplyd_cycles_skipped_total, and
// the cycle it found goes on to its end.
func TestSkippedTicksCounted(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	var calls atomic.Int32
	jo := simulator.NewJustOneAPI(token)
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == simulator.JustOneAPIPath && calls.Add(1) == 1 {
			<-release // the first cycle's first call, until the ticks have been skipped
		}
		jo.ServeHTTP(w, r)
	})
	srv := httptest.NewServer(slow)
	defer srv.Close()
	defer close(release)
	d, logs, stop := runLogged(t, load(t, writeConfig(t, t.TempDir(), srv.URL, "@every 1s", rulesV1, "")))
	const skips = "schedule tick skipped: the previous cycle is still running"
	testutil.WaitFor(t, "two skipped ticks", func() bool { return strings.Count(logs.String(), skips) >= 2 })
	if strings.Contains(logs.String(), "cycle done") {
		t.Fatalf("a cycle ended while the first was held:\n%s", logs.String())
	}
	// The counter is raised before the line is logged, and ticks are a
	// second apart: the count holds every skip logged before it is read,
	// and at most one more than were logged after.
	before := strings.Count(logs.String(), skips)
	n := metricstest.Value(t, d.metrics, "autoreplyd_cycles_skipped_total")
	after := strings.Count(logs.String(), skips)
	if n < float64(before) || n > float64(after+1) {
		t.Errorf("autoreplyd_cycles_skipped_total %v, with %d skips logged before it was read and %d after", n, before, after)
	}
	release <- struct{}{} // not closed yet: the deferred close does
	testutil.WaitFor(t, "the held cycle's end", func() bool { return strings.Contains(logs.String(), "cycle done") })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}
