package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/internal/syncbuf"
	"github.com/autoreplyd/autoreplyd/internal/testutil"
)

// simulation is a `simulate` command running in-process.
type simulation struct {
	out, errb syncbuf.Buffer
	stop      context.CancelFunc
	done      chan int
	base      string // the imitations' URL
}

// startSimulate runs simulate with args until the test stops it, and waits
// for it to serve.
func startSimulate(t *testing.T, environ []string, args ...string) *simulation {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	s := &simulation{stop: cancel, done: make(chan int, 1)}
	go func() {
		s.done <- Main(ctx, append([]string{"simulate"}, args...), Env{Stdout: &s.out, Stderr: &s.errb, Environ: environ})
	}()
	t.Cleanup(func() { s.end(t) })
	deadline := time.Now().Add(time.Minute) // bounds a hang only
	for !strings.Contains(s.out.String(), "Ctrl-C stops the simulator.") {
		select {
		case code := <-s.done:
			s.done <- code
			t.Fatalf("simulate exited %d:\n%s\n%s", code, s.out.String(), s.errb.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("simulate does not serve:\n%s\n%s", s.out.String(), s.errb.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	m := regexp.MustCompile(`WeChat and Weibo on (http://127\.0\.0\.1:\d+)\n`).FindStringSubmatch(s.out.String())
	if m == nil {
		t.Fatalf("no address in:\n%s", s.out.String())
	}
	s.base = m[1]
	return s
}

// end stops simulate (as Ctrl-C does) and requires a clean exit.
func (s *simulation) end(t *testing.T) {
	t.Helper()
	s.stop()
	if code := <-s.done; code != 0 {
		t.Errorf("simulate exited %d:\n%s", code, s.errb.String())
	}
	s.done <- 0
}

// comment posts a comment by hand to the imitations.
func (s *simulation) comment(t *testing.T, platform, text string) {
	t.Helper()
	s.commentIn(t, platform, "", text)
}

// commentIn adds a comment by hand to a thread (or video:aweme_id) of a platform.
func (s *simulation) commentIn(t *testing.T, platform, thread, text string) {
	t.Helper()
	// A fresh connection each time: a second simulate serves on the
	// address of the first, and a POST on a pooled connection to the one
	// that stopped fails with EOF (the transport does not resend a POST).
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.PostForm(s.base+"/sim/comments", url.Values{"platform": {platform}, "thread": {thread}, "text": {text}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if b, _ := io.ReadAll(resp.Body); resp.StatusCode != http.StatusCreated {
		t.Fatalf("add a %s comment: %d %s", platform, resp.StatusCode, b)
	}
}

// `simulate` serves all four platforms; `run --once`, `check`, `history`
// and `stats` work against the config it writes, and answers reach its
// imitations. An existing config and rules file are used, not overwritten,
// and a second simulate serves on the address the config names.
func TestSimulateRehearsesRun(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "sim dir") // a space: the printed commands quote it
	cfg := filepath.Join(dir, "config.yaml")
	rules := `rules:
  - name: price
    when: 'text contains "多少钱"'
    reply: '{{ platform }}：价格请看橱窗🛍️'
`
	testutil.WriteFile(t, filepath.Join(dir, "rules.yaml"), rules)
	environ := []string{"HOME=" + t.TempDir()}
	sim := startSimulate(t, environ, "--dir", dir, "--traffic", "0", "--seed", "1")
	out := sim.out.String()
	for _, want := range []string{
		"wrote " + cfg + ": all four platforms pointed at this simulator, made-up secrets in " + filepath.Join(dir, "credentials") + "/\n",
		"using the existing " + filepath.Join(dir, "rules.yaml") + " (not overwritten)\n",
		"watching 3 Douyin threads, 1 Douyin video, 2 TikTok threads, 2 WeChat articles, 2 weibos\n",
		"traffic: none (--traffic 0): only the comments you add\n",
		" run --once --config '" + cfg + "'\n",
		" check --config '" + cfg + "'\n",
		" history --config '" + cfg + "'\n",
		" stats --config '" + cfg + "'\n",
		sim.base + "/sim/comments\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("simulate's output lacks %q:\n%s", want, out)
		}
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "rules.yaml")); string(got) != rules {
		t.Fatalf("rules.yaml overwritten:\n%s", got)
	}
	// Private files; secrets only in the credential files, one line each.
	fi, err := os.Stat(cfg)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("config.yaml: %v %v", fi, err)
	}
	data, _ := os.ReadFile(cfg)
	creds, _ := filepath.Glob(filepath.Join(dir, "credentials", "*"))
	if len(creds) != 5 {
		t.Fatalf("credentials: %v", creds)
	}
	for _, c := range creds {
		fi, err := os.Stat(c)
		secret, _ := os.ReadFile(c)
		if err != nil || fi.Mode().Perm() != 0o600 || strings.Count(string(secret), "\n") != 1 {
			t.Errorf("%s: %v %v %q", c, fi, err, secret)
		}
		if bytes.Contains(data, bytes.TrimSpace(secret)) || strings.Contains(out, strings.TrimSpace(string(secret))) {
			t.Errorf("the secret of %s is in the config or the output", c)
		}
		if !bytes.Contains(data, []byte("_file: credentials/"+filepath.Base(c)+"\n")) {
			t.Errorf("the config does not refer to %s", c)
		}
	}

	if r := runCLI(t, environ, "check", "--config", cfg); r.code != 0 || r.stderr != "" {
		t.Fatalf("check: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// The first run sees every thread for the first time, empty.
	if r := runCLI(t, environ, "run", "--once", "--config", cfg); r.code != 0 || strings.Contains(r.stderr, "level=ERROR") || strings.Contains(r.stderr, "level=WARN") {
		t.Fatalf("run --once: %d\n%s", r.code, r.stderr)
	}
	platforms := []string{"douyin", "tiktok", "wechat", "weibo"}
	for _, p := range platforms {
		sim.comment(t, p, "这个多少钱？😍")
	}
	// And a new top-level comment under the watched video.
	sim.commentIn(t, "douyin", "video:7262080445271772416", "视频里这个多少钱？")
	if r := runCLI(t, environ, "run", "--once", "--config", cfg); r.code != 0 || !strings.Contains(r.stderr, " sent=5 ") {
		t.Fatalf("run --once: %d\n%s", r.code, r.stderr)
	}
	// The answers reached the imitations.
	for _, p := range platforms {
		if !regexp.MustCompile(p + ` +thread \S+  ← answer received: ".*` + p + `：价格请看橱窗🛍️"`).MatchString(sim.out.String()) {
			t.Errorf("no %s answer in simulate's output:\n%s", p, sim.out.String())
		}
	}
	r := runCLI(t, environ, "history", "--config", cfg, "--format", "json")
	if r.code != 0 {
		t.Fatalf("history: %d %s", r.code, r.stderr)
	}
	sent := map[string]bool{}
	for line := range strings.Lines(r.stdout) {
		var row struct {
			Platform, Status, Rule string
			Thread                 string `json:"thread_id"`
			Post                   string `json:"post_id"`
			Text                   string `json:"comment_text"`
			Comment                string `json:"comment_id"`
			ReplyText              string `json:"reply_text"`
			Labels                 map[string]string
		}
		if err := json.Unmarshal([]byte(line), &row); err != nil {
			t.Fatal(err)
		}
		if row.Status == "sent" && row.Rule == "price" && row.ReplyText == row.Platform+"：价格请看橱窗🛍️" {
			sent[row.Platform] = true
		}
		if row.Text == "视频里这个多少钱？" {
			// The top-level comment is its own thread, under the video,
			// labelled with the video's labels.
			sent["video"] = row.Status == "sent" && row.Thread == row.Comment && row.Post == "7262080445271772416" &&
				row.Labels["campaign"] == "summer"
			if !sent["video"] {
				t.Errorf("the video's comment: %s", line)
			}
		}
	}
	if len(sent) != 5 {
		t.Errorf("history: sent by platform %v:\n%s", sent, r.stdout)
	}
	if r := runCLI(t, environ, "stats", "--config", cfg); r.code != 0 || !strings.Contains(r.stdout, "price") {
		t.Errorf("stats: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	sim.end(t)
	if !strings.Contains(sim.out.String(), "\nsimulator stopped; ") {
		t.Errorf("no goodbye:\n%s", sim.out.String())
	}

	// Again: the config is used as it is, on the address it names, and a
	// new comment is answered (the kept database knows none of its ids).
	written, _ := os.ReadFile(cfg)
	again := startSimulate(t, environ, "--dir", dir, "--traffic", "0")
	if again.base != sim.base {
		t.Errorf("second simulate on %s, the config names %s", again.base, sim.base)
	}
	if !strings.Contains(again.out.String(), "using the existing "+cfg+" (not overwritten)") || strings.Contains(again.out.String(), "wrote ") {
		t.Errorf("second simulate:\n%s", again.out.String())
	}
	if now, _ := os.ReadFile(cfg); !bytes.Equal(now, written) {
		t.Errorf("config.yaml rewritten")
	}
	if s := again.errb.String(); s != "" {
		t.Errorf("second simulate warned:\n%s", s)
	}
	again.comment(t, "weibo", "多少钱")
	if r := runCLI(t, environ, "run", "--once", "--config", cfg); r.code != 0 || !strings.Contains(r.stderr, " sent=1 ") {
		t.Fatalf("run --once against the second simulate: %d\n%s", r.code, r.stderr)
	}
}

// A config pointed elsewhere is served as it is, with a warning naming
// each base_url that run would call instead; bad flags are refused.
func TestSimulateWarnsAndRefuses(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	testutil.WriteFile(t, filepath.Join(dir, "rules.yaml"), goodRules)
	cfg := configYAML(filepath.Join(dir, "a.db"), filepath.Join(dir, "rules.yaml"), "")
	if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	sim := startSimulate(t, nil, "--dir", dir, "--traffic", "0")
	for _, want := range []string{
		"autoreplyd simulate: warning: sources.douyin.base_url in " + filepath.Join(dir, "config.yaml") + " is ",
		"autoreplyd simulate: warning: responders.kitkot.base_url in ",
		"not this simulator's " + sim.base + "/kitkot/api: run would call that\n",
	} {
		if !strings.Contains(sim.errb.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, sim.errb.String())
		}
	}
	sim.end(t)

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--traffic", "fast"}, `autoreplyd: --traffic: "fast": want N/s, N/m or N/h, e.g. 20/m, or 0 for only the comments you add`},
		{[]string{"--traffic", "1000/s"}, `autoreplyd: --traffic: "1000/s": at most 100/s`},
		{[]string{"--listen", "256.0.0.1:0"}, "autoreplyd: --listen: "},
	} {
		r := runCLI(t, nil, append([]string{"simulate", "--dir", t.TempDir()}, tc.args...)...)
		if r.code != 1 || !strings.HasPrefix(r.stderr, tc.want) {
			t.Errorf("%v: exit %d\n%s, want %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
}
