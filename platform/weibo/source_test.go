package weibo

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/simulator"
)

const (
	srcTok   = "2.00TESTtoken"
	srcWeibo = "4023227965"
)

func setupSource(t *testing.T) (*simulator.Weibo, *Source) {
	t.Helper()
	wb := simulator.NewWeibo(srcTok)
	wb.AddWeibo(srcWeibo)
	srv := httptest.NewServer(wb)
	t.Cleanup(srv.Close)
	s, err := NewSource(SourceConfig{BaseURL: srv.URL, AccessToken: srcTok, Timeout: time.Second,
		Weibos: []Weibo{{ID: srcWeibo, Labels: map[string]string{"k": "v"}}}})
	if err != nil {
		t.Fatal(err)
	}
	return wb, s
}

func TestParseTime(t *testing.T) {
	t.Parallel()
	got, err := ParseTime("Wed Jun 01 00:50:25 +0800 2011")
	if err != nil || !got.Equal(time.Date(2011, 5, 31, 16, 50, 25, 0, time.UTC)) {
		t.Fatalf("%v %v", got, err)
	}
}

func TestIDLess(t *testing.T) {
	t.Parallel()
	if !idLess("9", "10") || idLess("10", "9") || !idLess("", "1") || idLess("9007199254740993", "9007199254740993") ||
		!idLess("9007199254740993", "9007199254740994") {
		t.Fatal("idLess")
	}
}

func TestPollSinceIDAndFields(t *testing.T) {
	t.Parallel()
	wb, s := setupSource(t)
	th := s.Threads()[0]
	at := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	first := wb.AddComment(srcWeibo, simulator.WeiboComment{UID: "1001", ScreenName: "小新", Text: "第一", CreatedAt: at})
	// The backlog: everything on first sight.
	res, err := s.PollThread(context.Background(), th, model.ThreadState{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Comments) != 1 || !res.State.Initialized || res.State.Cursor != first {
		t.Fatalf("first poll %+v", res)
	}
	c := res.Comments[0]
	if c.ID != first || c.ThreadID != srcWeibo || c.PostID != srcWeibo || c.User.UID != "1001" || c.User.Nickname != "小新" ||
		!c.CreatedAt.Equal(at) || c.ReplyToID != "0" || c.Labels["k"] != "v" || c.Platform != "weibo" {
		t.Fatalf("comment %+v", c)
	}
	// Ids above 2^53 are exact.
	if first != "9007199254740993" {
		t.Fatalf("id %s", first)
	}
	// A reply to the first: reply_comment, since_id asked.
	wb.ResetCalls()
	second := wb.AddComment(srcWeibo, simulator.WeiboComment{UID: "1002", ScreenName: "小浪", Text: "回复@小新:嗯", ReplyTo: 9007199254740993})
	res2, err := s.PollThread(context.Background(), th, res.State, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res2.Comments) != 1 || res2.Comments[0].ID != second || res2.Comments[0].ReplyToID != first ||
		res2.Comments[0].ReplyToUser != "小新" || res2.State.Cursor != second {
		t.Fatalf("second poll %+v", res2)
	}
	if calls := wb.Calls(); len(calls) != 1 || calls[0].SinceID != first || calls[0].Count != PageSize {
		t.Fatalf("calls %+v", calls)
	}
	// Nothing new: the cursor stays.
	res3, err := s.PollThread(context.Background(), th, res2.State, nil)
	if err != nil || len(res3.Comments) != 0 || res3.State.Cursor != second {
		t.Fatalf("third poll %+v %v", res3, err)
	}
}

func TestPollPagesAndKnown(t *testing.T) {
	t.Parallel()
	wb, s := setupSource(t)
	for i := range PageSize + 5 {
		wb.AddComment(srcWeibo, simulator.WeiboComment{UID: "1", Text: "c", CreatedAt: time.Unix(int64(1700000000+i), 0)})
	}
	known := func(_ context.Context, ids []string) (map[string]bool, error) {
		return map[string]bool{ids[0]: true}, nil
	}
	res, err := s.PollThread(context.Background(), s.Threads()[0], model.ThreadState{}, known)
	if err != nil {
		t.Fatal(err)
	}
	// Two pages; the first id of each page "known".
	if res.Calls != 2 || len(res.Comments) != PageSize+5-2 {
		t.Fatalf("calls %d comments %d", res.Calls, len(res.Comments))
	}
	for i := 1; i < len(res.Comments); i++ {
		if res.Comments[i].CreatedAt.Before(res.Comments[i-1].CreatedAt) {
			t.Fatal("not oldest first")
		}
	}
}

func TestPollErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		fault  simulator.Fault
		action model.SourceAction
	}{
		{simulator.Fault{Kind: simulator.FaultCode, Code: 21327, Msg: "expired_token"}, model.SourceStop},
		{simulator.Fault{Kind: simulator.FaultCode, Code: 21315, Msg: "Token expired"}, model.SourceStop},
		{simulator.Fault{Kind: simulator.FaultCode, Code: 10023, Msg: "User requests out of rate limit!"}, model.SourceBackoff},
		{simulator.Fault{Kind: simulator.FaultCode, Code: 20101, Msg: "target srcWeibo does not exist!"}, model.SourceSkipThread},
		{simulator.Fault{Kind: simulator.FaultCode, Code: 10001, Msg: "system error " + srcTok}, model.SourceRetry},
		{simulator.Fault{Kind: simulator.FaultHTTPStatus, Status: 502}, model.SourceRetry},
		{simulator.Fault{Kind: simulator.FaultBrokenJSON}, model.SourceRetry},
		{simulator.Fault{Kind: simulator.FaultDrop}, model.SourceRetry},
	} {
		wb, s := setupSource(t)
		wb.Faults.Push(tc.fault)
		prev := model.ThreadState{Cursor: "5", Initialized: true}
		res, err := s.PollThread(context.Background(), s.Threads()[0], prev, nil)
		var se *model.SourceError
		if !errors.As(err, &se) || se.Action != tc.action || res.State != prev {
			t.Errorf("%+v: %v", tc.fault, err)
			continue
		}
		if strings.Contains(se.Error(), srcTok) {
			t.Errorf("token in %v", se)
		}
	}
}

func TestNewSourceChecks(t *testing.T) {
	t.Parallel()
	for _, c := range []SourceConfig{
		{BaseURL: "http://x", Weibos: []Weibo{{ID: "1"}}},
		{BaseURL: "http://x", AccessToken: "t", Weibos: []Weibo{{ID: "x1"}}},
		{BaseURL: "http://x", AccessToken: "t", Weibos: []Weibo{{ID: "1"}, {ID: "1"}}},
	} {
		if _, err := NewSource(c); err == nil {
			t.Errorf("New(%+v) accepted", c)
		}
	}
}
