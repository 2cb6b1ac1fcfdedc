package poller_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/internal/pgtest"
	"github.com/autoreplyd/autoreplyd/internal/syncbuf"
	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/platform"
	"github.com/autoreplyd/autoreplyd/poller"
	"github.com/autoreplyd/autoreplyd/simulator"
	"github.com/autoreplyd/autoreplyd/store"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// PostgreSQL goes down while a cycle sends, for longer than a send waits
// for it (StoreWait): the answer posted meanwhile cannot be recorded and
// the queued ones cannot be marked attempted, so none of them is sent.
// The first cycle that finds the database back records the one posted as
// sent and sends the others, once each: no restart needed.
func TestDatabaseOutageLongerThanASendWaits(t *testing.T) {
	srv := pgtest.Start(t)
	h := newHarness(t, setup{})
	st, err := store.Open(h.ctx, srv.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	h.st = st
	p := h.newPoller(func(o *poller.Options) {
		o.StoreWait = 300 * time.Millisecond
		// One send a second: the database is down by the second's turn.
		o.Pacing = map[string]poller.Pacing{responderName: {Limit: 1, Burst: 1}}
	})
	h.initThreads(p)
	echo := h.kk.OnPost
	var once sync.Once
	h.kk.OnPost = func(post simulator.Post) {
		echo(post)
		once.Do(func() {
			if err := srv.Stop(); err != nil {
				t.Error(err)
			}
		})
	}
	for _, nick := range []string{"客一", "客二", "客三"} {
		h.add(threadA, "2000"+nick, nick, "多少钱")
	}
	st1 := h.cycle(p)
	if posts := h.kk.Posts(); len(posts) != 1 {
		t.Fatalf("%d answers posted with the database down, want the one that stopped it; cycle %+v", len(posts), st1)
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		h.cycle(p)
		if len(h.kk.Posts()) == 3 {
			break
		}
	}
	byText := map[string]int{}
	for _, post := range h.kk.Posts() {
		byText[post.Text]++
	}
	for _, nick := range []string{"客一", "客二", "客三"} {
		if n := byText[nick+" 你好，价格请看橱窗"]; n != 1 {
			t.Errorf("%s answered %d times", nick, n)
		}
	}
	rows, err := st.History(h.ctx, store.Filter{Rule: "price"})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.Status != model.StatusSent {
			t.Errorf("claim of %s is %s/%s, want sent", r.UserNickname, r.Status, r.Reason)
		}
	}
	if len(rows) != 3 {
		t.Errorf("%d price claims, want 3", len(rows))
	}
}

// PostgreSQL goes down as a cycle lists the first of five watched videos
// (or threads), each with a new comment: the look-up of its comments fails,
// and the source stops for the cycle with one line for the outage, instead
// of a warning and a billed listing for each. Once the database is back
// every comment is answered once.
func TestDatabaseOutageWhileListing(t *testing.T) {
	for _, kind := range []string{"videos", "threads"} {
		t.Run(kind, func(t *testing.T) { testDatabaseOutageWhileListing(t, kind == "videos") })
	}
}

func testDatabaseOutageWhileListing(t *testing.T, videos bool) {
	srv := pgtest.Start(t)
	s := setup{threads: []model.Thread{}}
	path := simulator.JustOneAPIPath
	for i := range 5 {
		id := fmt.Sprintf("74000000000000000%02d", i)
		if videos {
			s.videos = append(s.videos, platform.Video{ID: id, AnswerTopLevel: true, DiscoverThreads: true, MaxThreads: 10})
			path = simulator.JustOneAPIVideoPath
		} else {
			s.threads = append(s.threads, model.Thread{ID: id, PostID: aweme})
		}
	}
	h := newHarness(t, s)
	st, err := store.Open(h.ctx, srv.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	h.st = st
	var logs syncbuf.Buffer
	p := h.newPoller(func(o *poller.Options) {
		o.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	})
	add := func(i int, text string) {
		r := simulator.Reply{Text: text, UserUID: fmt.Sprintf("30%d", i), Nickname: fmt.Sprintf("客%d", i),
			UniqueID: fmt.Sprintf("u30%d", i), CreateTime: h.nextTime(), AwemeID: aweme, ReplyToReplyID: "0"}
		if videos {
			h.jo.AddComment(s.videos[i].ID, r)
		} else {
			h.jo.AddReply(s.threads[i].ID, r)
		}
	}
	for i := range 5 {
		add(i, "在吗") // backlog: a first sight lists something
	}
	h.cycleOK(p) // first sight
	for i := range 5 {
		add(i, "多少钱")
	}
	next := h.srv.Config.Handler
	var stopped atomic.Bool
	h.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == path && !stopped.Swap(true) {
			if err := srv.Stop(); err != nil {
				t.Error(err)
			}
		}
		next.ServeHTTP(w, r)
	})
	calls := func() int {
		if videos {
			return h.jo.VideoCallCount()
		}
		return h.jo.CallCount()
	}
	before := calls()
	mark := len(logs.String())
	h.cycle(p)
	if got := calls() - before; got != 1 {
		t.Errorf("%d listings with the database down, want the one that found it down", got)
	}
	out := logs.String()[mark:]
	if n := strings.Count(out, "database unavailable"); n != 1 {
		t.Errorf("%d lines say the database is unavailable, want 1:\n%s", n, out)
	}
	if n := strings.Count(out, "level=WARN") + strings.Count(out, "level=ERROR"); n != 1 {
		t.Errorf("%d warnings and errors, want the one line of the outage:\n%s", n, out)
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	p.DatabaseBack()
	for range 3 {
		h.cycle(p)
	}
	h.wantPosts(5)
	byText := map[string]int{}
	for _, post := range h.kk.Posts() {
		byText[post.Text]++
	}
	for i := range 5 {
		if n := byText[fmt.Sprintf("客%d 你好，价格请看橱窗", i)]; n != 1 {
			t.Errorf("客%d answered %d times", i, n)
		}
	}
}
