package main

// End-to-end tests of unknown outcomes: reconciled when our reply shows up in
// the thread, and settled by hand with `autoreplyd resolve`.

import (
	"bufio"
	"encoding/json"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/internal/testutil"
	"github.com/autoreplyd/autoreplyd/simulator"
)

// claimRecord is the part of a history JSON record these tests read.
type claimRecord struct {
	ID              int64  `json:"id"`
	CommentID       string `json:"comment_id"`
	Status          string `json:"status"`
	Reason          string `json:"reason"`
	Error           string `json:"error"`
	ReplyText       string `json:"reply_text"`
	PlatformReplyID string `json:"platform_reply_id"`
}

// claimOf returns the single claim about comment cid, from `autoreplyd history`.
func (w *world) claimOf(cid string) claimRecord {
	w.t.Helper()
	stdout, stderr, code := w.run("history", "--config", w.cfg, "--format", "json", "--limit", "0")
	if code != 0 {
		w.t.Fatalf("history exited %d:\n%s", code, stderr)
	}
	var found []claimRecord
	sc := bufio.NewScanner(strings.NewReader(stdout))
	for sc.Scan() {
		var r claimRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			w.t.Fatalf("history line %q: %v", sc.Text(), err)
		}
		if r.CommentID == cid {
			found = append(found, r)
		}
	}
	if len(found) != 1 {
		w.t.Fatalf("comment %s: want 1 claim, got %+v", cid, found)
	}
	return found[0]
}

// resolve runs `autoreplyd resolve` and requires success.
func (w *world) resolve(id int64, flag string) string {
	w.t.Helper()
	stdout, stderr, code := w.run("resolve", "--config", w.cfg, strconv.FormatInt(id, 10), flag)
	if code != 0 {
		w.t.Fatalf("resolve %d %s exited %d:\n%s%s", id, flag, code, stdout, stderr)
	}
	return stdout
}

// kitkot posts the reply, then drops the connection: the outcome is unknown.
// Our reply shows up in the thread, and the next cycle settles the claim sent.
func TestEndToEndReconcilesUnknownSend(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "@every 1h", true) // the bot's uid is in self_uids
	w.once()                            // first sight
	id := w.add(threadA, "请问多少钱", "阿强", "4001")
	w.kk.Faults.Push(simulator.Fault{Kind: simulator.FaultDropAfter})
	w.once()
	if c := w.claimOf(id); c.Status != "unknown" || c.Reason != "dropped" || c.PlatformReplyID != "" {
		t.Fatalf("after the dropped answer: %+v", c)
	}
	posts := w.kk.Posts()
	if len(posts) != 1 {
		t.Fatalf("posts: %+v", posts)
	}

	stderr := w.once()
	c := w.claimOf(id)
	if c.Status != "sent" || c.Reason != "reconciled" || c.PlatformReplyID != posts[0].CID || c.ReplyText != "阿强 你好，价格请看橱窗[比心]" {
		t.Fatalf("after our reply showed up: %+v", c)
	}
	if !strings.Contains(stderr, "unknown send reconciled") {
		t.Errorf("the reconciliation was not logged:\n%s", stderr)
	}
	w.once()
	if n := w.kk.Requests(); n != 1 {
		t.Fatalf("kitkot saw %d requests, want 1", n)
	}
}

// A stranger who posts exactly the text of an unknown send does not settle
// it (before, the claim became sent/reconciled with the stranger's comment
// id): only replies by self_uids reconcile. The stranger is a commenter.
func TestEndToEndStrangerCopyDoesNotReconcile(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "@every 1h", true)
	w.kk.OnPost = nil // our reply never shows up
	w.once()          // first sight
	id := w.add(threadA, "请问多少钱", "阿强", "4001")
	w.kk.Faults.Push(simulator.Fault{Kind: simulator.FaultDropAfter})
	w.once()
	if c := w.claimOf(id); c.Status != "unknown" {
		t.Fatalf("after the dropped answer: %+v", c)
	}
	copycat := w.add(threadA, "阿强 你好，价格请看橱窗[比心]", "学人精", "4009")
	stderr := w.once()
	if c := w.claimOf(id); c.Status != "unknown" || c.Reason != "dropped" || c.PlatformReplyID != "" {
		t.Fatalf("the stranger's copy settled the claim: %+v", c)
	}
	if strings.Contains(stderr, "unknown send reconciled") {
		t.Errorf("a reconciliation was logged:\n%s", stderr)
	}
	if c := w.claimOf(copycat); c.Status != "sent" {
		t.Errorf("the stranger's comment was not evaluated and answered: %+v", c)
	}
}

// With nothing showing up in the thread, unknown outcomes stay unknown until
// the operator settles them: --drop gives up, --retry sends once more.
func TestEndToEndResolveByHand(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "@every 1s", true)
	w.kk.OnPost = nil // our replies never show up in the thread: nothing reconciles
	w.once()          // first sight

	// Killed mid-send: the claim becomes unknown (crashed) at the restart.
	killed := w.add(threadA, "多少钱呀", "阿强", "4001")
	w.kk.Faults.Push(simulator.Fault{Kind: simulator.FaultSlowAfter, Delay: 20 * time.Second})
	d := w.start()
	testutil.WaitFor(t, "the reply to reach kitkot", func() bool { return len(w.kk.Posts()) == 1 })
	must(t, d.cmd.Process.Signal(syscall.SIGKILL))
	<-d.done
	w.once()
	w.once()
	c := w.claimOf(killed)
	if c.Status != "unknown" || c.Reason != "crashed" {
		t.Fatalf("after kill -9: %+v", c)
	}

	// The operator saw the reply on Douyin... and decides to leave it there.
	out := w.resolve(c.ID, "--drop")
	want := "claim " + strconv.FormatInt(c.ID, 10) + " (douyin comment " + killed + ", rule price): unknown → failed (resolved_drop)\n"
	if out != want {
		t.Fatalf("resolve --drop printed %q, want %q", out, want)
	}
	if c := w.claimOf(killed); c.Status != "failed" || c.Reason != "resolved_drop" || !strings.HasPrefix(c.Error, "resolved by hand") {
		t.Fatalf("after resolve --drop: %+v", c)
	}
	// Exactly one action is taken.
	_, stderr, code := w.run("resolve", "--config", w.cfg, strconv.FormatInt(c.ID, 10), "--sent", "--drop")
	if code != 1 || !strings.Contains(stderr, "exactly one") {
		t.Fatalf("two actions: exit %d, %s", code, stderr)
	}

	// Dropped before kitkot took it: unknown, and nothing was posted.
	lost := w.add(threadB, "真好看", "小美", "5001")
	w.kk.Faults.Push(simulator.Fault{Kind: simulator.FaultDrop})
	w.once()
	c = w.claimOf(lost)
	if c.Status != "unknown" || c.Reason != "dropped" {
		t.Fatalf("after the dropped request: %+v", c)
	}
	w.once()
	if n := len(w.kk.Posts()); n != 1 {
		t.Fatalf("an unknown outcome was resent: %d posts", n)
	}

	// The operator finds no reply on Douyin: --retry sends it exactly once.
	if out := w.resolve(c.ID, "--retry"); !strings.HasSuffix(out, ": unknown → retrying (resolved_retry)\n") {
		t.Fatalf("resolve --retry printed %q", out)
	}
	w.once()
	if got := postsByText(w.kk)["谢谢小美！"]; got != 1 || len(w.kk.Posts()) != 2 {
		t.Fatalf("after resolve --retry: %d posts of the answer, %d in all", got, len(w.kk.Posts()))
	}
	if c := w.claimOf(lost); c.Status != "sent" || c.PlatformReplyID == "" {
		t.Fatalf("after the retry: %+v", c)
	}
	w.once()
	if n := len(w.kk.Posts()); n != 2 {
		t.Fatalf("the retried answer went out again: %d posts", n)
	}
	// A sent claim cannot be resolved.
	_, stderr, code = w.run("resolve", "--config", w.cfg, strconv.FormatInt(c.ID, 10), "--retry")
	if code != 1 || !strings.Contains(stderr, "it is sent") {
		t.Fatalf("resolve of a sent claim: exit %d, %s", code, stderr)
	}
}
