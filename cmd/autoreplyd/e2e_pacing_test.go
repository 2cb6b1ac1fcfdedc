package main

import (
	"os"
	"path/filepath"
	"testing"
)

// pacingRules is e2eRules with a cooldown on the price rule.
const pacingRules = `rules:
  - name: spam
    when: 'containsAny(text, ["加微信", "vx"])'
  - name: price
    when: 'text matches "多少钱|价格|how much"'
    reply: '{{ user.nickname }} 你好，价格请看橱窗[比心]'
    cooldown: {user: 24h}
  - name: thanks
    when: 'text contains "好看"'
    reply: '谢谢{{ user.nickname }}！'
`

func newPacingWorld(t *testing.T) *world {
	t.Helper()
	w := newWorld(t, "@every 1h", true)
	must(t, os.WriteFile(filepath.Join(w.dir, "rules.yaml"), []byte(pacingRules), 0o644))
	w.once() // first sight of the (empty) threads
	return w
}

// byCommentID indexes history rows by comment id (one claim each here).
func byCommentID(t *testing.T, rows []historyRow) map[string]historyRow {
	t.Helper()
	m := map[string]historyRow{}
	for _, r := range rows {
		if _, dup := m[r.CommentID]; dup {
			t.Fatalf("comment %s has more than one claim: %+v", r.CommentID, rows)
		}
		m[r.CommentID] = r
	}
	return m
}

// One person writes twice within the cooldown and gets one answer: the
// second comment is recorded skipped with reason cooldown, and a later
// cycle (a restart of `run --once`) does not answer it.
func TestEndToEndCooldownOneAnswer(t *testing.T) {
	t.Parallel()
	t.Run("two cycles", func(t *testing.T) {
		t.Parallel()
		w := newPacingWorld(t)
		first := w.add(threadA, "这个多少钱？", "史密斯夫妇💑", "8001")
		w.once()
		second := w.add(threadA, "价格到底多少", "史密斯夫妇💑", "8001")
		other := w.add(threadA, "多少钱呀", "路人乙", "8002")
		w.once()
		w.once()

		byText := postsByText(w.kk)
		if n := len(w.kk.Posts()); n != 2 || byText["史密斯夫妇💑 你好，价格请看橱窗[比心]"] != 1 || byText["路人乙 你好，价格请看橱窗[比心]"] != 1 {
			t.Fatalf("posts: %v", byText)
		}
		rows := byCommentID(t, w.history())
		if r := rows[first]; r.Status != "sent" || r.Rule != "price" {
			t.Fatalf("first: %+v", r)
		}
		if r := rows[second]; r.Status != "skipped" || r.Reason != "cooldown" || r.Rule != "price" ||
			r.ReplyText != "史密斯夫妇💑 你好，价格请看橱窗[比心]" || r.User != "史密斯夫妇💑" || r.CommentText != "价格到底多少" {
			t.Fatalf("second: %+v", r)
		}
		if r := rows[other]; r.Status != "sent" {
			t.Fatalf("another person: %+v", r)
		}
		skipped := w.history("--status", "skipped")
		if len(skipped) != 1 || skipped[0].CommentID != second || skipped[0].Reason != "cooldown" {
			t.Fatalf("--status skipped: %+v", skipped)
		}
	})

	t.Run("one cycle", func(t *testing.T) {
		t.Parallel()
		w := newPacingWorld(t)
		// Both comments arrive before the cycle, one of them in the other
		// thread: the cooldown is per person, whatever the thread.
		first := w.add(threadA, "这个多少钱？", "阿强", "8101")
		second := w.add(threadA, "how much?", "阿强", "8101")
		third := w.add(threadB, "价格呢", "阿强", "8101")
		w.once()
		w.once()

		if n := len(w.kk.Posts()); n != 1 || postsByText(w.kk)["阿强 你好，价格请看橱窗[比心]"] != 1 {
			t.Fatalf("posts: %+v", w.kk.Posts())
		}
		rows := byCommentID(t, w.history())
		if len(rows) != 3 {
			t.Fatalf("history: %+v", rows)
		}
		if r := rows[first]; r.Status != "sent" {
			t.Fatalf("first: %+v", r)
		}
		for _, id := range []string{second, third} {
			if r := rows[id]; r.Status != "skipped" || r.Reason != "cooldown" || r.Rule != "price" {
				t.Fatalf("comment %s: %+v", id, r)
			}
		}
	})
}
