// The responder answers Weibo comments, through either the current v2
// `POST 2/comments/reply.json` (OAuth2 access_token in the form,
// without_mention, comment_ori, optional rip) or the documented v1 `POST
// statuses/reply.json` (form fields id, cid, comment, source = the app key;
// HTTP basic auth), and classifies every failure by whether the reply may
// already have been posted.
//
// Two traps are checked before any call: a cid that is absent or not a
// number makes Weibo post a top-level comment under the weibo instead of a
// reply, and a text over 140 weighted characters (with the "回复@name:"
// prefix Weibo adds unless without_mention) is refused.
//
// Secrets travel in the form body (v2 token) or the Authorization header
// (v1): neither is ever put in an error.

package weibo

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/autoreplyd/autoreplyd/internal/httpx"
	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/platform"
)

// Name is the responder's config name.
const Name = "weibo"

// API versions.
const (
	APIV1 = "v1"
	APIV2 = "v2"
)

// Paths of the reply endpoints, under the base URL.
const (
	V1ReplyPath = "/statuses/reply.json"
	V2ReplyPath = "/2/comments/reply.json"
)

const (
	// DefaultSendTimeout bounds one send.
	DefaultSendTimeout = 30 * time.Second
	// TooFastPause is how long 20016 "posting too fast" pauses the responder.
	TooFastPause = 10 * time.Minute
	// RateLimitPause is how long 10022-10024 (rate limits) pause it.
	RateLimitPause = time.Hour
	// TokenPause is how long an expired or revoked token (21327,
	// 21314-21317) pauses it: the operator must renew the token.
	TokenPause = 24 * time.Hour
)

// ResponderConfig configures the responder.
type ResponderConfig struct {
	API         string // APIV1 or APIV2 (default)
	BaseURL     string // e.g. https://api.weibo.com
	AccessToken string // v2
	AppKey      string // v1: sent as `source`
	Username    string // v1 basic auth
	Password    string // v1 basic auth
	// WithoutMention asks Weibo not to prefix the reply with "回复@name:"
	// (without_mention=1), which leaves the whole 140 characters to the text.
	WithoutMention bool
	// RIP is the acting user's IP, sent as `rip` by v2 when set.
	RIP     string
	Timeout time.Duration // per send; default DefaultSendTimeout
	// HTTPClient is optional (tests). Its transport is cloned with
	// keep-alives off when it is an *http.Transport, so a stale kept-alive
	// connection never makes an outcome unknown, and redirects are answered,
	// not followed (see httpx.NoReplay).
	HTTPClient *http.Client
}

// Responder sends replies to Weibo comments. Safe for concurrent use.
type Responder struct {
	cfg    ResponderConfig
	base   string
	client *httpx.Client
}

// NewResponder checks cfg and returns a responder.
func NewResponder(cfg ResponderConfig) (*Responder, error) {
	if cfg.API == "" {
		cfg.API = APIV2
	}
	switch cfg.API {
	case APIV2:
		if cfg.AccessToken == "" {
			return nil, errors.New("weibo: v2 needs an access token")
		}
	case APIV1:
		if cfg.AppKey == "" || cfg.Username == "" || cfg.Password == "" {
			return nil, errors.New("weibo: v1 needs app_key, username and password")
		}
	default:
		return nil, fmt.Errorf("weibo: unknown api %q (want v1 or v2)", cfg.API)
	}
	u, err := url.Parse(cfg.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("weibo: base_url %q: want http(s)://host", cfg.BaseURL)
	}
	if cfg.Timeout < 0 {
		return nil, errors.New("weibo: timeout must not be negative")
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultSendTimeout
	}
	base := strings.TrimRight(cfg.BaseURL, "/")
	path, secrets := V2ReplyPath, []string{cfg.AccessToken}
	if cfg.API == APIV1 {
		// The Authorization header carries the password base64-encoded:
		// a server echoing its headers must not show that either. The app
		// key (source) is no secret: it names the app in public links.
		path, secrets = V1ReplyPath, []string{cfg.Password, basicCredentials(cfg.Username, cfg.Password)}
	}
	return &Responder{cfg: cfg, base: base,
		client: httpx.New(httpx.NoReplay(cfg.HTTPClient), base+path, secrets...)}, nil
}

// Name is "weibo".
func (r *Responder) Name() string { return Name }

// digits reports whether s is a decimal id.
func digits(s string) bool {
	if s == "" || len(s) > 20 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// apiError is Weibo's error answer.
type apiError struct {
	Request   string      `json:"request"`
	ErrorCode json.Number `json:"error_code"`
	Error     string      `json:"error"`
}

// Send posts reply.Text as the answer to reply.Comment (cid = Comment.ID,
// id = Comment.PostID). Outcomes:
//
//	a comment (HTTP 200)                                success, PlatformReplyID = its idstr
//	text empty (no call made)                           Permanent "empty_text"
//	cid or weibo id absent / not numeric (no call)      Permanent "bad_comment_id" / "bad_weibo_id"
//	over 140 weighted characters (no call made)         Permanent "too_long"
//	20019 identical / 20017 similar content             Permanent "duplicate_content" / "similar_content"
//	20018/20020/20021 link, advertising, illegal text   Permanent "content_refused"
//	20012 too long                                      Permanent "too_long"
//	20201 comment / 20101 weibo not found               Permanent "comment_not_found" / "weibo_not_found"
//	20016 too fast                                      Retryable "too_fast", pause 10m
//	10022/10023/10024 rate limits                       Retryable "rate_limited", pause 1h
//	21327, 21314-21317 token expired or revoked         Permanent "token_expired", pause 24h
//	21301/21332 other auth failures                     Permanent "auth_failed", pause 24h
//	10001 system error                                  Unknown "platform_10001"
//	10002/10009/10010 unavailable, too many tasks       Retryable "busy"
//	any other code                                      Permanent "platform_CODE"
//	not fully written (connect, DNS, cancelled)         Retryable "connect"
//	written, then timeout/drop/unreadable answer        Unknown "timeout"/"dropped"/"cancelled"/"bad_answer"
//	HTTP 429/502/503/504 / other 5xx / 4xx, 3xx         Retryable / Unknown / Permanent "http_NNN"
//
// The refusals of this reply's content or target (the 20xxx codes above and
// the checks made before any call) are ReplyOnly: they fail this reply and
// never count toward the breaker. Every other permanent failure (the token
// and auth codes, HTTP 4xx, codes nobody classified) is about the account or
// the API.
func (r *Responder) Send(ctx context.Context, reply model.Reply) (model.SendResult, error) {
	text := reply.Text
	c := reply.Comment
	if se := r.checkText(c, text); se != nil {
		return model.SendResult{}, se
	}
	if !digits(c.ID) {
		return model.SendResult{}, &model.SendError{Kind: model.Permanent, ReplyOnly: true, Reason: "bad_comment_id",
			Msg: fmt.Sprintf("comment id %q is not a number: Weibo would post a top-level comment instead of a reply", c.ID)}
	}
	if !digits(c.PostID) {
		return model.SendResult{}, &model.SendError{Kind: model.Permanent, ReplyOnly: true, Reason: "bad_weibo_id",
			Msg: fmt.Sprintf("weibo id %q is not a number", c.PostID)}
	}
	form := url.Values{}
	form.Set("id", c.PostID)
	form.Set("cid", c.ID)
	form.Set("comment", text)
	path := V2ReplyPath
	if r.cfg.API == APIV1 {
		path = V1ReplyPath
		form.Set("source", r.cfg.AppKey)
		if r.cfg.WithoutMention {
			form.Set("without_mention", "1")
		}
	} else {
		form.Set("access_token", r.cfg.AccessToken)
		form.Set("without_mention", boolDigit(r.cfg.WithoutMention))
		form.Set("comment_ori", "0")
		if r.cfg.RIP != "" {
			form.Set("rip", r.cfg.RIP)
		}
	}
	header := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	if r.cfg.API == APIV1 {
		header.Set("Authorization", "Basic "+basicCredentials(r.cfg.Username, r.cfg.Password))
	}
	a, herr := r.client.Do(ctx, httpx.Request{Method: http.MethodPost, URL: r.base + path,
		Body: []byte(form.Encode()), Header: header, Timeout: r.cfg.Timeout, Limit: maxAnswer})
	defer a.Release()
	if herr != nil {
		return model.SendResult{}, herr.SendError()
	}
	body, status := a.Body, a.Status
	var ae apiError
	jerr := json.Unmarshal(body, &ae)
	if jerr == nil && ae.ErrorCode != "" && ae.ErrorCode != "0" {
		return model.SendResult{}, classify(ae.ErrorCode.String(), r.client.Redact(ae.Error))
	}
	if status/100 != 2 {
		return model.SendResult{}, httpError(status, r.client.Snippet(body, maxSnippet))
	}
	var ok struct {
		ID    json.Number `json:"id"`
		IDStr string      `json:"idstr"`
	}
	if jerr != nil || json.Unmarshal(body, &ok) != nil || (ok.IDStr == "" && ok.ID == "") {
		return model.SendResult{}, &model.SendError{Kind: model.Unknown, Reason: "bad_answer",
			Msg: "unreadable answer: " + r.client.Snippet(body, maxSnippet)}
	}
	id := ok.IDStr
	if id == "" {
		id = ok.ID.String()
	}
	return model.SendResult{PlatformReplyID: id}, nil
}

// CheckText implements platform.TextChecker: text must not be empty nor,
// with the "回复@name:" prefix Weibo adds for c's author (unless
// without_mention), longer than 140 weighted characters.
func (r *Responder) CheckText(c model.Comment, text string) error {
	return platform.ErrorOf(r.checkText(c, text))
}

// checkText is the check of Send and CheckText.
func (r *Responder) checkText(c model.Comment, text string) *model.SendError {
	if se := platform.EmptyText(text); se != nil {
		return se
	}
	if n := ReplyLen(text, c.User.Nickname, r.cfg.WithoutMention); n > MaxWeighted {
		what := "with the 回复@name: prefix"
		if r.cfg.WithoutMention {
			what = "without mention"
		}
		return &model.SendError{Kind: model.Permanent, ReplyOnly: true, Reason: "too_long",
			Msg: fmt.Sprintf("reply is %d weighted characters %s, more than Weibo's %d", n, what, MaxWeighted)}
	}
	return nil
}

func boolDigit(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// classify maps a Weibo error code to a *model.SendError. The refusals of
// this reply's content or target are ReplyOnly: a commenter can provoke them
// (a nickname echoed into a reply, a comment deleted after it was seen), and
// they say nothing about the account.
func classify(code, msg string) *model.SendError {
	se := &model.SendError{Code: code, Msg: msg, Kind: model.Permanent}
	n, _ := strconv.Atoi(code)
	switch {
	case n == 20019:
		se.Reason, se.ReplyOnly = "duplicate_content", true
	case n == 20017:
		se.Reason, se.ReplyOnly = "similar_content", true
	case n == 20018, n == 20020, n == 20021:
		// Weibo's error table: an illegal link, advertising, illegal content.
		se.Reason, se.ReplyOnly = "content_refused", true
	case n == 20012:
		se.Reason, se.ReplyOnly = "too_long", true
	case n == 20201:
		se.Reason, se.ReplyOnly = "comment_not_found", true
	case n == 20101:
		se.Reason, se.ReplyOnly = "weibo_not_found", true
	case n == 20016:
		se.Kind, se.Reason, se.PauseFor = model.Retryable, "too_fast", TooFastPause
	case n >= 10022 && n <= 10024:
		se.Kind, se.Reason, se.PauseFor = model.Retryable, "rate_limited", RateLimitPause
	case n == 21327, n >= 21314 && n <= 21317:
		se.Reason, se.PauseFor = "token_expired", TokenPause
		se.Msg = msg + " (renew the Weibo credentials, then `autoreplyd resume responder:weibo`)"
	case n == 21301, n == 21332:
		se.Reason, se.PauseFor = "auth_failed", TokenPause
	case n == 10001:
		se.Kind, se.Reason = model.Unknown, "platform_"+code
	case n == 10002, n == 10009, n == 10010:
		se.Kind, se.Reason = model.Retryable, "busy"
	default:
		se.Reason = "platform_" + code
	}
	return se
}

func httpError(status int, body string) *model.SendError {
	return &model.SendError{Kind: httpx.StatusKind(status), Msg: fmt.Sprintf("HTTP %d: %s", status, body), Reason: "http_" + strconv.Itoa(status)}
}

// basicCredentials are HTTP basic auth's credentials, as its Authorization
// header carries them after "Basic ".
func basicCredentials(user, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
}

// maxAnswer bounds the answer read: a posted comment is a few KB of JSON.
const maxAnswer = 1 << 20

// maxSnippet bounds the part of an answer body quoted in a message.
const maxSnippet = 200
