// The client is the WeChat Official Account API client that the source and
// the responder share: one
// access-token refresher per app, and the JSON call convention of
// `POST {base_url}/cgi-bin/...?access_token=` endpoints.
//
// The access token is fetched with `POST /cgi-bin/stable_token` (default) or
// the older `GET /cgi-bin/token` (which invalidates the previous token on
// every call), cached, and refreshed shortly before it expires, never per
// request. A call answered with an invalid or expired token (40001, 40014,
// 42001) refreshes the token once and is tried once more.
//
// Secrets: the app secret travels in the token request (in the query string
// with the legacy API) and the access token in every call's query string. No
// error of this package holds either: a *url.Error is never wrapped, and every
// message is scrubbed.

package wechat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/autoreplyd/autoreplyd/internal/httpx"
)

// Token APIs.
const (
	TokenStable = "stable" // POST /cgi-bin/stable_token
	TokenLegacy = "legacy" // GET /cgi-bin/token
)

// Paths of the endpoints.
const (
	StableTokenPath  = "/cgi-bin/stable_token" //nolint:gosec // G101: a URL path, not a token
	LegacyTokenPath  = "/cgi-bin/token"        //nolint:gosec // G101: a URL path, not a token
	CommentListPath  = "/cgi-bin/comment/list"
	CommentReplyPath = "/cgi-bin/comment/reply/add"
)

// WeChat error codes this client and its users act on.
const (
	CodeBusy              = -1    // system busy: try again
	CodeInvalidCredential = 40001 // access_token invalid (or secret wrong, on the token API)
	CodeInvalidAppID      = 40013
	CodeInvalidToken      = 40014
	CodeIllegalChars      = 40033
	CodeInvalidSecret     = 40125
	CodeIPNotWhitelisted  = 40164
	CodeTokenExpired      = 42001
	CodeDailyQuota        = 45009
	CodeTooFrequent       = 45011
	CodeAPIUnauthorized   = 48001
	CodeRiskyContent      = 87014 // content refused by WeChat's content security
	CodeNoCommentPriv     = 88000
	CodeArticleNotFound   = 88001
	CodeArticleLimited    = 88002
	CodeCommentDeleted    = 88004
	CodeAlreadyReplied    = 88005
	CodeReplyLength       = 88007
	CodeCommentNotFound   = 88008
	CodeArticleLimited2   = 88011
)

const (
	// DefaultTokenTimeout bounds a token request.
	DefaultTokenTimeout = 30 * time.Second
	// DefaultRefreshEarly is how long before its expiry a token is
	// replaced (at most half its lifetime).
	DefaultRefreshEarly = 5 * time.Minute
	// maxAnswer caps an answer read.
	maxAnswer = 8 << 20
	// maxMsg caps a non-JSON answer quoted in an error.
	maxMsg = 200
)

// IsTokenCode reports whether code says the access token is invalid or
// expired (refresh it and try again once).
func IsTokenCode(code int) bool {
	return code == CodeInvalidCredential || code == CodeInvalidToken || code == CodeTokenExpired
}

// IsFatalCode reports whether code means the operator must act: the server's
// IP is not whitelisted, the app id or secret is wrong, or the API is not
// granted to the account.
func IsFatalCode(code int) bool {
	switch code {
	case CodeIPNotWhitelisted, CodeInvalidAppID, CodeInvalidSecret, CodeAPIUnauthorized:
		return true
	}
	return false
}

// FatalHint is an explanation for the operator of a fatal code, "" for others.
func FatalHint(code int) string {
	switch code {
	case CodeIPNotWhitelisted:
		return "this server's IP is not in the account's API IP whitelist (WeChat admin: Settings and Development > Basic Configuration > IP whitelist)"
	case CodeInvalidAppID:
		return "app_id is not a valid WeChat app id"
	case CodeInvalidSecret:
		return "app_secret is wrong (reset it in the WeChat admin and update the credential file)"
	case CodeAPIUnauthorized:
		return "the account is not authorised for this API (the comment APIs serve verified accounts only)"
	}
	return ""
}

// Error is every failure of a call. It never holds a secret.
type Error struct {
	// Op is "token" when getting the access token failed, else the API path.
	Op string
	// Code is WeChat's errcode; 0 for transport and HTTP failures.
	Code int
	// Msg is WeChat's errmsg or a description of the failure.
	Msg string
	// HTTPStatus is the status of a non-2xx answer, else 0.
	HTTPStatus int
	// Transport: the exchange failed (no answer, or an unreadable one).
	Transport bool
	// Written: the request had been fully written when the exchange failed
	// (the server may have acted on it). Meaningful with Transport.
	Written bool
	// Reason is a short word: "connect", "timeout", "dropped", "cancelled",
	// "bad_answer", "http_NNN", or "code_N" for a WeChat code.
	Reason string
}

func (e *Error) Error() string {
	op := e.Op
	if op == "token" {
		op = "access token"
	}
	if e.Code != 0 {
		s := fmt.Sprintf("wechat %s: errcode %d: %s", op, e.Code, e.Msg)
		if h := FatalHint(e.Code); h != "" {
			s += " (" + h + ")"
		}
		return s
	}
	return fmt.Sprintf("wechat %s: %s", op, e.Msg)
}

// TokenFetch reports whether the failure came from getting the access token:
// the API call itself was never made.
func (e *Error) TokenFetch() bool { return e.Op == "token" }

// ClientConfig configures a Client.
type ClientConfig struct {
	BaseURL   string // e.g. https://api.weixin.qq.com
	AppID     string
	AppSecret string
	TokenAPI  string        // TokenStable (default) or TokenLegacy
	Timeout   time.Duration // token requests; default DefaultTokenTimeout
	// RefreshEarly: a token is replaced this long before it expires
	// (default DefaultRefreshEarly, at most half its lifetime).
	RefreshEarly time.Duration
	// HTTPClient is optional; calls with Request.Fresh use a clone of its
	// transport with keep-alives off.
	HTTPClient *http.Client
	Now        func() time.Time // optional, for tests
}

// Client calls the WeChat APIs of one app. Safe for concurrent use: the
// source and the responder of one app share it, and with it one token.
type Client struct {
	cfg      ClientConfig
	base     string        // base URL without trailing slash
	api      *httpx.Client // kept-alive connections; redirects answered, not followed
	fresh    *httpx.Client // keep-alives off too (httpx.NoReplay), api's secrets
	refresh  sync.Mutex    // held while fetching a token: one fetch at a time
	mu       sync.Mutex    // guards the fields below
	token    string
	renewAt  time.Time // refresh from then on
	expireAt time.Time
	fetches  atomic.Int64
}

// NewClient checks cfg and returns a client. Its errors hold no secret.
func NewClient(cfg ClientConfig) (*Client, error) {
	u, err := url.Parse(strings.TrimSpace(cfg.BaseURL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("wechat: base_url is not an absolute http(s) URL")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New("wechat: base_url must not have a query or fragment")
	}
	if strings.TrimSpace(cfg.AppID) == "" {
		return nil, errors.New("wechat: app_id is empty")
	}
	if cfg.AppSecret == "" {
		return nil, errors.New("wechat: app_secret is empty")
	}
	switch cfg.TokenAPI {
	case "":
		cfg.TokenAPI = TokenStable
	case TokenStable, TokenLegacy:
	default:
		return nil, fmt.Errorf("wechat: token_api %q: want %s or %s", cfg.TokenAPI, TokenStable, TokenLegacy)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTokenTimeout
	}
	if cfg.RefreshEarly <= 0 {
		cfg.RefreshEarly = DefaultRefreshEarly
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	base := strings.TrimRight(u.String(), "/")
	api := httpx.New(httpx.NoRedirects(cfg.HTTPClient), base, cfg.AppSecret)
	return &Client{cfg: cfg, base: base, api: api, fresh: api.Sharing(httpx.NoReplay(cfg.HTTPClient))}, nil
}

// AppID is the client's app id.
func (c *Client) AppID() string { return c.cfg.AppID }

// Same reports whether cfg names the same app, endpoint, secret and token
// API as the client's: then one client may serve both.
func (c *Client) Same(cfg ClientConfig) bool {
	api := cfg.TokenAPI
	if api == "" {
		api = TokenStable
	}
	return strings.TrimRight(strings.TrimSpace(cfg.BaseURL), "/") == c.base && cfg.AppID == c.cfg.AppID &&
		cfg.AppSecret == c.cfg.AppSecret && api == c.cfg.TokenAPI
}

// TokenFetches is the number of token requests made, for tests and logs.
func (c *Client) TokenFetches() int64 { return c.fetches.Load() }

// Token returns a valid access token, fetching one when none is cached or
// the cached one is due for renewal. Concurrent callers share one fetch.
func (c *Client) Token(ctx context.Context) (string, error) {
	if tok, ok := c.cached(); ok {
		return tok, nil
	}
	c.refresh.Lock()
	defer c.refresh.Unlock()
	if tok, ok := c.cached(); ok {
		return tok, nil // another caller fetched it meanwhile
	}
	return c.fetch(ctx, false)
}

// cached is the cached token, if it is not due for renewal.
func (c *Client) cached() (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token != "" && c.cfg.Now().Before(c.renewAt) {
		return c.token, true
	}
	return "", false
}

// renew replaces bad, a token the platform refused: unless another caller
// already replaced it, a new one is fetched, forced (the stable API would
// otherwise hand back the same token).
func (c *Client) renew(ctx context.Context, bad string) (string, error) {
	c.refresh.Lock()
	defer c.refresh.Unlock()
	c.mu.Lock()
	cur, fresh := c.token, c.token != "" && c.token != bad && c.cfg.Now().Before(c.renewAt)
	c.mu.Unlock()
	if fresh {
		return cur, nil
	}
	return c.fetch(ctx, true)
}

// tokenAnswer is the token APIs' answer.
type tokenAnswer struct {
	AccessToken string `json:"access_token"`
	// ExpiresIn is kept raw and read by tokenLife: whatever it holds, the
	// token is usable.
	ExpiresIn json.RawMessage `json:"expires_in"`
	ErrCode   int             `json:"errcode"`
	ErrMsg    string          `json:"errmsg"`
}

// Bounds of a token's lifetime as the platform gives it (expires_in).
const (
	// TokenLife is WeChat's documented lifetime of an access token, taken
	// when expires_in is absent or unusable, and the longest one believed:
	// a larger expires_in (3e9 s, "1e300") would keep a token for decades,
	// or overflow a time.Duration, and the stable API hands out the same
	// token until near its end, so refreshing after 2 hours costs nothing.
	TokenLife = 7200 * time.Second
	// MinTokenLife is the shortest lifetime believed: a smaller expires_in
	// (1 s) would fetch a token before nearly every call. A token that
	// really dies sooner is refused with a token code and renewed then.
	MinTokenLife = time.Minute
)

// tokenLife is the lifetime an answer's expires_in (seconds, a number or a
// numeric string) gives a token, bounded to [MinTokenLife, TokenLife];
// TokenLife when it is absent, not a number or not positive.
func tokenLife(raw json.RawMessage) time.Duration {
	s := strings.Trim(strings.TrimSpace(string(raw)), `"`)
	secs, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	switch {
	case err != nil, !(secs > 0): // NaN fails every comparison
		return TokenLife
	case secs >= TokenLife.Seconds():
		return TokenLife
	case secs <= MinTokenLife.Seconds():
		return MinTokenLife
	}
	return time.Duration(secs * float64(time.Second))
}

// fetch gets a new token; the caller holds c.refresh.
func (c *Client) fetch(ctx context.Context, force bool) (string, error) {
	c.fetches.Add(1)
	var req httpx.Request
	if c.cfg.TokenAPI == TokenLegacy {
		q := url.Values{}
		q.Set("grant_type", "client_credential")
		q.Set("appid", c.cfg.AppID)
		q.Set("secret", c.cfg.AppSecret)
		req = httpx.Request{Method: http.MethodGet, URL: c.base + LegacyTokenPath + "?" + q.Encode()}
	} else {
		body, _ := httpx.JSON(map[string]any{"grant_type": "client_credential", "appid": c.cfg.AppID,
			"secret": c.cfg.AppSecret, "force_refresh": force})
		req = httpx.Request{Method: http.MethodPost, URL: c.base + StableTokenPath, Body: body,
			Header: http.Header{"Content-Type": {"application/json"}}}
	}
	req.Timeout, req.Limit = c.cfg.Timeout, maxAnswer
	body, status, werr := c.exchange(ctx, c.api, req)
	if werr != nil {
		werr.Op = "token"
		return "", c.errorf(werr)
	}
	var a tokenAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		// Never quote a token answer: one we cannot read may still hold a
		// new access token, which no redaction knows yet.
		if status/100 != 2 {
			return "", c.errorf(&Error{Op: "token", HTTPStatus: status, Msg: fmt.Sprintf("HTTP %d: an answer of %d bytes that is not a token answer", status, len(body)), Reason: "http_" + strconv.Itoa(status)})
		}
		return "", c.errorf(&Error{Op: "token", Transport: true, Written: true, Msg: fmt.Sprintf("unreadable answer (%d bytes)", len(body)), Reason: "bad_answer"})
	}
	if a.ErrCode != 0 {
		return "", c.errorf(&Error{Op: "token", Code: a.ErrCode, Msg: a.ErrMsg, Reason: "code_" + strconv.Itoa(a.ErrCode)})
	}
	if status/100 != 2 {
		return "", c.errorf(&Error{Op: "token", HTTPStatus: status, Msg: fmt.Sprintf("HTTP %d", status), Reason: "http_" + strconv.Itoa(status)})
	}
	if a.AccessToken == "" {
		return "", c.errorf(&Error{Op: "token", Transport: true, Written: true, Msg: "answer without access_token", Reason: "bad_answer"})
	}
	life := tokenLife(a.ExpiresIn)
	early := min(c.cfg.RefreshEarly, life/2)
	now := c.cfg.Now()
	c.mu.Lock()
	old := c.token
	c.mu.Unlock()
	// The new token is scrubbed before any call can carry it, and the one
	// it replaces still is: a call that took it may fail after this.
	c.api.SetSecrets(c.cfg.AppSecret, a.AccessToken, old)
	c.mu.Lock()
	c.token, c.renewAt, c.expireAt = a.AccessToken, now.Add(life-early), now.Add(life)
	c.mu.Unlock()
	return a.AccessToken, nil
}

// Request is one API call.
type Request struct {
	Path string // e.g. CommentListPath
	Body any    // encoded as JSON without HTML escaping
	// Fresh sends on a new connection (keep-alives off): for calls with a
	// side effect, so that a failure is never blamed on a stale connection.
	Fresh   bool
	Timeout time.Duration // per attempt; 0 means the client's Timeout
}

// envelope is WeChat's error part of every answer.
type envelope struct {
	ErrCode *int   `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
}

// Call POSTs req.Body to req.Path with the access token and decodes the
// answer into out (may be nil). An answer with errcode != 0 is an *Error
// with Code set; a token code refreshes the token once and tries once more.
// Every failure is an *Error.
func (c *Client) Call(ctx context.Context, req Request, out any) error {
	body, err := httpx.JSON(req.Body)
	if err != nil {
		return c.errorf(&Error{Op: req.Path, Msg: "cannot encode the request: " + err.Error(), Reason: "bad_request"})
	}
	tok, err := c.Token(ctx)
	if err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		raw, cerr := c.call(ctx, req, tok, body)
		if cerr == nil {
			if out != nil {
				if err := json.Unmarshal(raw, out); err != nil {
					return c.errorf(&Error{Op: req.Path, Transport: true, Written: true, Msg: "unreadable answer: " + err.Error(), Reason: "bad_answer"})
				}
			}
			return nil
		}
		if attempt > 0 || !IsTokenCode(cerr.Code) {
			return c.errorf(cerr)
		}
		if tok, err = c.renew(ctx, tok); err != nil {
			return err
		}
	}
}

// call makes one attempt.
func (c *Client) call(ctx context.Context, r Request, tok string, body []byte) ([]byte, *Error) {
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = c.cfg.Timeout
	}
	hc := c.api
	if r.Fresh {
		hc = c.fresh
	}
	raw, status, werr := c.exchange(ctx, hc, httpx.Request{Method: http.MethodPost,
		URL: c.base + r.Path + "?access_token=" + url.QueryEscape(tok), Body: body,
		Header: http.Header{"Content-Type": {"application/json"}}, Timeout: timeout, Limit: maxAnswer})
	if werr != nil {
		werr.Op = r.Path
		return nil, werr
	}
	var env envelope
	jerr := json.Unmarshal(raw, &env)
	if jerr == nil && env.ErrCode != nil && *env.ErrCode != 0 {
		return nil, &Error{Op: r.Path, Code: *env.ErrCode, Msg: env.ErrMsg, HTTPStatus: nonOK(status), Reason: "code_" + strconv.Itoa(*env.ErrCode)}
	}
	if status/100 != 2 {
		return nil, &Error{Op: r.Path, HTTPStatus: status, Msg: fmt.Sprintf("HTTP %d: %s", status, c.api.Snippet(raw, maxMsg)), Reason: "http_" + strconv.Itoa(status)}
	}
	if jerr != nil {
		return nil, &Error{Op: r.Path, Transport: true, Written: true, Msg: "unreadable answer: " + c.api.Snippet(raw, maxMsg), Reason: "bad_answer"}
	}
	return raw, nil
}

func nonOK(status int) int {
	if status/100 == 2 {
		return 0
	}
	return status
}

// exchange sends req through hc and reads the answer; a failed exchange is
// an *Error with Transport set, and Written when the server may have acted.
func (c *Client) exchange(ctx context.Context, hc *httpx.Client, req httpx.Request) ([]byte, int, *Error) {
	a, herr := hc.Do(ctx, req)
	if herr != nil {
		return nil, 0, &Error{Transport: true, Written: herr.Written(), Msg: herr.Msg, Reason: herr.Reason}
	}
	return a.Body, a.Status, nil
}

// errorf scrubs every secret from e.
func (c *Client) errorf(e *Error) *Error {
	e.Msg = c.api.Redact(e.Msg)
	return e
}

// Redact scrubs the app secret and the access tokens (current and
// previous) from s, for callers that build their own messages.
func (c *Client) Redact(s string) string { return c.api.Redact(s) }

// Encode is the JSON encoding Call uses (no HTML escaping), exported for tests.
func Encode(v any) ([]byte, error) { return httpx.JSON(v) }
