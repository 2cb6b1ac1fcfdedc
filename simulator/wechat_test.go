package simulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

const (
	wxTestApp    = "wxappid0001"
	wxTestSecret = "wx-SIM-SECRET-9f8e"
)

func wxPost(t *testing.T, url, body string) map[string]any {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

func wxCode(m map[string]any) int {
	if c, ok := m["errcode"].(float64); ok {
		return int(c)
	}
	return 0
}

func TestWeChatImitation(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	x := NewWeChat(wxTestApp, wxTestSecret)
	x.Now = func() time.Time { return now }
	x.MaxLength = 5
	srv := httptest.NewServer(x)
	defer srv.Close()
	cred := fmt.Sprintf(`{"grant_type":"client_credential","appid":%q,"secret":%q}`, wxTestApp, wxTestSecret)

	// stable_token: the same token until the reissue window; wrong app/secret refused.
	a := wxPost(t, srv.URL+WeChatStableTokenPath, cred)
	b := wxPost(t, srv.URL+WeChatStableTokenPath, cred)
	tok, _ := a["access_token"].(string)
	if tok == "" || b["access_token"] != tok || a["expires_in"].(float64) != 7200 {
		t.Fatalf("stable tokens: %v %v", a, b)
	}
	if c := wxCode(wxPost(t, srv.URL+WeChatStableTokenPath, strings.Replace(cred, wxTestApp, "wxother", 1))); c != 40013 {
		t.Fatalf("bad appid: %d", c)
	}
	if c := wxCode(wxPost(t, srv.URL+WeChatStableTokenPath, strings.Replace(cred, wxTestSecret, "nope", 1))); c != 40125 {
		t.Fatalf("bad secret: %d", c)
	}
	// The legacy API invalidates the previous token.
	resp, err := http.Get(srv.URL + WeChatTokenPath + "?grant_type=client_credential&appid=" + wxTestApp + "&secret=" + wxTestSecret)
	if err != nil {
		t.Fatal(err)
	}
	var l map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&l)
	resp.Body.Close()
	tok2, _ := l["access_token"].(string)
	list := func(tok string, begin, count int) map[string]any {
		return wxPost(t, srv.URL+WeChatCommentListPath+"?access_token="+tok,
			fmt.Sprintf(`{"msg_data_id":2247483647,"index":0,"begin":%d,"count":%d,"type":0}`, begin, count))
	}
	x.AddArticle("2247483647", 0)
	if c := wxCode(list(tok, 0, 10)); c != 40001 || tok2 == "" || tok2 == tok {
		t.Fatalf("old token after legacy refresh: %d", c)
	}
	if c := wxCode(list(tok2, 0, 50)); c != 40097 {
		t.Fatalf("count 50: %d", c)
	}
	// Paging, openid sometimes absent, a reply on some.
	for i := range 60 {
		c := WeChatComment{Content: fmt.Sprint(i)}
		if i%2 == 0 {
			c.OpenID = fmt.Sprint("o", i)
		}
		if i == 3 {
			c.Reply = &WeChatReply{Content: "r", CreateTime: 1}
		}
		x.AddComment("2247483647", 0, c)
	}
	p1, p2 := list(tok2, 0, 49), list(tok2, 49, 49)
	c1, c2 := p1["comment"].([]any), p2["comment"].([]any)
	if len(c1) != 49 || len(c2) != 11 {
		t.Fatalf("pages %d %d", len(c1), len(c2))
	}
	seen, noOpenID, replied := map[float64]bool{}, 0, 0
	for _, c := range append(c1, c2...) {
		m := c.(map[string]any)
		seen[m["user_comment_id"].(float64)] = true
		if _, ok := m["openid"]; !ok {
			noOpenID++
		}
		if _, ok := m["reply"]; ok {
			replied++
		}
	}
	if len(seen) != 60 || noOpenID != 30 || replied != 1 {
		t.Fatalf("seen %d, no openid %d, replied %d", len(seen), noOpenID, replied)
	}
	// A begin past the int range is a format error, not a negative index
	// (which panicked the handler and dropped the connection).
	if c := wxCode(wxPost(t, srv.URL+WeChatCommentListPath+"?access_token="+tok2,
		`{"msg_data_id":2247483647,"index":0,"begin":18446744073709551615,"count":10,"type":0}`)); c != 47001 {
		t.Fatalf("begin 2^64-1: %d, want 47001", c)
	}

	reply := func(body string) int {
		return wxCode(wxPost(t, srv.URL+WeChatReplyPath+"?access_token="+tok2, body))
	}
	if c := reply(`{"msg_data_id":2247483647,"index":0,"user_comment_id":1,"content":"\u003cb"}`); c != 40033 {
		t.Fatalf("escaped: %d", c)
	}
	if c := reply(`{"msg_data_id":2247483647,"index":0,"user_comment_id":1,"content":"123456"}`); c != 88007 {
		t.Fatalf("too long: %d", c)
	}
	if c := reply(`{"msg_data_id":"2247483647","index":0,"user_comment_id":1,"content":"hi"}`); c != 47001 {
		t.Fatalf("string id: %d", c)
	}
	if c := reply(`{"msg_data_id":2247483647,"index":0,"user_comment_id":999,"content":"hi"}`); c != 88008 {
		t.Fatalf("missing comment: %d", c)
	}
	if c := reply(`{"msg_data_id":2247483647,"index":0,"user_comment_id":1,"content":"<b>"}`); c != 0 {
		t.Fatalf("reply: %d", c)
	}
	if c := reply(`{"msg_data_id":2247483647,"index":0,"user_comment_id":1,"content":"again"}`); c != 88005 {
		t.Fatalf("second reply: %d", c)
	}
	if p := x.Posts(); len(p) != 1 || p[0].Content != "<b>" || p[0].UserCommentID != 1 {
		t.Fatalf("posts %+v", p)
	}
	// Faults, token expiry.
	x.Faults.Push(Fault{Kind: FaultCode, Code: 45011, Msg: "api minute-quota reach limit"})
	if c := reply(`{"msg_data_id":2247483647,"index":0,"user_comment_id":2,"content":"x"}`); c != 45011 {
		t.Fatalf("fault: %d", c)
	}
	now = now.Add(7201 * time.Second)
	if c := wxCode(list(tok2, 0, 49)); c != 42001 {
		t.Fatalf("expired: %d", c)
	}
	// The call log holds no secret or token.
	if s := fmt.Sprintf("%+v", x.Calls()); strings.Contains(s, wxTestSecret) || strings.Contains(s, tok2) {
		t.Fatal("secret in the call log")
	}
}

// ReplyFaults act on reply/add only, and before Faults; listings pass.
func TestWeChatReplyFaults(t *testing.T) {
	x := NewWeChat(wxTestApp, wxTestSecret)
	x.AddArticle("100", 0)
	id := x.AddComment("100", 0, WeChatComment{Content: "好"})
	srv := httptest.NewServer(x)
	defer srv.Close()
	tok, _ := wxPost(t, srv.URL+WeChatStableTokenPath, fmt.Sprintf(`{"grant_type":"client_credential","appid":%q,"secret":%q}`, wxTestApp, wxTestSecret))["access_token"].(string)
	x.ReplyFaults.Push(Fault{Kind: FaultCode, Code: 45009, Msg: "quota"})
	x.Faults.Push(Fault{Kind: FaultCode, Code: -1, Msg: "busy"})
	if c := wxCode(wxPost(t, srv.URL+WeChatCommentListPath+"?access_token="+tok, `{"msg_data_id":100,"index":0,"begin":0,"count":10,"type":0}`)); c != -1 {
		t.Fatalf("list took %d, want Faults' -1", c)
	}
	reply := fmt.Sprintf(`{"msg_data_id":100,"index":0,"user_comment_id":%d,"content":"谢谢"}`, id)
	if c := wxCode(wxPost(t, srv.URL+WeChatReplyPath+"?access_token="+tok, reply)); c != 45009 {
		t.Fatalf("reply took %d, want ReplyFaults' 45009", c)
	}
	if c := wxCode(wxPost(t, srv.URL+WeChatReplyPath+"?access_token="+tok, reply)); c != 0 || len(x.Posts()) != 1 {
		t.Fatalf("reply after the faults: %d, %d posts", c, len(x.Posts()))
	}
}
