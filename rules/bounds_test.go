package rules

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// loadCost loads data as a rule file and reports the bytes it allocated and
// the load's error.
func loadCost(t *testing.T, data string) (uint64, error) {
	t.Helper()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := LoadBytes("r.yaml", []byte(data), Options{})
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc, err
}

func ruleFile(when, reply string) string {
	return "rules:\n  - name: d\n    when: '" + when + "'\n    reply: '" + reply + "'\n"
}

// maxLoadAlloc is what refusing one hostile expression may allocate: the
// file itself (up to 1 MiB, held a few times over by the YAML decoder) and
// little more. (What it took before the bounds: BENCHMARKS.md, "Figures
// behind the code's limits".)
const maxLoadAlloc = 32 << 20

// TestHostileNestingRefusedCheaply loads expressions that made expr's
// parser recurse once per character: the one from the issue (520,000
// nested parentheses, which crashed the daemon with a stack overflow) and
// the same class through every construct that recurses. Each is refused
// with its position, allocating little.
func TestHostileNestingRefusedCheaply(t *testing.T) {
	rep := strings.Repeat
	for _, tc := range []struct {
		name, when, reply string
		line, col         int
		msg               string
	}{
		{"parens 520k", rep("(", 520000) + "true" + rep(")", 520000), "hi", 3, 12 + maxExprDepth, "nests brackets more than 64 deep"},
		{"parens 400k", rep("(", 400000) + "true" + rep(")", 400000), "hi", 3, 12 + maxExprDepth, "nests brackets more than 64 deep"},
		{"not 500k", rep("!", 500000) + "true", "hi", 3, 12 + maxExprTokens, "more than 2000 tokens"},
		{"brackets 500k", rep("[", 500000) + rep("]", 500000) + " == []", "hi", 3, 12 + maxExprDepth, "nests brackets more than 64 deep"},
		{"minus 300k", rep("- ", 300000) + "1 > 0", "hi", 3, 12 + 2*maxExprTokens, "more than 2000 tokens"},
		{"power chain", rep("2 ** ", 150000) + "2 > 0", "hi", 3, 0, "more than 2000 tokens"},
		{"ternary chain", rep("true ? true : ", 60000) + "true", "hi", 3, 0, "more than 2000 tokens"},
		{"not words", rep("not ", 200000) + "true", "hi", 3, 0, "more than 2000 tokens"},
		{"template parens", "true", "{{ " + rep("(", 400000) + "1" + rep(")", 400000) + " }}", 4, 0, "nests brackets more than 64 deep"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			alloc, err := loadCost(t, ruleFile(tc.when, tc.reply))
			var le *LoadError
			if !errors.As(err, &le) || len(le.Errors) != 1 {
				t.Fatalf("want one load error, got %v", firstLineOf(err))
			}
			pe := le.Errors[0]
			if !strings.Contains(pe.Msg, tc.msg) || pe.Line != tc.line || (tc.col != 0 && pe.Col != tc.col) || pe.Rule != "d" {
				t.Errorf("error = %s, want line %d col %d rule d and %q", firstLineOf(pe), tc.line, tc.col, tc.msg)
			}
			if alloc > maxLoadAlloc {
				t.Errorf("refusing it allocated %d MB, want at most %d MB", alloc>>20, maxLoadAlloc>>20)
			}
		})
	}
}

// TestBoundsLeaveRealRulesAlone: what a person writes passes, at the edge of
// every bound, and brackets inside strings and comments do not count.
func TestBoundsLeaveRealRulesAlone(t *testing.T) {
	t.Parallel()
	rep := strings.Repeat
	words := make([]string, 3000)
	for i := range words {
		words[i] = fmt.Sprintf("词%d", i)
	}
	list := make([]string, 300)
	for i := range list {
		list[i] = fmt.Sprintf(`"w%d"`, i)
	}
	for name, when := range map[string]string{
		"nested 64":           rep("(", maxExprDepth) + "true" + rep(")", maxExprDepth),
		"long keyword regex":  `text matches "` + strings.Join(words, "|") + `"`,
		"brackets in strings": `text contains "` + rep("(", 5000) + `" or text == "` + rep("[", 5000) + `"`,
		"brackets in comment": "/* " + rep("(", 5000) + " */ true // " + rep("[", 100),
		"list of 300":         "containsAny(text, [" + strings.Join(list, ", ") + "])",
		"unary chain 40":      rep("!", 40) + "false",
	} {
		if _, err := LoadBytes("r.yaml", []byte(ruleFile(strings.ReplaceAll(when, "'", "''"), "ok")), Options{}); err != nil {
			t.Errorf("%s: refused: %v", name, firstLineOf(err))
		}
	}
	if _, err := LoadBytes("r.yaml", []byte(ruleFile("true", "{{ "+rep("(", 60)+"1"+rep(")", 60)+" }}")), Options{}); err != nil {
		t.Errorf("template nested 60: refused: %v", err)
	}
}

func TestExpressionSizeCap(t *testing.T) {
	t.Parallel()
	when := `text == "` + strings.Repeat("x", maxExprBytes) + `"`
	_, err := loadCost(t, ruleFile(when, "hi"))
	if err == nil || !strings.Contains(err.Error(), "r.yaml:3:12: rule \"d\": when: expression is 65546 bytes, more than the 64 KiB") {
		t.Fatalf("err = %v", firstLineOf(err))
	}
}

func firstLineOf(err any) string {
	if err == nil {
		return "<nil>"
	}
	s := fmt.Sprint(err)
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}
