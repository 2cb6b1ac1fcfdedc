package metrics_test

import (
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/autoreplyd/autoreplyd/metrics"
	"github.com/autoreplyd/autoreplyd/metrics/metricstest"
	"github.com/autoreplyd/autoreplyd/model"
)

// scrape returns what /metrics serves.
func scrape(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("/metrics: %d", rec.Code)
	}
	body, _ := io.ReadAll(rec.Result().Body)
	return string(body)
}

func declared(t *testing.T) *metrics.Metrics {
	t.Helper()
	m := metrics.New("v1.2.3")
	m.Declare([]metrics.Source{{Platform: "douyin", Name: "douyin"}, {Platform: "wechat", Name: "wechat"}}, []metrics.Answerer{{Platform: "douyin", Responder: "kitkot"}, {Platform: "wechat", Responder: "wechat"}}, []string{"source:douyin", "source:wechat", "responder:kitkot"})
	m.DeclareCodes("douyin", douyinCodes)
	m.Reload(true, []string{"price", "spam"})
	return m
}

// douyinCodes stand for a source's known codes (JustOneAPI's).
var douyinCodes = []string{"100", "300", "301", "302", "303", "400", "500", "600", "601", "602"}

func TestSeriesExistAtZeroFromStart(t *testing.T) {
	t.Parallel()
	m := declared(t)
	body := scrape(t, m)
	want := []string{
		`autoreplyd_build_info{goversion="go`,
		`version="v1.2.3"} 1`,
		`autoreplyd_rules_reload_success 1`,
		`autoreplyd_rules_loaded 2`,
		`autoreplyd_polls_total{platform="douyin",source="douyin"} 0`,
		`autoreplyd_polls_total{platform="wechat",source="wechat"} 0`,
		`autoreplyd_polls_deferred_total{platform="douyin",source="douyin"} 0`,
		`autoreplyd_polls_deferred_total{platform="wechat",source="wechat"} 0`,
		`autoreplyd_api_calls_total{platform="douyin",source="douyin"} 0`,
		`autoreplyd_poll_errors_total{code="retry",platform="douyin",source="douyin"} 0`,
		`autoreplyd_rule_matches_total{rule="price"} 0`,
		`autoreplyd_rule_errors_total{rule="spam"} 0`,
		`autoreplyd_reply_latency_seconds_count{platform="douyin"} 0`,
		`autoreplyd_paused{scope="responder:kitkot"} 0`,
		`autoreplyd_paused{scope="source:wechat"} 0`,
		`autoreplyd_cycle_duration_seconds_count 0`,
		`autoreplyd_last_cycle_timestamp_seconds 0`,
		`autoreplyd_cycles_skipped_total 0`,
		`go_goroutines `,
		`process_start_time_seconds `,
	}
	for _, s := range metrics.Statuses {
		want = append(want, fmt.Sprintf(`autoreplyd_replies_total{platform="wechat",responder="wechat",status=%q} 0`, s))
	}
	for _, d := range metrics.Dispositions {
		want = append(want, fmt.Sprintf(`autoreplyd_comments_fetched_total{disposition=%q,platform="douyin"} 0`, d))
	}
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("/metrics lacks %q", w)
		}
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", body)
	}
	if n := testutil.CollectAndCount(m.Registry(), "autoreplyd_replies_total"); n != 2*len(metrics.Statuses) {
		t.Errorf("replies series: %d", n)
	}
	if n, err := testutil.GatherAndCount(m.Registry(), "autoreplyd_reload_timestamp_seconds"); err != nil || n != 0 {
		t.Errorf("a misspelt name is counted: %d %v", n, err)
	}
	if probs, err := testutil.GatherAndLint(m.Registry()); err != nil || len(probs) != 0 {
		t.Errorf("lint problems: %v %v", probs, err)
	}
}

func TestCountersMove(t *testing.T) {
	t.Parallel()
	m := declared(t)
	m.Poll("douyin", "douyin", 3)
	m.Poll("douyin", "douyin", 0)
	m.Deferred("douyin", "douyin", 7)
	m.Deferred("douyin", "douyin", 0)
	m.PollError("douyin", "douyin", &model.SourceError{Action: model.SourceStop, Code: "601", Msg: "insufficient balance"})
	m.PollError("douyin", "douyin", &model.SourceError{Action: model.SourceRetry, Msg: "HTTP 503"})
	m.PollError("douyin", "douyin", errors.New("plain"))
	m.PollError("douyin", "douyin", nil)
	m.Comment("douyin", model.DispositionEvaluated)
	m.Comment("douyin", model.DispositionEvaluated)
	m.Comment("douyin", model.DispositionSelf)
	m.RuleMatch("price")
	m.RuleError("spam")
	m.Reply("douyin", "kitkot", model.StatusSent, 42*time.Second)
	m.Reply("douyin", "kitkot", model.StatusSent, -1) // unknown latency: counted, not observed
	m.Reply("douyin", "kitkot", model.StatusFailed, time.Hour)
	m.Reply("douyin", "kitkot", "", 0)
	m.Cycle(2 * time.Second)

	body := scrape(t, m)
	for _, w := range []string{
		`autoreplyd_polls_total{platform="douyin",source="douyin"} 2`,
		`autoreplyd_api_calls_total{platform="douyin",source="douyin"} 3`,
		`autoreplyd_polls_deferred_total{platform="douyin",source="douyin"} 7`,
		`autoreplyd_polls_deferred_total{platform="wechat",source="wechat"} 0`,
		`autoreplyd_poll_errors_total{code="601",platform="douyin",source="douyin"} 1`,
		`autoreplyd_poll_errors_total{code="retry",platform="douyin",source="douyin"} 1`,
		`autoreplyd_poll_errors_total{code="error",platform="douyin",source="douyin"} 1`,
		`autoreplyd_comments_fetched_total{disposition="evaluated",platform="douyin"} 2`,
		`autoreplyd_comments_fetched_total{disposition="self",platform="douyin"} 1`,
		`autoreplyd_comments_fetched_total{disposition="backlog",platform="douyin"} 0`,
		`autoreplyd_rule_matches_total{rule="price"} 1`,
		`autoreplyd_rule_errors_total{rule="spam"} 1`,
		`autoreplyd_rule_errors_total{rule="price"} 0`,
		`autoreplyd_replies_total{platform="douyin",responder="kitkot",status="sent"} 2`,
		`autoreplyd_replies_total{platform="douyin",responder="kitkot",status="failed"} 1`,
		`autoreplyd_replies_total{platform="douyin",responder="kitkot",status="unknown"} 0`,
		`autoreplyd_reply_latency_seconds_count{platform="douyin"} 1`,
		`autoreplyd_reply_latency_seconds_sum{platform="douyin"} 42`,
		`autoreplyd_reply_latency_seconds_bucket{platform="douyin",le="30"} 0`,
		`autoreplyd_reply_latency_seconds_bucket{platform="douyin",le="60"} 1`,
		`autoreplyd_cycle_duration_seconds_count 1`,
	} {
		if !strings.Contains(body, w) {
			t.Errorf("/metrics lacks %q", w)
		}
	}
	if strings.Contains(body, "autoreplyd_last_cycle_timestamp_seconds 0\n") {
		t.Error("last cycle timestamp not set")
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", body)
	}
}

func TestReloadAndPauses(t *testing.T) {
	t.Parallel()
	m := declared(t)
	ts := gauge(m, "autoreplyd_rules_reload_timestamp_seconds")
	if ts < float64(time.Now().Add(-time.Minute).Unix()) {
		t.Fatalf("reload timestamp %v", ts)
	}
	m.Reload(false, []string{"price", "spam"})
	body := scrape(t, m)
	if !strings.Contains(body, "autoreplyd_rules_reload_success 0\n") {
		t.Errorf("refused reload not recorded:\n%s", body)
	}
	m.Reload(true, []string{"price", "spam", "thanks"})
	body = scrape(t, m)
	for _, w := range []string{"autoreplyd_rules_reload_success 1\n", "autoreplyd_rules_loaded 3\n", `autoreplyd_rule_matches_total{rule="thanks"} 0`} {
		if !strings.Contains(body, w) {
			t.Errorf("after a good reload, /metrics lacks %q", w)
		}
	}

	m.SetPaused([]string{"responder:kitkot", "source:weibo"})
	body = scrape(t, m)
	for _, w := range []string{`autoreplyd_paused{scope="responder:kitkot"} 1`, `autoreplyd_paused{scope="source:weibo"} 1`, `autoreplyd_paused{scope="source:douyin"} 0`} {
		if !strings.Contains(body, w) {
			t.Errorf("while paused, /metrics lacks %q", w)
		}
	}
	m.SetPaused(nil)
	body = scrape(t, m)
	for _, w := range []string{`autoreplyd_paused{scope="responder:kitkot"} 0`, `autoreplyd_paused{scope="source:weibo"} 0`} {
		if !strings.Contains(body, w) {
			t.Errorf("after the pauses, /metrics lacks %q", w)
		}
	}
}

// gauge reads one unlabelled gauge from the gathered families (-1: none).
func gauge(m *metrics.Metrics, name string) float64 {
	mfs, err := m.Registry().Gather()
	if err != nil {
		return -1
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	return -1
}

func TestNilIsNoOp(t *testing.T) {
	t.Parallel()
	var m *metrics.Metrics
	m.Declare([]metrics.Source{{Platform: "douyin", Name: "douyin"}}, []metrics.Answerer{{Platform: "douyin", Responder: "kitkot"}}, []string{"source:douyin"})
	m.Reload(true, []string{"a"})
	m.Poll("douyin", "douyin", 1)
	m.Deferred("douyin", "douyin", 1)
	m.PollError("douyin", "douyin", errors.New("x"))
	m.Comment("douyin", model.DispositionSelf)
	m.RuleMatch("a")
	m.RuleError("a")
	m.Reply("douyin", "kitkot", model.StatusSent, time.Second)
	m.SetPaused([]string{"source:douyin"})
	m.Cycle(time.Second)
	if m.Registry() != nil {
		t.Fatal("nil Metrics has a registry")
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 404 {
		t.Fatalf("nil Metrics handler: %d", rec.Code)
	}
}

// No secret reaches a label: only codes are kept of a source error, and a
// "code" that is really a message is replaced.
func TestNoSecretsInLabels(t *testing.T) {
	t.Parallel()
	const secret = "jo-TOKEN-metrics-7c1e"
	m := declared(t)
	m.PollError("douyin", "douyin", &model.SourceError{Action: model.SourceRetry,
		Msg: "Get \"https://api.justoneapi.com/api/douyin/get-video-sub-comment/v1?token=" + secret + "\": connection refused"})
	m.PollError("douyin", "douyin", &model.SourceError{Action: model.SourceStop, Code: "100", Msg: "bad token " + secret})
	m.PollError("douyin", "douyin", &model.SourceError{Action: model.SourceRetry, Code: "token=" + secret})
	m.PollError("douyin", "douyin", fmt.Errorf("poll: %w", errors.New("token "+secret)))
	body := scrape(t, m)
	if strings.Contains(body, secret) || strings.Contains(body, "justoneapi") {
		t.Fatalf("a secret reached /metrics:\n%s", body)
	}
	for _, w := range []string{
		`autoreplyd_poll_errors_total{code="retry",platform="douyin",source="douyin"} 1`,
		`autoreplyd_poll_errors_total{code="100",platform="douyin",source="douyin"} 1`,
		`autoreplyd_poll_errors_total{code="other",platform="douyin",source="douyin"} 1`,
		`autoreplyd_poll_errors_total{code="error",platform="douyin",source="douyin"} 1`,
	} {
		if !strings.Contains(body, w) {
			t.Errorf("/metrics lacks %q", w)
		}
	}
}

func TestErrorCode(t *testing.T) {
	t.Parallel()
	m := declared(t)
	m.DeclareCodes("wechat", []string{"-1", "88000", "a b", "other"}) // "a b" and "other" are no codes
	for _, tc := range []struct {
		platform string
		err      error
		want     string
	}{
		{"douyin", &model.SourceError{Action: model.SourceBackoff, Code: "302"}, "302"},
		{"douyin", &model.SourceError{Action: model.SourcePause}, "pause"},
		{"douyin", &model.SourceError{Action: model.SourceSkipThread}, "skip_thread"},
		{"wechat", fmt.Errorf("wrapped: %w", &model.SourceError{Action: model.SourceStop, Code: "-1"}), "-1"},
		{"douyin", &model.SourceError{Code: "-1"}, "other"},   // wechat's, not douyin's
		{"weibo", &model.SourceError{Code: "302"}, "other"},   // a platform that declared nothing
		{"douyin", &model.SourceError{Code: "3021"}, "other"}, // looks like a code, is not one
		{"douyin", &model.SourceError{Code: strings.Repeat("9", 40)}, "other"},
		{"wechat", &model.SourceError{Code: "a b"}, "other"},
		{"douyin", errors.New("x"), "error"},
	} {
		if got := m.ErrorCode(tc.platform, tc.err); got != tc.want {
			t.Errorf("ErrorCode(%s, %v) = %q, want %q", tc.platform, tc.err, got, tc.want)
		}
	}
	var nilM *metrics.Metrics
	if got := nilM.ErrorCode("douyin", &model.SourceError{Code: "302"}); got != "other" {
		t.Errorf("nil Metrics: %q", got)
	}
}

// A platform answering a new code at every call, or echoing a secret as its
// code, cannot grow the poll error series past its known codes plus one
// ("other"), nor put the secret into a scrape.
func TestPollErrorCodesAreBounded(t *testing.T) {
	t.Parallel()
	const secret = "jo-TOKEN-a1b2c3d4e5"
	m := declared(t)
	const calls = 5000
	for i := range calls {
		// Every known code once, then a new code per call, some of them
		// shaped like a secret or holding it.
		code := strconv.Itoa(1000 + i)
		switch {
		case i < len(douyinCodes):
			code = douyinCodes[i]
		case i%7 == 0:
			code = secret
		case i%11 == 0:
			code = "tok_" + secret[:8] + strconv.Itoa(i)
		}
		m.PollError("douyin", "douyin", &model.SourceError{Action: model.SourceRetry, Code: code, Msg: "token " + secret})
	}
	known := map[string]bool{}
	for _, c := range douyinCodes {
		known[c] = true
	}
	var codes []string
	for _, ls := range metricstest.Series(t, m, "autoreplyd_poll_errors_total") {
		if ls["platform"] != "douyin" || ls["code"] == model.SourceRetry.String() {
			continue // retry: the action word declared at 0
		}
		codes = append(codes, ls["code"])
		if !known[ls["code"]] && ls["code"] != metrics.OtherCode {
			t.Errorf("code label %q is neither known nor %q", ls["code"], metrics.OtherCode)
		}
	}
	if len(codes) > len(douyinCodes)+1 {
		t.Fatalf("%d code series from %d distinct codes, want at most %d: %v", len(codes), calls, len(douyinCodes)+1, codes)
	}
	if got := metricstest.Value(t, m, "autoreplyd_poll_errors_total", "platform", "douyin", "source", "douyin", "code", metrics.OtherCode); got != calls-float64(len(douyinCodes)) {
		t.Errorf("other = %v, want %d", got, calls-len(douyinCodes))
	}
	if got := metricstest.Value(t, m, "autoreplyd_poll_errors_total", "platform", "douyin", "source", "douyin", "code", "601"); got != 1 {
		t.Errorf("601 = %v, want 1", got)
	}
	if body := scrape(t, m); strings.Contains(body, secret) || strings.Contains(body, secret[:8]) {
		t.Fatalf("a secret reached /metrics")
	}
}
