package conformance

// One entry per source and per responder: how to build it on its imitation,
// where its faults go, what it makes of the modes where it differs, and its
// documented codes (from the API documents in shared/seeds, PLATFORMS.md and
// each package's codes.go), one row per code.

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/platform/douyin"
	"github.com/autoreplyd/autoreplyd/platform/kitkot"
	"github.com/autoreplyd/autoreplyd/platform/wechat"
	"github.com/autoreplyd/autoreplyd/platform/weibo"
	"github.com/autoreplyd/autoreplyd/simulator"
)

// The secrets: each holds characters that a query, a path and JSON escape
// each their own way, and no word a platform's refusal is read for
// ("comment", "key", "session"...).
const (
	joToken      = `jo/T0k+n 9&"<中`
	ttAPIKey     = `tt/Ap1+q 7&"<界`
	kkAPIKey     = `kk/Ap1+q 5&"<中`
	kkSessionKey = `kk/S3ss+n 6&"<文`
	wxAppID      = "wx0123456789abcdef"
	wxAppSecret  = `wx/S3cr+t 8&"<微`
	wbToken      = `wb/T0k+n 4&"<博`

	// Ids above 2^53, as the platforms have them.
	joThread = "7251524159191958327"
	aweme    = "7251517975340027197"
	wxMsgID  = "2247483647"
	wbWeibo  = "5000000000000000001"
)

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func fixed(secrets ...string) func() []string { return func() []string { return secrets } }

// wechatClient is a WeChat API client on e for sim, its access token
// fetched ahead (so a fault meets the call under test, and the token is
// known to the echo), and its secrets: the app secret and every token seen.
func wechatClient(e *env, sim *simulator.WeChat) (*wechat.Client, func() []string) {
	c := must[*wechat.Client](e.t)(wechat.NewClient(wechat.ClientConfig{BaseURL: e.serve(sim), AppID: wxAppID,
		AppSecret: wxAppSecret, Timeout: callTimeout, HTTPClient: e.client}))
	var mu sync.Mutex
	seen := []string{wxAppSecret}
	secrets := func() []string {
		mu.Lock()
		defer mu.Unlock()
		if c.TokenFetches() > 0 || !e.f.refused {
			ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
			defer cancel()
			if tok, err := c.Token(ctx); err == nil && !slices.Contains(seen, tok) {
				seen = append(seen, tok)
			}
		}
		return slices.Clone(seen)
	}
	secrets()
	return c, secrets
}

var sources = []sourceCase{
	{
		name: model.PlatformDouyin,
		build: func(e *env) sourceUnder {
			api := simulator.NewJustOneAPI(joToken)
			src := must[*douyin.Source](e.t)(douyin.New(douyin.Config{BaseURL: e.serve(api), Token: joToken,
				Timeout: e.timeout, Threads: []model.Thread{{ID: joThread, PostID: aweme}}, HTTPClient: e.client}))
			return sourceUnder{source: src, faults: &api.Faults, secrets: fixed(joToken)}
		},
		codes: []code{
			{failure: codeFault("100 invalid token", simulator.Fault{Kind: simulator.FaultCode, Code: 100, Msg: "Invalid or Inactive Token"}), source: model.SourceStop},
			{failure: codeFault("300 API invalid", simulator.Fault{Kind: simulator.FaultCode, Code: 300, Msg: "API invalid"}), source: model.SourceStop},
			{failure: codeFault("301 collection failed", simulator.Fault{Kind: simulator.FaultCode, Code: 301, Msg: "Collection failed, please retry"}), source: model.SourceRetry},
			{failure: codeFault("302 rate limit", simulator.Fault{Kind: simulator.FaultCode, Code: 302, Msg: "Rate limit exceeded"}), source: model.SourceBackoff},
			{failure: codeFault("303 daily quota", simulator.Fault{Kind: simulator.FaultCode, Code: 303, Msg: "Daily quota exceeded"}), source: model.SourcePause},
			{failure: codeFault("400 invalid parameters", simulator.Fault{Kind: simulator.FaultCode, Code: 400, Msg: "Invalid parameters"}), source: model.SourceSkipThread},
			{failure: codeFault("500 internal error", simulator.Fault{Kind: simulator.FaultCode, Code: 500, Msg: "Internal error"}), source: model.SourceRetry},
			{failure: codeFault("600 permission denied", simulator.Fault{Kind: simulator.FaultCode, Code: 600, Msg: "Permission denied"}), source: model.SourceStop},
			{failure: codeFault("601 insufficient balance", simulator.Fault{Kind: simulator.FaultCode, Code: 601, Msg: "Insufficient balance"}), source: model.SourceStop},
			{failure: codeFault("602 spend cap", simulator.Fault{Kind: simulator.FaultCode, Code: 602, Msg: "Spend cap reached"}), source: model.SourceStop},
			{failure: codeFault("undocumented", simulator.Fault{Kind: simulator.FaultCode, Code: 48151623, Msg: "new"}), source: model.SourceRetry},
		},
	},
	{
		name: model.PlatformTikTok,
		build: func(e *env) sourceUnder {
			kk := simulator.NewKitkot(ttAPIKey, "a session key the listing never sends")
			kk.AddThread(joThread, aweme)
			src := must[*kitkot.Source](e.t)(kitkot.NewSource(kitkot.SourceConfig{BaseURL: e.serve(kk) + "/api", APIKey: ttAPIKey,
				Timeout: e.timeout, Threads: []model.Thread{{ID: joThread, PostID: aweme}}, HTTPClient: e.client}))
			return sourceUnder{source: src, faults: &kk.Faults, secrets: fixed(ttAPIKey)}
		},
		// kitkot's listing answers a refused key or credit with 401/402/403
		// and a rate limit with 429.
		actions: map[string]model.SourceAction{"HTTP 403": model.SourceStop, "HTTP 429": model.SourceBackoff},
		// kitkot answers its refusals HTTP 400 {"code": 400, "msg"}: the
		// message tells them apart; the rest are HTTP statuses.
		codes: []code{
			{failure: codeFault("400 comment not found", simulator.Fault{Kind: simulator.FaultCode, Code: 400, Msg: "Comment not found: comment_id " + joThread}), source: model.SourceSkipThread},
			{failure: codeFault("400 invalid api_key", simulator.Fault{Kind: simulator.FaultCode, Code: 400, Msg: "Invalid api_key"}), source: model.SourceStop},
			{failure: codeFault("400 other", simulator.Fault{Kind: simulator.FaultCode, Code: 400, Msg: "Failed to fetch replies"}), source: model.SourceRetry},
			{failure: codeFault("HTTP 401", simulator.Fault{Kind: simulator.FaultHTTPStatus, Status: 401}), source: model.SourceStop},
			{failure: codeFault("HTTP 402", simulator.Fault{Kind: simulator.FaultHTTPStatus, Status: 402}), source: model.SourceStop},
			{failure: codeFault("HTTP 404", simulator.Fault{Kind: simulator.FaultHTTPStatus, Status: 404}), source: model.SourceRetry},
			{failure: codeFault("HTTP 502", simulator.Fault{Kind: simulator.FaultHTTPStatus, Status: 502}), source: model.SourceRetry},
			{failure: codeFault("HTTP 504", simulator.Fault{Kind: simulator.FaultHTTPStatus, Status: 504}), source: model.SourceRetry},
		},
	},
	{
		name: model.PlatformWeChat,
		build: func(e *env) sourceUnder {
			sim := simulator.NewWeChat(wxAppID, wxAppSecret)
			sim.AddArticle(wxMsgID, 0)
			c, secrets := wechatClient(e, sim)
			src := must[*wechat.Source](e.t)(wechat.NewSource(wechat.SourceConfig{Client: c,
				Articles: []wechat.Article{{MsgDataID: wxMsgID}}, Timeout: e.timeout}))
			return sourceUnder{source: src, faults: &sim.Faults, secrets: secrets}
		},
		codes: []code{
			{failure: codeFault("-1 busy", simulator.Fault{Kind: simulator.FaultCode, Code: -1, Msg: "system error"}), source: model.SourceRetry},
			// A token code refreshes the token and tries once more: twice
			// fails the poll.
			{failure: twice(codeFault("40001 token invalid", simulator.Fault{Kind: simulator.FaultCode, Code: 40001, Msg: "invalid credential"})), source: model.SourceRetry},
			{failure: twice(codeFault("40014 token invalid", simulator.Fault{Kind: simulator.FaultCode, Code: 40014, Msg: "invalid access_token"})), source: model.SourceRetry},
			{failure: twice(codeFault("42001 token expired", simulator.Fault{Kind: simulator.FaultCode, Code: 42001, Msg: "access_token expired"})), source: model.SourceRetry},
			{failure: codeFault("40013 invalid appid", simulator.Fault{Kind: simulator.FaultCode, Code: 40013, Msg: "invalid appid"}), source: model.SourceStop},
			{failure: codeFault("40125 invalid secret", simulator.Fault{Kind: simulator.FaultCode, Code: 40125, Msg: "invalid appsecret"}), source: model.SourceStop},
			{failure: codeFault("40164 IP not whitelisted", simulator.Fault{Kind: simulator.FaultCode, Code: 40164, Msg: "invalid ip 127.0.0.1, not in whitelist"}), source: model.SourceStop},
			{failure: codeFault("45009 daily quota", simulator.Fault{Kind: simulator.FaultCode, Code: 45009, Msg: "reach max api daily quota limit"}), source: model.SourcePause},
			{failure: codeFault("45011 too frequent", simulator.Fault{Kind: simulator.FaultCode, Code: 45011, Msg: "api minute-quota reach limit"}), source: model.SourceBackoff},
			{failure: codeFault("48001 API unauthorized", simulator.Fault{Kind: simulator.FaultCode, Code: 48001, Msg: "api unauthorized"}), source: model.SourceStop},
			{failure: codeFault("88000 no comment privilege", simulator.Fault{Kind: simulator.FaultCode, Code: 88000, Msg: "without comment privilege"}), source: model.SourceStop},
			{failure: codeFault("88001 article not found", simulator.Fault{Kind: simulator.FaultCode, Code: 88001, Msg: "msg_data is not exists"}), source: model.SourceSkipThread},
			{failure: codeFault("88002 article limited", simulator.Fault{Kind: simulator.FaultCode, Code: 88002, Msg: "the article is limit for safety"}), source: model.SourceSkipThread},
			{failure: codeFault("88011 article limited", simulator.Fault{Kind: simulator.FaultCode, Code: 88011, Msg: "the article is limit for safety"}), source: model.SourceSkipThread},
			{failure: codeFault("undocumented", simulator.Fault{Kind: simulator.FaultCode, Code: 48151623, Msg: "new"}), source: model.SourceRetry},
		},
	},
	{
		name: model.PlatformWeibo,
		build: func(e *env) sourceUnder {
			sim := simulator.NewWeibo(wbToken)
			sim.AddWeibo(wbWeibo)
			src := must[*weibo.Source](e.t)(weibo.NewSource(weibo.SourceConfig{BaseURL: e.serve(sim), AccessToken: wbToken,
				Weibos: []weibo.Weibo{{ID: wbWeibo}}, Timeout: e.timeout, HTTPClient: e.client}))
			return sourceUnder{source: src, faults: &sim.Faults, secrets: fixed(wbToken)}
		},
		codes: weiboSourceCodes(),
	},
}

// twice queues f's fault two times.
func twice(f failure) failure {
	f.times = 2
	return f
}

func weiboSourceCodes() []code {
	var out []code
	add := func(n int, msg string, a model.SourceAction) {
		out = append(out, code{failure: codeFault(strconv.Itoa(n)+" "+msg, simulator.Fault{Kind: simulator.FaultCode, Code: n, Msg: msg}), source: a})
	}
	add(10001, "system error", model.SourceRetry)
	add(10002, "service unavailable", model.SourceRetry)
	add(10008, "param error", model.SourceSkipThread)
	add(10009, "too many pending tasks", model.SourceRetry)
	add(10010, "job expired", model.SourceRetry)
	for _, n := range []int{10022, 10023, 10024} {
		add(n, "requests out of rate limit", model.SourceBackoff)
	}
	add(20016, "out of limit", model.SourceBackoff)
	add(20101, "target weibo does not exist", model.SourceSkipThread)
	for _, n := range []int{21301, 21314, 21315, 21316, 21317, 21321, 21327, 21332} {
		add(n, "token refused", model.SourceStop)
	}
	add(48151623, "undocumented", model.SourceRetry)
	return out
}

var responders = []responderCase{
	{
		name: kitkot.Name,
		build: func(e *env) responderUnder {
			kk := simulator.NewKitkot(kkAPIKey, kkSessionKey)
			r := must[*kitkot.Responder](e.t)(kitkot.NewResponder(kitkot.ResponderConfig{BaseURL: e.serve(kk) + "/api",
				APIKey: kkAPIKey, SessionKey: kkSessionKey, Timeout: e.timeout, HTTPClient: e.client}))
			th := model.Thread{ID: joThread, PostID: aweme}
			return responderUnder{
				responder: r,
				source: &feed{platform: model.PlatformDouyin, thread: th, comment: model.Comment{Platform: model.PlatformDouyin,
					ID: "7400000000000000001", ThreadID: th.ID, PostID: aweme, RootID: th.ID, Text: "多少钱",
					CreatedAt: time.Now().Add(-time.Minute), User: model.User{UID: "10000000000000002", Nickname: "小明"}}},
				faults:  &kk.Faults,
				posts:   func() int { return len(kk.Posts()) },
				secrets: fixed(kkAPIKey, kkSessionKey),
			}
		},
		// kitkot answers every refusal HTTP 400 {"code", "msg"}; the
		// message says whether it is about this reply or the account.
		codes: []code{
			{failure: codeFault("400 against the guidelines", simulator.Fault{Kind: simulator.FaultCode, Code: 400, Msg: simulator.KitkotGuidelinesMsg}),
				send: outcome{kind: model.Permanent, reason: "platform_400", replyOnly: true}},
			{failure: codeFault("400 text too long", simulator.Fault{Kind: simulator.FaultCode, Code: 400, Msg: "Failed to publish reply: text too long (151 characters, at most 150)"}),
				send: outcome{kind: model.Permanent, reason: "platform_400", replyOnly: true}},
			{failure: codeFault("400 log in again", simulator.Fault{Kind: simulator.FaultCode, Code: 400, Msg: "Invalid session_key: please log in again"}),
				send: outcome{kind: model.Permanent, reason: "platform_400"}},
			{failure: codeFault("400 rate limit", simulator.Fault{Kind: simulator.FaultCode, Code: 400, Msg: "Failed to publish reply: rate limit reached"}),
				send: outcome{kind: model.Permanent, reason: "platform_400"}},
			{failure: codeFault("10001 risk control", simulator.Fault{Kind: simulator.FaultCode, Code: 10001, Msg: "risk control"}),
				send: outcome{kind: model.Permanent, reason: "platform_10001"}},
			{failure: codeFault("HTTP 400 without JSON", simulator.Fault{Kind: simulator.FaultHTTPStatus, Status: 400}),
				send: outcome{kind: model.Permanent, reason: "platform_400"}},
			{failure: codeFault("HTTP 502", simulator.Fault{Kind: simulator.FaultHTTPStatus, Status: 502}),
				send: outcome{kind: model.Retryable, reason: "http_502"}},
			{failure: codeFault("HTTP 504", simulator.Fault{Kind: simulator.FaultHTTPStatus, Status: 504}),
				send: outcome{kind: model.Retryable, reason: "http_504"}},
		},
	},
	{
		name: wechat.Name,
		build: func(e *env) responderUnder {
			sim := simulator.NewWeChat(wxAppID, wxAppSecret)
			sim.AddArticle(wxMsgID, 1)
			ucid := sim.AddComment(wxMsgID, 1, simulator.WeChatComment{Content: "多少钱", OpenID: "oUser1"})
			c, secrets := wechatClient(e, sim)
			r := must[*wechat.Responder](e.t)(wechat.NewResponder(wechat.ResponderConfig{Client: c, Timeout: e.timeout}))
			th := wechat.ThreadID(wxMsgID, 1)
			return responderUnder{
				responder: r,
				source: &feed{platform: model.PlatformWeChat, thread: model.Thread{ID: th, PostID: th}, comment: model.Comment{
					Platform: model.PlatformWeChat, ID: wechat.CommentID(wxMsgID, 1, strconv.Itoa(int(ucid))), ThreadID: th, PostID: th,
					RootID: "0", ReplyToID: "0", Text: "多少钱", Level: 1, CreatedAt: time.Now().Add(-time.Minute), User: model.User{UID: "oUser1"}}},
				faults:  &sim.ReplyFaults,
				posts:   func() int { return len(sim.Posts()) },
				secrets: secrets,
			}
		},
		// The access token is fetched first: from a refused address, that
		// fails, and the reply is never sent.
		outcomes: map[string]outcome{"refused": {kind: model.Retryable, reason: "token_connect"}},
		codes:    wechatResponderCodes(),
	},
	{
		name: weibo.Name,
		build: func(e *env) responderUnder {
			sim := simulator.NewWeibo(wbToken)
			sim.AddWeibo(wbWeibo)
			cid := sim.AddComment(wbWeibo, simulator.WeiboComment{UID: "1001", ScreenName: "小明", Text: "多少钱"})
			r := must[*weibo.Responder](e.t)(weibo.NewResponder(weibo.ResponderConfig{BaseURL: e.serve(sim), AccessToken: wbToken,
				Timeout: e.timeout, HTTPClient: e.client}))
			return responderUnder{
				responder: r,
				source: &feed{platform: model.PlatformWeibo, thread: model.Thread{ID: wbWeibo, PostID: wbWeibo}, comment: model.Comment{
					Platform: model.PlatformWeibo, ID: cid, ThreadID: wbWeibo, PostID: wbWeibo, RootID: "0", ReplyToID: "0",
					Text: "多少钱", Level: 1, CreatedAt: time.Now().Add(-time.Minute), User: model.User{UID: "1001", Nickname: "小明"}}},
				faults:  &sim.ReplyFaults,
				posts:   func() int { return len(sim.Posts()) },
				secrets: fixed(wbToken),
			}
		},
		codes: weiboResponderCodes(),
	},
}

func wechatResponderCodes() []code {
	var out []code
	add := func(n, times int, msg string, o outcome) {
		f := codeFault(strconv.Itoa(n)+" "+msg, simulator.Fault{Kind: simulator.FaultCode, Code: n, Msg: msg})
		f.times = times
		out = append(out, code{failure: f, send: o})
	}
	add(-1, 1, "system error", outcome{kind: model.Retryable, reason: "busy"})
	add(45009, 1, "reach max api daily quota limit", outcome{kind: model.Retryable, reason: "quota"})
	add(45011, 1, "api minute-quota reach limit", outcome{kind: model.Retryable, reason: "too_frequent"})
	// A token code refreshes the token and tries once more.
	for _, n := range []int{40001, 40014, 42001} {
		add(n, 2, "access token refused", outcome{kind: model.Retryable, reason: "token_invalid"})
	}
	add(40164, 1, "invalid ip, not in whitelist", outcome{kind: model.Permanent, reason: "ip_not_whitelisted"})
	add(40013, 1, "invalid appid", outcome{kind: model.Permanent, reason: "invalid_appid"})
	add(40125, 1, "invalid appsecret", outcome{kind: model.Permanent, reason: "invalid_secret"})
	add(48001, 1, "api unauthorized", outcome{kind: model.Permanent, reason: "api_unauthorized"})
	add(88000, 1, "without comment privilege", outcome{kind: model.Permanent, reason: "platform_88000"})
	// Refusals of this reply's content or target.
	for n, msg := range map[int]string{
		88001: "msg_data is not exists", 88002: "the article is limit for safety", 88011: "the article is limit for safety",
		88004: "comment was deleted by user", 88007: "reply content beyond max len or content len is zero",
		88008: "comment is not exists", 40033: "invalid charset", 87014: "risky content",
	} {
		add(n, 1, msg, outcome{kind: model.Permanent, reason: "platform_" + strconv.Itoa(n), replyOnly: true})
	}
	// One reply per comment: a second is already answered, no failure.
	add(88005, 1, "already reply", outcome{ok: true})
	slices.SortFunc(out, func(a, b code) int { return strings.Compare(a.name, b.name) })
	return out
}

func weiboResponderCodes() []code {
	var out []code
	add := func(n int, msg string, o outcome) {
		out = append(out, code{failure: codeFault(strconv.Itoa(n)+" "+msg, simulator.Fault{Kind: simulator.FaultCode, Code: n, Msg: msg}), send: o})
	}
	refused := func(reason string) outcome { return outcome{kind: model.Permanent, reason: reason, replyOnly: true} }
	add(20019, "repeated weibo text", refused("duplicate_content"))
	add(20017, "similar content", refused("similar_content"))
	add(20018, "contains illegal website", refused("content_refused"))
	add(20020, "contains advertising", refused("content_refused"))
	add(20021, "contains illegal content", refused("content_refused"))
	add(20012, "text too long", refused("too_long"))
	add(20201, "target comment does not exist", refused("comment_not_found"))
	add(20101, "target weibo does not exist", refused("weibo_not_found"))
	add(20016, "out of limit", outcome{kind: model.Retryable, reason: "too_fast"})
	for _, n := range []int{10022, 10023, 10024} {
		add(n, "requests out of rate limit", outcome{kind: model.Retryable, reason: "rate_limited"})
	}
	for _, n := range []int{21327, 21314, 21315, 21316, 21317} {
		add(n, "token expired or revoked", outcome{kind: model.Permanent, reason: "token_expired"})
	}
	add(21301, "auth faild", outcome{kind: model.Permanent, reason: "auth_failed"})
	add(21332, "invalid_access_token", outcome{kind: model.Permanent, reason: "auth_failed"})
	add(10001, "system error", outcome{kind: model.Unknown, reason: "platform_10001"})
	for _, n := range []int{10002, 10009, 10010} {
		add(n, "service unavailable", outcome{kind: model.Retryable, reason: "busy"})
	}
	add(48151623, "undocumented", outcome{kind: model.Permanent, reason: "platform_48151623"})
	return out
}
