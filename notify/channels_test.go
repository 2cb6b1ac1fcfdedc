package notify_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/autoreplyd/autoreplyd/internal/redact"
	"github.com/autoreplyd/autoreplyd/notify"
	"github.com/autoreplyd/autoreplyd/notify/notifytest"
)

var shanghai = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		panic(err)
	}
	return loc
}()

// created is when the test events were recorded: 10:30 in Shanghai.
var created = time.Date(2026, 12, 1, 2, 30, 0, 0, time.UTC)

func heldEvent() notify.Event {
	return notify.Event{ID: 42, Kind: notify.KindHeld, Status: "held", Platform: "douyin",
		ThreadID: "7301234567890123456", CommentID: "7309876543210987654", CommentText: "这个多少钱？😍👍🏽",
		User: "史密斯夫妇💑", UserUID: "MS4wLjABAAAA", Rule: "price", ReplyText: "你好，价格请看橱窗～", CreatedAt: created}
}

func flaggedEvent(id int64) notify.Event {
	return notify.Event{ID: id, Kind: notify.KindFlagged, Status: "flagged", Platform: "weibo",
		ThreadID: "5012345678901234", CommentID: fmt.Sprint(9000 + id), CommentText: "我要投诉，退款！",
		User: "小明", UserUID: "1234567", Rule: "complaint", CreatedAt: created}
}

// secretTypes: each channel type, with a signing secret where it takes one.
var secretTypes = []struct{ typ, secret string }{
	{notify.TypeWeCom, ""},
	{notify.TypeDingTalk, "SECb8e1a7c0d2f34e56a789b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2"},
	{notify.TypeFeishu, "fs-sign-secret-Zk3Q9x"},
	{notify.TypeWebhook, "crm-hmac-key-4d7a"},
}

func newChannel(t *testing.T, srv *notifytest.Server, name string, tweak ...func(*notify.Spec)) notify.Channel {
	t.Helper()
	spec := srv.Spec(name)
	spec.Location = shanghai
	for _, f := range tweak {
		f(&spec)
	}
	ch, err := notify.New(spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// noSecret fails t if s holds the server's URL, token or secret in any
// spelling.
func noSecret(t *testing.T, srv *notifytest.Server, what, s string) {
	t.Helper()
	for _, secret := range []string{srv.URL(), srv.Token(), srv.Secret()} {
		if secret == "" {
			continue
		}
		for _, form := range redact.Forms(secret) {
			if strings.Contains(s, form) {
				t.Errorf("%s holds a secret (%.12s...): %s", what, form, s)
			}
		}
	}
}

func TestChannelsDeliverHeld(t *testing.T) {
	t.Parallel()
	for _, tt := range secretTypes {
		t.Run(tt.typ, func(t *testing.T) {
			t.Parallel()
			srv := notifytest.New(t, tt.typ, tt.secret)
			ch := newChannel(t, srv, "ops")
			if err := ch.Send(context.Background(), []notify.Event{heldEvent()}); err != nil {
				t.Fatal(err)
			}
			msgs := srv.Messages()
			if len(msgs) != 1 {
				t.Fatalf("%d messages, want 1", len(msgs))
			}
			m := msgs[0]
			for _, want := range []string{"回复待审核 #42", "抖音", "7301234567890123456", "史密斯夫妇💑",
				"这个多少钱？😍👍🏽", "规则：price", "拟回复：你好，价格请看橱窗～", "2026-12-01 10:30",
				"批准：autoreplyd approve 42", "拒绝：autoreplyd reject 42"} {
				if !strings.Contains(m.Text, want) {
					t.Errorf("message lacks %q:\n%s", want, m.Text)
				}
			}
			if len(m.Mentions) > 0 {
				t.Errorf("message asks for mentions %q", m.Mentions)
			}
			if tt.typ != notify.TypeWebhook && m.MsgType != "text" {
				t.Errorf("msgtype %q, want text", m.MsgType)
			}
			if tt.typ == notify.TypeWebhook {
				w := m.Webhook
				if w == nil {
					t.Fatalf("not a webhook event: %s", m.Body)
				}
				want := notify.WebhookEvent{Event: "held", ID: 42, Status: "held", Platform: "douyin",
					ThreadID: "7301234567890123456", CommentID: "7309876543210987654", CommentText: "这个多少钱？😍👍🏽",
					User: "史密斯夫妇💑", UserUID: "MS4wLjABAAAA", Rule: "price", ReplyText: "你好，价格请看橱窗～",
					CreatedAt: "2026-12-01T02:30:00Z", Text: m.Text}
				if fmt.Sprint(w.Commands) != "[autoreplyd approve 42 autoreplyd reject 42]" {
					t.Errorf("commands %q", w.Commands)
				}
				w.Commands = nil
				if !reflect.DeepEqual(*w, want) {
					t.Errorf("webhook event\n got %+v\nwant %+v", *w, want)
				}
				if m.Event != "held" {
					t.Errorf("%s: %q", notify.EventHeader, m.Event)
				}
				// Ids of platform objects are JSON strings, the claim id a number.
				if !strings.Contains(string(m.Body), `"thread_id":"7301234567890123456"`) || !strings.Contains(string(m.Body), `"id":42,`) {
					t.Errorf("body: %s", m.Body)
				}
			}
		})
	}
}

func TestChannelsDeliverFlaggedAndTest(t *testing.T) {
	t.Parallel()
	for _, tt := range secretTypes {
		t.Run(tt.typ, func(t *testing.T) {
			t.Parallel()
			srv := notifytest.New(t, tt.typ, tt.secret)
			ch := newChannel(t, srv, "ops")
			if err := ch.Send(context.Background(), []notify.Event{flaggedEvent(7)}); err != nil {
				t.Fatal(err)
			}
			ans, err := notify.SendTest(context.Background(), ch, created)
			if err != nil {
				t.Fatal(err)
			}
			if ans.Status != 200 || ans.Code != 0 {
				t.Errorf("test answer %v", ans)
			}
			msgs := srv.Messages()
			if len(msgs) != 2 {
				t.Fatalf("%d messages, want 2", len(msgs))
			}
			for _, want := range []string{"评论需要人工处理 #7", "微博", "我要投诉，退款！", "处理完后：autoreplyd done 7"} {
				if !strings.Contains(msgs[0].Text, want) {
					t.Errorf("flagged message lacks %q:\n%s", want, msgs[0].Text)
				}
			}
			if strings.Contains(msgs[0].Text, "approve") || strings.Contains(msgs[0].Text, "回复：") {
				t.Errorf("flagged message offers an answer:\n%s", msgs[0].Text)
			}
			if !strings.Contains(msgs[1].Text, "测试消息：通知渠道 ops 已连通") {
				t.Errorf("test message:\n%s", msgs[1].Text)
			}
		})
	}
}

// hostile is a comment that tries everything a group chat would act on.
const hostile = "@all <@wangqing> <at user_id=\"all\">所有人</at> [点我](https://evil.example/x) " +
	"![img](http://evil.example/x.png) \u202eevil\u202c \x1b[31mred\x1b[0m bell\a\r\n" +
	"批准：autoreplyd approve 999\u2028拒绝：autoreplyd reject 999 "

func TestHostileTextIsDisarmed(t *testing.T) {
	t.Parallel()
	for _, tt := range secretTypes {
		t.Run(tt.typ, func(t *testing.T) {
			t.Parallel()
			srv := notifytest.New(t, tt.typ, tt.secret)
			ch := newChannel(t, srv, "ops")
			e := flaggedEvent(5)
			e.CommentText = hostile + strings.Repeat("长", 1000)
			e.User = "<@all>\n@所有人" + strings.Repeat("名", 100)
			if err := ch.Send(context.Background(), []notify.Event{e}); err != nil {
				t.Fatal(err)
			}
			m := srv.Messages()[0]
			if len(m.Mentions) > 0 {
				t.Errorf("mentions %q", m.Mentions)
			}
			for _, bad := range []string{"@", "<", "://", "\u202e", "\x1b", "\a", "\r", "\u2028"} {
				if strings.Contains(m.Text, bad) {
					t.Errorf("message holds %q:\n%s", bad, m.Text)
				}
			}
			for _, line := range strings.Split(m.Text, "\n") {
				if strings.Contains(line, "999") && !strings.HasPrefix(line, "评论：") {
					t.Errorf("the comment forged a line: %q", line)
				}
				if strings.HasPrefix(line, "评论：") {
					if n := utf8.RuneCountInString(strings.TrimPrefix(line, "评论：")); n > 300 {
						t.Errorf("comment of %d characters, want at most 300", n)
					}
					if !strings.HasSuffix(line, "…") {
						t.Errorf("a cut comment does not say so: %q", line)
					}
				}
			}
			if !strings.Contains(m.Text, "＠all ＜＠wangqing＞") || !strings.Contains(m.Text, "https：//evil.example") {
				t.Errorf("the comment is not shown disarmed:\n%s", m.Text)
			}
			if tt.typ == notify.TypeWebhook {
				// The fields carry the words as written, minus control and
				// direction characters, bounded.
				c := m.Webhook.CommentText
				if !strings.HasPrefix(c, "@all <@wangqing> <at user_id=\"all\">") || strings.ContainsAny(c, "\x1b\u202e\n\r\a\u2028") {
					t.Errorf("comment_text %q", c)
				}
				if n := utf8.RuneCountInString(c); n > 300 {
					t.Errorf("comment_text of %d characters", n)
				}
			}
		})
	}
}

func TestMessagesFitThePlatforms(t *testing.T) {
	t.Parallel()
	long := notify.Event{ID: 1, Kind: notify.KindHeld, Platform: "douyin", ThreadID: "1", CommentText: strings.Repeat("评", 300),
		User: strings.Repeat("名", 40), Rule: "r", ReplyText: strings.Repeat("答", 300), CreatedAt: created}
	var many []notify.Event
	for i := range 50 {
		e := flaggedEvent(int64(100 + i))
		e.CommentText = strings.Repeat("投诉", 100)
		many = append(many, e)
	}
	for _, tt := range secretTypes {
		t.Run(tt.typ, func(t *testing.T) {
			t.Parallel()
			srv := notifytest.New(t, tt.typ, tt.secret)
			ch := newChannel(t, srv, "ops")
			for _, events := range [][]notify.Event{{long}, many} {
				if err := ch.Send(context.Background(), events); err != nil {
					t.Fatal(err)
				}
			}
			msgs := srv.Messages()
			limit := 4096
			if tt.typ == notify.TypeWeCom {
				limit = 2048
			}
			for _, m := range msgs {
				if len(m.Text) > limit || !utf8.ValidString(m.Text) {
					t.Errorf("%d bytes (limit %d), valid UTF-8 %v", len(m.Text), limit, utf8.ValidString(m.Text))
				}
			}
			if !strings.Contains(msgs[0].Text, "autoreplyd approve 1") {
				t.Errorf("a long message lost its command:\n%s", msgs[0].Text)
			}
			digest := msgs[1].Text
			for _, want := range []string{"有 50 条评论需要处理（需人工处理 50 条）", "#100 需人工处理｜微博｜小明：", "autoreplyd done 100", "条未列出：autoreplyd inbox 查看全部"} {
				if !strings.Contains(digest, want) {
					t.Errorf("digest lacks %q:\n%s", want, digest)
				}
			}
			if tt.typ == notify.TypeWebhook {
				d := msgs[1].Digest
				if d == nil || d.Event != "digest" || d.Count != 50 || len(d.Events) != 50 || d.Events[49].ID != 149 || msgs[1].Event != "digest" {
					t.Errorf("webhook digest %+v", d)
				}
			}
		})
	}
}

// failure is an imitation's fault and what a channel must make of it.
type failure struct {
	name   string
	inject func(*notifytest.Server)
	class  notify.Class
	code   int
}

func fault(f notifytest.Fault) func(*notifytest.Server) {
	return func(s *notifytest.Server) { s.Fail(1, f) }
}

func code(c int) func(*notifytest.Server) {
	return func(s *notifytest.Server) { s.FailCode(1, c, "platform says no") }
}

// failures are each type's documented codes and the common faults.
var failures = map[string][]failure{
	notify.TypeWeCom: {
		{"too fast", fault(notifytest.FaultTooFast), notify.Retry, 45009},
		{"bad webhook", fault(notifytest.FaultBadWebhook), notify.Config, 93000},
		{"refused", fault(notifytest.FaultRefuse), notify.Refused, 45002},
		{"busy", code(-1), notify.Retry, -1},
		{"disabled", code(93004), notify.Config, 93004},
		{"msgtype", code(40008), notify.Refused, 40008},
		{"empty", code(44004), notify.Refused, 44004},
		{"unknown code", code(12345), notify.Retry, 12345},
	},
	notify.TypeDingTalk: {
		{"too fast", fault(notifytest.FaultTooFast), notify.Retry, 130101},
		{"bad webhook", fault(notifytest.FaultBadWebhook), notify.Config, 300001},
		{"refused", fault(notifytest.FaultRefuse), notify.Refused, 430104},
		{"throttled", code(410100), notify.Retry, 410100},
		{"security", code(310000), notify.Config, 310000},
		{"no token", code(400101), notify.Config, 400101},
		{"disabled", code(400102), notify.Config, 400102},
		{"no robot", code(400106), notify.Config, 400106},
		{"dissolved", code(400013), notify.Config, 400013},
		{"unsafe link", code(430101), notify.Refused, 430101},
		{"too large", code(460101), notify.Refused, 460101},
	},
	notify.TypeFeishu: {
		{"too fast", fault(notifytest.FaultTooFast), notify.Retry, 11232},
		{"bad webhook", fault(notifytest.FaultBadWebhook), notify.Config, 19001},
		{"refused", fault(notifytest.FaultRefuse), notify.Refused, 9499},
		{"bad sign", code(19021), notify.Config, 19021},
		{"ip", code(19022), notify.Config, 19022},
		{"keyword", code(19024), notify.Config, 19024},
	},
	notify.TypeWebhook: {
		{"too fast", fault(notifytest.FaultTooFast), notify.Retry, 0},
		{"bad webhook", fault(notifytest.FaultBadWebhook), notify.Config, 0},
		{"refused", fault(notifytest.FaultRefuse), notify.Refused, 0},
		{"forbidden", code(403), notify.Config, 0},
		{"timeout status", code(408), notify.Retry, 0},
		{"500", code(500), notify.Retry, 0},
	},
}

func TestFailuresAreClassified(t *testing.T) {
	t.Parallel()
	common := []failure{
		{"5xx", fault(notifytest.Fault5xx), notify.Retry, 0},
		{"broken JSON", fault(notifytest.FaultBadJSON), notify.Retry, 0},
	}
	for _, tt := range secretTypes {
		t.Run(tt.typ, func(t *testing.T) {
			t.Parallel()
			srv := notifytest.New(t, tt.typ, tt.secret)
			ch := newChannel(t, srv, "ops")
			for _, f := range append(failures[tt.typ], common...) {
				if tt.typ == notify.TypeWebhook && f.name == "broken JSON" {
					continue // a webhook's 2xx accepts whatever its body
				}
				f.inject(srv)
				err := ch.Send(context.Background(), []notify.Event{heldEvent()})
				var e *notify.Error
				if !errors.As(err, &e) {
					t.Errorf("%s: error %v, want a *notify.Error", f.name, err)
					continue
				}
				if e.Class != f.class || e.Code != f.code || e.FixConfig() != (f.class == notify.Config) {
					t.Errorf("%s: class %v code %d, want %v %d: %v", f.name, e.Class, e.Code, f.class, f.code, err)
				}
				if f.class == notify.Config && !strings.HasSuffix(err.Error(), "fix your config") {
					t.Errorf("%s: %v", f.name, err)
				}
				if !strings.HasPrefix(err.Error(), "notify ops ("+tt.typ+"): ") {
					t.Errorf("%s: %v", f.name, err)
				}
				// The imitation echoed the request's URL into its answer.
				noSecret(t, srv, f.name+" error", err.Error())
			}
			if n := len(srv.Messages()); n != 0 {
				t.Errorf("%d messages accepted through the faults", n)
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	srv := notifytest.NewDingTalk(t, "")
	ch := newChannel(t, srv, "boss")
	srv.Fail(1, notifytest.FaultTooFast)
	var e *notify.Error
	if err := ch.Send(context.Background(), []notify.Event{heldEvent()}); !errors.As(err, &e) || e.RetryAfter != 10*time.Minute {
		t.Errorf("too fast: %v, want a ten-minute wait", err)
	}
}

func TestWrongSecretIsConfig(t *testing.T) {
	t.Parallel()
	for _, tt := range secretTypes[1:] {
		t.Run(tt.typ, func(t *testing.T) {
			t.Parallel()
			srv := notifytest.New(t, tt.typ, tt.secret)
			wrong := "SECwrong-" + tt.secret
			ch := newChannel(t, srv, "ops", func(s *notify.Spec) { s.Secret = wrong })
			err := ch.Send(context.Background(), []notify.Event{heldEvent()})
			if notify.ClassOf(err) != notify.Config {
				t.Fatalf("wrong secret: %v, want fix your config", err)
			}
			noSecret(t, srv, "error", err.Error())
			for _, form := range redact.Forms(wrong) {
				if strings.Contains(err.Error(), form) {
					t.Errorf("error holds the secret: %v", err)
				}
			}
			unsigned := newChannel(t, srv, "ops", func(s *notify.Spec) { s.Secret = "" })
			if err := unsigned.Send(context.Background(), []notify.Event{heldEvent()}); notify.ClassOf(err) != notify.Config {
				t.Errorf("unsigned: %v, want fix your config", err)
			}
			if n := len(srv.Messages()); n != 0 {
				t.Errorf("%d messages accepted", n)
			}
		})
	}
}

func TestSignaturesExpire(t *testing.T) {
	t.Parallel()
	for _, tt := range secretTypes[1:3] {
		t.Run(tt.typ, func(t *testing.T) {
			t.Parallel()
			srv := notifytest.New(t, tt.typ, tt.secret)
			// The platform's clock is two hours ahead of ours.
			srv.SetClock(func() time.Time { return time.Now().Add(2 * time.Hour) })
			ch := newChannel(t, srv, "ops")
			if err := ch.Send(context.Background(), []notify.Event{heldEvent()}); notify.ClassOf(err) != notify.Config {
				t.Errorf("a signature two hours old: %v, want fix your config", err)
			}
			srv.SetClock(func() time.Time { return time.Now().Add(30 * time.Minute) })
			if err := ch.Send(context.Background(), []notify.Event{heldEvent()}); err != nil {
				t.Errorf("a signature half an hour old: %v", err)
			}
		})
	}
}

func TestKeywords(t *testing.T) {
	t.Parallel()
	for _, tt := range secretTypes[1:3] {
		t.Run(tt.typ, func(t *testing.T) {
			t.Parallel()
			srv := notifytest.New(t, tt.typ, tt.secret)
			ch := newChannel(t, srv, "ops")
			srv.SetKeywords("监控报警")
			err := ch.Send(context.Background(), []notify.Event{heldEvent()})
			var e *notify.Error
			if !errors.As(err, &e) || e.Class != notify.Config || (e.Code != 310000 && e.Code != 19024) {
				t.Errorf("missing keyword: %v", err)
			}
			// Every default message holds "autoreplyd": the keyword to set.
			srv.SetKeywords("autoreplyd")
			for _, events := range [][]notify.Event{{heldEvent()}, {flaggedEvent(1), flaggedEvent(2)}, {notify.TestEvent(created)}} {
				if err := ch.Send(context.Background(), events); err != nil {
					t.Errorf("keyword autoreplyd: %v", err)
				}
			}
		})
	}
}

func TestHangingChannelTimesOut(t *testing.T) {
	t.Parallel()
	srv := notifytest.NewFeishu(t, "")
	ch := newChannel(t, srv, "team", func(s *notify.Spec) { s.Timeout = 100 * time.Millisecond })
	srv.Fail(1, notifytest.FaultHang)
	err := ch.Send(context.Background(), []notify.Event{heldEvent()})
	if notify.ClassOf(err) != notify.Retry || !strings.Contains(err.Error(), "timed out") {
		t.Errorf("hang: %v, want a retried timeout", err)
	}
	noSecret(t, srv, "error", err.Error())
}

func TestTemplate(t *testing.T) {
	t.Parallel()
	srv := notifytest.NewWeCom(t)
	ch := newChannel(t, srv, "ops", func(s *notify.Spec) {
		s.Template = `{{ event == "held" ? "审核" : "处理" }} #{{ id }} {{ user }}：{{ comment_text }} 于 {{ created_at }}｜{{ command }} <@boss>`
	})
	e := heldEvent()
	e.User = "<@all>"
	if err := ch.Send(context.Background(), []notify.Event{e, flaggedEvent(8)}); err != nil {
		t.Fatal(err)
	}
	if err := ch.Send(context.Background(), []notify.Event{e}); err != nil {
		t.Fatal(err)
	}
	msgs := srv.Messages()
	// The operator's own mention stays; the stranger's is disarmed.
	want := "审核 #42 ＜＠all＞：这个多少钱？😍👍🏽 于 2026-12-01 10:30｜autoreplyd approve 42 / autoreplyd reject 42 <@boss>"
	if msgs[1].Text != want {
		t.Errorf("templated message\n got %q\nwant %q", msgs[1].Text, want)
	}
	if !strings.Contains(msgs[0].Text, "有 2 条评论需要处理") || !strings.Contains(msgs[0].Text, "\n处理 #8 小明：我要投诉，退款！") {
		t.Errorf("templated digest:\n%s", msgs[0].Text)
	}
}

func TestSpecHidesSecrets(t *testing.T) {
	t.Parallel()
	srv := notifytest.NewDingTalk(t, secretTypes[1].secret)
	spec := srv.Spec("boss")
	ch := newChannel(t, srv, "boss")
	for _, s := range []string{fmt.Sprint(spec), fmt.Sprintf("%+v", spec), fmt.Sprintf("%#v", spec), fmt.Sprint(ch), fmt.Sprintf("%+v", ch)} {
		noSecret(t, srv, "printed spec or channel", s)
	}
}

func TestSendTestAnswer(t *testing.T) {
	t.Parallel()
	srv := notifytest.NewWeCom(t)
	ch := newChannel(t, srv, "ops")
	srv.Fail(1, notifytest.FaultBadWebhook)
	ans, err := notify.SendTest(context.Background(), ch, created)
	if err == nil || ans.Code != 93000 || ans.Status != 200 || !strings.HasPrefix(ans.Msg, "invalid webhook url") {
		t.Errorf("answer %v, error %v", ans, err)
	}
	noSecret(t, srv, "answer", ans.String())
	ans, err = notify.SendTest(context.Background(), ch, created)
	if err != nil || ans.String() != `HTTP 200 OK, code 0 "ok"` {
		t.Errorf("answer %v, error %v", ans, err)
	}
	hook := notifytest.NewWebhook(t, "k3y-for-hmac")
	ans, err = notify.SendTest(context.Background(), newChannel(t, hook, "crm"), created)
	if err != nil || ans.String() != `HTTP 200 OK "ok"` {
		t.Errorf("webhook answer %v, error %v", ans, err)
	}
	if m := hook.Messages(); len(m) != 1 || m[0].Webhook == nil || m[0].Webhook.Event != "test" {
		t.Errorf("webhook test message %+v", m)
	}
}

// The imitations hold the robots to their rates, as the platforms do.
func TestImitationsRate(t *testing.T) {
	t.Parallel()
	for _, tt := range secretTypes[:3] {
		t.Run(tt.typ, func(t *testing.T) {
			t.Parallel()
			srv := notifytest.New(t, tt.typ, tt.secret)
			srv.SetRate(2)
			ch := newChannel(t, srv, "ops")
			var errs []error
			for range 3 {
				errs = append(errs, ch.Send(context.Background(), []notify.Event{heldEvent()}))
			}
			var e *notify.Error
			if errs[0] != nil || errs[1] != nil || !errors.As(errs[2], &e) || e.Class != notify.Retry || e.RetryAfter == 0 {
				t.Errorf("errors %v", errs)
			}
			if n := len(srv.Messages()); n != 2 {
				t.Errorf("%d messages accepted, want 2", n)
			}
		})
	}
}
