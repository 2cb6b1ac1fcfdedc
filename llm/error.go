package llm

import (
	"errors"
	"strconv"

	"github.com/autoreplyd/autoreplyd/internal/httpx"
)

// Kind is what a failed draft asks of the caller.
type Kind int

const (
	// KindRetry means the endpoint is busy, down or slow (a timeout, a
	// connection error, HTTP 429 or 5xx, an answer that is not the API's).
	// The same request may pass later: retry on a later cycle, with the
	// send retry policy.
	KindRetry Kind = iota + 1
	// KindFatal means the endpoint refused the request as configured (HTTP 401
	// or 403: a wrong key; 404 or 400: a wrong model or base URL; 402: no
	// balance left). No request will pass until the operator fixes it:
	// pause the endpoint until `resume`.
	KindFatal
	// KindRefused means the model answered and the answer is not a draft (a
	// refusal, a content filter, tool calls, an answer cut at max_tokens,
	// nothing left after cleaning). Flag the comment; never send it.
	KindRefused
)

func (k Kind) String() string {
	switch k {
	case KindRetry:
		return "retry"
	case KindFatal:
		return "fatal"
	case KindRefused:
		return "refused"
	}
	return "unknown"
}

// Reasons of a refused answer (Error.Reason with KindRefused).
const (
	ReasonRefusal       = "refusal"        // the API's message.refusal was set
	ReasonContentFilter = "content_filter" // finish_reason content_filter
	ReasonToolCalls     = "tool_calls"     // the model asked for tools (none are offered)
	ReasonTruncated     = "truncated"      // finish_reason length: cut at max_tokens
	ReasonEmpty         = "empty"          // nothing left after cleaning
)

// Reasons of the other failures; an HTTP status is "http_" and its number.
const (
	ReasonTimeout   = "timeout"      // no answer within the Spec's timeout
	ReasonConnect   = "connect"      // no connection, or it failed before the request was sent
	ReasonDropped   = "dropped"      // the connection was lost before the answer
	ReasonCancelled = "cancelled"    // the caller's context ended
	ReasonRateWait  = "rate_limited" // the client's own rate would have waited past the caller's deadline
	ReasonBadAnswer = "bad_answer"   // a 2xx answer that is not a chat completion
	ReasonRequest   = "bad_request"  // the request could not be built
)

// Usage is the tokens a request was billed for.
type Usage struct {
	PromptTokens     int64
	CompletionTokens int64
}

// Error is a failed draft. Its text names the endpoint and never holds the
// API key (the provider's message in it is redacted, bounded and escaped).
type Error struct {
	// Endpoint is the Spec's name.
	Endpoint string
	Kind     Kind
	// Status is the answer's HTTP status; 0 when no answer came.
	Status int
	// Reason is a short machine word: one of the Reason constants, or
	// "http_" and the status.
	Reason string
	// Msg says what went wrong: the provider's message, or the failure.
	// Redacted.
	Msg string
	// Usage is what the request was billed for: a refused answer still
	// costs its tokens.
	Usage Usage

	unsent bool // no request was made (the rate's wait was given up)
}

// Sent reports whether a request reached the wire (or was attempted): false
// only when Draft gave up waiting for the client's rate.
func (e *Error) Sent() bool { return !e.unsent }

// Sent reports whether the Draft that returned err made a request: true
// for nil and for every failure but giving up the rate's wait. Metrics
// count only requests made.
func Sent(err error) bool {
	var e *Error
	return !errors.As(err, &e) || e.Sent()
}

func (e *Error) Error() string {
	s := "llm " + e.Endpoint + ": "
	switch e.Kind {
	case KindRefused:
		s += "answer refused (" + e.Reason + ")"
		if e.Msg != "" {
			s += ": " + e.Msg
		}
		return s
	}
	if e.Status != 0 {
		s += httpx.StatusText(e.Status)
		if e.Msg != "" {
			s += ": " + e.Msg
		}
	} else {
		s += e.Msg
	}
	if e.Kind == KindFatal {
		s += " (fix the endpoint's config or the provider account)"
	}
	return s
}

// KindOf is err's Kind: 0 for nil, an *Error's own, KindRetry for any
// other error.
func KindOf(err error) Kind {
	if err == nil {
		return 0
	}
	var e *Error
	if errors.As(err, &e) && e.Kind != 0 {
		return e.Kind
	}
	return KindRetry
}

// statusReason is the Reason of an HTTP status.
func statusReason(status int) string { return "http_" + strconv.Itoa(status) }

// statusKind is what an HTTP status that is not 2xx means: 429, 408 and
// 5xx are the endpoint being busy or down (retry); another 4xx and a 3xx
// (redirects are not followed) are the config's (fatal).
func statusKind(status int) Kind {
	switch {
	case status == 429, status == 408, status >= 500:
		return KindRetry
	}
	return KindFatal
}
