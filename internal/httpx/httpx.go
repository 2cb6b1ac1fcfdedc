// Package httpx owns the HTTP exchange every platform client makes: it
// builds one request, sends it, knows whether the request was written (the
// line between "cannot have taken effect" and "may have"), reads the answer
// to a bound the caller sets, and describes every failure in words that hold
// neither the request URL nor any secret of the client.
//
// The platforms put their keys and tokens in query strings, form bodies,
// JSON bodies and paths, and some echo the request back in their errors, so
// every text this package produces passes through the client's redactor,
// which knows each secret raw, query-escaped, path-escaped and JSON-escaped
// (see redact.Forms). A platform package adds its own words (its business
// codes and messages) and redacts those with Client.Redact.
package httpx

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/autoreplyd/autoreplyd/internal/redact"
)

// Mask replaces a secret in the texts of a platform client: its errors have
// always said REDACTED, which the daemon's own redactor ([redacted]) tells
// apart from what it scrubbed itself.
const Mask = "REDACTED"

// Client is one platform client's side of HTTP: the *http.Client it sends
// through, the endpoint its messages name and the secrets they must never
// hold. It is safe for concurrent use.
type Client struct {
	hc    *http.Client
	shown string // the endpoint without query or password (redacted with the message)
	red   *atomic.Pointer[redact.Redactor]
}

// MaxIdlePerHost is how many idle connections to one host the shared
// transport keeps (Go's default keeps 2). A source polls with up to its
// concurrency requests at once, all to one host: with 2 kept, the others'
// connections were closed after each answer and dialed anew for the next
// poll, a new TCP and TLS handshake for most polls of a cycle. Polls with a
// higher concurrency than this still reconnect for the excess.
const MaxIdlePerHost = 64

// shared is the http.Client of every Client made without one: Go's default
// transport with MaxIdlePerHost idle connections kept a host. Its idle
// connections close after the default transport's 90 s.
var shared = func() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = MaxIdlePerHost
	return &http.Client{Transport: t}
}()

// New returns a Client sending through hc (nil: a client on a shared
// transport keeping MaxIdlePerHost idle connections a host) whose
// messages name endpoint (its query, fragment and password left out) and
// never hold one of secrets. Whether hc may reuse connections and follow
// redirects is the caller's choice: see NoReplay and NoRedirects.
func New(hc *http.Client, endpoint string, secrets ...string) *Client {
	if hc == nil {
		hc = shared
	}
	c := &Client{hc: hc, shown: Shown(endpoint), red: new(atomic.Pointer[redact.Redactor])}
	c.SetSecrets(secrets...)
	return c
}

// Sharing returns a Client sending through hc that shares c's endpoint and
// secrets, SetSecrets included: for one API client that sends some requests
// on fresh connections (NoReplay) and others on kept-alive ones.
func (c *Client) Sharing(hc *http.Client) *Client {
	if hc == nil {
		hc = shared
	}
	return &Client{hc: hc, shown: c.shown, red: c.red}
}

// SetSecrets replaces the secrets the client's texts must never hold: for a
// client whose secrets change as it runs (WeChat's access token).
func (c *Client) SetSecrets(secrets ...string) {
	c.red.Store(redact.Options{Mask: Mask, MinLen: 1}.New(secrets...))
}

// Redact replaces every form of every secret of the client in s.
func (c *Client) Redact(s string) string { return c.red.Load().String(s) }

// Endpoint is the endpoint as the client's messages name it.
func (c *Client) Endpoint() string { return c.Redact(c.shown) }

// Shown is rawURL as a message may show it: without query, fragment or
// password. A URL that does not parse is not shown at all.
func Shown(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "(an unreadable URL)"
	}
	u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = "", false, "", ""
	return strings.TrimRight(u.Redacted(), "/")
}

// Request is one exchange.
type Request struct {
	Method string
	// URL may hold secrets (in its query): it is never shown.
	URL    string
	Body   []byte
	Header http.Header
	// Timeout bounds the whole exchange, the answer's body included; 0
	// leaves only ctx's deadline and the http.Client's own Timeout.
	Timeout time.Duration
	// Limit is the most bytes of the answer read: each call site sets its
	// own, from what a real answer weighs.
	Limit int64
}

// Answer is an answer, its body read whole or to the request's Limit.
type Answer struct {
	Status int
	Body   []byte
	// Truncated: the answer was longer than Limit; Body holds its first
	// Limit bytes.
	Truncated bool
	// Resent: the request was written more than once. Only a caller's
	// RoundTripper that replays can do that (Go's transport never does on
	// the fresh connections NoReplay makes): a side effect may have
	// happened twice.
	Resent bool

	buf *buffer
}

// Release gives the answer's buffer back for reuse; Body must not be used
// afterwards. Calling it is optional (an unreleased buffer is collected as
// garbage) and safe on a nil Answer.
func (a *Answer) Release() {
	if a != nil && a.buf != nil {
		a.buf.release()
		a.buf, a.Body = nil, nil
	}
}

// Do sends r and reads its answer. A failure is an *Error whose Stage says
// how far the exchange got; when reading the body failed (Stage Read), the
// answer read so far comes with it, its Status set.
func (c *Client) Do(ctx context.Context, r Request) (*Answer, *Error) {
	if r.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, r.Timeout)
		defer cancel()
	}
	var body io.Reader // nil, not a nil *bytes.Reader: no body at all
	if r.Body != nil {
		body = bytes.NewReader(r.Body)
	}
	// The trace tells "never fully written" (cannot have taken effect) from
	// "written, answer not seen" (may have). Its callbacks may run on the
	// transport's goroutines.
	var conns, started, writes, failed atomic.Int32
	trace := &httptrace.ClientTrace{
		GotConn:          func(httptrace.GotConnInfo) { conns.Add(1) },
		WroteHeaderField: func(string, []string) { started.Add(1) },
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			if info.Err == nil {
				writes.Add(1)
			} else {
				failed.Add(1)
			}
		},
	}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), r.Method, r.URL, body)
	if err != nil {
		return nil, c.fail(Build, 0, "cannot build the request to "+c.shown+": "+Describe(err))
	}
	for k, vs := range r.Header {
		req.Header[k] = vs
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		// Not written: the write never got past the request line, or it
		// failed (an incomplete request is never acted on). A write still
		// under way when Do gave up counts as written: the server may yet
		// get all of it.
		if started.Load() == 0 || failed.Load() > 0 && writes.Load() == 0 {
			what := "could not connect to " + c.shown
			if conns.Load() > 0 {
				what = "connection to " + c.shown + " failed before the request was sent"
			}
			return nil, c.fail(Connect, 0, what+": "+cause(ctx, err, r.Timeout))
		}
		reason, what := afterWrite(ctx, err, r.Timeout)
		e := c.fail(Await, 0, "request sent to "+c.shown+", no answer: "+what)
		e.Reason = reason
		return nil, e
	}
	defer func() { _ = resp.Body.Close() }()
	a := &Answer{Status: resp.StatusCode, Resent: writes.Load() > 1}
	a.buf, a.Body, err = read(resp.Body, resp.ContentLength, r.Limit)
	if int64(len(a.Body)) > r.Limit {
		a.Body, a.Truncated = a.Body[:r.Limit], true
	}
	if err != nil {
		reason, what := afterWrite(ctx, err, r.Timeout)
		e := c.fail(Read, resp.StatusCode, "HTTP "+strconv.Itoa(resp.StatusCode)+" from "+c.shown+", reading the answer failed: "+what)
		e.Reason = reason
		return a, e
	}
	return a, nil
}

// fail is an *Error of stage with msg, redacted.
func (c *Client) fail(stage Stage, status int, msg string) *Error {
	e := &Error{Stage: stage, Status: status, Msg: c.Redact(msg)}
	switch stage {
	case Build:
		e.Reason = "bad_request"
	case Connect:
		e.Reason = "connect"
	}
	return e
}
