package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/autoreplyd/autoreplyd/llm"
)

// LLMStatuses are the outcomes counted by autoreplyd_llm_requests_total:
// a draft (ok), an answer that is not one (refused), a failure retried on a
// later cycle (retry), a failure that pauses the endpoint (fatal). The
// error's Reason is not a label: the history keeps it, and four values per
// endpoint keep the series bounded whatever a provider answers.
var LLMStatuses = []string{"ok", llm.KindRefused.String(), llm.KindRetry.String(), llm.KindFatal.String()}

// LLMTokenKinds are the kinds of tokens counted by
// autoreplyd_llm_tokens_total.
var LLMTokenKinds = []string{"prompt", "completion"}

// LLMBuckets are the draft request duration histogram's upper bounds in
// seconds: a hosted model answers a short draft in one to five seconds, a
// local one on a CPU in up to half a minute; the top is the longest
// timeout worth setting.
var LLMBuckets = []float64{0.25, 0.5, 1, 2, 3, 5, 8, 13, 20, 30, 60, 120}

// llmMetrics are the language model endpoints' series.
type llmMetrics struct {
	requests *prometheus.CounterVec
	tokens   *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// newLLMMetrics builds the llm series and registers them with register.
func newLLMMetrics(register func(prometheus.Collector)) *llmMetrics {
	l := &llmMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "llm_requests_total",
			Help: "Draft requests made to a language model endpoint (the llm section's name), by outcome: ok (a draft), refused (a refusal, content filter, tool calls, truncated or empty answer: flagged, never sent), retry (timeout, connection error, 429, 5xx: retried later), fatal (another 4xx: the endpoint is paused)."},
			[]string{"llm", "status"}),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "llm_tokens_total",
			Help: "Tokens a language model endpoint billed, by kind (prompt, completion); refused answers count too."},
			[]string{"llm", "kind"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace, Name: "llm_request_duration_seconds",
			Help: "Duration of draft requests to a language model endpoint, failed ones included.", Buckets: LLMBuckets},
			[]string{"llm"}),
	}
	register(l.requests)
	register(l.tokens)
	register(l.duration)
	return l
}

// DeclareLLM creates the series of the endpoints (their names) at 0.
func (m *Metrics) DeclareLLM(endpoints []string) {
	if m == nil {
		return
	}
	for _, e := range endpoints {
		for _, s := range LLMStatuses {
			m.llm.requests.WithLabelValues(e, s)
		}
		for _, k := range LLMTokenKinds {
			m.llm.tokens.WithLabelValues(e, k)
		}
		m.llm.duration.WithLabelValues(e)
	}
}

// LLMStatus is the status label of a draft's outcome: "ok" for nil, else
// the error's llm.Kind (refused, retry, fatal; an error not of package llm
// is retry).
func LLMStatus(err error) string {
	if err == nil {
		return "ok"
	}
	return llm.KindOf(err).String()
}

// LLMRequest counts one draft request to endpoint: its outcome (see
// LLMStatus), the tokens it was billed (a refused answer's too) and how
// long it took. A Draft that made no request (it gave up waiting for the
// endpoint's rate: llm.Sent is false) is not counted.
func (m *Metrics) LLMRequest(endpoint string, err error, promptTokens, completionTokens int64, took time.Duration) {
	if m == nil || !llm.Sent(err) {
		return
	}
	m.llm.requests.WithLabelValues(endpoint, LLMStatus(err)).Inc()
	if promptTokens > 0 {
		m.llm.tokens.WithLabelValues(endpoint, "prompt").Add(float64(promptTokens))
	}
	if completionTokens > 0 {
		m.llm.tokens.WithLabelValues(endpoint, "completion").Add(float64(completionTokens))
	}
	if took >= 0 {
		m.llm.duration.WithLabelValues(endpoint).Observe(took.Seconds())
	}
}
