package main

// End-to-end tests of the Weibo platform: the binary polls the loopback
// Weibo imitation's comments/show.json and answers through its v2
// comments/reply.json or v1 statuses/reply.json.

import (
	"bytes"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/autoreplyd/autoreplyd/simulator"
)

const (
	wbToken    = "2.00wbE2EaccessTOKENx7f3"
	wbAppKey   = "3955559999"
	wbUsername = "bot@example.com"
	wbPassword = "wb-PASSWORD-e2e-91b2"
	wbWeiboA   = "4023227965"
	wbWeiboB   = "5023227966"
)

const wbRules = `rules:
  - name: spam
    when: 'containsAny(text, ["加微信", "vx"])'
  - name: price
    when: 'platform == "weibo" && text matches "多少钱|价格"'
    reply: '您好，价格请看 https://example.com/price?a=1&b=2 谢谢'
  - name: long
    when: 'text contains "长篇"'
    reply: '{{ labels.pad }}'
  - name: thanks
    when: 'text contains "好看"'
    reply: '谢谢支持！{{ labels.topic }}😊'
`

// wbWorld is one Weibo test's imitation, config and working directory.
type wbWorld struct {
	*world
	wb *simulator.Weibo
}

func newWbWorld(t *testing.T, schedule, api string) *wbWorld {
	t.Helper()
	w := &wbWorld{world: &world{t: t, dir: t.TempDir()}}
	w.wb = simulator.NewWeibo(wbToken)
	w.wb.SetV1Account(wbAppKey, wbUsername, wbPassword)
	w.wb.AddWeibo(wbWeiboA)
	w.wb.AddWeibo(wbWeiboB)
	w.srv = httptest.NewServer(w.wb)
	t.Cleanup(w.srv.Close)

	w.creds = filepath.Join(w.dir, "creds")
	must(t, os.MkdirAll(w.creds, 0o700))
	must(t, os.WriteFile(filepath.Join(w.creds, "weibo-access-token"), []byte(wbToken+"\n"), 0o600))
	must(t, os.WriteFile(filepath.Join(w.creds, "weibo-password"), []byte(wbPassword+"\n"), 0o600))
	must(t, os.WriteFile(filepath.Join(w.dir, "rules.yaml"), []byte(wbRules), 0o644))
	w.cfg = filepath.Join(w.dir, "config.yaml")
	// 141 Chinese characters: too long even without the mention.
	pad := strings.Repeat("长", 141)
	cfg := fmt.Sprintf(`database: state/autoreplyd.db
rules: rules.yaml
schedule: %q
timezone: Asia/Shanghai
listen: ""
log: {level: debug, format: json}
send_jitter: 0s
sources:
  weibo:
    base_url: %s
    access_token_file: weibo-access-token
    responder: weibo
    self_uids: [%q]
    backlog: skip
    timeout: 5s
    weibos:
      - {id: %q, labels: {topic: 新品, pad: %s}}
      - {id: %q, labels: {topic: 活动, pad: %s}}
responders:
  weibo:
    api: %s
    base_url: %s
    access_token_file: weibo-access-token
    app_key: %q
    username: %q
    password_file: weibo-password
    timeout: 3s
    rate: 100/s
    burst: 10
`, schedule, w.srv.URL, w.wb.BotUID, wbWeiboA, pad, wbWeiboB, pad, api, w.srv.URL, wbAppKey, wbUsername)
	must(t, os.MkdirAll(filepath.Join(w.dir, "state"), 0o755))
	must(t, os.WriteFile(w.cfg, []byte(cfg), 0o644))
	t.Cleanup(w.assertNoWbSecrets)
	return w
}

// assertNoWbSecrets checks the outputs and the database for the token and
// the password.
func (w *wbWorld) assertNoWbSecrets() {
	w.mu.Lock()
	defer w.mu.Unlock()
	secrets := []string{wbToken, wbPassword}
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

func (w *wbWorld) add(weibo, text, uid, name string) string {
	return w.wb.AddComment(weibo, simulator.WeiboComment{UID: uid, ScreenName: name, Text: text})
}

func wbCount(calls []simulator.WeiboCall, path string) int {
	n := 0
	for _, c := range calls {
		if c.Path == path {
			n++
		}
	}
	return n
}

const (
	wbPriceReply = "您好，价格请看 https://example.com/price?a=1&b=2 谢谢"
	wbThanksA    = "谢谢支持！新品😊"
	wbThanksB    = "谢谢支持！活动😊"
)

func TestEndToEndWeiboAnswersOnce(t *testing.T) {
	t.Parallel()
	for _, api := range []string{"v2", "v1"} {
		t.Run(api, func(t *testing.T) {
			t.Parallel()
			w := newWbWorld(t, "@every 1h", api)
			replyPath := simulator.WeiboReplyV2Path
			if api == "v1" {
				replyPath = simulator.WeiboReplyV1Path
			}
			// The backlog.
			w.add(wbWeiboA, "这个多少钱？", "1001", "老粉")
			w.once()
			if n := len(w.wb.Posts()); n != 0 {
				t.Fatalf("backlog answered: %d", n)
			}

			price := w.add(wbWeiboA, "请问价格多少钱[doge]", "1002", "小新")
			w.add(wbWeiboA, "今天天气不错", "1003", "路人")
			spam := w.add(wbWeiboB, "加微信 vx123", "1004", "广告")
			thanks := w.add(wbWeiboB, "真好看😍", "1005", "zhangwei217245")
			long := w.add(wbWeiboB, "写个长篇吧", "1006", "长文")
			w.once()
			posts := w.wb.Posts()
			if len(posts) != 2 {
				t.Fatalf("posts: %+v", posts)
			}
			for _, p := range posts {
				if p.TopLevel || p.API != api {
					t.Errorf("post %+v", p)
				}
				switch p.CID {
				case price:
					if p.WeiboID != wbWeiboA || p.Comment != wbPriceReply || p.Text != "回复@小新:"+wbPriceReply {
						t.Errorf("price post %+v", p)
					}
				case thanks:
					if p.WeiboID != wbWeiboB || p.Comment != wbThanksB {
						t.Errorf("thanks post %+v", p)
					}
				default:
					t.Errorf("reply to %s: %+v", p.CID, p)
				}
			}
			// Ids above 2^53 travelled exactly.
			if n, err := strconv.ParseUint(price, 10, 64); err != nil || n <= simulator.WeiboFirstID {
				t.Errorf("price id %s", price)
			}
			// Our replies are now comments of the weibos, written by the
			// bot (self_uids): nothing more is sent.
			w.once()
			w.once()
			if n := len(w.wb.Posts()); n != 2 {
				t.Fatalf("answered again: %d posts", n)
			}
			// since_id: the later polls ask only for newer comments.
			w.wb.ResetCalls()
			w.once()
			for _, c := range w.wb.Calls() {
				if c.Path == simulator.WeiboShowPath && c.SinceID == "" {
					t.Errorf("a poll without since_id: %+v", c)
				}
			}
			if n := wbCount(w.wb.Calls(), replyPath); n != 0 {
				t.Errorf("%d sends", n)
			}

			rows := w.history()
			status := map[string]string{}
			for _, r := range rows {
				status[r.CommentID] = r.Status + "/" + r.Rule + "/" + r.Reason
				if r.Platform != "weibo" {
					t.Errorf("row %+v", r)
				}
				if r.CommentID == price && (r.ReplyText != wbPriceReply || r.Responder != "weibo" || r.ThreadID != wbWeiboA || r.PlatformReplyID == "") {
					t.Errorf("price row %+v", r)
				}
			}
			if len(rows) != 4 || status[price] != "sent/price/" || status[thanks] != "sent/thanks/" ||
				status[spam] != "skipped/spam/no_reply_rule" || status[long] != "failed/long/too_long" {
				t.Fatalf("history: %v", status)
			}
		})
	}
}

// Weibo refuses the same content twice in a row (20019): the second reply
// fails for good and is never retried.
func TestEndToEndWeiboRepeatedContentRefused(t *testing.T) {
	t.Parallel()
	w := newWbWorld(t, "@every 1h", "v2")
	w.once()
	a := w.add(wbWeiboA, "好看", "2001", "甲")
	w.once()
	w.wb.ReplyFaults.Push(simulator.Fault{Kind: simulator.FaultCode, Code: 20019, Msg: "repeat content!"})
	b := w.add(wbWeiboA, "好看好看", "2002", "乙")
	w.once()
	w.once()
	if n := len(w.wb.Posts()); n != 1 {
		t.Fatalf("%d posts", n)
	}
	status := map[string]string{}
	for _, r := range w.history() {
		status[r.CommentID] = r.Status + "/" + r.Reason
	}
	if status[a] != "sent/" || status[b] != "failed/duplicate_content" {
		t.Fatalf("history: %v", status)
	}
}

// A token expired at send time pauses the responder loudly and holds the
// claim; an expired token at poll time stops the source loudly. No message
// holds a secret.
func TestEndToEndWeiboTokenExpired(t *testing.T) {
	t.Parallel()
	w := newWbWorld(t, "@every 1h", "v2")
	w.once()
	id := w.add(wbWeiboA, "好看", "3001", "丙")
	w.wb.ReplyFaults.Push(simulator.Fault{Kind: simulator.FaultCode, Code: 21327, Msg: "expired_token"})
	stderr := w.once()
	if !strings.Contains(stderr, "RESPONDER PAUSED") || !strings.Contains(stderr, "21327") {
		t.Fatalf("21327 on send was not reported loudly:\n%s", stderr)
	}
	rows := w.history()
	if len(rows) != 1 || rows[0].CommentID != id || rows[0].Status != "failed" || rows[0].Reason != "token_expired" {
		t.Fatalf("history: %+v", rows)
	}

	w.wb.ExpireToken()
	stderr = w.once()
	if !strings.Contains(stderr, "SOURCE STOPPED") || !strings.Contains(stderr, "21327") {
		t.Fatalf("21327 on poll was not reported loudly:\n%s", stderr)
	}
	if n := len(w.wb.Posts()); n != 0 {
		t.Fatalf("%d posts", n)
	}
}
