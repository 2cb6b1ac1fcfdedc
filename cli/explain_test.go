package cli

import (
	"strings"
	"testing"
)

func TestExplainGolden(t *testing.T) {
	t.Parallel()
	base := []string{"explain", "--rules", "testdata/test.rules.yaml", "--timezone", "Asia/Shanghai", "--now", "2026-11-23 10:00"}
	for _, tc := range []struct {
		golden string
		args   []string
	}{
		// A continue rule and a paced rule with variants both act.
		{"explain.price.golden", []string{"--text", "这个多少钱[呲牙]", "--nickname", "小明", "--uid", "1001", "--verified"}},
		// A rule that fails at run time; nothing acts.
		{"explain.error.golden", []string{"--text", "#abc", "--time", "2026-11-23 09:58"}},
		// The active window is checked at --now.
		{"explain.inactive.golden", []string{"--text", "晚安", "--nickname", "小红", "--now", "2026-11-22T21:00:00+08:00"}},
		{"explain.active.golden", []string{"--text", "晚安", "--nickname", "小红", "--now", "2026-11-23 21:00"}},
		// A rule without reply ends evaluation before a matching later one.
		{"explain.spam.golden", []string{"--text", "加微信vx", "--label", "campaign=spring", "--thread", "7251524159191958327"}},
		// A flagging rule sends nothing and notifies two channels.
		{"explain.flag.golden", []string{"--text", "差评！我要投诉", "--nickname", "王五"}},
		// An answer held for approval, with its cooldown.
		{"explain.approve.golden", []string{"--text", "怎么退款😭", "--nickname", "史密斯夫妇💑", "--uid", "1003"}},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			r := runCLI(t, nil, append(base, tc.args...)...)
			if r.code != 0 || r.stderr != "" {
				t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
			}
			golden(t, tc.golden, r.stdout)
		})
	}
}

func TestExplainErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no text", []string{"--rules", "testdata/test.rules.yaml"}, `"text" not set`},
		{"bad label", []string{"--rules", "testdata/test.rules.yaml", "--text", "x", "--label", "campaign"}, "--label"},
		{"bad now", []string{"--rules", "testdata/test.rules.yaml", "--text", "x", "--now", "tomorrow"}, "--now"},
		{"bad timezone", []string{"--rules", "testdata/test.rules.yaml", "--text", "x", "--timezone", "Mars/Olympus"}, "--timezone"},
		{"rules do not load", []string{"--rules", "testdata/test.fail.yaml", "--text", "x"}, "testdata/test.fail.yaml:1:1"},
		{"no config", []string{"--config", "testdata/none.yaml", "--text", "x"}, "none.yaml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, nil, append([]string{"explain"}, tc.args...)...)
			if r.code != 1 || !strings.Contains(r.stderr, tc.want) || r.stdout != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 1 and %q", r.code, r.stdout, r.stderr, tc.want)
			}
		})
	}
}

// Without --rules the config's rules and timezone are used.
func TestExplainConfig(t *testing.T) {
	t.Parallel()
	cfg, db := checkWorld(t, goodRules, "")
	r := runCLI(t, nil, "explain", "--config", cfg, "--text", "how much", "--nickname", "Emma", "--now", "2026-11-23 10:00")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	for _, want := range []string{"(Asia/Shanghai)", "✓ price  matched → acts", `would answer: "Emma 你好，价格请看橱窗[比心]"`, "→ price acts: answers\n"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	assertNoDatabase(t, db)
}
