package kitkot

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/platform/platformtest"
	"github.com/autoreplyd/autoreplyd/simulator"
)

// A hostile create_time neither fails the page nor reaches the comment: the
// comment gets the poll's time, the poll reports it once, and the listing's
// order is judged from the other replies. A time in milliseconds is read as
// such.
func TestHostileCreateTimes(t *testing.T) {
	t.Parallel()
	kk := simulator.NewKitkot(testKey, "session")
	kk.SetReplyOrder(simulator.OrderNewest)
	kk.SetReplyPageMax(4)
	kk.AddThread(thread, aweme)
	srv := httptest.NewServer(kk)
	t.Cleanup(srv.Close)
	now := time.Date(2026, 3, 9, 22, 0, 0, 0, time.UTC)
	th := model.Thread{ID: thread, PostID: aweme}
	src, err := NewSource(SourceConfig{BaseURL: srv.URL + "/api", APIKey: testKey, Threads: []model.Thread{th}, PageSize: 4,
		Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}

	want := map[string]time.Time{}
	hostile := map[string]bool{}
	ms := time.UnixMilli(1_700_000_000_000).UTC()
	want[kk.AddReply(thread, simulator.KitkotComment{Text: "ms", CreateTime: ms.Unix(), CreateTimeJSON: "1.7e12"})] = ms
	base := now.Add(-time.Hour)
	for i, raw := range simulator.HostileUnixTimes {
		at := base.Add(time.Duration(i) * time.Second)
		want[kk.AddReply(thread, simulator.KitkotComment{Text: "好", CreateTime: at.Unix()})] = at
		id := kk.AddReply(thread, simulator.KitkotComment{Text: "坏 " + raw, CreateTime: at.Unix(), CreateTimeJSON: raw})
		want[id], hostile[id] = now, true
	}

	res, err := src.PollThread(context.Background(), th, model.ThreadState{}, nil)
	if err != nil {
		t.Fatalf("poll: %v", err)
	}
	platformtest.CheckTimes(t, res, want, hostile, len(simulator.HostileUnixTimes))
	if res.State.Order != model.OrderNewest {
		t.Errorf("order %q: the replaced times changed the judgement", res.State.Order)
	}
}
