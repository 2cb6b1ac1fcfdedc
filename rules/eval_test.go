package rules

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/model"
)

var (
	shanghai = time.FixedZone("CST", 8*3600)
	testNow  = time.Date(2025, 3, 1, 12, 30, 0, 0, time.UTC)
)

func comment(text string) model.Comment {
	return model.Comment{
		Platform:    model.PlatformDouyin,
		ID:          "7300000000000000001",
		ThreadID:    "7251524159191958327",
		PostID:      "7251517975340027197",
		RootID:      "7251524159191958327",
		ReplyToID:   "0",
		ReplyToUser: "主播",
		Text:        text,
		CreatedAt:   testNow.Add(-90 * time.Minute),
		Likes:       12,
		Level:       2,
		AuthorLiked: true,
		User: model.User{
			UID: "1001", Nickname: "史密斯夫妇💑", UniqueID: "smith", Region: "CN", Verified: false,
		},
		Labels: map[string]string{"campaign": "spring"},
	}
}

func mustLoad(t testing.TB, yaml string) *Set {
	t.Helper()
	set, err := LoadBytes("t.yaml", []byte(yaml), Options{Location: shanghai})
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func TestEvaluate(t *testing.T) {
	t.Parallel()
	const rules = `
rules:
  - name: spam
    when: 'containsAny(text, ["加微信", "vx"])'
  - name: broken
    when: 'int(labels.campaign) > 3'
  - name: price
    when: 'text matches "多少钱|价格|how much"'
    reply: '{{ user.nickname }} 你好，价格请看橱窗'
  - name: tag
    when: 'containsAny(text, "谢谢")'
    reply: ["不客气 [呲牙]", "谢谢 {{ user.nickname }}"]
    continue: true
  - name: thanks
    when: 'containsAll(text, ["谢谢", "主播"])'
    reply: '{{ user.nickname }} 🙏'
  - name: bad-render
    when: 'text == "render"'
    reply: 'x {{ int(text) }}'
  - name: empty-render
    when: 'text == "render"'
    reply: '{{ labels.none }}  '
  - name: after-render
    when: 'text == "render"'
    reply: ok
`
	set := mustLoad(t, rules)
	sh := Pacing{Location: shanghai}
	tests := []struct {
		text     string
		want     []Decision
		wantErrs []string // rule names
	}{
		{"这个价格多少", []Decision{{Rule: "price", HasReply: true, Replies: []string{"史密斯夫妇💑 你好，价格请看橱窗"}, Pacing: sh, Action: ActionReply}}, []string{"broken"}},
		{"加ＶＸ聊", []Decision{{Rule: "spam", Pacing: sh, Action: ActionSkip}}, nil},
		{"谢谢主播", []Decision{
			{Rule: "tag", HasReply: true, Replies: []string{"不客气 [呲牙]", "谢谢 史密斯夫妇💑"}, Pacing: sh, Action: ActionReply},
			{Rule: "thanks", HasReply: true, Replies: []string{"史密斯夫妇💑 🙏"}, Pacing: sh, Action: ActionReply},
		}, []string{"broken"}},
		{"谢谢", []Decision{{Rule: "tag", HasReply: true, Replies: []string{"不客气 [呲牙]", "谢谢 史密斯夫妇💑"}, Pacing: sh, Action: ActionReply}}, []string{"broken"}},
		{"hello", nil, []string{"broken"}},
		{"render", []Decision{{Rule: "after-render", HasReply: true, Replies: []string{"ok"}, Pacing: sh, Action: ActionReply}}, []string{"broken", "bad-render", "empty-render"}},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			c := comment(tt.text)
			ds, errs := set.Evaluate(c, testNow)
			if !reflect.DeepEqual(ds, tt.want) {
				t.Errorf("decisions = %+v\nwant %+v", ds, tt.want)
			}
			var names []string
			for _, e := range errs {
				names = append(names, e.Rule)
				if e.CommentID != c.ID || e.Err == nil {
					t.Errorf("RuleError = %+v", e)
				}
			}
			if !reflect.DeepEqual(names, tt.wantErrs) {
				t.Errorf("errors = %v, want rules %v", errs, tt.wantErrs)
			}
		})
	}

	_, errs := set.Evaluate(comment("render"), testNow)
	got := make([]string, len(errs))
	for i, e := range errs {
		got[i] = e.Error()
	}
	want := []string{
		`rule "broken": comment 7300000000000000001: when: invalid operation: int(spring)`,
		`rule "bad-render": comment 7300000000000000001: reply: invalid operation: int(render)`,
		`rule "empty-render": comment 7300000000000000001: reply: renders empty text`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("errors:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !errors.Is(errs[2], errEmptyReply) {
		t.Errorf("empty render error does not wrap errEmptyReply")
	}
}

func TestExplain(t *testing.T) {
	t.Parallel()
	set := mustLoad(t, `
rules:
  - name: first
    when: 'text contains "a"'
    reply: 'A {{ likes }}'
    continue: true
  - name: broken
    when: 'containsAny(text, [1])'
  - name: second
    when: 'text contains "b"'
  - name: third
    when: 'text contains "c"'
    reply: C
  - name: never
    when: 'false'
`)
	got := set.Explain(comment("abc"), testNow)
	if len(got) != 5 {
		t.Fatalf("%d verdicts", len(got))
	}
	want := []Verdict{
		{Rule: "first", Matched: true, Replies: []string{"A 12"}, Acts: true, Action: ActionReply},
		{Rule: "broken", Action: ActionSkip},
		{Rule: "second", Matched: true, Acts: true, Action: ActionSkip},
		{Rule: "third", Matched: true, Replies: []string{"C"}, Action: ActionReply},
		{Rule: "never", Action: ActionSkip},
	}
	for i := range want {
		g := got[i]
		if i == 1 {
			if g.Err == nil || g.Err.Error() != "when: containsAny: list element 1 is int, not a string" {
				t.Errorf("broken: Err = %v", g.Err)
			}
			g.Err = nil
		}
		if !reflect.DeepEqual(g, want[i]) {
			t.Errorf("verdict %d = %+v, want %+v", i, g, want[i])
		}
	}
}

func TestEnv(t *testing.T) {
	t.Parallel()
	set := mustLoad(t, `
rules:
  - name: all
    when: >-
      platform == "douyin" && id == "7300000000000000001" && thread == "7251524159191958327" &&
      post == "7251517975340027197" && text == "hi" && likes == 12 && level == 2 &&
      reply_to == "0" && reply_to_user == "主播" && author_liked && user.uid == "1001" &&
      user.nickname == "史密斯夫妇💑" && user.unique_id == "smith" && user.region == "CN" &&
      !user.verified && labels.campaign == "spring" && age == duration("90m") &&
      age > duration("1h") && now.Hour() == 20 && created_at.Hour() == 19 &&
      now == date("2025-03-01 20:30", "2006-01-02 15:04")
    reply: '{{ created_at }}|{{ now }}|{{ age }}|{{ likes }}|{{ likes / 8 }}|{{ author_liked }}|{{ labels.none }}|{{ labels.campaign }}'
`)
	ds, errs := set.Evaluate(comment("hi"), testNow)
	if len(errs) > 0 || len(ds) != 1 {
		t.Fatalf("decisions %+v, errors %v", ds, errs)
	}
	want := "2025-03-01 19:00|2025-03-01 20:30|1h30m0s|12|1.5|true||spring"
	if got := ds[0].Replies[0]; got != want {
		t.Errorf("rendered %q, want %q", got, want)
	}

	// A missing label is "", also for a comment without labels.
	c := comment("hi")
	c.Labels = nil
	set = mustLoad(t, "rules:\n  - name: x\n    when: 'labels.campaign == \"\" && labels[\"x\"] == \"\"'\n")
	if ds, errs := set.Evaluate(c, testNow); len(ds) != 1 || len(errs) != 0 {
		t.Errorf("nil labels: %+v %v", ds, errs)
	}
}

func TestDefaultLocationIsUTC(t *testing.T) {
	t.Parallel()
	set, err := LoadBytes("t.yaml", []byte("rules:\n  - name: x\n    when: 'now.Hour() == 12'\n    reply: '{{ now }}'\n"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	ds, _ := set.Evaluate(comment("x"), testNow.In(shanghai))
	if len(ds) != 1 || ds[0].Replies[0] != "2025-03-01 12:30" {
		t.Errorf("got %+v", ds)
	}
}

func TestRenderText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		tmpl, want string
	}{
		{`史密斯夫妇💑 [呲牙]`, `史密斯夫妇💑 [呲牙]`},
		{`{{ user.nickname }}[呲牙]{{ "👍🏽" }}`, `史密斯夫妇💑[呲牙]👍🏽`},
		{`{{user.nickname}}`, `史密斯夫妇💑`},
		{`{ single } braces {{ "}}" }} and {{ {"a": {"b": "map"}}.a.b }}`, `{ single } braces }} and map`},
		{`{{ emojiCodes("[呲牙][比心]x") }}`, `[呲牙] [比心]`},
		{`{{ likes * 1000000 }}`, `12000000`},
		{`{{ 1e21 }}`, `1000000000000000000000`},
		{`{{ likes > 10 ? "🔥" : "" }} {{ upper(user.unique_id) }}`, `🔥 SMITH`},
	}
	for _, tt := range tests {
		t.Run(tt.tmpl, func(t *testing.T) {
			set := mustLoad(t, fmt.Sprintf("rules:\n  - name: x\n    when: 'true'\n    reply: %q\n", tt.tmpl))
			ds, errs := set.Evaluate(comment("x"), testNow)
			if len(errs) > 0 || len(ds) != 1 {
				t.Fatalf("decisions %+v, errors %v", ds, errs)
			}
			if got := ds[0].Replies[0]; got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestHelpers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		text, when string
		want       bool
	}{
		{"ＶＸ", `normalize(text) == "vx"`, true},
		{"Vx", `normalize(text) == normalize("ＶＸ")`, true},
		{"ＡＢＣ１２３", `normalize(text) == "abc123"`, true},
		{"Straße", `normalize(text) == "strasse"`, true},
		{"价格", `normalize(text) == "价格"`, true},
		{"这个价格多少", `containsAny(text, ["价格"])`, true},
		{"这个价格多少", `containsAny(text, "贵", "价格")`, true},
		{"这个价钱多少", `containsAny(text, ["价格", "多少钱"])`, false},
		{"加我ＶＸ吧", `containsAny(text, ["加微信", "vx"])`, true},
		{"加我Vx吧", `containsAny(text, ["加微信", "VX"])`, true},
		{"好看😍😍", `containsAny(text, ["😍"])`, true},
		{"好看[比心]", `containsAny(text, ["[比心]"])`, true},
		{"hello", `containsAny(text, [""])`, false},
		{"hello", `containsAny(text, [])`, false},
		{"价格多少钱", `containsAll(text, ["价格", "多少"])`, true},
		{"价格", `containsAll(text, ["价格", "多少"])`, false},
		{"MiXeD 价格 CASE", `containsAll(text, "mixed", "case", "价格")`, true},
		{"hello", `containsAll(text, [])`, false},
		{"[呲牙][比心] 好", `emojiCodes(text) == ["[呲牙]", "[比心]"]`, true},
		{"[呲牙]", `"[呲牙]" in emojiCodes(text)`, true},
		{"no codes", `len(emojiCodes(text)) == 0`, true},
		{"[呲牙]", `containsAny("x[呲牙]", emojiCodes(text))`, true},
		{"[呲牙] 👍🏽❤️ 👨‍👩‍👧 🇨🇳", `stripEmoji(text) == ""`, true},
		{"好看[比心]😍", `stripEmoji(text) == "好看"`, true},
		{"price?", `stripEmoji(text) == "price?"`, true},
	}
	for _, tt := range tests {
		t.Run(tt.when+"/"+tt.text, func(t *testing.T) {
			set := mustLoad(t, fmt.Sprintf("rules:\n  - name: x\n    when: %q\n", tt.when))
			ds, errs := set.Evaluate(comment(tt.text), testNow)
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			if got := len(ds) == 1; got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestConcurrentEvaluate(t *testing.T) {
	t.Parallel()
	set := mustLoad(t, `
rules:
  - name: spam
    when: 'containsAny(text, ["加微信", "vx"])'
  - name: price
    when: 'text matches "价格" && likes >= 0'
    reply: '{{ user.nickname }} 你好 {{ id }}'
  - name: other
    when: 'true'
    reply: '{{ text }}'
`)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				c := comment([]string{"加VX", "价格?", "hi"}[i%3])
				c.ID = fmt.Sprintf("%d-%d", g, i)
				ds, errs := set.Evaluate(c, testNow)
				if len(errs) > 0 || len(ds) != 1 {
					t.Errorf("decisions %+v, errors %v", ds, errs)
					return
				}
				if i%3 == 1 && ds[0].Replies[0] != "史密斯夫妇💑 你好 "+c.ID {
					t.Errorf("reply %q for %s", ds[0].Replies[0], c.ID)
					return
				}
			}
		})
	}
	wg.Wait()
}

// fiftyRules is a rule file of typical rules, none of which matches the
// benchmark comment until the last.
func fiftyRules() string {
	var b strings.Builder
	b.WriteString("rules:\n")
	for i := range 49 {
		switch i % 5 {
		case 0:
			fmt.Fprintf(&b, "  - name: r%d\n    when: 'containsAny(text, [\"关键词%d\", \"word%d\"])'\n    reply: '{{ user.nickname }} 你好 %d'\n", i, i, i, i)
		case 1:
			fmt.Fprintf(&b, "  - name: r%d\n    when: 'text matches \"价钱%d|cost%d\" && likes >= 0'\n    reply: '好的 %d'\n", i, i, i, i)
		case 2:
			fmt.Fprintf(&b, "  - name: r%d\n    when: 'labels.campaign == \"c%d\" && !user.verified'\n", i, i)
		case 3:
			fmt.Fprintf(&b, "  - name: r%d\n    when: 'normalize(text) contains \"kw%d\" && age < duration(\"24h\")'\n    reply: 'ok %d'\n", i, i, i)
		case 4:
			fmt.Fprintf(&b, "  - name: r%d\n    when: 'platform == \"weibo\" && user.region == \"R%d\"'\n", i, i)
		}
	}
	b.WriteString("  - name: last\n    when: 'containsAny(text, [\"价格\"])'\n    reply: '{{ user.nickname }} 你好，价格请看橱窗'\n")
	return b.String()
}

func TestFiftyRules(t *testing.T) {
	t.Parallel()
	set := mustLoad(t, fiftyRules())
	ds, errs := set.Evaluate(comment("这个价格多少"), testNow)
	if set.Len() != 50 || len(errs) > 0 || len(ds) != 1 || ds[0].Rule != "last" {
		t.Fatalf("%d rules: %+v %v", set.Len(), ds, errs)
	}
}

func BenchmarkEvaluate50Rules(b *testing.B) {
	set := mustLoad(b, fiftyRules())
	c := comment("这个价格多少 [呲牙]")
	b.ReportAllocs()
	for b.Loop() {
		if ds, _ := set.Evaluate(c, testNow); len(ds) != 1 {
			b.Fatal(ds)
		}
	}
}

func BenchmarkRender(b *testing.B) {
	set := mustLoad(b, `
rules:
  - name: x
    when: 'true'
    reply: '{{ user.nickname }} 你好，{{ likes }} 个赞 [呲牙] {{ now }}'
`)
	segs := set.rules[0].replies[0]
	env := any(NewEnv(comment("hi"), testNow, shanghai))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := render(segs, env, shanghai, run); err != nil {
			b.Fatal(err)
		}
	}
}
