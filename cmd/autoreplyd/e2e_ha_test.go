package main

// Two daemons on one PostgreSQL (issue 21): either is killed with SIGKILL
// again and again while comments arrive; every comment is answered once,
// none twice, and the thread leases keep the API calls near one daemon's.

import (
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
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

// startAs starts a daemon named instance, with the credentials directory
// of its own when tokenPerInstance made one.
func (w *world) startAs(instance string) *daemon {
	w.t.Helper()
	env := []string{"AUTOREPLYD_INSTANCE=" + instance}
	if dir := filepath.Join(w.dir, "creds-"+instance); dirExists(dir) {
		env = append(env, "CREDENTIALS_DIRECTORY="+dir)
	}
	return w.startEnv(env)
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

// instanceHit is one reply-listing call of a daemon, told apart by the
// token its instance was given.
type instanceHit struct {
	instance, thread string
	at               time.Time
}

// instanceFront sits before the JustOneAPI imitation: each daemon has a
// token of its own, which it maps back to the one the imitation accepts,
// recording whose call each was.
type instanceFront struct {
	mu   sync.Mutex
	list []instanceHit
}

func (f *instanceFront) hits() []instanceHit {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.list)
}

// tokenPerInstance gives each named instance its own credentials directory
// (used by startAs) holding a token of its own, and points the douyin
// source at a front that records which instance called.
func (w *world) tokenPerInstance(names ...string) *instanceFront {
	w.t.Helper()
	f := &instanceFront{}
	owner := map[string]string{}
	for _, n := range names {
		tok := tokenSecret + "-" + n
		owner[tok] = n
		dir := filepath.Join(w.dir, "creds-"+n)
		must(w.t, os.MkdirAll(dir, 0o700))
		for _, name := range []string{"api_key", "session_key"} {
			must(w.t, os.WriteFile(filepath.Join(dir, name), must1(os.ReadFile(filepath.Join(w.creds, name))), 0o600))
		}
		must(w.t, os.WriteFile(filepath.Join(dir, "token"), []byte(tok+"\n"), 0o600))
	}
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if n, ok := owner[q.Get("token")]; ok {
			q.Set("token", tokenSecret)
			r.URL.RawQuery = q.Encode()
			if th := q.Get("commentId"); th != "" {
				f.mu.Lock()
				f.list = append(f.list, instanceHit{n, th, time.Now()})
				f.mu.Unlock()
			}
		}
		w.srv.Config.Handler.ServeHTTP(rw, r)
	}))
	w.t.Cleanup(srv.Close)
	w.editConfig("base_url: "+w.srv.URL+"\n", "base_url: "+srv.URL+"\n")
	return f
}

// haThreads are the threads the two-instance test watches: enough for a
// fair share to give each daemon some.
var haThreads = []string{threadA, threadB, "7251524159191958501", "7251524159191958502", "7251524159191958503", "7251524159191958504"}

func TestEndToEndTwoInstancesUnderKills(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("kills daemons 40 times")
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0x4a))
	w := newWorld(t, "*/1 * * * * *", true)
	var more strings.Builder
	for _, th := range haThreads[2:] {
		fmt.Fprintf(&more, "      - comment_id: %q\n        aweme_id: %q\n", th, aweme)
	}
	w.editConfig("responders:\n", more.String()+"responders:\n")
	dsn := w.onPostgres()
	front := w.tokenPerInstance("host-a", "host-b")
	if _, stderr, code := w.runEnv([]string{"AUTOREPLYD_INSTANCE=host-a"}, "run", "--once", "--config", w.cfg); code != 0 {
		t.Fatalf("first sight: exit %d\n%s", code, stderr)
	}

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
			c := added{rule: "price", answer: nick + " 你好，价格请看橱窗[比心]"}
			c.id = w.add(haThreads[n%len(haThreads)], fmt.Sprintf("请问多少钱 #%d 🛒", n), nick, fmt.Sprint(30000+n))
			mu.Lock()
			comments = append(comments, c)
			mu.Unlock()
		}
	}()

	// kill20 kills one of names' daemons 20 times while comments arrive,
	// restarting it at once but for one long death past the leases' TTL
	// (10 s), and returns the API calls a second meanwhile.
	daemons := map[string]*daemon{}
	kill20 := func(names ...string) float64 {
		calls, start := w.jo.CallCount(), time.Now()
		for i := range 20 {
			time.Sleep(time.Duration(700+rng.IntN(1500)) * time.Millisecond)
			name := names[rng.IntN(len(names))]
			d := daemons[name]
			select {
			case <-d.done:
				t.Fatalf("kill %d: %s exited on its own:\n%s", i, name, d.log())
			default:
			}
			must(t, d.cmd.Process.Signal(syscall.SIGKILL))
			<-d.done
			if i == 10 && len(names) > 1 {
				time.Sleep(12 * time.Second) // the other takes its threads over
			}
			daemons[name] = w.startAs(name)
		}
		return float64(w.jo.CallCount()-calls) / time.Since(start).Seconds()
	}
	// One daemon alone, under the same kills and the same comments: the
	// yardstick for the API calls.
	daemons["host-a"] = w.startAs("host-a")
	oneRate := kill20("host-a")
	h2 := len(front.hits())
	daemons["host-b"] = w.startAs("host-b")
	twoRate := kill20("host-a", "host-b")
	close(stop)
	<-adderDone

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
	// The calls beyond one daemon's: a thread's polls in one tick (a
	// second of the schedule) by both daemons, all but the busier one's
	// calls. Leases failing would make two daemons' calls twice one's.
	hits := front.hits()[h2:]
	type slot struct {
		thread string
		sec    int64
	}
	// Counted in ticks of one and of two seconds (daemons taking turns on
	// a thread, tick by tick, show in the second); the larger count.
	extra := 0
	for _, width := range []int64{1, 2} {
		bySlot := map[slot]map[string]int{}
		for _, h := range hits {
			k := slot{h.thread, h.at.Unix() / width}
			if bySlot[k] == nil {
				bySlot[k] = map[string]int{}
			}
			bySlot[k][h.instance]++
		}
		n := 0
		for _, by := range bySlot {
			most, all := 0, 0
			for _, c := range by {
				most, all = max(most, c), all+c
			}
			n += all - most
		}
		extra = max(extra, n)
	}
	ratio := float64(len(hits)) / float64(max(len(hits)-extra, 1))
	t.Logf("%d kills, %d comments, outcomes %v; API calls/s one daemon %.2f, two %.2f; two daemons' calls %d, of which %d in a thread's tick polled by both: ×%.3f",
		40, len(all), statuses, oneRate, twoRate, len(hits), extra, ratio)
	if ratio > 1.2 {
		t.Errorf("two daemons made %.2f× the API calls one would have for the same polls (want ≤ 1.2)", ratio)
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

func dirExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}
