package main

// Two daemons on one PostgreSQL (issue 21): either is killed with SIGKILL
// again and again while comments arrive; every comment is answered once,
// none twice, and the thread leases keep the API calls near one daemon's.

import (
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/autoreplyd/autoreplyd/internal/pgtest"
	"github.com/autoreplyd/autoreplyd/internal/testutil"
)

// onPostgres points the world's config at a fresh PostgreSQL database and
// returns its URL.
func (w *world) onPostgres() string {
	w.t.Helper()
	dsn := pgtest.NewDatabase(w.t)
	w.editConfig("database: state/autoreplyd.db", fmt.Sprintf("database: %q", dsn))
	return dsn
}

// startAs starts a daemon named instance.
func (w *world) startAs(instance string) *daemon {
	w.t.Helper()
	d := &daemon{done: make(chan struct{})}
	d.cmd = exec.Command(binary, "run", "--config", w.cfg)
	d.cmd.Env = append(w.environ(), "AUTOREPLYD_INSTANCE="+instance)
	d.cmd.Stderr = d
	must(w.t, d.cmd.Start())
	go func() { _ = d.cmd.Wait(); close(d.done) }()
	w.t.Cleanup(func() {
		_ = d.cmd.Process.Kill()
		<-d.done
		w.record(d.log())
	})
	return d
}

// pgClaims reads every claim from PostgreSQL.
func pgClaims(t *testing.T, dsn string) []claimRow {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	must(t, err)
	defer testutil.Close(t, db)
	rows, err := db.Query(`SELECT comment_id, rule, status, reason, reply_text, next_attempt_at FROM replies ORDER BY id`)
	must(t, err)
	defer rows.Close()
	var out []claimRow
	for rows.Next() {
		var r claimRow
		must(t, rows.Scan(&r.CommentID, &r.Rule, &r.Status, &r.Reason, &r.ReplyText, &r.NextAttempt))
		out = append(out, r)
	}
	must(t, rows.Err())
	return out
}

func TestEndToEndTwoInstancesUnderKills(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("kills two daemons 20 times")
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0x4a))
	w := newWorld(t, "*/1 * * * * *", true)
	dsn := w.onPostgres()
	w.once("AUTOREPLYD_INSTANCE=host-a") // first sight of the threads

	// One daemon alone: its API calls per second are the yardstick.
	a := w.startAs("host-a")
	time.Sleep(time.Second)
	calls0, t0 := w.jo.CallCount(), time.Now()
	time.Sleep(6 * time.Second)
	oneRate := float64(w.jo.CallCount()-calls0) / time.Since(t0).Seconds()

	var mu sync.Mutex
	var comments []added
	stop, adderDone := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(adderDone)
		for n := 1; ; n++ {
			select {
			case <-stop:
				return
			case <-time.After(time.Duration(300+rng.IntN(500)) * time.Millisecond):
			}
			nick := fmt.Sprintf("客%03d", n)
			thread := threadA
			if n%2 == 0 {
				thread = threadB
			}
			c := added{rule: "price", answer: nick + " 你好，价格请看橱窗[比心]"}
			c.id = w.add(thread, fmt.Sprintf("请问多少钱 #%d 🛒", n), nick, fmt.Sprint(30000+n))
			mu.Lock()
			comments = append(comments, c)
			mu.Unlock()
		}
	}()

	b := w.startAs("host-b")
	daemons := map[string]*daemon{"host-a": a, "host-b": b}
	calls1, t1 := w.jo.CallCount(), time.Now()
	const kills = 20
	for i := range kills {
		time.Sleep(time.Duration(700+rng.IntN(1500)) * time.Millisecond)
		name := []string{"host-a", "host-b"}[rng.IntN(2)]
		d := daemons[name]
		select {
		case <-d.done:
			t.Fatalf("kill %d: %s exited on its own:\n%s", i, name, d.log())
		default:
		}
		must(t, d.cmd.Process.Signal(syscall.SIGKILL))
		<-d.done
		if i%4 == 3 {
			// Now and then the dead one stays dead past its leases' TTL:
			// the other takes its threads over.
			time.Sleep(3 * time.Second)
		}
		daemons[name] = w.startAs(name)
	}
	close(stop)
	<-adderDone
	twoRate := float64(w.jo.CallCount()-calls1) / time.Since(t1).Seconds()

	mu.Lock()
	all := append([]added(nil), comments...)
	mu.Unlock()
	testutil.WaitFor(t, "every comment claimed and settled", func() bool {
		byComment := map[string]string{}
		for _, r := range pgClaims(t, dsn) {
			byComment[r.CommentID] = r.Status
		}
		for _, c := range all {
			if s := byComment[c.id]; s == "" || s == "pending" || s == "retrying" {
				return false
			}
		}
		return true
	})
	posts := postsByText(w.kk)
	byComment := map[string][]claimRow{}
	for _, r := range pgClaims(t, dsn) {
		byComment[r.CommentID] = append(byComment[r.CommentID], r)
	}
	statuses := map[string]int{}
	for _, c := range all {
		rows := byComment[c.id]
		if len(rows) != 1 {
			t.Errorf("comment %s: %d claims %+v", c.id, len(rows), rows)
			continue
		}
		statuses[rows[0].Status+"/"+rows[0].Reason]++
		switch rows[0].Status {
		case "sent":
			if posts[c.answer] != 1 {
				t.Errorf("comment %s is sent, but %q was posted %d times", c.id, c.answer, posts[c.answer])
			}
		case "unknown":
			if posts[c.answer] > 1 {
				t.Errorf("comment %s: %q posted %d times", c.id, c.answer, posts[c.answer])
			}
		default:
			t.Errorf("comment %s ends %s/%s", c.id, rows[0].Status, rows[0].Reason)
		}
	}
	for text, n := range posts {
		if n > 1 {
			t.Errorf("%q was posted %d times", text, n)
		}
	}
	ratio := twoRate / oneRate
	t.Logf("%d kills, %d comments, outcomes %v; API calls/s one daemon %.2f, two daemons under kills %.2f (×%.2f)",
		kills, len(all), statuses, oneRate, twoRate, ratio)
	if ratio > 1.2 {
		t.Errorf("two daemons made %.2f× one daemon's API calls (want ≤ 1.2)", ratio)
	}
	// Both instances claimed some of the comments.
	db, err := sql.Open("pgx", dsn)
	must(t, err)
	defer testutil.Close(t, db)
	var instances int
	must(t, db.QueryRow(`SELECT count(DISTINCT instance) FROM replies WHERE instance IN ('host-a', 'host-b')`).Scan(&instances))
	if instances != 2 {
		t.Errorf("claims were made by %d of the two instances", instances)
	}
}
