package weibo

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/platform"
	"github.com/autoreplyd/autoreplyd/simulator"
)

func TestWeightedLen(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		s    string
		want int
	}{
		{"", 0},
		{"a", 1},      // ½ rounds up
		{"ab", 1},     // ½ + ½
		{"abc", 2},    // 1.5 → 2
		{"你好", 2},     // 1 + 1
		{"你好a", 3},    // 2.5 → 3
		{"😊", 1},      // one non-ASCII character
		{"回复@小新:", 5}, // 2 + ½ + 2 + ½
		{"https://example.com/a/very/long/path?x=1&y=2", 10},
		{"看 https://t.cn/abc 好", 13},      // 1 + ½ + 10 + ½ + 1
		{"http://a.cn 和 http://b.cn", 22}, // 10 + ½ + 1 + ½ + 10
		{strings.Repeat("a", 280), 140},
		{strings.Repeat("a", 281), 141},
		{strings.Repeat("长", 140), 140},
	} {
		if got := WeightedLen(tc.s); got != tc.want {
			t.Errorf("WeightedLen(%q) = %d, want %d", tc.s, got, tc.want)
		}
		if got := simulator.WeiboWeightedLen(tc.s); got != tc.want {
			t.Errorf("simulator.WeiboWeightedLen(%q) = %d, want %d", tc.s, got, tc.want)
		}
	}
	if got := ReplyLen("谢谢", "小新", false); got != 7 { // (10 + 4) / 2
		t.Errorf("ReplyLen with mention = %d", got)
	}
	if got := ReplyLen("谢谢", "小新", true); got != 2 {
		t.Errorf("ReplyLen without mention = %d", got)
	}
	if got := ReplyLen("谢谢", "", false); got != 2+NicknameReserve {
		t.Errorf("ReplyLen unknown name = %d", got)
	}
}

const (
	tok    = "2.00TESTtoken"
	appKey = "3955559999"
	user   = "bot@example.com"
	pass   = "s3cret-pass"
	weibo  = "4023227965"
)

func setup(t *testing.T, api string, mod func(*ResponderConfig)) (*simulator.Weibo, *Responder) {
	t.Helper()
	wb := simulator.NewWeibo(tok)
	wb.SetV1Account(appKey, user, pass)
	wb.AddWeibo(weibo)
	srv := httptest.NewServer(wb)
	t.Cleanup(srv.Close)
	cfg := ResponderConfig{API: api, BaseURL: srv.URL, AccessToken: tok, AppKey: appKey, Username: user, Password: pass, Timeout: time.Second}
	if mod != nil {
		mod(&cfg)
	}
	r, err := NewResponder(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return wb, r
}

func reply(wb *simulator.Weibo, name, text string) model.Reply {
	id := wb.AddComment(weibo, simulator.WeiboComment{UID: "1001", ScreenName: name, Text: "hi"})
	return model.Reply{Comment: model.Comment{ID: id, PostID: weibo, User: model.User{Nickname: name}}, Text: text}
}

func sendErr(t *testing.T, err error) *model.SendError {
	t.Helper()
	var se *model.SendError
	if !errors.As(err, &se) {
		t.Fatalf("error %T %v, want *model.SendError", err, err)
	}
	for _, s := range []string{tok, pass} {
		if strings.Contains(se.Error(), s) {
			t.Errorf("secret in %v", se)
		}
	}
	return se
}

func TestSendBothAPIs(t *testing.T) {
	t.Parallel()
	for _, api := range []string{APIV1, APIV2} {
		t.Run(api, func(t *testing.T) {
			wb, r := setup(t, api, nil)
			rp := reply(wb, "小新", "谢谢 & 再见 a=b")
			res, err := r.Send(context.Background(), rp)
			if err != nil {
				t.Fatal(err)
			}
			posts := wb.Posts()
			if len(posts) != 1 || posts[0].CID != rp.Comment.ID || posts[0].TopLevel || posts[0].Comment != rp.Text ||
				posts[0].Text != "回复@小新:"+rp.Text || posts[0].API != api {
				t.Fatalf("posts %+v", posts)
			}
			if res.PlatformReplyID == "" || res.PlatformReplyID == rp.Comment.ID {
				t.Errorf("reply id %q", res.PlatformReplyID)
			}
			if api == APIV2 && (posts[0].CommentOri != "0" || posts[0].WithoutMention) {
				t.Errorf("v2 fields %+v", posts[0])
			}
		})
	}
}

func TestSendChecksBeforeCalling(t *testing.T) {
	t.Parallel()
	wb, r := setup(t, APIV2, nil)
	ok := reply(wb, "小新", "谢谢")
	for _, tc := range []struct {
		name   string
		mod    func(*model.Reply)
		reason string
	}{
		{"empty", func(r *model.Reply) { r.Text = " " }, "empty_text"},
		{"no cid", func(r *model.Reply) { r.Comment.ID = "" }, "bad_comment_id"},
		{"cid not numeric", func(r *model.Reply) { r.Comment.ID = "4023227965:12" }, "bad_comment_id"},
		{"no weibo", func(r *model.Reply) { r.Comment.PostID = "" }, "bad_weibo_id"},
		// 136 + "回复@小新:" 5 = 141.
		{"too long with prefix", func(r *model.Reply) { r.Text = strings.Repeat("长", 136) }, "too_long"},
		{"too long ascii", func(r *model.Reply) { r.Text = strings.Repeat("a", 281) }, "too_long"},
	} {
		rp := ok
		tc.mod(&rp)
		_, err := r.Send(context.Background(), rp)
		se := sendErr(t, err)
		if se.Kind != model.Permanent || se.Reason != tc.reason {
			t.Errorf("%s: %+v", tc.name, se)
		}
	}
	if n := len(wb.Calls()); n != 0 {
		t.Fatalf("%d calls made", n)
	}
	// 135 + 5 = 140 fits.
	rp := ok
	rp.Text = strings.Repeat("长", 135)
	if _, err := r.Send(context.Background(), rp); err != nil {
		t.Fatal(err)
	}
}

func TestSendWithoutMention(t *testing.T) {
	t.Parallel()
	wb, r := setup(t, APIV2, func(c *ResponderConfig) { c.WithoutMention = true; c.RIP = "10.0.0.1" })
	rp := reply(wb, "小新", strings.Repeat("长", 140))
	if _, err := r.Send(context.Background(), rp); err != nil {
		t.Fatal(err)
	}
	if p := wb.Posts()[0]; !p.WithoutMention || p.Text != rp.Text || p.RIP != "10.0.0.1" {
		t.Fatalf("post %+v", p)
	}
}

func TestSendRepeatedContent(t *testing.T) {
	t.Parallel()
	wb, r := setup(t, APIV2, func(c *ResponderConfig) { c.WithoutMention = true })
	if _, err := r.Send(context.Background(), reply(wb, "甲", "谢谢")); err != nil {
		t.Fatal(err)
	}
	_, err := r.Send(context.Background(), reply(wb, "乙", "谢谢"))
	se := sendErr(t, err)
	if se.Kind != model.Permanent || se.Code != "20019" || se.Reason != "duplicate_content" || se.PauseFor != 0 || !se.ReplyOnly {
		t.Fatalf("%+v", se)
	}
}

// The imitation's refusals of one reply (too long with the mention prefix
// Weibo adds, a comment that is gone) fail that reply only; an expired
// token is about the account.
func TestSendRefusalsOfOneReply(t *testing.T) {
	t.Parallel()
	wb, r := setup(t, APIV2, nil)
	gone := reply(wb, "小新", "谢谢")
	gone.Comment.ID = "4999999999999999"
	_, err := r.Send(context.Background(), gone)
	if se := sendErr(t, err); se.Reason != "comment_not_found" || se.Code != "20201" || !se.ReplyOnly {
		t.Fatalf("comment gone: %+v", se)
	}
	wb.ExpireToken()
	_, err = r.Send(context.Background(), reply(wb, "小新", "谢谢"))
	if se := sendErr(t, err); se.Reason != "token_expired" || se.ReplyOnly {
		t.Fatalf("expired token: %+v", se)
	}
	if n := len(wb.Posts()); n != 0 {
		t.Fatalf("%d posts", n)
	}
}

func TestSendCodes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		code      int
		kind      model.FailureKind
		reason    string
		pause     time.Duration
		replyOnly bool // a refusal of this reply's content or target only
	}{
		{20019, model.Permanent, "duplicate_content", 0, true},
		{20017, model.Permanent, "similar_content", 0, true},
		{20016, model.Retryable, "too_fast", TooFastPause, false},
		{10022, model.Retryable, "rate_limited", time.Hour, false},
		{10023, model.Retryable, "rate_limited", time.Hour, false},
		{10024, model.Retryable, "rate_limited", time.Hour, false},
		{21327, model.Permanent, "token_expired", TokenPause, false},
		{21314, model.Permanent, "token_expired", TokenPause, false},
		{21317, model.Permanent, "token_expired", TokenPause, false},
		{20201, model.Permanent, "comment_not_found", 0, true},
		{20012, model.Permanent, "too_long", 0, true},
		{10001, model.Unknown, "platform_10001", 0, false},
		{10002, model.Retryable, "busy", 0, false},
		{20003, model.Permanent, "platform_20003", 0, false}, // nobody classified it: may be the account
		{20101, model.Permanent, "weibo_not_found", 0, true},
		{20018, model.Permanent, "content_refused", 0, true},
		{20020, model.Permanent, "content_refused", 0, true},
		{20021, model.Permanent, "content_refused", 0, true},
		{21301, model.Permanent, "auth_failed", TokenPause, false},
		{21332, model.Permanent, "auth_failed", TokenPause, false},
	} {
		wb, r := setup(t, APIV2, nil)
		rp := reply(wb, "小新", "谢谢")
		wb.Faults.Push(simulator.Fault{Kind: simulator.FaultCode, Code: tc.code, Msg: "err " + tok})
		_, err := r.Send(context.Background(), rp)
		se := sendErr(t, err)
		if se.Kind != tc.kind || se.Reason != tc.reason || se.PauseFor != tc.pause || se.ReplyOnly != tc.replyOnly {
			t.Errorf("%d: %+v", tc.code, se)
		}
	}
}

func TestSendTransport(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		fault  simulator.Fault
		kind   model.FailureKind
		reason string
	}{
		{simulator.Fault{Kind: simulator.FaultHTTPStatus, Status: 503}, model.Retryable, "http_503"},
		{simulator.Fault{Kind: simulator.FaultHTTPStatus, Status: 500}, model.Unknown, "http_500"},
		{simulator.Fault{Kind: simulator.FaultDropAfter}, model.Unknown, "dropped"},
		{simulator.Fault{Kind: simulator.FaultSlowAfter, Delay: 3 * time.Second}, model.Unknown, "timeout"},
		{simulator.Fault{Kind: simulator.FaultBrokenJSON}, model.Unknown, "bad_answer"},
	} {
		wb, r := setup(t, APIV2, func(c *ResponderConfig) { c.Timeout = 300 * time.Millisecond })
		wb.Faults.Push(tc.fault)
		_, err := r.Send(context.Background(), reply(wb, "小新", "谢谢"))
		se := sendErr(t, err)
		if se.Kind != tc.kind || se.Reason != tc.reason {
			t.Errorf("%+v: %+v", tc.fault, se)
		}
	}
	// Nothing listening: never written, retryable.
	r, err := NewResponder(ResponderConfig{BaseURL: "http://127.0.0.1:1", AccessToken: tok})
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Send(context.Background(), model.Reply{Comment: model.Comment{ID: "1", PostID: "2"}, Text: "x"})
	if se := sendErr(t, err); se.Kind != model.Retryable || se.Reason != "connect" {
		t.Fatalf("%+v", se)
	}
}

func TestSendV1WrongPassword(t *testing.T) {
	t.Parallel()
	wb, r := setup(t, APIV1, func(c *ResponderConfig) { c.Password = "wrong-pass" })
	_, err := r.Send(context.Background(), reply(wb, "小新", "谢谢"))
	if se := sendErr(t, err); se.Code != "21301" || se.Kind != model.Permanent || se.PauseFor == 0 {
		t.Fatalf("%+v", se)
	}
}

func TestNewChecks(t *testing.T) {
	t.Parallel()
	for _, c := range []ResponderConfig{
		{BaseURL: "http://x"},
		{API: APIV1, BaseURL: "http://x", AppKey: "1", Username: "u"},
		{API: "v3", BaseURL: "http://x", AccessToken: "t"},
		{BaseURL: "ftp://x", AccessToken: "t"},
	} {
		if _, err := NewResponder(c); err == nil {
			t.Errorf("New(%+v) accepted", c)
		}
	}
}

// CheckText makes Send's own check of the text, without a call: what it
// refuses Send refuses with the same reason, and what it takes Send does
// not refuse for its length (the "回复@name:" prefix counted).
func TestCheckTextIsSendsCheck(t *testing.T) {
	t.Parallel()
	for _, withoutMention := range []bool{false, true} {
		wb, r := setup(t, APIV2, func(c *ResponderConfig) { c.WithoutMention = withoutMention })
		var _ platform.TextChecker = r
		fits := 0
		for _, tc := range []struct {
			text   string
			reason string // "" when it fits; with the prefix, without mention
			free   string
		}{
			{"谢谢🙏", "", ""},
			{" \n", "empty_text", "empty_text"},
			{strings.Repeat("长", 135), "", ""},         // 135 + "回复@小新:" 5 = 140
			{strings.Repeat("长", 136), "too_long", ""}, // 141 with the prefix
			{strings.Repeat("长", 141), "too_long", "too_long"},
		} {
			want := tc.reason
			if withoutMention {
				want = tc.free
			}
			rp := reply(wb, "小新", tc.text)
			err := r.CheckText(rp.Comment, tc.text)
			if want == "" {
				if err != nil {
					t.Errorf("without_mention %v: CheckText(%d runes) = %v", withoutMention, len([]rune(tc.text)), err)
				}
				if _, err := r.Send(context.Background(), rp); err != nil {
					t.Errorf("without_mention %v: Send(%d runes) = %v", withoutMention, len([]rune(tc.text)), err)
				}
				fits++
				continue
			}
			if se := sendErr(t, err); se.Reason != want || !se.ReplyOnly || se.Kind != model.Permanent {
				t.Errorf("without_mention %v: CheckText = %+v, want %s", withoutMention, se, want)
			}
			_, serr := r.Send(context.Background(), rp)
			if se := sendErr(t, serr); se.Reason != want || se.Msg != sendErr(t, err).Msg {
				t.Errorf("Send = %+v, CheckText = %v", se, err)
			}
		}
		if want := "reply is 141 weighted characters with the 回复@name: prefix, more than Weibo's 140"; !withoutMention {
			if err := r.CheckText(reply(wb, "小新", "").Comment, strings.Repeat("长", 136)); err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("CheckText = %v, want %q", err, want)
			}
		}
		if n := len(wb.Calls()); n != fits { // only the texts that fit were sent
			t.Errorf("without_mention %v: %d calls, want %d", withoutMention, n, fits)
		}
	}
}
