package poller_test

// The poller's metrics hooks, through real cycles with faults.

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/metrics"
	"github.com/autoreplyd/autoreplyd/metrics/metricstest"
	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/poller"
	"github.com/autoreplyd/autoreplyd/simulator"
)

func wantMetric(t *testing.T, m *metrics.Metrics, want float64, name string, labels ...string) {
	t.Helper()
	if got := metricstest.Value(t, m, name, labels...); got != want {
		t.Errorf("%s%v = %v, want %v", name, labels, got, want)
	}
}

func TestMetricsThroughCycles(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{rules: `rules:
  - name: bulk
    when: 'int(labels["n"]) > 1'
    reply: 'bulk'
` + strings.TrimPrefix(baseRules, "rules:\n")})
	m := metrics.New("test")
	m.Reload(true, []string{"bulk", "spam", "price", "thanks", "love"})
	p := h.newPoller(func(o *poller.Options) {
		withBreaker(o)
		o.Metrics = m
	})
	const douyin = model.PlatformDouyin

	// Every series exists at 0 before the first cycle.
	for _, s := range metrics.Statuses {
		wantMetric(t, m, 0, "autoreplyd_replies_total", "platform", douyin, "responder", responderName, "status", s)
	}
	for _, d := range metrics.Dispositions {
		wantMetric(t, m, 0, "autoreplyd_comments_fetched_total", "platform", douyin, "disposition", d)
	}
	wantMetric(t, m, 0, "autoreplyd_polls_total", "platform", douyin, "source", douyin)
	wantMetric(t, m, 0, "autoreplyd_api_calls_total", "platform", douyin, "source", douyin)
	wantMetric(t, m, 0, "autoreplyd_paused", "scope", "source:douyin")
	wantMetric(t, m, 0, "autoreplyd_paused", "scope", "responder:kitkot")
	wantMetric(t, m, 0, "autoreplyd_rule_matches_total", "rule", "price")
	wantMetric(t, m, 0, "autoreplyd_reply_latency_seconds", "platform", douyin)
	wantMetric(t, m, 0, "autoreplyd_cycle_duration_seconds")

	// First sight: the backlog.
	h.initThreads(p)
	wantMetric(t, m, 1, "autoreplyd_polls_total", "platform", douyin, "source", douyin)
	wantMetric(t, m, 1, "autoreplyd_api_calls_total", "platform", douyin, "source", douyin)
	wantMetric(t, m, 1, "autoreplyd_comments_fetched_total", "platform", douyin, "disposition", model.DispositionBacklog)
	wantMetric(t, m, 1, "autoreplyd_cycle_duration_seconds")

	// One answered, one spam (skipped), one left retrying by a 503; the
	// rule "bulk" fails on each evaluated comment.
	h.add(threadA, "10000000000000002", "小明", "多少钱")
	h.add(threadA, "10000000000000003", "广告", "加微信")
	h.kk.Faults.Push(simulator.Fault{Kind: simulator.FaultHTTPStatus, Status: http.StatusServiceUnavailable})
	h.add(threadA, "10000000000000004", "小红", "价格呢")
	st := h.cycle(p)
	if st.Sent != 1 || st.Skipped != 1 || st.Retrying != 1 {
		t.Fatalf("stats: %+v", st)
	}
	wantMetric(t, m, 3, "autoreplyd_comments_fetched_total", "platform", douyin, "disposition", model.DispositionEvaluated)
	wantMetric(t, m, 2, "autoreplyd_rule_matches_total", "rule", "price")
	wantMetric(t, m, 1, "autoreplyd_rule_matches_total", "rule", "spam")
	wantMetric(t, m, 0, "autoreplyd_rule_matches_total", "rule", "thanks")
	wantMetric(t, m, 3, "autoreplyd_rule_errors_total", "rule", "bulk")
	wantMetric(t, m, 1, "autoreplyd_replies_total", "platform", douyin, "responder", responderName, "status", model.StatusSent)
	wantMetric(t, m, 1, "autoreplyd_replies_total", "platform", douyin, "responder", responderName, "status", model.StatusSkipped)
	wantMetric(t, m, 1, "autoreplyd_replies_total", "platform", douyin, "responder", responderName, "status", model.StatusRetrying)
	wantMetric(t, m, 0, "autoreplyd_replies_total", "platform", douyin, "responder", responderName, "status", model.StatusFailed)
	wantMetric(t, m, 1, "autoreplyd_reply_latency_seconds", "platform", douyin)

	// The retry goes out when due (a second outcome of the same answer),
	// before the poll: both our posted replies show up in the thread as self.
	h.clk.Advance(5 * time.Minute)
	if st := h.cycle(p); st.Sent != 1 {
		t.Fatalf("retry cycle: %+v", st)
	}
	wantMetric(t, m, 2, "autoreplyd_replies_total", "platform", douyin, "responder", responderName, "status", model.StatusSent)
	wantMetric(t, m, 2, "autoreplyd_rule_matches_total", "rule", "price") // not counted again
	wantMetric(t, m, 2, "autoreplyd_comments_fetched_total", "platform", douyin, "disposition", model.DispositionSelf)
	wantMetric(t, m, 2, "autoreplyd_reply_latency_seconds", "platform", douyin)

	// A source error: counted by its code.
	h.jo.Faults.Push(simulator.Fault{Kind: simulator.FaultCode, Code: 301, Msg: "busy, token=" + testToken})
	h.cycle(p)
	wantMetric(t, m, 1, "autoreplyd_poll_errors_total", "platform", douyin, "source", douyin, "code", "301")
	// A code JustOneAPI does not document is "other", never a label of its own.
	h.jo.Faults.Push(simulator.Fault{Kind: simulator.FaultCode, Code: 48151623, Msg: "new"})
	h.cycle(p)
	wantMetric(t, m, 1, "autoreplyd_poll_errors_total", "platform", douyin, "source", douyin, "code", metrics.OtherCode)
	wantMetric(t, m, -1, "autoreplyd_poll_errors_total", "platform", douyin, "source", douyin, "code", "48151623")

	// The breaker trips: failed answers, one held, the responder paused.
	h.refuse(5)
	for i := range 6 {
		h.add(threadA, "7001000000000000"+string(rune('1'+i)), "甲", "多少钱")
	}
	if st := h.cycle(p); st.Failed != 5 || st.Retrying != 1 {
		t.Fatalf("breaker cycle: %+v", st)
	}
	wantMetric(t, m, 5, "autoreplyd_replies_total", "platform", douyin, "responder", responderName, "status", model.StatusFailed)
	wantMetric(t, m, 2, "autoreplyd_replies_total", "platform", douyin, "responder", responderName, "status", model.StatusRetrying)
	wantMetric(t, m, 1, "autoreplyd_paused", "scope", "responder:kitkot")
	wantMetric(t, m, 0, "autoreplyd_paused", "scope", "source:douyin")

	// After the pause the gauge is 0 again and the held answer is sent.
	h.clk.Advance(testBreakerPause + time.Minute)
	if st := h.cycle(p); st.Sent != 1 {
		t.Fatalf("after the pause: %+v", st)
	}
	wantMetric(t, m, 0, "autoreplyd_paused", "scope", "responder:kitkot")
	wantMetric(t, m, 3, "autoreplyd_replies_total", "platform", douyin, "responder", responderName, "status", model.StatusSent)

	polls := metricstest.Value(t, m, "autoreplyd_polls_total", "platform", douyin, "source", douyin)
	calls := metricstest.Value(t, m, "autoreplyd_api_calls_total", "platform", douyin, "source", douyin)
	if polls != 7 || calls < polls || calls != float64(h.jo.CallCount()) {
		t.Errorf("polls %v, calls %v, JustOneAPI saw %d calls", polls, calls, h.jo.CallCount())
	}

	// Latencies: comments are created about an hour before the clock.
	mfs, _ := m.Registry().Gather()
	for _, mf := range mfs {
		if mf.GetName() == "autoreplyd_reply_latency_seconds" {
			hs := mf.GetMetric()[0].GetHistogram()
			if hs.GetSampleCount() != 3 || hs.GetSampleSum() < 3*3000 {
				t.Errorf("latency: %d samples, sum %v", hs.GetSampleCount(), hs.GetSampleSum())
			}
		}
	}

	// No secret, no message in the scrape.
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Result().Body)
	for _, s := range []string{testToken, testAPIKey, testSessionKey, "busy", "Failed to publish"} {
		if strings.Contains(string(body), s) {
			t.Errorf("/metrics contains %q", s)
		}
	}
}

// A stopped source shows as paused (stopped until restart).
func TestMetricsSourceStopPaused(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{})
	m := metrics.New("test")
	p := h.newPoller(func(o *poller.Options) { o.Metrics = m })
	h.initThreads(p)
	h.jo.Faults.Push(simulator.Fault{Kind: simulator.FaultCode, Code: 601})
	h.cycle(p)
	wantMetric(t, m, 1, "autoreplyd_poll_errors_total", "platform", model.PlatformDouyin, "source", model.PlatformDouyin, "code", "601")
	wantMetric(t, m, 1, "autoreplyd_paused", "scope", "source:douyin")
	wantMetric(t, m, 0, "autoreplyd_paused", "scope", "responder:kitkot")
}
