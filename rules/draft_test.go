package rules

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// draftRules is a drafting rule as the issue describes it, and a plain one.
const draftRules = `rules:
  - name: product_question
    when: 'text matches "[?？]"'
    draft:
      llm: deepseek
      system: '你是{{ labels.shop }}的客服。现在是{{ hour(now) }}点。'
      context_file: products.md
      prompt: '用户 {{ user.nickname }} 问：{{ text }}'
      max_length: 100
    reject_if: 'containsAny(draft, ["微信", "vx", "http", "保证"])'
    notify: [ops]
  - name: bare
    when: 'text == "bare"'
    draft: {llm: qwen, prompt: '{{ text }}'}
    approve: false
    cooldown: {user: 24h}
    via: wechat
    continue: true
  - name: thanks
    when: 'text == "谢谢"'
    reply: 不客气
`

// writeRules writes files into a new directory and returns its path.
func writeRules(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestDraftLoadAndEvaluate(t *testing.T) {
	t.Parallel()
	facts := "纯棉T恤：99元，48小时内发货。\n尺码 S–XL 😀\n"
	dir := writeRules(t, map[string]string{"rules.yaml": draftRules, "products.md": facts})
	set, err := Load(filepath.Join(dir, "rules.yaml"), Options{Location: shanghai})
	if err != nil {
		t.Fatal(err)
	}
	infos := set.Rules()
	pq, bare, thanks := infos[0], infos[1], infos[2]
	wantDraft := &DraftInfo{LLM: "deepseek", ContextFile: filepath.Join(dir, "products.md"), MaxLength: 100}
	if !reflect.DeepEqual(pq.Draft, wantDraft) || pq.HasReply || pq.Variants != 0 || pq.Action != ActionReply || !pq.Approve ||
		pq.RejectIf != `containsAny(draft, ["微信", "vx", "http", "保证"])` {
		t.Errorf("product_question = %+v, draft %+v", pq, pq.Draft)
	}
	if bare.Draft == nil || bare.Draft.LLM != "qwen" || bare.Draft.ContextFile != "" || bare.Approve || bare.RejectIf != "" ||
		bare.Via != "wechat" || !bare.Continue || bare.Pacing.CooldownUser == 0 {
		t.Errorf("bare = %+v", bare)
	}
	if thanks.Draft != nil || !thanks.HasReply {
		t.Errorf("thanks = %+v", thanks)
	}
	// Rules() hands out copies.
	infos[0].Draft.LLM = "changed"
	if set.Rules()[0].Draft.LLM != "deepseek" {
		t.Error("Rules() shares the DraftInfo")
	}

	c := comment("这件T恤多少钱？😂")
	c.Labels = map[string]string{"shop": "小棉袄旗舰店"}
	ds, errs := set.Evaluate(c, testNow)
	if len(errs) != 0 || len(ds) != 1 {
		t.Fatalf("Evaluate = %+v, %v", ds, errs)
	}
	d := ds[0]
	want := &Draft{LLM: "deepseek", System: "你是小棉袄旗舰店的客服。现在是20点。", Context: facts,
		Prompt: "用户 史密斯夫妇💑 问：这件T恤多少钱？😂", MaxLength: 100}
	if !reflect.DeepEqual(d.Draft, want) {
		t.Errorf("Draft = %+v\nwant    %+v", d.Draft, want)
	}
	if d.HasReply || d.Replies != nil || d.Action != ActionReply || !d.Approve || !reflect.DeepEqual(d.Notify, []string{"ops"}) {
		t.Errorf("Decision = %+v", d)
	}
	vs := set.Explain(c, testNow)
	if !reflect.DeepEqual(vs[0].Draft, want) || !vs[0].Acts || vs[1].Draft != nil || vs[1].Matched {
		t.Errorf("Explain = %+v", vs)
	}

	// A system template that renders blank is no system text; the
	// prompt still goes out.
	c.Labels = nil
	c.Text = "bare"
	ds, errs = set.Evaluate(c, testNow)
	if len(errs) != 0 || len(ds) != 1 || ds[0].Draft == nil || ds[0].Draft.Prompt != "bare" || ds[0].Draft.System != "" || ds[0].Approve {
		t.Fatalf("bare: %+v, %v", ds, errs)
	}

	for _, tc := range []struct {
		rule, draft string
		want        bool
	}{
		{"product_question", "加我微信 vx12345", true},
		{"product_question", "详情见 HTTP://example.com", true}, // containsAny folds case and width
		{"product_question", "ｖｘ：abc", true},
		{"product_question", "我们保证正品", true},
		{"product_question", "您好，这款T恤99元，48小时内发货。😊", false},
		{"bare", "加我微信", false}, // no reject_if
	} {
		got, err := set.RejectDraft(tc.rule, c, tc.draft, testNow)
		if err != nil || got != tc.want {
			t.Errorf("RejectDraft(%s, %q) = %v, %v; want %v", tc.rule, tc.draft, got, err, tc.want)
		}
	}
	if _, err := set.RejectDraft("nope", c, "x", testNow); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("unknown rule: %v", err)
	}

	if got, want := set.LLMNames(), map[string][]string{"deepseek": {"product_question"}, "qwen": {"bare"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("LLMNames() = %v, want %v", got, want)
	}
	wantWarn := []string{filepath.Join(dir, "rules.yaml") + `:15:5: rule "bare": approve: false sends a model's drafts with no person reading them first`}
	if got := set.Warnings(); !reflect.DeepEqual(got, wantWarn) {
		t.Errorf("Warnings() = %q\nwant %q", got, wantWarn)
	}
}

// reject_if sees every usual name besides the draft; it runs against the
// comment it was asked for.
func TestRejectDraftUsesTheComment(t *testing.T) {
	t.Parallel()
	set := mustLoad(t, r(`    when: 'true'`,
		`    draft: {llm: m, prompt: '{{ text }}'}`,
		`    reject_if: 'draft contains user.nickname || len(draft) > len(text) * 10 || labels.strict == "yes" && draft contains "!"'`))
	c := comment("多少钱")
	for _, tc := range []struct {
		draft  string
		strict string
		want   bool
	}{
		{"亲，99元", "", false},
		{"史密斯夫妇💑 你好", "", true},
		{strings.Repeat("长", 31), "", true},
		{"好!", "", false},
		{"好!", "yes", true},
	} {
		c.Labels = map[string]string{"strict": tc.strict}
		got, err := set.RejectDraft("x", c, tc.draft, testNow)
		if err != nil || got != tc.want {
			t.Errorf("RejectDraft(%q, strict %q) = %v, %v; want %v", tc.draft, tc.strict, got, err, tc.want)
		}
	}
	if got, err := set.RejectDraft("x", c, "", testNow); err != nil || got {
		t.Errorf("empty draft: %v, %v", got, err)
	}
	// A failure at run time is an error naming reject_if.
	set = mustLoad(t, r(`    when: 'true'`, `    draft: {llm: m, prompt: p}`, `    reject_if: 'int(labels.n) > 0'`))
	if _, err := set.RejectDraft("x", c, "d", testNow); err == nil || !strings.HasPrefix(err.Error(), "reject_if: ") {
		t.Errorf("run-time failure: %v", err)
	}
}

// The system template is the operator's; every name that carries what a
// commenter wrote or who they are is refused there, however it is reached.
func TestDraftSystemRefusesTheCommenter(t *testing.T) {
	t.Parallel()
	sys := func(tmpl string) string {
		return r(`    when: 'true'`, `    draft:`, `      llm: m`, `      system: '`+tmpl+`'`, `      prompt: '{{ text }}'`)
	}
	refused := func(name string) string {
		return `draft.system uses ` + name + `: what comes from a comment or its author goes only in draft.prompt, ` +
			`which the model sees as quoted user content (the system template may use platform, thread, post, labels, now)`
	}
	for _, tc := range []struct {
		tmpl, want string
	}{
		{`你是客服 {{ user.nickname }}`, `t.yaml:6:24: rule "x": ` + refused("user")},
		{`{{ text }}`, `t.yaml:6:19: rule "x": ` + refused("text")},
		{`{{ labels["店铺"] + text }}`, `t.yaml:6:34: rule "x": ` + refused("text")},
		{`{{ upper(text) }}`, `t.yaml:6:25: rule "x": ` + refused("text")},
		{`{{ labels[text] }}`, `t.yaml:6:26: rule "x": ` + refused("text")},
		{`{{ labels[user.uid] }}`, `t.yaml:6:26: rule "x": ` + refused("user")},
		{`{{ $env.text }}`, `t.yaml:6:19: rule "x": ` + refused("$env")},
		{`{{ let t = reply_to_user; t }}`, `t.yaml:6:27: rule "x": ` + refused("reply_to_user")},
		{`{{ id }}`, `t.yaml:6:19: rule "x": ` + refused("id")},
		{`{{ reply_to }}`, `t.yaml:6:19: rule "x": ` + refused("reply_to")},
		{`{{ likes > 3 ? "热" : "" }}`, `t.yaml:6:19: rule "x": ` + refused("likes")},
		{`{{ created_at }}`, `t.yaml:6:19: rule "x": ` + refused("created_at")},
	} {
		_, err := LoadBytes("t.yaml", []byte(sys(tc.tmpl)), Options{})
		if err == nil || err.Error() != tc.want {
			t.Errorf("system %s:\n got %v\nwant %s", tc.tmpl, err, tc.want)
		}
	}
	for _, ok := range []string{
		`你是{{ labels.shop }}的客服`,
		`{{ upper(labels.shop) }} {{ platform }} {{ thread }} {{ post }} {{ hour(now) }} {{ weekday(now) }}`,
		`{{ labels["shop"] ?? "本店" }} {{ len(labels) }} {{ now.Format("2006") }}`,
		`{{ let name = labels.shop; name }}`,
	} {
		if _, err := LoadBytes("t.yaml", []byte(sys(ok)), Options{}); err != nil {
			t.Errorf("system %s refused: %v", ok, err)
		}
	}
}

func TestDraftLoadErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{"draft and reply", r(`    when: 'true'`, `    reply: hi`, `    draft: {llm: m, prompt: p}`),
			[]string{`t.yaml:5:5: rule "x": draft and reply: a rule answers with a fixed reply or asks a model for a draft, not both`}},
		{"draft with action flag", r(`    when: 'true'`, `    action: flag`, `    draft: {llm: m, prompt: p}`),
			[]string{`t.yaml:4:5: rule "x": action flag with draft: a flagged comment goes to a person and nothing is drafted (remove draft, or keep it: a draft is held for approval by default)`}},
		{"draft with action skip", r(`    when: 'true'`, `    draft: {llm: m, prompt: p}`, `    action: skip`),
			[]string{`t.yaml:5:5: rule "x": action skip with draft: a skipping rule does not answer (remove draft or action)`}},
		{"draft without llm and prompt", r(`    when: 'true'`, `    draft: {system: s}`),
			[]string{
				`t.yaml:4:12: rule "x": draft: llm is missing (name an llm endpoint of the config, as in llm: deepseek)`,
				`t.yaml:4:12: rule "x": draft: prompt is missing (what the model is asked, as in prompt: '用户问：{{ text }}')`,
			}},
		{"unknown key in draft", r(`    when: 'true'`, `    draft:`, `      llm: m`, `      promt: p`),
			[]string{
				`t.yaml:5:7: rule "x": draft: prompt is missing (what the model is asked, as in prompt: '用户问：{{ text }}')`,
				`t.yaml:6:7: rule "x": unknown key "promt" in draft (did you mean "prompt"?)`,
			}},
		{"draft not a mapping", r(`    when: 'true'`, `    draft: deepseek`),
			[]string{`t.yaml:4:12: rule "x": draft must be a mapping such as {llm: deepseek, prompt: '用户问：{{ text }}'}`}},
		{"empty llm", r(`    when: 'true'`, `    draft: {llm: "", prompt: p}`),
			[]string{`t.yaml:4:18: rule "x": draft.llm must be non-empty text, such as llm: deepseek (an llm endpoint of the config)`}},
		{"unquoted template", r(`    when: 'true'`, `    draft:`, `      llm: m`, `      prompt: {{ text }}`),
			[]string{`t.yaml:6:15: rule "x": draft.prompt is a YAML mapping: quote a template that starts with {{, as in '用户 {{ user.nickname }} 问：{{ text }}'`}},
		{"max_length out of range", r(`    when: 'true'`, `    draft: {llm: m, prompt: p, max_length: 2001}`),
			[]string{`t.yaml:4:44: rule "x": draft.max_length: want a whole number of characters from 1 to 2000, got "2001"`}},
		{"max_length not a number", r(`    when: 'true'`, `    draft: {llm: m, prompt: p, max_length: 一百}`),
			[]string{`t.yaml:4:44: rule "x": draft.max_length: want a whole number of characters from 1 to 2000, got "一百"`}},
		{"context file missing", r(`    when: 'true'`, `    draft:`, `      llm: m`, `      context_file: nope.md`, `      prompt: p`),
			[]string{`t.yaml:6:7: rule "x": draft.context_file nope.md: does not exist`}},
		{"reject_if without draft", r(`    when: 'true'`, `    reply: hi`, `    reject_if: 'draft contains "vx"'`),
			[]string{`t.yaml:5:5: rule "x": reject_if without draft: reject_if checks a model's draft, and this rule asks for none`}},
		{"reject_if not bool", r(`    when: 'true'`, `    draft: {llm: m, prompt: p}`, `    reject_if: 'draft'`),
			[]string{`t.yaml:5:17: rule "x": reject_if: expected bool, but got string`}},
		{"reject_if unknown name", r(`    when: 'true'`, `    draft: {llm: m, prompt: p}`, `    reject_if: 'containsAny(draft, ["a"]) || drat == ""'`),
			[]string{`t.yaml:5:46: rule "x": reject_if: unknown name "drat" (did you mean "draft"?)`}},
		{"empty reject_if", r(`    when: 'true'`, `    draft: {llm: m, prompt: p}`, `    reject_if: ''`),
			[]string{`t.yaml:5:16: rule "x": reject_if must be a non-empty expression over draft, such as 'containsAny(draft, ["微信", "http"])'`}},
		{"draft in when", r(`    when: 'draft == ""'`),
			[]string{`t.yaml:3:12: rule "x": when: unknown name "draft": the model's draft is known only in reject_if`}},
		{"draft in a reply", r(`    when: 'true'`, `    reply: '{{ draft }}'`),
			[]string{`t.yaml:4:16: rule "x": reply: unknown name "draft": the model's draft is known only in reject_if`}},
		{"draft in the prompt", r(`    when: 'true'`, `    draft: {llm: m, prompt: '问：{{ draft }}'}`),
			[]string{`t.yaml:4:35: rule "x": draft.prompt: unknown name "draft": the model's draft is known only in reject_if`}},
		{"every problem at once", r(`    when: 'true'`, `    reply: hi`, `    draft:`, `      llm: m`, `      system: '{{ text }}'`, `      prompt: '{{ txet }}'`, `      max_length: 0`),
			[]string{
				`t.yaml:5:5: rule "x": draft and reply: a rule answers with a fixed reply or asks a model for a draft, not both`,
				`t.yaml:7:19: rule "x": draft.system uses text: what comes from a comment or its author goes only in draft.prompt, which the model sees as quoted user content (the system template may use platform, thread, post, labels, now)`,
				`t.yaml:8:19: rule "x": draft.prompt: unknown name "txet" (did you mean "text"?)`,
				`t.yaml:9:19: rule "x": draft.max_length: want a whole number of characters from 1 to 2000, got "0"`,
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := LoadBytes("t.yaml", []byte(tt.yaml), Options{})
			var le *LoadError
			if !errors.As(err, &le) {
				t.Fatalf("err = %v, want a *LoadError", err)
			}
			var got []string
			for _, pe := range le.Errors {
				got = append(got, pe.Error())
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// The context file is read at load, bounded, and must be text.
func TestDraftContextFile(t *testing.T) {
	t.Parallel()
	rule := func(file string) string {
		return r(`    when: 'true'`, `    draft:`, `      llm: m`, `      context_file: `+file, `      prompt: p`)
	}
	dir := writeRules(t, map[string]string{
		"big.md":      strings.Repeat("长", maxContextFile/3+1),
		"binary.md":   "\xff\xfe商品",
		"limit.md":    strings.Repeat("a", maxContextFile),
		"big.yaml":    rule("big.md"),
		"binary.yaml": rule("binary.md"),
		"limit.yaml":  rule("limit.md"),
		"dir.yaml":    rule("."),
	})
	for name, want := range map[string]string{
		"big.yaml":    `:6:7: rule "x": draft.context_file ` + filepath.Join(dir, "big.md") + `: larger than the 64 KiB a context file may have (it goes into every request)`,
		"binary.yaml": `:6:7: rule "x": draft.context_file ` + filepath.Join(dir, "binary.md") + `: not UTF-8 text`,
		"dir.yaml":    `:6:7: rule "x": draft.context_file ` + dir + `: not a regular file (a directory)`,
	} {
		p := filepath.Join(dir, name)
		_, err := Load(p, Options{})
		if err == nil || err.Error() != p+want {
			t.Errorf("%s:\n got %v\nwant %s", name, err, p+want)
		}
	}
	set, err := Load(filepath.Join(dir, "limit.yaml"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	ds, _ := set.Evaluate(comment("x"), testNow)
	if len(ds) != 1 || len(ds[0].Draft.Context) != maxContextFile {
		t.Errorf("a context file of exactly 64 KiB: %+v", ds)
	}
}
