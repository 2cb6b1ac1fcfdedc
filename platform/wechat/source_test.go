package wechat_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/platform/wechat"
	"github.com/autoreplyd/autoreplyd/simulator"
)

const (
	srcAppID  = "wx0123456789abcdef"
	srcSecret = "wx-SECRET-src-77aa01"
	srcMsgID  = "2247483647"
	msgID2    = "2650000001"
)

func setupSource(t *testing.T) (*simulator.WeChat, *wechat.Source) {
	t.Helper()
	sim := simulator.NewWeChat(srcAppID, srcSecret)
	sim.AddArticle(srcMsgID, 0)
	sim.AddArticle(msgID2, 1)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	c, err := wechat.NewClient(wechat.ClientConfig{BaseURL: srv.URL, AppID: srcAppID, AppSecret: srcSecret})
	if err != nil {
		t.Fatal(err)
	}
	src, err := wechat.NewSource(wechat.SourceConfig{Client: c, Timeout: 2 * time.Second, Location: time.UTC, Articles: []wechat.Article{
		{MsgDataID: srcMsgID, Index: 0, Labels: map[string]string{"栏目": "周报"}},
		{MsgDataID: msgID2, Index: 1},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return sim, src
}

// store is a KnownFunc over a set of recorded ids.
type store map[string]bool

func (s store) known(_ context.Context, ids []string) (map[string]bool, error) {
	out := map[string]bool{}
	for _, id := range ids {
		if s[id] {
			out[id] = true
		}
	}
	return out, nil
}

func (s store) record(cs []model.Comment) {
	for _, c := range cs {
		s[c.ID] = true
	}
}

func TestThreadsAndIDs(t *testing.T) {
	t.Parallel()
	_, src := setupSource(t)
	ths := src.Threads()
	if len(ths) != 2 || ths[0].ID != srcMsgID+":0" || ths[0].PostID != srcMsgID+":0" || ths[1].ID != msgID2+":1" || ths[0].Labels["栏目"] != "周报" {
		t.Fatalf("threads: %+v", ths)
	}
	if src.Platform() != "wechat" {
		t.Fatal(src.Platform())
	}
	m, i, u, err := wechat.ParseCommentID(srcMsgID + ":0:9007199254740993")
	if err != nil || m != srcMsgID || i != "0" || u != "9007199254740993" {
		t.Fatal(m, i, u, err)
	}
	for _, bad := range []string{"1:2", "a:0:1", "1:0:", "1:0:1:2"} {
		if _, _, _, err := wechat.ParseCommentID(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	for _, a := range [][]wechat.Article{{{MsgDataID: "x"}}, {{MsgDataID: "1", Index: -1}}, {{MsgDataID: "1"}, {MsgDataID: "1"}}} {
		c, _ := wechat.NewClient(wechat.ClientConfig{BaseURL: "http://127.0.0.1:1", AppID: srcAppID, AppSecret: srcSecret})
		if _, err := wechat.NewSource(wechat.SourceConfig{Client: c, Articles: a}); err == nil {
			t.Errorf("articles %+v accepted", a)
		}
	}
}

func TestPagingNewDetectionAndAnswered(t *testing.T) {
	t.Parallel()
	sim, src := setupSource(t)
	ctx := context.Background()
	th := src.Threads()[0]
	// 120 comments: three pages of 49, 49, 22. The same user_comment_ids
	// exist under the other article: ids must not collide.
	for i := range 120 {
		c := simulator.WeChatComment{UserCommentID: uint64(i + 1), Content: fmt.Sprintf("评论 %d", i), CreateTime: int64(1700000000 + i)}
		if i%3 != 0 {
			c.OpenID = fmt.Sprintf("oAbc%03d", i)
		}
		if i == 7 {
			c.Reply = &simulator.WeChatReply{Content: "后台已回复", CreateTime: 1700000100}
		}
		sim.AddComment(srcMsgID, 0, c)
		sim.AddComment(msgID2, 1, simulator.WeChatComment{UserCommentID: uint64(i + 1), Content: "other"})
	}
	st := store{}
	res, err := src.PollThread(ctx, th, model.ThreadState{}, st.known)
	if err != nil {
		t.Fatal(err)
	}
	if res.Calls != 3 || len(res.Comments) != 120 || !res.State.Initialized || res.State.Known != 120 || res.State.ThreadID != th.ID {
		t.Fatalf("calls %d comments %d state %+v", res.Calls, len(res.Comments), res.State)
	}
	var begins []int
	for _, c := range sim.Calls() {
		if c.Path == wechat.CommentListPath {
			begins = append(begins, c.Begin)
			if c.Count != 49 {
				t.Fatalf("count %d", c.Count)
			}
		}
	}
	if fmt.Sprint(begins) != "[0 49 98]" {
		t.Fatalf("begins %v", begins)
	}
	answered := 0
	for i, c := range res.Comments {
		if i > 0 && c.CreatedAt.Before(res.Comments[i-1].CreatedAt) {
			t.Fatal("not sorted by time")
		}
		if !strings.HasPrefix(c.ID, srcMsgID+":0:") || c.ThreadID != th.ID || c.PostID != th.ID || c.Platform != "wechat" || c.Labels["栏目"] != "周报" {
			t.Fatalf("comment %+v", c)
		}
		if c.AlreadyAnswered {
			answered++
			if c.ID != srcMsgID+":0:8" {
				t.Fatalf("answered: %s", c.ID)
			}
		}
	}
	if answered != 1 {
		t.Fatalf("%d answered", answered)
	}
	if c := res.Comments[0]; c.Text != "评论 0" || c.User.UID != "" || c.CreatedAt.Unix() != 1700000000 {
		t.Fatalf("first: %+v", c)
	}
	if c := res.Comments[1]; c.User.UID != "oAbc001" {
		t.Fatalf("second: %+v", c)
	}
	st.record(res.Comments)

	// Nothing new: nothing returned, still a full scan.
	res, err = src.PollThread(ctx, th, res.State, st.known)
	if err != nil || len(res.Comments) != 0 || res.Calls != 3 || res.State.Polls != 2 {
		t.Fatalf("idle poll: %d comments, %d calls, %v", len(res.Comments), res.Calls, err)
	}
	// New ones wherever they land in the (unknown) order.
	a := sim.AddComment(srcMsgID, 0, simulator.WeChatComment{UserCommentID: 6000000000123, Content: "多少钱", OpenID: "oNew1"})
	b := sim.AddComment(srcMsgID, 0, simulator.WeChatComment{Content: "好看"})
	res, err = src.PollThread(ctx, th, res.State, st.known)
	if err != nil || len(res.Comments) != 2 {
		t.Fatalf("new: %+v %v", res.Comments, err)
	}
	got := map[string]bool{res.Comments[0].ID: true, res.Comments[1].ID: true}
	if !got[fmt.Sprintf("%s:0:%d", srcMsgID, a)] || !got[fmt.Sprintf("%s:0:%d", srcMsgID, b)] {
		t.Fatalf("new ids: %v", got)
	}
}

func TestCodesToActions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		code   int
		token  bool
		action model.SourceAction
	}{
		{40164, true, model.SourceStop},
		{40013, true, model.SourceStop},
		{40125, true, model.SourceStop},
		{40164, false, model.SourceStop},
		{48001, false, model.SourceStop},
		{88000, false, model.SourceStop},
		{88001, false, model.SourceSkipThread},
		{88002, false, model.SourceSkipThread},
		{88011, false, model.SourceSkipThread},
		{45009, false, model.SourcePause},
		{45011, false, model.SourceBackoff},
		{-1, false, model.SourceRetry},
		{-1, true, model.SourceRetry},
	} {
		sim, src := setupSource(t)
		msg := "refused " + srcSecret
		if tc.token {
			sim.TokenFaults.Push(simulator.Fault{Kind: simulator.FaultCode, Code: tc.code, Msg: msg})
		} else {
			sim.Faults.Push(simulator.Fault{Kind: simulator.FaultCode, Code: tc.code, Msg: msg})
		}
		prev := model.ThreadState{Polls: 3}
		res, err := src.PollThread(context.Background(), src.Threads()[0], prev, nil)
		var se *model.SourceError
		if !errors.As(err, &se) || se.Action != tc.action || se.Code != fmt.Sprint(tc.code) {
			t.Fatalf("%d (token %v): %v", tc.code, tc.token, err)
		}
		if strings.Contains(err.Error(), srcSecret) {
			t.Fatalf("secret in %v", err)
		}
		if res.State != prev {
			t.Fatalf("state changed on error")
		}
		if tc.action == model.SourcePause && !se.Until.After(time.Now()) {
			t.Fatalf("pause until %v", se.Until)
		}
	}
}

func TestTransportFailuresRetry(t *testing.T) {
	t.Parallel()
	for _, fl := range []simulator.Fault{
		{Kind: simulator.FaultHTTPStatus, Status: http.StatusBadGateway},
		{Kind: simulator.FaultBrokenJSON},
		{Kind: simulator.FaultDrop},
	} {
		sim, src := setupSource(t)
		sim.Faults.Push(fl)
		_, err := src.PollThread(context.Background(), src.Threads()[0], model.ThreadState{}, nil)
		var se *model.SourceError
		if !errors.As(err, &se) || se.Action != model.SourceRetry || strings.Contains(err.Error(), srcSecret) {
			t.Fatalf("%+v: %v", fl, err)
		}
	}
}
