package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/config"
	"github.com/autoreplyd/autoreplyd/internal/pgtest"
	"github.com/autoreplyd/autoreplyd/internal/syncbuf"
	"github.com/autoreplyd/autoreplyd/internal/testutil"
	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/poller"
	"github.com/autoreplyd/autoreplyd/simulator"
	"github.com/autoreplyd/autoreplyd/store"
)

// pgDaemon is a daemon on a PostgreSQL server of the test's own (to stop
// and restart) against the imitations, past its baseline cycle; extra is
// appended to its config.
func pgDaemon(t *testing.T, extra string) (*pgtest.Server, *Daemon, *simulator.JustOneAPI, *simulator.Kitkot, *syncbuf.Buffer) {
	t.Helper()
	srv := pgtest.Start(t)
	jo, kk, url := imitations(t)
	cfg := load(t, writeConfig(t, t.TempDir(), url, "@every 1h", rulesV1, extra))
	cfg.Database = srv.NewDatabase(t)
	logs := &syncbuf.Buffer{}
	d, err := New(t.Context(), cfg, Options{Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { testutil.Close(t, d) })
	d.Cycle(t.Context()) // baseline
	return srv, d, jo, kk, logs
}

// The daemon on PostgreSQL, and PostgreSQL stopped mid-run: while it is
// down nothing is polled, claimed or sent, the outage is logged once
// however many cycles it lasts, and once it is back every comment that
// arrived meanwhile is answered, once.
func TestPostgresStoppedAndStarted(t *testing.T) {
	t.Parallel()
	srv, d, jo, kk, logs := pgDaemon(t, "")
	jo.AddReply(threadA, simulator.Reply{AwemeID: aweme, Text: "多少钱", UserUID: "1001", Nickname: "小明", CreateTime: time.Now().Unix(), ReplyToReplyID: "0"})
	if st := d.Cycle(t.Context()); st.Sent != 1 {
		t.Fatalf("cycle on PostgreSQL: %+v", st)
	}

	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	jo.AddReply(threadA, simulator.Reply{AwemeID: aweme, Text: "价格多少", UserUID: "1002", Nickname: "小红🌸", CreateTime: time.Now().Unix(), ReplyToReplyID: "0"})
	calls, posts := jo.CallCount(), len(kk.Posts())
	for range 3 {
		if st := d.Cycle(t.Context()); st.Sent != 0 || st.Polled != 0 {
			t.Fatalf("cycle with PostgreSQL down: %+v", st)
		}
	}
	if jo.CallCount() != calls || len(kk.Posts()) != posts {
		t.Fatalf("polled (%d calls) or sent (%d) with the database down", jo.CallCount()-calls, len(kk.Posts())-posts)
	}
	if n := strings.Count(logs.String(), "database unavailable"); n != 1 {
		t.Fatalf("%d 'database unavailable' lines for one outage, want 1:\n%s", n, logs.String())
	}
	if strings.Contains(logs.String(), "database is back") {
		t.Fatal("'database is back' while it is down")
	}

	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	if st := d.Cycle(t.Context()); st.Sent != 1 {
		t.Fatalf("cycle with PostgreSQL back: %+v", st)
	}
	if n := strings.Count(logs.String(), "database is back"); n != 1 {
		t.Fatalf("%d 'database is back' lines, want 1", n)
	}
	d.Cycle(t.Context())
	if got := len(kk.Posts()); got != posts+1 {
		t.Fatalf("%d answers after the outage, want %d", got, posts+1)
	}
	rows, err := d.Store().History(t.Context(), store.Filter{Statuses: []string{model.StatusSent}})
	if err != nil || len(rows) != 2 {
		t.Fatalf("sent claims on PostgreSQL: %d, %v", len(rows), err)
	}
}

// PostgreSQL stopped in the middle of a cycle, while an answer is in
// flight at kitkot: nothing more is sent while it is down; the answer in
// flight is recorded sent once it is back, and every other comment of the
// cycle is answered after, once, without restarting the daemon.
func TestPostgresStoppedMidCycle(t *testing.T) {
	t.Parallel()
	srv, d, jo, kk, logs := pgDaemon(t, "retry: {initial_delay: 1s, max_delay: 2s}\n")
	const n = 4
	for i := range n {
		jo.AddReply(threadA, simulator.Reply{AwemeID: aweme, Text: "多少钱", UserUID: fmt.Sprint(2001 + i), Nickname: fmt.Sprintf("客%d", i),
			CreateTime: time.Now().Unix(), ReplyToReplyID: "0"})
	}
	// The first answer is taken, then kitkot holds the request: the
	// database stops meanwhile.
	kk.Faults.Push(simulator.Fault{Kind: simulator.FaultSlowAfter, Delay: 2 * time.Second})
	done := make(chan poller.Stats)
	go func() { done <- d.Cycle(t.Context()) }()
	testutil.WaitFor(t, "the first answer at kitkot", func() bool { return len(kk.Posts()) == 1 })
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Second) // the outage: the held answer returns, nothing else may go
	if got := len(kk.Posts()); got != 1 {
		t.Fatalf("%d answers sent while PostgreSQL was down, want only the one in flight", got)
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	<-done
	for range 3 {
		if sent(t, d) == n {
			break
		}
		d.Cycle(t.Context())
	}
	if got := sent(t, d); got != n {
		t.Fatalf("%d of %d claims sent after the outage\n%s", got, n, logs.String())
	}
	byText := map[string]int{}
	for _, p := range kk.Posts() {
		byText[p.Text]++
	}
	for i := range n {
		if text := fmt.Sprintf("客%d 你好，价格请看橱窗", i); byText[text] != 1 {
			t.Errorf("%q posted %d times", text, byText[text])
		}
	}
}

// sent counts the sent claims.
func sent(t *testing.T, d *Daemon) int {
	t.Helper()
	rows, err := d.Store().History(t.Context(), store.Filter{Statuses: []string{model.StatusSent}})
	if err != nil {
		t.Fatal(err)
	}
	return len(rows)
}

// A daemon started while PostgreSQL is unreachable waits for it, saying so
// with the URL as shown (no password, no passfile) and never the password
// from database_password_file.
func TestPostgresUnreachableAtStartShowsNoPassword(t *testing.T) {
	t.Parallel()
	_, _, url := imitations(t)
	dir := t.TempDir()
	cfg := load(t, writeConfig(t, dir, url, "@every 1h", rulesV1, ""))
	const pw = "pg-PASSWORD-daemon-3c9a"
	cfg.Database = "postgres://autoreplyd@127.0.0.1:1/autoreplyd?sslmode=disable&connect_timeout=1&passfile=" + dir + "/pgpass"
	cfg.DatabasePassword = config.Secret(pw)
	logs := &syncbuf.Buffer{}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	_, err := New(ctx, cfg, Options{Logger: slog.New(slog.NewTextHandler(logs, nil)), WaitForStore: true})
	if err == nil {
		t.Fatal("started without its database")
	}
	out := logs.String() + err.Error()
	if !strings.Contains(logs.String(), "database unavailable") || !strings.Contains(logs.String(), "PostgreSQL is unreachable") {
		t.Errorf("no 'database unavailable' saying why:\n%s", logs.String())
	}
	if strings.Contains(out, pw) || strings.Contains(out, "pgpass") {
		t.Errorf("the password or the passfile shows:\n%s", out)
	}
	if !strings.Contains(logs.String(), "postgres://autoreplyd@127.0.0.1:1/autoreplyd") {
		t.Errorf("the database is not named:\n%s", logs.String())
	}
}
