package httpx

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"syscall"
	"time"

	"github.com/autoreplyd/autoreplyd/model"
)

// Stage is how far a failed exchange got.
type Stage int

const (
	// Build means the request could not be made; nothing was sent.
	Build Stage = iota
	// Connect means the request was not fully written (no connection, or
	// it failed during the write, or ctx ended first): the server cannot
	// have acted on it.
	Connect
	// Await means the request was written and no answer came: it may have
	// taken effect.
	Await
	// Read means an answer's head came and reading its body failed: the
	// request reached the server, which may have acted on it.
	Read
)

// Error is a failed exchange. Its text never holds the request URL or a
// secret of the client.
type Error struct {
	Stage Stage
	// Reason is a word for history: "bad_request" (Build), "connect"
	// (Connect), and after the write "timeout", "cancelled" or "dropped".
	Reason string
	// Status is the answer's HTTP status at Stage Read, else 0.
	Status int
	// Msg describes the failure.
	Msg string
}

func (e *Error) Error() string { return e.Msg }

// Written reports whether the request had been written when the exchange
// failed: the server may have acted on it.
func (e *Error) Written() bool { return e.Stage >= Await }

// Kind is what the failure means for a send: a request that could not be
// built is Permanent (it never will be), one never fully written is
// Retryable, one written is Unknown.
func (e *Error) Kind() model.FailureKind {
	switch e.Stage {
	case Build:
		return model.Permanent
	case Connect:
		return model.Retryable
	}
	return model.Unknown
}

// SendError is the failure as a responder's *model.SendError.
func (e *Error) SendError() *model.SendError {
	return &model.SendError{Kind: e.Kind(), Msg: e.Msg, Reason: e.Reason}
}

// StatusKind is what an answer of HTTP status (not 2xx) means for a send:
// 429 and the gateway's 502/503/504 turned the request away unprocessed
// (Retryable); another 5xx may come after the request took effect
// (Unknown); a 4xx refuses it and a 3xx (redirects are not followed by
// NoReplay's clients) points elsewhere (Permanent).
func StatusKind(status int) model.FailureKind {
	switch {
	case status == http.StatusTooManyRequests, status == http.StatusBadGateway,
		status == http.StatusServiceUnavailable, status == http.StatusGatewayTimeout:
		return model.Retryable
	case status >= 500:
		return model.Unknown
	}
	return model.Permanent
}

// StatusText is "HTTP 503 Service Unavailable": the status and Go's text
// for it, never the reason phrase the server sent (its to choose, so it
// may hold anything).
func StatusText(status int) string {
	s := "HTTP " + strconv.Itoa(status)
	if t := http.StatusText(status); t != "" {
		s += " " + t
	}
	return s
}

// Describe says what a transport error was without the request URL: a
// *url.Error prints the URL, keys included, so only its cause is used.
// Callers still redact their secrets from the result (Client does).
func Describe(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "deadline exceeded"
	case errors.Is(err, context.Canceled):
		return "context cancelled"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset by peer"
	case errors.Is(err, syscall.EPIPE):
		return "connection closed by the server (broken pipe)"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed by the server"
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return "DNS lookup of " + dnsErr.Name + " failed"
	}
	return err.Error()
}

// cause describes why a request was not fully written: ctx's end, or the
// transport's error.
func cause(ctx context.Context, err error, timeout time.Duration) string {
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return "timed out" + after(timeout)
	case ctx.Err() != nil:
		return "cancelled"
	}
	return Describe(err)
}

// afterWrite names a failure that came after the request was written:
// reason is a word for history ("timeout", "cancelled", "dropped"), what a
// phrase for the message.
func afterWrite(ctx context.Context, err error, timeout time.Duration) (reason, what string) {
	var ne net.Error
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		reason, what = "timeout", "timed out"+after(timeout)+" waiting for the answer"
	case ctx.Err() != nil:
		reason, what = "cancelled", "cancelled while waiting for the answer"
	case errors.As(err, &ne) && ne.Timeout():
		reason, what = "timeout", "timed out waiting for the answer: "+Describe(err)
	default:
		reason, what = "dropped", "connection lost before the answer: "+Describe(err)
	}
	return reason, what
}

// after is " after 30s", or "" for no timeout of the request's own.
func after(timeout time.Duration) string {
	if timeout <= 0 {
		return ""
	}
	return " after " + timeout.String()
}
