package main

// Crash safety: the daemon binary is killed with SIGKILL at random moments,
// again and again, while replies keep arriving and kitkot sometimes hangs or
// drops the connection after posting. Afterwards no comment was answered
// twice and every answered comment ends sent, unknown or failed with a
// reason.

import (
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/autoreplyd/autoreplyd/internal/testutil"
	"github.com/autoreplyd/autoreplyd/simulator"
)

// editConfig replaces old by repl in the world's config file; old must occur.
func (w *world) editConfig(old, repl string) {
	w.t.Helper()
	data, err := os.ReadFile(w.cfg)
	must(w.t, err)
	if !strings.Contains(string(data), old) {
		w.t.Fatalf("config has no %q:\n%s", old, data)
	}
	must(w.t, os.WriteFile(w.cfg, []byte(strings.Replace(string(data), old, repl, 1)), 0o644))
}

// countingKitkot serves kitkot through a handler that counts the requests
// in flight, and points the config's kitkot base_url at it.
func (w *world) countingKitkot() *atomic.Int64 {
	w.t.Helper()
	var inflight atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		inflight.Add(1)
		defer inflight.Add(-1)
		w.kk.ServeHTTP(rw, r)
	}))
	w.t.Cleanup(srv.Close)
	w.editConfig("base_url: "+w.srv.URL+"/api", "base_url: "+srv.URL+"/api")
	return &inflight
}

// claimRow is one row of the replies table, read directly.
type claimRow struct {
	CommentID, Rule, Status, Reason, ReplyText string
	NextAttempt                                sql.NullString
}

// claims reads every claim from the database (read-only, beside the daemon).
func (w *world) claims() []claimRow {
	w.t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(w.dir, "state", "autoreplyd.db")+"?mode=ro&_pragma=busy_timeout(5000)")
	must(w.t, err)
	defer testutil.Close(w.t, db)
	rows, err := db.Query(`SELECT comment_id, rule, status, reason, reply_text, next_attempt_at FROM replies ORDER BY id`)
	must(w.t, err)
	defer rows.Close()
	var out []claimRow
	for rows.Next() {
		var r claimRow
		must(w.t, rows.Scan(&r.CommentID, &r.Rule, &r.Status, &r.Reason, &r.ReplyText, &r.NextAttempt))
		out = append(out, r)
	}
	must(w.t, rows.Err())
	return out
}

// recorded is the set of comment ids in the comments table.
func (w *world) recorded() map[string]bool {
	w.t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(w.dir, "state", "autoreplyd.db")+"?mode=ro&_pragma=busy_timeout(5000)")
	must(w.t, err)
	defer testutil.Close(w.t, db)
	rows, err := db.Query(`SELECT comment_id FROM comments`)
	must(w.t, err)
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var id string
		must(w.t, rows.Scan(&id))
		out[id] = true
	}
	must(w.t, rows.Err())
	return out
}

// sent replies of a comment: a unique nickname per commenter makes each
// rendered answer unique, so posts can be counted per comment.
type added struct {
	id, rule, answer string
}

func TestEndToEndCrashSafetyUnderRandomKills(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("kills the daemon 50+ times")
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0xc0ffee))

	w := newWorld(t, "*/1 * * * * *", true)
	// The default random pause before each send (up to 3 s) during the
	// kills: the targeted kills below need sends that are about to start.
	w.editConfig("send_jitter: 0s\n", "")
	// Retries due within seconds, so that settling can finish them.
	must(t, os.WriteFile(w.cfg, append(must1(os.ReadFile(w.cfg)), []byte("retry: {initial_delay: 1s, max_delay: 2s}\n")...), 0o644))
	inflight := w.countingKitkot()
	w.once() // first sight of the threads

	var mu sync.Mutex
	var comments []added
	stop := make(chan struct{})
	adderDone := make(chan struct{})
	addRNG := rand.New(rand.NewPCG(seed, 0xadd))
	go func() {
		defer close(adderDone)
		for n := 1; ; n++ {
			select {
			case <-stop:
				return
			case <-time.After(time.Duration(500+addRNG.IntN(700)) * time.Millisecond):
			}
			nick := fmt.Sprintf("客%03d", n)
			thread := threadA
			if addRNG.IntN(2) == 1 {
				thread = threadB
			}
			var c added
			switch k := addRNG.IntN(10); {
			case k < 5:
				c = added{rule: "price", answer: nick + " 你好，价格请看橱窗[比心]"}
				c.id = w.add(thread, fmt.Sprintf("请问多少钱 #%d", n), nick, fmt.Sprint(20000+n))
			case k < 8:
				c = added{rule: "thanks", answer: "谢谢" + nick + "！"}
				c.id = w.add(thread, fmt.Sprintf("真好看 #%d", n), nick, fmt.Sprint(20000+n))
			case k < 9:
				c = added{rule: "spam"}
				c.id = w.add(thread, fmt.Sprintf("加微信 vx%d", n), nick, fmt.Sprint(20000+n))
			default:
				c.id = w.add(thread, fmt.Sprintf("路过 #%d", n), nick, fmt.Sprint(20000+n))
			}
			// Now and then kitkot posts and then hangs (within or beyond
			// the 3s timeout) or drops the connection.
			switch f := addRNG.IntN(12); f {
			case 0:
				w.kk.Faults.Push(simulator.Fault{Kind: simulator.FaultSlowAfter, Delay: time.Duration(500+addRNG.IntN(1500)) * time.Millisecond})
			case 1:
				w.kk.Faults.Push(simulator.Fault{Kind: simulator.FaultSlowAfter, Delay: 5 * time.Second})
			case 2:
				w.kk.Faults.Push(simulator.Fault{Kind: simulator.FaultDropAfter})
			}
			mu.Lock()
			comments = append(comments, c)
			mu.Unlock()
		}
	}()

	start := time.Now()
	const kills = 55
	midSend := 0
	targeted := 0
	for i := range kills {
		var d *daemon
		if i%3 == 2 {
			// A targeted kill: kitkot posts, then holds the answer; the
			// daemon dies while the request is in flight (if a send starts
			// within the window: the daemon waits up to 3s before each).
			targeted++
			w.kk.Faults.Push(simulator.Fault{Kind: simulator.FaultSlowAfter, Delay: 2 * time.Second})
			d = w.start()
			deadline := time.Now().Add(time.Duration(500+rng.IntN(2000)) * time.Millisecond)
			for inflight.Load() == 0 && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			time.Sleep(time.Duration(rng.IntN(300)) * time.Millisecond)
		} else {
			d = w.start()
			time.Sleep(time.Duration(50+rng.IntN(751)) * time.Millisecond)
		}
		select {
		case <-d.done:
			t.Fatalf("kill %d: the daemon exited on its own:\n%s", i, d.log())
		default:
		}
		if inflight.Load() > 0 {
			midSend++
		}
		must(t, d.cmd.Process.Signal(syscall.SIGKILL))
		<-d.done
	}
	close(stop)
	<-adderDone
	killPhase := time.Since(start)
	w.kk.Faults.Clear()
	postsAtKills := len(w.kk.Posts())
	// No kills while settling: the pause before each send would only slow it.
	must(t, os.WriteFile(w.cfg, append(must1(os.ReadFile(w.cfg)), []byte("send_jitter: 0s\n")...), 0o644))

	// Settle: cycles until every comment is recorded and no retry is left.
	mu.Lock()
	all := append([]added(nil), comments...)
	mu.Unlock()
	for round := 0; ; round++ {
		w.once()
		rec := w.recorded()
		missing, retrying := 0, 0
		for _, c := range all {
			if !rec[c.id] {
				missing++
			}
		}
		for _, r := range w.claims() {
			if r.Status == "retrying" {
				retrying++
			}
		}
		if missing == 0 && retrying == 0 {
			break
		}
		if round == 20 {
			t.Fatalf("after %d settling cycles: %d comments unrecorded, %d retrying", round+1, missing, retrying)
		}
		time.Sleep(time.Second)
	}
	w.once() // our last answers show up in the threads: they are ours

	// No answer was posted twice.
	posts := postsByText(w.kk)
	for text, n := range posts {
		if n > 1 {
			t.Errorf("%q was posted %d times", text, n)
		}
	}
	// Every matched comment has exactly one claim, by its rule, settled.
	byComment := map[string][]claimRow{}
	for _, r := range w.claims() {
		byComment[r.CommentID] = append(byComment[r.CommentID], r)
	}
	statuses := map[string]int{}
	for _, c := range all {
		rows := byComment[c.id]
		if c.rule == "" {
			if len(rows) != 0 {
				t.Errorf("comment %s matched no rule but has claims %+v", c.id, rows)
			}
			continue
		}
		if len(rows) != 1 || rows[0].Rule != c.rule {
			t.Errorf("comment %s (%s): claims %+v", c.id, c.rule, rows)
			continue
		}
		r := rows[0]
		statuses[r.Status+"/"+r.Reason]++
		switch r.Status {
		case "sent":
			if posts[c.answer] != 1 {
				t.Errorf("comment %s is recorded sent, but %q was posted %d times", c.id, c.answer, posts[c.answer])
			}
		case "skipped":
			if c.rule != "spam" || r.Reason != "no_reply_rule" {
				t.Errorf("comment %s: skipped %+v", c.id, r)
			}
		case "unknown", "failed":
			if r.Reason == "" {
				t.Errorf("comment %s is %s without a reason", c.id, r.Status)
			}
			if r.Status == "failed" && posts[c.answer] != 0 {
				t.Errorf("comment %s is recorded failed, but its answer was posted", c.id)
			}
		default:
			t.Errorf("comment %s ends %s/%s", c.id, r.Status, r.Reason)
		}
		if r.Status != "sent" && r.Status != "unknown" && c.answer != "" && posts[c.answer] != 0 {
			t.Errorf("comment %s ends %s, but its answer was posted", c.id, r.Status)
		}
	}
	// Every post answers a comment of ours (none answers our own replies).
	answers := map[string]bool{}
	for _, c := range all {
		answers[c.answer] = true
	}
	for text := range posts {
		if !answers[text] {
			t.Errorf("posted %q, which answers no added comment", text)
		}
	}
	t.Logf("%d kills (%d waiting for a send) in %s, %d while kitkot held a request; %d comments, %d posts (%d during the kills); outcomes %v; total %s",
		kills, targeted, killPhase.Round(time.Millisecond), midSend, len(all), len(w.kk.Posts()), postsAtKills, statuses, time.Since(start).Round(time.Millisecond))
}

func must1[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
