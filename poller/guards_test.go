package poller_test

import (
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/poller"
	"github.com/autoreplyd/autoreplyd/simulator"
)

// An unknown outcome leaves no platform id for our reply; with the bot's uid
// NOT among self_uids, the reply showing up in the thread (whose text matches
// the price rule) is still recognised as ours by its text, never answered.
func TestUnknownOutcomeEchoNotAnsweredWithoutSelfUID(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{kkTimeout: 5 * time.Second, selfUIDs: []string{}}) // no self_uids
	p := h.newPoller(nil)
	h.initThreads(p)
	cid := h.add(threadA, "10000000000000002", "小明", "多少钱")
	h.kk.Faults.Push(simulator.Fault{Kind: simulator.FaultDropAfter})

	if st := h.cycle(p); st.Unknown != 1 {
		t.Fatalf("stats: %+v", st)
	}
	wantStatus(t, h.row(cid), model.StatusUnknown, "dropped")
	posts := h.wantPosts(1) // it was posted, and shows up in the thread
	h.takeEvents()
	st := h.cycle(p)
	if st.New != 1 || st.Claimed != 0 {
		t.Fatalf("echo cycle: %+v", st)
	}
	evs := h.takeEvents()
	if len(evs) != 1 || evs[0].Comment.ID != posts[0].CID || evs[0].Disposition != model.DispositionSelf {
		t.Fatalf("echo events: %+v", evs)
	}
	h.wantRequests(1)
}

// Without self_uids, a comment with exactly our reply text in the same
// thread may be our own reply and is not answered; in another thread it is
// a user's. With self_uids, only their authors' texts are ours.
func TestOwnTextIsPerThread(t *testing.T) {
	t.Parallel()
	two := []model.Thread{{ID: threadA, PostID: aweme}, {ID: threadB, PostID: aweme}}
	h := newHarness(t, setup{threads: two, noEcho: true, selfUIDs: []string{}})
	p := h.newPoller(nil)
	h.initThreads(p)
	h.add(threadA, "10000000000000002", "小明", "多少钱")
	if st := h.cycle(p); st.Sent != 1 {
		t.Fatalf("stats: %+v", st)
	}
	h.add(threadA, "10000000000000003", "小明", "小明 你好，价格请看橱窗")
	other := h.add(threadB, "10000000000000004", "小明", "小明 你好，价格请看橱窗")
	if st := h.cycle(p); st.Claimed != 1 {
		t.Fatalf("stats: %+v", st)
	}
	if rows := h.rowsOf(other); len(rows) != 1 || rows[0].Status != model.StatusSent {
		t.Fatalf("the other thread's comment: %+v", rows)
	}

	// With self_uids, a stranger's copy in the same thread is a comment.
	h = newHarness(t, setup{noEcho: true})
	p = h.newPoller(nil)
	h.initThreads(p)
	h.add(threadA, "10000000000000002", "小明", "多少钱")
	h.cycle(p)
	h.add(threadA, "10000000000000003", "小明", "小明 你好，价格请看橱窗")
	if st := h.cycle(p); st.Claimed != 1 {
		t.Fatalf("stranger's copy with self_uids: %+v", st)
	}
}

// The daily cap counts every answer a comment claims with continue: true.
func TestDailyCapCountsContinuedRules(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{})
	p := h.newPoller(func(o *poller.Options) {
		o.Pacing = map[string]poller.Pacing{responderName: {DailyCap: 1}}
	})
	h.initThreads(p)
	cid := h.add(threadA, "10000000000000002", "小红", "谢谢，很喜欢") // thanks (continue) + love
	st := h.cycle(p)
	if st.Sent != 1 || st.Skipped != 1 {
		t.Fatalf("stats: %+v", st)
	}
	byRule := map[string]string{}
	for _, r := range h.rowsOf(cid) {
		byRule[r.Rule] = r.Status + "/" + r.Reason
	}
	if byRule["thanks"] != "sent/" || byRule["love"] != "skipped/"+poller.ReasonDailyCap {
		t.Fatalf("rows: %v", byRule)
	}
	h.wantPosts(1)
}

// A due retry waits while the cap is reached, and goes out the next day.
func TestRetryWaitsForDailyCap(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{noEcho: true})
	p := h.newPoller(func(o *poller.Options) {
		o.Pacing = map[string]poller.Pacing{responderName: {DailyCap: 1}}
	})
	h.initThreads(p)
	c1 := h.add(threadA, "10000000000000002", "甲", "多少钱")
	h.kk.Faults.Push(simulator.Fault{Kind: simulator.FaultHTTPStatus, Status: 503})
	if st := h.cycle(p); st.Retrying != 1 {
		t.Fatalf("stats: %+v", st)
	}
	c2 := h.add(threadA, "10000000000000003", "乙", "多少钱")
	if st := h.cycle(p); st.Sent != 1 {
		t.Fatalf("stats: %+v", st)
	}
	wantStatus(t, h.row(c2), model.StatusSent, "")
	// The retry is due, but today's one answer is spent.
	h.clk.Advance(3 * time.Hour)
	if st := h.cycle(p); st.Sent != 0 {
		t.Fatalf("retry went past the cap: %+v", st)
	}
	if r := h.row(c1); r.Status != model.StatusRetrying {
		t.Fatalf("capped retry: %+v", r)
	}
	h.wantPosts(1)
	// The next local day it goes out.
	h.clk.Set(time.Date(2025, 3, 11, 0, 30, 0, 0, shanghai)) // within the 24h retry age
	if st := h.cycle(p); st.Sent != 1 {
		t.Fatalf("next day: %+v", st)
	}
	wantStatus(t, h.row(c1), model.StatusSent, "")
	h.wantPosts(2)
}
