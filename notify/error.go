package notify

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/autoreplyd/autoreplyd/internal/httpx"
	"github.com/autoreplyd/autoreplyd/internal/termesc"
)

// Class is what a failed delivery asks of the dispatcher and the operator.
type Class int

const (
	// Retry means the platform or the network is busy or down (a too-fast
	// code, HTTP 429 or 5xx, a timeout, a refused connection). The same
	// message may pass later: it is retried with backoff.
	Retry Class = iota + 1
	// Config means the platform refused the robot as configured (a wrong
	// URL or key, a bad signature, a missing keyword, an IP not allowed, a
	// robot disabled or removed). No message will pass until the operator
	// fixes the config or the robot's settings; retried rarely, and the
	// channel's state says "fix your config".
	Config
	// Refused means the platform refused this message only (too long,
	// content it will not carry). Other messages may pass; this one never
	// will, so it is not retried as it is.
	Refused
)

func (c Class) String() string {
	switch c {
	case Retry:
		return "retry later"
	case Config:
		return "fix your config"
	case Refused:
		return "message refused"
	}
	return "unknown"
}

// Error is a failed delivery. Its text names the channel and never holds
// the channel's URL or secret; the platform's message in it is redacted,
// escaped and bounded.
type Error struct {
	Channel string // the channel's name
	Type    string // wecom, dingtalk, feishu, webhook
	Class   Class
	// Status is the answer's HTTP status; 0 when no answer came.
	Status int
	// Code is the platform's business code (errcode, code); 0 when the
	// answer had none.
	Code int
	// Msg is what went wrong: the platform's message, or the failure.
	Msg string
	// Hint says what the code means and, for Config, what to fix.
	Hint string
	// RetryAfter is the least wait the platform asks for before the next
	// message (DingTalk blocks a robot for ten minutes after a burst); 0
	// leaves the wait to the dispatcher's backoff.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	s := "notify " + e.Channel + " (" + e.Type + "): "
	switch {
	case e.Code != 0:
		s += "code " + strconv.Itoa(e.Code)
		if e.Msg != "" {
			s += " " + strconv.Quote(e.Msg)
		}
	case e.Status != 0:
		s += httpx.StatusText(e.Status)
		if e.Msg != "" {
			s += ": " + e.Msg
		}
	default:
		s += e.Msg
	}
	if e.Hint != "" {
		s += " (" + e.Hint + ")"
	}
	if e.Class == Config {
		s += ": fix your config"
	}
	return s
}

// FixConfig says whether the operator must change something before any
// message can pass.
func (e *Error) FixConfig() bool { return e.Class == Config }

// ClassOf is err's Class: an *Error's own, Retry for any other error (a
// channel that is not one of ours, a cancelled context).
func ClassOf(err error) Class {
	var e *Error
	if errors.As(err, &e) && e.Class != 0 {
		return e.Class
	}
	return Retry
}

// codeInfo is what one platform code means.
type codeInfo struct {
	class Class
	hint  string
	after time.Duration
}

// codeError is the *Error of a platform's non-zero business code; codes not
// in table are retried (they are rare; MaxAge bounds the retrying).
func (c *client) codeError(table map[int]codeInfo, status, code int, msg string) *Error {
	info, ok := table[code]
	if !ok {
		info = codeInfo{class: Retry, hint: "a code this version does not know; retried"}
	}
	return &Error{Channel: c.name, Type: c.typ, Class: info.class, Status: status, Code: code,
		Msg: c.platformText(msg), Hint: info.hint, RetryAfter: info.after}
}

// statusError is the *Error of an answer whose HTTP status says it failed
// and whose body has no code: 429, 408 and 5xx are retried; 413 refuses
// the message; another 4xx (a wrong path, a refused token) is the config's.
func (c *client) statusError(status int, body []byte) *Error {
	e := &Error{Channel: c.name, Type: c.typ, Status: status, Msg: c.hc.Snippet(body, maxPlatformText)}
	switch {
	case status == http.StatusTooManyRequests:
		e.Class, e.Hint, e.RetryAfter = Retry, "too many requests", time.Minute
	case status == http.StatusRequestTimeout, status >= 500:
		e.Class = Retry
	case status == http.StatusRequestEntityTooLarge:
		e.Class, e.Hint = Refused, "message too large"
	default:
		e.Class = Config
	}
	return e
}

// exchangeError is the *Error of an exchange that got no answer (or whose
// answer could not be read): always retried. A notification sent twice is
// a duplicate message; one never sent is a person never told.
func (c *client) exchangeError(err error) *Error {
	var he *httpx.Error
	msg := "exchange failed"
	status := 0
	if errors.As(err, &he) {
		msg, status = he.Msg, he.Status
	}
	return &Error{Channel: c.name, Type: c.typ, Class: Retry, Status: status, Msg: msg}
}

// maxPlatformText bounds a platform's message quoted in an error, in bytes.
const maxPlatformText = 200

// platformText is a platform's own message as an error may quote it:
// redacted, bounded and escaped.
func (c *client) platformText(msg string) string {
	return termesc.String(cutBytes(c.hc.Redact(msg), maxPlatformText))
}

// errorf is an *Error of this channel that is not the platform's answer.
func (c *client) errorf(class Class, format string, args ...any) *Error {
	return &Error{Channel: c.name, Type: c.typ, Class: class, Msg: c.hc.Redact(fmt.Sprintf(format, args...))}
}
