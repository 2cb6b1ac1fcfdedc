package httpx

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/internal/redact"
	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/simulator"
)

// secret has a character that each escaping writes its own way.
const secret = `k3y/w+th spa&ce"<中`

// wantNoSecret fails when text holds secret in any form.
func wantNoSecret(t *testing.T, text string) {
	t.Helper()
	for _, f := range redact.Forms(secret) {
		if strings.Contains(text, f) {
			t.Errorf("%q holds the secret (as %q)", text, f)
		}
	}
}

// urlWithSecret puts secret in the path and the query, as platforms do.
func urlWithSecret(base string) string {
	return base + "/hook/" + url.PathEscape(secret) + "?token=" + url.QueryEscape(secret)
}

func TestDescribeNeverPrintsTheURL(t *testing.T) {
	u := urlWithSecret("https://api.example")
	for _, cause := range []error{syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.EPIPE, context.DeadlineExceeded, io.ErrUnexpectedEOF, errors.New("tls: bad certificate")} {
		err := &url.Error{Op: "Get", URL: u, Err: fmt.Errorf("dial: %w", cause)}
		if got := Describe(err); got == "" {
			t.Errorf("Describe(%v) is empty", cause)
		} else {
			wantNoSecret(t, got)
		}
	}
}

func TestShown(t *testing.T) {
	for in, want := range map[string]string{
		"https://user:pw@api.example/api/?token=x#frag": "https://user:xxxxx@api.example/api",
		"http://127.0.0.1:8080":                         "http://127.0.0.1:8080",
		"http://[::1]:namedport":                        "(an unreadable URL)",
	} {
		if got := Shown(in); got != want {
			t.Errorf("Shown(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestStatusKind(t *testing.T) {
	for status, want := range map[int]model.FailureKind{
		429: model.Retryable, 502: model.Retryable, 503: model.Retryable, 504: model.Retryable,
		500: model.Unknown, 501: model.Unknown, 599: model.Unknown,
		400: model.Permanent, 401: model.Permanent, 404: model.Permanent, 302: model.Permanent,
	} {
		if got := StatusKind(status); got != want {
			t.Errorf("StatusKind(%d) = %s, want %s", status, got, want)
		}
	}
	if got := StatusText(503); got != "HTTP 503 Service Unavailable" {
		t.Errorf("StatusText(503) = %q", got)
	}
	if got := StatusText(599); got != "HTTP 599" {
		t.Errorf("StatusText(599) = %q", got)
	}
}

// read reads the whole answer whatever length was announced (none, a wrong
// one), stops one byte past the limit, and its pooled buffer is not shared
// by two answers in use.
func TestRead(t *testing.T) {
	const limit = 1 << 20
	page := strings.Repeat("页", 40_000) // 120 KB
	for _, tc := range []struct {
		name string
		size int64
	}{{"announced", int64(len(page))}, {"unknown", -1}, {"announced short", 10}, {"announced long", int64(len(page)) * 3}} {
		bufA, a, err := read(strings.NewReader(page), tc.size, limit)
		if err != nil || string(a) != page {
			t.Fatalf("%s: %d bytes, %v", tc.name, len(a), err)
		}
		bufB, b, err := read(strings.NewReader("second"), 6, limit)
		if err != nil || string(b) != "second" || string(a) != page {
			t.Fatalf("%s: a second read while the first is in use: %q, first intact %v, %v", tc.name, b, string(a) == page, err)
		}
		bufA.release()
		bufB.release()
	}
	buf, big, err := read(io.LimitReader(zeros{}, limit+100), -1, limit)
	defer buf.release()
	if err != nil || len(big) != limit+1 {
		t.Fatalf("past the limit: %d bytes, %v", len(big), err)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func TestSnippet(t *testing.T) {
	c := New(nil, "http://x", secret)
	for _, tc := range []struct {
		body string
		max  int
		want string
	}{
		{"  ", 10, "(empty answer)"},
		{strings.Repeat("价", 10), 7, "价价..."}, // 3 bytes each: cut on a character
		{"short", 10, "short"},
		{"line one\n\x1b[2Jforged", 100, `line one\n\x1b[2Jforged`},
		// The secret straddles the cut: it is replaced whole before the cut.
		{"0123456789" + secret + " tail", 12, "0123456789RE..."},
		{"x" + url.QueryEscape(secret) + "y", 100, "xREDACTEDy"},
	} {
		got := c.Snippet([]byte(tc.body), tc.max)
		if got != tc.want {
			t.Errorf("Snippet(%q, %d) = %q, want %q", tc.body, tc.max, got, tc.want)
		}
		wantNoSecret(t, got)
	}
	// A secret cut by the bound on what is scrubbed leaves no part of it.
	long := strings.Repeat("a", 300) + secret
	if got := c.Snippet([]byte(long), 200); strings.Contains(got, "k3y") {
		t.Errorf("Snippet shows part of the secret: %q", got)
	}
}

func TestSecretsChange(t *testing.T) {
	c := New(nil, "http://x", "first-secret")
	shared := c.Sharing(nil)
	c.SetSecrets("second-secret")
	if got := shared.Redact("first-secret second-secret"); got != "first-secret REDACTED" {
		t.Errorf("shared redactor after SetSecrets: %q", got)
	}
	if got := New(nil, "http://x", "ab", "").Redact("ab a"); got != "REDACTED a" {
		t.Errorf("a short secret is still the client's own: %q", got)
	}
}

// server serves h and returns a client for it whose endpoint holds the
// secret, and a request to it carrying the secret.
func server(t *testing.T, h http.HandlerFunc, noReplay bool) (*Client, Request) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	hc := srv.Client()
	if noReplay {
		hc = NoReplay(hc)
	}
	u := urlWithSecret(srv.URL)
	return New(hc, u, secret), Request{Method: http.MethodGet, URL: u, Timeout: 5 * time.Second, Limit: 64}
}

func wantStage(t *testing.T, err *Error, stage Stage, kind model.FailureKind, reason string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want stage %d", stage)
	}
	if err.Stage != stage || err.Kind() != kind || err.Reason != reason || err.Written() != (stage >= Await) {
		t.Errorf("error %+v (kind %s), want stage %d, kind %s, reason %s", err, err.Kind(), stage, kind, reason)
	}
	wantNoSecret(t, err.Msg)
	if !strings.Contains(err.Msg, "/hook/REDACTED") {
		t.Errorf("message does not name the endpoint: %q", err.Msg)
	}
	se := err.SendError()
	if se.Kind != kind || se.Reason != reason || se.Msg != err.Msg {
		t.Errorf("SendError %+v", se)
	}
}

func TestDoStages(t *testing.T) {
	ctx := context.Background()

	t.Run("refused", func(t *testing.T) {
		c, req := server(t, nil, true)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		req.URL = urlWithSecret("http://" + ln.Addr().String())
		_ = ln.Close()
		_, herr := c.Do(ctx, req)
		wantStage(t, herr, Connect, model.Retryable, "connect")
		if !strings.Contains(herr.Msg, "connection refused") {
			t.Errorf("%q", herr.Msg)
		}
	})

	t.Run("cancelled before sending", func(t *testing.T) {
		var reached atomic.Int32
		c, req := server(t, func(http.ResponseWriter, *http.Request) { reached.Add(1) }, true)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, herr := c.Do(cctx, req)
		wantStage(t, herr, Connect, model.Retryable, "connect")
		if reached.Load() != 0 {
			t.Error("the request reached the server")
		}
	})

	t.Run("reset before the write", func(t *testing.T) {
		var reached atomic.Int32
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached.Add(1) }))
		var resets simulator.Resets
		srv.Listener = resets.Listener(srv.Listener)
		srv.Start()
		defer srv.Close()
		u := urlWithSecret(srv.URL)
		c := New(NoReplay(resets.Client(nil)), u, secret)
		for range 20 {
			resets.Push(1)
			_, herr := c.Do(ctx, Request{Method: http.MethodGet, URL: u, Timeout: 5 * time.Second, Limit: 64})
			wantStage(t, herr, Connect, model.Retryable, "connect")
		}
		if reached.Load() != 0 {
			t.Error("the request reached the server")
		}
	})

	t.Run("dropped after the write", func(t *testing.T) {
		c, req := server(t, func(w http.ResponseWriter, _ *http.Request) {
			conn, _, _ := w.(http.Hijacker).Hijack()
			_ = conn.Close()
		}, true)
		_, herr := c.Do(ctx, req)
		wantStage(t, herr, Await, model.Unknown, "dropped")
	})

	t.Run("timeout after the write", func(t *testing.T) {
		c, req := server(t, func(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done() }, true)
		req.Timeout = 50 * time.Millisecond
		_, herr := c.Do(ctx, req)
		wantStage(t, herr, Await, model.Unknown, "timeout")
	})

	t.Run("cancelled after the write", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		c, req := server(t, func(_ http.ResponseWriter, r *http.Request) { cancel(); <-r.Context().Done() }, true)
		_, herr := c.Do(cctx, req)
		wantStage(t, herr, Await, model.Unknown, "cancelled")
	})

	t.Run("body cut short", func(t *testing.T) {
		c, req := server(t, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Length", "40")
			w.WriteHeader(503)
			_, _ = w.Write([]byte("partial " + secret))
		}, true)
		a, herr := c.Do(ctx, req)
		wantStage(t, herr, Read, model.Unknown, "dropped")
		if a == nil || a.Status != 503 || herr.Status != 503 || !strings.HasPrefix(string(a.Body), "partial") {
			t.Errorf("answer %+v", a)
		}
	})

	t.Run("longer than the limit", func(t *testing.T) {
		c, req := server(t, func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(strings.Repeat("x", 65))) }, false)
		a, herr := c.Do(ctx, req)
		if herr != nil || !a.Truncated || len(a.Body) != 64 || a.Status != 200 {
			t.Fatalf("%+v, %v", a, herr)
		}
		a.Release()
		a.Release()
		c2, req2 := server(t, func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(strings.Repeat("x", 64))) }, false)
		if a, herr := c2.Do(ctx, req2); herr != nil || a.Truncated || len(a.Body) != 64 {
			t.Fatalf("%+v, %v", a, herr)
		}
	})

	t.Run("cannot build", func(t *testing.T) {
		c, req := server(t, nil, true)
		req.URL = urlWithSecret("http://x\x7f")
		_, herr := c.Do(ctx, req)
		wantStage(t, herr, Build, model.Permanent, "bad_request")
	})
}

// A request with a side effect is sent once: NoReplay neither reuses a
// connection (whose failure Go's transport would answer by resending) nor
// follows a redirect; a RoundTripper of the caller's that resends is
// reported.
func TestNoReplay(t *testing.T) {
	var requests, conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if r.URL.Path == "/moved" {
			http.Redirect(w, r, "/elsewhere", http.StatusTemporaryRedirect)
			return
		}
		_, _ = w.Write([]byte("ok"))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	c := New(NoReplay(srv.Client()), srv.URL)
	for range 3 {
		a, herr := c.Do(context.Background(), Request{Method: http.MethodGet, URL: srv.URL + "/x", Limit: 10})
		if herr != nil || a.Status != 200 || a.Resent {
			t.Fatalf("%+v %v", a, herr)
		}
	}
	if conns.Load() != 3 {
		t.Errorf("%d connections for 3 requests: one was reused", conns.Load())
	}
	a, herr := c.Do(context.Background(), Request{Method: http.MethodPost, URL: srv.URL + "/moved", Body: []byte("x"), Limit: 10})
	if herr != nil || a.Status != http.StatusTemporaryRedirect || requests.Load() != 4 {
		t.Errorf("redirect: %+v %v, %d requests", a, herr, requests.Load())
	}

	twice := New(&http.Client{Transport: resender{srv.Client().Transport}}, srv.URL)
	if a, herr := twice.Do(context.Background(), Request{Method: http.MethodGet, URL: srv.URL + "/x", Limit: 10}); herr != nil || !a.Resent {
		t.Errorf("a resent request: %+v %v", a, herr)
	}
}

// resender sends every request twice, as a careless RoundTripper might.
type resender struct{ rt http.RoundTripper }

func (r resender) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.rt.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return r.rt.RoundTrip(req)
}

// TestKeepsConnectionsOfConcurrentPolls polls one host 8 requests at a time,
// five rounds, through a Client made without an http.Client (as every
// platform client is): the 8 connections of the first round are kept and
// reused. Go's default transport keeps 2 a host, and dialed 6 anew each
// round (32 connections).
func TestKeepsConnectionsOfConcurrentPolls(t *testing.T) {
	const conc = 8
	var conns atomic.Int32
	var mu sync.Mutex
	arrived, gate := 0, make(chan struct{})
	// Each request waits for the round's others: the 8 are in flight at
	// once, on 8 connections.
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		arrived++
		g := gate
		if arrived == conc {
			close(gate)
			arrived, gate = 0, make(chan struct{})
		}
		mu.Unlock()
		select {
		case <-g:
		case <-r.Context().Done():
			return
		}
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	c := New(nil, srv.URL)
	for round := range 5 {
		var wg sync.WaitGroup
		errs := make(chan error, conc)
		for range conc {
			wg.Go(func() {
				a, herr := c.Do(context.Background(), Request{Method: http.MethodGet, URL: srv.URL + "/list", Limit: 100, Timeout: time.Minute})
				if herr != nil {
					errs <- herr
				} else if a.Status != 200 {
					errs <- fmt.Errorf("status %d", a.Status)
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("round %d: %v", round, err)
		}
	}
	if n := conns.Load(); n != conc {
		t.Errorf("%d connections for 5 rounds of %d requests at once, want %d (kept alive and reused)", n, conc, conc)
	}
}
