package rules

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/model"
)

func TestLoadFile(t *testing.T) {
	t.Parallel()
	set, err := Load("testdata/good.yaml", Options{})
	if err != nil {
		t.Fatal(err)
	}
	utc := Pacing{Location: time.UTC}
	want := []RuleInfo{
		{Name: "price", File: "testdata/good.yaml", Line: 3, HasReply: true, Variants: 1, Description: "questions about the price", Pacing: utc, Action: ActionReply},
		{Name: "spam", File: "testdata/good.yaml", Line: 8, Pacing: utc, Action: ActionSkip},
		{Name: "thanks", File: "testdata/good.yaml", Line: 11, HasReply: true, Continue: true, Variants: 2, Pacing: utc, Action: ActionReply},
		{Name: "fallback", File: "testdata/good.yaml", Line: 20, Pacing: utc, Action: ActionSkip},
	}
	if got := set.Rules(); !reflect.DeepEqual(got, want) {
		t.Errorf("Rules() =\n%+v\nwant\n%+v", got, want)
	}
	if set.Len() != 4 {
		t.Errorf("Len() = %d", set.Len())
	}
	if got := set.Files(); !reflect.DeepEqual(got, []string{"testdata/good.yaml"}) {
		t.Errorf("Files() = %v", got)
	}
}

func ruleNames(s *Set) []string {
	var names []string
	for _, r := range s.Rules() {
		names = append(names, r.Name)
	}
	return names
}

func TestLoadDir(t *testing.T) {
	t.Parallel()
	set, err := Load("testdata/dir", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ruleNames(set), []string{"a", "b", "c"}; !reflect.DeepEqual(got, want) {
		t.Errorf("rule order = %v, want %v", got, want)
	}
	want := []string{filepath.Join("testdata/dir", "10-first.yaml"), filepath.Join("testdata/dir", "20-second.yml")}
	if got := set.Files(); !reflect.DeepEqual(got, want) {
		t.Errorf("Files() = %v, want %v", got, want)
	}
}

// Dotfiles, editor temporaries, other extensions and subdirectories are not
// rule files, even when they would not parse.
func TestLoadDirSkipsOtherFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, data string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("b.yml", "rules:\n  - name: b\n    when: 'true'\n")
	write("a.yaml", "rules:\n  - name: a\n    when: 'true'\n")
	for _, junk := range []string{".hidden.yaml", "a.yaml~", ".#a.yaml", "#a.yaml#", "a.yaml.swp", "notes.txt", "rules.json"} {
		write(junk, "rules: [broken\n")
	}
	if err := os.Mkdir(filepath.Join(dir, "sub.yaml"), 0o755); err != nil {
		t.Fatal(err)
	}
	set, err := Load(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ruleNames(set), []string{"a", "b"}; !reflect.DeepEqual(got, want) {
		t.Errorf("rules = %v, want %v", got, want)
	}
}

func TestLoadPathErrors(t *testing.T) {
	t.Parallel()
	if _, err := Load("testdata/nope.yaml", Options{}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	if _, err := Load(t.TempDir(), Options{}); err == nil || !strings.Contains(err.Error(), "no *.yaml or *.yml files") {
		t.Errorf("empty dir: %v", err)
	}
}

func TestLoadActions(t *testing.T) {
	t.Parallel()
	set := mustLoad(t, `
rules:
  - name: complaint
    when: 'containsAny(text, ["投诉", "退款"])'
    action: flag
    notify: [ops]
  - name: price
    when: 'text contains "价格"'
    reply: '价格请看橱窗'
    approve: true
  - name: thanks
    when: 'text contains "谢谢"'
    reply: '不客气～'
    notify: ops
  - name: spam
    when: 'text contains "vx"'
    action: skip
    notify: [ops, 老板]
`)
	type got struct {
		action  string
		approve bool
		notify  []string
	}
	want := map[string]got{
		"complaint": {ActionFlag, false, []string{"ops"}},
		"price":     {ActionReply, true, nil},
		"thanks":    {ActionReply, false, []string{"ops"}},
		"spam":      {ActionSkip, false, []string{"ops", "老板"}},
	}
	for _, ri := range set.Rules() {
		if g := (got{ri.Action, ri.Approve, ri.Notify}); !reflect.DeepEqual(g, want[ri.Name]) {
			t.Errorf("%s: %+v, want %+v", ri.Name, g, want[ri.Name])
		}
	}
	// A flagging rule acts: it ends evaluation like a skipping one.
	c := model.Comment{Platform: "douyin", ID: "1", Text: "我要投诉，退款！谢谢"}
	ds, errs := set.Evaluate(c, time.Now())
	if len(errs) != 0 || len(ds) != 1 || ds[0].Rule != "complaint" || ds[0].Action != ActionFlag || !reflect.DeepEqual(ds[0].Notify, []string{"ops"}) {
		t.Fatalf("Evaluate = %+v, %v", ds, errs)
	}
	// The caller's Notify is its own.
	ds[0].Notify[0] = "changed"
	if set.Rules()[0].Notify[0] != "ops" {
		t.Error("a decision's Notify aliases the rule's")
	}
}

func TestLoadDuplicateAcrossFiles(t *testing.T) {
	t.Parallel()
	_, err := Load("testdata/dup", Options{})
	var le *LoadError
	if !errors.As(err, &le) {
		t.Fatalf("want *LoadError, got %v", err)
	}
	want := `testdata/dup/b.yaml:4:13: rule "price": duplicate name, first defined at testdata/dup/a.yaml:2:11`
	if err.Error() != want {
		t.Errorf("got  %s\nwant %s", err, want)
	}
	pe := le.Errors[0]
	if pe.File != "testdata/dup/b.yaml" || pe.Line != 4 || pe.Col != 13 || pe.Rule != "price" {
		t.Errorf("PosError = %+v", pe)
	}
}

// r wraps rule lines in a rules: list of one rule named x.
func r(lines ...string) string {
	return "rules:\n  - name: x\n" + strings.Join(lines, "\n") + "\n"
}

func TestLoadErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{"unknown name, single quotes", r(`    when: 'txt == "a"'`),
			[]string{`t.yaml:3:12: rule "x": when: unknown name "txt" (did you mean "text"?)`}},
		{"unknown name after Chinese", r(`    when: '"价格" == txt'`),
			[]string{`t.yaml:3:20: rule "x": when: unknown name "txt" (did you mean "text"?)`}},
		{"unknown name, plain scalar", r(`    when: text == foo`),
			[]string{`t.yaml:3:19: rule "x": when: unknown name "foo"`}},
		{"unknown field, double quotes", r(`    when: "user.nick == 'a'"`),
			[]string{`t.yaml:3:17: rule "x": when: user has no field "nick" (did you mean "nickname"?)`}},
		{"quoted over two lines", r(`    when: 'text ==`, `      foo'`),
			[]string{`t.yaml:4:7: rule "x": when: unknown name "foo"`}},
		{"non-bool when", r(`    when: 'text'`),
			[]string{`t.yaml:3:12: rule "x": when: expected bool, but got string`}},
		{"non-bool when in a block", r(`    when: |`, `      likes + 1`),
			[]string{`t.yaml:4:7: rule "x": when: expected bool, but got int`}},
		{"syntax error in | block", r(`    when: |`, `      text == "a" &&`, `        likes > > 3`),
			[]string{`t.yaml:5:17: rule "x": when: unexpected token Operator(">")`}},
		{"syntax error in > block", r(`    when: >`, `      text == "a" &&`, `      likes > > 3`),
			[]string{`t.yaml:5:15: rule "x": when: unexpected token Operator(">")`}},
		{"syntax error in >- block after a blank line", r(`    when: >-`, `      text == "a" &&`, ``, `      likes > > 3`),
			[]string{`t.yaml:6:15: rule "x": when: unexpected token Operator(">")`}},
		{"bad regexp", r(`    when: 'text matches "("'`),
			[]string{`t.yaml:3:17: rule "x": when: error parsing regexp: missing closing ): ` + "`(`"}},
		{"helper misuse", r(`    when: 'containsAny(text, 1)'`),
			[]string{`t.yaml:3:30: rule "x": when: cannot use int as argument (type string) to call containsAny`}},
		{"helper arity", r(`    when: 'normalize(text, text) == ""'`),
			[]string{`t.yaml:3:12: rule "x": when: too many arguments to call normalize`}},
		{"too many nodes", r(`    when: '` + strings.Repeat("1+", 600) + `1 > 0'`),
			[]string{`t.yaml:3:513: rule "x": when: compilation failed: expression exceeds maximum allowed nodes`}},
		{"unclosed template", r(`    when: 'true'`, `    reply: '{{ user.nickname 你好'`),
			[]string{`t.yaml:4:13: rule "x": reply: "{{" without a matching "}}"`}},
		{"stray closing braces", r(`    when: 'true'`, `    reply: 'hi }}'`),
			[]string{`t.yaml:4:16: rule "x": reply: "}}" without a matching "{{"`}},
		{"empty template segment", r(`    when: 'true'`, `    reply: 'hi {{ }}'`),
			[]string{`t.yaml:4:16: rule "x": reply: empty {{ }}`}},
		{"unknown name in template", r(`    when: 'true'`, `    reply: '史密斯夫妇💑 {{ user.nick }}'`),
			[]string{`t.yaml:4:28: rule "x": reply: user has no field "nick" (did you mean "nickname"?)`}},
		{"second template of a line", r(`    when: 'true'`, `    reply: "{{ user.nickname }} {{ lieks }}"`),
			[]string{`t.yaml:4:36: rule "x": reply: unknown name "lieks" (did you mean "likes"?)`}},
		{"unprintable template in a list", r(`    when: 'true'`, `    reply: ['ok', 'hi {{ user }}']`),
			[]string{`t.yaml:4:26: rule "x": reply[2]: {{ }} yields user, not something printable: use one of its fields (uid, nickname, unique_id, region, verified)`}},
		{"template in a | block", r(`    when: 'true'`, `    reply: |`, `      你好
      {{ user.nickname +
         1 }}`),
			[]string{`t.yaml:6:24: rule "x": reply: invalid operation: + (mismatched types string and int)`}},
		{"unquoted template", r(`    when: 'true'`, `    reply: {{ user.nickname }} hi`),
			[]string{`t.yaml:4:1: YAML: did not find expected key (quote a reply that contains {{ }})`}},
		{"unknown key", r(`    whn: 'true'`), //nolint:misspell // a deliberate typo: the case checks the did-you-mean message
			[]string{`t.yaml:2:5: rule "x": when is missing`, `t.yaml:3:5: rule "x": unknown key "whn" (did you mean "when"?)`}}, //nolint:misspell // a deliberate typo: the case checks the did-you-mean message
		{"pacing without reply", r(`    when: 'true'`, `    cooldown: {user: 24h}`, `    limit: {hour: 30}`, `    active: "09:00-22:00"`),
			[]string{
				`t.yaml:4:5: rule "x": cooldown without reply: pacing applies to answers, and a rule without reply does not answer`,
				`t.yaml:5:5: rule "x": limit without reply: pacing applies to answers, and a rule without reply does not answer`,
				`t.yaml:6:5: rule "x": active without reply: pacing applies to answers, and a rule without reply does not answer`,
			}},
		{"via without reply", r(`    when: 'true'`, `    via: kitkot`),
			[]string{`t.yaml:4:5: rule "x": via without reply: a rule without reply does not answer`}},
		{"unknown action", r(`    when: 'true'`, `    action: flg`),
			[]string{`t.yaml:4:13: rule "x": action must be one of reply, flag, skip (did you mean "flag"?)`}},
		{"flag with reply", r(`    when: 'true'`, `    reply: hi`, `    action: flag`),
			[]string{`t.yaml:5:5: rule "x": action flag with reply: a flagged comment goes to a person and nothing is sent (remove reply, or keep it with approve: true to hold the answer for approval)`}},
		{"skip with reply", r(`    when: 'true'`, `    reply: hi`, `    action: skip`),
			[]string{`t.yaml:5:5: rule "x": action skip with reply: a skipping rule does not answer (remove reply or action)`}},
		{"reply action without reply", r(`    when: 'true'`, `    action: reply`),
			[]string{`t.yaml:4:5: rule "x": action reply without reply: give the answer in reply`}},
		{"approve without reply", r(`    when: 'true'`, `    action: flag`, `    approve: true`),
			[]string{`t.yaml:5:5: rule "x": approve without reply: approval holds an answer, and this rule has none`}},
		{"approve not a bool", r(`    when: 'true'`, `    reply: hi`, `    approve: "yes"`),
			[]string{`t.yaml:5:14: rule "x": approve must be true or false`}},
		{"notify empty list", r(`    when: 'true'`, `    notify: []`),
			[]string{`t.yaml:4:13: rule "x": notify is an empty list (leave notify out, or name channels: notify: [ops])`}},
		{"notify twice", r(`    when: 'true'`, `    notify: [ops, 运营, ops]`),
			[]string{`t.yaml:4:23: rule "x": notify names channel "ops" twice`}},
		{"notify not a name", r(`    when: 'true'`, `    notify: [{a: b}]`),
			[]string{`t.yaml:4:14: rule "x": notify must name channels of the config's notify section, as in notify: [ops]`}},
		{"empty via", r(`    when: 'true'`, `    reply: hi`, `    via: ""`),
			[]string{`t.yaml:5:10: rule "x": via must name a responder, e.g. via: kitkot`}},
		{"empty file", "", []string{`t.yaml:1:1: file is empty: want a top-level rules: list`}},
		{"comments only", "# nothing\n", []string{`t.yaml:1:1: file is empty: want a top-level rules: list`}},
		{"empty rules list", "rules: []\n", []string{`t.yaml:1:8: no rules`}},
		{"null rules", "rules:\n", []string{`t.yaml:1:7: no rules`}},
		{"rules not a list", "rules: {name: x}\n", []string{`t.yaml:1:8: rules: want a list of rules`}},
		{"unknown top-level key", "rule:\n  - name: x\n", []string{`t.yaml:1:1: unknown top-level key "rule" (did you mean "rules"?)`}},
		{"missing name", "rules:\n  - when: 'true'\n", []string{`t.yaml:2:5: rule #1: name is missing`}},
		{"empty name", "rules:\n  - name: ''\n    when: 'true'\n", []string{`t.yaml:2:11: rule #1: name must be a non-empty string`}},
		{"missing when", r(`    reply: hi`), []string{`t.yaml:2:5: rule "x": when is missing`}},
		{"empty when", r(`    when: ''`), []string{`t.yaml:3:11: rule "x": when must be a non-empty expression`}},
		{"empty reply", r(`    when: 'true'`, `    reply: ""`),
			[]string{`t.yaml:4:12: rule "x": reply is empty (leave reply out for a rule that does not answer)`}},
		{"blank variant", r(`    when: 'true'`, `    reply: ["ok", "  "]`),
			[]string{`t.yaml:4:19: rule "x": reply[2] is empty (leave reply out for a rule that does not answer)`}},
		{"empty reply list", r(`    when: 'true'`, `    reply: []`),
			[]string{`t.yaml:4:12: rule "x": reply is an empty list (leave reply out for a rule that does not answer)`}},
		{"continue not a bool", r(`    when: 'true'`, `    continue: yes`),
			[]string{`t.yaml:4:15: rule "x": continue must be true or false`}},
		{"duplicate key", r(`    when: 'true'`, `    when: 'false'`),
			[]string{`t.yaml:4:5: rule "x": duplicate key "when" (first at line 3)`}},
		{"duplicate name in a file", "rules:\n  - name: x\n    when: 'true'\n  - name: x\n    when: 'true'\n",
			[]string{`t.yaml:4:11: rule "x": duplicate name, first defined at t.yaml:2:11`}},
		{"bad indentation", r(`   when: 'true'`), []string{`t.yaml:3:1: YAML: did not find expected '-' indicator`}},
		{"unterminated quote", r(`    when: 'true`), []string{`t.yaml:3:1: YAML: found unexpected end of stream`}},
		{"every error at once", "rules:\n" +
			"  - name: a\n    when: 'nope'\n" +
			"  - name: b\n    when: 'true'\n    reply: '{{ nope }}'\n" +
			"  - name: c\n    when: 'true'\n    cooldown: {user: 1h}\n", []string{
			`t.yaml:3:12: rule "a": when: unknown name "nope" (did you mean "none"?)`,
			`t.yaml:6:16: rule "b": reply: unknown name "nope" (did you mean "none"?)`,
			`t.yaml:9:5: rule "c": cooldown without reply: pacing applies to answers, and a rule without reply does not answer`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, err := LoadBytes("t.yaml", []byte(tt.yaml), Options{})
			if err == nil {
				t.Fatalf("loaded %d rules, want errors", set.Len())
			}
			var le *LoadError
			if !errors.As(err, &le) {
				t.Fatalf("want *LoadError, got %T %v", err, err)
			}
			var got []string
			for _, pe := range le.Errors {
				got = append(got, pe.Error())
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(tt.want, "\n  "))
			}
			if err.Error() != strings.Join(tt.want, "\n") {
				t.Errorf("Error() = %q", err.Error())
			}
		})
	}
}

func TestVia(t *testing.T) {
	t.Parallel()
	set, err := LoadBytes("t.yaml", []byte("rules:\n  - name: a\n    when: 'true'\n    reply: hi\n    via: wechat\n    continue: true\n  - name: b\n    when: 'true'\n    reply: yo\n"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rs := set.Rules(); rs[0].Via != "wechat" || rs[1].Via != "" {
		t.Errorf("Via = %q, %q; want wechat, \"\"", rs[0].Via, rs[1].Via)
	}
	ds, _ := set.Evaluate(model.Comment{Text: "x"}, time.Now())
	if len(ds) != 2 || ds[0].Via != "wechat" || ds[1].Via != "" {
		t.Errorf("decisions = %+v", ds)
	}
}
