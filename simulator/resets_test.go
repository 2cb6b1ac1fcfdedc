package simulator

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"strings"
	"sync/atomic"
	"testing"
)

// A reset connection fails the client before its request is written, and
// never reaches the handler; the next connection is served. The client's
// transport writes unbuffered (as httpx.NoReplay's does), so that its trace
// reports the write itself.
func TestResetsBeforeWrite(t *testing.T) {
	var served atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		served.Add(1)
		_, _ = w.Write([]byte("ok"))
	}))
	var resets Resets
	srv.Listener = resets.Listener(srv.Listener)
	srv.Start()
	defer srv.Close()
	hc := resets.Client(&http.Client{Transport: &http.Transport{DisableKeepAlives: true, WriteBufferSize: 1}})

	for i := range 20 {
		resets.Push(1)
		var wrote atomic.Int32
		trace := &httptrace.ClientTrace{WroteRequest: func(info httptrace.WroteRequestInfo) {
			if info.Err == nil {
				wrote.Add(1)
			}
		}}
		// A POST: Go's transport would resend a GET it thinks idempotent.
		req, err := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), http.MethodPost, srv.URL, strings.NewReader("x"))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := hc.Do(req)
		if err == nil {
			_ = resp.Body.Close()
			t.Fatalf("round %d: a reset connection answered %s", i, resp.Status)
		}
		if wrote.Load() != 0 {
			t.Fatalf("round %d: the request was written (%v)", i, err)
		}
		if resets.Len() != 0 || served.Load() != 0 {
			t.Fatalf("round %d: %d resets left, %d served", i, resets.Len(), served.Load())
		}
	}
	resp, err := hc.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if served.Load() != 1 {
		t.Fatalf("served %d, want 1", served.Load())
	}
}
