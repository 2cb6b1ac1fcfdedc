package rules

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// emojiCases are texts with what hasEmoji and onlyEmoji say of them.
var emojiCases = []struct {
	name      string
	text      string
	has, only bool
}{
	{"empty", "", false, false},
	{"blank", " \t\n", false, false},
	{"ideographic space", "\u3000", false, false},
	{"Chinese", "你好，价格多少？", false, false},
	{"full-width letters and punctuation", "ＡＢＣ１２３！？（）～", false, false},
	{"CJK punctuation", "。、；：「」『』【】〔〕…—〜・", false, false},
	{"stars, hearts and notes are text", "★☆♡♪♫☞→←", false, false},
	{"kaomoji", "(≧▽≦) →_→ ^_^", false, false},
	{"sticker codes are not Unicode emoji", "[呲牙][比心]", false, true},
	{"sticker codes and text", "[呲牙]好看", false, false},
	{"sticker code too long", "[太长了太长了太长了]", false, false},
	{"sticker code with a space", "[呲 牙]", false, false},
	{"empty brackets", "[]", false, false},
	{"unclosed bracket", "[呲牙", false, false},
	{"emoticon after Chinese", "好看😍😍", true, false},
	{"emoticons only", "😂😂😂", true, true},
	{"emoji between spaces", " 👍 ", true, true},
	{"skin tone", "👍🏽", true, true},
	{"skin tone on a dingbat", "✌🏻", true, true},
	{"ZWJ family", "👨‍👩‍👧‍👦", true, true},
	{"ZWJ couple, as in a nickname", "史密斯夫妇💑", true, false},
	{"ZWJ profession with tone", "👩🏽‍💻", true, true},
	{"flag", "🇨🇳", true, true},
	{"flags", "🇨🇳🇺🇸🇯🇵", true, true},
	{"subdivision flag with tags", "🏴\U000E0067\U000E0062\U000E0073\U000E0063\U000E0074\U000E007F", true, true},
	{"keycap", "1️⃣", true, true},
	{"keycap without selector", "#⃣", true, true},
	{"keycaps", "1️⃣2️⃣3️⃣", true, true},
	{"digits are not keycaps", "123", false, false},
	{"digit with a selector only", "1️", false, false},
	{"heart with selector", "❤️", true, true},
	{"bare heart", "❤", true, true},
	{"hearts suit and smile", "♥☺", true, true},
	{"sparkles and check", "✨✅", true, true},
	{"copyright is text", "© 2025", false, false},
	{"copyright as emoji", "©️", true, true},
	{"trade mark as emoji", "™️", true, true},
	{"arrows are text", "↔", false, false},
	{"arrow as emoji", "↔️", true, true},
	{"CJK wavy dash is text", "〰", false, false},
	{"part alternation mark as emoji", "〽️", true, true},
	{"circled ideograph is text", "㊗", false, false},
	{"circled ideograph as emoji", "㊗️", true, true},
	{"squared CJK emoji", "🈶🉑", true, true},
	{"mahjong red dragon", "🀄", true, true},
	{"other mahjong tiles are text", "🀅", false, false},
	{"alchemical symbols are text", "🜁", false, false},
	{"squared OK", "ok 🆗", true, false},
	{"newest pictographs", "🫠🪿", true, true},
	{"emoji and sticker codes", "[呲牙] 👍🏽❤️ 👨‍👩‍👧 🇨🇳", true, true},
	{"emoji lines", "😂\n😂", true, true},
	{"emoji and ideographic space", "😍\u3000😍", true, true},
	{"emoji and full-width exclamation", "😍！", true, false},
	{"emoji and ASCII exclamation", "😍!", true, false},
	{"joiner alone", "\u200d", false, false},
	{"selector alone", "\ufe0f", false, false},
	{"invalid UTF-8", "\xff😀", true, false},
}

func TestEmojiFunctions(t *testing.T) {
	t.Parallel()
	for _, tt := range emojiCases {
		t.Run(tt.name, func(t *testing.T) {
			if got := hasEmoji(tt.text); got != tt.has {
				t.Errorf("hasEmoji(%q) = %v, want %v", tt.text, got, tt.has)
			}
			if got := onlyEmoji(tt.text); got != tt.only {
				t.Errorf("onlyEmoji(%q) = %v, want %v", tt.text, got, tt.only)
			}
		})
	}
}

// The helpers as rules call them.
func TestEmojiHelpers(t *testing.T) {
	t.Parallel()
	set := mustLoad(t, `
rules:
  - name: has
    when: 'hasEmoji(text)'
    continue: true
  - name: only
    when: 'onlyEmoji(text)'
    continue: true
  - name: codes
    when: 'len(emojiCodes(text)) > 0'
    continue: true
`)
	for _, tt := range emojiCases {
		t.Run(tt.name, func(t *testing.T) {
			ds, errs := set.Evaluate(comment(tt.text), testNow)
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			got := map[string]bool{}
			for _, d := range ds {
				got[d.Rule] = true
			}
			if got["has"] != tt.has || got["only"] != tt.only {
				t.Errorf("hasEmoji %v, onlyEmoji %v; want %v, %v", got["has"], got["only"], tt.has, tt.only)
			}
		})
	}
}

func TestTimeHelpers(t *testing.T) {
	t.Parallel()
	// testNow is Saturday 2025-03-01 12:30 UTC, 20:30 in Shanghai; the
	// comment was written 90 minutes earlier.
	sunday := time.Date(2025, 3, 1, 16, 30, 0, 0, time.UTC) // 00:30 Sunday in Shanghai
	tests := []struct {
		loc  *time.Location
		now  time.Time
		when string
	}{
		{shanghai, testNow, `hour(now) == 20 && weekday(now) == 6`},
		{shanghai, testNow, `hour(created_at) == 19 && weekday(created_at) == 6`},
		{shanghai, sunday, `hour(now) == 0 && weekday(now) == 7`},
		{shanghai, sunday, `hour(created_at) == 19 && weekday(created_at) == 6`},
		{nil, testNow, `hour(now) == 12 && weekday(now) == 6`},
		{nil, sunday, `hour(now) == 16 && weekday(now) == 6`},
		{shanghai, testNow, `hour(now + duration("5h")) == 1 && weekday(now + duration("5h")) == 7`},
		{shanghai, testNow, `hour(now - age) == hour(created_at)`},
		{shanghai, testNow, `weekday(now) in [6, 7] && hour(now) >= 9 && hour(now) < 22`},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.loc, tt.now, tt.when), func(t *testing.T) {
			set, err := LoadBytes("t.yaml", []byte(fmt.Sprintf("rules:\n  - name: x\n    when: %q\n", tt.when)), Options{Location: tt.loc})
			if err != nil {
				t.Fatal(err)
			}
			ds, errs := set.Evaluate(comment("x"), tt.now)
			if len(errs) > 0 || len(ds) != 1 {
				t.Errorf("decisions %+v, errors %v", ds, errs)
			}
		})
	}

	set := mustLoad(t, "rules:\n  - name: x\n    when: 'true'\n    reply: '{{ hour(now) }}点 周{{ weekday(now) }}'\n")
	if ds, _ := set.Evaluate(comment("x"), testNow); len(ds) != 1 || ds[0].Replies[0] != "20点 周6" {
		t.Errorf("rendered %+v", ds)
	}
}

func TestHelperMisuse(t *testing.T) {
	t.Parallel()
	tests := []struct{ when, want string }{
		{`hour(text) > 3`, `t.yaml:3:17: rule "x": when: cannot use string as argument (type time.Time) to call hour`},
		{`weekday(age) == 1`, `t.yaml:3:20: rule "x": when: cannot use time.Duration as argument (type time.Time) to call weekday`},
		{`hour(now) == "20"`, `t.yaml:3:22: rule "x": when: invalid operation: == (mismatched types int and string)`},
		{`hour()`, `t.yaml:3:12: rule "x": when: not enough arguments to call hour`},
		{`hasEmoji(likes)`, `t.yaml:3:21: rule "x": when: cannot use int as argument (type string) to call hasEmoji`},
		{`onlyEmoji(text, text)`, `t.yaml:3:12: rule "x": when: too many arguments to call onlyEmoji`},
		{`hasEmoji(text) + 1 > 0`, `t.yaml:3:27: rule "x": when: invalid operation: + (mismatched types bool and int)`},
	}
	for _, tt := range tests {
		t.Run(tt.when, func(t *testing.T) {
			checkLoadErrors(t, r(`    when: '`+tt.when+`'`), []string{tt.want})
		})
	}
}

// A huge comment costs every helper a bounded amount of work.
func TestHelpersOnHugeText(t *testing.T) {
	t.Parallel()
	const size = 1 << 20
	tail := strings.Repeat("好", size/3) + "加微信"
	codes := strings.Repeat("[呲牙]", size/8)
	emoji := strings.Repeat("😀", size/4)
	tests := []struct {
		text, when string
		want       bool
		err        string
	}{
		// Past the first 32 KiB, a text is not looked at.
		{tail, `containsAny(text, ["加微信"])`, false, ""},
		{tail, `containsAll(text, "好", "加微信")`, false, ""},
		{tail, `len(normalize(text)) <= 32768`, true, ""},
		{tail, `len(stripEmoji(text)) <= 32768`, true, ""},
		{tail, `!hasEmoji(text + "😀")`, true, ""},
		{codes, `len(emojiCodes(text)) == 1000`, true, ""},
		{codes, `containsAny(text, emojiCodes(text))`, true, ""},
		// onlyEmoji cannot tell for a text longer than it reads.
		{emoji, `onlyEmoji(text)`, false, ""},
		{emoji, `hasEmoji(text)`, true, ""},
		{tail, `text matches "加微信$"`, true, ""}, // RE2, linear
		{tail, `containsAny(text, split(text, ""))`, false, "when: containsAny: 349528 strings to look for, more than 1000"},
		{tail, `containsAll(text, split(text[:3003], ""))`, false, "when: containsAll: 1001 strings to look for, more than 1000"},
	}
	start := time.Now()
	for _, tt := range tests {
		set := mustLoad(t, fmt.Sprintf("rules:\n  - name: x\n    when: %q\n", tt.when))
		ds, errs := set.Evaluate(comment(tt.text), testNow)
		if tt.err != "" {
			if len(errs) != 1 || errs[0].Err.Error() != tt.err {
				t.Errorf("%s: errors %v, want %q", tt.when, errs, tt.err)
			}
			continue
		}
		if len(errs) > 0 {
			t.Errorf("%s: %v", tt.when, errs)
		}
		if got := len(ds) == 1; got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.when, got, tt.want)
		}
	}
	// Only a gross regression (work quadratic in the text) fails this, even
	// under the race detector.
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %v", d)
	}
}

func TestClip(t *testing.T) {
	t.Parallel()
	s := strings.Repeat("a", maxHelperText-1) + "价格"
	c := clip(s)
	if len(c) != maxHelperText-1 || !utf8.ValidString(c) {
		t.Errorf("clip cut %d bytes, valid %v", len(c), utf8.ValidString(c))
	}
	if short := "价格😀"; clip(short) != short {
		t.Errorf("clip changed a short text")
	}
}
