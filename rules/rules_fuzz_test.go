package rules

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/autoreplyd/autoreplyd/model"
)

// fuzzLoc and fuzzNow are fixed so that a failing input replays exactly.
var (
	fuzzLoc = time.FixedZone("CST", 8*3600)
	fuzzNow = time.Date(2025, 3, 1, 12, 30, 0, 0, time.UTC)
)

// fuzzSlow is how long one load or evaluation of a fuzzed input may take: a
// 1 MiB rule file loads in about a second, fuzzer inputs are much smaller.
const fuzzSlow = 10 * time.Second

// fuzzComment is a comment as a source delivers it.
func fuzzComment(text, nickname string) model.Comment {
	return model.Comment{
		Platform: model.PlatformDouyin, ID: "7300000000000000001", ThreadID: "7251524159191958327",
		PostID: "7251517975340027197", RootID: "7251524159191958327", ReplyToID: "0", ReplyToUser: "主播",
		Text: text, CreatedAt: fuzzNow.Add(-90 * time.Minute), Likes: 12, Level: 2,
		User:   model.User{UID: "1001", Nickname: nickname, UniqueID: "smith", Region: "CN"},
		Labels: map[string]string{"campaign": "spring"},
	}
}

// checkLoadError checks the shape of a failed load: a *LoadError whose
// every problem has a place inside the file and a message.
func checkLoadError(t *testing.T, data []byte, err error) {
	t.Helper()
	var le *LoadError
	if !errors.As(err, &le) {
		t.Fatalf("error is %T, not *LoadError: %v", err, err)
	}
	if len(le.Errors) == 0 || err.Error() == "" {
		t.Fatalf("LoadError without problems: %q", err)
	}
	lines := yamlLines(data)
	for _, pe := range le.Errors {
		// PosError documents 1-based lines and columns; Error() treats
		// Line 0 as "no position", which no problem of a load uses.
		if pe.Line < 1 || pe.Col < 1 || pe.Line > lines {
			t.Errorf("position %d:%d outside the %d-line file: %v", pe.Line, pe.Col, lines, pe)
		}
		if strings.TrimSpace(pe.Msg) == "" || pe.File != "f.yaml" {
			t.Errorf("problem without a message or file: %#v", pe)
		}
	}
}

// yamlLines counts lines as the YAML parser does: \r\n, \n, a lone \r,
// NEL, LS and PS all end one.
func yamlLines(data []byte) int {
	s := strings.ReplaceAll(string(data), "\r\n", "\n")
	n := 1
	for _, r := range s {
		switch r {
		case '\n', '\r', '\u0085', '\u2028', '\u2029':
			n++
		}
	}
	return n
}

// checkEvaluate evaluates set on c and checks the outcome against the
// loaded rules and against Explain.
func checkEvaluate(t *testing.T, set *Set, c model.Comment) []Decision {
	t.Helper()
	infos := map[string]RuleInfo{}
	for _, r := range set.Rules() {
		infos[r.Name] = r
	}
	start := time.Now()
	ds, errs := set.Evaluate(c, fuzzNow)
	if d := time.Since(start); d > fuzzSlow {
		t.Errorf("Evaluate took %v", d)
	}
	for i, d := range ds {
		info, ok := infos[d.Rule]
		if !ok {
			t.Fatalf("decision for rule %q, not loaded", d.Rule)
		}
		if d.HasReply != info.HasReply || (d.HasReply && len(d.Replies) != info.Variants) || (!d.HasReply && len(d.Replies) != 0) {
			t.Errorf("decision %+v does not fit rule %+v", d, info)
		}
		if (d.Draft != nil) != (info.Draft != nil) || d.Draft != nil && (d.HasReply || d.Action != ActionReply || strings.TrimSpace(d.Draft.Prompt) == "") {
			t.Errorf("decision %+v does not fit drafting rule %+v", d, info)
		}
		for _, r := range d.Replies {
			if strings.TrimSpace(r) == "" {
				t.Errorf("rule %q: blank reply %q", d.Rule, r)
			}
		}
		// Only the last decision may end evaluation.
		if i < len(ds)-1 && !info.Continue {
			t.Errorf("decision for rule %q without continue is followed by others", d.Rule)
		}
	}
	for _, e := range errs {
		if _, ok := infos[e.Rule]; !ok || e.Err == nil || e.CommentID != c.ID {
			t.Errorf("bad RuleError %#v", e)
		}
	}
	// Evaluate acts on exactly the rules Explain marks as acting.
	var acts []string
	for _, v := range set.Explain(c, fuzzNow) {
		if v.Acts {
			acts = append(acts, v.Rule)
		}
	}
	var got []string
	for _, d := range ds {
		got = append(got, d.Rule)
	}
	if strings.Join(got, "\x00") != strings.Join(acts, "\x00") {
		t.Errorf("Evaluate acts on %q, Explain on %q", got, acts)
	}
	return ds
}

func addFileSeeds(f *testing.F, paths ...string) {
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
}

func FuzzLoadRules(f *testing.F) {
	addFileSeeds(f, "../rules.example.yaml", "testdata/good.yaml")
	for _, s := range []string{
		"",
		"\ufeffrules:\n  - name: bom\n    when: 'true'\n",
		"rules:\n  - name: a\n    when: 'true'\n  - name: a\n    when: 'false'\n",
		"rules:\n  - name: x\n    when: |\n      text matches \"(\"\n",
		"rules:\n  - name: x\n    when: 'true'\n    reply: {{ user.nickname }}\n",
		"rules:\n  - name: x\n    when: 'text'\n    reply: >\n      a {{ labels }}\n\n      b\n",
		"rules:\n  - name: p\n    when: 'true'\n    reply: [a, b]\n    cooldown: {user: 1.5d, thread: 10m}\n    limit: {hour: 3}\n    active: [\"周一至周五 09:00-22:00\", \"Sat,Sun 10:00~20:00\"]\n",
		"rules:\n  - name: x\n    whn: 'true'\n    via: kitkot\n", //nolint:misspell // a deliberate typo: a seed for the unknown-key path
		"rules: [&r {name: x, when: 'true'}, *r, *r]\n",
		"rules: &a [*a]\n",
		"rules:\n - &r {name: x, when: 'true', reply: [*r], description: *r}\n",
		"a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nrules: [*c]\n",
		"rules:\n  - name: x\n    when: 'true'\n---\nrules: []\n",
		strings.Repeat("[", 10000) + strings.Repeat("]", 10000),
		strings.Repeat("- ", 5000) + "x\n",
		"rules:\n  - name: x\n    when: 'true'\n    reply: \"{{ 'a}}b' }} {{ {'k': '}}'}.k }}\"\n",
		"rules:\n  - name: x\n    when: 'true'\n    reply: '{{ repeat(\"ab\", 3) }} {{ 1..3 }} {{ likes / 0 }} {{ now }} {{ age }}'\n",
		"rules:\n\t- name: tab\n",
		"rules:\n  - name: x\n    when: 'true'\n    continue: yes\n",
		"rules:\n  - name: d\n    when: 'text matches \"[?？]\"'\n    draft:\n      llm: deepseek\n      system: '你是{{ labels.shop }}的客服'\n      prompt: '{{ user.nickname }} 问：{{ text }}'\n      max_length: 100\n    reject_if: 'containsAny(draft, [\"微信\", \"vx\"])'\n    approve: false\n",
		"rules:\n  - name: d\n    when: 'true'\n    draft: {llm: m, system: '{{ labels[text] }}', prompt: '{{ draft }}', context_file: x.md}\n    reject_if: 'draft'\n    reply: r\n",
	} {
		f.Add([]byte(s))
	}
	// A billion laughs through the rules list: every alias is a rule to
	// compile again.
	bomb := "rules:\n  - &r {name: x, when: 'text matches \"a+b+\" && containsAny(text, [\"a\", \"b\"])', reply: '{{ user.nickname }}'}\n" +
		strings.Repeat("  - *r\n", 2000)
	f.Add([]byte(bomb))
	// Expressions nested far beyond the bounds (see checkBounds): before
	// them, 520,000 parentheses overflowed the parser's stack. The mutator
	// grows and reshapes these.
	deep := func(when, reply string) []byte {
		return []byte("rules:\n  - name: d\n    when: '" + when + "'\n    reply: '" + reply + "'\n")
	}
	f.Add(deep(strings.Repeat("(", 5000)+"true"+strings.Repeat(")", 5000), "hi"))
	f.Add(deep(strings.Repeat("!", 5000)+"true", "hi"))
	f.Add(deep(strings.Repeat("2 ** ", 2000)+"2 > 0", "hi"))
	f.Add(deep(strings.Repeat("true ? true : ", 1000)+"true", "hi"))
	f.Add(deep("true", "{{ "+strings.Repeat("[", 5000)+strings.Repeat("]", 5000)+" }}"))
	f.Add(deep(strings.Repeat("(", maxExprDepth)+"true"+strings.Repeat(")", maxExprDepth), "{{ "+strings.Repeat("-", maxExprTokens-1)+"1 }}"))

	comments := []model.Comment{
		fuzzComment("兄弟那你得多补补橱窗牡蛎精安排吧[暗中观察] 多少钱？", "史密斯夫妇💑"),
		fuzzComment("😂😂👍🏽[比心]", "👩‍👩‍👧"),
		fuzzComment("", ""),
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		start := time.Now()
		set, err := LoadBytes("f.yaml", data, Options{Location: fuzzLoc})
		if d := time.Since(start); d > fuzzSlow {
			t.Errorf("load of %d bytes took %v", len(data), d)
		}
		if err != nil {
			if set != nil {
				t.Errorf("a set and an error")
			}
			checkLoadError(t, data, err)
			return
		}
		if set == nil || set.Len() == 0 || set.Len() != len(set.Rules()) {
			t.Fatalf("load succeeded with no rules")
		}
		seen := map[string]bool{}
		for _, r := range set.Rules() {
			if r.Name == "" || seen[r.Name] || r.Line < 1 || (r.HasReply != (r.Variants > 0)) {
				t.Errorf("bad rule %+v", r)
			}
			seen[r.Name] = true
		}
		for _, c := range comments {
			checkEvaluate(t, set, c)
		}
	})
}

// yamlQuote writes s as a YAML double-quoted scalar on one line. (The YAML
// encoder is not used: it writes "\n0" as a block scalar its own parser
// refuses.)
func yamlQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r >= 0x20 && r < 0x7f, r >= 0xa0 && r < 0x2028, r > 0x2029 && r < 0xfeff, r > 0xfeff && r < 0xfffe, r >= 0x10000:
			b.WriteRune(r)
		default:
			fmt.Fprintf(&b, "\\U%08X", r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// yamlValue reads back the reply of a one-rule file.
func yamlValue(doc []byte) (string, error) {
	var v struct {
		Rules []struct{ Reply string }
	}
	if err := yaml.Unmarshal(doc, &v); err != nil {
		return "", err
	}
	if len(v.Rules) != 1 {
		return "", fmt.Errorf("%d rules", len(v.Rules))
	}
	return v.Rules[0].Reply, nil
}

// FuzzRenderTemplate loads a one-rule file whose reply is tmpl (YAML-quoted
// by yamlQuote) and renders it for a comment with text and nickname.
func FuzzRenderTemplate(f *testing.F) {
	for _, s := range [][3]string{
		{"{{ user.nickname }} 你好，价格请看视频下方的橱窗哦～", "多少钱", "史密斯夫妇💑"},
		{"亲，价格都在橱窗里，欢迎去看看[比心]", "价格", "x"},
		{"谢谢{{ user.nickname }}的支持！[比心]", "太棒了😂", "👩‍👩‍👧"},
		{"不客气 {{ user.nickname }} [呲牙]", "谢谢", ""},
		{"{{ text[0:1] }}", "多少钱", "n"},
		{"{{ text[1] }}|{{ text[-1:] }}", "😂a", "n"},
		{"{{ upper(text) }} {{ lower(user.nickname) }} {{ normalize(text) }}", "ＡＢＣ多少钱", "ß"},
		{"{{ stripEmoji(text) }}{{ emojiCodes(text) }}{{ hasEmoji(text) }}", "[比心]😂👍🏽 ok", "n"},
		{"{{ '}}' }} {{ \"{{\" }} {{ `}}` }}", "", ""},
		{"{{ {'a': '}}'}.a }}", "t", "n"},
		{"{{", "t", "n"}, {"}}", "t", "n"}, {"{{ }}", "t", "n"}, {"{{ user }}", "t", "n"}, {"{{ labels }}", "t", "n"},
		{"{{ now }} {{ created_at }} {{ age }} {{ likes / 0 }} {{ -likes / 0 }} {{ 0.1 + 0.2 }}", "t", "n"},
		{"{{ 1..5 }} {{ [1, 'a', nil, true] }} {{ repeat(text, 3) }}", "ab", "n"},
		{"{{ len(repeat(text, 1000000)) }}", strings.Repeat("长评论", 1500), "n"},
		{"{{ nil }}   ", "t", "n"},
		{"{{ text }}", "   ", "n"},
		{"{{ \"\\xff\" }}", "t", "n"},
		{"  leading and trailing  \r\n\t", "t", "n"},
		{"line1\nline2\n\n  indented", "t", "n"},
		{"- not a list", "t", "n"}, {"# not a comment", "t", "n"}, {"*alias", "t", "n"}, {"&anchor x", "t", "n"},
		{"@{{ user.nickname }}: {{ reply_to_user }}", "t", "n"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, tmpl, text, nickname string) {
		if !utf8.ValidString(tmpl) {
			return // not text: YAML cannot hold it
		}
		doc := []byte("rules:\n  - name: t\n    when: 'true'\n    reply: " + yamlQuote(tmpl) + "\n")
		if n, err := yamlValue(doc); err != nil || n != tmpl {
			t.Fatalf("quoting %q: read back %q, %v", tmpl, n, err)
		}
		set, err := LoadBytes("f.yaml", doc, Options{Location: fuzzLoc})
		literal := !strings.Contains(tmpl, "{{") && !strings.Contains(tmpl, "}}")
		if err != nil {
			checkLoadError(t, doc, err)
			if literal && strings.TrimSpace(tmpl) != "" {
				t.Fatalf("literal reply %q refused: %v", tmpl, err)
			}
			return
		}
		c := fuzzComment(text, nickname)
		ds := checkEvaluate(t, set, c)
		_, errs := set.Evaluate(c, fuzzNow)
		if len(ds)+len(errs) != 1 {
			t.Fatalf("%d decisions and %d errors for one rule that always matches", len(ds), len(errs))
		}
		if len(ds) == 0 {
			if literal {
				t.Errorf("literal reply %q failed: %v", tmpl, errs[0])
			}
			return
		}
		out := ds[0].Replies[0]
		if literal && out != tmpl {
			t.Errorf("literal reply %q rendered as %q", tmpl, out)
		}
		if utf8.ValidString(text) && utf8.ValidString(nickname) && !utf8.ValidString(out) {
			t.Errorf("template %q with text %q, nickname %q rendered invalid UTF-8 %q", tmpl, text, nickname, out)
		}
	})
}
