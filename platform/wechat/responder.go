// The responder answers WeChat Official Account article comments through
// `POST /cgi-bin/comment/reply/add?access_token=`, and classifies every
// failure by whether the reply may already have been posted.
//
// The body's ids are JSON numbers, written digit for digit (they may exceed
// 2^31), and the body is encoded without HTML escaping: WeChat refuses
// `\u003c` and friends (40033), which Go's default encoding writes for
// `<`, `>` and `&`. A comment takes one reply only: 88005 "already reply"
// counts as answered and is never retried.

package wechat

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/platform"
)

// Name is the responder's config name.
const Name = "wechat"

const (
	// DefaultSendTimeout bounds one send.
	DefaultSendTimeout = 30 * time.Second
	// DefaultMaxLength is the longest reply sent, in runes. WeChat's real
	// limit is undocumented (88007 "reply content beyond max len").
	DefaultMaxLength = 600
)

// ResponderConfig configures the responder.
type ResponderConfig struct {
	Client    *Client       // shared with the source of the same app
	Timeout   time.Duration // per send; default DefaultSendTimeout
	MaxLength int           // runes; default DefaultMaxLength
}

// Responder sends replies to WeChat comments. Safe for concurrent use.
type Responder struct {
	client    *Client
	timeout   time.Duration
	maxLength int
}

// NewResponder checks cfg and returns a responder.
func NewResponder(cfg ResponderConfig) (*Responder, error) {
	if cfg.Client == nil {
		return nil, errors.New("wechat: no API client")
	}
	if cfg.Timeout < 0 || cfg.MaxLength < 0 {
		return nil, errors.New("wechat: timeout and max_length must not be negative")
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultSendTimeout
	}
	if cfg.MaxLength == 0 {
		cfg.MaxLength = DefaultMaxLength
	}
	return &Responder{client: cfg.Client, timeout: cfg.Timeout, maxLength: cfg.MaxLength}, nil
}

// Name is "wechat".
func (r *Responder) Name() string { return Name }

// replyBody is reply/add's body: every id a JSON number.
type replyBody struct {
	MsgDataID     json.Number `json:"msg_data_id"`
	Index         json.Number `json:"index"`
	UserCommentID json.Number `json:"user_comment_id"`
	Content       string      `json:"content"`
}

// Send posts reply.Text as the answer to reply.Comment, whose id is
// "<msg_data_id>:<index>:<user_comment_id>". Outcomes:
//
//	errcode 0                                           success
//	88005 already replied                               success, Reason "already_replied"
//	text empty / longer than MaxLength (no call made)   Permanent "empty_text" / "too_long"
//	comment id not composite digits (no call made)      Permanent "bad_comment_id"
//	-1 system busy                                      Retryable "busy"
//	45009 daily quota / 45011 too frequent              Retryable "quota" / "too_frequent"
//	40001/40014/42001 after one refresh and one retry   Retryable "token_invalid"
//	40164/40013/40125/48001                             Permanent "ip_not_whitelisted"/"invalid_appid"/"invalid_secret"/"api_unauthorized"
//	any other code (88000/88001/88002/88004/88007/...)  Permanent "platform_CODE", the platform's errmsg
//	getting the access token failed otherwise           Retryable "token_" + reason
//	not fully written (connect, DNS, cancelled)         Retryable "connect"
//	written, then timeout/drop/unreadable answer        Unknown "timeout"/"dropped"/"cancelled"/"bad_answer"
//	HTTP 429/502/503/504 / other 5xx / 4xx, 3xx         Retryable / Unknown / Permanent "http_NNN"
//
// Permanent refusals of this reply's content or target (replyOnlyCodes:
// 88004, 88007, 88008, 40033, 87014, and the article's 88001/88002/88011) are
// ReplyOnly: they fail this reply and never count toward the breaker. Every
// other permanent failure (88000 no privilege, the credential and whitelist
// codes, codes nobody classified) is about the account or the API.
func (r *Responder) Send(ctx context.Context, reply model.Reply) (model.SendResult, error) {
	text := reply.Text
	if se := r.checkText(text); se != nil {
		return model.SendResult{}, se
	}
	msg, index, ucid, err := ParseCommentID(reply.Comment.ID)
	if err != nil {
		return model.SendResult{}, &model.SendError{Kind: model.Permanent, ReplyOnly: true, Msg: err.Error(), Reason: "bad_comment_id"}
	}
	err = r.client.Call(ctx, Request{
		Path:    CommentReplyPath,
		Body:    replyBody{MsgDataID: json.Number(msg), Index: json.Number(index), UserCommentID: json.Number(ucid), Content: text},
		Fresh:   true,
		Timeout: r.timeout,
	}, nil)
	if err == nil {
		return model.SendResult{}, nil
	}
	var we *Error
	if !errors.As(err, &we) {
		return model.SendResult{}, &model.SendError{Kind: model.Unknown, Msg: r.client.Redact(err.Error()), Reason: "error"}
	}
	if we.Code == CodeAlreadyReplied {
		return model.SendResult{Reason: "already_replied"}, nil
	}
	return model.SendResult{}, classify(we)
}

// CheckText implements platform.TextChecker: text must not be empty nor
// longer than max_length characters (runes).
func (r *Responder) CheckText(_ model.Comment, text string) error {
	return platform.ErrorOf(r.checkText(text))
}

// checkText is the check of Send and CheckText.
func (r *Responder) checkText(text string) *model.SendError {
	return platform.CheckRunes(text, r.maxLength, "responders.wechat.max_length")
}

// tooFrequentPause is how long a "too frequent" answer (45011) pauses the
// responder: WeChat does not say; minutes, not seconds, since pushing on
// risks the account.
const tooFrequentPause = 10 * time.Minute

// replyOnlyCodes are the refusals of one reply: its content (88007 empty or
// too long; 40033 characters refused; 87014 WeChat's content-security
// refusal) or its target (88004 comment deleted; 88008 comment not found;
// 88001 article not found; 88002/88011 article limited). None says anything
// about the account, so none may pause the responder for every other reply.
// (88005, already replied, counts as answered: no failure at all.)
var replyOnlyCodes = map[int]bool{
	CodeReplyLength:     true,
	CodeIllegalChars:    true,
	CodeRiskyContent:    true,
	CodeCommentDeleted:  true,
	CodeCommentNotFound: true,
	CodeArticleNotFound: true,
	CodeArticleLimited:  true,
	CodeArticleLimited2: true,
}

// classify turns a client failure into a *model.SendError.
func classify(we *Error) *model.SendError {
	se := &model.SendError{Msg: we.Error()}
	if we.Code != 0 {
		se.Code = strconv.Itoa(we.Code)
		switch we.Code {
		case CodeBusy:
			se.Kind, se.Reason = model.Retryable, "busy"
		case CodeDailyQuota:
			// The account's daily quota: nothing more goes out today.
			se.Kind, se.Reason, se.PauseToNextDay = model.Retryable, "quota", true
		case CodeTooFrequent:
			se.Kind, se.Reason, se.PauseFor = model.Retryable, "too_frequent", tooFrequentPause
		case CodeInvalidCredential, CodeInvalidToken, CodeTokenExpired:
			if we.TokenFetch() {
				// The token API says 40001 for a wrong secret.
				se.Kind, se.Reason = model.Permanent, "invalid_secret"
			} else {
				se.Kind, se.Reason = model.Retryable, "token_invalid"
			}
		case CodeIPNotWhitelisted:
			se.Kind, se.Reason = model.Permanent, "ip_not_whitelisted"
		case CodeInvalidAppID:
			se.Kind, se.Reason = model.Permanent, "invalid_appid"
		case CodeInvalidSecret:
			se.Kind, se.Reason = model.Permanent, "invalid_secret"
		case CodeAPIUnauthorized:
			se.Kind, se.Reason = model.Permanent, "api_unauthorized"
		default:
			if we.TokenFetch() {
				se.Kind, se.Reason = model.Retryable, "token_code_"+se.Code
			} else {
				se.Kind, se.Reason = model.Permanent, "platform_"+se.Code
				se.ReplyOnly = replyOnlyCodes[we.Code]
			}
		}
		return se
	}
	if we.TokenFetch() {
		// The reply was never sent.
		se.Kind, se.Reason = model.Retryable, "token_"+we.Reason
		return se
	}
	switch {
	case we.HTTPStatus == 429, we.HTTPStatus == 502, we.HTTPStatus == 503, we.HTTPStatus == 504:
		se.Kind = model.Retryable
	case we.HTTPStatus >= 500:
		se.Kind = model.Unknown
	case we.HTTPStatus != 0:
		se.Kind = model.Permanent
	case we.Transport && !we.Written:
		se.Kind = model.Retryable
	default:
		se.Kind = model.Unknown
	}
	se.Reason = we.Reason
	return se
}
