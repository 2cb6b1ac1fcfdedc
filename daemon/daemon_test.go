package daemon

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/autoreplyd/autoreplyd/config"
	"github.com/autoreplyd/autoreplyd/internal/syncbuf"
	"github.com/autoreplyd/autoreplyd/internal/testutil"
	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/platform/kitkot"
	"github.com/autoreplyd/autoreplyd/poller"
	"github.com/autoreplyd/autoreplyd/simulator"
	"github.com/autoreplyd/autoreplyd/store"
)

const (
	token      = "jo-token-daemon-test"
	apiKey     = "kk-key-daemon-test"
	sessionKey = "kk-session-daemon-test"
	threadA    = "7251524159191958327"
	threadB    = "7251524159191958400"
	aweme      = "7251517975340027197"
)

const rulesV1 = `rules:
  - name: spam
    when: 'containsAny(text, ["加微信", "vx"])'
  - name: price
    when: 'text matches "多少钱|价格|how much"'
    reply: '{{ user.nickname }} 你好，价格请看橱窗'
`

const rulesV2 = rulesV1 + `  - name: thanks
    when: 'text contains "好看"'
    reply: '谢谢{{ user.nickname }}！'
`

// A rule that does not compile: an unknown name.
const rulesBroken = rulesV1 + `  - name: broken
    when: 'txet contains "x"'
`

// writeConfig writes rules and a config (douyin through kitkot, at base)
// into dir; extra is appended to the config verbatim. There is no random
// pause before each send (send_jitter): it would only make tests wait.
func writeConfig(t *testing.T, dir, base, schedule, rules, extra string) string {
	t.Helper()
	testutil.WriteFile(t, filepath.Join(dir, "rules.yaml"), rules)
	cfg := fmt.Sprintf(`database: autoreplyd.db
rules: rules.yaml
schedule: %q
timezone: Asia/Shanghai
listen: ""
send_jitter: 0s
sources:
  douyin:
    base_url: %s
    token: %s
    responder: kitkot
    self_uids: ["99000000000000001"]
    backlog: skip
    timeout: 5s
    threads:
      - comment_id: %q
        aweme_id: %q
        labels: {campaign: spring}
      - comment_id: %q
        aweme_id: %q
responders:
  kitkot:
    base_url: %s/api
    api_key: %s
    session_key: %s
    timeout: 3s
    rate: 30/m
    burst: 2
    daily_cap: 400
%s`, schedule, base, token, threadA, aweme, threadB, aweme, base, apiKey, sessionKey, extra)
	path := filepath.Join(dir, "config.yaml")
	testutil.WriteFile(t, path, cfg)
	return path
}

func load(t *testing.T, path string) *config.Config {
	t.Helper()
	cfg, err := config.Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// closedURL is the URL of a listener that is already closed: every request
// to it fails at once.
func closedURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := "http://" + ln.Addr().String()
	testutil.Close(t, ln)
	return u
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestBuildGood(t *testing.T) {
	t.Parallel()
	cfg := load(t, writeConfig(t, t.TempDir(), "http://127.0.0.1:1", "@every 1m", rulesV1, ""))
	bindings, rs, pacing, err := Build(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(bindings) != 1 {
		t.Fatalf("%d bindings, want 1", len(bindings))
	}
	b := bindings[0]
	if b.Source.Platform() != model.PlatformDouyin || b.Responder != "kitkot" || b.Backlog != config.BacklogSkip {
		t.Errorf("binding %s -> %s, backlog %s", b.Source.Platform(), b.Responder, b.Backlog)
	}
	if !slices.Equal(b.SelfUIDs, []string{"99000000000000001"}) {
		t.Errorf("self uids %v", b.SelfUIDs)
	}
	th := b.Source.Threads()
	if len(th) != 2 || th[0].ID != threadA || th[0].PostID != aweme || th[0].Labels["campaign"] != "spring" || th[1].ID != threadB {
		t.Errorf("threads %+v", th)
	}
	if len(rs) != 1 || rs["kitkot"] == nil {
		t.Errorf("responders %v, want kitkot only", rs)
	}
	want := poller.Pacing{Limit: rate.Limit(30.0 / 60), Burst: 2, DailyCap: 400, AvoidRepeat: config.DefaultAvoidRepeat,
		BreakerFailures: config.DefaultBreakerFailures, BreakerPause: config.DefaultBreakerPause}
	if got := pacing["kitkot"]; got != want || len(pacing) != 1 {
		t.Errorf("pacing %+v, want kitkot %+v", pacing, want)
	}
	if w := SelfUIDsWarning(b); w != "" {
		t.Errorf("warning with self_uids set: %q", w)
	}
}

func TestBuildNoSource(t *testing.T) {
	t.Parallel()
	// config.Load refuses a config without sources; Build must too.
	kk := kitkot.NewResponderSection()
	kk.BaseURL, kk.APIKey, kk.SessionKey, kk.Timeout = "http://127.0.0.1:1/api", "k", "s", time.Second
	for _, cfg := range []*config.Config{
		{Location: time.UTC},
		{Location: time.UTC, Responders: []*config.Responder{responderOf(t, "kitkot", "kitkot", kk)}},
	} {
		_, _, _, err := Build(cfg)
		if err == nil || !strings.HasPrefix(err.Error(), "sources:") {
			t.Errorf("Build without a source: %v", err)
		}
	}
}

func ruleNames(d *Daemon) []string {
	var names []string
	for _, r := range d.Rules().Rules() {
		names = append(names, r.Name)
	}
	return names
}

func TestReload(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := load(t, writeConfig(t, dir, closedURL(t), "@every 1h", rulesV1, ""))
	d, err := New(t.Context(), cfg, Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer testutil.Close(t, d)
	before := d.Rules()
	if before.Len() != 2 || !slices.Equal(ruleNames(d), []string{"spam", "price"}) {
		t.Fatalf("rules %v", ruleNames(d))
	}

	// A broken edit is refused; the last good rules keep running.
	testutil.WriteFile(t, cfg.Rules, rulesBroken)
	err = d.Reload()
	if err == nil || !strings.Contains(err.Error(), "txet") {
		t.Fatalf("Reload of a broken rule: %v", err)
	}
	if d.Rules() != before || d.Rules().Len() != 2 || !slices.Equal(ruleNames(d), []string{"spam", "price"}) {
		t.Errorf("after a refused reload the rules are %v", ruleNames(d))
	}

	// A fixed edit takes effect.
	testutil.WriteFile(t, cfg.Rules, rulesV2)
	if err := d.Reload(); err != nil {
		t.Fatal(err)
	}
	if d.Rules().Len() != 3 || !slices.Equal(ruleNames(d), []string{"spam", "price", "thanks"}) {
		t.Errorf("after reload the rules are %v", ruleNames(d))
	}

	// A missing file is refused too.
	if err := os.Remove(cfg.Rules); err != nil {
		t.Fatal(err)
	}
	if err := d.Reload(); err == nil {
		t.Error("Reload of a missing rules file succeeded")
	}
	if d.Rules().Len() != 3 {
		t.Errorf("after a refused reload the rules are %v", ruleNames(d))
	}
}

func TestNewRefusesBrokenRules(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := load(t, writeConfig(t, dir, closedURL(t), "@every 1h", rulesBroken, ""))
	if d, err := New(t.Context(), cfg, Options{Logger: quietLogger()}); err == nil {
		testutil.Close(t, d)
		t.Fatal("New with a broken rule succeeded")
	}
}

// New settles claims left pending by a crash as unknown.
func TestNewRecoversPending(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := load(t, writeConfig(t, dir, closedURL(t), "@every 1h", rulesV1, ""))
	st, err := store.Open(t.Context(), cfg.Database)
	if err != nil {
		t.Fatal(err)
	}
	c := model.Comment{Platform: model.PlatformDouyin, ID: "7300000000000000001", ThreadID: threadA, Text: "多少钱"}
	if _, err := st.Record(t.Context(), c, model.DispositionEvaluated,
		[]store.Claim{{Rule: "price", Responder: "kitkot", Status: model.StatusPending, ReplyText: "hi"}}, time.Now()); err != nil {
		t.Fatal(err)
	}
	testutil.Close(t, st)
	d, err := New(t.Context(), cfg, Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer testutil.Close(t, d)
	rows, err := d.Store().History(t.Context(), store.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].Status != model.StatusUnknown || rows[0].Reason != model.ReasonCrashed {
		t.Errorf("history after New: %+v", rows)
	}
}

// events collects the daemon's events.
type events struct {
	mu  sync.Mutex
	evs []poller.Event
	ch  chan struct{}
}

func newEvents() *events { return &events{ch: make(chan struct{}, 1)} }

func (e *events) on(ev poller.Event) {
	e.mu.Lock()
	e.evs = append(e.evs, ev)
	e.mu.Unlock()
	select {
	case e.ch <- struct{}{}:
	default:
	}
}

func (e *events) snapshot() []poller.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.evs)
}

func TestRun(t *testing.T) {
	t.Parallel()
	jo := simulator.NewJustOneAPI(token)
	kk := simulator.NewKitkot(apiKey, sessionKey)
	// The backlog: two replies already under thread A.
	now := time.Now()
	jo.AddReply(threadA, simulator.Reply{AwemeID: aweme, Text: "多少钱", UserUID: "1001", Nickname: "史密斯夫妇💑", CreateTime: now.Add(-time.Hour).Unix(), ReplyToReplyID: "0"})
	jo.AddReply(threadA, simulator.Reply{AwemeID: aweme, Text: "好看", UserUID: "1002", Nickname: "小明", CreateTime: now.Add(-time.Minute).Unix(), ReplyToReplyID: "0"})
	mux := http.NewServeMux()
	mux.Handle("/api/douyin/", jo)
	mux.Handle("/api/video/", kk)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	dir := t.TempDir()
	// @every 1h: only the immediate first cycle can run during the test.
	cfg := load(t, writeConfig(t, dir, srv.URL, "@every 1h", rulesV1, ""))
	evs := newEvents()
	logs := &syncbuf.Buffer{}
	d, err := New(t.Context(), cfg, Options{Logger: slog.New(slog.NewTextHandler(logs, nil)), OnEvent: evs.on})
	if err != nil {
		t.Fatal(err)
	}
	defer testutil.Close(t, d)

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	reload := make(chan struct{}, 1)
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx, reload) }()

	// The first cycle runs at once: both replies are recorded as backlog.
	testutil.WaitFor(t, "the first cycle's backlog events", func() bool { return len(evs.snapshot()) >= 2 })
	for _, ev := range evs.snapshot() {
		if ev.Disposition != model.DispositionBacklog || ev.Comment.ThreadID != threadA {
			t.Errorf("event %+v, want backlog of thread A", ev)
		}
	}
	if jo.CallCount() == 0 {
		t.Error("no JustOneAPI call")
	}
	if n := len(kk.Posts()); n != 0 {
		t.Errorf("%d replies posted for the backlog", n)
	}
	testutil.WaitFor(t, "both threads' state", func() bool {
		for _, th := range []string{threadA, threadB} {
			st, ok, err := d.Store().ThreadState(t.Context(), model.PlatformDouyin, th)
			if err != nil {
				t.Fatal(err)
			}
			if !ok || !st.Initialized {
				return false
			}
		}
		return true
	})

	// A value on the reload channel reloads the rules.
	testutil.WriteFile(t, cfg.Rules, rulesV2)
	reload <- struct{}{}
	testutil.WaitFor(t, "the reloaded rules", func() bool { return d.Rules().Len() == 3 })

	// A broken edit sent the same way is refused and Run keeps going.
	testutil.WriteFile(t, cfg.Rules, rulesBroken)
	reload <- struct{}{}
	testutil.WaitFor(t, "the refused reload", func() bool { return strings.Contains(logs.String(), "rules reload refused") })
	if d.Rules().Len() != 3 {
		t.Errorf("after a refused reload the rules are %v", ruleNames(d))
	}
	testutil.WriteFile(t, cfg.Rules, rulesV1)
	reload <- struct{}{}
	testutil.WaitFor(t, "the second reload", func() bool { return d.Rules().Len() == 2 })

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run returned %v, want nil", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("Run did not return after cancellation")
	}
	// Only the first cycle ran (the next tick is an hour away).
	if n := len(evs.snapshot()); n != 2 {
		t.Errorf("%d events, want the 2 backlog ones", n)
	}
}

// Poll errors (a source that refuses connections) do not stop Run; it still
// returns nil on cancellation.
func TestRunWithUnreachableSource(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, logs, stop := runLogged(t, load(t, writeConfig(t, dir, closedURL(t), "@every 1h", rulesV1, "")))
	testutil.WaitFor(t, "the first cycle", func() bool { return strings.Contains(logs.String(), "cycle done") })
	if err := stop(); err != nil {
		t.Errorf("Run returned %v, want nil", err)
	}
	if !strings.Contains(logs.String(), "errors=2") {
		t.Errorf("the cycle did not count a poll error per thread:\n%s", logs.String())
	}
	for _, secret := range []string{token, apiKey, sessionKey} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("logs contain a secret:\n%s", logs.String())
		}
	}
}

// runLogged builds the daemon of cfg, logging into logs, and runs it (no
// reload channel) until stop, which cancels Run and returns what it
// returned. The daemon is closed when the test ends.
func runLogged(t *testing.T, cfg *config.Config) (d *Daemon, logs *syncbuf.Buffer, stop func() error) {
	t.Helper()
	logs = &syncbuf.Buffer{}
	d, err := New(t.Context(), cfg, Options{Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { testutil.Close(t, d) })
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	// Not d: a named result, which the return below writes.
	run := d.Run
	go func() { done <- run(ctx, nil) }()
	stop = func() error {
		t.Helper()
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(60 * time.Second):
			t.Fatal("Run did not return after cancellation")
			return nil
		}
	}
	return d, logs, stop
}

// imitations serves a JustOneAPI and a kitkot imitation (the test's token
// and keys) on one loopback server, closed when the test ends, and returns
// them with the server's URL.
func imitations(t *testing.T) (*simulator.JustOneAPI, *simulator.Kitkot, string) {
	t.Helper()
	jo := simulator.NewJustOneAPI(token)
	kk := simulator.NewKitkot(apiKey, sessionKey)
	mux := http.NewServeMux()
	mux.Handle("/api/douyin/", jo)
	mux.Handle("/api/video/", kk)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return jo, kk, srv.URL
}

// Cycle runs one cycle synchronously (run --once).
func TestCycle(t *testing.T) {
	t.Parallel()
	jo, kk, url := imitations(t)
	cfg := load(t, writeConfig(t, t.TempDir(), url, "@every 1h", rulesV1, ""))
	d, err := New(t.Context(), cfg, Options{Logger: quietLogger(), Tune: func(o *poller.Options) { o.Jitter = nil }})
	if err != nil {
		t.Fatal(err)
	}
	defer testutil.Close(t, d)
	if st := d.Cycle(t.Context()); st.Polled != 2 || st.Errors != 0 {
		t.Fatalf("first cycle %+v", st)
	}
	// A new reply after the threads were first seen is answered.
	jo.AddReply(threadB, simulator.Reply{AwemeID: aweme, Text: "价格多少", UserUID: "1003", Nickname: "王五", CreateTime: time.Now().Unix(), ReplyToReplyID: "0"})
	st := d.Cycle(t.Context())
	if st.Sent != 1 {
		t.Fatalf("second cycle %+v, want one sent", st)
	}
	posts := kk.Posts()
	if len(posts) != 1 || posts[0].Text != "王五 你好，价格请看橱窗" {
		t.Errorf("posts %+v", posts)
	}
}
