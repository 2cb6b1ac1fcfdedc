// The responder posts replies through kitkot's aweme reply API,
// `GET {base_url}/video/comments/publish/reply`, and classifies every failure
// by whether the reply may already have been posted.
//
// The endpoint is a GET with a side effect and carries the api_key and
// session_key in its query string. Two consequences shape this package: the
// request must never be replayed by the HTTP stack (Go's transport silently
// retries an idempotent-looking GET on a reused connection that dropped), and
// no error may ever print the request URL.

package kitkot

import (
	"context"
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
const Name = "kitkot"

const (
	// DefaultSendTimeout bounds one send, answer included.
	DefaultSendTimeout = 30 * time.Second
	// DefaultMaxLength is the longest reply sent, in characters (runes):
	// TikTok limits a comment to 150 characters. A longer reply fails
	// (too_long) before any request, so that an echo a template makes of a
	// long comment or nickname never reaches kitkot.
	DefaultMaxLength = 150
	// replyPath is appended to the base URL (which ends in /api).
	replyPath = "/video/comments/publish/reply"
	// maxAnswer caps the answer read: a success is about 6 KB of JSON.
	maxAnswer = 1 << 20
	// maxMsg caps a non-JSON answer quoted in an error.
	maxMsg = 200
)

// ResponderConfig configures the kitkot responder.
type ResponderConfig struct {
	BaseURL    string        // e.g. https://kitkot.xyz/api
	APIKey     string        // kitkot api_key
	SessionKey string        // session_key from kitkot's login
	Timeout    time.Duration // per send; 0 means DefaultSendTimeout
	MaxLength  int           // characters (runes); 0 means DefaultMaxLength
	// HTTPClient is optional. Its transport is cloned with keep-alives off
	// when it is an *http.Transport (see New); another RoundTripper is used
	// as is and must never replay a request.
	HTTPClient *http.Client
}

// Responder sends replies through kitkot. Safe for concurrent use.
type Responder struct {
	endpoint   string // base URL + replyPath, without query
	apiKey     string
	sessionKey string
	timeout    time.Duration
	maxLength  int
	client     *httpx.Client
}

// NewResponder checks cfg and returns a responder. Its errors never contain a key.
func NewResponder(cfg ResponderConfig) (*Responder, error) {
	if strings.TrimSpace(cfg.BaseURL) == "" {
		return nil, errors.New("kitkot: base_url is empty")
	}
	u, err := url.Parse(strings.TrimSpace(cfg.BaseURL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		// The value itself is not quoted: a mistyped line might hold a key.
		return nil, errors.New("kitkot: base_url is not an absolute http(s) URL")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New("kitkot: base_url must not have a query or fragment")
	}
	if cfg.APIKey == "" {
		return nil, errors.New("kitkot: api_key is empty")
	}
	if cfg.SessionKey == "" {
		return nil, errors.New("kitkot: session_key is empty")
	}
	if cfg.Timeout < 0 {
		return nil, errors.New("kitkot: timeout is negative")
	}
	if cfg.MaxLength < 0 {
		return nil, errors.New("kitkot: max_length is negative")
	}
	timeout := cfg.Timeout
	if timeout == 0 {
		timeout = DefaultSendTimeout
	}
	maxLength := cfg.MaxLength
	if maxLength == 0 {
		maxLength = DefaultMaxLength
	}
	endpoint := strings.TrimRight(u.String(), "/") + replyPath
	return &Responder{
		endpoint:   endpoint,
		apiKey:     cfg.APIKey,
		sessionKey: cfg.SessionKey,
		timeout:    timeout,
		maxLength:  maxLength,
		// The endpoint is a GET with a side effect: never replayed, and a
		// redirect is answered, not followed (a configuration error).
		client: httpx.New(httpx.NoReplay(cfg.HTTPClient), endpoint, cfg.APIKey, cfg.SessionKey),
	}, nil
}

// Name is the responder's config name, "kitkot".
func (r *Responder) Name() string { return Name }

// replyTarget is the comment kitkot's reply_id names: the thread's root, or
// the comment itself when it is a root ("0" or no root).
func replyTarget(c model.Comment) string {
	if c.RootID == "" || c.RootID == "0" {
		return c.ID
	}
	return c.RootID
}

// Send posts reply.Text under reply.Comment's root thread. Failures are
// *model.SendError:
//
//	before the request was fully written (dial, DNS, TLS, cancelled)  Retryable  "connect"
//	after it was written: deadline or network timeout                 Unknown    "timeout"
//	after it was written: connection closed/reset, body read failed    Unknown    "dropped"
//	after it was written: the caller cancelled                         Unknown    "cancelled"
//	HTTP 429, 502, 503, 504                                            Retryable  "http_NNN"
//	other HTTP 5xx                                                     Unknown    "http_NNN"
//	HTTP 400 (code from the body, else "400")                          Permanent  "platform_CODE"
//	other HTTP 4xx, and 3xx (redirects are not followed)               Permanent  "http_NNN"
//	HTTP 2xx, body unreadable as the documented JSON                   Unknown    "bad_answer"
//	HTTP 2xx, body code other than 200                                 Permanent  "platform_CODE"
//	empty text, aweme_id or reply target (no request made)             Permanent  "empty_text", "missing_aweme_id", "missing_reply_id"
//	text longer than MaxLength characters (no request made)            Permanent  "too_long"
//
// A permanent refusal is ReplyOnly (it fails this reply and never counts
// toward the breaker) when kitkot answered its documented refusal, code 400
// with a message, and the message does not name the account, its keys or
// session, or its allowance (see accountRefusal); and for the checks made
// before any request. Everything else (HTTP 401/403/404, redirects, other
// codes, a 400 that is not kitkot's JSON) is about the account or the API.
func (r *Responder) Send(ctx context.Context, reply model.Reply) (model.SendResult, error) {
	if se := r.checkText(reply.Text); se != nil {
		return model.SendResult{}, se
	}
	if reply.Comment.PostID == "" {
		return model.SendResult{}, &model.SendError{Kind: model.Permanent, ReplyOnly: true, Msg: "comment has no aweme_id (post id)", Reason: "missing_aweme_id"}
	}
	target := replyTarget(reply.Comment)
	if target == "" || target == "0" {
		return model.SendResult{}, &model.SendError{Kind: model.Permanent, ReplyOnly: true, Msg: "comment has no id to reply to", Reason: "missing_reply_id"}
	}

	// Every parameter goes through url.Values: the document's samples
	// interpolate raw text, which breaks on Chinese, emoji, '&', '#', '+'.
	q := url.Values{}
	q.Set("api_key", r.apiKey)
	q.Set("session_key", r.sessionKey)
	q.Set("aweme_id", reply.Comment.PostID)
	q.Set("text", reply.Text)
	q.Set("reply_id", target)

	a, herr := r.client.Do(ctx, httpx.Request{Method: http.MethodGet, URL: r.endpoint + "?" + q.Encode(),
		Header: http.Header{"Accept": {"application/json"}}, Timeout: r.timeout, Limit: maxAnswer})
	defer a.Release()
	var readErr error
	if herr != nil {
		if herr.Stage != httpx.Read {
			return model.SendResult{}, r.sendError(herr.Kind(), "", herr.Msg, herr.Reason)
		}
		readErr = herr // an answer came: its status may still say what became of the request
	}
	res, serr := r.classify(ctx, a.Status, a.Body, readErr, reply.Text)
	if serr != nil {
		return model.SendResult{}, serr
	}
	if a.Resent {
		// Only a caller-supplied RoundTripper can get here: it resent the
		// request, so a second reply may exist.
		res.Reason = "possible_duplicate"
	}
	return res, nil
}

// CheckText implements platform.TextChecker: text must not be empty nor
// longer than max_length characters (runes).
func (r *Responder) CheckText(_ model.Comment, text string) error {
	return platform.ErrorOf(r.checkText(text))
}

// checkText is the check of Send and CheckText.
func (r *Responder) checkText(text string) *model.SendError {
	return platform.CheckRunes(text, r.maxLength, "responders.kitkot.max_length")
}

// answer is the part of kitkot's answer the responder reads.
type answer struct {
	Code    *flexString `json:"code"`
	Msg     flexString  `json:"msg"`
	Comment *struct {
		CID flexString `json:"cid"`
	} `json:"comment"`
}

// classify turns an HTTP answer to sending text into a result or a
// *model.SendError; readErr is why reading its body failed, if it did.
func (r *Responder) classify(_ context.Context, status int, body []byte, readErr error, text string) (model.SendResult, *model.SendError) {
	var a answer
	parsed := readErr == nil && json.Unmarshal(body, &a) == nil && a.Code != nil
	platformMsg := func() string {
		if parsed && a.Msg != "" {
			return string(a.Msg)
		}
		return r.client.Snippet(body, maxMsg)
	}
	code := func(def string) string {
		if parsed && *a.Code != "" {
			return string(*a.Code)
		}
		return def
	}
	httpReason := "http_" + strconv.Itoa(status)
	httpFailure := func(kind model.FailureKind) *model.SendError {
		return r.sendError(kind, code(""), fmt.Sprintf("HTTP %d: %s", status, platformMsg()), httpReason)
	}
	// refusal is a permanent platform refusal with code c, ReplyOnly when
	// it is kitkot's documented one (code 400 and a message) about this
	// reply rather than the account.
	refusal := func(c, msg string) *model.SendError {
		se := r.sendError(model.Permanent, c, msg, "platform_"+c)
		se.ReplyOnly = parsed && c == "400" && a.Msg != "" && !accountRefusal(string(a.Msg), text)
		return se
	}

	switch {
	case status >= 200 && status < 300:
		if readErr != nil {
			// The answer was cut short: the reply may have been posted.
			var he *httpx.Error
			if errors.As(readErr, &he) {
				return model.SendResult{}, r.sendError(model.Unknown, "", he.Msg, he.Reason)
			}
			return model.SendResult{}, r.sendError(model.Unknown, "", fmt.Sprintf("HTTP %d, reading the answer failed: %s", status, httpx.Describe(readErr)), "dropped")
		}
		if !parsed {
			return model.SendResult{}, r.sendError(model.Unknown, "", fmt.Sprintf("HTTP %d with an unreadable answer: %s", status, r.client.Snippet(body, maxMsg)), "bad_answer")
		}
		if c := code(""); c != "200" {
			return model.SendResult{}, refusal(c, platformMsg())
		}
		res := model.SendResult{}
		if a.Comment != nil {
			res.PlatformReplyID = string(a.Comment.CID)
		}
		return res, nil
	case status >= 500, status == http.StatusTooManyRequests:
		// 429 and a proxy's 502/503/504 turned the request away
		// unprocessed; another 5xx may come after the reply was stored.
		return model.SendResult{}, httpFailure(httpx.StatusKind(status))
	case status == http.StatusBadRequest:
		return model.SendResult{}, refusal(code("400"), platformMsg())
	case status >= 400:
		return model.SendResult{}, httpFailure(model.Permanent)
	case status >= 300 && status < 400:
		return model.SendResult{}, r.sendError(model.Permanent, "", fmt.Sprintf("HTTP %d redirect (check base_url)", status), httpReason)
	}
	// 1xx cannot reach here (the transport consumes them); stay conservative.
	return model.SendResult{}, r.sendError(model.Unknown, "", fmt.Sprintf("unexpected HTTP %d", status), httpReason)
}

// sendError builds a SendError with both keys scrubbed from its text, in case
// a platform echoes the request URL. The reason is scrubbed too:
// "platform_"+code quotes the platform.
func (r *Responder) sendError(kind model.FailureKind, code, msg, reason string) *model.SendError {
	return &model.SendError{Kind: kind, Code: r.client.Redact(code), Msg: r.client.Redact(msg), Reason: r.client.Redact(reason)}
}

// flexString decodes a JSON string or number (ids beyond 2^53 keep every
// digit) into a string; null is "".
type flexString string

func (s *flexString) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*s = ""
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = flexString(v)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	*s = flexString(n.String())
	return nil
}
