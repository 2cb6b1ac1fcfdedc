// Package simulator imitates the platform APIs autoreplyd talks to, on
// loopback: JustOneAPI's Douyin reply and video comment listings, kitkot's TikTok reply
// listing and reply endpoint, WeChat's comment APIs and Weibo's, written
// from the API documents in ../shared/seeds and the facts in
// ../shared/PLATFORMS.md. Tests use it as their imitation of each platform
// (with its failure modes); Sim serves all four on one listener with made-up
// traffic (Traffic), for `autoreplyd demo` and `autoreplyd simulate`.
package simulator

import (
	"net/http"
	"sync"
	"time"
)

// FaultKind is a way an imitated API can misbehave on one request.
type FaultKind int

const (
	// FaultCode answers HTTP 200 with the platform's business error Code and Msg.
	FaultCode FaultKind = iota
	// FaultHTTPStatus answers with HTTP Status and a short non-JSON body
	// (Body when set): a 4xx or 5xx from the platform or a proxy in front.
	FaultHTTPStatus
	// FaultBrokenJSON answers HTTP 200 with a truncated JSON body (Body when
	// set).
	FaultBrokenJSON
	// FaultSlow waits Delay (or until the client gives up) before answering
	// normally: with Delay beyond the client's timeout, the client times out.
	FaultSlow
	// FaultDrop closes the connection without any answer, before the request
	// is processed (nothing took effect).
	FaultDrop
	// FaultDropAfter processes the request (a reply IS posted) and then
	// closes the connection without answering: an unknown outcome.
	FaultDropAfter
	// FaultSlowAfter processes the request, then waits Delay before
	// answering: with Delay beyond the client's timeout, an unknown outcome.
	FaultSlowAfter
)

// A connection refused is a closed listener, and a connection reset before
// the request is written happens below HTTP, before any handler: see Resets.

// Fault is one misbehaviour, consumed by one request.
type Fault struct {
	Kind   FaultKind
	Code   int    // FaultCode: the business code
	Msg    string // FaultCode: the business message
	Status int    // FaultHTTPStatus: the HTTP status
	// Body, when set, is the answer of FaultHTTPStatus and FaultBrokenJSON,
	// as it is: a proxy's error page, or one that echoes the request.
	Body  string
	Delay time.Duration
}

// Faults is a queue of faults: each request to the imitation takes the next
// one, in order, until the queue is empty. Safe for concurrent use.
type Faults struct {
	mu    sync.Mutex
	queue []Fault
}

// Push appends faults to the queue.
func (f *Faults) Push(fs ...Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queue = append(f.queue, fs...)
}

// Clear empties the queue.
func (f *Faults) Clear() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queue = nil
}

// Len is the number of faults still queued.
func (f *Faults) Len() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.queue)
}

// Next takes the next fault off the queue.
func (f *Faults) Next() (Fault, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.queue) == 0 {
		return Fault{}, false
	}
	fl := f.queue[0]
	f.queue = f.queue[1:]
	return fl, true
}

// sleep waits d or until the client goes away.
func sleep(r *http.Request, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
	}
}

// dropConnection closes the client's connection without writing an answer.
func dropConnection(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}

// before applies the faults that act before a request is processed. It
// reports whether the answer has been written (the handler must stop).
// FaultCode is the handler's own business: before leaves it alone and
// returns false, and the handler writes the platform's error body.
func before(w http.ResponseWriter, r *http.Request, fl Fault) bool {
	switch fl.Kind {
	case FaultHTTPStatus:
		if fl.Body == "" {
			http.Error(w, http.StatusText(fl.Status), fl.Status)
			return true
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(fl.Status)
		_, _ = w.Write([]byte(fl.Body))
		return true
	case FaultBrokenJSON:
		w.Header().Set("Content-Type", "application/json")
		body := fl.Body
		if body == "" {
			body = `{"code": 0, "data": {"comments": [{"cid": "7`
		}
		_, _ = w.Write([]byte(body))
		return true
	case FaultSlow:
		sleep(r, fl.Delay)
		return false
	case FaultDrop:
		dropConnection(w)
		return true
	}
	return false
}

// after applies the faults that act once a request has been processed. It
// reports whether the answer has been written (the handler must stop).
func after(w http.ResponseWriter, r *http.Request, fl Fault) bool {
	switch fl.Kind {
	case FaultDropAfter:
		dropConnection(w)
		return true
	case FaultSlowAfter:
		sleep(r, fl.Delay)
		return false
	}
	return false
}

// HostileUnixTimes are create_time values, as JSON text (for the
// CreateTimeJSON fields), that no comment can have: a year past 9999, a
// value that overflows an int64 or a float's conversion, a negative or zero
// time, text that is no number, and JSON types that are no time at all. A
// source must neither fail the page over one nor keep it as the comment's
// time.
var HostileUnixTimes = []string{
	`"1e300"`, `1e300`, `-1`, `"abc"`, `253402300800`, `0`, `"NaN"`, `"-Inf"`,
	`true`, `{"t":1688379962}`, `[1688379962]`, `null`, `"9223372036854775808"`, `1e19`,
}
