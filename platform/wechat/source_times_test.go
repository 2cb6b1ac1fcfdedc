package wechat_test

import (
	"context"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/platform/platformtest"
	"github.com/autoreplyd/autoreplyd/platform/wechat"
	"github.com/autoreplyd/autoreplyd/simulator"
)

// A hostile create_time (a year past 9999, "1e300", -1, "abc", a bool...)
// neither fails the page (create_time was an int64: 1e300 or "abc" failed
// the whole listing) nor reaches the comment: it gets the poll's time and
// the poll reports it once. A time in milliseconds is read as such.
func TestHostileCreateTimes(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 9, 22, 0, 0, 0, time.UTC)
	sim := simulator.NewWeChat(srcAppID, srcSecret)
	sim.Now = func() time.Time { return now }
	sim.AddArticle(srcMsgID, 0)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	c, err := wechat.NewClient(wechat.ClientConfig{BaseURL: srv.URL, AppID: srcAppID, AppSecret: srcSecret, Now: sim.Now})
	if err != nil {
		t.Fatal(err)
	}
	src, err := wechat.NewSource(wechat.SourceConfig{Client: c, Timeout: 2 * time.Second, Location: time.UTC, Now: sim.Now,
		Articles: []wechat.Article{{MsgDataID: srcMsgID, Index: 0}}})
	if err != nil {
		t.Fatal(err)
	}
	id := func(n uint64) string { return wechat.CommentID(srcMsgID, 0, strconv.FormatUint(n, 10)) }

	want := map[string]time.Time{}
	hostile := map[string]bool{}
	ms := time.UnixMilli(1_700_000_000_000).UTC()
	want[id(sim.AddComment(srcMsgID, 0, simulator.WeChatComment{Content: "ms", CreateTimeJSON: "1.7e12"}))] = ms
	for i, raw := range simulator.HostileUnixTimes {
		at := now.Add(-time.Hour + time.Duration(i)*time.Second)
		want[id(sim.AddComment(srcMsgID, 0, simulator.WeChatComment{Content: "好", CreateTime: at.Unix()}))] = at
		bad := id(sim.AddComment(srcMsgID, 0, simulator.WeChatComment{Content: "坏 " + raw, CreateTimeJSON: raw}))
		want[bad], hostile[bad] = now, true
	}

	res, err := src.PollThread(context.Background(), src.Threads()[0], model.ThreadState{}, nil)
	if err != nil {
		t.Fatalf("poll: %v", err)
	}
	platformtest.CheckTimes(t, res, want, hostile, len(simulator.HostileUnixTimes))

	// Known comments are not reported again.
	known := store{}
	known.record(res.Comments)
	sim.AddComment(srcMsgID, 0, simulator.WeChatComment{Content: "新", CreateTime: now.Unix()})
	res, err = src.PollThread(context.Background(), src.Threads()[0], res.State, known.known)
	if err != nil || len(res.Comments) != 1 || res.BadTimes.Count != 0 {
		t.Errorf("second poll: %d new, bad times %+v, err %v", len(res.Comments), res.BadTimes, err)
	}
}

// A hostile total (a hint) or comment_type (both were ints: "abc" or 1e300
// failed the whole listing) costs nothing: the comments come through.
func TestHostileCountsDoNotFailThePage(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{`"abc"`, `1e300`, `-1`, `{"n":1}`, `null`} {
		sim := simulator.NewWeChat(srcAppID, srcSecret)
		sim.AddArticle(srcMsgID, 0)
		sim.TotalJSON = raw
		sim.AddComment(srcMsgID, 0, simulator.WeChatComment{Content: "多少钱", CommentTypeJSON: raw})
		srv := httptest.NewServer(sim)
		c, err := wechat.NewClient(wechat.ClientConfig{BaseURL: srv.URL, AppID: srcAppID, AppSecret: srcSecret})
		if err != nil {
			t.Fatal(err)
		}
		src, err := wechat.NewSource(wechat.SourceConfig{Client: c, Timeout: 2 * time.Second, Location: time.UTC,
			Articles: []wechat.Article{{MsgDataID: srcMsgID, Index: 0}}})
		if err != nil {
			t.Fatal(err)
		}
		res, err := src.PollThread(context.Background(), src.Threads()[0], model.ThreadState{}, nil)
		srv.Close()
		if err != nil || len(res.Comments) != 1 || res.Comments[0].Text != "多少钱" {
			t.Errorf("total and comment_type %s: %d comments, %v", raw, len(res.Comments), err)
		}
	}
}
