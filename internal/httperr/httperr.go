// Package httperr describes HTTP transport failures for platform clients in
// words that never contain the request URL (the platforms put api keys and
// tokens in query strings), and names a failure that came after the request
// was written: the cases where a send's outcome is unknown.
package httperr

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"
)

// AfterWrite names a failure that came after the request was written: the
// request may have taken effect. reason is a word for history ("timeout",
// "cancelled", "dropped"), what a phrase for the error message.
func AfterWrite(ctx context.Context, err error) (reason, what string) {
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return "timeout", "timed out waiting for the answer"
	case ctx.Err() != nil:
		return "cancelled", "cancelled while waiting for the answer"
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timeout", "timed out waiting for the answer"
	}
	return "dropped", "connection lost before the answer"
}

// Describe says what a transport error was without the request URL: a
// *url.Error prints the URL, keys included, so only its cause is used.
// Callers still redact their secrets from the result.
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
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "connection closed by the server"
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return "DNS lookup of " + dnsErr.Name + " failed"
	}
	return err.Error()
}

// Snippet quotes the start of a non-JSON answer, at most max bytes, cut on
// a character boundary.
func Snippet(body []byte, max int) string {
	s := strings.TrimSpace(string(body))
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "..."
	}
	if s == "" {
		return "(empty answer)"
	}
	return s
}

// Failure describes a failed exchange with endpoint (no URL, no query) for
// a source's error: what the operation was and why it failed.
func Failure(op, endpoint string, timeout time.Duration, err error) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Sprintf("%s %s: no answer within %s", op, endpoint, timeout)
	}
	return op + " " + endpoint + ": " + Describe(err)
}

// Redact replaces every secret in s, raw or URL-escaped (a platform may
// echo the request's query back in its message).
func Redact(s string, secrets ...string) string {
	for _, k := range secrets {
		if k == "" {
			continue
		}
		for _, form := range []string{k, url.QueryEscape(k), url.PathEscape(k)} {
			s = strings.ReplaceAll(s, form, "REDACTED")
		}
	}
	return s
}
