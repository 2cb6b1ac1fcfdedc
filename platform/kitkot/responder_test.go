package kitkot

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/platform"
	"github.com/autoreplyd/autoreplyd/simulator"
)

// Distinctive keys: no error text may contain them, in any spelling.
const (
	testAPIKey     = "AKEY-s3cr3t+api/key=zz9"
	testSessionKey = "SKEY-s3ss10n&key%qq7"
)

// The responder satisfies platform.Responder (declared here to keep this
// package free of a dependency on the poller).
var _ interface {
	Name() string
	Send(context.Context, model.Reply) (model.SendResult, error)
} = (*Responder)(nil)

type fixture struct {
	sim *simulator.Kitkot
	srv *httptest.Server
	r   *Responder
}

func newFixture(t *testing.T, timeout time.Duration) *fixture {
	t.Helper()
	sim := simulator.NewKitkot(testAPIKey, testSessionKey)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	return &fixture{sim: sim, srv: srv, r: newResponder(t, srv.URL+"/api", testAPIKey, testSessionKey, timeout)}
}

func newResponder(t *testing.T, base, apiKey, sessionKey string, timeout time.Duration) *Responder {
	t.Helper()
	r, err := NewResponder(ResponderConfig{BaseURL: base, APIKey: apiKey, SessionKey: sessionKey, Timeout: timeout})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return r
}

// reply answers a reply (RootID set) in a Douyin-style thread.
func douyinReply(text string) model.Reply {
	return model.Reply{
		ClaimID: 1,
		Comment: model.Comment{
			Platform:  model.PlatformDouyin,
			ID:        "7251530000000000002",
			ThreadID:  "7251524159191958327",
			PostID:    "7251517975340027197",
			RootID:    "7251524159191958327",
			ReplyToID: "0",
			Text:      "多少钱",
		},
		Text: text,
	}
}

// noSecrets fails when err's text or fields hold a key in any spelling.
func noSecrets(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	texts := []string{err.Error(), fmt.Sprintf("%v", err), fmt.Sprintf("%+v", err)}
	var se *model.SendError
	if errors.As(err, &se) {
		texts = append(texts, se.Msg, se.Code, se.Reason, fmt.Sprintf("%#v", *se))
	}
	for _, text := range texts {
		for _, key := range []string{testAPIKey, testSessionKey, "AKEY", "SKEY", "s3cr3t", "s3ss10n"} {
			if strings.Contains(text, key) {
				t.Errorf("error text %q contains a key (%q)", text, key)
			}
		}
	}
}

// sendErr asserts a *model.SendError of kind and reason.
// wantSendErr fails the test unless err is a *model.SendError of kind and
// reason, with no secret in it.
func wantSendErr(t *testing.T, err error, kind model.FailureKind, reason string) {
	t.Helper()
	_ = sendErr(t, err, kind, reason)
}

func sendErr(t *testing.T, err error, kind model.FailureKind, reason string) *model.SendError {
	t.Helper()
	noSecrets(t, err)
	var se *model.SendError
	if !errors.As(err, &se) {
		t.Fatalf("error = %v (%T), want *model.SendError", err, err)
	}
	if se.Kind != kind || se.Reason != reason {
		t.Fatalf("error = %v, kind %s reason %q; want kind %s reason %q", se, se.Kind, se.Reason, kind, reason)
	}
	return se
}

func TestName(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 0)
	if got := f.r.Name(); got != "kitkot" {
		t.Errorf("Name() = %q", got)
	}
	if f.r.timeout != DefaultSendTimeout {
		t.Errorf("default timeout = %v, want %v", f.r.timeout, DefaultSendTimeout)
	}
}

func TestNewRefusesBadConfigWithoutPrintingKeys(t *testing.T) {
	t.Parallel()
	cases := []ResponderConfig{
		{BaseURL: "", APIKey: testAPIKey, SessionKey: testSessionKey},
		{BaseURL: "kitkot.xyz/api", APIKey: testAPIKey, SessionKey: testSessionKey},
		{BaseURL: "https://kitkot.xyz/api?api_key=" + testAPIKey, APIKey: testAPIKey, SessionKey: testSessionKey},
		{BaseURL: "https://kitkot.xyz/api", APIKey: "", SessionKey: testSessionKey},
		{BaseURL: "https://kitkot.xyz/api", APIKey: testAPIKey, SessionKey: ""},
		{BaseURL: "https://kitkot.xyz/api", APIKey: testAPIKey, SessionKey: testSessionKey, Timeout: -time.Second},
		{BaseURL: "https://kitkot.xyz/api", APIKey: testAPIKey, SessionKey: testSessionKey, MaxLength: -1},
	}
	for i, cfg := range cases {
		_, err := NewResponder(cfg)
		if err == nil {
			t.Errorf("case %d: New accepted %+v", i, cfg)
			continue
		}
		noSecrets(t, err)
	}
}

func TestSendPostsUnderTheRoot(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 5*time.Second)
	cases := []struct {
		name        string
		id, rootID  string
		wantReplyID string
	}{
		{"reply in a thread answers the root", "7251530000000000002", "7251524159191958327", "7251524159191958327"},
		{"root comment (reply_id 0) answers itself", "7251524159191958327", "0", "7251524159191958327"},
		{"no root answers itself", "7251524159191958399", "", "7251524159191958399"},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rp := douyinReply(fmt.Sprintf("谢谢支持 %d", i))
			rp.Comment.ID, rp.Comment.RootID = c.id, c.rootID
			res, err := f.r.Send(context.Background(), rp)
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			posts := f.sim.Posts()
			if len(posts) != i+1 {
				t.Fatalf("imitation has %d posts, want %d", len(posts), i+1)
			}
			p := posts[i]
			if res.PlatformReplyID == "" || res.PlatformReplyID != p.CID {
				t.Errorf("PlatformReplyID = %q, imitation cid %q", res.PlatformReplyID, p.CID)
			}
			if p.Text != rp.Text || p.AwemeID != rp.Comment.PostID || p.ReplyID != c.wantReplyID {
				t.Errorf("posted %+v, want text %q aweme_id %q reply_id %q", p, rp.Text, rp.Comment.PostID, c.wantReplyID)
			}
		})
	}
}

func TestSendTextRoundTrips(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 5*time.Second)
	texts := []string{
		"你好，价格请看橱窗😀👍",
		"[呲牙][捂脸] 收到",
		"a&b=c&text=injected",
		"#话题 #tag",
		"1+1=2 and a + b",
		"100% 真的 %E4%B8%AD %zz %",
		"two  spaces, trailing space ",
		"line one\nline two\r\nline three\ttab",
		"?q=1;x=2/path\\back 'single' \"double\"",
		"<b>bold</b> & <script>",
		"👨‍👩‍👧‍👦 family, 🇨🇳 flag, é (e + combining accent)",
		"全角！？，。：；「」",
	}
	for i, text := range texts {
		if _, err := f.r.Send(context.Background(), douyinReply(text)); err != nil {
			t.Fatalf("Send(%q): %v", text, err)
		}
		posts := f.sim.Posts()
		if got := posts[len(posts)-1].Text; got != text {
			t.Errorf("case %d: imitation received %q, sent %q", i, got, text)
		}
	}
	if len(f.sim.Posts()) != len(texts) {
		t.Errorf("imitation has %d posts, want %d", len(f.sim.Posts()), len(texts))
	}
}

func TestSendRefusesWithoutRequest(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 5*time.Second)
	empty := douyinReply("  \n ")
	_, err := f.r.Send(context.Background(), empty)
	wantSendErr(t, err, model.Permanent, "empty_text")

	noPost := douyinReply("hi")
	noPost.Comment.PostID = ""
	_, err = f.r.Send(context.Background(), noPost)
	wantSendErr(t, err, model.Permanent, "missing_aweme_id")

	noTarget := douyinReply("hi")
	noTarget.Comment.ID, noTarget.Comment.RootID = "", "0"
	_, err = f.r.Send(context.Background(), noTarget)
	wantSendErr(t, err, model.Permanent, "missing_reply_id")

	if n := f.sim.Requests(); n != 0 {
		t.Errorf("imitation saw %d requests, want 0", n)
	}
}

// Every kitkot refusal is HTTP 400 {code: 400, msg}: the message tells a
// refusal of the account (keys, session) from one of this reply (its text),
// and only the first may count toward the breaker (ReplyOnly false).
func TestSendPlatformRefusals(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name          string
		apiKey        string
		session       string
		maxLen        int
		banned        []string
		fault         *simulator.Fault
		wantMsg       string
		wantCode      string
		wantReplyOnly bool
	}{
		{name: "wrong api_key", apiKey: testAPIKey + "x", session: testSessionKey, wantMsg: "api_key", wantCode: "400"},
		{name: "wrong session_key", apiKey: testAPIKey, session: "x" + testSessionKey, wantMsg: "session_key", wantCode: "400"},
		{name: "too long", apiKey: testAPIKey, session: testSessionKey, maxLen: 5, wantMsg: "too long", wantCode: "400", wantReplyOnly: true},
		{name: "against the guidelines", apiKey: testAPIKey, session: testSessionKey, banned: []string{"超过"},
			wantMsg: "guidelines", wantCode: "400", wantReplyOnly: true},
		{name: "documented failure", apiKey: testAPIKey, session: testSessionKey,
			fault: &simulator.Fault{Kind: simulator.FaultCode, Code: 400, Msg: "Failed to publish reply"}, wantMsg: "Failed to publish reply", wantCode: "400", wantReplyOnly: true},
		{name: "logged out", apiKey: testAPIKey, session: testSessionKey,
			fault: &simulator.Fault{Kind: simulator.FaultCode, Code: 400, Msg: "Failed to publish reply: please login again"}, wantMsg: "login", wantCode: "400"},
		{name: "rate limited", apiKey: testAPIKey, session: testSessionKey,
			fault: &simulator.Fault{Kind: simulator.FaultCode, Code: 400, Msg: "Failed to publish reply: rate limit reached"}, wantMsg: "rate limit", wantCode: "400"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, 5*time.Second)
			f.sim.MaxLength = c.maxLen
			f.sim.BannedWords = c.banned
			if c.fault != nil {
				f.sim.Faults.Push(*c.fault)
			}
			r := newResponder(t, f.srv.URL+"/api", c.apiKey, c.session, 5*time.Second)
			_, err := r.Send(context.Background(), douyinReply("这条回复超过五个字了"))
			// Keys the responder holds may differ from the test constants:
			// check those too.
			for _, key := range []string{c.apiKey, c.session} {
				if strings.Contains(err.Error(), key) {
					t.Errorf("error %q contains a key", err)
				}
			}
			se := sendErr(t, err, model.Permanent, "platform_400")
			if se.Code != c.wantCode || !strings.Contains(se.Msg, c.wantMsg) {
				t.Errorf("error = %v, want code %s and msg containing %q", se, c.wantCode, c.wantMsg)
			}
			if se.ReplyOnly != c.wantReplyOnly {
				t.Errorf("ReplyOnly = %v, want %v (%v)", se.ReplyOnly, c.wantReplyOnly, se)
			}
			if n := len(f.sim.Posts()); n != 0 {
				t.Errorf("imitation recorded %d posts, want 0", n)
			}
		})
	}
}

func TestSendConnectionRefusedIsRetryable(t *testing.T) {
	t.Parallel()
	sim := simulator.NewKitkot(testAPIKey, testSessionKey)
	srv := httptest.NewServer(sim)
	base := srv.URL + "/api"
	srv.Close() // nothing listens on the address any more

	r := newResponder(t, base, testAPIKey, testSessionKey, 5*time.Second)
	_, err := r.Send(context.Background(), douyinReply("hi"))
	se := sendErr(t, err, model.Retryable, "connect")
	if !strings.Contains(se.Msg, "refused") {
		t.Errorf("msg %q does not say refused", se.Msg)
	}
	if sim.Requests() != 0 || len(sim.Posts()) != 0 {
		t.Errorf("imitation saw %d requests, %d posts; want none", sim.Requests(), len(sim.Posts()))
	}
}

func TestSendCancelledBeforeWritingIsRetryable(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 5*time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := f.r.Send(ctx, douyinReply("hi"))
	wantSendErr(t, err, model.Retryable, "connect")
	if n := f.sim.Requests(); n != 0 {
		t.Errorf("imitation saw %d requests, want 0", n)
	}
}

func TestSendTransportFailures(t *testing.T) {
	t.Parallel()
	const slow = 5 * time.Second // far beyond the client's 200ms timeout
	cases := []struct {
		name       string
		fault      simulator.Fault
		kind       model.FailureKind
		reason     string
		wantCode   string
		wantPosted int
	}{
		// FaultDrop closes the connection before the imitation processes
		// the request, but the client had already written it all: from the
		// client's side this is indistinguishable from a drop after
		// processing, so Unknown is the only safe answer.
		{"drop before processing", simulator.Fault{Kind: simulator.FaultDrop}, model.Unknown, "dropped", "", 0},
		{"drop after posting", simulator.Fault{Kind: simulator.FaultDropAfter}, model.Unknown, "dropped", "", 1},
		{"slow after posting", simulator.Fault{Kind: simulator.FaultSlowAfter, Delay: slow}, model.Unknown, "timeout", "", 1},
		{"slow before posting", simulator.Fault{Kind: simulator.FaultSlow, Delay: slow}, model.Unknown, "timeout", "", 0},
		{"HTTP 429", simulator.Fault{Kind: simulator.FaultHTTPStatus, Status: 429}, model.Retryable, "http_429", "", 0},
		{"HTTP 502", simulator.Fault{Kind: simulator.FaultHTTPStatus, Status: 502}, model.Retryable, "http_502", "", 0},
		{"HTTP 503", simulator.Fault{Kind: simulator.FaultHTTPStatus, Status: 503}, model.Retryable, "http_503", "", 0},
		{"HTTP 504", simulator.Fault{Kind: simulator.FaultHTTPStatus, Status: 504}, model.Retryable, "http_504", "", 0},
		{"HTTP 500", simulator.Fault{Kind: simulator.FaultHTTPStatus, Status: 500}, model.Unknown, "http_500", "", 0},
		{"HTTP 400 without JSON", simulator.Fault{Kind: simulator.FaultHTTPStatus, Status: 400}, model.Permanent, "platform_400", "400", 0},
		{"HTTP 403", simulator.Fault{Kind: simulator.FaultHTTPStatus, Status: 403}, model.Permanent, "http_403", "", 0},
		{"broken JSON", simulator.Fault{Kind: simulator.FaultBrokenJSON}, model.Unknown, "bad_answer", "", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, 200*time.Millisecond)
			f.sim.Faults.Push(c.fault)
			_, err := f.r.Send(context.Background(), douyinReply("在吗？"))
			se := sendErr(t, err, c.kind, c.reason)
			if se.Code != c.wantCode {
				t.Errorf("code = %q, want %q", se.Code, c.wantCode)
			}
			// Posts are recorded before the fault acts, so the count is
			// settled by the time the client sees the failure.
			if n := len(f.sim.Posts()); n != c.wantPosted {
				t.Errorf("imitation recorded %d posts, want %d", n, c.wantPosted)
			}
			if n := f.sim.Requests(); n != 1 {
				t.Errorf("imitation saw %d requests, want exactly 1 (no replay)", n)
			}
		})
	}
}

// A dropped answer on a kept-alive connection must not make the HTTP stack
// resend the GET: the imitation would post the reply twice.
func TestSendNeverReplays(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"default client", "caller client with keep-alives"} {
		t.Run(name, func(t *testing.T) {
			sim := simulator.NewKitkot(testAPIKey, testSessionKey)
			srv := httptest.NewServer(sim)
			defer srv.Close()
			cfg := ResponderConfig{BaseURL: srv.URL + "/api", APIKey: testAPIKey, SessionKey: testSessionKey, Timeout: 5 * time.Second}
			if name != "default client" {
				cfg.HTTPClient = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
			}
			r, err := NewResponder(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := r.Send(context.Background(), douyinReply("first")); err != nil {
				t.Fatalf("first Send: %v", err)
			}
			sim.Faults.Push(simulator.Fault{Kind: simulator.FaultDropAfter})
			_, err = r.Send(context.Background(), douyinReply("second"))
			wantSendErr(t, err, model.Unknown, "dropped")
			if n := len(sim.Posts()); n != 2 {
				t.Errorf("imitation recorded %d posts, want 2 (the second exactly once)", n)
			}
			if n := sim.Requests(); n != 2 {
				t.Errorf("imitation saw %d requests, want 2", n)
			}
		})
	}
}

// answerServer answers every request with status and body, after checking
// the request carries the keys (so a redaction failure would show).
func answerServer(t *testing.T, status int, body string) *Responder {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Query().Get("api_key") != testAPIKey || req.URL.Query().Get("session_key") != testSessionKey {
			t.Errorf("keys did not arrive intact: %q", req.URL.RawQuery)
		}
		body := strings.ReplaceAll(body, "$URL", req.URL.String())
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return newResponder(t, srv.URL+"/api", testAPIKey, testSessionKey, 5*time.Second)
}

func TestSendAnswerDecoding(t *testing.T) {
	t.Parallel()
	t.Run("numeric code and cid keep every digit", func(t *testing.T) {
		r := answerServer(t, 200, `{"code":200,"comment":{"cid":7400000000000000123,"reply_comment":[{"cid":"1"}]},"msg":"ok"}`)
		res, err := r.Send(context.Background(), douyinReply("hi"))
		if err != nil {
			t.Fatal(err)
		}
		if res.PlatformReplyID != "7400000000000000123" {
			t.Errorf("PlatformReplyID = %q", res.PlatformReplyID)
		}
	})
	t.Run("string code", func(t *testing.T) {
		r := answerServer(t, 200, `{"code":"200","comment":{"cid":"7400000000000000124"}}`)
		res, err := r.Send(context.Background(), douyinReply("hi"))
		if err != nil || res.PlatformReplyID != "7400000000000000124" {
			t.Errorf("Send = %+v, %v", res, err)
		}
	})

	cases := []struct {
		name     string
		status   int
		body     string
		kind     model.FailureKind
		reason   string
		wantCode string
	}{
		{"200 with a business error", 200, `{"code":10001,"msg":"risk control"}`, model.Permanent, "platform_10001", "10001"},
		{"200 with code 400", 200, `{"code":400,"msg":"Failed to publish reply"}`, model.Permanent, "platform_400", "400"},
		{"200 without a code", 200, `{"msg":"?"}`, model.Unknown, "bad_answer", ""},
		{"200 with HTML", 200, `<html>maintenance</html>`, model.Unknown, "bad_answer", ""},
		{"200 empty", 200, ``, model.Unknown, "bad_answer", ""},
		{"400 with another code", 400, `{"code":40013,"msg":"session expired"}`, model.Permanent, "platform_40013", "40013"},
		{"400 echoing the URL", 400, `{"code":400,"msg":"bad request $URL"}`, model.Permanent, "platform_400", "400"},
		{"500 echoing the URL", 500, `internal error at $URL`, model.Unknown, "http_500", ""},
		{"503 echoing the URL", 503, `{"code":503,"msg":"busy $URL"}`, model.Retryable, "http_503", "503"},
		{"404", 404, `not found`, model.Permanent, "http_404", ""},
		{"redirect", 302, ``, model.Permanent, "http_302", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := answerServer(t, c.status, c.body)
			_, err := r.Send(context.Background(), douyinReply("hi"))
			se := sendErr(t, err, c.kind, c.reason)
			if se.Code != c.wantCode {
				t.Errorf("code = %q, want %q", se.Code, c.wantCode)
			}
		})
	}
}

func TestSendUnreachableHostIsRetryable(t *testing.T) {
	t.Parallel()
	// A port on loopback that refuses: a listener opened and closed.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	r := newResponder(t, "http://"+addr+"/api", testAPIKey, testSessionKey, 5*time.Second)
	_, err = r.Send(context.Background(), douyinReply("hi"))
	wantSendErr(t, err, model.Retryable, "connect")
}

// Which refusals say something about the account or the API (they count
// toward the breaker) and which only about this reply (ReplyOnly).
func TestRefusalScope(t *testing.T) {
	t.Parallel()
	const text = "@session 你好, 价格请看橱窗"
	cases := []struct {
		name      string
		status    int
		body      string
		replyOnly bool
	}{
		{"documented refusal", 400, `{"code":400,"msg":"Failed to publish reply"}`, true},
		{"guidelines", 400, `{"code":400,"msg":"Content violates community guidelines"}`, true},
		{"too long", 400, `{"code":400,"msg":"Text exceeds the 150 character limit"}`, true},
		{"duplicate", 400, `{"code":400,"msg":"You already posted an identical comment"}`, true},
		{"comment gone", 400, `{"code":400,"msg":"Comment not found or deleted"}`, true},
		{"video author", 400, `{"code":400,"msg":"The author has turned off comments"}`, true},
		{"keyword filter", 400, `{"code":400,"msg":"Comment contains a filtered keyword"}`, true},
		{"200 with code 400", 200, `{"code":"400","msg":"Failed to publish reply"}`, true},
		// The platform quoting the reply (a nickname echoed by a template)
		// is no evidence against the account.
		{"echoed text", 400, `{"code":400,"msg":"Sensitive words in \"@session 你好\""}`, true},

		{"api key", 400, `{"code":400,"msg":"Invalid api_key"}`, false},
		{"session", 400, `{"code":400,"msg":"Invalid session_key: please log in again"}`, false},
		{"login", 400, `{"code":400,"msg":"Login required"}`, false},
		{"unauthorized", 400, `{"code":400,"msg":"Unauthorized"}`, false},
		{"authentication", 400, `{"code":400,"msg":"Authentication failed"}`, false},
		{"permission", 400, `{"code":400,"msg":"No permission to comment"}`, false},
		{"banned", 400, `{"code":400,"msg":"Account banned"}`, false},
		{"daily limit", 400, `{"code":400,"msg":"Daily comment limit reached"}`, false},
		{"quota", 400, `{"code":400,"msg":"Quota exceeded"}`, false},
		{"too frequent", 400, `{"code":400,"msg":"Commenting too frequently"}`, false},
		{"credits", 400, `{"code":400,"msg":"Not enough credits"}`, false},
		{"another code", 400, `{"code":40013,"msg":"Failed to publish reply"}`, false},
		{"200 with another code", 200, `{"code":10001,"msg":"Failed to publish reply"}`, false},
		{"400 without kitkot's JSON", 400, `<html>Bad Request</html>`, false},
		{"400 without a message", 400, `{"code":400}`, false},
		{"401", 401, `{"code":401,"msg":"Failed to publish reply"}`, false},
		{"403", 403, `{"code":403,"msg":"Failed to publish reply"}`, false},
		{"404", 404, `not found`, false},
		{"redirect", 302, ``, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := answerServer(t, c.status, c.body)
			_, err := r.Send(context.Background(), douyinReply(text))
			noSecrets(t, err)
			var se *model.SendError
			if !errors.As(err, &se) || se.Kind != model.Permanent {
				t.Fatalf("error = %v, want a permanent *model.SendError", err)
			}
			if se.ReplyOnly != c.replyOnly {
				t.Errorf("ReplyOnly = %v, want %v (%v)", se.ReplyOnly, c.replyOnly, se)
			}
		})
	}
}

// A reply over max_length fails too_long before any request: the 1 MB echo
// of a comment never reaches kitkot. The cap counts characters, not bytes.
func TestSendTooLongMakesNoRequest(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 5*time.Second)
	if f.r.maxLength != DefaultMaxLength || DefaultMaxLength != 150 {
		t.Fatalf("default max length %d (DefaultMaxLength %d), want 150", f.r.maxLength, DefaultMaxLength)
	}
	for _, text := range []string{strings.Repeat("长", 151), strings.Repeat("😀", 151), strings.Repeat("a", 1<<20)} {
		_, err := f.r.Send(context.Background(), douyinReply(text))
		se := sendErr(t, err, model.Permanent, "too_long")
		if !se.ReplyOnly || se.Code != "" || !strings.Contains(se.Msg, "responders.kitkot.max_length (150)") {
			t.Errorf("too long: %#v", se)
		}
	}
	if n := f.sim.Requests(); n != 0 {
		t.Fatalf("imitation saw %d requests, want 0", n)
	}
	// 150 characters of 4 bytes each go out whole.
	at := strings.Repeat("😀", 150)
	if _, err := f.r.Send(context.Background(), douyinReply(at)); err != nil {
		t.Fatalf("150 characters: %v", err)
	}
	if ps := f.sim.Posts(); len(ps) != 1 || ps[0].Text != at {
		t.Fatalf("posts: %d", len(ps))
	}

	// A configured cap replaces the default.
	r, err := NewResponder(ResponderConfig{BaseURL: f.srv.URL + "/api", APIKey: testAPIKey, SessionKey: testSessionKey, MaxLength: 5})
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Send(context.Background(), douyinReply("一二三四五六"))
	wantSendErr(t, err, model.Permanent, "too_long")
	if _, err := r.Send(context.Background(), douyinReply("一二三四五")); err != nil {
		t.Fatalf("5 characters with max_length 5: %v", err)
	}
	if n := f.sim.Requests(); n != 2 {
		t.Fatalf("imitation saw %d requests, want 2", n)
	}
}

// CheckText makes Send's own check of the text, without a request: the
// same refusal, reason and message, for an empty text and one over
// max_length characters; a text that fits passes and is sent.
func TestCheckTextIsSendsCheck(t *testing.T) {
	t.Parallel()
	f := newFixture(t, 5*time.Second)
	var _ platform.TextChecker = f.r
	c := douyinReply("").Comment
	for _, tc := range []struct{ text, reason string }{
		{" \t", "empty_text"},
		{strings.Repeat("长", 151), "too_long"},
		{strings.Repeat("😀", 151), "too_long"},
	} {
		se := sendErr(t, f.r.CheckText(c, tc.text), model.Permanent, tc.reason)
		_, err := f.r.Send(context.Background(), douyinReply(tc.text))
		if got := sendErr(t, err, model.Permanent, tc.reason); got.Msg != se.Msg || !se.ReplyOnly {
			t.Errorf("Send = %#v, CheckText = %#v", got, se)
		}
	}
	if n := f.sim.Requests(); n != 0 {
		t.Fatalf("imitation saw %d requests, want 0", n)
	}
	fits := strings.Repeat("😀", 150)
	if err := f.r.CheckText(c, fits); err != nil {
		t.Fatalf("CheckText(150 characters) = %v", err)
	}
	if _, err := f.r.Send(context.Background(), douyinReply(fits)); err != nil {
		t.Fatalf("Send(150 characters) = %v", err)
	}
}
