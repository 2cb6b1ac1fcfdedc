package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/internal/syncbuf"
	"github.com/autoreplyd/autoreplyd/internal/testutil"
	"github.com/autoreplyd/autoreplyd/simulator"
)

// pollingCase is one source section against its platform's imitation.
type pollingCase struct {
	name string
	// id is the i-th watched thread's id.
	id func(i int) string
	// serve returns the imitation watching ids and the path of its
	// listing calls.
	serve func(ids []string) (http.Handler, string)
	// source holds the section's keys (%[1]s is the imitation's URL), list
	// the key of its watched threads, item one entry of it (%[1]s the id),
	// responders the responders section (%[1]s the URL).
	source, list, item, responders string
}

var pollingCases = []pollingCase{
	{
		name: "douyin",
		id:   func(i int) string { return fmt.Sprint(7251524159191958000 + i) },
		serve: func([]string) (http.Handler, string) {
			return simulator.NewJustOneAPI(token), simulator.JustOneAPIPath
		},
		source: "{base_url: %[1]s, token: " + token + `, self_uids: ["1"]}`,
		list:   "threads", item: `{comment_id: "%[1]s"}`,
		responders: "kitkot: {base_url: %[1]s/api, api_key: " + apiKey + ", session_key: " + sessionKey + "}",
	},
	{
		name: "tiktok",
		id:   func(i int) string { return fmt.Sprint(7300000000000000100 + i) },
		serve: func(ids []string) (http.Handler, string) {
			kk := simulator.NewKitkot(apiKey, sessionKey)
			for _, id := range ids {
				kk.AddThread(id, "7300000000000000001")
			}
			return kk, "/api/video/comments/replies"
		},
		source: "{base_url: %[1]s/api, api_key: " + apiKey + `, self_uids: ["1"]}`,
		list:   "threads", item: `{comment_id: "%[1]s", aweme_id: "7300000000000000001"}`,
		responders: "kitkot: {base_url: %[1]s/api, api_key: " + apiKey + ", session_key: " + sessionKey + "}",
	},
	{
		name: "wechat",
		id:   func(i int) string { return fmt.Sprint(2247483000 + i) },
		serve: func(ids []string) (http.Handler, string) {
			wx := simulator.NewWeChat("wx0123456789abcdef", "wx-secret-polling")
			for _, id := range ids {
				wx.AddArticle(id, 0)
			}
			return wx, simulator.WeChatCommentListPath
		},
		source: "{base_url: %[1]s, app_id: wx0123456789abcdef, app_secret: wx-secret-polling}",
		list:   "articles", item: `{msg_data_id: "%[1]s", index: 0}`,
		responders: "wechat: {base_url: %[1]s, app_id: wx0123456789abcdef, app_secret: wx-secret-polling}",
	},
	{
		name: "weibo",
		id:   func(i int) string { return fmt.Sprint(4023227000 + i) },
		serve: func(ids []string) (http.Handler, string) {
			wb := simulator.NewWeibo("2.00polling")
			for _, id := range ids {
				wb.AddWeibo(id)
			}
			return wb, "/2/comments/show.json"
		},
		source: `{base_url: %[1]s, access_token: 2.00polling, self_uids: ["1"]}`,
		list:   "weibos", item: `{id: "%[1]s"}`,
		responders: "weibo: {api: v2, base_url: %[1]s, access_token: 2.00polling}",
	},
}

// config is c's sources and responders sections against base, with polling
// (flow-style keys, e.g. "rate: 1/h, burst: 3") in the source section.
func (c pollingCase) config(base, polling string, ids []string) string {
	src := strings.TrimSuffix(fmt.Sprintf(c.source, base), "}")
	if polling != "" {
		src += ", " + polling
	}
	items := make([]string, len(ids))
	for i, id := range ids {
		items[i] = fmt.Sprintf(c.item, id)
	}
	return fmt.Sprintf("sources:\n  %s: %s, %s: [%s]}\nresponders:\n  %s\n",
		c.name, src, c.list, strings.Join(items, ", "), fmt.Sprintf(c.responders, base))
}

// gate counts the listing calls reaching an imitation and how many were in
// flight at once; it holds the first hold calls until that many are in
// flight (or a few seconds have passed), so that polls meant to overlap do.
type gate struct {
	next http.Handler
	path string
	hold int

	mu       sync.Mutex
	calls    int
	inflight int
	peak     int
	full     chan struct{} // closed once hold calls are in flight
}

func (g *gate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != g.path {
		g.next.ServeHTTP(w, r)
		return
	}
	g.mu.Lock()
	g.calls++
	n := g.calls
	g.inflight++
	g.peak = max(g.peak, g.inflight)
	if g.inflight == g.hold && n <= g.hold {
		close(g.full) // once: only the first hold calls can get here
	}
	g.mu.Unlock()
	if n <= g.hold {
		select {
		case <-g.full:
		case <-time.After(5 * time.Second):
		}
	}
	g.next.ServeHTTP(w, r)
	g.mu.Lock()
	g.inflight--
	g.mu.Unlock()
}

func (g *gate) counts() (calls, peak int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.calls, g.peak
}

// pollingResult is what one cycle of pollingCycle did: the listing calls
// the imitation saw, the most in flight at once, the errors the cycle
// counted and what the daemon logged.
type pollingResult struct {
	calls, peak, errors int
	logs                string
}

// pollingCycle builds a daemon of c's source with n threads and the polling
// keys given (see config), lets its imitation hold the first hold listing
// calls (see gate), runs one cycle with ctx and returns what it did.
func pollingCycle(t *testing.T, ctx context.Context, c pollingCase, polling string, n, hold int) pollingResult {
	t.Helper()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = c.id(i)
	}
	h, path := c.serve(ids)
	g := &gate{next: h, path: path, hold: hold, full: make(chan struct{})}
	srv := httptest.NewServer(g)
	defer srv.Close()
	dir := t.TempDir()
	testutil.WriteFile(t, filepath.Join(dir, "rules.yaml"), rulesV1)
	cfgPath := filepath.Join(dir, "config.yaml")
	testutil.WriteFile(t, cfgPath, "database: autoreplyd.db\nrules: rules.yaml\nschedule: \"@every 1m\"\ntimezone: Asia/Shanghai\nlisten: \"\"\n"+
		c.config(srv.URL, polling, ids))
	logs := &syncbuf.Buffer{}
	d, err := New(t.Context(), load(t, cfgPath), Options{Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer testutil.Close(t, d)
	st := d.Cycle(ctx)
	calls, peak := g.counts()
	if st.Calls != calls {
		t.Errorf("the cycle counted %d calls, the imitation saw %d", st.Calls, calls)
	}
	return pollingResult{calls: calls, peak: peak, errors: st.Errors, logs: logs.String()}
}

// Every source section's concurrency, rate and burst reach its polls: the
// platform sees that many listing calls at once and never more, and no more
// calls than the rate allows.
func TestSourcePollingKeys(t *testing.T) {
	t.Parallel()
	const threads = 12
	for _, c := range pollingCases {
		t.Run(c.name, func(t *testing.T) {
			r := pollingCycle(t, t.Context(), c, "concurrency: 4, rate: 1000/s", threads, 4)
			if r.calls != threads || r.peak != 4 {
				t.Errorf("concurrency 4: %d calls, at most %d at once; want %d and 4", r.calls, r.peak, threads)
			}
			r = pollingCycle(t, t.Context(), c, "rate: 1000/s", threads, 1)
			if r.calls != threads || r.peak != 1 {
				t.Errorf("default concurrency: %d calls, at most %d at once; want %d and 1", r.calls, r.peak, threads)
			}
			// A burst of 3 and then one call an hour: the cycle (given a
			// minute) makes 3 calls, and the waits it cannot finish end at
			// once, without a call.
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			r = pollingCycle(t, ctx, c, "rate: 1/h, burst: 3, concurrency: 2", threads, 0)
			if r.calls != 3 {
				t.Errorf("rate 1/h, burst 3: %d calls, want 3", r.calls)
			}
			// The polls the cycle's end left unmade are no failure: no
			// error counted, no warning.
			if r.errors != 0 || strings.Contains(r.logs, "poll failed") {
				t.Errorf("rate 1/h, burst 3: %d errors counted; logs:\n%s", r.errors, r.logs)
			}
		})
	}
}
