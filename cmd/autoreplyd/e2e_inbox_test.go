package main

// A person in the loop, end to end: flagged comments reach every
// notification channel once across kill -9, a failing channel delays
// nothing, and held answers go out once after approval, never after a
// rejection or past approval.max_age.

import (
	"bufio"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/internal/testutil"
	"github.com/autoreplyd/autoreplyd/notify/notifytest"
)

const inboxRules = `rules:
  - name: complaint
    when: 'containsAny(text, ["投诉", "退款"])'
    action: flag
    notify: [wecom, dingtalk, feishu, hook]
  - name: price
    when: 'text matches "多少钱|价格"'
    reply: '{{ user.nickname }} 你好，价格请看橱窗'
    approve: true
    notify: [wecom]
`

// channels are the four imitated notification platforms of a world.
type channels struct {
	wecom, dingtalk, feishu, hook *notifytest.Server
	secrets                       []string // every URL key and signing secret
}

func (c channels) all() map[string]*notifytest.Server {
	return map[string]*notifytest.Server{"wecom": c.wecom, "dingtalk": c.dingtalk, "feishu": c.feishu, "hook": c.hook}
}

// withChannels gives the world inboxRules and the four channels, their
// URLs and secrets as credential files; extra is appended to the config.
func (w *world) withChannels(extra string) channels {
	w.t.Helper()
	c := channels{
		wecom:    notifytest.NewWeCom(w.t),
		dingtalk: notifytest.NewDingTalk(w.t, "SECe2e-dingtalk-7f3a9c"),
		feishu:   notifytest.NewFeishu(w.t, "e2e-feishu-secret-41d2"),
		hook:     notifytest.NewWebhook(w.t, "e2e-hook-hmac-90ab"),
	}
	for name, s := range c.all() {
		must(w.t, os.WriteFile(filepath.Join(w.creds, name+"-url"), []byte(s.URL()+"\n"), 0o600))
		c.secrets = append(c.secrets, s.Token())
		if s.Secret() != "" {
			must(w.t, os.WriteFile(filepath.Join(w.creds, name+"-secret"), []byte(s.Secret()), 0o600))
			c.secrets = append(c.secrets, s.Secret())
		}
	}
	must(w.t, os.WriteFile(filepath.Join(w.dir, "rules.yaml"), []byte(inboxRules), 0o644))
	cfg := `notify:
  wecom:
    url_file: wecom-url
  dingtalk:
    url_file: dingtalk-url
    secret_file: dingtalk-secret
  feishu:
    url_file: feishu-url
    secret_file: feishu-secret
    timeout: 30s
  hook:
    type: webhook
    url_file: hook-url
    secret_file: hook-secret
` + extra
	must(w.t, os.WriteFile(w.cfg, append(must1(os.ReadFile(w.cfg)), []byte(cfg)...), 0o644))
	w.t.Cleanup(func() { w.assertNoChannelSecrets(c) })
	return c
}

// assertNoChannelSecrets: no URL key or signing secret in anything the
// binary printed or stored.
func (w *world) assertNoChannelSecrets(c channels) {
	w.mu.Lock()
	outs := append([]string(nil), w.outputs...)
	w.mu.Unlock()
	files, _ := filepath.Glob(filepath.Join(w.dir, "state", "*"))
	for _, f := range files {
		if data, err := os.ReadFile(f); err == nil {
			outs = append(outs, string(data))
		}
	}
	for _, out := range outs {
		for _, s := range c.secrets {
			if strings.Contains(out, s) {
				w.t.Errorf("a channel's secret %q appeared in output or the database", s)
			}
		}
	}
}

// commandCount counts, per claim id, the messages of s carrying the exact
// command to act on it (a digest carries several).
func commandCount(s *notifytest.Server, verb string) map[string]int {
	re := regexp.MustCompile(`autoreplyd ` + verb + ` (\d+)`)
	out := map[string]int{}
	for _, m := range s.Messages() {
		for _, g := range re.FindAllStringSubmatch(m.Text, -1) {
			out[g[1]]++
		}
	}
	return out
}

// texts are the texts of s's messages, for failure messages.
func texts(s *notifytest.Server) string {
	var b strings.Builder
	for _, m := range s.Messages() {
		b.WriteString(m.Text + "\n---\n")
	}
	return b.String()
}

// claimIDs maps comment ids to their claim ids, read from the database.
func (w *world) claimIDs() map[string]string {
	w.t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(w.dir, "state", "autoreplyd.db")+"?mode=ro&_pragma=busy_timeout(5000)")
	must(w.t, err)
	defer testutil.Close(w.t, db)
	rows, err := db.Query(`SELECT comment_id, id FROM replies`)
	must(w.t, err)
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var cid string
		var id int64
		must(w.t, rows.Scan(&cid, &id))
		out[cid] = strconv.FormatInt(id, 10)
	}
	return out
}

// notificationStatus reads the outbox: channel/claim id → status.
func (w *world) notificationStatus() map[string]string {
	w.t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(w.dir, "state", "autoreplyd.db")+"?mode=ro&_pragma=busy_timeout(5000)")
	must(w.t, err)
	defer testutil.Close(w.t, db)
	rows, err := db.Query(`SELECT channel, reply_id, status FROM notifications`)
	if err != nil {
		return map[string]string{}
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var ch, st string
		var id int64
		must(w.t, rows.Scan(&ch, &id, &st))
		out[ch+"/"+strconv.FormatInt(id, 10)] = st
	}
	return out
}

func TestEndToEndFlaggedReachesEveryChannelOnceAcrossKill9(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "@every 1s", true)
	ch := w.withChannels("")
	w.once() // first sight of the threads

	// Feishu hangs on its first delivery: the daemon is killed while it is
	// in flight. Meanwhile the other channels, and answering, go on.
	ch.feishu.Fail(1, notifytest.FaultHang)
	first := w.add(threadA, "我要投诉！退款😡", "老王", "5001")
	d := w.start()
	testutil.WaitFor(t, "the first complaint to reach wecom, dingtalk and the webhook, and feishu to hang", func() bool {
		id := w.claimIDs()[first]
		st := w.notificationStatus()
		return id != "" && st["wecom/"+id] == "sent" && st["dingtalk/"+id] == "sent" && st["hook/"+id] == "sent" && ch.feishu.Hanging() == 1
	})
	// A hanging channel delays nothing: the next comment is flagged and
	// told to the healthy channels while feishu still hangs.
	second := w.add(threadB, "投诉你们客服", "小李", "5002")
	testutil.WaitFor(t, "the second complaint to be flagged and reach the healthy channels while feishu hangs", func() bool {
		id := w.claimIDs()[second]
		st := w.notificationStatus()
		// Killed only once they recorded it: a channel that accepted it and
		// was killed before recording it would get it again (at least once).
		return id != "" && st["wecom/"+id] == "sent" && st["dingtalk/"+id] == "sent" && st["hook/"+id] == "sent"
	})
	if ch.feishu.Hanging() != 1 || len(ch.feishu.Messages()) != 0 {
		t.Fatalf("feishu: %d hanging, %d accepted", ch.feishu.Hanging(), len(ch.feishu.Messages()))
	}
	must(t, d.cmd.Process.Signal(syscall.SIGKILL))
	<-d.done

	// After the restart, feishu gets what it never accepted; nothing
	// accepted is delivered again.
	ids := w.claimIDs()
	d = w.start()
	testutil.WaitFor(t, "every notification delivered after the restart", func() bool {
		st := w.notificationStatus()
		for _, c := range []string{"wecom", "dingtalk", "feishu", "hook"} {
			for _, cid := range []string{first, second} {
				if st[c+"/"+ids[cid]] != "sent" {
					return false
				}
			}
		}
		return true
	})
	must(t, d.cmd.Process.Signal(syscall.SIGTERM))
	<-d.done
	w.once() // and a later run sends nothing more
	for name, s := range ch.all() {
		got := commandCount(s, "done")
		for _, cid := range []string{first, second} {
			if got[ids[cid]] != 1 {
				t.Errorf("%s: claim %s (comment %s) told %d times, want 1; messages:\n%s", name, ids[cid], cid, got[ids[cid]], texts(s))
			}
		}
		for _, m := range s.Messages() {
			if len(m.Mentions) != 0 {
				t.Errorf("%s: a message asks for mentions %v", name, m.Mentions)
			}
		}
	}
	// The webhook's JSON carries the claim: checked on its first message.
	if m := ch.hook.Messages(); len(m) == 0 || (m[0].Webhook == nil && m[0].Digest == nil) {
		t.Errorf("webhook messages: %+v", m)
	}
	// Flagged comments are never answered.
	if n := len(w.kk.Posts()); n != 0 {
		t.Fatalf("flagged comments were answered: %d posts", n)
	}
	for _, r := range w.history() {
		if r.Status != "flagged" || r.Rule != "complaint" {
			t.Errorf("history row %+v", r)
		}
	}
}

// inboxRow is a line of `inbox --format json`.
type inboxRow struct {
	ID          json.Number `json:"id"`
	Status      string      `json:"status"`
	Platform    string      `json:"platform"`
	ThreadID    string      `json:"thread_id"`
	CommentID   string      `json:"comment_id"`
	CommentText string      `json:"comment_text"`
	User        string      `json:"user"`
	Rule        string      `json:"rule"`
	ReplyText   string      `json:"reply_text"`
	CreatedAt   string      `json:"created_at"`
}

func (w *world) inbox(args ...string) []inboxRow {
	w.t.Helper()
	stdout, stderr, code := w.run(append([]string{"inbox", "--config", w.cfg, "--format", "json"}, args...)...)
	if code != 0 {
		w.t.Fatalf("inbox exited %d:\n%s", code, stderr)
	}
	var rows []inboxRow
	sc := bufio.NewScanner(strings.NewReader(stdout))
	for sc.Scan() {
		var r inboxRow
		dec := json.NewDecoder(strings.NewReader(sc.Text()))
		dec.UseNumber()
		if err := dec.Decode(&r); err != nil {
			w.t.Fatalf("inbox line %q: %v", sc.Text(), err)
		}
		rows = append(rows, r)
	}
	return rows
}

func TestEndToEndHeldAnswersApproveRejectExpire(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "@every 1h", true)
	ch := w.withChannels("approval:\n  max_age: 1h\n")
	w.once()
	approved := w.add(threadA, "这个多少钱", "小明🍓", "6001")
	rejected := w.add(threadA, "价格？", "小红", "6002")
	expired := w.add(threadB, "多少钱呀", "小刚", "6003")
	w.once()
	if n := len(w.kk.Posts()); n != 0 {
		t.Fatalf("held answers were sent: %d posts", n)
	}
	rows := w.inbox("--status", "held")
	byComment := map[string]inboxRow{}
	for _, r := range rows {
		byComment[r.CommentID] = r
	}
	if len(rows) != 3 || byComment[approved].ReplyText != "小明🍓 你好，价格请看橱窗" || byComment[approved].User != "小明🍓" ||
		byComment[approved].Platform != "douyin" || byComment[approved].Rule != "price" || byComment[approved].CommentText != "这个多少钱" {
		t.Fatalf("inbox: %+v", rows)
	}
	// wecom was told of each held answer with the commands to act.
	if got := commandCount(ch.wecom, "approve"); got[byComment[approved].ID.String()] != 1 {
		t.Errorf("wecom approve commands: %v", got)
	}

	id := byComment[approved].ID.String()
	out, stderr, code := w.run("approve", id, "--config", w.cfg, "--text", "小明，价格在橱窗第一格 🛒", "--by", "lin")
	if code != 0 || !strings.Contains(out, "held") {
		t.Fatalf("approve exited %d:\n%s%s", code, out, stderr)
	}
	// Twice: refused, saying its status.
	if _, stderr, code := w.run("approve", id, "--config", w.cfg, "--by", "lin"); code != 1 || !strings.Contains(stderr, "retrying") {
		t.Fatalf("second approve exited %d:\n%s", code, stderr)
	}
	if _, stderr, code := w.run("reject", byComment[rejected].ID.String(), "--config", w.cfg, "--reason", "不回答价格", "--by", "lin"); code != 0 {
		t.Fatalf("reject exited %d:\n%s", code, stderr)
	}
	w.once()
	w.once()
	posts := w.kk.Posts()
	if len(posts) != 1 || posts[0].Text != "小明，价格在橱窗第一格 🛒" {
		t.Fatalf("posts after approve and reject: %+v", posts)
	}
	// Past approval.max_age: expired at the next cycle, never sent, and too
	// late to approve.
	w.editConfig("max_age: 1h\n", "max_age: 1s\n")
	time.Sleep(1100 * time.Millisecond)
	w.once()
	exp := byComment[expired].ID.String()
	if _, stderr, code := w.run("approve", exp, "--config", w.cfg, "--by", "lin"); code != 1 || !strings.Contains(stderr, "expired") {
		t.Fatalf("approving an expired answer exited %d:\n%s", code, stderr)
	}
	w.once()
	if n := len(w.kk.Posts()); n != 1 {
		t.Fatalf("%d posts, want 1", n)
	}
	status := map[string]string{}
	for _, r := range w.history() {
		status[r.CommentID] = r.Status
	}
	want := map[string]string{approved: "sent", rejected: "rejected", expired: "expired"}
	if fmt.Sprint(status) != fmt.Sprint(want) {
		t.Fatalf("statuses = %v, want %v", status, want)
	}
	if rows := w.inbox(); len(rows) != 0 {
		t.Fatalf("inbox after everything: %+v", rows)
	}
}

// replay, through the binary, on the history a real run left: an edited
// rule's changes and the counts per rule.
func TestEndToEndReplayReportsAnEditedRule(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "@every 1h", true)
	w.withChannels("")
	w.once()
	complaint := w.add(threadA, "我要退款😭", "李四", "7001")
	price := w.add(threadA, "这个多少钱", "张三", "7002")
	plain := w.add(threadB, "今天天气不错", "王五", "7003")
	w.once()

	// The edit: refunds are answered (held for approval) instead of
	// flagged, and weather talk gets a flag.
	edited := strings.NewReplacer(
		`containsAny(text, ["投诉", "退款"])`, `containsAny(text, ["投诉"])`,
		"rules:\n", "rules:\n  - name: refund\n    when: 'text contains \"退款\"'\n    reply: '{{ user.nickname }} 您好，退款请私信客服'\n    approve: true\n  - name: weather\n    when: 'text contains \"天气\"'\n    action: flag\n",
	).Replace(inboxRules)
	path := filepath.Join(w.dir, "rules.edited.yaml")
	must(t, os.WriteFile(path, []byte(edited), 0o644))
	out, stderr, code := w.run("replay", "--config", w.cfg, "--rules", path, "--format", "json")
	if code != 0 {
		t.Fatalf("replay exited %d:\n%s", code, stderr)
	}
	type change struct {
		Type      string `json:"type"`
		CommentID string `json:"comment_id"`
		Old       []struct{ Rule, Status string }
		New       []struct{ Rule, Outcome, ReplyText string } `json:"new"`
		Pacing    string                                      `json:"pacing"`
		Changed   int                                         `json:"changed"`
		Rules     []struct {
			Rule         string
			Gained, Lost int
		} `json:"rules"`
	}
	changes := map[string]change{}
	var summary change
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var c change
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatalf("replay line %q: %v", sc.Text(), err)
		}
		if c.Type == "summary" {
			summary = c
		} else {
			changes[c.CommentID] = c
		}
	}
	if _, ok := changes[price]; ok || len(changes) != 2 || summary.Changed != 2 || summary.Pacing != "replayed" {
		t.Fatalf("replay: changes %+v, summary %+v\n%s", changes, summary, out)
	}
	if c := changes[complaint]; len(c.Old) != 1 || c.Old[0].Status != "flagged" || len(c.New) != 1 || c.New[0].Rule != "refund" || c.New[0].Outcome != "held" {
		t.Errorf("the refund comment: %+v", c)
	}
	if c := changes[plain]; len(c.Old) != 0 || len(c.New) != 1 || c.New[0].Rule != "weather" || c.New[0].Outcome != "flag" {
		t.Errorf("the weather comment: %+v", c)
	}
	gained := map[string][2]int{}
	for _, r := range summary.Rules {
		gained[r.Rule] = [2]int{r.Gained, r.Lost}
	}
	if gained["refund"] != [2]int{1, 0} || gained["weather"] != [2]int{1, 0} || gained["complaint"] != [2]int{0, 1} {
		t.Errorf("per rule: %+v", summary.Rules)
	}
	// Read-only: the live history is as the run left it.
	if got := w.history(); len(got) != 2 {
		t.Errorf("history after replay: %+v", got)
	}
}
