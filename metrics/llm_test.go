package metrics_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/autoreplyd/autoreplyd/llm"
	"github.com/autoreplyd/autoreplyd/llm/llmtest"
	"github.com/autoreplyd/autoreplyd/metrics"
	"github.com/autoreplyd/autoreplyd/metrics/metricstest"
)

func TestLLMSeriesExistAtZero(t *testing.T) {
	t.Parallel()
	m := metrics.New("v1")
	m.DeclareLLM([]string{"deepseek"})
	body := scrape(t, m)
	for _, w := range []string{
		`autoreplyd_llm_requests_total{llm="deepseek",status="ok"} 0`,
		`autoreplyd_llm_requests_total{llm="deepseek",status="refused"} 0`,
		`autoreplyd_llm_requests_total{llm="deepseek",status="retry"} 0`,
		`autoreplyd_llm_requests_total{llm="deepseek",status="fatal"} 0`,
		`autoreplyd_llm_tokens_total{kind="prompt",llm="deepseek"} 0`,
		`autoreplyd_llm_tokens_total{kind="completion",llm="deepseek"} 0`,
		`autoreplyd_llm_request_duration_seconds_count{llm="deepseek"} 0`,
	} {
		if !strings.Contains(body, w) {
			t.Errorf("/metrics lacks %q", w)
		}
	}
}

// TestLLMRequestsCounted drives real drafts against the imitation and
// counts them as a caller does: the tokens the server billed, refused
// answers' included, and one series per outcome.
func TestLLMRequestsCounted(t *testing.T) {
	t.Parallel()
	s := llmtest.New(t)
	spec := s.Spec("deepseek")
	spec.Rate = rate.Inf
	c, err := llm.New(spec)
	if err != nil {
		t.Fatal(err)
	}
	m := metrics.New("v1")
	m.DeclareLLM([]string{"deepseek"})
	s.Queue(llmtest.OK("有黑色的哦"), llmtest.Refusal("不能回答"), llmtest.Status(429), llmtest.Status(401), llmtest.OK("好的"))
	req := llm.Request{System: "你是客服", Prompt: "有黑色吗？"}
	for range 5 {
		start := time.Now()
		d, err := c.Draft(context.Background(), req)
		var e *llm.Error
		if errors.As(err, &e) && d.PromptTokens == 0 {
			d.PromptTokens, d.CompletionTokens = e.Usage.PromptTokens, e.Usage.CompletionTokens
		}
		m.LLMRequest("deepseek", err, d.PromptTokens, d.CompletionTokens, time.Since(start))
	}
	for status, want := range map[string]float64{"ok": 2, "refused": 1, "retry": 1, "fatal": 1} {
		if got := metricstest.Value(t, m, "autoreplyd_llm_requests_total", "llm", "deepseek", "status", status); got != want {
			t.Errorf("requests{status=%s} = %v, want %v", status, got, want)
		}
	}
	prompt, completion := s.Tokens()
	if got := metricstest.Value(t, m, "autoreplyd_llm_tokens_total", "llm", "deepseek", "kind", "prompt"); got != float64(prompt) || prompt == 0 {
		t.Errorf("prompt tokens = %v, the server billed %d", got, prompt)
	}
	if got := metricstest.Value(t, m, "autoreplyd_llm_tokens_total", "llm", "deepseek", "kind", "completion"); got != float64(completion) || completion == 0 {
		t.Errorf("completion tokens = %v, the server billed %d", got, completion)
	}
	if got := metricstest.Value(t, m, "autoreplyd_llm_request_duration_seconds", "llm", "deepseek"); got != 5 {
		t.Errorf("duration samples = %v, want 5", got)
	}

	// A Draft that gave up waiting for the rate made no request: not
	// counted. Nor does a key reach a label.
	slow := s.Spec("deepseek")
	slow.Rate, slow.Burst = rate.Every(time.Hour), 1
	sc, err := llm.New(slow)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := sc.Draft(ctx, req); err != nil {
		t.Fatal(err)
	}
	_, err = sc.Draft(ctx, req)
	if llm.Sent(err) {
		t.Fatalf("err = %v, want a rate wait given up", err)
	}
	m.LLMRequest("deepseek", err, 0, 0, 0)
	if got := metricstest.Value(t, m, "autoreplyd_llm_requests_total", "llm", "deepseek", "status", "retry"); got != 1 {
		t.Errorf("requests{status=retry} = %v after an unsent draft, want 1", got)
	}
	if strings.Contains(scrape(t, m), s.Key()) {
		t.Error("the key reached /metrics")
	}
}

func TestLLMStatus(t *testing.T) {
	t.Parallel()
	for err, want := range map[error]string{
		nil:                                  "ok",
		&llm.Error{Kind: llm.KindRefused}:    "refused",
		&llm.Error{Kind: llm.KindFatal}:      "fatal",
		&llm.Error{Kind: llm.KindRetry}:      "retry",
		errors.New("not one of package llm"): "retry",
	} {
		if got := metrics.LLMStatus(err); got != want {
			t.Errorf("LLMStatus(%v) = %q, want %q", err, got, want)
		}
	}
	var m *metrics.Metrics
	m.DeclareLLM([]string{"x"})
	m.LLMRequest("x", nil, 1, 1, time.Second) // nil Metrics: no-op
}
