package wechat_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/platform"
	"github.com/autoreplyd/autoreplyd/platform/wechat"
	"github.com/autoreplyd/autoreplyd/simulator"
)

const (
	respAppID  = "wx0123456789abcdef"
	respSecret = "wx-SECRET-resp-31c9e0"
	respMsgID  = "2247483647"
)

func newResponder(t *testing.T, url string, maxLen int) *wechat.Responder {
	t.Helper()
	c, err := wechat.NewClient(wechat.ClientConfig{BaseURL: url, AppID: respAppID, AppSecret: respSecret, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	r, err := wechat.NewResponder(wechat.ResponderConfig{Client: c, Timeout: 500 * time.Millisecond, MaxLength: maxLen})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func setupResponder(t *testing.T) (*simulator.WeChat, *wechat.Responder) {
	t.Helper()
	sim := simulator.NewWeChat(respAppID, respSecret)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	return sim, newResponder(t, srv.URL, 0)
}

func reply(id, text string) model.Reply {
	return model.Reply{Comment: model.Comment{Platform: "wechat", ID: id, ThreadID: respMsgID + ":1", PostID: respMsgID + ":1"}, Text: text}
}

func TestSendExactNumbersAndUnescapedHTML(t *testing.T) {
	t.Parallel()
	// A plain server sees the body exactly.
	var body string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.URL.Path == wechat.StableTokenPath {
			fmt.Fprint(w, `{"access_token":"T","expires_in":7200}`)
			return
		}
		body = string(b)
		fmt.Fprint(w, `{"errcode":0,"errmsg":"ok"}`)
	}))
	defer srv.Close()
	r := newResponder(t, srv.URL, 0)
	text := `谢谢🌸 <a href="https://example.com/?a=1&b=2">价目表</a>`
	if _, err := r.Send(context.Background(), reply(respMsgID+":1:9007199254740993", text)); err != nil {
		t.Fatal(err)
	}
	want := `{"msg_data_id":2247483647,"index":1,"user_comment_id":9007199254740993,"content":"谢谢🌸 <a href=\"https://example.com/?a=1&b=2\">价目表</a>"}`
	if body != want {
		t.Fatalf("body\n%s\nwant\n%s", body, want)
	}

	// And the imitation, which refuses \u003c, takes it.
	sim, r2 := setupResponder(t)
	id := sim.AddComment(respMsgID, 1, simulator.WeChatComment{UserCommentID: 6000000000123, Content: "多少钱"})
	res, err := r2.Send(context.Background(), reply(fmt.Sprintf("%s:1:%d", respMsgID, id), text))
	if err != nil || res.Reason != "" {
		t.Fatal(res, err)
	}
	posts := sim.Posts()
	if len(posts) != 1 || posts[0].Content != text || posts[0].UserCommentID != 6000000000123 || posts[0].MsgDataID != respMsgID || posts[0].Index != 1 {
		t.Fatalf("posts %+v", posts)
	}
	// A second reply: 88005, counted as answered, never retried.
	res, err = r2.Send(context.Background(), reply(fmt.Sprintf("%s:1:%d", respMsgID, id), "again"))
	if err != nil || res.Reason != "already_replied" || len(sim.Posts()) != 1 {
		t.Fatalf("second: %+v %v", res, err)
	}
}

func TestTooLongAndBadIDWithoutACall(t *testing.T) {
	t.Parallel()
	sim, _ := setupResponder(t)
	srv := httptest.NewServer(sim)
	defer srv.Close()
	r := newResponder(t, srv.URL, 10)
	for _, tc := range []struct{ id, text, reason string }{
		{respMsgID + ":1:5", strings.Repeat("长", 11), "too_long"},
		{respMsgID + ":1:5", "  ", "empty_text"},
		{"5", "hi", "bad_comment_id"},
	} {
		_, err := r.Send(context.Background(), reply(tc.id, tc.text))
		var se *model.SendError
		if !errors.As(err, &se) || se.Kind != model.Permanent || se.Reason != tc.reason {
			t.Fatalf("%+v: %v", tc, err)
		}
	}
	if _, err := r.Send(context.Background(), reply(respMsgID+":1:5", strings.Repeat("长", 10))); err == nil {
		// The comment does not exist: 88008, but a call was made.
		t.Fatal("no error for a missing comment")
	}
	if n := len(sim.Calls()); n != 2 { // token + one reply
		t.Fatalf("%d calls: %+v", n, sim.Calls())
	}
}

func TestEveryCodeClassified(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		code      int
		token     bool
		kind      model.FailureKind
		reason    string
		replyOnly bool // a refusal of this reply's content or target only
	}{
		{-1, false, model.Retryable, "busy", false},
		{45009, false, model.Retryable, "quota", false},
		{45011, false, model.Retryable, "too_frequent", false},
		{88000, false, model.Permanent, "platform_88000", false},
		{88001, false, model.Permanent, "platform_88001", true},
		{88002, false, model.Permanent, "platform_88002", true},
		{88004, false, model.Permanent, "platform_88004", true},
		{88007, false, model.Permanent, "platform_88007", true},
		{88008, false, model.Permanent, "platform_88008", true},
		{88011, false, model.Permanent, "platform_88011", true},
		{40033, false, model.Permanent, "platform_40033", true},
		{40164, false, model.Permanent, "ip_not_whitelisted", false},
		{40164, true, model.Permanent, "ip_not_whitelisted", false},
		{40013, true, model.Permanent, "invalid_appid", false},
		{40125, true, model.Permanent, "invalid_secret", false},
		{-1, true, model.Retryable, "busy", false},
		{45009, true, model.Retryable, "quota", false},
		{87014, false, model.Permanent, "platform_87014", true},
		{48001, false, model.Permanent, "api_unauthorized", false},
		{61234, false, model.Permanent, "platform_61234", false}, // nobody classified it: may be the account
	} {
		sim, r := setupResponder(t)
		id := sim.AddComment(respMsgID, 1, simulator.WeChatComment{Content: "x"})
		msg := fmt.Sprintf("platform says %d", tc.code)
		if tc.token {
			sim.TokenFaults.Push(simulator.Fault{Kind: simulator.FaultCode, Code: tc.code, Msg: msg})
		} else {
			sim.Faults.Push(simulator.Fault{Kind: simulator.FaultCode, Code: tc.code, Msg: msg})
		}
		_, err := r.Send(context.Background(), reply(fmt.Sprintf("%s:1:%d", respMsgID, id), "谢谢"))
		var se *model.SendError
		if !errors.As(err, &se) || se.Kind != tc.kind || se.Reason != tc.reason || se.Code != fmt.Sprint(tc.code) || !strings.Contains(se.Msg, msg) {
			t.Fatalf("%d (token %v): %#v", tc.code, tc.token, err)
		}
		if len(sim.Posts()) != 0 {
			t.Fatalf("%d: posted", tc.code)
		}
		if se.ReplyOnly != tc.replyOnly {
			t.Fatalf("%d (token %v): ReplyOnly %v, want %v", tc.code, tc.token, se.ReplyOnly, tc.replyOnly)
		}
		// Quota and pace answers ask the poller to pause the responder.
		if got, want := se.PauseToNextDay, tc.code == 45009; got != want {
			t.Fatalf("%d: PauseToNextDay %v", tc.code, got)
		}
		if got, want := se.PauseFor > 0, tc.code == 45011; got != want {
			t.Fatalf("%d: PauseFor %s", tc.code, se.PauseFor)
		}
	}
	// Token codes: one refresh and one retry, then retryable.
	for _, code := range []int{40001, 40014, 42001} {
		sim, r := setupResponder(t)
		id := sim.AddComment(respMsgID, 1, simulator.WeChatComment{Content: "x"})
		f := simulator.Fault{Kind: simulator.FaultCode, Code: code, Msg: "invalid credential"}
		sim.Faults.Push(f, f)
		_, err := r.Send(context.Background(), reply(fmt.Sprintf("%s:1:%d", respMsgID, id), "谢谢"))
		if se := (*model.SendError)(nil); !errors.As(err, &se) || se.Kind != model.Retryable || se.Reason != "token_invalid" {
			t.Fatalf("%d: %v", code, err)
		}
		// Once only: the retry succeeds.
		sim.Faults.Push(f)
		if _, err := r.Send(context.Background(), reply(fmt.Sprintf("%s:1:%d", respMsgID, id), "谢谢")); err != nil {
			t.Fatalf("%d after one refusal: %v", code, err)
		}
	}
}

func TestTransportClassification(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		fault  simulator.Fault
		kind   model.FailureKind
		reason string
		posted bool
	}{
		{simulator.Fault{Kind: simulator.FaultHTTPStatus, Status: 503}, model.Retryable, "http_503", false},
		{simulator.Fault{Kind: simulator.FaultHTTPStatus, Status: 500}, model.Unknown, "http_500", false},
		{simulator.Fault{Kind: simulator.FaultHTTPStatus, Status: 404}, model.Permanent, "http_404", false},
		{simulator.Fault{Kind: simulator.FaultDropAfter}, model.Unknown, "dropped", true},
		{simulator.Fault{Kind: simulator.FaultSlowAfter, Delay: 2 * time.Second}, model.Unknown, "timeout", true},
		{simulator.Fault{Kind: simulator.FaultBrokenJSON}, model.Unknown, "bad_answer", false},
	} {
		sim, r := setupResponder(t)
		id := sim.AddComment(respMsgID, 1, simulator.WeChatComment{Content: "x"})
		sim.Faults.Push(tc.fault)
		_, err := r.Send(context.Background(), reply(fmt.Sprintf("%s:1:%d", respMsgID, id), "谢谢"))
		var se *model.SendError
		if !errors.As(err, &se) || se.Kind != tc.kind || se.Reason != tc.reason || strings.Contains(err.Error(), respSecret) {
			t.Fatalf("%+v: %#v", tc.fault, err)
		}
		if got := len(sim.Posts()) == 1; got != tc.posted {
			t.Fatalf("%+v: posted %v", tc.fault, got)
		}
	}
	// Not written: connection refused, retryable.
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	r := newResponder(t, url, 0)
	_, err := r.Send(context.Background(), reply(respMsgID+":1:5", "谢谢"))
	var se *model.SendError
	if !errors.As(err, &se) || se.Kind != model.Retryable || !strings.HasPrefix(se.Reason, "token_") || strings.Contains(err.Error(), respSecret) {
		t.Fatalf("refused: %#v", err)
	}
}

func TestSendAfterTokenConnectFailureIsRetryable(t *testing.T) {
	t.Parallel()
	// The token was fetched; then the API host refuses connections.
	sim := simulator.NewWeChat(respAppID, respSecret)
	srv := httptest.NewServer(sim)
	r := newResponder(t, srv.URL, 0)
	id := sim.AddComment(respMsgID, 1, simulator.WeChatComment{Content: "x"})
	if _, err := r.Send(context.Background(), reply(fmt.Sprintf("%s:1:%d", respMsgID, id), "a")); err != nil {
		t.Fatal(err)
	}
	srv.Close()
	_, err := r.Send(context.Background(), reply(fmt.Sprintf("%s:1:%d", respMsgID, id+1), "b"))
	var se *model.SendError
	if !errors.As(err, &se) || se.Kind != model.Retryable || se.Reason != "connect" {
		t.Fatalf("%#v", err)
	}
}

// The imitation's own refusals of one reply (deleted, not found, too long
// for WeChat, already answered) fail that reply only; a refused privilege is
// about the account.
func TestRefusalsOfOneReply(t *testing.T) {
	t.Parallel()
	sim, r := setupResponder(t)
	sim.MaxLength = 5
	deleted := sim.AddComment(respMsgID, 1, simulator.WeChatComment{Content: "x", Deleted: true})
	ok := sim.AddComment(respMsgID, 1, simulator.WeChatComment{Content: "y"})
	id := func(n uint64) string { return fmt.Sprintf("%s:1:%d", respMsgID, n) }
	for _, tc := range []struct {
		name, id, text, reason string
	}{
		{"deleted", id(deleted), "谢谢", "platform_88004"},
		{"not found", id(ok + 100), "谢谢", "platform_88008"},
		{"article not found", "2247480000:1:1", "谢谢", "platform_88001"},
		{"too long for WeChat", id(ok), "一二三四五六", "platform_88007"},
	} {
		_, err := r.Send(context.Background(), reply(tc.id, tc.text))
		var se *model.SendError
		if !errors.As(err, &se) || se.Kind != model.Permanent || se.Reason != tc.reason || !se.ReplyOnly {
			t.Fatalf("%s: %#v", tc.name, err)
		}
	}
	sim.Faults.Push(simulator.Fault{Kind: simulator.FaultCode, Code: 88000, Msg: "without comment privilege"})
	_, err := r.Send(context.Background(), reply(id(ok), "谢谢"))
	var se *model.SendError
	if !errors.As(err, &se) || se.Reason != "platform_88000" || se.ReplyOnly {
		t.Fatalf("88000: %#v", err)
	}
	if n := len(sim.Posts()); n != 0 {
		t.Fatalf("%d posts", n)
	}
	// The refusals reached WeChat: they are the platform's, not local.
	if n := len(sim.Calls()); n != 6 { // token + five replies
		t.Fatalf("%d calls: %+v", n, sim.Calls())
	}
}

// CheckText makes Send's own check of the text, without a call: the same
// refusal and message for an empty text and one over max_length; a text
// that fits passes.
func TestCheckTextIsSendsCheck(t *testing.T) {
	t.Parallel()
	sim, _ := setupResponder(t)
	srv := httptest.NewServer(sim)
	defer srv.Close()
	r := newResponder(t, srv.URL, 10)
	var _ platform.TextChecker = r
	for _, tc := range []struct{ text, reason string }{
		{"\n ", "empty_text"},
		{strings.Repeat("长", 11), "too_long"},
	} {
		rp := reply(respMsgID+":1:5", tc.text)
		var se, sendSE *model.SendError
		if err := r.CheckText(rp.Comment, tc.text); !errors.As(err, &se) || se.Reason != tc.reason || se.Kind != model.Permanent || !se.ReplyOnly {
			t.Fatalf("CheckText(%q) = %v, want %s", tc.text, err, tc.reason)
		}
		if _, err := r.Send(context.Background(), rp); !errors.As(err, &sendSE) || sendSE.Reason != tc.reason || sendSE.Msg != se.Msg {
			t.Fatalf("Send(%q) = %v, CheckText %v", tc.text, err, se)
		}
	}
	if err := r.CheckText(reply(respMsgID+":1:5", "").Comment, strings.Repeat("长", 10)); err != nil {
		t.Fatalf("CheckText(10 characters, max_length 10) = %v", err)
	}
	if n := len(sim.Calls()); n != 0 {
		t.Fatalf("%d calls: %+v", n, sim.Calls())
	}
}
