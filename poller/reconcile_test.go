package poller_test

import (
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/internal/syncbuf"
	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/poller"
	"github.com/autoreplyd/autoreplyd/simulator"
	"github.com/autoreplyd/autoreplyd/store"
)

// heldEchoes replaces the harness's echo: each accepted post is stamped with
// the injected clock's time (the harness's own echo is stamped an hour in
// the past, before any claim) and held until release puts it in its thread.
type heldEchoes struct {
	h     *harness
	mu    sync.Mutex
	held  []simulator.Reply
	posts []simulator.Post
}

func holdEchoes(h *harness) *heldEchoes {
	e := &heldEchoes{h: h}
	h.kk.OnPost = func(p simulator.Post) {
		e.mu.Lock()
		defer e.mu.Unlock()
		e.posts = append(e.posts, p)
		e.held = append(e.held, simulator.Reply{CID: p.CID, AwemeID: p.AwemeID, Text: p.Text,
			UserUID: h.kk.BotUID, Nickname: h.kk.BotNickname, CreateTime: h.clk.Now().Unix(), ReplyToReplyID: "0"})
	}
	return e
}

// release puts the i-th held echo (in post order) into the thread it
// answers and returns its cid.
func (e *heldEchoes) release(i int) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.h.jo.AddReply(e.posts[i].ReplyID, e.held[i])
	return e.held[i].CID
}

// unknownSend adds a comment of uid and nick with text to thread A, and has
// kitkot drop the connection after posting its answer: the cycle leaves the
// claim unknown. It returns the comment's id.
func (h *harness) unknownSend(p *poller.Poller, uid, nick, text string) string {
	h.t.Helper()
	cid := h.add(threadA, uid, nick, text)
	h.kk.Faults.Push(simulator.Fault{Kind: simulator.FaultDropAfter})
	if st := h.cycle(p); st.Unknown != 1 {
		h.t.Fatalf("stats: %+v", st)
	}
	return cid
}

func wantReconciled(t *testing.T, r store.HistoryRow, replyID string) {
	t.Helper()
	wantStatus(t, r, model.StatusSent, store.ReasonReconciled)
	if r.PlatformReplyID != replyID {
		t.Fatalf("claim %d: platform reply id %q, want the echo's %q", r.ID, r.PlatformReplyID, replyID)
	}
}

// An unknown send whose reply shows up in the thread, after the claim,
// written by one of our accounts (self_uids), is settled sent (reconciled),
// with the reply's id; it is never resent.
func TestReconcileUnknownWhenOurReplyShowsUp(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		selfUIDs []string
	}{
		{"self uid", []string{selfUID, botUID}},
		{"only self uid", []string{botUID}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, setup{selfUIDs: tc.selfUIDs})
			echoes := holdEchoes(h)
			var logs syncbuf.Buffer
			p := h.newPoller(func(o *poller.Options) {
				o.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			})
			h.initThreads(p)
			cid := h.add(threadA, "10000000000000002", "小明", "请问多少钱？")
			h.kk.Faults.Push(simulator.Fault{Kind: simulator.FaultDropAfter})
			if st := h.cycle(p); st.Unknown != 1 {
				t.Fatalf("stats: %+v", st)
			}
			wantStatus(t, h.row(cid), model.StatusUnknown, "dropped")
			h.takeEvents()

			h.clk.Advance(time.Minute)
			echo := echoes.release(0)
			st := h.cycle(p)
			if st.New != 1 || st.Claimed != 0 || st.Sent != 0 || st.Errors != 0 {
				t.Fatalf("echo cycle: %+v", st)
			}
			r := h.row(cid)
			wantReconciled(t, r, echo)
			if r.ReplyText != "小明 你好，价格请看橱窗" || !r.UpdatedAt.Equal(h.clk.Now()) {
				t.Fatalf("reconciled row: %+v", r)
			}
			// The echo is recorded as ours, and nothing else is emitted.
			evs := h.takeEvents()
			if len(evs) != 1 || evs[0].Comment.ID != echo || evs[0].Disposition != model.DispositionSelf || evs[0].Status != "" {
				t.Fatalf("echo events: %+v", evs)
			}
			if k := h.known(echo); !k[echo] {
				t.Fatalf("echo not recorded")
			}
			out := logs.String()
			if !strings.Contains(out, "unknown send reconciled: our reply showed up in the thread") ||
				!strings.Contains(out, "claim="+strconv.FormatInt(r.ID, 10)) || !strings.Contains(out, "comment="+echo) {
				t.Fatalf("no reconcile log line:\n%s", out)
			}

			// Never resent, however long we wait.
			for _, d := range []time.Duration{time.Minute, time.Hour, 24 * time.Hour} {
				h.clk.Advance(d)
				if st := h.cycle(p); st.Claimed != 0 || st.Sent != 0 || st.New != 0 {
					t.Fatalf("later cycle: %+v", st)
				}
			}
			h.wantRequests(1)
			wantReconciled(t, h.row(cid), echo)
		})
	}
}

// An unknown send whose reply never shows up stays unknown.
func TestReconcileNoEchoStaysUnknown(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{noEcho: true})
	p := h.newPoller(nil)
	h.initThreads(p)
	cid := h.unknownSend(p, "10000000000000002", "小明", "多少钱")
	// Other people keep talking in the thread.
	for i, d := range []time.Duration{time.Minute, time.Hour, 24 * time.Hour} {
		h.clk.Advance(d)
		h.add(threadA, "1000000000000010"+strconv.Itoa(i), "路人", "随便看看")
		if st := h.cycle(p); st.Claimed != 0 || st.Sent != 0 {
			t.Fatalf("later cycle: %+v", st)
		}
	}
	r := h.row(cid)
	wantStatus(t, r, model.StatusUnknown, "dropped")
	if r.PlatformReplyID != "" {
		t.Fatalf("row: %+v", r)
	}
	h.wantRequests(1)
}

// Two unknown sends with the same text in the same thread: each reply that
// shows up settles one claim, the oldest first.
func TestReconcileTwoUnknownSameText(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{selfUIDs: []string{selfUID, botUID}})
	echoes := holdEchoes(h)
	p := h.newPoller(nil)
	h.initThreads(p)

	// Two people called 小明 ask; both answers read the same.
	c1 := h.add(threadA, "10000000000000002", "小明", "多少钱")
	h.kk.Faults.Push(simulator.Fault{Kind: simulator.FaultDropAfter})
	if st := h.cycle(p); st.Unknown != 1 {
		t.Fatalf("stats: %+v", st)
	}
	h.clk.Advance(3 * time.Minute)
	c2 := h.add(threadA, "10000000000000003", "小明", "价格多少")
	h.kk.Faults.Push(simulator.Fault{Kind: simulator.FaultDropAfter})
	if st := h.cycle(p); st.Unknown != 1 {
		t.Fatalf("stats: %+v", st)
	}
	r1, r2 := h.row(c1), h.row(c2)
	if r1.ReplyText != r2.ReplyText || r1.ThreadID != r2.ThreadID {
		t.Fatalf("not the same text and thread: %+v %+v", r1, r2)
	}

	h.clk.Advance(time.Minute)
	e1 := echoes.release(0)
	if st := h.cycle(p); st.New != 1 || st.Claimed != 0 {
		t.Fatalf("first echo cycle: %+v", st)
	}
	wantReconciled(t, h.row(c1), e1)
	wantStatus(t, h.row(c2), model.StatusUnknown, "dropped")

	h.clk.Advance(time.Minute)
	e2 := echoes.release(1)
	if st := h.cycle(p); st.New != 1 || st.Claimed != 0 {
		t.Fatalf("second echo cycle: %+v", st)
	}
	wantReconciled(t, h.row(c1), e1)
	wantReconciled(t, h.row(c2), e2)
	h.wantRequests(2)
}

// A user's comment with our text, posted before the claim, is not our reply:
// the claim stays unknown until the real reply shows up.
func TestReconcileIgnoresOlderLookAlike(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{selfUIDs: []string{selfUID, botUID}})
	echoes := holdEchoes(h)
	p := h.newPoller(nil)
	h.initThreads(p)
	cid := h.unknownSend(p, "10000000000000002", "小明", "多少钱")
	claimed := h.row(cid).CreatedAt

	// A stranger wrote exactly our answer, an hour before we claimed (it
	// shows up late in the listing).
	h.clk.Advance(time.Minute)
	look := h.jo.AddReply(threadA, simulator.Reply{AwemeID: aweme, Text: "小明 你好，价格请看橱窗", UserUID: "10000000000000009",
		Nickname: "学人精", UniqueID: "u10000000000000009", CreateTime: claimed.Add(-time.Hour).Unix(), ReplyToReplyID: "0"})
	if st := h.cycle(p); st.New != 1 {
		t.Fatalf("look-alike cycle: %+v", st)
	}
	r := h.row(cid)
	wantStatus(t, r, model.StatusUnknown, "dropped")
	if r.PlatformReplyID != "" {
		t.Fatalf("row: %+v", r)
	}
	if k := h.known(look); !k[look] {
		t.Fatalf("look-alike not recorded")
	}

	h.clk.Advance(time.Minute)
	echo := echoes.release(0)
	h.cycle(p)
	wantReconciled(t, h.row(cid), echo)
	h.wantRequests(2) // the stranger is a commenter: answered too
}

// Reconciliation by text trusts only our accounts: a stranger who posts
// exactly the text of an unknown send, after it, settles nothing (the claim
// was not marked sent with their comment's id, as it was before) and is a
// commenter like any other. Without self_uids nobody can tell: a comment
// with our text is not answered (it may be our reply) but settles nothing,
// and our real reply does not either: the operator resolves the claim.
func TestReconcileByTextOnlyFromOurAccounts(t *testing.T) {
	t.Parallel()
	t.Run("stranger copies our text", func(t *testing.T) {
		h := newHarness(t, setup{selfUIDs: []string{selfUID, botUID}, noEcho: true})
		p := h.newPoller(nil)
		h.initThreads(p)
		cid := h.unknownSend(p, "10000000000000002", "小明", "多少钱")
		h.takeEvents()
		h.clk.Advance(time.Minute)
		copycat := h.jo.AddReply(threadA, simulator.Reply{AwemeID: aweme, Text: "小明 你好，价格请看橱窗", UserUID: "10000000000000009",
			Nickname: "学人精", UniqueID: "u10000000000000009", CreateTime: h.clk.Now().Unix(), ReplyToReplyID: "0"})
		st := h.cycle(p)
		if st.New != 1 {
			t.Fatalf("copycat cycle: %+v", st)
		}
		r := h.row(cid)
		wantStatus(t, r, model.StatusUnknown, "dropped")
		if r.PlatformReplyID != "" {
			t.Fatalf("the unknown claim took the copycat's id: %+v", r)
		}
		evs := h.takeEvents()
		if len(evs) == 0 || evs[0].Comment.ID != copycat || evs[0].Disposition != model.DispositionEvaluated {
			t.Fatalf("copycat events: %+v", evs)
		}
	})
	t.Run("no self_uids", func(t *testing.T) {
		h := newHarness(t, setup{selfUIDs: []string{}})
		echoes := holdEchoes(h)
		p := h.newPoller(nil)
		h.initThreads(p)
		cid := h.unknownSend(p, "10000000000000002", "小明", "多少钱")
		h.takeEvents()
		h.clk.Advance(time.Minute)
		echo := echoes.release(0)
		if st := h.cycle(p); st.New != 1 || st.Claimed != 0 {
			t.Fatalf("echo cycle: %+v", st)
		}
		wantStatus(t, h.row(cid), model.StatusUnknown, "dropped")
		evs := h.takeEvents()
		if len(evs) != 1 || evs[0].Comment.ID != echo || evs[0].Disposition != model.DispositionSelf {
			t.Fatalf("echo events: %+v", evs)
		}
		h.wantRequests(1)
	})
}

// A reply we posted (known by its id) by an account missing from self_uids
// is worth a warning, once: its text would not be trusted after an unknown
// send.
func TestWarnsOnceWhenSelfUIDsMissAnsweringAccount(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{}) // self_uids: selfUID only; the bot posts as botUID
	var logs syncbuf.Buffer
	p := h.newPoller(func(o *poller.Options) {
		o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	h.initThreads(p)
	h.add(threadA, "10000000000000002", "小明", "多少钱")
	h.cycle(p) // answered; the echo shows up
	h.add(threadA, "10000000000000003", "小红", "价格多少")
	h.cycle(p) // the first echo is seen; the second answer goes out
	h.cycle(p) // the second echo is seen
	if n := strings.Count(logs.String(), "our answers are posted as an account missing from self_uids"); n != 1 {
		t.Fatalf("%d warnings, want 1:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), "uid="+botUID) || !strings.Contains(logs.String(), "key=sources.douyin.self_uids") {
		t.Fatalf("the warning does not name the key and the account:\n%s", logs.String())
	}
}
