package poller_test

import (
	"errors"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/poller"
	"github.com/autoreplyd/autoreplyd/store"
)

const approvalRules = `rules:
  - name: complaint
    when: 'containsAny(text, ["投诉", "退款"])'
    action: flag
    notify: [ops, boss]
  - name: price
    when: 'text matches "多少钱|价格"'
    reply: '{{ user.nickname }} 你好，价格请看橱窗'
    approve: true
    cooldown: {user: 24h}
    notify: [ops]
  - name: thanks
    when: 'text contains "谢谢"'
    reply: '不客气～'
    notify: [ops]
`

// A person in the loop: a flagged comment and a held answer send nothing;
// the held answer goes out once, with the edited text, after approval,
// through the normal send path; a rejected or expired one never does.
func TestFlagAndApprove(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{rules: approvalRules})
	p := h.newPoller(func(o *poller.Options) { o.ApprovalMaxAge = 24 * time.Hour })
	h.initThreads(p)

	complaint := h.add(threadA, "10000000000000002", "老王", "我要投诉，退款！")
	price := h.add(threadA, "10000000000000003", "小明🍓", "这个多少钱")
	thanks := h.add(threadA, "10000000000000004", "小红", "谢谢")
	st := h.cycle(p)
	if st.Flagged != 1 || st.Held != 1 || st.Sent != 1 || st.Claimed != 3 {
		t.Fatalf("stats: %+v", st)
	}
	posts := h.wantPosts(1)
	if posts[0].Text != "不客气～" {
		t.Fatalf("post: %+v", posts[0])
	}
	wantStatus(t, h.row(complaint), model.StatusFlagged, "")
	held := h.row(price)
	wantStatus(t, held, model.StatusHeld, "")
	if held.ReplyText != "小明🍓 你好，价格请看橱窗" {
		t.Fatalf("held text: %q", held.ReplyText)
	}
	wantStatus(t, h.row(thanks), model.StatusSent, "")

	// Every claim of a rule with notify is in the outbox, once per channel.
	due, err := h.st.DueNotifications(h.ctx, "", h.clk.Now(), 0)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, n := range due {
		got[n.Claim.CommentID+"/"+n.Channel+"/"+n.Event]++
	}
	want := map[string]int{complaint + "/ops/flagged": 1, complaint + "/boss/flagged": 1,
		price + "/ops/held": 1, thanks + "/ops/answered": 1}
	if len(got) != len(want) {
		t.Fatalf("outbox: %v, want %v", got, want)
	}
	for k, n := range want {
		if got[k] != n {
			t.Fatalf("outbox: %v, want %v", got, want)
		}
	}

	// Held answers count for pacing: the same person asking again within
	// the cooldown is not held a second time.
	again := h.add(threadA, "10000000000000003", "小明🍓", "价格是多少")
	h.cycle(p)
	wantStatus(t, h.row(again), model.StatusSkipped, "cooldown")
	// Held back by pacing: nobody is told.
	if due, err := h.st.DueNotifications(h.ctx, "", h.clk.Now(), 0); err != nil || len(due) != 4 {
		t.Fatalf("outbox after a paced comment: %d rows, %v", len(due), err)
	}

	// Nothing is sent while the answer is held.
	h.clk.Advance(time.Hour)
	h.cycle(p)
	h.wantPosts(1)

	// Approved with an edited text: sent once by the next cycle.
	if _, after, err := h.st.Decide(h.ctx, held.ID, store.Decision{Action: store.DecideApprove, Text: "小明，价格在橱窗第一格 🛒", By: "lin", MaxAge: 24 * time.Hour}, h.clk.Now()); err != nil || after != model.StatusRetrying {
		t.Fatalf("approve: %s, %v", after, err)
	}
	h.cycle(p)
	posts = h.wantPosts(2)
	if posts[1].Text != "小明，价格在橱窗第一格 🛒" || posts[1].ReplyID != threadA {
		t.Fatalf("approved post: %+v", posts[1])
	}
	r := h.row(price)
	wantStatus(t, r, model.StatusSent, "")
	if r.DecidedBy != "lin" || r.PlatformReplyID != posts[1].CID || r.Attempts != 1 {
		t.Fatalf("approved row: %+v", r)
	}
	for range 2 {
		h.cycle(p)
	}
	h.wantPosts(2)

	// Rejected: never sent. Expired: never sent, and too late to approve.
	rejected := h.add(threadA, "10000000000000005", "甲", "价格？")
	late := h.add(threadA, "10000000000000006", "乙", "多少钱呀")
	h.cycle(p)
	if _, _, err := h.st.Decide(h.ctx, h.row(rejected).ID, store.Decision{Action: store.DecideReject, By: "lin", Note: "不回答"}, h.clk.Now()); err != nil {
		t.Fatal(err)
	}
	h.clk.Advance(25 * time.Hour)
	st = h.cycle(p)
	if st.Expired != 1 {
		t.Fatalf("expiry cycle: %+v", st)
	}
	wantStatus(t, h.row(late), model.StatusExpired, model.ReasonMaxAge)
	wantStatus(t, h.row(rejected), model.StatusRejected, "")
	if _, _, err := h.st.Decide(h.ctx, h.row(late).ID, store.Decision{Action: store.DecideApprove, By: "lin", MaxAge: 24 * time.Hour}, h.clk.Now()); !errors.Is(err, store.ErrNotDecidable) {
		t.Fatalf("approving an expired answer: %v", err)
	}
	h.cycle(p)
	h.wantPosts(2)

	// done settles a flagged comment.
	if _, after, err := h.st.Decide(h.ctx, h.row(complaint).ID, store.Decision{Action: store.DecideDone, By: "客服"}, h.clk.Now()); err != nil || after != model.StatusHandled {
		t.Fatalf("done: %s, %v", after, err)
	}
	counts, err := h.st.InboxCounts(h.ctx)
	if err != nil || counts[model.StatusFlagged] != 0 || counts[model.StatusHeld] != 0 {
		t.Fatalf("inbox after everything: %v, %v", counts, err)
	}
}

// A held answer in a dry run is held too; approved, it is not sent while
// the run is dry (a dry run sends nothing, retries included), and stays due.
func TestApproveInDryRun(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{rules: approvalRules})
	p := h.newPoller(func(o *poller.Options) { o.DryRun = true })
	h.initThreads(p)
	price := h.add(threadA, "10000000000000003", "小明", "多少钱")
	h.cycle(p)
	wantStatus(t, h.row(price), model.StatusHeld, "")
	if _, _, err := h.st.Decide(h.ctx, h.row(price).ID, store.Decision{Action: store.DecideApprove, By: "lin"}, h.clk.Now()); err != nil {
		t.Fatal(err)
	}
	h.cycle(p)
	h.wantPosts(0)
	wantStatus(t, h.row(price), model.StatusRetrying, model.ReasonApproved)
	// The same database under a run that sends: sent.
	sending := h.newPoller(nil)
	h.cycle(sending)
	h.wantPosts(1)
	wantStatus(t, h.row(price), model.StatusSent, "")
}
