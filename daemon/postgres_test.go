package daemon

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/internal/pgtest"
	"github.com/autoreplyd/autoreplyd/internal/syncbuf"
	"github.com/autoreplyd/autoreplyd/internal/testutil"
	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/simulator"
	"github.com/autoreplyd/autoreplyd/store"
)

// The daemon on PostgreSQL, and PostgreSQL stopped mid-run: while it is
// down nothing is polled, claimed or sent, the outage is logged once
// however many cycles it lasts, and once it is back every comment that
// arrived meanwhile is answered, once.
func TestPostgresStoppedAndStarted(t *testing.T) {
	t.Parallel()
	srv := pgtest.Start(t)
	jo, kk, url := imitations(t)
	cfg := load(t, writeConfig(t, t.TempDir(), url, "@every 1h", rulesV1, ""))
	cfg.Database = srv.NewDatabase(t)
	logs := &syncbuf.Buffer{}
	d, err := New(t.Context(), cfg, Options{Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer testutil.Close(t, d)
	d.Cycle(t.Context()) // baseline
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
