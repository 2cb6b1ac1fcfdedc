package main

// End-to-end tests: they build the autoreplyd binary and run it against the
// loopback imitations of JustOneAPI and kitkot, then assert what reached the
// imitations, what the database holds (through `autoreplyd history`) and what
// the commands printed.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/internal/pgtest"

	"github.com/autoreplyd/autoreplyd/internal/testutil"
	"github.com/autoreplyd/autoreplyd/simulator"
)

var binary string

// e2eParallel is how many of these tests run at once unless -parallel says
// otherwise. They spend their time waiting for the binary, its schedule and
// the imitations' delays, not computing, so more of them than the machine
// has cores (go test's default) can wait together.
const e2eParallel = 8

func TestMain(m *testing.M) {
	flag.Parse()
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "test.parallel" })
	if !explicit {
		if err := flag.Set("test.parallel", strconv.Itoa(max(e2eParallel, runtime.GOMAXPROCS(0)))); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	dir, err := os.MkdirTemp("", "autoreplyd-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "autoreplyd")
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := pgtest.Main(m)
	if err := os.RemoveAll(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	os.Exit(code)
}

// Distinctive secrets: no output may ever contain them.
const (
	tokenSecret   = "jo-TOKEN-e2e-5b7c19d3"
	apiKeySecret  = "kk-APIKEY-e2e-0f3a8e21"
	sessionSecret = "kk-SESSION-e2e-9d2c4b77"
)

const (
	threadA = "7251524159191958327"
	threadB = "7251524159191958400"
	aweme   = "7251517975340027197"
	selfUID = "99000000000000001"
)

const e2eRules = `rules:
  - name: spam
    when: 'containsAny(text, ["加微信", "vx"])'
  - name: price
    when: 'text matches "多少钱|价格|how much"'
    reply: '{{ user.nickname }} 你好，价格请看橱窗[比心]'
  - name: thanks
    when: 'text contains "好看"'
    reply: '谢谢{{ user.nickname }}！'
`

// world is one test's imitations, config and working directory.
type world struct {
	t     *testing.T
	dir   string
	cfg   string
	creds string
	jo    *simulator.JustOneAPI
	kk    *simulator.Kitkot
	srv   *httptest.Server
	// outputs collects everything the binary printed, for the secret check.
	mu      sync.Mutex
	outputs []string
}

// newWorld sets up the imitations and a config. With botIsSelf the kitkot
// account's uid is listed in self_uids (as an operator would); without it only
// the ids of the replies we posted keep us from answering ourselves.
func newWorld(t *testing.T, schedule string, botIsSelf bool) *world {
	t.Helper()
	w := &world{t: t, dir: t.TempDir()}
	w.jo = simulator.NewJustOneAPI(tokenSecret)
	w.kk = simulator.NewKitkot(apiKeySecret, sessionSecret)
	selfUIDs := fmt.Sprintf("%q", selfUID)
	if botIsSelf {
		selfUIDs += fmt.Sprintf(", %q", w.kk.BotUID)
	}
	w.kk.OnPost = func(p simulator.Post) {
		// Our answer shows up in the thread, as on Douyin.
		w.jo.AddReply(p.ReplyID, simulator.Reply{CID: p.CID, AwemeID: p.AwemeID, Text: p.Text,
			UserUID: w.kk.BotUID, Nickname: w.kk.BotNickname, CreateTime: p.At.Unix(), ReplyToReplyID: "0"})
	}
	mux := http.NewServeMux()
	mux.Handle("/api/douyin/", w.jo)
	mux.Handle("/api/video/", w.kk)
	w.srv = httptest.NewServer(mux)
	t.Cleanup(w.srv.Close)

	// Secrets arrive as files from a systemd-style credentials directory.
	w.creds = filepath.Join(w.dir, "creds")
	must(t, os.MkdirAll(w.creds, 0o700))
	must(t, os.WriteFile(filepath.Join(w.creds, "token"), []byte(tokenSecret+"\n"), 0o600))
	must(t, os.WriteFile(filepath.Join(w.creds, "api_key"), []byte(apiKeySecret), 0o600))
	must(t, os.WriteFile(filepath.Join(w.creds, "session_key"), []byte(sessionSecret), 0o600))
	must(t, os.WriteFile(filepath.Join(w.dir, "rules.yaml"), []byte(e2eRules), 0o644))
	w.cfg = filepath.Join(w.dir, "config.yaml")
	// No random pause before each send (send_jitter, up to 3 s by default):
	// it would make these tests wait seconds for every answer. The crash
	// test puts it back.
	cfg := fmt.Sprintf(`database: state/autoreplyd.db
rules: rules.yaml
schedule: %q
timezone: Asia/Shanghai
listen: ""
log: {level: debug, format: json}
send_jitter: 0s
sources:
  douyin:
    base_url: %s
    token_file: token
    responder: kitkot
    self_uids: [%s]
    backlog: skip
    timeout: 5s
    threads:
      - comment_id: %q
        aweme_id: %q
        labels: {campaign: spring}
      - comment_id: %q
        aweme_id: %q
responders:
  kitkot:
    base_url: %s/api
    api_key_file: api_key
    session_key_file: session_key
    timeout: 3s
    rate: 100/s
    burst: 10
`, schedule, w.srv.URL, selfUIDs, threadA, aweme, threadB, aweme, w.srv.URL)
	must(t, os.MkdirAll(filepath.Join(w.dir, "state"), 0o755))
	must(t, os.WriteFile(w.cfg, []byte(cfg), 0o644))
	t.Cleanup(w.assertNoSecrets)
	return w
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (w *world) environ() []string {
	env := []string{"CREDENTIALS_DIRECTORY=" + w.creds, "HOME=" + w.dir, "PATH=" + os.Getenv("PATH")}
	return env
}

func (w *world) record(s string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.outputs = append(w.outputs, s)
}

// run runs the binary to completion.
func (w *world) run(args ...string) (stdout, stderr string, code int) {
	w.t.Helper()
	return w.runEnv(nil, args...)
}

// runEnv is run with extra environment variables.
func (w *world) runEnv(extra []string, args ...string) (stdout, stderr string, code int) {
	w.t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(w.environ(), extra...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	code = cmd.ProcessState.ExitCode()
	if err != nil && code < 0 {
		w.t.Fatalf("%v: %v", args, err)
	}
	w.record(o.String())
	w.record(e.String())
	return o.String(), e.String(), code
}

// once runs one cycle and requires success.
func (w *world) once(extra ...string) string {
	w.t.Helper()
	_, stderr, code := w.run(append([]string{"run", "--once", "--config", w.cfg}, extra...)...)
	if code != 0 {
		w.t.Fatalf("run --once exited %d:\n%s", code, stderr)
	}
	return stderr
}

type historyRow struct {
	Platform        string `json:"platform"`
	CommentID       string `json:"comment_id"`
	ThreadID        string `json:"thread_id"`
	Rule            string `json:"rule"`
	Responder       string `json:"responder"`
	Status          string `json:"status"`
	Reason          string `json:"reason"`
	ReplyText       string `json:"reply_text"`
	CommentText     string `json:"comment_text"`
	User            string `json:"user"`
	PlatformReplyID string `json:"platform_reply_id"`
	CreatedAt       string `json:"created_at"`
	UpdatedAt       string `json:"updated_at"`
}

func (w *world) history(args ...string) []historyRow {
	w.t.Helper()
	stdout, stderr, code := w.run(append([]string{"history", "--config", w.cfg, "--format", "json", "--limit", "0"}, args...)...)
	if code != 0 {
		w.t.Fatalf("history exited %d:\n%s", code, stderr)
	}
	var rows []historyRow
	sc := bufio.NewScanner(strings.NewReader(stdout))
	for sc.Scan() {
		var r historyRow
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			w.t.Fatalf("history line %q: %v", sc.Text(), err)
		}
		rows = append(rows, r)
	}
	return rows
}

func (w *world) assertNoSecrets() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, out := range w.outputs {
		for _, s := range []string{tokenSecret, apiKeySecret, sessionSecret} {
			if strings.Contains(out, s) {
				w.t.Errorf("a secret appeared in the output:\n%s", out)
			}
		}
	}
	// Nor in the database files (the WAL included).
	files, _ := filepath.Glob(filepath.Join(w.dir, "state", "*"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, s := range []string{tokenSecret, apiKeySecret, sessionSecret} {
			if bytes.Contains(data, []byte(s)) {
				w.t.Errorf("a secret is stored in %s", f)
			}
		}
	}
}

func (w *world) add(thread, text, nickname, uid string) string {
	return w.jo.AddReply(thread, simulator.Reply{AwemeID: aweme, Text: text, Nickname: nickname, UserUID: uid,
		CreateTime: time.Now().Unix(), ReplyToReplyID: "0"})
}

// postsByText counts kitkot's accepted posts by their text.
func postsByText(kk *simulator.Kitkot) map[string]int {
	m := map[string]int{}
	for _, p := range kk.Posts() {
		m[p.Text]++
	}
	return m
}

func TestEndToEndAnswersOnceAndRecords(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "@every 1h", false)
	// The backlog: already there before autoreplyd first looks.
	w.add(threadA, "这个多少钱？", "老用户", "1001")
	w.add(threadB, "好看！", "老粉丝", "1002")

	w.once()
	if n := len(w.kk.Posts()); n != 0 {
		t.Fatalf("backlog was answered: %d posts", n)
	}

	priceID := w.add(threadA, "请问这个多少钱[呲牙]", "史密斯夫妇💑", "2001")
	w.add(threadA, "今天天气不错", "路人甲", "2002")        // no rule matches
	w.add(threadB, "加微信 vx123 有惊喜", "广告号", "2003") // spam: skipped, not answered
	w.add(threadB, "这个多少钱", "我们自己", selfUID)       // our own account
	thanksID := w.add(threadB, "真好看😍", "小虎", "2004")

	w.once()
	posts := w.kk.Posts()
	if len(posts) != 2 {
		t.Fatalf("want 2 posts, got %d: %+v", len(posts), posts)
	}
	byText := postsByText(w.kk)
	wantPrice := "史密斯夫妇💑 你好，价格请看橱窗[比心]"
	if byText[wantPrice] != 1 || byText["谢谢小虎！"] != 1 {
		t.Fatalf("posted texts: %v", byText)
	}
	for _, p := range posts {
		if p.AwemeID != aweme {
			t.Errorf("post %q went to aweme %q", p.Text, p.AwemeID)
		}
		// A reply under a thread answers the thread's root comment.
		if p.Text == wantPrice && p.ReplyID != threadA {
			t.Errorf("price answer replied to %q, want root %s", p.ReplyID, threadA)
		}
	}

	// Our answers now show up in the threads; a third and fourth cycle
	// answer nothing more.
	w.once()
	// Unchanged threads cost one (billed) call each per cycle.
	w.jo.ResetCalls()
	w.once()
	calls := w.jo.Calls()
	if len(calls) != 2 {
		t.Fatalf("an idle cycle over 2 threads made %d calls: %+v", len(calls), calls)
	}
	for _, c := range calls {
		if !c.TokenOK || c.Page != 1 {
			t.Fatalf("idle call: %+v", c)
		}
	}
	if n := len(w.kk.Posts()); n != 2 {
		t.Fatalf("answers repeated or our own replies answered: %d posts", n)
	}

	rows := w.history()
	byComment := map[string][]historyRow{}
	for _, r := range rows {
		byComment[r.CommentID] = append(byComment[r.CommentID], r)
	}
	if len(rows) != 3 {
		t.Fatalf("want 3 history rows (2 sent, 1 skipped), got %d: %+v", len(rows), rows)
	}
	pr := byComment[priceID]
	if len(pr) != 1 || pr[0].Status != "sent" || pr[0].Rule != "price" || pr[0].ReplyText != wantPrice ||
		pr[0].CommentText != "请问这个多少钱[呲牙]" || pr[0].User != "史密斯夫妇💑" || pr[0].PlatformReplyID == "" ||
		pr[0].ThreadID != threadA || pr[0].Platform != "douyin" || pr[0].Responder != "kitkot" {
		t.Fatalf("price row: %+v", pr)
	}
	if th := byComment[thanksID]; len(th) != 1 || th[0].Status != "sent" {
		t.Fatalf("thanks row: %+v", th)
	}
	skipped := w.history("--status", "skipped")
	if len(skipped) != 1 || skipped[0].Rule != "spam" || skipped[0].Reason != "no_reply_rule" {
		t.Fatalf("skipped rows: %+v", skipped)
	}
	if got := w.history("--rule", "price", "--thread", threadA); len(got) != 1 {
		t.Fatalf("--rule/--thread filter: %+v", got)
	}
	if got := w.history("--thread", threadB, "--status", "sent"); len(got) != 1 || got[0].Rule != "thanks" {
		t.Fatalf("--thread/--status filter: %+v", got)
	}

	// The table and CSV formats show the same rows.
	table, _, code := w.run("history", "--config", w.cfg)
	if code != 0 || !strings.Contains(table, "史密斯夫妇💑") || !strings.Contains(table, "STATUS") {
		t.Fatalf("table output:\n%s", table)
	}
	csvOut, _, code := w.run("history", "--config", w.cfg, "--format", "csv", "--limit", "0")
	if code != 0 || strings.Count(strings.TrimSpace(csvOut), "\n") != 3 || !strings.HasPrefix(csvOut, "id,platform,comment_id") {
		t.Fatalf("csv output:\n%s", csvOut)
	}
}

func TestEndToEndDryRunSendsNothing(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "@every 1h", false)
	w.once() // first sight: empty threads
	id := w.add(threadA, "how much is it?", "Tom", "3001")
	w.once("--dry-run")
	if n := w.kk.Requests(); n != 0 {
		t.Fatalf("dry run reached kitkot %d times", n)
	}
	rows := w.history()
	if len(rows) != 1 || rows[0].CommentID != id || rows[0].Status != "dry_run" || rows[0].ReplyText != "Tom 你好，价格请看橱窗[比心]" {
		t.Fatalf("dry-run history: %+v", rows)
	}
	// A later real run does not send what the dry run recorded.
	w.once()
	if n := w.kk.Requests(); n != 0 {
		t.Fatalf("a comment handled in dry run was sent later: %d requests", n)
	}
}

// daemon is a running `autoreplyd run` process.
type daemon struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	stderr bytes.Buffer
	done   chan struct{}
}

func (d *daemon) Write(p []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.stderr.Write(p)
}

func (d *daemon) log() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.stderr.String()
}

func (w *world) start(args ...string) *daemon {
	w.t.Helper()
	return w.startEnv(nil, args...)
}

// startEnv is start with extra environment variables (later ones win).
func (w *world) startEnv(extra []string, args ...string) *daemon {
	w.t.Helper()
	d := &daemon{done: make(chan struct{})}
	d.cmd = exec.Command(binary, append([]string{"run", "--config", w.cfg}, args...)...)
	d.cmd.Env = append(w.environ(), extra...)
	d.cmd.Stderr = d
	must(w.t, d.cmd.Start())
	go func() { _ = d.cmd.Wait(); close(d.done) }()
	w.t.Cleanup(func() {
		_ = d.cmd.Process.Kill()
		<-d.done
		w.record(d.log())
	})
	return d
}

func TestEndToEndKill9NeverAnswersTwice(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "@every 1s", true)
	w.once() // first sight
	id := w.add(threadA, "多少钱呀", "阿强", "4001")
	// kitkot takes the reply, then hangs before answering: the daemon is
	// killed while the send is in flight.
	w.kk.Faults.Push(simulator.Fault{Kind: simulator.FaultSlowAfter, Delay: 20 * time.Second})
	d := w.start()
	testutil.WaitFor(t, "the reply to reach kitkot", func() bool { return len(w.kk.Posts()) == 1 })
	must(t, d.cmd.Process.Signal(syscall.SIGKILL))
	<-d.done

	// The restarted daemon sees the claim it never settled: unknown, never resent.
	stderr := w.once()
	if !strings.Contains(stderr, "marked unknown") {
		t.Errorf("restart did not report the unsettled claim:\n%s", stderr)
	}
	w.once()
	if n := len(w.kk.Posts()); n != 1 {
		t.Fatalf("answered %d times after kill -9", n)
	}
	// Our answer had reached kitkot and shows up in the thread: the claim,
	// unknown (crashed) at the restart, is reconciled as sent.
	rows := w.history()
	if len(rows) != 1 || rows[0].CommentID != id || rows[0].Status != "sent" || rows[0].Reason != "reconciled" {
		t.Fatalf("history after kill -9: %+v", rows)
	}
	// Our own answer showed up in the thread and was not answered either.
	if n := w.kk.Requests(); n != 1 {
		t.Fatalf("kitkot saw %d requests, want 1", n)
	}
}

func TestEndToEndSIGTERMLetsInFlightSendSettle(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "@every 1s", true)
	w.once()
	id := w.add(threadB, "真好看", "小美", "5001")
	w.kk.Faults.Push(simulator.Fault{Kind: simulator.FaultSlowAfter, Delay: 1500 * time.Millisecond})
	d := w.start()
	testutil.WaitFor(t, "the reply to reach kitkot", func() bool { return len(w.kk.Posts()) == 1 })
	must(t, d.cmd.Process.Signal(syscall.SIGTERM))
	<-d.done
	if code := d.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit code %d after SIGTERM:\n%s", code, d.log())
	}
	rows := w.history()
	if len(rows) != 1 || rows[0].CommentID != id || rows[0].Status != "sent" {
		t.Fatalf("in-flight send did not settle as sent: %+v\n%s", rows, d.log())
	}
}

func TestEndToEndSIGHUPReloadKeepsLastGoodRules(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "@every 1s", true)
	w.once()
	d := w.start()
	testutil.WaitFor(t, "a cycle", func() bool { return strings.Contains(d.log(), "cycle done") })

	rulesPath := filepath.Join(w.dir, "rules.yaml")
	broken := strings.Replace(e2eRules, `text contains "好看"`, `txt contains "好看"`, 1)
	must(t, os.WriteFile(rulesPath, []byte(broken), 0o644))
	must(t, d.cmd.Process.Signal(syscall.SIGHUP))
	testutil.WaitFor(t, "the reload to be refused", func() bool { return strings.Contains(d.log(), "reload refused") })
	if !strings.Contains(d.log(), "rules.yaml:8:") {
		t.Errorf("refusal does not name file:line:col:\n%s", d.log())
	}
	// The last good rules keep running.
	w.add(threadA, "好看", "阿花", "6001")
	testutil.WaitFor(t, "an answer by the old rules", func() bool { return postsByText(w.kk)["谢谢阿花！"] == 1 })

	// A good edit replaces them.
	fixed := strings.Replace(e2eRules, `'谢谢{{ user.nickname }}！'`, `'多谢 {{ user.nickname }}'`, 1)
	must(t, os.WriteFile(rulesPath, []byte(fixed), 0o644))
	must(t, d.cmd.Process.Signal(syscall.SIGHUP))
	testutil.WaitFor(t, "the reload", func() bool { return strings.Contains(d.log(), "rules reloaded") })
	w.add(threadA, "好看", "阿草", "6002")
	testutil.WaitFor(t, "an answer by the new rules", func() bool { return postsByText(w.kk)["多谢 阿草"] == 1 })

	// history and check work while the daemon runs.
	testutil.WaitFor(t, "history to show both answers", func() bool {
		n := 0
		for _, r := range w.history("--status", "sent") {
			if r.Rule == "thanks" {
				n++
			}
		}
		return n == 2
	})
	if stdout, stderr, code := w.run("check", "--config", w.cfg); code != 0 || !strings.Contains(stdout, "OK") {
		t.Fatalf("check while the daemon runs exited %d:\n%s%s", code, stdout, stderr)
	}
	select {
	case <-d.done:
		t.Fatalf("the daemon exited:\n%s", d.log())
	default:
	}
}

func TestCheckReportsPositions(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "@every 1m", true)
	stdout, stderr, code := w.run("check", "--config", w.cfg)
	if code != 0 || !strings.Contains(stdout, "OK") {
		t.Fatalf("check of a good config exited %d:\n%s%s", code, stdout, stderr)
	}
	rulesPath := filepath.Join(w.dir, "rules.yaml")
	must(t, os.WriteFile(rulesPath, []byte("rules:\n  - name: a\n    when: 'text contains 1'\n"), 0o644))
	_, stderr, code = w.run("check", "--config", w.cfg)
	if code != 1 || !strings.Contains(stderr, "rules.yaml:3:") {
		t.Fatalf("check of a broken rule exited %d:\n%s", code, stderr)
	}
	// A bad cron spec names its key.
	cfg, err := os.ReadFile(w.cfg)
	must(t, err)
	must(t, os.WriteFile(w.cfg, bytes.Replace(cfg, []byte(`schedule: "@every 1m"`), []byte(`schedule: "every minute"`), 1), 0o644))
	_, stderr, code = w.run("check", "--config", w.cfg)
	if code != 1 || !strings.Contains(stderr, "schedule") {
		t.Fatalf("check of a bad schedule exited %d:\n%s", code, stderr)
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "@every 1m", true)
	stdout, _, code := w.run("version")
	if code != 0 || !strings.HasPrefix(stdout, "autoreplyd ") {
		t.Fatalf("version: %d %q", code, stdout)
	}
}

// Every failure path, through the binary: the daemon records each outcome
// with its reason, and no secret reaches the logs, history or database.
func TestEndToEndFailuresRecordedWithoutSecrets(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "@every 1h", true)
	w.once()
	refused := w.add(threadA, "多少钱", "甲", "7001")
	busy := w.add(threadA, "价格?", "乙", "7002")
	dropped := w.add(threadA, "how much", "丙", "7003")
	w.kk.Faults.Push(
		simulator.Fault{Kind: simulator.FaultCode, Code: 400, Msg: "Failed to publish reply"},
		simulator.Fault{Kind: simulator.FaultHTTPStatus, Status: http.StatusServiceUnavailable},
		simulator.Fault{Kind: simulator.FaultDropAfter},
	)
	// Thread B's poll fails too (HTTP 502): its replies wait for the next cycle.
	laterB := w.add(threadB, "好看", "丁", "7004")
	w.jo.Faults.Push(
		simulator.Fault{Kind: simulator.FaultSlow, Delay: 0}, // thread A's poll goes through
		simulator.Fault{Kind: simulator.FaultHTTPStatus, Status: http.StatusBadGateway},
	)
	w.once()
	statuses := func() map[string]string {
		m := map[string]string{}
		for _, r := range w.history() {
			m[r.CommentID] = r.Status + "/" + r.Reason
		}
		return m
	}
	status := statuses()
	if status[refused] != "failed/platform_400" || status[busy] != "retrying/http_503" || status[dropped] != "unknown/dropped" {
		t.Fatalf("statuses: %v", status)
	}
	if _, ok := status[laterB]; ok {
		t.Fatalf("thread B's reply handled although its poll failed: %v", status)
	}
	w.once()
	if got := statuses()[laterB]; got != "sent/" {
		t.Fatalf("thread B's reply after the failed poll: %q", got)
	}

	// An invalid token stops the source, loudly, without printing it.
	w.jo.Faults.Push(simulator.Fault{Kind: simulator.FaultCode, Code: 100, Msg: "Invalid or Inactive Token"})
	stderr := w.once()
	if !strings.Contains(stderr, "SOURCE STOPPED") {
		t.Fatalf("code 100 was not reported loudly:\n%s", stderr)
	}
}
