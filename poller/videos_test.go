package poller_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/internal/syncbuf"
	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/platform"
	"github.com/autoreplyd/autoreplyd/poller"
	"github.com/autoreplyd/autoreplyd/simulator"
)

// videoHarness watches the video aweme only (no configured thread).
func videoHarness(t *testing.T, backlog string, topLevel bool) *harness {
	t.Helper()
	return newHarness(t, setup{threads: []model.Thread{}, backlog: backlog, videos: []platform.Video{{
		ID: aweme, Labels: map[string]string{"campaign": "春季🌸"}, AnswerTopLevel: topLevel,
		DiscoverThreads: true, MaxThreads: 200,
	}}})
}

// comment adds a top-level comment to the watched video.
func (h *harness) comment(uid, text string) string {
	return h.jo.AddComment(aweme, simulator.Reply{Text: text, UserUID: uid, Nickname: "路人" + uid,
		UniqueID: "u" + uid, CreateTime: h.nextTime()})
}

// billed returns the billed calls of the video listing and of the reply
// listing so far.
func (h *harness) billed() (video, replies int) {
	return h.jo.Billed(simulator.JustOneAPIVideoPath), h.jo.Billed(simulator.JustOneAPIPath)
}

func (h *harness) cycleOK(p *poller.Poller) poller.Stats {
	h.t.Helper()
	st := h.cycle(p)
	if st.Errors != 0 {
		h.t.Fatalf("cycle errors: %+v", st)
	}
	return st
}

// A new top-level comment is answered once, under itself; the backlog on
// first sight is not; an unchanged video then costs one billed call a
// cycle; a reply under the thread our answer started is answered once in
// that thread.
func TestVideoTopLevelAndDiscoveredThread(t *testing.T) {
	t.Parallel()
	h := videoHarness(t, "", true)
	p := h.newPoller(nil)
	old := h.comment("1001", "多少钱")
	oldReply := h.jo.AddReply(old, simulator.Reply{AwemeID: aweme, Text: "多少钱呀", UserUID: "1002", Nickname: "乙",
		CreateTime: h.nextTime(), ReplyToReplyID: "0"})
	h.cycleOK(p) // first sight: backlog
	h.wantPosts(0)
	if k := h.known(old); !k[old] {
		t.Fatalf("backlog comment %s not recorded", old)
	}
	if k := h.known(oldReply); k[oldReply] {
		t.Fatalf("the backlog thread's reply %s was polled: its count was its baseline", oldReply)
	}

	fresh := h.comment("1003", "请问多少钱")
	h.cycleOK(p)
	posts := h.wantPosts(1)
	if posts[0].ReplyID != fresh || posts[0].AwemeID != aweme {
		t.Fatalf("answer: want reply_id %s on %s, got %+v", fresh, aweme, posts[0])
	}
	r := h.row(fresh)
	wantStatus(t, r, model.StatusSent, "")
	if r.ThreadID != fresh || r.PostID != aweme {
		t.Fatalf("row: thread %s post %s", r.ThreadID, r.PostID)
	}

	// Our answer raised the comment's count: its thread is discovered and
	// polled, and our answer found there is ours.
	h.cycleOK(p)
	h.wantPosts(1)
	th, err := h.st.DiscoveredThreads(h.ctx, model.PlatformDouyin, aweme)
	if err != nil || len(th) != 2 {
		t.Fatalf("discovered threads: %+v, %v", th, err)
	}
	if ch, err := h.st.ChangedThreads(h.ctx, model.PlatformDouyin, aweme); err != nil || len(ch) != 0 {
		t.Fatalf("changed threads after their poll: %+v, %v", ch, err)
	}
	// Discovered, the thread carries the video's labels into history.
	if l := h.row(fresh).Labels; l != `{"campaign":"春季🌸"}` {
		t.Fatalf("labels of the answered comment's thread: %s", l)
	}

	// Idle: one billed call a cycle, the video's page 1.
	for range 3 {
		v0, r0 := h.billed()
		h.cycleOK(p)
		if v1, r1 := h.billed(); v1-v0 != 1 || r1 != r0 {
			t.Fatalf("idle cycle billed %d video and %d reply calls, want 1 and 0", v1-v0, r1-r0)
		}
	}

	// A stranger replies to our answer's thread: answered once there.
	reply := h.jo.AddReply(fresh, simulator.Reply{AwemeID: aweme, Text: "还是多少钱", UserUID: "1004", Nickname: "丙",
		CreateTime: h.nextTime(), ReplyToReplyID: "0"})
	h.cycleOK(p)
	posts = h.wantPosts(2)
	if posts[1].ReplyID != fresh {
		t.Fatalf("answer to the reply: want reply_id %s, got %+v", fresh, posts[1])
	}
	r = h.row(reply)
	wantStatus(t, r, model.StatusSent, "")
	if r.ThreadID != fresh || r.Labels != `{"campaign":"春季🌸"}` {
		t.Fatalf("reply row: thread %s labels %s", r.ThreadID, r.Labels)
	}
	for range 2 {
		h.cycleOK(p)
	}
	h.wantPosts(2)
	if k := h.known(oldReply); k[oldReply] {
		t.Fatalf("the backlog thread's reply %s was polled though its count never moved", oldReply)
	}
}

// top_level: skip records new top-level comments without evaluating them.
func TestVideoTopLevelSkip(t *testing.T) {
	t.Parallel()
	h := videoHarness(t, "", false)
	p := h.newPoller(nil)
	h.cycleOK(p)
	c := h.comment("1001", "多少钱")
	h.cycleOK(p)
	h.wantPosts(0)
	if k := h.known(c); !k[c] {
		t.Fatalf("skipped comment %s not recorded", c)
	}
	if rows := h.rowsOf(c); len(rows) != 0 {
		t.Fatalf("skipped comment evaluated: %+v", rows)
	}
	// Its thread is still watched: a reply there is answered.
	reply := h.jo.AddReply(c, simulator.Reply{AwemeID: aweme, Text: "多少钱", UserUID: "1002", Nickname: "乙",
		CreateTime: h.nextTime(), ReplyToReplyID: "0"})
	h.cycleOK(p)
	wantStatus(t, h.row(reply), model.StatusSent, "")
	h.wantPosts(1)
}

// backlog: answer answers the video's comments found at first sight, and
// the replies of its threads.
func TestVideoBacklogAnswer(t *testing.T) {
	t.Parallel()
	h := videoHarness(t, poller.BacklogAnswer, true)
	p := h.newPoller(nil)
	old := h.comment("1001", "多少钱")
	reply := h.jo.AddReply(old, simulator.Reply{AwemeID: aweme, Text: "我也想知道多少钱", UserUID: "1002", Nickname: "乙",
		CreateTime: h.nextTime(), ReplyToReplyID: "0"})
	h.cycleOK(p)
	wantStatus(t, h.row(old), model.StatusSent, "")
	h.cycleOK(p) // the thread, discovered by the first listing
	wantStatus(t, h.row(reply), model.StatusSent, "")
	for range 2 {
		h.cycleOK(p)
	}
	h.wantPosts(2)
}

// A thread that already had replies when the video was first seen (a
// baseline listing) is polled when a new reply raises its count: only the
// new reply is answered; the replies that were there are backlog, recorded
// and never answered.
func TestVideoBaselineThreadKeepsItsBacklog(t *testing.T) {
	t.Parallel()
	h := videoHarness(t, "", true)
	p := h.newPoller(nil)
	top := h.comment("1001", "这个好看")
	var olds []string
	for i := range 3 {
		olds = append(olds, h.jo.AddReply(top, simulator.Reply{AwemeID: aweme, Text: fmt.Sprintf("多少钱 %d", i),
			UserUID: fmt.Sprint(2000 + i), Nickname: "老观众", CreateTime: h.nextTime(), ReplyToReplyID: "0"}))
	}
	h.cycleOK(p) // first sight: the comment and its thread's count are the baseline
	h.wantPosts(0)
	h.clk.Advance(time.Minute)
	fresh := h.jo.AddReply(top, simulator.Reply{AwemeID: aweme, Text: "请问多少钱", UserUID: "3001", Nickname: "新观众🐼",
		CreateTime: h.clk.Now().Unix(), ReplyToReplyID: "0"})
	h.cycleOK(p)
	posts := h.wantPosts(1)
	if posts[0].ReplyID != top || posts[0].Text != "新观众🐼 你好，价格请看橱窗" {
		t.Fatalf("post: %+v", posts[0])
	}
	wantStatus(t, h.row(fresh), model.StatusSent, "")
	known := h.known(olds...)
	for _, id := range olds {
		if !known[id] {
			t.Errorf("backlog reply %s not recorded", id)
		}
		if rows := h.rowsOf(id); len(rows) != 0 {
			t.Errorf("backlog reply %s was claimed: %+v", id, rows)
		}
	}
	for range 2 {
		h.cycleOK(p)
	}
	h.wantPosts(1)
}

// A failing video listing: a retryable code or transport failure counts an
// error, saves no state, and the next cycle finds the new comment and
// answers it once; 303 pauses the whole source, as for a thread.
func TestVideoListingErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		fault simulator.Fault
	}{
		{"500", simulator.Fault{Kind: simulator.FaultCode, Code: 500}},
		{"HTTP 503", simulator.Fault{Kind: simulator.FaultHTTPStatus, Status: http.StatusServiceUnavailable}},
		{"broken JSON", simulator.Fault{Kind: simulator.FaultBrokenJSON}},
	} {
		t.Run(tc.name+" is retried next cycle", func(t *testing.T) {
			t.Parallel()
			h := videoHarness(t, "", true)
			p := h.newPoller(nil)
			h.cycleOK(p)
			before, _, err := h.st.ThreadState(h.ctx, model.PlatformDouyin, platform.VideoStateID(aweme))
			if err != nil || !before.Initialized {
				t.Fatalf("video state after first sight: %+v, %v", before, err)
			}
			c := h.comment("1001", "多少钱")
			h.jo.Faults.Push(tc.fault)
			if st := h.cycle(p); st.Errors != 1 || st.Claimed != 0 {
				t.Fatalf("stats: %+v", st)
			}
			after, _, err := h.st.ThreadState(h.ctx, model.PlatformDouyin, platform.VideoStateID(aweme))
			if err != nil || after.Polls != before.Polls || after.Total != before.Total {
				t.Fatalf("a failed listing saved the video's state: %+v -> %+v (%v)", before, after, err)
			}
			if len(p.Stopped()) != 0 {
				t.Fatalf("stopped: %v", p.Stopped())
			}
			h.cycleOK(p)
			wantStatus(t, h.row(c), model.StatusSent, "")
			h.cycleOK(p)
			h.cycleOK(p)
			h.wantPosts(1)
		})
	}
	t.Run("303 pauses the source", func(t *testing.T) {
		t.Parallel()
		h := videoHarness(t, "", true)
		p := h.newPoller(nil)
		h.cycleOK(p)
		c := h.comment("1001", "多少钱")
		h.jo.Faults.Push(simulator.Fault{Kind: simulator.FaultCode, Code: 303})
		if st := h.cycle(p); st.Errors != 1 {
			t.Fatalf("stats: %+v", st)
		}
		pauses, err := h.st.Pauses(h.ctx)
		if err != nil || len(pauses) != 1 || pauses[0].Scope != poller.SourceScope(model.PlatformDouyin) {
			t.Fatalf("pauses: %+v, %v", pauses, err)
		}
		calls := h.jo.VideoCallCount()
		h.cycle(p)
		if got := h.jo.VideoCallCount(); got != calls {
			t.Fatalf("the video was listed while its source was paused: %d -> %d calls", calls, got)
		}
		h.wantPosts(0)
		h.clk.Advance(24 * time.Hour)
		h.cycleOK(p)
		wantStatus(t, h.row(c), model.StatusSent, "")
		h.wantPosts(1)
	})
}

// A video keeps its max_threads most recently active discovered threads:
// the one idle longest is dropped, and the log names it.
func TestVideoMaxThreadsEvictionLogged(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{threads: []model.Thread{}, videos: []platform.Video{{
		ID: aweme, AnswerTopLevel: false, DiscoverThreads: true, MaxThreads: 2,
	}}})
	var logs syncbuf.Buffer
	p := h.newPoller(func(o *poller.Options) {
		o.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	})
	h.cycleOK(p)
	reply := func(thread, uid string) {
		h.jo.AddReply(thread, simulator.Reply{AwemeID: aweme, Text: "路过", UserUID: uid, Nickname: "乙" + uid,
			CreateTime: h.nextTime(), ReplyToReplyID: "0"})
	}
	first := h.comment("1001", "第一")
	second := h.comment("1002", "第二")
	reply(first, "2001")
	reply(second, "2002")
	h.cycleOK(p)
	h.clk.Advance(time.Minute)
	third := h.comment("1003", "第三")
	reply(third, "2003")
	reply(second, "2004")
	h.cycleOK(p)
	th, err := h.st.DiscoveredThreads(h.ctx, model.PlatformDouyin, aweme)
	if err != nil || len(th) != 2 {
		t.Fatalf("discovered threads: %+v, %v", th, err)
	}
	for _, d := range th {
		if d.ThreadID == first {
			t.Fatalf("the thread idle longest (%s) was kept: %+v", first, th)
		}
	}
	var dropped []string
	for line := range strings.Lines(logs.String()) {
		if strings.Contains(line, "discovered thread dropped") {
			dropped = append(dropped, line)
		}
	}
	if len(dropped) != 1 || !strings.Contains(dropped[0], " thread="+first+" ") || !strings.Contains(dropped[0], " video="+aweme+" ") ||
		!strings.Contains(dropped[0], "max_threads=2") {
		t.Fatalf("eviction log lines: %q\nall:\n%s", dropped, logs.String())
	}
}

// Quiet videos whose back-off ends together are not all listed in one
// long cycle: those due are listed the longest overdue first while the
// cycle's time for them lasts, the rest first thing next cycle.
func TestVideosQuietBudget(t *testing.T) {
	t.Parallel()
	var videos []platform.Video
	for i := range 6 {
		videos = append(videos, platform.Video{ID: fmt.Sprintf("72515179753400271%02d", i), AnswerTopLevel: true, DiscoverThreads: true, MaxThreads: 200})
	}
	h := newHarness(t, setup{threads: []model.Thread{}, videos: videos})
	var ticking atomic.Bool
	p := h.newPoller(func(o *poller.Options) {
		o.Period = time.Minute
		o.Bindings[0].MaxInterval = 10 * time.Minute
		o.Bindings[0].QuietPolls = 1
		o.Now = func() time.Time {
			if ticking.Load() {
				h.clk.Advance(5 * time.Second) // every look at the clock costs time
			}
			return h.clk.Now()
		}
	})
	for range 3 {
		h.cycleOK(p)
		h.clk.Advance(time.Minute)
	}
	h.clk.Advance(time.Hour) // every back-off over: all six due at once
	listed := func() map[string]int {
		out := map[string]int{}
		for _, c := range h.jo.VideoCalls() {
			out[c.AwemeID]++
		}
		return out
	}
	before := listed()
	ticking.Store(true)
	st := h.cycleOK(p)
	first := listed()
	polled := 0
	for _, v := range videos {
		polled += first[v.ID] - before[v.ID]
	}
	if polled == 0 || polled >= 6 || st.Deferred == 0 {
		t.Fatalf("a cycle with all six quiet videos due listed %d of them (stats %+v): want some, not all", polled, st)
	}
	// The rest follow, the longest overdue first: each listed once before
	// any is listed again.
	for range 5 {
		all := true
		now := listed()
		for _, v := range videos {
			n := now[v.ID] - before[v.ID]
			if n > 1 {
				t.Fatalf("video %s listed %d times before every overdue video was listed once: %v", v.ID, n, now)
			}
			all = all && n == 1
		}
		if all {
			return
		}
		h.cycleOK(p)
	}
	t.Fatalf("not every overdue video was listed in six cycles: %v", listed())
}
