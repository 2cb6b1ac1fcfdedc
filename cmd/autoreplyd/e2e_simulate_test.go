package main

// End-to-end test of `autoreplyd simulate`: the built binary serves the
// imitations; the commands it prints (check, run --once, history, stats),
// run as printed, work against them.

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/autoreplyd/autoreplyd/internal/syncbuf"
	"github.com/autoreplyd/autoreplyd/internal/testutil"
)

func TestEndToEndSimulate(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "sim")
	env := []string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH")}
	var out, errb syncbuf.Buffer
	sim := exec.Command(binary, "simulate", "--dir", dir, "--traffic", "10/s", "--seed", "3")
	sim.Env, sim.Stdout, sim.Stderr = env, &out, &errb
	must(t, sim.Start())
	exited := make(chan error, 1)
	go func() { exited <- sim.Wait() }()
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = sim.Process.Kill()
			<-exited //nolint:errcheck // killed: its error only says so
		}
	})
	testutil.WaitFor(t, "simulate to serve", func() bool { return strings.Contains(out.String(), "Ctrl-C stops the simulator.") })
	head := out.String()
	base := regexp.MustCompile(`WeChat and Weibo on (http://127\.0\.0\.1:\d+)\n`).FindStringSubmatch(head)
	if base == nil {
		t.Fatalf("no address:\n%s", head)
	}
	// The commands as printed, naming this binary and the config.
	printed := map[string][]string{}
	for _, cmd := range []string{"check", "run --once", "history", "stats"} {
		m := regexp.MustCompile(`(?m)^  (` + regexp.QuoteMeta(binary) + " " + cmd + ` --config \S+)$`).FindStringSubmatch(head)
		if m == nil {
			t.Fatalf("no %q command naming %s:\n%s", cmd, binary, head)
		}
		printed[cmd] = strings.Fields(m[1])
		if last := printed[cmd][len(printed[cmd])-1]; last != filepath.Join(dir, "config.yaml") {
			t.Fatalf("%s names config %s", cmd, last)
		}
	}
	run := func(cmd string, extra ...string) (string, string) {
		t.Helper()
		args := append(printed[cmd][1:], extra...)
		c := exec.Command(binary, args...)
		c.Env = env
		var o, e bytes.Buffer
		c.Stdout, c.Stderr = &o, &e
		if err := c.Run(); err != nil {
			t.Fatalf("%s: %v\n%s%s", cmd, err, o.String(), e.String())
		}
		return o.String(), e.String()
	}
	if o, e := run("check"); !strings.Contains(o, "OK (4 source(s), 9 thread(s), 1 video(s), 3 responder(s)") || e != "" {
		t.Fatalf("check:\n%s%s", o, e)
	}
	// The first run records what the threads already hold: the backlog.
	if _, e := run("run --once"); !regexp.MustCompile(`msg="cycle done" .* new=(1[89]|[2-9]\d|\d{3,}) .* errors=0`).MatchString(e) {
		t.Fatalf("first run:\n%s", e)
	}
	const text = "手写的评论：这个多少钱？"
	for _, p := range []string{"douyin", "tiktok", "wechat", "weibo"} {
		resp, err := http.PostForm(base[1]+"/sim/comments", url.Values{"platform": {p}, "text": {text}})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("%s comment: %d %s", p, resp.StatusCode, b)
		}
	}
	if _, e := run("run --once"); !strings.Contains(e, "errors=0") {
		t.Fatalf("second run:\n%s", e)
	}
	hist, _ := run("history", "--format", "json")
	sent := map[string]string{}
	for line := range strings.Lines(hist) {
		var row struct {
			Platform    string `json:"platform"`
			Status      string `json:"status"`
			CommentText string `json:"comment_text"`
			ReplyText   string `json:"reply_text"`
		}
		must(t, json.Unmarshal([]byte(line), &row))
		if row.CommentText == text && row.Status == "sent" {
			sent[row.Platform] = row.ReplyText
		}
	}
	if len(sent) != 4 {
		t.Fatalf("the comments written by hand, sent by platform: %v\n%s", sent, hist)
	}
	// Each answer reached its platform's imitation.
	for p, reply := range sent {
		if !regexp.MustCompile(p + ` +thread \S+  ← answer received: ".*` + regexp.QuoteMeta(strings.TrimSpace(reply)) + `"`).MatchString(out.String()) {
			t.Errorf("simulate did not receive the %s answer %q:\n%s", p, reply, out.String())
		}
	}
	if o, _ := run("stats"); !strings.Contains(o, "price") {
		t.Errorf("stats:\n%s", o)
	}

	// Ctrl-C: a clean stop.
	must(t, sim.Process.Signal(syscall.SIGINT))
	stopped = true
	if err := <-exited; err != nil {
		t.Fatalf("simulate: %v\n%s", err, errb.String())
	}
	if !strings.Contains(out.String(), "\nsimulator stopped; ") || errb.String() != "" {
		t.Errorf("simulate's end:\n%s\nstderr:\n%s", out.String(), errb.String())
	}
}
