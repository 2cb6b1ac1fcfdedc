package poller_test

// Unit tests of the poller's cycle built from real parts: a real store on a
// temporary file, real rules, the real Douyin source and kitkot responder
// pointed at the loopback imitations of JustOneAPI and kitkot. Time is
// injected (Options.Now and the source's Now), so retry delays, backoffs and
// pauses are tested without sleeping.
//
// The file is the external test package: it drives the poller through its
// exported API only, as the daemon does.

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	_ "time/tzdata" // Asia/Shanghai without a zoneinfo database

	"golang.org/x/time/rate"

	"github.com/autoreplyd/autoreplyd/internal/testutil"
	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/platform"
	"github.com/autoreplyd/autoreplyd/platform/douyin"
	"github.com/autoreplyd/autoreplyd/platform/kitkot"
	"github.com/autoreplyd/autoreplyd/poller"
	"github.com/autoreplyd/autoreplyd/rules"
	"github.com/autoreplyd/autoreplyd/simulator"
	"github.com/autoreplyd/autoreplyd/store"
)

const (
	testToken      = "jo-token-poller-test"
	testAPIKey     = "kk-apikey-poller-test"
	testSessionKey = "kk-session-poller-test"

	threadA = "7251524159191958327"
	threadB = "7251524159191958400"
	aweme   = "7251517975340027197"
	selfUID = "99000000000000001"
	// botUID is the account the kitkot imitation posts our answers as
	// (simulator.Kitkot.BotUID). The harness's default self_uids leave it
	// out: our replies are then known by the ids we posted.
	botUID = "7000000000000000001"

	responderName = kitkot.Name
)

const baseRules = `rules:
  - name: spam
    when: 'containsAny(text, ["加微信", "vx"])'
  - name: price
    when: 'text matches "多少钱|价格|how much"'
    reply: '{{ user.nickname }} 你好，价格请看橱窗'
  - name: thanks
    when: 'text contains "谢谢"'
    reply: '谢谢{{ user.nickname }}的支持'
    continue: true
  - name: love
    when: 'text contains "喜欢"'
    reply: '{{ user.nickname }}，我们也喜欢你'
`

var shanghai = mustLoc("Asia/Shanghai")

func mustLoc(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// clock is the injected time: it moves only when a test moves it.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// setup is what a harness differs in.
type setup struct {
	rules     string         // default baseRules
	threads   []model.Thread // default thread A
	selfUIDs  []string       // default {selfUID}
	backlog   string
	noEcho    bool          // our posted replies do not show up in the thread
	kkTimeout time.Duration // default 5s
	pageSize  int           // JustOneAPI page size (default 10)
	videos    []platform.Video
}

// harness is one test's world: imitations, store, rules, source, responder.
type harness struct {
	t     *testing.T
	ctx   context.Context
	clk   *clock
	jo    *simulator.JustOneAPI
	kk    *simulator.Kitkot
	srv   *httptest.Server
	st    *store.Store
	dbf   string
	set   *rules.Set
	src   *douyin.Source
	resp  *kitkot.Responder
	setup setup

	mu     sync.Mutex
	events []poller.Event
	seq    int64 // create times of added replies, strictly increasing
}

func newHarness(t *testing.T, s setup) *harness {
	t.Helper()
	if s.rules == "" {
		s.rules = baseRules
	}
	if s.threads == nil {
		s.threads = []model.Thread{{ID: threadA, PostID: aweme, Labels: map[string]string{"campaign": "spring"}}}
	}
	if s.selfUIDs == nil {
		s.selfUIDs = []string{selfUID}
	}
	if s.kkTimeout == 0 {
		s.kkTimeout = 5 * time.Second
	}
	h := &harness{
		t:     t,
		ctx:   context.Background(),
		clk:   &clock{t: time.Date(2025, 3, 10, 10, 0, 0, 0, shanghai)},
		jo:    simulator.NewJustOneAPI(testToken),
		kk:    simulator.NewKitkot(testAPIKey, testSessionKey),
		setup: s,
	}
	h.seq = h.clk.Now().Add(-time.Hour).Unix()
	if s.pageSize > 0 {
		h.jo.PageSize = s.pageSize
	}
	if !s.noEcho {
		h.kk.OnPost = func(p simulator.Post) {
			// Our answer shows up in the thread it answers, as on Douyin.
			h.jo.AddReply(p.ReplyID, simulator.Reply{CID: p.CID, AwemeID: p.AwemeID, Text: p.Text,
				UserUID: h.kk.BotUID, Nickname: h.kk.BotNickname, CreateTime: h.nextTime(), ReplyToReplyID: "0"})
		}
	}
	mux := http.NewServeMux()
	mux.Handle("/api/douyin/", h.jo)
	mux.Handle("/api/video/", h.kk)
	h.srv = httptest.NewServer(mux)
	t.Cleanup(h.srv.Close)

	h.dbf = filepath.Join(t.TempDir(), "autoreplyd.db")
	st, err := store.Open(h.ctx, h.dbf)
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	h.st = st

	h.set, err = rules.LoadBytes("rules.yaml", []byte(s.rules), rules.Options{Location: shanghai})
	if err != nil {
		t.Fatalf("rules.LoadBytes: %v", err)
	}
	h.src, err = douyin.New(douyin.Config{
		BaseURL:  h.srv.URL,
		Token:    testToken,
		Timeout:  5 * time.Second,
		Threads:  s.threads,
		Videos:   s.videos,
		Location: shanghai,
		Now:      h.clk.Now,
	})
	if err != nil {
		t.Fatalf("douyin.New: %v", err)
	}
	h.resp, err = kitkot.NewResponder(kitkot.ResponderConfig{
		BaseURL:    h.srv.URL + "/api",
		APIKey:     testAPIKey,
		SessionKey: testSessionKey,
		Timeout:    s.kkTimeout,
	})
	if err != nil {
		t.Fatalf("kitkot.New: %v", err)
	}
	return h
}

func (h *harness) nextTime() int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.seq++
	return h.seq
}

// newPoller builds a Poller over the harness; edit adjusts its options.
func (h *harness) newPoller(edit func(*poller.Options)) *poller.Poller {
	h.t.Helper()
	opts := poller.Options{
		Store: h.st,
		Bindings: []poller.Binding{{
			Source:    h.src,
			Responder: responderName,
			SelfUIDs:  h.setup.selfUIDs,
			Backlog:   h.setup.backlog,
		}},
		Responders: map[string]platform.Responder{responderName: h.resp},
		Pacing:     map[string]poller.Pacing{responderName: {}},
		Logger:     slog.New(slog.NewTextHandler(h.t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug})),
		Location:   shanghai,
		Now:        h.clk.Now,
		OnEvent: func(ev poller.Event) {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.events = append(h.events, ev)
		},
		Jitter: nil,
	}
	if edit != nil {
		edit(&opts)
	}
	set := h.set
	p, err := poller.New(opts, func() *rules.Set { return set })
	if err != nil {
		h.t.Fatalf("poller.New: %v", err)
	}
	return p
}

// add puts a reply into thread th of the JustOneAPI imitation.
func (h *harness) add(th, uid, nickname, text string) string {
	return h.jo.AddReply(th, simulator.Reply{AwemeID: aweme, Text: text, UserUID: uid, Nickname: nickname,
		UniqueID: "u" + uid, CreateTime: h.nextTime(), ReplyToReplyID: "0"})
}

func (h *harness) cycle(p *poller.Poller) poller.Stats {
	h.t.Helper()
	st := p.Cycle(h.ctx)
	h.t.Logf("cycle at %s: %+v", h.clk.Now().Format(time.RFC3339), st)
	return st
}

// takeEvents returns the events since the last call.
func (h *harness) takeEvents() []poller.Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	evs := h.events
	h.events = nil
	return evs
}

func (h *harness) history() []store.HistoryRow {
	h.t.Helper()
	rows, err := h.st.History(h.ctx, store.Filter{})
	if err != nil {
		h.t.Fatalf("History: %v", err)
	}
	return rows
}

// rowsOf returns the history rows of one comment.
func (h *harness) rowsOf(cid string) []store.HistoryRow {
	h.t.Helper()
	var out []store.HistoryRow
	for _, r := range h.history() {
		if r.CommentID == cid {
			out = append(out, r)
		}
	}
	return out
}

// row returns the single history row of one comment.
func (h *harness) row(cid string) store.HistoryRow {
	h.t.Helper()
	rows := h.rowsOf(cid)
	if len(rows) != 1 {
		h.t.Fatalf("comment %s: want 1 history row, got %d: %+v", cid, len(rows), rows)
	}
	return rows[0]
}

func (h *harness) known(cids ...string) map[string]bool {
	h.t.Helper()
	m, err := h.st.Known(h.ctx, model.PlatformDouyin, cids)
	if err != nil {
		h.t.Fatalf("Known: %v", err)
	}
	return m
}

func (h *harness) wantPosts(n int) []simulator.Post {
	h.t.Helper()
	posts := h.kk.Posts()
	if len(posts) != n {
		h.t.Fatalf("kitkot posts: want %d, got %d: %+v", n, len(posts), posts)
	}
	return posts
}

func (h *harness) wantRequests(n int) {
	h.t.Helper()
	if got := h.kk.Requests(); got != n {
		h.t.Fatalf("kitkot requests: want %d, got %d", n, got)
	}
}

// initThreads runs the first cycle, which records the backlog: one unrelated
// reply per thread, so that every thread is initialized.
func (h *harness) initThreads(p *poller.Poller) {
	h.t.Helper()
	for _, th := range h.setup.threads {
		h.add(th.ID, "10000000000000001", "路人", "第一")
	}
	st := h.cycle(p)
	if st.New != len(h.setup.threads) || st.Claimed != 0 || st.Errors != 0 {
		h.t.Fatalf("first cycle: %+v", st)
	}
	h.takeEvents()
}

func wantStatus(t *testing.T, r store.HistoryRow, status, reason string) {
	t.Helper()
	if r.Status != status || r.Reason != reason {
		t.Fatalf("claim %d (%s/%s): want %s/%q, got %s/%q (error %q)", r.ID, r.CommentID, r.Rule, status, reason, r.Status, r.Reason, r.Error)
	}
}

// 1. First sight records the backlog without answering it, unless
// backlog: answer.
func TestBacklog(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		backlog string
		answer  bool
	}{{"", false}, {poller.BacklogSkip, false}, {poller.BacklogAnswer, true}} {
		t.Run("backlog="+tc.backlog, func(t *testing.T) {
			h := newHarness(t, setup{backlog: tc.backlog})
			price := h.add(threadA, "10000000000000002", "小明", "这个多少钱？")
			other := h.add(threadA, "10000000000000003", "小红", "随便看看")
			p := h.newPoller(nil)

			st := h.cycle(p)
			if st.New != 2 || st.Polled != 1 || st.Calls != 1 || st.Errors != 0 {
				t.Fatalf("stats: %+v", st)
			}
			if k := h.known(price, other); !k[price] || !k[other] {
				t.Fatalf("backlog not recorded: %v", k)
			}
			evs := h.takeEvents()
			if !tc.answer {
				if st.Claimed != 0 || st.Sent != 0 {
					t.Fatalf("backlog answered: %+v", st)
				}
				h.wantRequests(0)
				if rows := h.history(); len(rows) != 0 {
					t.Fatalf("history rows for the backlog: %+v", rows)
				}
				for _, ev := range evs {
					if ev.Disposition != model.DispositionBacklog {
						t.Errorf("event %+v: want disposition backlog", ev)
					}
				}
				// Nothing new: nothing happens.
				if st := h.cycle(p); st.New != 0 || st.Claimed != 0 {
					t.Fatalf("second cycle: %+v", st)
				}
				h.wantRequests(0)
				return
			}
			if st.Claimed != 1 || st.Sent != 1 {
				t.Fatalf("stats: %+v", st)
			}
			posts := h.wantPosts(1)
			if posts[0].Text != "小明 你好，价格请看橱窗" || posts[0].ReplyID != threadA || posts[0].AwemeID != aweme {
				t.Fatalf("post: %+v", posts[0])
			}
			r := h.row(price)
			wantStatus(t, r, model.StatusSent, "")
			if rows := h.rowsOf(other); len(rows) != 0 {
				t.Fatalf("unmatched comment has claims: %+v", rows)
			}
			// Our reply shows up; it is not answered.
			if st := h.cycle(p); st.Claimed != 0 || st.New != 1 {
				t.Fatalf("second cycle: %+v", st)
			}
			h.wantPosts(1)
		})
	}
}

// 2. New replies after the first sight.
func TestNewReplies(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{})
	p := h.newPoller(nil)
	h.initThreads(p)

	const nick = "小明🍓同学"
	price := h.add(threadA, "10000000000000002", nick, "请问多少钱[捂脸]")
	plain := h.add(threadA, "10000000000000003", "小红", "今天天气不错")
	spam := h.add(threadA, "10000000000000004", "广告", "加微信领优惠")
	self := h.add(threadA, selfUID, "店主", "价格多少大家看橱窗")

	st := h.cycle(p)
	if st.New != 4 || st.Claimed != 2 || st.Sent != 1 || st.Skipped != 1 || st.Errors != 0 {
		t.Fatalf("stats: %+v", st)
	}
	posts := h.wantPosts(1)
	if want := nick + " 你好，价格请看橱窗"; posts[0].Text != want {
		t.Fatalf("post text: want %q, got %q", want, posts[0].Text)
	}
	if posts[0].ReplyID != threadA || posts[0].AwemeID != aweme {
		t.Fatalf("post target: %+v", posts[0])
	}

	r := h.row(price)
	wantStatus(t, r, model.StatusSent, "")
	if r.Rule != "price" || r.ReplyText != posts[0].Text || r.Attempts != 1 || r.UserNickname != nick || r.Responder != responderName {
		t.Fatalf("price row: %+v", r)
	}
	if r.PlatformReplyID != posts[0].CID {
		t.Fatalf("platform_reply_id: want %s, got %q", posts[0].CID, r.PlatformReplyID)
	}
	if rows := h.rowsOf(plain); len(rows) != 0 {
		t.Fatalf("unmatched comment has claims: %+v", rows)
	}
	sp := h.row(spam)
	wantStatus(t, sp, model.StatusSkipped, model.ReasonNoReplyRule)
	if sp.Rule != "spam" || sp.ReplyText != "" {
		t.Fatalf("spam row: %+v", sp)
	}
	if rows := h.rowsOf(self); len(rows) != 0 {
		t.Fatalf("our own account's reply has claims: %+v", rows)
	}
	if k := h.known(price, plain, spam, self); len(k) != 4 {
		t.Fatalf("not every comment recorded: %v", k)
	}
	disp := map[string]string{}
	for _, ev := range h.takeEvents() {
		disp[ev.Comment.ID] = ev.Disposition
	}
	if disp[self] != model.DispositionSelf || disp[plain] != model.DispositionEvaluated || disp[price] != model.DispositionEvaluated {
		t.Fatalf("dispositions: %v", disp)
	}

	// Our posted reply shows up in the thread under the bot's uid, which is
	// not in SelfUIDs: only its recorded id keeps it from being answered (its
	// text matches the price rule).
	if !strings.Contains(h.jo.Replies(threadA)[5].Text, "价格") {
		t.Fatal("the echo of our reply is not in the thread")
	}
	st = h.cycle(p)
	if st.New != 1 || st.Claimed != 0 {
		t.Fatalf("echo cycle: %+v", st)
	}
	evs := h.takeEvents()
	if len(evs) != 1 || evs[0].Comment.ID != posts[0].CID || evs[0].Disposition != model.DispositionSelf {
		t.Fatalf("echo events: %+v", evs)
	}
	if rows := h.rowsOf(posts[0].CID); len(rows) != 0 {
		t.Fatalf("our own reply was claimed: %+v", rows)
	}
	for range 3 {
		if st := h.cycle(p); st.New != 0 || st.Claimed != 0 {
			t.Fatalf("later cycle: %+v", st)
		}
	}
	h.wantPosts(1)
	h.wantRequests(1)
}

// 3. continue: true lets two rules act on one comment.
func TestContinueTwoClaims(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{})
	p := h.newPoller(nil)
	h.initThreads(p)
	cid := h.add(threadA, "10000000000000002", "小红", "谢谢，很喜欢")

	st := h.cycle(p)
	if st.Claimed != 2 || st.Sent != 2 {
		t.Fatalf("stats: %+v", st)
	}
	posts := h.wantPosts(2)
	rows := h.rowsOf(cid)
	if len(rows) != 2 {
		t.Fatalf("rows: %+v", rows)
	}
	byRule := map[string]store.HistoryRow{}
	for _, r := range rows {
		wantStatus(t, r, model.StatusSent, "")
		byRule[r.Rule] = r
	}
	if byRule["thanks"].ReplyText != "谢谢小红的支持" || byRule["love"].ReplyText != "小红，我们也喜欢你" {
		t.Fatalf("rows: %+v", byRule)
	}
	texts := map[string]bool{posts[0].Text: true, posts[1].Text: true}
	if !texts["谢谢小红的支持"] || !texts["小红，我们也喜欢你"] {
		t.Fatalf("posts: %+v", posts)
	}
	// Both echoes (which match the rules) are recognised as ours.
	st = h.cycle(p)
	if st.New != 2 || st.Claimed != 0 {
		t.Fatalf("second cycle: %+v", st)
	}
	if st := h.cycle(p); st.Claimed != 0 {
		t.Fatalf("third cycle: %+v", st)
	}
	h.wantPosts(2)
}

// 4. DryRun records what would have been sent and sends nothing.
func TestDryRun(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{})
	p := h.newPoller(func(o *poller.Options) { o.DryRun = true })
	h.initThreads(p)
	price := h.add(threadA, "10000000000000002", "小明", "多少钱")
	both := h.add(threadA, "10000000000000003", "小红", "谢谢，很喜欢")

	st := h.cycle(p)
	if st.Claimed != 3 || st.DryRun != 3 || st.Sent != 0 {
		t.Fatalf("stats: %+v", st)
	}
	r := h.row(price)
	wantStatus(t, r, model.StatusDryRun, "")
	if r.ReplyText != "小明 你好，价格请看橱窗" {
		t.Fatalf("dry-run reply text: %q", r.ReplyText)
	}
	for _, r := range h.rowsOf(both) {
		wantStatus(t, r, model.StatusDryRun, "")
		if r.ReplyText == "" {
			t.Fatalf("dry-run row without text: %+v", r)
		}
	}
	evs := h.takeEvents()
	n := 0
	for _, ev := range evs {
		if ev.Status == model.StatusDryRun && ev.Reply != "" {
			n++
		}
	}
	if n != 3 {
		t.Fatalf("dry-run events: %+v", evs)
	}
	if st := h.cycle(p); st.Claimed != 0 {
		t.Fatalf("second cycle: %+v", st)
	}
	h.wantRequests(0)
}

// 5. Retryable failures: resent when due, until MaxAttempts or MaxRetryAge.
func TestRetryable(t *testing.T) {
	t.Parallel()
	http503 := simulator.Fault{Kind: simulator.FaultHTTPStatus, Status: http.StatusServiceUnavailable}

	t.Run("resent when due", func(t *testing.T) {
		h := newHarness(t, setup{})
		p := h.newPoller(nil)
		h.initThreads(p)
		cid := h.add(threadA, "10000000000000002", "小明", "多少钱")
		h.kk.Faults.Push(http503)

		st := h.cycle(p)
		if st.Claimed != 1 || st.Retrying != 1 || st.Sent != 0 {
			t.Fatalf("stats: %+v", st)
		}
		h.wantRequests(1)
		h.wantPosts(0)
		r := h.row(cid)
		wantStatus(t, r, model.StatusRetrying, "http_503")
		if !r.NextAttemptAt.After(h.clk.Now()) {
			t.Fatalf("next attempt %s is not after now %s", r.NextAttemptAt, h.clk.Now())
		}
		if r.Attempts != 1 {
			t.Fatalf("attempts: %d", r.Attempts)
		}
		// The first delay is RetryInitial (1m) ± 30%: not due after 30s.
		h.clk.Advance(30 * time.Second)
		if st := h.cycle(p); st.Sent != 0 || st.Retrying != 0 {
			t.Fatalf("cycle before due: %+v", st)
		}
		h.wantRequests(1)
		wantStatus(t, h.row(cid), model.StatusRetrying, "http_503")

		h.clk.Advance(2 * time.Minute)
		if st := h.cycle(p); st.Sent != 1 {
			t.Fatalf("cycle when due: %+v", st)
		}
		h.wantRequests(2)
		posts := h.wantPosts(1)
		r = h.row(cid)
		wantStatus(t, r, model.StatusSent, "")
		if r.Attempts != 2 || r.PlatformReplyID != posts[0].CID || r.ReplyText != "小明 你好，价格请看橱窗" || !r.NextAttemptAt.IsZero() {
			t.Fatalf("row: %+v", r)
		}
		h.clk.Advance(24 * time.Hour)
		h.cycle(p)
		h.cycle(p)
		h.wantPosts(1)
	})

	t.Run("exhausted", func(t *testing.T) {
		h := newHarness(t, setup{})
		p := h.newPoller(func(o *poller.Options) { o.MaxAttempts = 2 })
		h.initThreads(p)
		cid := h.add(threadA, "10000000000000002", "小明", "多少钱")
		h.kk.Faults.Push(http503, http503)

		h.cycle(p)
		wantStatus(t, h.row(cid), model.StatusRetrying, "http_503")
		h.clk.Advance(2 * time.Minute)
		if st := h.cycle(p); st.Failed != 1 {
			t.Fatalf("stats: %+v", st)
		}
		r := h.row(cid)
		wantStatus(t, r, model.StatusFailed, poller.ReasonRetriesExhausted)
		if r.Attempts != 2 || !strings.Contains(r.Error, "503") {
			t.Fatalf("row: %+v", r)
		}
		for range 3 {
			h.clk.Advance(time.Hour)
			h.cycle(p)
		}
		h.wantRequests(2)
		h.wantPosts(0)
	})

	t.Run("too old after failed retries", func(t *testing.T) {
		h := newHarness(t, setup{})
		p := h.newPoller(func(o *poller.Options) { o.MaxRetryAge = 10 * time.Minute })
		h.initThreads(p)
		cid := h.add(threadA, "10000000000000002", "小明", "多少钱")
		h.kk.Faults.Push(http503, http503)

		h.cycle(p)
		wantStatus(t, h.row(cid), model.StatusRetrying, "http_503")
		h.clk.Advance(2 * time.Minute)
		if st := h.cycle(p); st.Retrying != 1 {
			t.Fatalf("stats: %+v", st)
		}
		r := h.row(cid)
		wantStatus(t, r, model.StatusRetrying, "http_503")
		if r.Attempts != 2 {
			t.Fatalf("row: %+v", r)
		}
		h.clk.Advance(20 * time.Minute)
		if st := h.cycle(p); st.Failed != 1 {
			t.Fatalf("stats: %+v", st)
		}
		wantStatus(t, h.row(cid), model.StatusFailed, poller.ReasonRetriesExhausted)
		h.clk.Advance(time.Hour)
		h.cycle(p)
		h.wantRequests(2)
		h.wantPosts(0)
	})

	// MaxRetryAge "bounds how late an answer may still go out": a retry
	// taken up after it is not sent at all, even if the platform would now
	// accept it (e.g. after the daemon was down for a day).
	t.Run("too old, never sent late", func(t *testing.T) {
		h := newHarness(t, setup{})
		p := h.newPoller(func(o *poller.Options) { o.MaxRetryAge = 30 * time.Minute })
		h.initThreads(p)
		cid := h.add(threadA, "10000000000000002", "小明", "多少钱")
		h.kk.Faults.Push(http503)

		h.cycle(p)
		wantStatus(t, h.row(cid), model.StatusRetrying, "http_503")
		h.clk.Advance(time.Hour)
		if st := h.cycle(p); st.Failed != 1 || st.Sent != 0 {
			t.Fatalf("stats: %+v", st)
		}
		r := h.row(cid)
		wantStatus(t, r, model.StatusFailed, poller.ReasonRetriesExhausted)
		if !strings.Contains(r.Error, "not sent") {
			t.Fatalf("row: %+v", r)
		}
		h.clk.Advance(time.Hour)
		h.cycle(p)
		h.wantRequests(1)
		h.wantPosts(0)
	})
}

// 6. An unknown outcome is never resent.
func TestUnknownOutcome(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		fault     simulator.Fault
		kkTimeout time.Duration
		reason    string
	}{
		{"dropped after posting", simulator.Fault{Kind: simulator.FaultDropAfter}, 5 * time.Second, "dropped"},
		{"timeout after posting", simulator.Fault{Kind: simulator.FaultSlowAfter, Delay: 2 * time.Second}, 200 * time.Millisecond, "timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The post did happen and shows up in the thread: list the bot
			// among our accounts, as the operator should.
			h := newHarness(t, setup{kkTimeout: tc.kkTimeout, selfUIDs: []string{selfUID, "7000000000000000001"}})
			p := h.newPoller(nil)
			h.initThreads(p)
			cid := h.add(threadA, "10000000000000002", "小明", "多少钱")
			h.kk.Faults.Push(tc.fault)

			st := h.cycle(p)
			if st.Unknown != 1 || st.Sent != 0 || st.Retrying != 0 {
				t.Fatalf("stats: %+v", st)
			}
			r := h.row(cid)
			wantStatus(t, r, model.StatusUnknown, tc.reason)
			if !r.NextAttemptAt.IsZero() {
				t.Fatalf("unknown claim has a next attempt: %+v", r)
			}
			for _, d := range []time.Duration{0, time.Minute, time.Hour, 24 * time.Hour} {
				h.clk.Advance(d)
				if st := h.cycle(p); st.Claimed != 0 || st.Sent != 0 {
					t.Fatalf("later cycle: %+v", st)
				}
			}
			h.wantPosts(1)
			h.wantRequests(1)
			wantStatus(t, h.row(cid), model.StatusUnknown, tc.reason)
		})
	}
}

// 7. A permanent failure is recorded with the platform's text, never retried.
func TestPermanentFailure(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{})
	p := h.newPoller(nil)
	h.initThreads(p)
	cid := h.add(threadA, "10000000000000002", "小明", "多少钱")
	h.kk.Faults.Push(simulator.Fault{Kind: simulator.FaultCode, Code: 400, Msg: "Failed to publish reply"})

	st := h.cycle(p)
	if st.Failed != 1 || st.Retrying != 0 {
		t.Fatalf("stats: %+v", st)
	}
	r := h.row(cid)
	wantStatus(t, r, model.StatusFailed, "platform_400")
	if !strings.Contains(r.Error, "Failed to publish reply") || !r.NextAttemptAt.IsZero() {
		t.Fatalf("row: %+v", r)
	}
	var failed *poller.Event
	for _, ev := range h.takeEvents() {
		if ev.Status == model.StatusFailed {
			failed = &ev
		}
	}
	if failed == nil || failed.Err == nil || model.KindOf(failed.Err) != model.Permanent {
		t.Fatalf("failed event: %+v", failed)
	}
	for range 3 {
		h.clk.Advance(6 * time.Hour)
		h.cycle(p)
	}
	h.wantRequests(1)
	h.wantPosts(0)
	wantStatus(t, h.row(cid), model.StatusFailed, "platform_400")
}

// 8. JustOneAPI business codes and transport failures.
func TestSourceErrors(t *testing.T) {
	t.Parallel()
	t.Run("303 pauses until the next local midnight", func(t *testing.T) {
		h := newHarness(t, setup{})
		p := h.newPoller(nil)
		h.initThreads(p)
		cid := h.add(threadA, "10000000000000002", "小明", "多少钱")
		h.jo.Faults.Push(simulator.Fault{Kind: simulator.FaultCode, Code: 303})

		st := h.cycle(p)
		if st.Errors != 1 || st.Claimed != 0 {
			t.Fatalf("stats: %+v", st)
		}
		pauses, err := h.st.Pauses(h.ctx)
		if err != nil {
			t.Fatal(err)
		}
		midnight := time.Date(2025, 3, 11, 0, 0, 0, 0, shanghai)
		if len(pauses) != 1 || pauses[0].Scope != poller.SourceScope(model.PlatformDouyin) || pauses[0].Scope != "source:douyin" ||
			!pauses[0].Until.Equal(midnight) || !strings.Contains(pauses[0].Reason, "303") {
			t.Fatalf("pauses: %+v (want source:douyin until %s)", pauses, midnight)
		}
		calls := h.jo.CallCount()
		h.cycle(p)
		h.clk.Set(midnight.Add(-time.Second))
		h.cycle(p)
		// The pause is persisted: a restarted poller honours it too.
		h.cycle(h.newPoller(nil))
		if got := h.jo.CallCount(); got != calls {
			t.Fatalf("calls while paused: %d -> %d", calls, got)
		}
		h.wantPosts(0)

		h.clk.Set(midnight.Add(time.Second))
		if st := h.cycle(p); st.Calls == 0 || st.Sent != 1 {
			t.Fatalf("cycle after the pause: %+v", st)
		}
		wantStatus(t, h.row(cid), model.StatusSent, "")
		h.wantPosts(1)
	})

	for _, code := range []int{100, 601} {
		t.Run(fmt.Sprintf("%d stops the source", code), func(t *testing.T) {
			h := newHarness(t, setup{})
			p := h.newPoller(nil)
			h.initThreads(p)
			h.add(threadA, "10000000000000002", "小明", "多少钱")
			h.jo.Faults.Push(simulator.Fault{Kind: simulator.FaultCode, Code: code})

			if st := h.cycle(p); st.Errors != 1 {
				t.Fatalf("stats: %+v", st)
			}
			why, ok := p.Stopped()[model.PlatformDouyin]
			if !ok || !strings.Contains(why, fmt.Sprint(code)) {
				t.Fatalf("Stopped: %v", p.Stopped())
			}
			calls := h.jo.CallCount()
			for range 3 {
				h.clk.Advance(24 * time.Hour)
				if st := h.cycle(p); st.Calls != 0 || st.Polled != 0 {
					t.Fatalf("cycle of a stopped source: %+v", st)
				}
			}
			if got := h.jo.CallCount(); got != calls {
				t.Fatalf("calls after the stop: %d -> %d", calls, got)
			}
			h.wantRequests(0)
		})
	}

	t.Run("302 backs off", func(t *testing.T) {
		h := newHarness(t, setup{})
		p := h.newPoller(nil)
		h.initThreads(p)
		cid := h.add(threadA, "10000000000000002", "小明", "多少钱")
		h.jo.Faults.Push(simulator.Fault{Kind: simulator.FaultCode, Code: 302})

		if st := h.cycle(p); st.Errors != 1 {
			t.Fatalf("stats: %+v", st)
		}
		calls := h.jo.CallCount()
		h.cycle(p)
		h.clk.Advance(59 * time.Second) // the default backoff is a minute
		h.cycle(p)
		if got := h.jo.CallCount(); got != calls {
			t.Fatalf("calls while backing off: %d -> %d", calls, got)
		}
		if len(p.Stopped()) != 0 {
			t.Fatalf("a backoff stopped the source: %v", p.Stopped())
		}
		h.clk.Advance(2 * time.Second)
		if st := h.cycle(p); st.Calls == 0 || st.Sent != 1 {
			t.Fatalf("cycle after the backoff: %+v", st)
		}
		wantStatus(t, h.row(cid), model.StatusSent, "")
		h.wantPosts(1)
	})

	for _, tc := range []struct {
		name  string
		fault simulator.Fault
	}{
		{"301", simulator.Fault{Kind: simulator.FaultCode, Code: 301}},
		{"500", simulator.Fault{Kind: simulator.FaultCode, Code: 500}},
		{"HTTP 503", simulator.Fault{Kind: simulator.FaultHTTPStatus, Status: http.StatusServiceUnavailable}},
		{"broken JSON", simulator.Fault{Kind: simulator.FaultBrokenJSON}},
	} {
		t.Run(tc.name+" is retried next cycle", func(t *testing.T) {
			h := newHarness(t, setup{})
			p := h.newPoller(nil)
			h.initThreads(p)
			cid := h.add(threadA, "10000000000000002", "小明", "多少钱")
			h.jo.Faults.Push(tc.fault)

			st := h.cycle(p)
			if st.Errors != 1 || st.Calls != 1 || st.Claimed != 0 {
				t.Fatalf("stats: %+v", st)
			}
			if len(p.Stopped()) != 0 {
				t.Fatalf("stopped: %v", p.Stopped())
			}
			// Nothing lost: the next cycle (same time) finds and answers it.
			if st := h.cycle(p); st.Sent != 1 || st.Errors != 0 {
				t.Fatalf("next cycle: %+v", st)
			}
			wantStatus(t, h.row(cid), model.StatusSent, "")
			h.cycle(p)
			h.cycle(p)
			h.wantPosts(1)
		})
	}

	// A failure on page 2: what page 1 brought is recorded and answered, the
	// state is not saved, and the next cycle finds the rest, with no
	// duplicate.
	t.Run("500 on page 2", func(t *testing.T) {
		h := newHarness(t, setup{pageSize: 2})
		p := h.newPoller(nil)
		h.initThreads(p)
		a := h.add(threadA, "10000000000000002", "甲", "多少钱")
		b := h.add(threadA, "10000000000000003", "乙", "多少钱")
		c := h.add(threadA, "10000000000000004", "丙", "多少钱")
		// FaultSlow without a delay lets page 1 through.
		h.jo.Faults.Push(simulator.Fault{Kind: simulator.FaultSlow}, simulator.Fault{Kind: simulator.FaultCode, Code: 500})

		st := h.cycle(p)
		if st.Errors != 1 || st.Calls != 2 || st.Sent != 1 {
			t.Fatalf("stats: %+v", st)
		}
		wantStatus(t, h.row(a), model.StatusSent, "")
		st = h.cycle(p)
		if st.Errors != 0 || st.Sent != 2 {
			t.Fatalf("next cycle: %+v", st)
		}
		for _, cid := range []string{a, b, c} {
			wantStatus(t, h.row(cid), model.StatusSent, "")
		}
		h.cycle(p)
		h.cycle(p)
		h.wantPosts(3)
	})

	t.Run("400 skips the thread, others still polled", func(t *testing.T) {
		h := newHarness(t, setup{threads: []model.Thread{{ID: threadA, PostID: aweme}, {ID: threadB, PostID: aweme}}})
		p := h.newPoller(nil)
		h.initThreads(p)
		inA := h.add(threadA, "10000000000000002", "小明", "多少钱")
		inB := h.add(threadB, "10000000000000003", "小红", "多少钱")
		h.jo.ResetCalls()
		h.jo.Faults.Push(simulator.Fault{Kind: simulator.FaultCode, Code: 400})

		st := h.cycle(p)
		if st.Errors != 1 || st.Polled != 2 || st.Sent != 1 {
			t.Fatalf("stats: %+v", st)
		}
		calls := h.jo.Calls()
		if len(calls) != 2 || calls[0].CommentID != threadA || calls[1].CommentID != threadB {
			t.Fatalf("calls: %+v", calls)
		}
		if rows := h.rowsOf(inA); len(rows) != 0 {
			t.Fatalf("skipped thread's reply claimed: %+v", rows)
		}
		wantStatus(t, h.row(inB), model.StatusSent, "")
		posts := h.wantPosts(1)
		if posts[0].ReplyID != threadB {
			t.Fatalf("post: %+v", posts[0])
		}
		if len(p.Stopped()) != 0 {
			t.Fatalf("stopped: %v", p.Stopped())
		}
	})
}

// 9. The daily cap counts today's sends from history.
func TestDailyCap(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{})
	capped := func(o *poller.Options) {
		o.Pacing = map[string]poller.Pacing{responderName: {DailyCap: 2}}
	}
	p := h.newPoller(capped)
	h.initThreads(p)
	c1 := h.add(threadA, "10000000000000002", "甲", "多少钱")
	c2 := h.add(threadA, "10000000000000003", "乙", "多少钱")
	c3 := h.add(threadA, "10000000000000004", "丙", "多少钱")

	st := h.cycle(p)
	if st.Sent != 2 || st.Skipped != 1 {
		t.Fatalf("stats: %+v", st)
	}
	wantStatus(t, h.row(c1), model.StatusSent, "")
	wantStatus(t, h.row(c2), model.StatusSent, "")
	r := h.row(c3)
	wantStatus(t, r, model.StatusSkipped, poller.ReasonDailyCap)
	if r.ReplyText != "丙 你好，价格请看橱窗" {
		t.Fatalf("capped row: %+v", r)
	}
	h.wantPosts(2)

	// A new Poller (a restart) on the same store the same day counts the 2.
	h.clk.Advance(6 * time.Hour) // 16:00 local
	p2 := h.newPoller(capped)
	c4 := h.add(threadA, "10000000000000005", "丁", "多少钱")
	if st := h.cycle(p2); st.Sent != 0 || st.Skipped != 1 {
		t.Fatalf("stats after restart: %+v", st)
	}
	wantStatus(t, h.row(c4), model.StatusSkipped, poller.ReasonDailyCap)
	h.wantPosts(2)

	// The next local day starts a new count.
	h.clk.Set(time.Date(2025, 3, 11, 0, 0, 1, 0, shanghai))
	c5 := h.add(threadA, "10000000000000006", "戊", "多少钱")
	if st := h.cycle(p2); st.Sent != 1 {
		t.Fatalf("stats the next day: %+v", st)
	}
	wantStatus(t, h.row(c5), model.StatusSent, "")
	h.wantPosts(3)
}

// 10. A rule failing at run time is counted; the next rule still answers.
func TestRuleErrorGoesOn(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{rules: `rules:
  - name: bulk
    when: 'int(labels["n"]) > 1'
    reply: 'bulk'
` + strings.TrimPrefix(baseRules, "rules:\n")})
	p := h.newPoller(nil)
	h.initThreads(p)
	cid := h.add(threadA, "10000000000000002", "小明", "多少钱")

	st := h.cycle(p)
	if st.RuleError != 1 || st.Errors != 1 || st.Sent != 1 {
		t.Fatalf("stats: %+v", st)
	}
	r := h.row(cid)
	wantStatus(t, r, model.StatusSent, "")
	if r.Rule != "price" {
		t.Fatalf("row: %+v", r)
	}
	h.wantPosts(1)
}

// 11. Cancellation: the in-flight send settles; a send that has not begun is
// left for a retry.
func TestCancel(t *testing.T) {
	t.Parallel()
	t.Run("in-flight send settles", func(t *testing.T) {
		h := newHarness(t, setup{})
		p := h.newPoller(nil)
		h.initThreads(p)
		cid := h.add(threadA, "10000000000000002", "小明", "多少钱")
		h.kk.Faults.Push(simulator.Fault{Kind: simulator.FaultSlowAfter, Delay: 300 * time.Millisecond})

		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		done := make(chan poller.Stats, 1)
		go func() { done <- p.Cycle(ctx) }()
		testutil.WaitFor(t, "the send to reach kitkot", func() bool { return h.kk.Requests() > 0 })
		cancel()
		st := waitCycle(t, done)
		if st.Sent != 1 {
			t.Fatalf("stats: %+v", st)
		}
		r := h.row(cid)
		wantStatus(t, r, model.StatusSent, "")
		posts := h.wantPosts(1)
		if r.PlatformReplyID != posts[0].CID {
			t.Fatalf("row: %+v", r)
		}
	})

	t.Run("send not begun is never unknown", func(t *testing.T) {
		h := newHarness(t, setup{})
		p := h.newPoller(func(o *poller.Options) {
			o.Pacing = map[string]poller.Pacing{responderName: {Limit: rate.Every(time.Hour), Burst: 1}}
		})
		h.initThreads(p)
		c1 := h.add(threadA, "10000000000000002", "甲", "多少钱")
		c2 := h.add(threadA, "10000000000000003", "乙", "多少钱")

		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		done := make(chan poller.Stats, 1)
		go func() { done <- p.Cycle(ctx) }()
		// Both answers are claimed queued with the page; the first goes
		// out, the second waits for the rate limiter (an hour) BEFORE it is
		// marked attempted.
		testutil.WaitFor(t, "the first answer", func() bool { return len(h.kk.Posts()) == 1 })
		cancel()
		st := waitCycle(t, done)
		if st.Sent != 1 || st.Claimed != 2 || st.Retrying != 1 {
			t.Fatalf("stats: %+v", st)
		}
		wantStatus(t, h.row(c1), model.StatusSent, "")
		// Stopped before its send: retrying, due now, no attempt used.
		r := h.row(c2)
		wantStatus(t, r, model.StatusRetrying, poller.ReasonShutdown)
		if r.Attempts != 0 {
			t.Fatalf("attempts of a claim never sent = %d", r.Attempts)
		}
		h.wantPosts(1)

		// Nothing lost: the next run answers it.
		p2 := h.newPoller(nil)
		if st := h.cycle(p2); st.Sent != 1 {
			t.Fatalf("next run: %+v", st)
		}
		wantStatus(t, h.row(c2), model.StatusSent, "")
		h.wantPosts(2)
	})

	t.Run("crash between the page commit and the sends", func(t *testing.T) {
		h := newHarness(t, setup{})
		p := h.newPoller(func(o *poller.Options) {
			o.Pacing = map[string]poller.Pacing{responderName: {Limit: rate.Every(time.Hour), Burst: 1}}
		})
		h.initThreads(p)
		c1 := h.add(threadA, "10000000000000002", "甲", "多少钱")
		c2 := h.add(threadA, "10000000000000003", "乙", "多少钱")
		// A crash is a cycle that never finishes: the send of c2 waits an
		// hour; the database is read as the next start finds it.
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan poller.Stats, 1)
		go func() { done <- p.Cycle(ctx) }()
		testutil.WaitFor(t, "the first answer", func() bool { return len(h.kk.Posts()) == 1 })
		testutil.WaitFor(t, "the first answer settled", func() bool { return h.row(c1).Status == model.StatusSent })
		r := h.row(c2)
		if r.Status != model.StatusPending || r.Attempts != 0 {
			t.Fatalf("queued claim while its send waits: %+v", r)
		}
		unknown, requeued, err := h.st.RecoverPending(context.Background(), h.clk.Now(), 0)
		if err != nil || unknown != 0 || requeued != 1 {
			t.Fatalf("RecoverPending = %d, %d, %v; want 0 unknown, 1 requeued", unknown, requeued, err)
		}
		cancel()
		<-done
		wantStatus(t, h.row(c2), model.StatusRetrying, model.ReasonRequeued)
		p2 := h.newPoller(nil)
		if st := h.cycle(p2); st.Sent != 1 {
			t.Fatalf("next run: %+v", st)
		}
		wantStatus(t, h.row(c2), model.StatusSent, "")
		h.wantPosts(2)
	})
}

func waitCycle(t *testing.T, done <-chan poller.Stats) poller.Stats {
	t.Helper()
	select {
	case st := <-done:
		t.Logf("cancelled cycle: %+v", st)
		return st
	case <-time.After(30 * time.Second):
		t.Fatal("Cycle did not return after the context was cancelled")
	}
	return poller.Stats{}
}
