package main

// End-to-end tests of the WeChat Official Account platform: the binary
// polls the loopback WeChat imitation's comment lists and answers through
// its reply/add, sharing one access token between source and responder.

import (
	"bytes"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/internal/testutil"
	"github.com/autoreplyd/autoreplyd/simulator"
)

const (
	wxAppID     = "wx0123456789abcdef"
	wxSecret    = "wx-APPSECRET-e2e-6c0d93f1"
	wxMsgDataID = "2247483647"
)

const wxRules = `rules:
  - name: spam
    when: 'containsAny(text, ["加微信", "vx"])'
  - name: price
    when: 'platform == "wechat" && text matches "多少钱|价格"'
    reply: '您好🌸 价格请看 <a href="https://example.com/price?a=1&b=2">价目表</a>'
  - name: thanks
    when: 'text contains "好看"'
    reply: '谢谢支持！{{ labels.栏目 }}😊'
`

// wxWorld is one WeChat test's imitation, config and working directory.
type wxWorld struct {
	*world
	wx *simulator.WeChat
}

func newWxWorld(t *testing.T, schedule, tokenAPI string) *wxWorld {
	t.Helper()
	w := &wxWorld{world: &world{t: t, dir: t.TempDir()}}
	w.wx = simulator.NewWeChat(wxAppID, wxSecret)
	w.wx.AddArticle(wxMsgDataID, 0)
	w.wx.AddArticle(wxMsgDataID, 1)
	w.srv = httptest.NewServer(w.wx)
	t.Cleanup(w.srv.Close)

	w.creds = filepath.Join(w.dir, "creds")
	must(t, os.MkdirAll(w.creds, 0o700))
	must(t, os.WriteFile(filepath.Join(w.creds, "wechat-app-secret"), []byte(wxSecret+"\n"), 0o600))
	must(t, os.WriteFile(filepath.Join(w.dir, "rules.yaml"), []byte(wxRules), 0o644))
	w.cfg = filepath.Join(w.dir, "config.yaml")
	cfg := fmt.Sprintf(`database: state/autoreplyd.db
rules: rules.yaml
schedule: %q
timezone: Asia/Shanghai
listen: ""
log: {level: debug, format: json}
send_jitter: 0s
sources:
  wechat:
    base_url: %s
    app_id: %s
    app_secret_file: wechat-app-secret
    token_api: %s
    responder: wechat
    backlog: skip
    timeout: 5s
    articles:
      - {msg_data_id: %q, index: 0, labels: {栏目: 周报}}
      - {msg_data_id: %q, index: 1, labels: {栏目: 活动}}
responders:
  wechat:
    base_url: %s
    app_id: %s
    app_secret_file: wechat-app-secret
    token_api: %s
    timeout: 3s
    rate: 100/s
    burst: 10
`, schedule, w.srv.URL, wxAppID, tokenAPI, wxMsgDataID, wxMsgDataID, w.srv.URL, wxAppID, tokenAPI)
	must(t, os.MkdirAll(filepath.Join(w.dir, "state"), 0o755))
	must(t, os.WriteFile(w.cfg, []byte(cfg), 0o644))
	t.Cleanup(w.assertNoWxSecrets)
	return w
}

// assertNoWxSecrets checks the outputs and the database for the app secret
// and every access token the imitation handed out.
func (w *wxWorld) assertNoWxSecrets() {
	w.mu.Lock()
	defer w.mu.Unlock()
	secrets := []string{wxSecret, "WXTOK_"}
	for _, out := range w.outputs {
		for _, s := range secrets {
			if strings.Contains(out, s) {
				w.t.Errorf("a secret (%s...) appeared in the output:\n%s", s[:6], out)
			}
		}
	}
	files, _ := filepath.Glob(filepath.Join(w.dir, "state", "*"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, s := range secrets {
			if bytes.Contains(data, []byte(s)) {
				w.t.Errorf("a secret is stored in %s", f)
			}
		}
	}
}

func (w *wxWorld) add(index int, text, openid string) string {
	id := w.wx.AddComment(wxMsgDataID, index, simulator.WeChatComment{Content: text, OpenID: openid})
	return fmt.Sprintf("%s:%d:%d", wxMsgDataID, index, id)
}

func wxPostsByText(wx *simulator.WeChat) map[string]int {
	m := map[string]int{}
	for _, p := range wx.Posts() {
		m[p.Content]++
	}
	return m
}

func wxCount(calls []simulator.WeChatCall, path string) int {
	n := 0
	for _, c := range calls {
		if c.Path == path {
			n++
		}
	}
	return n
}

const (
	wxPriceReply = `您好🌸 价格请看 <a href="https://example.com/price?a=1&b=2">价目表</a>`
	wxThanks0    = "谢谢支持！周报😊"
	wxThanks1    = "谢谢支持！活动😊"
)

func TestEndToEndWeChatAnswersOnce(t *testing.T) {
	t.Parallel()
	for _, api := range []string{"stable", "legacy"} {
		t.Run(api, func(t *testing.T) {
			t.Parallel()
			w := newWxWorld(t, "@every 1h", api)
			// The backlog, one comment already answered in the WeChat backend.
			w.add(0, "这个多少钱？", "oOld1")
			w.wx.AddComment(wxMsgDataID, 1, simulator.WeChatComment{Content: "好看", Reply: &simulator.WeChatReply{Content: "谢谢", CreateTime: time.Now().Unix()}})
			w.once()
			if n := len(w.wx.Posts()); n != 0 {
				t.Fatalf("backlog answered: %d", n)
			}

			price := w.add(0, "请问价格多少钱[呲牙]", "") // no openid
			w.add(0, "今天天气不错", "oP2")
			spam := w.add(1, "加微信 vx123", "oP3")
			thanks := w.add(1, "真好看😍", "oP4")
			w.once()
			byText := wxPostsByText(w.wx)
			if len(w.wx.Posts()) != 2 || byText[wxPriceReply] != 1 || byText[wxThanks1] != 1 {
				t.Fatalf("posts: %+v", w.wx.Posts())
			}
			for _, p := range w.wx.Posts() {
				if got := fmt.Sprintf("%s:%d:%d", p.MsgDataID, p.Index, p.UserCommentID); got != price && got != thanks {
					t.Errorf("reply to %s", got)
				}
			}
			// Answered comments now carry a reply; nothing more is sent.
			w.once()
			w.once()
			if n := len(w.wx.Posts()); n != 2 {
				t.Fatalf("answered again: %d posts", n)
			}
			// One token for the whole process, shared by source and responder.
			w.wx.ResetCalls()
			w.once()
			calls := w.wx.Calls()
			if n := wxCount(calls, simulator.WeChatStableTokenPath) + wxCount(calls, simulator.WeChatTokenPath); n != 1 {
				t.Fatalf("%d token requests in one cycle: %+v", n, calls)
			}

			rows := w.history()
			status := map[string]string{}
			for _, r := range rows {
				status[r.CommentID] = r.Status + "/" + r.Rule
				if r.Platform != "wechat" {
					t.Errorf("row %+v", r)
				}
				if r.CommentID == price && (r.ReplyText != wxPriceReply || r.Responder != "wechat" || r.ThreadID != wxMsgDataID+":0") {
					t.Errorf("price row %+v", r)
				}
			}
			if len(rows) != 3 || status[price] != "sent/price" || status[thanks] != "sent/thanks" || status[spam] != "skipped/spam" {
				t.Fatalf("history: %v", status)
			}
		})
	}
}

func TestEndToEndWeChatDryRunSendsNothing(t *testing.T) {
	t.Parallel()
	w := newWxWorld(t, "@every 1h", "stable")
	w.once()
	id := w.add(0, "多少钱", "oD1")
	w.once("--dry-run")
	if n := wxCount(w.wx.Calls(), simulator.WeChatReplyPath); n != 0 {
		t.Fatalf("dry run sent %d replies", n)
	}
	rows := w.history()
	if len(rows) != 1 || rows[0].CommentID != id || rows[0].Status != "dry_run" || rows[0].ReplyText != wxPriceReply {
		t.Fatalf("dry-run history: %+v", rows)
	}
	w.once()
	if n := wxCount(w.wx.Calls(), simulator.WeChatReplyPath); n != 0 {
		t.Fatalf("a dry-run answer was sent later: %d", n)
	}
}

// The imitation expires the token between two cycles of a running daemon:
// the next cycle's first call is refused (42001), the token is refreshed
// once, and the daemon carries on answering.
func TestEndToEndWeChatSurvivesTokenExpiry(t *testing.T) {
	t.Parallel()
	w := newWxWorld(t, "@every 1s", "stable")
	w.once()
	d := w.start()
	w.add(0, "多少钱", "oE1")
	testutil.WaitFor(t, "the first answer", func() bool { return len(w.wx.Posts()) == 1 })
	w.wx.ExpireTokens()
	w.wx.ResetCalls()
	w.add(1, "好看", "oE2")
	testutil.WaitFor(t, "the answer after the expiry", func() bool { return wxPostsByText(w.wx)[wxThanks1] == 1 })
	calls := w.wx.Calls()
	expired, forced := 0, 0
	for _, c := range calls {
		if c.ErrCode == 42001 {
			expired++
		}
		if c.Path == simulator.WeChatStableTokenPath && c.Force {
			forced++
		}
	}
	if expired != 1 || forced != 1 {
		t.Fatalf("expired %d, forced refreshes %d: %+v", expired, forced, calls)
	}
	if n := len(w.wx.Posts()); n != 2 {
		t.Fatalf("%d posts", n)
	}
	select {
	case <-d.done:
		t.Fatalf("the daemon exited:\n%s", d.log())
	default:
	}
}

// A server IP missing from the whitelist stops the source loudly; the
// message says what to do and holds no secret.
func TestEndToEndWeChatIPNotWhitelisted(t *testing.T) {
	t.Parallel()
	w := newWxWorld(t, "@every 1h", "legacy")
	w.wx.TokenFaults.Push(simulator.Fault{Kind: simulator.FaultCode, Code: 40164, Msg: "invalid ip 10.0.0.7 ipv6 ::ffff:10.0.0.7, not in whitelist"})
	stderr := w.once()
	if !strings.Contains(stderr, "SOURCE STOPPED") || !strings.Contains(stderr, "40164") || !strings.Contains(stderr, "whitelist") {
		t.Fatalf("40164 was not reported loudly:\n%s", stderr)
	}
	out, _, _ := w.run("check", "--config", w.cfg)
	if strings.Contains(out, "self_uids") {
		t.Errorf("check warns about self_uids for wechat:\n%s", out)
	}
}
