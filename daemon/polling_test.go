package daemon

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/simulator"
)

// pollingCase is one source section, configured from the YAML its section
// function writes, against its platform's imitation.
type pollingCase struct {
	name string
	// serve returns the imitation with n watched threads and the path of
	// its listing calls.
	serve func(n int) (http.Handler, string)
	// config is the sources and responders sections for base, with the
	// source's polling keys (rate, burst, concurrency) in polling and the
	// n watched threads.
	config func(base, polling string, n int) string
}

var pollingCases = []pollingCase{
	{
		name: "douyin",
		serve: func(int) (http.Handler, string) {
			return simulator.NewJustOneAPI(token), simulator.JustOneAPIPath
		},
		config: func(base, polling string, n int) string {
			var ths strings.Builder
			for i := range n {
				fmt.Fprintf(&ths, "      - {comment_id: \"%d\"}\n", 7251524159191958000+i)
			}
			return fmt.Sprintf("sources:\n  douyin:\n    base_url: %s\n    token: %s\n    self_uids: [\"1\"]\n%s    threads:\n%s"+
				"responders:\n  kitkot: {base_url: %s/api, api_key: %s, session_key: %s}\n", base, token, polling, ths.String(), base, apiKey, sessionKey)
		},
	},
	{
		name: "tiktok",
		serve: func(n int) (http.Handler, string) {
			kk := simulator.NewKitkot(apiKey, sessionKey)
			for i := range n {
				kk.AddThread(fmt.Sprint(7300000000000000100+i), "7300000000000000001")
			}
			return kk, "/api/video/comments/replies"
		},
		config: func(base, polling string, n int) string {
			var ths strings.Builder
			for i := range n {
				fmt.Fprintf(&ths, "      - {comment_id: \"%d\", aweme_id: \"7300000000000000001\"}\n", 7300000000000000100+i)
			}
			return fmt.Sprintf("sources:\n  tiktok:\n    base_url: %s/api\n    api_key: %s\n    responder: kitkot\n    self_uids: [\"1\"]\n%s    threads:\n%s"+
				"responders:\n  kitkot: {base_url: %s/api, api_key: %s, session_key: %s}\n", base, apiKey, polling, ths.String(), base, apiKey, sessionKey)
		},
	},
	{
		name: "wechat",
		serve: func(n int) (http.Handler, string) {
			wx := simulator.NewWeChat("wx0123456789abcdef", "wx-secret-polling")
			for i := range n {
				wx.AddArticle(fmt.Sprint(2247483000+i), 0)
			}
			return wx, simulator.WeChatCommentListPath
		},
		config: func(base, polling string, n int) string {
			var as strings.Builder
			for i := range n {
				fmt.Fprintf(&as, "      - {msg_data_id: \"%d\", index: 0}\n", 2247483000+i)
			}
			wx := fmt.Sprintf("base_url: %s, app_id: wx0123456789abcdef, app_secret: wx-secret-polling", base)
			return fmt.Sprintf("sources:\n  wechat:\n    %s\n%s    articles:\n%sresponders:\n  wechat: {%s}\n",
				strings.ReplaceAll(wx, ", ", "\n    "), polling, as.String(), wx)
		},
	},
	{
		name: "weibo",
		serve: func(n int) (http.Handler, string) {
			wb := simulator.NewWeibo("2.00polling")
			for i := range n {
				wb.AddWeibo(fmt.Sprint(4023227000 + i))
			}
			return wb, "/2/comments/show.json"
		},
		config: func(base, polling string, n int) string {
			var ws strings.Builder
			for i := range n {
				fmt.Fprintf(&ws, "      - {id: \"%d\"}\n", 4023227000+i)
			}
			return fmt.Sprintf("sources:\n  weibo:\n    base_url: %s\n    access_token: 2.00polling\n    self_uids: [\"1\"]\n%s    weibos:\n%s"+
				"responders:\n  weibo: {api: v2, base_url: %s, access_token: 2.00polling}\n", base, polling, ws.String(), base)
		},
	},
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

// pollingCycle builds a daemon of c's source with polling keys and n threads
// and runs one cycle with ctx; it returns the imitation's counts.
func pollingCycle(t *testing.T, ctx context.Context, c pollingCase, polling string, n, hold int) (calls, peak int) {
	t.Helper()
	h, path := c.serve(n)
	g := &gate{next: h, path: path, hold: hold, full: make(chan struct{})}
	srv := httptest.NewServer(g)
	defer srv.Close()
	dir := t.TempDir()
	write(t, filepath.Join(dir, "rules.yaml"), rulesV1)
	cfgPath := filepath.Join(dir, "config.yaml")
	write(t, cfgPath, "database: autoreplyd.db\nrules: rules.yaml\nschedule: \"@every 1m\"\ntimezone: Asia/Shanghai\nlisten: \"\"\n"+
		c.config(srv.URL, polling, n))
	d, err := New(t.Context(), load(t, cfgPath), Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	st := d.Cycle(ctx)
	calls, peak = g.counts()
	if st.Calls != calls {
		t.Errorf("the cycle counted %d calls, the imitation saw %d", st.Calls, calls)
	}
	return calls, peak
}

// Every source section's concurrency, rate and burst reach its polls: the
// platform sees that many listing calls at once and never more, and no more
// calls than the rate allows.
func TestSourcePollingKeys(t *testing.T) {
	const threads = 12
	for _, c := range pollingCases {
		t.Run(c.name, func(t *testing.T) {
			calls, peak := pollingCycle(t, t.Context(), c, "    concurrency: 4\n    rate: 1000/s\n", threads, 4)
			if calls != threads || peak != 4 {
				t.Errorf("concurrency 4: %d calls, at most %d at once; want %d and 4", calls, peak, threads)
			}
			calls, peak = pollingCycle(t, t.Context(), c, "    rate: 1000/s\n", threads, 1)
			if calls != threads || peak != 1 {
				t.Errorf("default concurrency: %d calls, at most %d at once; want %d and 1", calls, peak, threads)
			}
			// A burst of 3 and then one call an hour: the cycle (given a
			// minute) makes 3 calls, and the waits it cannot finish end at
			// once, without a call.
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			calls, _ = pollingCycle(t, ctx, c, "    rate: 1/h\n    burst: 3\n    concurrency: 2\n", threads, 0)
			if calls != 3 {
				t.Errorf("rate 1/h, burst 3: %d calls, want 3", calls)
			}
		})
	}
}
