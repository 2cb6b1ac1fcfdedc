package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/internal/testutil"
)

// listenOn rewrites the world's config to serve /metrics and the health
// endpoints on a free loopback port, and returns the base URL.
func (w *world) listenOn() string {
	w.t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(w.t, err)
	addr := ln.Addr().String()
	must(w.t, ln.Close())
	cfg, err := os.ReadFile(w.cfg)
	must(w.t, err)
	if !bytes.Contains(cfg, []byte(`listen: ""`)) {
		w.t.Fatalf("config has no listen line:\n%s", cfg)
	}
	must(w.t, os.WriteFile(w.cfg, bytes.Replace(cfg, []byte(`listen: ""`), []byte("listen: "+addr), 1), 0o644))
	return "http://" + addr
}

// scrape GETs base+path; code 0 means the request failed.
func (w *world) scrape(url string) (int, string) {
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	w.record(string(body))
	return resp.StatusCode, string(body)
}

func TestEndToEndMetrics(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "@every 1s", true)
	base := w.listenOn()
	w.once() // first sight: empty threads
	d := w.start()

	var body string
	testutil.WaitFor(t, "/metrics to answer", func() bool {
		code, b := w.scrape(base + "/metrics")
		body = b
		return code == http.StatusOK
	})
	// Every series exists at 0 from start.
	for _, s := range []string{"sent", "failed", "unknown", "retrying", "dry_run", "skipped"} {
		if !strings.Contains(body, fmt.Sprintf(`autoreplyd_replies_total{platform="douyin",responder="kitkot",status=%q} `, s)) {
			t.Errorf("no replies series for status %s at start:\n%s", s, body)
		}
	}

	w.add(threadA, "这个多少钱", "小明", "7001")
	testutil.WaitFor(t, "the reply to reach kitkot", func() bool { return len(w.kk.Posts()) == 1 })
	want := `autoreplyd_replies_total{platform="douyin",responder="kitkot",status="sent"} 1`
	testutil.WaitFor(t, "the metrics to count the answer", func() bool {
		_, body = w.scrape(base + "/metrics")
		return strings.Contains(body, want)
	})
	for _, s := range []string{
		`autoreplyd_build_info{goversion="go`,
		`autoreplyd_replies_total{platform="douyin",responder="kitkot",status="failed"} 0`,
		`autoreplyd_replies_total{platform="douyin",responder="kitkot",status="unknown"} 0`,
		`autoreplyd_replies_total{platform="douyin",responder="kitkot",status="retrying"} 0`,
		`autoreplyd_replies_total{platform="douyin",responder="kitkot",status="dry_run"} 0`,
		`autoreplyd_replies_total{platform="douyin",responder="kitkot",status="skipped"} 0`,
		`autoreplyd_rule_matches_total{rule="price"} 1`,
		`autoreplyd_rule_matches_total{rule="thanks"} 0`,
		`autoreplyd_reply_latency_seconds_count{platform="douyin"} 1`,
		`autoreplyd_comments_fetched_total{disposition="evaluated",platform="douyin"} 1`,
		`autoreplyd_paused{scope="responder:kitkot"} 0`,
		`autoreplyd_paused{scope="source:douyin"} 0`,
		"autoreplyd_rules_reload_success 1\n",
		"autoreplyd_rules_loaded 3\n",
		"autoreplyd_polls_total{platform=\"douyin\",source=\"douyin\"} ",
		"autoreplyd_api_calls_total{platform=\"douyin\",source=\"douyin\"} ",
		"process_start_time_seconds ",
	} {
		if !strings.Contains(body, s) {
			t.Errorf("/metrics lacks %q", s)
		}
	}
	for _, s := range []string{tokenSecret, apiKeySecret, sessionSecret, w.srv.URL} {
		if strings.Contains(body, s) {
			t.Errorf("/metrics contains %q", s)
		}
	}
	if code, b := w.scrape(base + "/-/healthy"); code != http.StatusOK {
		t.Errorf("/-/healthy: %d %q", code, b)
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s\nlog:\n%s", body, d.log())
	}
}
