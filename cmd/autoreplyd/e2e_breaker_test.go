package main

import (
	"strings"
	"testing"

	"github.com/autoreplyd/autoreplyd/simulator"
)

// Five refusals of the account in a row pause the responder: the sixth
// answer is held (not lost, not failed), the pause is listed and survives
// the process, and `autoreplyd resume` lifts it so the next cycle sends the
// held answer.
func TestEndToEndResponderBreaker(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "@every 1h", true)
	w.once()
	var refused []string
	for i := range 5 {
		refused = append(refused, w.add(threadA, "多少钱", "甲"+string(rune('0'+i)), "700"+string(rune('1'+i))))
		w.kk.Faults.Push(simulator.Fault{Kind: simulator.FaultCode, Code: 400, Msg: "Invalid session_key: please log in again"})
	}
	held := w.add(threadA, "价格?", "乙", "7009")
	stderr := w.once()
	if !strings.Contains(stderr, "RESPONDER PAUSED") {
		t.Fatalf("the breaker did not say so loudly:\n%s", stderr)
	}
	if n := w.kk.Requests(); n != 5 {
		t.Fatalf("kitkot requests: %d, want 5", n)
	}
	status := map[string]string{}
	for _, r := range w.history() {
		status[r.CommentID] = r.Status + "/" + r.Reason
	}
	for _, cid := range refused {
		if status[cid] != "failed/platform_400" {
			t.Fatalf("refused %s: %q (all: %v)", cid, status[cid], status)
		}
	}
	if status[held] != "retrying/responder_paused" {
		t.Fatalf("held: %q", status[held])
	}

	out, stderr, code := w.run("resume", "--list", "--config", w.cfg)
	if code != 0 || !strings.Contains(out, "responder:kitkot paused until") || !strings.Contains(out, "code 400") {
		t.Fatalf("resume --list: exit %d\n%s%s", code, out, stderr)
	}
	out, _, _ = w.run("check", "--config", w.cfg)
	if !strings.Contains(out, "paused: responder:kitkot") {
		t.Fatalf("check does not show the pause:\n%s", out)
	}

	// A restart alone does not resume the responder.
	stderr = w.once()
	if n := w.kk.Requests(); n != 5 {
		t.Fatalf("kitkot requests after a restart: %d, want 5", n)
	}
	if !strings.Contains(stderr, "responder paused") {
		t.Fatalf("the running pause was not logged:\n%s", stderr)
	}

	out, stderr, code = w.run("resume", "--config", w.cfg, "responder:kitkot")
	if code != 0 || !strings.Contains(out, "resumed: responder:kitkot") {
		t.Fatalf("resume: exit %d\n%s%s", code, out, stderr)
	}
	out, _, _ = w.run("resume", "--list", "--config", w.cfg)
	if strings.TrimSpace(out) != "no pauses in force" {
		t.Fatalf("list after resume:\n%s", out)
	}
	w.once()
	for _, r := range w.history() {
		if r.CommentID == held && r.Status != "sent" {
			t.Fatalf("held answer after resume: %s/%s", r.Status, r.Reason)
		}
	}
	if got := postsByText(w.kk)["乙 你好，价格请看橱窗[比心]"]; got != 1 {
		t.Fatalf("held answer posted %d times: %v", got, postsByText(w.kk))
	}
}

// Commenters cannot pause the bot for everyone: five (breaker_failures)
// users whose nicknames, echoed by the template, are against kitkot's
// guidelines get their own replies refused, and the next commenter is still
// answered in the same cycle; nothing is paused.
func TestEndToEndContentRefusalsDoNotPause(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "@every 1h", true)
	w.kk.BannedWords = []string{"违规"}
	w.once()
	var refused []string
	for i := range 5 {
		refused = append(refused, w.add(threadA, "多少钱", "违规昵称"+string(rune('0'+i)), "700"+string(rune('1'+i))))
	}
	ok := w.add(threadA, "价格?", "乙", "7009")
	stderr := w.once()
	if strings.Contains(stderr, "RESPONDER PAUSED") {
		t.Fatalf("refusals of single replies paused the responder:\n%s", stderr)
	}
	if n := w.kk.Requests(); n != 6 {
		t.Fatalf("kitkot requests: %d, want 6", n)
	}
	status := map[string]string{}
	for _, r := range w.history() {
		status[r.CommentID] = r.Status + "/" + r.Reason
	}
	for _, cid := range refused {
		if status[cid] != "failed/platform_400" {
			t.Fatalf("refused %s: %q (all: %v)", cid, status[cid], status)
		}
	}
	if status[ok] != "sent/" {
		t.Fatalf("the next commenter: %q (all: %v)", status[ok], status)
	}
	out, stderr, code := w.run("resume", "--list", "--config", w.cfg)
	if code != 0 || strings.TrimSpace(out) != "no pauses in force" {
		t.Fatalf("resume --list: exit %d\n%s%s", code, out, stderr)
	}
}
