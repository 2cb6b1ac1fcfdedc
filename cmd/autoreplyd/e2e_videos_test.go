package main

// Whole videos, end to end through the binary: a new top-level comment is
// answered once under itself; a reply in the thread our answer started is
// answered once there; an idle video costs one billed call a cycle; kill -9
// at random moments doubles nothing.

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/internal/testutil"
	"github.com/autoreplyd/autoreplyd/simulator"
)

const watchedVideo = "7300000000000000999"

// watchVideo adds the video to the world's douyin section.
func (w *world) watchVideo() {
	w.t.Helper()
	w.editConfig("responders:\n", "    videos:\n      - aweme_id: \""+watchedVideo+"\"\n        labels: {campaign: 视频🎬}\nresponders:\n")
}

func (w *world) topLevel(text, nickname, uid string) string {
	return w.jo.AddComment(watchedVideo, simulator.Reply{Text: text, Nickname: nickname, UserUID: uid, CreateTime: time.Now().Unix()})
}

func (w *world) replyUnder(cid, text, nickname, uid string) string {
	return w.jo.AddReply(cid, simulator.Reply{AwemeID: watchedVideo, Text: text, Nickname: nickname, UserUID: uid,
		CreateTime: time.Now().Unix(), ReplyToReplyID: "0"})
}

func TestEndToEndVideoAnswersOnce(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "@every 1h", true)
	w.watchVideo()
	old := w.topLevel("多少钱", "老观众", "4999") // there at first sight: backlog
	w.once()
	if n := len(w.kk.Posts()); n != 0 {
		t.Fatalf("the backlog was answered: %d posts", n)
	}
	top := w.topLevel("这个多少钱？", "阿强", "5001")
	w.once()
	posts := w.kk.Posts()
	if len(posts) != 1 || posts[0].ReplyID != top || posts[0].Text != "阿强 你好，价格请看橱窗[比心]" {
		t.Fatalf("posts after a new top-level comment: %+v", posts)
	}
	// A stranger answers under our answer: the thread is discovered and
	// the reply answered there, once.
	reply := w.replyUnder(top, "我也想知道价格", "阿美", "5002")
	w.once()
	w.once()
	posts = w.kk.Posts()
	if len(posts) != 2 || posts[1].ReplyID != top || posts[1].Text != "阿美 你好，价格请看橱窗[比心]" {
		t.Fatalf("posts after a reply in the discovered thread: %+v", posts)
	}
	// Idle: one billed call of the video listing a cycle.
	before := w.jo.Billed(simulator.JustOneAPIVideoPath)
	for range 3 {
		w.once()
	}
	if got := w.jo.Billed(simulator.JustOneAPIVideoPath) - before; got != 3 {
		t.Fatalf("an idle video cost %d billed calls in 3 cycles, want 3", got)
	}
	if n := len(w.kk.Posts()); n != 2 {
		t.Fatalf("%d posts after idle cycles", n)
	}
	byComment := map[string]historyRow{}
	for _, r := range w.history() {
		byComment[r.CommentID] = r
	}
	if r := byComment[top]; r.Status != "sent" || r.ThreadID != top {
		t.Errorf("top-level row: %+v", r)
	}
	if r := byComment[reply]; r.Status != "sent" || r.ThreadID != top {
		t.Errorf("reply row: %+v", r)
	}
	if _, ok := byComment[old]; ok {
		t.Errorf("the backlog comment was claimed")
	}
}

// Random kill -9 while top-level comments and replies arrive: every
// comment answered at most once.
func TestEndToEndVideoKill9NeverAnswersTwice(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("kills the daemon repeatedly")
	}
	w := newWorld(t, "*/1 * * * * *", true)
	w.watchVideo()
	w.once()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0x71de0))
	var comments []string
	var tops []string
	for round := range 6 {
		for i := range 3 {
			nick := fmt.Sprintf("观众%d-%d", round, i)
			if len(tops) > 0 && rng.IntN(2) == 0 {
				comments = append(comments, w.replyUnder(tops[rng.IntN(len(tops))], "多少钱呀", nick, fmt.Sprint(6000+round*10+i)))
			} else {
				id := w.topLevel("请问多少钱", nick, fmt.Sprint(6000+round*10+i))
				tops, comments = append(tops, id), append(comments, id)
			}
		}
		d := w.start()
		time.Sleep(time.Duration(300+rng.IntN(1500)) * time.Millisecond)
		must(t, d.cmd.Process.Signal(syscall.SIGKILL))
		<-d.done
	}
	// Settle: a clean run until every comment is handled.
	d := w.start()
	testutil.WaitFor(t, "every comment to be recorded", func() bool {
		known := w.recorded()
		for _, c := range comments {
			if !known[c] {
				return false
			}
		}
		return true
	})
	must(t, d.cmd.Process.Signal(syscall.SIGTERM))
	<-d.done
	w.once()
	for text, n := range postsByText(w.kk) {
		if n != 1 {
			t.Errorf("answer %q posted %d times", text, n)
		}
	}
	perComment := map[string]int{}
	for _, c := range w.claims() {
		perComment[c.CommentID+"/"+c.Rule]++
		if c.Status == "sent" && !strings.Contains(c.ReplyText, "你好") {
			t.Errorf("claim %+v", c)
		}
	}
	for k, n := range perComment {
		if n != 1 {
			t.Errorf("%s claimed %d times", k, n)
		}
	}
	t.Logf("%d comments, %d posts", len(comments), len(w.kk.Posts()))
}
