package kitkot

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/simulator"
)

const (
	testKey = "tk-API-KEY-unit-4e1f"
	thread  = "7300000000000000011"
	aweme   = "7300000000000000001"
)

// memKnown is the store's role: the cids recorded so far.
type memKnown struct {
	mu  sync.Mutex
	ids map[string]bool
}

func (m *memKnown) known(_ context.Context, ids []string) (map[string]bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]bool{}
	for _, id := range ids {
		if m.ids[id] {
			out[id] = true
		}
	}
	return out, nil
}

func (m *memKnown) record(cs []model.Comment) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range cs {
		m.ids[c.ID] = true
	}
}

type env struct {
	t     *testing.T
	kk    *simulator.Kitkot
	src   *Source
	known *memKnown
	state model.ThreadState
	th    model.Thread
	clock int64
}

func newEnv(t *testing.T, order simulator.ReplyOrder, pageMax int) *env {
	t.Helper()
	kk := simulator.NewKitkot(testKey, "session")
	kk.SetReplyOrder(order)
	kk.SetReplyPageMax(pageMax)
	kk.AddThread(thread, aweme)
	srv := httptest.NewServer(kk)
	t.Cleanup(srv.Close)
	th := model.Thread{ID: thread, PostID: aweme, Labels: map[string]string{"k": "v"}}
	src, err := NewSource(SourceConfig{BaseURL: srv.URL + "/api", APIKey: testKey, Threads: []model.Thread{th}, PageSize: 5})
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, kk: kk, src: src, known: &memKnown{ids: map[string]bool{}}, th: th, clock: 1_700_000_000}
}

func (e *env) add(n int) []string {
	var ids []string
	for range n {
		e.clock += 10
		ids = append(ids, e.kk.AddReply(thread, simulator.KitkotComment{Text: fmt.Sprint("r", e.clock), UserUID: "42",
			Nickname: "n", CreateTime: e.clock}))
	}
	return ids
}

// poll polls once, records what it found and returns it with the calls made.
func (e *env) poll() ([]model.Comment, int) {
	e.t.Helper()
	res, err := e.src.PollThread(context.Background(), e.th, e.state, e.known.known)
	if err != nil {
		e.t.Fatalf("PollThread: %v", err)
	}
	e.known.record(res.Comments)
	e.state = res.State
	return res.Comments, res.Calls
}

func TestPollFindsNewRepliesInAnyOrder(t *testing.T) {
	t.Parallel()
	for _, order := range []simulator.ReplyOrder{simulator.OrderOldest, simulator.OrderNewest, simulator.OrderRecommended} {
		t.Run(order.String(), func(t *testing.T) {
			e := newEnv(t, order, 3)
			e.add(11)
			got, calls := e.poll()
			if len(got) != 11 || calls != 4 || !e.state.Initialized || e.state.Total != 11 {
				t.Fatalf("first poll: %d new, %d calls, state %+v", len(got), calls, e.state)
			}
			for i := range 3 {
				want := e.add(2)
				if i == 1 {
					e.kk.RemoveReply(thread, got[0].ID) // a deletion shifts the pages
				}
				found, _ := e.poll()
				if len(found) != 2 || found[0].ID != want[0] || found[1].ID != want[1] {
					t.Fatalf("poll %d: found %+v, want %v", i, found, want)
				}
				c := found[0]
				if c.Platform != model.PlatformTikTok || c.ThreadID != thread || c.PostID != aweme || c.RootID != thread ||
					c.User.UID != "42" || c.Labels["k"] != "v" || c.CreatedAt.IsZero() {
					t.Fatalf("comment %+v", c)
				}
			}
			if found, _ := e.poll(); len(found) != 0 {
				t.Fatalf("nothing new, found %+v", found)
			}
		})
	}
}

func TestNewestFirstStopsAtAKnownPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t, simulator.OrderNewest, 3)
	e.add(30)
	if _, calls := e.poll(); calls != 10 {
		t.Fatalf("full scan: %d calls", calls)
	}
	if e.state.Order != model.OrderNewest {
		t.Fatalf("order %q", e.state.Order)
	}
	if found, calls := e.poll(); len(found) != 0 || calls != 1 {
		t.Fatalf("unchanged: %d found, %d calls", len(found), calls)
	}
	e.add(4)
	if found, calls := e.poll(); len(found) != 4 || calls != 3 {
		t.Fatalf("4 new: %d found, %d calls", len(found), calls)
	}
}

func TestListingErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		fault simulator.Fault
		want  model.SourceAction
	}{
		{"400 bad comment", simulator.Fault{Kind: simulator.FaultCode, Code: 400, Msg: "Comment not found: comment_id " + thread}, model.SourceSkipThread},
		{"400 other", simulator.Fault{Kind: simulator.FaultCode, Code: 400, Msg: "Failed to fetch replies"}, model.SourceRetry},
		{"400 api_key", simulator.Fault{Kind: simulator.FaultCode, Code: 400, Msg: "Invalid api_key"}, model.SourceStop},
		{"401", simulator.Fault{Kind: simulator.FaultHTTPStatus, Status: 401}, model.SourceStop},
		{"403", simulator.Fault{Kind: simulator.FaultHTTPStatus, Status: 403}, model.SourceStop},
		{"429", simulator.Fault{Kind: simulator.FaultHTTPStatus, Status: 429}, model.SourceBackoff},
		{"502", simulator.Fault{Kind: simulator.FaultHTTPStatus, Status: 502}, model.SourceRetry},
		{"broken JSON", simulator.Fault{Kind: simulator.FaultBrokenJSON}, model.SourceRetry},
		{"dropped", simulator.Fault{Kind: simulator.FaultDrop}, model.SourceRetry},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, simulator.OrderOldest, 20)
			e.add(2)
			e.kk.Faults.Push(tc.fault)
			_, err := e.src.PollThread(context.Background(), e.th, model.ThreadState{}, e.known.known)
			var se *model.SourceError
			if !errors.As(err, &se) || se.Action != tc.want {
				t.Fatalf("err %v, want action %s", err, tc.want)
			}
			if strings.Contains(err.Error(), testKey) {
				t.Fatalf("api_key in the error: %v", err)
			}
		})
	}
	t.Run("unknown comment and wrong key, from the imitation", func(t *testing.T) {
		e := newEnv(t, simulator.OrderOldest, 20)
		_, err := e.src.PollThread(context.Background(), model.Thread{ID: "1"}, model.ThreadState{}, e.known.known)
		var se *model.SourceError
		if !errors.As(err, &se) || se.Action != model.SourceSkipThread {
			t.Fatalf("unknown comment: %v", err)
		}
		bad, _ := NewSource(SourceConfig{BaseURL: strings.TrimSuffix(e.src.endpoint, listPath), APIKey: "wrong-key", Threads: []model.Thread{e.th}})
		_, err = bad.PollThread(context.Background(), e.th, model.ThreadState{}, e.known.known)
		if !errors.As(err, &se) || se.Action != model.SourceStop || strings.Contains(err.Error(), "wrong-key") {
			t.Fatalf("wrong key: %v", err)
		}
	})
}

func TestDecodeFlexibleShapes(t *testing.T) {
	t.Parallel()
	p, err := decodePage(200, []byte(`{"code":"200","replies":[{"cid":7300000000000000099,"create_time":"1700000000","user":{"uid":12}}],"nextCursor":"20","has_more":1,"total_replies":"21"}`))
	if err != nil || len(p.Replies) != 1 || p.Replies[0].CID != "7300000000000000099" || !p.HasMore || p.Next != "20" || p.Total != 21 {
		t.Fatalf("page %+v, err %v", p, err)
	}
	if _, err := decodePage(200, []byte(`{"replies":[]}`)); err == nil {
		t.Fatal("answer without a code accepted")
	}
}

func TestNewChecksConfig(t *testing.T) {
	t.Parallel()
	for _, cfg := range []SourceConfig{
		{BaseURL: "ftp://x", APIKey: "k"},
		{BaseURL: "http://x?a=1", APIKey: "k"},
		{BaseURL: "http://x"},
		{BaseURL: "http://x", APIKey: "k", Threads: []model.Thread{{ID: "1"}, {ID: "1"}}},
		{BaseURL: "http://x", APIKey: "k", Threads: []model.Thread{{}}},
	} {
		if _, err := NewSource(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
}

// A short listing that happens to be newest first (as a "recommended"
// listing of a few replies often is) is not trusted: the next poll still
// scans the thread whole, and finds new replies wherever they are listed.
func TestFewRepliesInOrderAreNoEvidence(t *testing.T) {
	t.Parallel()
	e := newEnv(t, simulator.OrderNewest, 3)
	e.add(3)
	if got, _ := e.poll(); len(got) != 3 || e.state.Order != model.OrderUnknown {
		t.Fatalf("first poll: %d new, order %q", len(got), e.state.Order)
	}
	// The listing turns out to be another order: the new replies come last.
	e.kk.SetReplyOrder(simulator.OrderOldest)
	want := e.add(2)
	if got, _ := e.poll(); len(got) != 2 || got[0].ID != want[0] || got[1].ID != want[1] {
		t.Fatalf("second poll found %+v, want %v", got, want)
	}
}
