package daemon

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/internal/syncbuf"
	"github.com/autoreplyd/autoreplyd/internal/testutil"
	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/poller"
	"github.com/autoreplyd/autoreplyd/simulator"
	"github.com/autoreplyd/autoreplyd/store"
)

const retentionExtra = "retention: 30d\n"

// retentionWorld is a daemon with a 30-day retention over the imitations.
func retentionWorld(t *testing.T, rules string) (*Daemon, *simulator.JustOneAPI, *simulator.Kitkot, *syncbuf.Buffer) {
	t.Helper()
	jo, kk := simulator.NewJustOneAPI(token), simulator.NewKitkot(apiKey, sessionKey)
	mux := http.NewServeMux()
	mux.Handle("/api/douyin/", jo)
	mux.Handle("/api/video/", kk)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	cfg := load(t, writeConfig(t, t.TempDir(), srv.URL, "@every 1h", rules, retentionExtra))
	if cfg.Retention != 30*24*time.Hour {
		t.Fatalf("retention %v", cfg.Retention)
	}
	logs := &syncbuf.Buffer{}
	d, err := New(t.Context(), cfg, Options{Logger: slog.New(slog.NewTextHandler(logs, nil)),
		Tune: func(o *poller.Options) { o.Jitter = nil }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { testutil.Close(t, d) })
	return d, jo, kk, logs
}

func historyOf(t *testing.T, d *Daemon, commentID string) []store.HistoryRow {
	t.Helper()
	rows, err := d.Store().History(t.Context(), store.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var out []store.HistoryRow
	for _, r := range rows {
		if r.CommentID == commentID {
			out = append(out, r)
		}
	}
	return out
}

// A comment whose claim was pruned is still known: the platform listing it
// again does not get it answered a second time. Deleting the comment row
// instead (what Prune never does) would.
func TestPrunedCommentNotAnsweredAgain(t *testing.T) {
	t.Parallel()
	d, jo, kk, _ := retentionWorld(t, rulesV1)
	ctx := t.Context()
	if st := d.Cycle(ctx); st.Polled != 2 || st.Errors != 0 {
		t.Fatalf("first cycle %+v", st)
	}
	id := jo.AddReply(threadA, simulator.Reply{AwemeID: aweme, Text: "多少钱", UserUID: "2001", Nickname: "老王",
		CreateTime: time.Now().Unix(), ReplyToReplyID: "0"})
	if st := d.Cycle(ctx); st.Sent != 1 {
		t.Fatalf("second cycle %+v, want one reply sent", st)
	}
	if n := len(kk.Posts()); n != 1 {
		t.Fatalf("%d posts, want 1", n)
	}

	// Nothing is old enough yet.
	if res, err := d.Prune(ctx, time.Now()); err != nil || res.Replies != 0 {
		t.Fatalf("Prune now = %+v, %v", res, err)
	}
	// 31 days later the sent claim is pruned; the comment stays known.
	res, err := d.Prune(ctx, time.Now().Add(31*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if res.Replies != 1 || res.Comments < 1 {
		t.Fatalf("Prune = %+v, want 1 claim deleted and comments blanked", res)
	}
	if h := historyOf(t, d, id); len(h) != 0 {
		t.Fatalf("claim still in the history: %+v", h)
	}
	known, err := d.Store().Known(ctx, model.PlatformDouyin, []string{id})
	if err != nil || !known[id] {
		t.Fatalf("pruned comment not known any more: %v, %v", known, err)
	}

	// The imitation still lists the comment: it is not answered again.
	calls := jo.CallCount()
	st := d.Cycle(ctx)
	if jo.CallCount() == calls || st.Errors != 0 {
		t.Fatalf("third cycle %+v did not poll", st)
	}
	if st.New != 0 || st.Sent != 0 || len(kk.Posts()) != 1 || len(historyOf(t, d, id)) != 0 {
		t.Errorf("after pruning: cycle %+v, %d posts, history %+v; want nothing new", st, len(kk.Posts()), historyOf(t, d, id))
	}

	// Control: without its comment row the same comment is new again and
	// answered twice. This is why Prune keeps comment rows. (After a
	// restart: a running poller also remembers the ids it last found
	// recorded on a thread's first page, poller/known.go, which a row
	// deleted by hand does not clear.)
	db, err := sql.Open("sqlite", "file:"+d.cfg.Database+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer testutil.Close(t, db)
	if _, err := db.ExecContext(ctx, `DELETE FROM comments WHERE comment_id = ?`, id); err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(d.Close())
	d, err = New(ctx, d.cfg, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Tune: func(o *poller.Options) { o.Jitter = nil }})
	must(err)
	t.Cleanup(func() { testutil.Close(t, d) })
	if st := d.Cycle(ctx); st.Sent != 1 || len(kk.Posts()) != 2 {
		t.Errorf("control: cycle %+v, %d posts; the deleted comment should have been answered again", st, len(kk.Posts()))
	}
}

// The cutoff never cuts into a rule's cooldown, and retention 0 prunes
// nothing.
func TestPruneCutoff(t *testing.T) {
	t.Parallel()
	const cooled = rulesV1 + `  - name: slow
    when: 'text contains "慢"'
    reply: 'ok'
    cooldown: {user: 1000h}
`
	d, _, _, _ := retentionWorld(t, cooled)
	now := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	if got, want := d.pruneCutoff(now), now.Add(-1000*time.Hour); !got.Equal(want) {
		t.Errorf("cutoff with a 1000h cooldown = %v, want %v", got, want)
	}
	testutil.WriteFile(t, d.cfg.Rules, rulesV1)
	if err := d.Reload(); err != nil {
		t.Fatal(err)
	}
	if got, want := d.pruneCutoff(now), now.Add(-30*24*time.Hour); !got.Equal(want) {
		t.Errorf("cutoff = %v, want %v", got, want)
	}
	d.cfg.Retention = 0
	if got := d.pruneCutoff(now); !got.IsZero() {
		t.Errorf("cutoff with retention 0 = %v, want none", got)
	}
	if res, err := d.Prune(t.Context(), now.Add(1000*24*time.Hour)); err != nil || res != (store.PruneResult{}) {
		t.Errorf("Prune with retention 0 = %+v, %v", res, err)
	}
}

// Run prunes once the first cycle is done, without waiting PruneInterval.
func TestRunPrunesAfterFirstCycle(t *testing.T) {
	t.Parallel()
	d, _, _, logs := retentionWorld(t, rulesV1)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	// An old finished claim (60 days) and an old unknown one.
	old := time.Now().Add(-60 * 24 * time.Hour)
	c := model.Comment{Platform: model.PlatformDouyin, ID: "7300000000000009001", ThreadID: threadA, Text: "多少钱"}
	if _, err := d.Store().Record(ctx, c, model.DispositionEvaluated, []store.Claim{{Rule: "price", Status: model.StatusDryRun}}, old); err != nil {
		t.Fatal(err)
	}
	c.ID = "7300000000000009002"
	won, err := d.Store().Record(ctx, c, model.DispositionEvaluated, []store.Claim{{Rule: "price", Status: model.StatusPending}}, old)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Store().Settle(ctx, won[0].ID, store.Settlement{Status: model.StatusUnknown}, old); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx, nil) }()
	testutil.WaitFor(t, "the first prune", func() bool { return strings.Contains(logs.String(), "history pruned") })
	if out := logs.String(); strings.Index(out, "cycle done") > strings.Index(out, "history pruned") {
		t.Errorf("pruned before the first cycle was done:\n%s", out)
	}
	if !strings.Contains(logs.String(), "claims_deleted=1") {
		t.Errorf("log does not say one claim was pruned:\n%s", logs.String())
	}
	if h := historyOf(t, d, "7300000000000009001"); len(h) != 0 {
		t.Errorf("old dry_run claim not pruned: %+v", h)
	}
	if h := historyOf(t, d, "7300000000000009002"); len(h) != 1 || h[0].Status != model.StatusUnknown {
		t.Errorf("unknown claim: %+v, want it kept", h)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
