// Package metrics holds autoreplyd's Prometheus metrics (autoreplyd_*) on a
// registry of their own, with the Go and process collectors.
//
// Every series the daemon knows of at start exists at 0 from start: the
// platforms and pause scopes are declared from the bindings, rule names from
// the loaded rules (and from each reloaded set), statuses and dispositions
// from the model's constants. Label values come from fixed sets: platform
// names, rule names and pause scopes from the configuration, status words,
// and each platform's known business codes as its source declares them
// (DeclareCodes), any other code being "other". Never a URL, a message, an
// error text or a code a platform made up: no secret can reach a scrape,
// and no platform answer can add series without bound.
//
// The methods take plain values, and a nil *Metrics is a no-op, so that
// code and tests without metrics need not build one.
package metrics

import (
	"errors"
	"maps"
	"net/http"
	"runtime"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/autoreplyd/autoreplyd/model"
)

const namespace = "autoreplyd"

// Statuses are the reply outcomes counted by autoreplyd_replies_total (every
// settled status; pending is not an outcome).
var Statuses = []string{
	model.StatusSent, model.StatusFailed, model.StatusUnknown,
	model.StatusRetrying, model.StatusDryRun, model.StatusSkipped,
	model.StatusFlagged, model.StatusHeld, model.StatusExpired,
}

// InboxStatuses are the statuses of the claims waiting for a person,
// counted by autoreplyd_inbox.
var InboxStatuses = []string{model.StatusFlagged, model.StatusHeld}

// NotificationStatuses are the outcomes counted by
// autoreplyd_notifications_total, per notification (a digest counts each
// notification it carries).
var NotificationStatuses = []string{"sent", "retrying", "failed"}

// Dispositions are the kinds of fetched comments counted by
// autoreplyd_comments_fetched_total.
var Dispositions = []string{model.DispositionEvaluated, model.DispositionBacklog, model.DispositionSelf}

// LatencyBuckets are the reply latency histogram's upper bounds in seconds:
// 5s to 6h (a reply is answered within a cycle or two; retries and pauses
// make the tail).
var LatencyBuckets = []float64{5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 21600}

// CycleBuckets are the cycle duration histogram's upper bounds in seconds.
var CycleBuckets = []float64{0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600}

// Metrics is autoreplyd's metrics. The zero value is not usable: use New.
// A nil *Metrics ignores every call.
type Metrics struct {
	reg *prometheus.Registry

	reloadSuccess prometheus.Gauge
	reloadTime    prometheus.Gauge
	rulesLoaded   prometheus.Gauge
	polls         *prometheus.CounterVec
	deferred      *prometheus.CounterVec
	pollErrors    *prometheus.CounterVec
	apiCalls      *prometheus.CounterVec
	comments      *prometheus.CounterVec
	ruleMatches   *prometheus.CounterVec
	ruleErrors    *prometheus.CounterVec
	replies       *prometheus.CounterVec
	latency       *prometheus.HistogramVec
	paused        *prometheus.GaugeVec
	cycle         prometheus.Histogram
	lastCycle     prometheus.Gauge
	skipped       prometheus.Counter
	notifications *prometheus.CounterVec
	inbox         *prometheus.GaugeVec
	llm           *llmMetrics
	db            *dbMetrics
	leases        *leaseMetrics

	mu       sync.Mutex
	ruleErrs map[string]int             // rule errors since start, for the console
	scopes   map[string]bool            // the pause scopes with a series
	codes    map[string]map[string]bool // platform -> its known business codes
}

// New builds the metrics on a fresh registry. version is the build's version
// ("" = the module version from the build info, else "dev").
func New(version string) *Metrics {
	if version == "" {
		version = "dev"
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			version = bi.Main.Version
		}
	}
	reg := prometheus.NewRegistry()
	m := &Metrics{reg: reg, ruleErrs: map[string]int{}, scopes: map[string]bool{}, codes: map[string]map[string]bool{}}
	f := func(c prometheus.Collector) { reg.MustRegister(c) }

	f(collectors.NewGoCollector())
	f(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	buildInfo := prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: namespace, Name: "build_info",
		Help: "Always 1; the labels tell the version of autoreplyd and of Go it was built with."}, []string{"version", "goversion"})
	f(buildInfo)
	buildInfo.WithLabelValues(version, runtime.Version()).Set(1)

	m.reloadSuccess = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Name: "rules_reload_success",
		Help: "1 if the last rules (re)load succeeded, 0 if it was refused (the last good rules keep running)."})
	m.reloadTime = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Name: "rules_reload_timestamp_seconds",
		Help: "Unix time of the last successful rules (re)load."})
	m.rulesLoaded = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Name: "rules_loaded",
		Help: "Number of rules in the live rule set."})
	m.polls = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "polls_total",
		Help: "Thread polls, by platform and source (the config section's name)."}, []string{"platform", "source"})
	m.deferred = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "polls_deferred_total",
		Help: "Thread polls not made because adaptive polling deferred a quiet thread (max_interval), by platform and source."}, []string{"platform", "source"})
	m.pollErrors = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "poll_errors_total",
		Help: "Failed thread polls, by platform, source and code: the platform's business code when it is one its source knows (any other is other), else what the poller does about it (retry, backoff, pause, stop, skip_thread; error when untyped)."},
		[]string{"platform", "source", "code"})
	m.apiCalls = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "api_calls_total",
		Help: "Source API calls (requests made to poll threads; billed by JustOneAPI), by platform and source."}, []string{"platform", "source"})
	m.comments = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "comments_fetched_total",
		Help: "New comments recorded, by platform and disposition (evaluated by the rules, backlog at first sight, self: our own)."},
		[]string{"platform", "disposition"})
	m.ruleMatches = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "rule_matches_total",
		Help: "Comments a rule matched and acted on (a claim was recorded, answered or skipped), by rule."}, []string{"rule"})
	m.ruleErrors = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "rule_errors_total",
		Help: "Rule evaluations that failed at run time (evaluation went on with the next rule), by rule."}, []string{"rule"})
	m.replies = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "replies_total",
		Help: "Answer outcomes, by platform, responder (the config section's name; empty for an answer no responder took up) and status (sent, failed, unknown, retrying, dry_run, skipped, flagged, held, expired); a retried answer counts once per outcome. Decisions made with the CLI (rejected, handled) are not counted here: see autoreplyd_inbox and the history."},
		[]string{"platform", "responder", "status"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace, Name: "reply_latency_seconds",
		Help: "Time from a comment's creation to our answer being sent, by platform.", Buckets: LatencyBuckets}, []string{"platform"})
	m.paused = prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: namespace, Name: "paused",
		Help: "1 while a source or responder (scope source:NAME or responder:NAME) is paused, stopped or backing off, else 0."},
		[]string{"scope"})
	m.cycle = prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: namespace, Name: "cycle_duration_seconds",
		Help: "Duration of poll cycles.", Buckets: CycleBuckets})
	m.lastCycle = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Name: "last_cycle_timestamp_seconds",
		Help: "Unix time the last poll cycle ended."})
	m.skipped = prometheus.NewCounter(prometheus.CounterOpts{Namespace: namespace, Name: "cycles_skipped_total",
		Help: "Schedule ticks that started no cycle because the previous cycle was still running."})
	m.notifications = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "notifications_total",
		Help: "Notifications by channel (the notify section's name) and outcome: sent (accepted by the channel), retrying (a delivery failed; tried again later), failed (given up). A digest counts each notification it carries."},
		[]string{"channel", "status"})
	m.inbox = prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: namespace, Name: "inbox",
		Help: "Claims waiting for a person, by status (flagged, held), as of the last cycle."}, []string{"status"})
	for _, s := range InboxStatuses {
		m.inbox.WithLabelValues(s)
	}
	for _, c := range []prometheus.Collector{m.reloadSuccess, m.reloadTime, m.rulesLoaded, m.polls, m.deferred, m.pollErrors,
		m.apiCalls, m.comments, m.ruleMatches, m.ruleErrors, m.replies, m.latency, m.paused, m.cycle, m.lastCycle, m.skipped,
		m.notifications, m.inbox} {
		f(c)
	}
	m.llm = newLLMMetrics(f)
	m.db = newDBMetrics(f)
	m.leases = newLeaseMetrics(f)
	return m
}

// Registry is the registry the metrics are on (tests gather from it).
func (m *Metrics) Registry() *prometheus.Registry {
	if m == nil {
		return nil
	}
	return m.reg
}

// Handler serves the metrics in the Prometheus exposition formats.
func (m *Metrics) Handler() http.Handler {
	if m == nil {
		return http.NotFoundHandler()
	}
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// Source names the series of one source: its platform and its name.
type Source struct{ Platform, Name string }

// Answerer names the reply series of one responder answering one platform.
type Answerer struct{ Platform, Responder string }

// Declare creates the series of sources, answerers and pause scopes at 0:
// every source's polls, deferred polls, API calls and retry errors, its
// platform's comments by disposition and latency; every answerer's replies
// by status; every scope's paused gauge.
func (m *Metrics) Declare(sources []Source, answerers []Answerer, scopes []string) {
	if m == nil {
		return
	}
	for _, s := range sources {
		m.polls.WithLabelValues(s.Platform, s.Name)
		m.deferred.WithLabelValues(s.Platform, s.Name)
		m.apiCalls.WithLabelValues(s.Platform, s.Name)
		m.pollErrors.WithLabelValues(s.Platform, s.Name, model.SourceRetry.String())
		for _, d := range Dispositions {
			m.comments.WithLabelValues(s.Platform, d)
		}
		m.latency.WithLabelValues(s.Platform)
	}
	for _, a := range answerers {
		for _, s := range Statuses {
			m.replies.WithLabelValues(a.Platform, a.Responder, s)
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range scopes {
		if !m.scopes[s] {
			m.scopes[s] = true
			m.paused.WithLabelValues(s).Set(0)
		}
	}
}

// Reload records a rules (re)load: ok says whether it succeeded; rules are
// the names of the live rules (after it), whose series are created at 0.
func (m *Metrics) Reload(ok bool, rules []string) {
	if m == nil {
		return
	}
	for _, r := range rules {
		m.ruleMatches.WithLabelValues(r)
		m.ruleErrors.WithLabelValues(r)
	}
	m.rulesLoaded.Set(float64(len(rules)))
	if ok {
		m.reloadSuccess.Set(1)
		m.reloadTime.Set(float64(time.Now().UnixNano()) / 1e9)
	} else {
		m.reloadSuccess.Set(0)
	}
}

// Poll counts one thread poll of a source and the API calls it made.
func (m *Metrics) Poll(platform, source string, calls int) {
	if m == nil {
		return
	}
	m.polls.WithLabelValues(platform, source).Inc()
	if calls > 0 {
		m.apiCalls.WithLabelValues(platform, source).Add(float64(calls))
	}
}

// Deferred counts n thread polls of a source that adaptive polling
// deferred (quiet threads not due yet).
func (m *Metrics) Deferred(platform, source string, n int) {
	if m == nil || n <= 0 {
		return
	}
	m.deferred.WithLabelValues(platform, source).Add(float64(n))
}

// OtherCode is the code label of a business code its platform's source did
// not declare known.
const OtherCode = "other"

// DeclareCodes sets the business codes of platform that
// autoreplyd_poll_errors_total labels by themselves: the fixed set its
// source knows (documented codes, the ones it acts on). Every other code of
// platform is labelled OtherCode, so a platform answering a new code at
// every call, or echoing a secret as its code, adds one series at most and
// shows nothing. A platform never declared has every code labelled
// OtherCode. Declaring again replaces the set.
func (m *Metrics) DeclareCodes(platform string, codes []string) {
	if m == nil {
		return
	}
	set := make(map[string]bool, len(codes))
	for _, c := range codes {
		if isCode(c) && c != OtherCode {
			set[c] = true
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.codes[platform] = set
}

// PollError counts a failed poll of a source. Only the error's code is kept
// (see ErrorCode), never its text.
func (m *Metrics) PollError(platform, source string, err error) {
	if m == nil || err == nil {
		return
	}
	m.pollErrors.WithLabelValues(platform, source, m.ErrorCode(platform, err)).Inc()
}

// ErrorCode is the code label of a source error of platform: the
// platform's business code when it is one declared known (DeclareCodes),
// OtherCode for any other business code, else the action the poller takes
// (retry, backoff, pause, stop, skip_thread), else "error" (untyped).
func (m *Metrics) ErrorCode(platform string, err error) string {
	var se *model.SourceError
	if !errors.As(err, &se) {
		return "error"
	}
	if se.Code == "" {
		return se.Action.String()
	}
	if m == nil {
		return OtherCode
	}
	m.mu.Lock()
	known := m.codes[platform][se.Code]
	m.mu.Unlock()
	if known {
		return se.Code
	}
	return OtherCode
}

// isCode reports whether s is short and made of letters, digits, '_', '-'
// and '.' only: a code, not a message (a sanity check of the declared sets).
func isCode(s string) bool {
	if len(s) > 24 {
		return false
	}
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9', r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r == '_', r == '-', r == '.':
		default:
			return false
		}
	}
	return true
}

// Comment counts one new comment of platform recorded with disposition.
func (m *Metrics) Comment(platform, disposition string) {
	if m == nil {
		return
	}
	m.comments.WithLabelValues(platform, disposition).Inc()
}

// RuleMatch counts a comment rule matched and acted on.
func (m *Metrics) RuleMatch(rule string) {
	if m == nil {
		return
	}
	m.ruleMatches.WithLabelValues(rule).Inc()
}

// RuleError counts a run-time failure of rule.
func (m *Metrics) RuleError(rule string) {
	if m == nil {
		return
	}
	m.ruleErrors.WithLabelValues(rule).Inc()
	m.mu.Lock()
	m.ruleErrs[rule]++
	m.mu.Unlock()
}

// RuleErrors are the run-time errors of each rule since the start (the
// console's rules page; the database does not hold them).
func (m *Metrics) RuleErrors() map[string]int {
	if m == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return maps.Clone(m.ruleErrs)
}

// Reply counts an answer outcome of platform by responder with status. For
// a sent answer, latency (the comment's creation to the answer) is observed
// too; a negative latency means unknown and is not observed.
func (m *Metrics) Reply(platform, responder, status string, latency time.Duration) {
	if m == nil || status == "" {
		return
	}
	m.replies.WithLabelValues(platform, responder, status).Inc()
	if status == model.StatusSent && latency >= 0 {
		m.latency.WithLabelValues(platform).Observe(latency.Seconds())
	}
}

// DeclareChannels creates the notification series of channels at 0.
func (m *Metrics) DeclareChannels(channels []string) {
	if m == nil {
		return
	}
	for _, c := range channels {
		for _, s := range NotificationStatuses {
			m.notifications.WithLabelValues(c, s)
		}
	}
}

// Notification counts one notification's delivery outcome on channel.
func (m *Metrics) Notification(channel, status string) {
	if m == nil {
		return
	}
	m.notifications.WithLabelValues(channel, status).Inc()
}

// SetInbox sets the inbox gauge: the claims waiting for a person, by
// status (absent statuses are 0).
func (m *Metrics) SetInbox(counts map[string]int) {
	if m == nil {
		return
	}
	for _, s := range InboxStatuses {
		m.inbox.WithLabelValues(s).Set(float64(counts[s]))
	}
}

// SetPaused sets the paused gauge: 1 for the scopes given, 0 for every other
// scope known (declared or paused before).
func (m *Metrics) SetPaused(scopes []string) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range scopes {
		m.scopes[s] = true
	}
	for s := range m.scopes {
		v := 0.0
		if slices.Contains(scopes, s) {
			v = 1
		}
		m.paused.WithLabelValues(s).Set(v)
	}
}

// CycleSkipped records a schedule tick that found the previous cycle still
// running.
func (m *Metrics) CycleSkipped() {
	if m == nil {
		return
	}
	m.skipped.Inc()
}

// Cycle records one poll cycle that took d and ended now.
func (m *Metrics) Cycle(d time.Duration) {
	if m == nil {
		return
	}
	m.cycle.Observe(d.Seconds())
	m.lastCycle.Set(float64(time.Now().UnixNano()) / 1e9)
}
