package poller_test

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/internal/syncbuf"
	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/poller"
	"github.com/autoreplyd/autoreplyd/simulator"
)

// loud returns the lines of logs logged at WARN or ERROR.
func loud(logs *syncbuf.Buffer) []string {
	var out []string
	for line := range strings.Lines(logs.String()) {
		if strings.Contains(line, "level=ERROR") || strings.Contains(line, "level=WARN") {
			out = append(out, line)
		}
	}
	return out
}

// retryDueHarness is a harness whose one answer failed with a 503 and is
// due for its retry, with a poller logging into logs.
func retryDueHarness(t *testing.T, logs *syncbuf.Buffer, edit func(*poller.Options)) (*harness, *poller.Poller, string) {
	t.Helper()
	h := newHarness(t, setup{})
	p := h.newPoller(nil)
	h.initThreads(p)
	cid := h.add(threadA, "10000000000000002", "小明", "多少钱")
	h.kk.Faults.Push(simulator.Fault{Kind: simulator.FaultHTTPStatus, Status: http.StatusServiceUnavailable})
	h.cycle(p)
	wantStatus(t, h.row(cid), model.StatusRetrying, "http_503")
	h.clk.Advance(2 * time.Minute) // the retry is due
	// A new poller, as after a restart: its first cycle reads the pauses,
	// releases held answers and loads the due retries from the store.
	p = h.newPoller(func(o *poller.Options) {
		o.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		if edit != nil {
			edit(o)
		}
	})
	return h, p, cid
}

// A cycle that runs while the daemon stops (the demo's end, SIGTERM) finds
// its context ended: every store call fails with the context's error. That
// is no failure: nothing is logged at WARN or ERROR, no error is counted,
// and nothing is lost (the retry goes out on the next cycle).
func TestStopIsNoError(t *testing.T) {
	t.Parallel()
	t.Run("context ended before the cycle", func(t *testing.T) {
		var logs syncbuf.Buffer
		h, p, cid := retryDueHarness(t, &logs, func(o *poller.Options) {
			o.Pacing = map[string]poller.Pacing{responderName: {DailyCap: 100}}
		})
		ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
		defer cancel()
		st := p.Cycle(ctx)
		if loud := loud(&logs); len(loud) > 0 {
			t.Errorf("a stopped cycle logged:\n%s", strings.Join(loud, ""))
		}
		if st.Errors != 0 || st.Sent != 0 {
			t.Errorf("stats: %+v", st)
		}
		h.wantPosts(0)
		wantStatus(t, h.row(cid), model.StatusRetrying, "http_503")
		if st := h.cycle(p); st.Sent != 1 || st.Errors != 0 {
			t.Fatalf("next cycle: %+v", st)
		}
		wantStatus(t, h.row(cid), model.StatusSent, "")
	})

	t.Run("context cancelled while taking up retries", func(t *testing.T) {
		var logs syncbuf.Buffer
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		// The stop comes while the retry is paced, before its claim is
		// taken up again.
		h, p, cid := retryDueHarness(t, &logs, func(o *poller.Options) {
			o.Jitter = func() time.Duration { cancel(); return 0 }
		})
		st := p.Cycle(ctx)
		if ctx.Err() == nil {
			t.Fatal("the cycle was not cancelled: the test tests nothing")
		}
		if loud := loud(&logs); len(loud) > 0 {
			t.Errorf("a cancelled cycle logged:\n%s", strings.Join(loud, ""))
		}
		if st.Errors != 0 {
			t.Errorf("stats: %+v", st)
		}
		h.wantPosts(0)
		wantStatus(t, h.row(cid), model.StatusRetrying, "http_503")
	})
}
