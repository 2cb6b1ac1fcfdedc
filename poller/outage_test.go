package poller_test

import (
	"os"
	"sync"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/internal/pgtest"
	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/poller"
	"github.com/autoreplyd/autoreplyd/simulator"
	"github.com/autoreplyd/autoreplyd/store"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// PostgreSQL goes down while a cycle sends, for longer than a send waits
// for it (StoreWait): the answer posted meanwhile cannot be recorded and
// the queued ones cannot be marked attempted, so none of them is sent.
// The first cycle that finds the database back records the one posted as
// sent and sends the others, once each: no restart needed.
func TestDatabaseOutageLongerThanASendWaits(t *testing.T) {
	srv := pgtest.Start(t)
	h := newHarness(t, setup{})
	st, err := store.Open(h.ctx, srv.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	h.st = st
	p := h.newPoller(func(o *poller.Options) {
		o.StoreWait = 300 * time.Millisecond
		// One send a second: the database is down by the second's turn.
		o.Pacing = map[string]poller.Pacing{responderName: {Limit: 1, Burst: 1}}
	})
	h.initThreads(p)
	echo := h.kk.OnPost
	var once sync.Once
	h.kk.OnPost = func(post simulator.Post) {
		echo(post)
		once.Do(func() {
			if err := srv.Stop(); err != nil {
				t.Error(err)
			}
		})
	}
	for _, nick := range []string{"客一", "客二", "客三"} {
		h.add(threadA, "2000"+nick, nick, "多少钱")
	}
	st1 := h.cycle(p)
	if posts := h.kk.Posts(); len(posts) != 1 {
		t.Fatalf("%d answers posted with the database down, want the one that stopped it; cycle %+v", len(posts), st1)
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		h.cycle(p)
		if len(h.kk.Posts()) == 3 {
			break
		}
	}
	byText := map[string]int{}
	for _, post := range h.kk.Posts() {
		byText[post.Text]++
	}
	for _, nick := range []string{"客一", "客二", "客三"} {
		if n := byText[nick+" 你好，价格请看橱窗"]; n != 1 {
			t.Errorf("%s answered %d times", nick, n)
		}
	}
	rows, err := st.History(h.ctx, store.Filter{Rule: "price"})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.Status != model.StatusSent {
			t.Errorf("claim of %s is %s/%s, want sent", r.UserNickname, r.Status, r.Reason)
		}
	}
	if len(rows) != 3 {
		t.Errorf("%d price claims, want 3", len(rows))
	}
}
