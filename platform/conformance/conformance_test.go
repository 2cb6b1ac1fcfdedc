package conformance

// The harness: the failure modes every platform meets, the network a case
// runs on, the real engine a case runs through, and the leak checks.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/internal/redact"
	"github.com/autoreplyd/autoreplyd/internal/syncbuf"
	"github.com/autoreplyd/autoreplyd/metrics"
	"github.com/autoreplyd/autoreplyd/metrics/metricstest"
	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/platform"
	"github.com/autoreplyd/autoreplyd/poller"
	"github.com/autoreplyd/autoreplyd/rules"
	"github.com/autoreplyd/autoreplyd/simulator"
	"github.com/autoreplyd/autoreplyd/store"
)

const (
	// callTimeout bounds a call that is meant to succeed: far beyond any
	// loopback exchange, even under the race detector.
	callTimeout = 10 * time.Second
	// slowTimeout bounds a call that is meant to time out; slowDelay is how
	// long the imitation holds such a call (it lets go as soon as the
	// client hangs up).
	slowTimeout = 300 * time.Millisecond
	slowDelay   = time.Minute
)

// failure is one way an exchange fails: a closed port, connections reset
// before the request is written, or a fault of the imitation's queue.
type failure struct {
	name    string
	refused bool // the platform's address refuses connections
	slow    bool // the call under test must time out: it gets slowTimeout
	resets  int  // connections reset before the request is written
	fault   *simulator.Fault
	times   int // the fault is queued this many times (default 1)
}

// mode is a failure every platform meets, with what every source and every
// responder makes of it unless its entry says otherwise.
type mode struct {
	failure
	source model.SourceAction
	send   outcome
}

// outcome is what a responder's send must come to.
type outcome struct {
	ok        bool // a success (the rest is unused)
	kind      model.FailureKind
	reason    string
	replyOnly bool
	// posted is how many replies the imitation must have accepted.
	posted int
}

func fault(f simulator.Fault) *simulator.Fault { return &f }

// modes are the failures every source and responder meets. A fault whose
// answer has a body (4xx, 5xx, broken JSON) gets one that echoes every
// secret of the case (see withEcho).
var modes = []mode{
	{failure{name: "refused", refused: true},
		model.SourceRetry, outcome{kind: model.Retryable, reason: "connect"}},
	{failure{name: "reset before the write", resets: 1},
		model.SourceRetry, outcome{kind: model.Retryable, reason: "connect"}},
	{failure{name: "dropped before processing", fault: fault(simulator.Fault{Kind: simulator.FaultDrop})},
		// The request was written whole: the client cannot tell this from
		// a drop after the reply was posted.
		model.SourceRetry, outcome{kind: model.Unknown, reason: "dropped"}},
	{failure{name: "dropped after processing", fault: fault(simulator.Fault{Kind: simulator.FaultDropAfter})},
		model.SourceRetry, outcome{kind: model.Unknown, reason: "dropped", posted: 1}},
	{failure{name: "timeout before processing", slow: true, fault: fault(simulator.Fault{Kind: simulator.FaultSlow, Delay: slowDelay})},
		model.SourceRetry, outcome{kind: model.Unknown, reason: "timeout"}},
	{failure{name: "timeout after processing", slow: true, fault: fault(simulator.Fault{Kind: simulator.FaultSlowAfter, Delay: slowDelay})},
		model.SourceRetry, outcome{kind: model.Unknown, reason: "timeout", posted: 1}},
	{failure{name: "HTTP 403", fault: fault(simulator.Fault{Kind: simulator.FaultHTTPStatus, Status: 403})},
		model.SourceRetry, outcome{kind: model.Permanent, reason: "http_403"}},
	{failure{name: "HTTP 429", fault: fault(simulator.Fault{Kind: simulator.FaultHTTPStatus, Status: 429})},
		model.SourceRetry, outcome{kind: model.Retryable, reason: "http_429"}},
	{failure{name: "HTTP 500", fault: fault(simulator.Fault{Kind: simulator.FaultHTTPStatus, Status: 500})},
		model.SourceRetry, outcome{kind: model.Unknown, reason: "http_500"}},
	{failure{name: "HTTP 503", fault: fault(simulator.Fault{Kind: simulator.FaultHTTPStatus, Status: 503})},
		model.SourceRetry, outcome{kind: model.Retryable, reason: "http_503"}},
	{failure{name: "broken JSON", fault: fault(simulator.Fault{Kind: simulator.FaultBrokenJSON})},
		model.SourceRetry, outcome{kind: model.Unknown, reason: "bad_answer"}},
}

// sourceModes are the modes a source meets: one that lists never acts
// after the request, so "after processing" is no different from before.
func sourceModes() []mode {
	var out []mode
	for _, m := range modes {
		if m.fault == nil || (m.fault.Kind != simulator.FaultDropAfter && m.fault.Kind != simulator.FaultSlowAfter) {
			out = append(out, m)
		}
	}
	return out
}

// code is one documented business code (or refusal) of a platform, as its
// imitation answers it, with what the source or responder must make of it.
type code struct {
	failure
	source model.SourceAction // for a source's codes
	send   outcome            // for a responder's codes
}

// codeFault is a code's failure: the fault f, named after its code.
func codeFault(name string, f simulator.Fault) failure {
	return failure{name: "code " + name, fault: &f}
}

// --- the network ------------------------------------------------------------

// env is one case's network: the servers its imitation is served on, behind
// a Resets listener, and the client every source and responder of the case
// sends through.
type env struct {
	t       *testing.T
	f       failure
	resets  simulator.Resets
	client  *http.Client
	timeout time.Duration // the timeout of the calls under test
}

func newEnv(t *testing.T, f failure) *env {
	e := &env{t: t, f: f, timeout: callTimeout}
	if f.slow {
		e.timeout = slowTimeout
	}
	e.client = e.resets.Client(nil)
	t.Cleanup(e.client.CloseIdleConnections)
	return e
}

// serve serves h and returns its base URL; in the refused mode, the address
// of a port nothing listens on.
func (e *env) serve(h http.Handler) string {
	if e.f.refused {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			e.t.Fatal(err)
		}
		addr := ln.Addr().String()
		_ = ln.Close()
		return "http://" + addr
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Listener = e.resets.Listener(srv.Listener)
	srv.Start()
	e.t.Cleanup(srv.Close)
	return srv.URL
}

// inject sets the case's failure off: the resets, and the fault queued on
// faults with a body that echoes every secret. Connections kept alive by
// the case's setup (a WeChat token fetched ahead) are closed first, so the
// call under test opens its own.
func (e *env) inject(faults *simulator.Faults, secrets []string) {
	e.client.CloseIdleConnections()
	e.resets.Push(e.f.resets)
	if e.f.fault == nil {
		return
	}
	fl := withEcho(*e.f.fault, echo(secrets))
	for range max(e.f.times, 1) {
		faults.Push(fl)
	}
}

// --- secrets ----------------------------------------------------------------

// forms are every spelling of every secret that must not leak.
func forms(secrets []string) []string {
	var out []string
	for _, s := range secrets {
		out = append(out, redact.Forms(s)...)
	}
	return out
}

// echo is a platform message quoting every spelling of every secret: what a
// platform that echoes the request (its URL, form or JSON body) would say.
func echo(secrets []string) string {
	return "回声 " + strings.Join(forms(secrets), " | ")
}

// withEcho makes f's answer quote text: a business code's message, an
// error page, a broken answer.
func withEcho(f simulator.Fault, text string) simulator.Fault {
	switch f.Kind {
	case simulator.FaultCode:
		f.Msg = strings.TrimSpace(f.Msg + " " + text)
	case simulator.FaultHTTPStatus:
		if f.Body == "" {
			f.Body = "<html><body>" + http.StatusText(f.Status) + ": " + text + "</body></html>"
		}
	case simulator.FaultBrokenJSON:
		if f.Body == "" {
			f.Body = `{"code": 0, "msg": "` + text
		}
	}
	return f
}

// leaks lists where a spelling of a secret shows in texts (by where it
// was found); the suite wants none.
func leaks(secrets []string, texts map[string]string) []string {
	var out []string
	for where, text := range texts {
		for _, f := range forms(secrets) {
			if i := strings.Index(text, f); i >= 0 {
				out = append(out, fmt.Sprintf("%s holds %q: ...%s...", where, f, text[max(i-60, 0):min(i+len(f)+20, len(text))]))
				break
			}
		}
	}
	return out
}

// errorText is every text of err a person or a program may see.
func errorText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error() + fmt.Sprintf(" %v %+v %#v", err, err, err)
}

// --- the engine ---------------------------------------------------------------

// answerAll answers every comment.
const answerAll = `rules:
  - name: all
    when: 'true'
    reply: '谢谢支持，价格请看橱窗'
`

// run is what one engine cycle left behind.
type run struct {
	stats   poller.Stats
	metrics *metrics.Metrics
	history []store.HistoryRow
	texts   map[string]string // log, history, metrics, database
}

// runEngine runs one cycle of the real engine over binding and responders,
// as the daemon builds it (without the daemon's own redactor on logs and
// the store: the suite checks what the platform packages let through):
// a store on a temporary file, the rules answerAll, a logger writing to a
// buffer, the metrics. It is the one place the suite builds poller.Options.
func runEngine(t *testing.T, b poller.Binding, responders map[string]platform.Responder) run {
	t.Helper()
	ctx := context.Background()
	dbf := filepath.Join(t.TempDir(), "autoreplyd.db")
	st, err := store.Open(ctx, dbf)
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	set, err := rules.LoadBytes("rules.yaml", []byte(answerAll), rules.Options{})
	if err != nil {
		t.Fatalf("rules: %v", err)
	}
	var logs syncbuf.Buffer
	m := metrics.New("conformance")
	pacing := map[string]poller.Pacing{}
	for name := range responders {
		pacing[name] = poller.Pacing{}
	}
	p, err := poller.New(poller.Options{
		Store:      st,
		Bindings:   []poller.Binding{b},
		Responders: responders,
		Pacing:     pacing,
		Logger:     slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Metrics:    m,
	}, func() *rules.Set { return set })
	if err != nil {
		t.Fatalf("poller.New: %v", err)
	}
	r := run{stats: p.Cycle(ctx), metrics: m}
	if r.history, err = st.History(ctx, store.Filter{}); err != nil {
		t.Fatalf("History: %v", err)
	}
	scrape := httptest.NewRecorder()
	m.Handler().ServeHTTP(scrape, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	// The database's bytes, every table and the write-ahead log: a pause
	// reason, a thread's state, anything the store keeps.
	var db []byte
	for _, f := range []string{dbf, dbf + "-wal"} {
		b, err := os.ReadFile(f)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		db = append(db, b...)
	}
	r.texts = map[string]string{
		"the log":      logs.String(),
		"the history":  fmt.Sprintf("%#v", r.history),
		"the metrics":  scrape.Body.String(),
		"the database": string(db),
	}
	t.Logf("log:\n%s", logs.String())
	return r
}

// wantNoLeak fails the test for each leak of a secret into err or what the
// run left behind.
func wantNoLeak(t *testing.T, secrets []string, err error, r run) {
	t.Helper()
	texts := map[string]string{"the error": errorText(err)}
	for k, v := range r.texts {
		texts[k] = v
	}
	for _, l := range leaks(secrets, texts) {
		t.Error(l)
	}
}

// --- sources ------------------------------------------------------------------

// sourceCase is one source under the suite.
type sourceCase struct {
	name string // the platform
	// build serves a fresh imitation on e and returns the source pointed
	// at it, sending through e.client with e.timeout.
	build func(e *env) sourceUnder
	// actions overrides the modes' action for this source, by mode name.
	actions map[string]model.SourceAction
	codes   []code
}

// sourceUnder is a source built for one case.
type sourceUnder struct {
	source platform.Source
	faults *simulator.Faults // where the case's fault is queued
	// secrets are every secret the source holds; called before and after
	// the run (WeChat's access token is known once fetched).
	secrets func() []string
}

// recordingSource remembers the errors of its source's polls.
type recordingSource struct {
	platform.Source
	mu   sync.Mutex
	errs []error
}

func (r *recordingSource) PollThread(ctx context.Context, th model.Thread, prev model.ThreadState, known platform.KnownFunc) (model.PollResult, error) {
	res, err := r.Source.PollThread(ctx, th, prev, known)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, err)
	return res, err
}

// KnownCodes are the source's, so that the metrics label its codes as the
// daemon's would.
func (r *recordingSource) KnownCodes() []string {
	if cs, ok := r.Source.(platform.CodeSource); ok {
		return cs.KnownCodes()
	}
	return nil
}

// idleResponder stands for the responder of a source's binding: a failed
// poll finds nothing to answer.
type idleResponder struct{}

func (idleResponder) Name() string { return "idle" }
func (idleResponder) Send(context.Context, model.Reply) (model.SendResult, error) {
	return model.SendResult{}, errors.New("idle responder: nothing should be answered")
}

// testSource runs failure f against sc through the engine and checks the
// action and the leaks.
func testSource(t *testing.T, sc sourceCase, f failure, want model.SourceAction) {
	e := newEnv(t, f)
	su := sc.build(e)
	e.inject(su.faults, su.secrets())
	rec := &recordingSource{Source: su.source}
	r := runEngine(t, poller.Binding{Source: rec, Responder: idleResponder{}.Name()},
		map[string]platform.Responder{idleResponder{}.Name(): idleResponder{}})

	if len(rec.errs) != 1 {
		t.Fatalf("%d polls, want 1", len(rec.errs))
	}
	err := rec.errs[0]
	var se *model.SourceError
	if !errors.As(err, &se) {
		t.Fatalf("poll error %v (%T), want a *model.SourceError", err, err)
	}
	if se.Action != want {
		t.Errorf("action %s, want %s: %v", se.Action, want, err)
	}
	if se.Msg == "" {
		t.Errorf("an error without a message: %#v", se)
	}
	// The engine saw the same error: counted under its code or action.
	label := r.metrics.ErrorCode(sc.name, err)
	if v := metricstest.Value(t, r.metrics, "autoreplyd_poll_errors_total", "platform", sc.name, "source", sc.name, "code", label); v != 1 {
		t.Errorf("autoreplyd_poll_errors_total{code=%q} = %v, want 1", label, v)
	}
	if r.stats.Sent+r.stats.Failed+r.stats.Unknown+r.stats.Retrying != 0 {
		t.Errorf("a failed poll answered something: %+v", r.stats)
	}
	wantNoLeak(t, su.secrets(), err, r)
}

func TestSources(t *testing.T) {
	for _, sc := range sources {
		for _, m := range sourceModes() {
			want := m.source
			if a, ok := sc.actions[m.name]; ok {
				want = a
			}
			t.Run(sc.name+"/"+m.name, func(t *testing.T) {
				t.Parallel()
				testSource(t, sc, m.failure, want)
			})
		}
		for _, c := range sc.codes {
			t.Run(sc.name+"/"+c.name, func(t *testing.T) {
				t.Parallel()
				testSource(t, sc, c.failure, c.source)
			})
		}
	}
}

// --- responders -----------------------------------------------------------------

// responderCase is one responder under the suite.
type responderCase struct {
	name string // the responder's config name
	// build serves a fresh imitation on e holding the comment to answer,
	// and returns the responder pointed at it, sending through e.client
	// with e.timeout.
	build func(e *env) responderUnder
	// outcomes overrides the modes' outcome for this responder, by mode
	// name.
	outcomes map[string]outcome
	codes    []code
}

// responderUnder is a responder built for one case.
type responderUnder struct {
	responder platform.Responder
	// source lists the comment to answer, which the imitation holds.
	source platform.Source
	faults *simulator.Faults // where the case's fault is queued (the reply endpoint's)
	posts  func() int        // replies the imitation accepted
	// secrets are every secret the responder holds; called before and
	// after the run.
	secrets func() []string
}

// feed is a source of one thread holding one comment: the comment a
// responder's case answers, as the platform's own source would list it.
type feed struct {
	platform string
	thread   model.Thread
	comment  model.Comment
}

func (f *feed) Platform() string        { return f.platform }
func (f *feed) Threads() []model.Thread { return []model.Thread{f.thread} }
func (f *feed) PollThread(_ context.Context, th model.Thread, prev model.ThreadState, _ platform.KnownFunc) (model.PollResult, error) {
	st := prev
	st.Platform, st.ThreadID, st.Initialized = f.platform, th.ID, true
	st.Polls++
	return model.PollResult{Comments: []model.Comment{f.comment}, State: st, Calls: 1}, nil
}

// recordingResponder remembers its responder's sends.
type recordingResponder struct {
	platform.Responder
	mu   sync.Mutex
	errs []error
}

func (r *recordingResponder) Send(ctx context.Context, reply model.Reply) (model.SendResult, error) {
	res, err := r.Responder.Send(ctx, reply)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, err)
	return res, err
}

// statusOf is the history status a send's outcome leaves.
func statusOf(o outcome) string {
	switch {
	case o.ok:
		return model.StatusSent
	case o.kind == model.Retryable:
		return model.StatusRetrying
	case o.kind == model.Unknown:
		return model.StatusUnknown
	}
	return model.StatusFailed
}

// testResponder runs failure f against rc through the engine and checks the
// outcome, what the imitation accepted, the history and the leaks.
func testResponder(t *testing.T, rc responderCase, f failure, want outcome) {
	e := newEnv(t, f)
	ru := rc.build(e)
	e.inject(ru.faults, ru.secrets())
	rec := &recordingResponder{Responder: ru.responder}
	r := runEngine(t, poller.Binding{Source: ru.source, Responder: rec.Name(), Backlog: poller.BacklogAnswer},
		map[string]platform.Responder{rec.Name(): rec})

	if len(rec.errs) != 1 {
		t.Fatalf("%d sends, want 1", len(rec.errs))
	}
	err := rec.errs[0]
	switch {
	case want.ok:
		if err != nil {
			t.Errorf("send failed: %v", err)
		}
	default:
		var se *model.SendError
		if !errors.As(err, &se) {
			t.Fatalf("send error %v (%T), want a *model.SendError", err, err)
		}
		if se.Kind != want.kind || se.Reason != want.reason || se.ReplyOnly != want.replyOnly {
			t.Errorf("send error %s/%s replyOnly %v, want %s/%s replyOnly %v: %v",
				se.Kind, se.Reason, se.ReplyOnly, want.kind, want.reason, want.replyOnly, err)
		}
		if se.Msg == "" {
			t.Errorf("an error without a message: %#v", se)
		}
	}
	posts := ru.posts()
	if posts != want.posted {
		t.Errorf("the imitation accepted %d replies, want %d", posts, want.posted)
	}
	// Whatever the platform: retryable means the reply cannot have gone
	// out, or a retry would post it twice.
	if model.KindOf(err) == model.Retryable && err != nil && posts != 0 {
		t.Errorf("a retryable failure after the imitation accepted the reply")
	}
	if len(r.history) != 1 || r.history[0].Status != statusOf(want) {
		t.Errorf("history %+v, want one row %s", r.history, statusOf(want))
	}
	wantNoLeak(t, ru.secrets(), err, r)
}

func TestResponders(t *testing.T) {
	for _, rc := range responders {
		for _, m := range modes {
			want := m.send
			if o, ok := rc.outcomes[m.name]; ok {
				want = o
			}
			t.Run(rc.name+"/"+m.name, func(t *testing.T) {
				t.Parallel()
				testResponder(t, rc, m.failure, want)
			})
		}
		for _, c := range rc.codes {
			t.Run(rc.name+"/"+c.name, func(t *testing.T) {
				t.Parallel()
				testResponder(t, rc, c.failure, c.send)
			})
		}
	}
}

// --- the checks themselves -----------------------------------------------------

// leaky fails every send with an error quoting its secret.
type leaky struct{ secret string }

func (l leaky) Name() string { return "leaky" }
func (l leaky) Send(context.Context, model.Reply) (model.SendResult, error) {
	return model.SendResult{}, &model.SendError{Kind: model.Permanent, Reason: "platform_1", Msg: "refused " + l.secret}
}

// The checks find a secret wherever a careless platform package would let
// it through: a suite whose checks cannot fail proves nothing.
func TestLeakChecksFindLeaks(t *testing.T) {
	const secret = `leak/+y "<中`
	l := leaky{secret}
	r := runEngine(t, poller.Binding{Source: &feed{platform: "leaky", thread: model.Thread{ID: "1", PostID: "1"},
		comment: model.Comment{Platform: "leaky", ID: "2", ThreadID: "1", PostID: "1", Text: "多少钱", CreatedAt: time.Now()}},
		Responder: l.Name(), Backlog: poller.BacklogAnswer}, map[string]platform.Responder{l.Name(): l})
	_, err := l.Send(context.Background(), model.Reply{})
	texts := map[string]string{"the error": errorText(err)}
	for k, v := range r.texts {
		texts[k] = v
	}
	found := strings.Join(leaks([]string{secret}, texts), "\n")
	for _, where := range []string{"the error", "the log", "the history", "the database"} {
		if !strings.Contains(found, where+" holds") {
			t.Errorf("no leak found in %s; found:\n%s", where, found)
		}
	}
	// Every spelling counts.
	for _, f := range redact.Forms(secret) {
		if len(leaks([]string{secret}, map[string]string{"x": "a " + f + " b"})) != 1 {
			t.Errorf("the spelling %q is not found", f)
		}
	}
}
