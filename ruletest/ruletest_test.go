package ruletest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/internal/testutil"
	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/rules"
)

const testRules = `rules:
  - name: spam
    when: 'containsAny(text, ["加微信", "vx"])'
  - name: vip
    when: 'user.verified'
    continue: true
    reply: '欢迎{{ user.nickname }}'
  - name: broken
    when: 'text startsWith "#" && int(text[1:]) > 3'
    reply: 'never'
  - name: price
    when: 'text matches "多少钱|(?i)how much"'
    reply:
      - '{{ user.nickname }} 你好，价格请看橱窗[比心]'
      - '亲，价格在橱窗里哦'
    cooldown: {user: 24h, thread: 10m}
    limit: {hour: 3}
  - name: night
    when: 'text contains "晚安"'
    reply: '晚安{{ user.nickname }}～'
    active: "20:00-23:00"
  - name: spring
    when: 'labels["campaign"] == "spring"'
    reply: '春季活动：{{ labels["campaign"] }} {{ thread }}'
  - name: complaint
    when: 'containsAny(text, ["投诉", "差评"])'
    action: flag
    notify: [ops]
  - name: refund
    when: 'text contains "退款"'
    reply: '{{ user.nickname }} 您好，退款请联系客服😊'
    approve: true
    cooldown: {user: 1h}
`

// world writes the rules and a test file (header plus cases) into a new
// directory and parses the test file.
func world(t *testing.T, cases string) *File {
	t.Helper()
	dir := t.TempDir()
	testutil.WriteFile(t, filepath.Join(dir, "rules.yaml"), testRules)
	name := filepath.Join(dir, "x.test.yaml")
	src := "rule_files: [rules.yaml]\ntimezone: Asia/Shanghai\nnow: \"2026-11-23 10:00\"\ntests:\n" + cases
	testutil.WriteFile(t, name, src)
	f, err := Parse(name, []byte(src))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return f
}

func run(t *testing.T, r *Runner, f *File) *Result {
	t.Helper()
	res, err := r.Run(context.Background(), f)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	return res
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, src string
		want      []string // "LINE:COL: text"
	}{
		{"empty", "", []string{"1:1: file is empty"}},
		{"not a mapping", "- a\n", []string{"1:1: want a mapping"}},
		{"no tests", "rule_files: r.yaml\n", []string{"1:1: missing tests: list"}},
		{"empty tests", "tests: []\n", []string{"1:8: tests: want a non-empty list"}},
		{"unknown top key", "rule_file: r.yaml\ntests: [{comment: a, expect: {no_match: true}}]\n",
			[]string{`1:1: unknown key "rule_file" (did you mean "rule_files"?)`}},
		{"syntax", "tests:\n  - name: a\n   comment: x\n", []string{"3:1: YAML: "}},
		{"unquoted brackets in a flow list", "tests:\n  - {name: a, comment: x, expect: {rule: r, replies: [谢谢[比心], b]}}\n",
			[]string{"2:1: YAML: did not find expected ',' or ']' (inside [...] or {...}, quote a text"}},
		{"bad timezone", "timezone: Asia/Shangai\ntests: [{comment: a, expect: {no_match: true}}]\n", []string{`1:11: timezone: unknown time zone "Asia/Shangai"`}},
		//nolint:misspell // a deliberate typo: the case checks the did-you-mean message
		{"case problems", `tests:
  - name: a
    comment:
      text: [赞]
      usr: 小明
      time: yesterday
      likes: many
      platform: douyn
    expect: {rule: price, skiped: cooldown}
  - name: b
    comment: {text: x, user: {verified: yes}}
    history: [{rule: price, ago: 2 hours}, {user: "1"}]
    expect: {no_match: true, rule: x}
  - name: c
    expect: [{rule: spam, skipped: no_reply_rule, reply: x}, {no_match: true}]
  - name: d
    comment: x
    expect: {replies: x, skipped: later}
  - name: e
    comment: x
  - just text
`, []string{
			"4:13: text is a YAML list: quote text that starts with [",
			`5:7: unknown key "usr" (did you mean "user"?)`,
			`6:13: time: want a time such as "2026-11-22 10:00", got "yesterday"`,
			"7:14: likes must be a whole number",
			`8:17: platform: want one of douyin, tiktok, wechat, weibo (did you mean "douyin"?)`,
			`9:27: unknown key "skiped" (did you mean "skipped"?)`, //nolint:misspell // a deliberate typo: the case checks the did-you-mean message
			"11:41: verified must be true or false",
			`12:34: ago: want a duration such as 90s, 10m, 2h or 3d, got "2 hours"`,
			"12:44: history: rule is missing",
			"12:44: history: say when with ago:",
			"13:30: expect: no_match: true goes alone",
			"14:5: c: comment is missing",
			"15:27: expect: a rule skipped with no_reply_rule has no reply",
			"15:62: expect: no_match: true goes alone, not in a list",
			"18:23: replies: want a list of every reply variant",
			"18:35: skipped: want one of no_reply_rule, cooldown, limit, inactive",
			"18:13: expect: rule is missing",
			"19:5: e: expect is missing",
			"21:5: test #6: want a mapping",
		}},
		{"contradictory actions", `tests:
  - name: a
    comment: x
    expect: {rule: complaint, flagged: true, reply: 您好}
  - name: b
    comment: x
    expect: {rule: complaint, flagged: true, held: true, skipped: cooldown}
  - name: c
    comment: x
    expect: {rule: refund, held: true, skipped: cooldown}
  - name: d
    comment: x
    expect: {no_match: true, flagged: true}
  - name: e
    comment: x
    expect: [{rule: refund, held: false}, {rule: complaint, flagged: 1}]
`, []string{
			"4:46: expect: a flagged comment has no reply to compare: nothing is sent (for an answer held for approval, write held: true)",
			"7:46: expect: flagged and held: a rule flags the comment (action: flag) or holds its answer (approve: true), not both",
			"7:58: expect: flagged and skipped: a rule flags the comment or skips it, not both",
			"7:58: expect: held and skipped: an answer held back by pacing is recorded skipped, not held for approval",
			"10:40: expect: held and skipped: an answer held back by pacing is recorded skipped, not held for approval",
			"13:30: expect: no_match: true goes alone (flagged: says a rule matches)",
			"16:35: held: only true makes sense; leave it out for an answer sent at once",
			"16:70: flagged must be true or false",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(tc.src))
			if err == nil {
				t.Fatal("no error")
			}
			got := strings.Split(err.Error(), "\n")
			for _, w := range tc.want {
				found := false
				for _, g := range got {
					if strings.HasPrefix(g, "t.yaml:"+w) {
						found = true
					}
				}
				if !found {
					t.Errorf("no error %q in:\n%s", w, err)
				}
			}
			if len(got) != len(tc.want) {
				t.Errorf("%d errors, want %d:\n%s", len(got), len(tc.want), err)
			}
			var pe rules.PosError
			if !errors.As(err, &pe) || pe.File != "t.yaml" || pe.Line == 0 {
				t.Errorf("error is not a positioned rules.PosError: %#v", err)
			}
		})
	}
}

func TestParseShortcutsAndDefaults(t *testing.T) {
	t.Parallel()
	f, err := Parse("t.yaml", []byte(`tests:
  - comment: 哈哈哈
    expect: {no_match: true}
  - name: full
    comment:
      text: 123
      user: 小明
      labels: {campaign: spring}
      likes: 3
      author_liked: true
      platform: weibo
      reply_to: "42"
    history:
      - {rule: price, ago: 3d}
      - {rule: price, at: "2026-11-22 08:00", thread: T9, platform: douyin, count: 4}
    expect: {rule: price}
`))
	if err != nil {
		t.Fatal(err)
	}
	c0, c1 := f.Cases[0], f.Cases[1]
	if c0.Name != "test #1" || c0.Comment.Text != "哈哈哈" || c0.Comment.Platform != "douyin" || c0.Comment.ReplyToID != "0" || c0.Comment.ID != "test-1" || c0.Line != 2 {
		t.Errorf("case 1: %+v", c0)
	}
	cm := c1.Comment
	if cm.Text != "123" || cm.User.Nickname != "小明" || cm.Labels["campaign"] != "spring" || cm.Likes != 3 || !cm.AuthorLiked || cm.Platform != "weibo" || cm.ReplyToID != "42" {
		t.Errorf("case 2 comment: %+v", cm)
	}
	h := c1.History
	if len(h) != 2 || h[0].Ago != 72*time.Hour || h[0].Count != 1 || h[0].HasThread || h[0].When != "3d ago" ||
		h[1].At == nil || h[1].Thread != "T9" || !h[1].HasThread || h[1].Count != 4 || h[1].When != "at 2026-11-22 08:00" {
		t.Errorf("history: %+v", h)
	}
	if e := c1.Expect; len(e) != 1 || e[0].Rule != "price" || e[0].HasReplies || e[0].Skipped != "" {
		t.Errorf("expect: %+v", e)
	}
}

func TestParseTime(t *testing.T) {
	t.Parallel()
	sh, _ := time.LoadLocation("Asia/Shanghai")
	want := time.Date(2026, 11, 22, 10, 0, 0, 0, sh)
	for _, s := range []string{"2026-11-22 10:00", "2026-11-22 10:00:00", "2026-11-22T10:00", " 2026-11-22T10:00:00 ", "2026-11-22T02:00:00Z", "2026-11-22T10:00:00+08:00"} {
		got, err := ParseTime(s, sh)
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseTime(%q) = %v, %v", s, got, err)
		}
	}
	if _, err := ParseTime("22/11/2026", sh); err == nil {
		t.Error("22/11/2026 accepted")
	}
}

// Each kind of expectation, passing and failing.
func TestExpectations(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, comment, expect string
		pass                  bool
	}{
		{"reply exact", `{text: 晚安, user: 小红}`, `{rule: night, skipped: inactive, reply: 晚安小红～}`, true},
		{"reply differs", `{text: 晚安, user: 小红}`, `{rule: night, skipped: inactive, reply: 晚安小红~}`, false},
		{"reply of a rule with variants", `{text: 多少钱, user: 小明}`, `{rule: price, reply: 亲，价格在橱窗里哦}`, false},
		{"variants in any order", `{text: 多少钱, user: 小明}`, `{rule: price, replies: [亲，价格在橱窗里哦, '小明 你好，价格请看橱窗[比心]']}`, true},
		{"a variant missing", `{text: 多少钱, user: 小明}`, `{rule: price, replies: ['小明 你好，价格请看橱窗[比心]']}`, false},
		{"a variant too many", `{text: 多少钱, user: 小明}`, `{rule: price, replies: [亲，价格在橱窗里哦, '小明 你好，价格请看橱窗[比心]', 再见]}`, false},
		{"rule only", `{text: 多少钱}`, `{rule: price}`, true},
		{"rule only, another rule", `{text: 多少钱}`, `{rule: spring}`, false},
		{"rule only, but skipped", `{text: 晚安}`, `{rule: night}`, false},
		{"skipped no_reply_rule", `加微信`, `{rule: spam, skipped: no_reply_rule}`, true},
		{"skipped, but another reason", `{text: 晚安}`, `{rule: night, skipped: cooldown}`, false},
		{"skipped expected, answered", `{text: 多少钱}`, `{rule: price, skipped: cooldown}`, false},
		{"no match", `哈哈`, `{no_match: true}`, true},
		{"no match expected, matched", `加微信`, `{no_match: true}`, false},
		{"continue: both rules", `{text: how much, user: {nickname: Emma, verified: true}}`, `[{rule: vip, reply: 欢迎Emma}, {rule: price}]`, true},
		{"continue: one missing", `{text: how much, user: {nickname: Emma, verified: true}}`, `{rule: price}`, false},
		{"continue: wrong order", `{text: how much, user: {nickname: Emma, verified: true}}`, `[{rule: price}, {rule: vip}]`, false},
		{"labels and thread", `{text: 哈哈, thread: T1, labels: {campaign: spring}}`, `{rule: spring, reply: 春季活动：spring T1}`, true},
		{"rule error fails the case", `'#abc'`, `{no_match: true}`, false},
		{"flagged", `我要投诉`, `{rule: complaint, flagged: true}`, true},
		{"flagged expected, answered", `{text: 多少钱}`, `{rule: price, flagged: true}`, false},
		{"answer expected, flagged", `我要投诉`, `{rule: complaint}`, false},
		{"skip expected, flagged", `我要投诉`, `{rule: complaint, skipped: no_reply_rule}`, false},
		{"held", `{text: 退款, user: 小明}`, `{rule: refund, held: true}`, true},
		{"held with its answer", `{text: 退款, user: 小明}`, `{rule: refund, held: true, reply: 小明 您好，退款请联系客服😊}`, true},
		{"held, another answer", `{text: 退款, user: 小明}`, `{rule: refund, held: true, reply: 小明 您好，退款请联系客服}`, false},
		{"held expected, answered", `{text: 多少钱}`, `{rule: price, held: true}`, false},
		{"answer expected, held", `{text: 退款, user: 小明}`, `{rule: refund, reply: 小明 您好，退款请联系客服😊}`, false},
		{"unknown rule name fails the case", `哈哈`, `{rule: prices}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := world(t, fmt.Sprintf("  - name: '%s'\n    comment: %s\n    expect: %s\n", tc.name, tc.comment, tc.expect))
			res := run(t, &Runner{}, f)
			if len(res.Cases) != 1 {
				t.Fatalf("%d cases", len(res.Cases))
			}
			if cr := res.Cases[0]; cr.Passed != tc.pass {
				var b bytes.Buffer
				res.Write(&b, true)
				t.Errorf("passed = %v, want %v; got %+v\n%s", cr.Passed, tc.pass, cr.Got, b.String())
			}
		})
	}
}

func TestFailureMessages(t *testing.T) {
	t.Parallel()
	f := world(t, `  - name: reply differs
    comment: {text: 晚安, user: 小红}
    now: "2026-11-23 21:00"
    expect: {rule: night, reply: "晚安小红~"}
  - name: rule error
    comment: '#abc'
    expect: {no_match: true}
  - name: unknown rule
    comment: 多少钱
    history: [{rule: pric, ago: 1h}]
    expect: {rule: price}
  - name: variants
    comment: {text: 多少钱, user: 小明}
    expect: {rule: price, replies: [亲，价格在橱窗里哦, 再见]}
`)
	res := run(t, &Runner{}, f)
	assertWrites(t, res,
		"FAIL "+f.Path+":5: reply differs\n  comment: \"晚安\" by 小红\n  - want: rule night, answered, reply \"晚安小红~\"\n  + got:  rule night, answered, reply \"晚安小红～\"\n",
		"  ! the replies differ at character 5: want '~' (U+007E), got '～' (U+FF5E)\n",
		"  ! rule \"broken\" failed: when: invalid operation: int(abc)\n",
		"  ! line 14: history: no rule named \"pric\" (did you mean \"price\"?)\n",
		"  ! rendered but not expected: \"小明 你好，价格请看橱窗[比心]\"\n  ! expected but not rendered: \"再见\"\n",
	)
	if res.Passed() != 0 || res.Failed() != 4 {
		t.Errorf("passed %d, failed %d", res.Passed(), res.Failed())
	}
}

// A held or flagged outcome says so when its case fails; pacing comes before
// approval, as in the daemon: an answer held back is skipped, not held.
func TestActionMessages(t *testing.T) {
	t.Parallel()
	f := world(t, `  - name: flag expected, answered
    comment: {text: 多少钱, user: 小明}
    expect: {rule: price, flagged: true}
  - name: answer expected, held
    comment: {text: 我想退款, user: 小明}
    expect: {rule: refund, reply: 小明 您好，退款请联系客服😊}
  - name: skip expected, flagged
    comment: 差评
    expect: {rule: complaint, skipped: no_reply_rule}
  - name: held expected, held back by the cooldown
    comment: {text: 我想退款, user: {nickname: 小明, uid: "1001"}}
    history: [{rule: refund, user: "1001", ago: 30m}]
    expect: {rule: refund, held: true}
  - name: paced, as expected
    comment: {text: 我想退款, user: {nickname: 小明, uid: "1001"}}
    history: [{rule: refund, user: "1001", ago: 30m}]
    expect: {rule: refund, skipped: cooldown}
  - name: flagged, as expected
    comment: 我要投诉你们
    expect: {rule: complaint, flagged: true}
`)
	res := run(t, &Runner{}, f)
	out := assertWrites(t, res,
		"  - want: rule price, flagged (nothing sent)\n  + got:  rule price, answered, replies:\n",
		"  - want: rule refund, answered, reply \"小明 您好，退款请联系客服😊\"\n  + got:  rule refund, held for approval, reply \"小明 您好，退款请联系客服😊\"\n",
		"  - want: rule complaint, skipped no_reply_rule\n  + got:  rule complaint, flagged (nothing sent)\n",
		"  - want: rule refund, held for approval\n  + got:  rule refund, skipped cooldown, reply \"小明 您好，退款请联系客服😊\"\n",
	)
	if res.Passed() != 2 || res.Failed() != 4 {
		t.Errorf("passed %d, failed %d, want 2 and 4:\n%s", res.Passed(), res.Failed(), out)
	}
	if got := res.Cases[5].Got; len(got) != 1 || !got[0].Flagged || got[0].Held || got[0].Skipped != "" || len(got[0].Replies) != 0 {
		t.Errorf("flagged outcome %+v", got)
	}
}

// assertWrites checks that res's report of its failures holds each of
// wants, and returns it.
func assertWrites(t *testing.T, res *Result, wants ...string) string {
	t.Helper()
	var b bytes.Buffer
	res.Write(&b, false)
	for _, want := range wants {
		if !strings.Contains(b.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, b.String())
		}
	}
	return b.String()
}

func TestHistory(t *testing.T) {
	t.Parallel()
	const c = `{text: 多少钱, user: {nickname: 小明, uid: "1001"}, thread: T1}`
	for _, tc := range []struct {
		name, history, skipped string
	}{
		{"none", `[]`, ""},
		{"user cooldown", `[{rule: price, user: "1001", thread: T9, ago: 23h}]`, "cooldown"},
		{"user cooldown over", `[{rule: price, user: "1001", thread: T9, ago: 25h}]`, ""},
		{"user cooldown by at", `[{rule: price, user: "1001", thread: T9, at: "2026-11-22 11:00"}]`, "cooldown"},
		{"another user", `[{rule: price, user: "1002", thread: T9, ago: 1h}]`, ""},
		{"another rule", `[{rule: night, user: "1001", ago: 1m}]`, ""},
		{"another platform", `[{rule: price, user: "1001", thread: T9, platform: weibo, ago: 1h}]`, ""},
		{"thread cooldown (the comment's thread by default)", `[{rule: price, ago: 5m}]`, "cooldown"},
		{"thread cooldown over", `[{rule: price, ago: 11m}]`, ""},
		{"hourly limit", `[{rule: price, thread: T2, ago: 30m, count: 3}]`, "limit"},
		{"hourly limit not reached", `[{rule: price, thread: T2, ago: 30m, count: 2}, {rule: price, thread: T2, ago: 61m}]`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := world(t, fmt.Sprintf("  - comment: %s\n    history: %s\n    expect: {rule: price, skipped: %s}\n", c, tc.history, cmpOr(tc.skipped, "cooldown")))
			res := run(t, &Runner{}, f)
			got := res.Cases[0].Got
			if len(got) != 1 || got[0].Rule != "price" || got[0].Skipped != tc.skipped || len(got[0].Replies) != 2 {
				t.Errorf("got %+v, want price skipped %q with its replies", got, tc.skipped)
			}
		})
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func TestActiveWindowAndNow(t *testing.T) {
	t.Parallel()
	fixed := time.Date(2026, 11, 23, 13, 30, 0, 0, time.UTC) // 21:30 in Shanghai
	f := world(t, `  - name: file now
    comment: 晚安
    expect: {rule: night, skipped: inactive}
  - name: case now
    now: "2026-11-23 20:00"
    comment: 晚安
    expect: {rule: night, reply: 晚安～}
  - name: age
    comment: {text: 晚安, time: "2026-11-23 09:00"}
    expect: {rule: night, skipped: inactive}
`)
	res := run(t, &Runner{Now: func() time.Time { return fixed }}, f)
	for _, cr := range res.Cases {
		if !cr.Passed {
			t.Errorf("%s: got %+v %v", cr.Case.Name, cr.Got, cr.Errors)
		}
	}
	if want := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC).Add(-8 * time.Hour); !res.Cases[2].Now.Equal(want) {
		t.Errorf("now %v, want %v", res.Cases[2].Now, want)
	}
	// Without now: anywhere, the Runner's clock.
	f.Now = nil
	res = run(t, &Runner{Now: func() time.Time { return fixed }}, f)
	if cr := res.Cases[0]; cr.Passed || cr.Got[0].Skipped != "" || !cr.Now.Equal(fixed) {
		t.Errorf("at 21:30 the rule should answer: %+v", cr)
	}
}

func TestFilter(t *testing.T) {
	t.Parallel()
	f := world(t, `  - {name: 问价格 price, comment: 多少钱, expect: {rule: price}}
  - {name: spam, comment: 加微信, expect: {rule: spam, skipped: no_reply_rule}}
  - {name: price again, comment: 哈哈, expect: {rule: price}}
`)
	res := run(t, &Runner{Filter: regexp.MustCompile(`price$`)}, f)
	if len(res.Cases) != 1 || res.Cases[0].Case.Name != "问价格 price" || res.Passed() != 1 {
		t.Errorf("cases %+v", res.Cases)
	}
	res = run(t, &Runner{Filter: regexp.MustCompile(`price`)}, f)
	if len(res.Cases) != 2 || res.Passed() != 1 || res.Failed() != 1 {
		t.Errorf("cases %+v", res.Cases)
	}
}

// Several rule files (or directories) are one list of rules, in order.
func TestRuleFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	testutil.WriteFile(t, filepath.Join(dir, "a.yaml"), "rules:\n  - {name: tag, when: 'true', continue: true, reply: 'A'}\n")
	testutil.WriteFile(t, filepath.Join(dir, "more", "b.yaml"), "rules:\n  - {name: stop, when: 'text == \"stop\"'}\n")
	testutil.WriteFile(t, filepath.Join(dir, "more", "c.yaml"), "rules:\n  - {name: c, when: 'true', reply: 'C'}\n")
	testutil.WriteFile(t, filepath.Join(dir, "d.yaml"), "rules:\n  - {name: d, when: 'true', reply: 'D'}\n")
	testutil.WriteFile(t, filepath.Join(dir, "dup.yaml"), "rules:\n  - {name: c, when: 'true', reply: 'again'}\n")
	src := `rule_files: [a.yaml, more, d.yaml]
tests:
  - {name: through, comment: x, expect: [{rule: tag, reply: A}, {rule: c, reply: C}]}
  - {name: stopped, comment: stop, expect: [{rule: tag, reply: A}, {rule: stop, skipped: no_reply_rule}]}
`
	f, err := Parse(filepath.Join(dir, "t.yaml"), []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	res := run(t, &Runner{}, f)
	if res.Passed() != 2 {
		var b bytes.Buffer
		res.Write(&b, true)
		t.Errorf("%s", b.String())
	}

	f.RuleFiles = []string{"more", "dup.yaml"}
	_, err = (&Runner{}).Run(context.Background(), f)
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "dup.yaml")+":2:1: rule \"c\": duplicate name, first defined at "+filepath.Join(dir, "more", "c.yaml")+":2") {
		t.Errorf("duplicate across files: %v", err)
	}

	f.RuleFiles = []string{"missing.yaml"}
	if _, err = (&Runner{}).Run(context.Background(), f); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("missing rule file: %v", err)
	}
}

// Without rule_files the config's rules and timezone are the defaults; the
// config is not asked for otherwise.
func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rulesPath := filepath.Join(dir, "rules.yaml")
	testutil.WriteFile(t, rulesPath, "rules:\n  - {name: hour, when: 'true', reply: '{{ now.Hour() }}'}\n")
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	asked := 0
	r := &Runner{Config: func() (string, *time.Location, error) { asked++; return rulesPath, tokyo, nil }}

	f, err := Parse(filepath.Join(dir, "t.yaml"), []byte("now: \"2026-11-23T00:00:00Z\"\ntests: [{comment: x, expect: {rule: hour, reply: '9'}}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if res := run(t, r, f); res.Passed() != 1 || asked != 1 {
		t.Errorf("config rules in Tokyo: %+v, asked %d", res.Cases[0].Got, asked)
	}
	// The file's timezone wins.
	f.Location = time.UTC
	if res := run(t, r, f); res.Cases[0].Got[0].Replies[0] != "0" {
		t.Errorf("timezone: UTC: %+v", res.Cases[0].Got)
	}
	// With rule_files, no config.
	f.RuleFiles = []string{"rules.yaml"}
	asked = 0
	f.Location = nil
	if res := run(t, r, f); asked != 0 || res.Cases[0].Got[0].Replies[0] != "0" {
		t.Errorf("asked %d for the config; got %+v", asked, res.Cases[0].Got)
	}
	// Runner.Location is the default timezone.
	r.Location = tokyo
	if res := run(t, r, f); res.Cases[0].Got[0].Replies[0] != "9" {
		t.Errorf("Runner.Location: %+v", res.Cases[0].Got)
	}
	f.RuleFiles = nil
	r.Config = func() (string, *time.Location, error) { return "", nil, errors.New("config.yaml: boom") }
	if _, err := r.Run(context.Background(), f); err == nil || !strings.Contains(err.Error(), "no rule_files") || !strings.Contains(err.Error(), "boom") {
		t.Errorf("config error: %v", err)
	}
	r.Config = nil
	if _, err := r.Run(context.Background(), f); err == nil {
		t.Error("no config and no rule_files: no error")
	}
}

func TestMatch(t *testing.T) {
	t.Parallel()
	got := []Outcome{{Rule: "a", Replies: []string{"x", "y"}}, {Rule: "b", Skipped: model.ReasonNoReplyRule}}
	for _, tc := range []struct {
		want []Expect
		ok   bool
	}{
		{[]Expect{{Rule: "a"}, {Rule: "b", Skipped: "no_reply_rule"}}, true},
		{[]Expect{{Rule: "a", Replies: []string{"y", "x", "x"}, HasReplies: true}, {Rule: "b", Skipped: "no_reply_rule"}}, true},
		{[]Expect{{Rule: "a", Replies: []string{"y"}, HasReplies: true}, {Rule: "b", Skipped: "no_reply_rule"}}, false},
		{[]Expect{{Rule: "a"}}, false},
		{[]Expect{{NoMatch: true}}, false},
	} {
		if ok := Match(tc.want, got); ok != tc.ok {
			t.Errorf("Match(%+v) = %v", tc.want, ok)
		}
	}
	if !Match([]Expect{{NoMatch: true}}, nil) {
		t.Error("no match")
	}
	// Flagged and held are part of the outcome: an answer is neither.
	flagged := []Outcome{{Rule: "c", Flagged: true}}
	held := []Outcome{{Rule: "r", Held: true, Replies: []string{"x"}}}
	for _, tc := range []struct {
		want []Expect
		got  []Outcome
		ok   bool
	}{
		{[]Expect{{Rule: "c", Flagged: true}}, flagged, true},
		{[]Expect{{Rule: "c"}}, flagged, false},
		{[]Expect{{Rule: "r", Held: true, Replies: []string{"x"}, HasReplies: true}}, held, true},
		{[]Expect{{Rule: "r", Replies: []string{"x"}, HasReplies: true}}, held, false},
		{[]Expect{{Rule: "r", Held: true}}, []Outcome{{Rule: "r", Replies: []string{"x"}}}, false},
	} {
		if ok := Match(tc.want, tc.got); ok != tc.ok {
			t.Errorf("Match(%+v, %+v) = %v", tc.want, tc.got, ok)
		}
	}
}
