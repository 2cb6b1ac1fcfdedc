package rules

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/expr-lang/expr"
	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// helperOptions registers the rule author's helpers once, with typed
// signatures, so that a misuse such as containsAny(text, 1) is refused when
// the rules are loaded rather than when a comment arrives.
var helperOptions = []expr.Option{
	expr.Function("normalize", fnNormalize,
		new(func(string) string)),
	// Array literals in expr are []any; a []string overload lets a helper's
	// result (emojiCodes) be passed too, and the variadic one needs no brackets.
	expr.Function("containsAny", fnContainsAny,
		new(func(string, []any) bool),
		new(func(string, []string) bool),
		new(func(string, string, ...string) bool)),
	expr.Function("containsAll", fnContainsAll,
		new(func(string, []any) bool),
		new(func(string, []string) bool),
		new(func(string, string, ...string) bool)),
	expr.Function("emojiCodes", fnEmojiCodes,
		new(func(string) []string)),
	expr.Function("stripEmoji", fnStripEmoji,
		new(func(string) string)),
	expr.Function("hasEmoji", fnHasEmoji,
		new(func(string) bool)),
	expr.Function("onlyEmoji", fnOnlyEmoji,
		new(func(string) bool)),
	// Replaces expr's builtin, which builds the string before checking its
	// memory budget: repeat(text, 1000000) of a 4 KB comment would build
	// 4 GB.
	expr.Function("repeat", fnRepeat,
		new(func(string, int) string)),
}

// timeHelpers are the helpers that read a time in the configured timezone.
func timeHelpers(loc *time.Location) []expr.Option {
	return []expr.Option{
		// hour(now) is 0 to 23.
		expr.Function("hour", func(params ...any) (any, error) {
			return params[0].(time.Time).In(loc).Hour(), nil
		}, new(func(time.Time) int)),
		// weekday(now) is ISO: 1 = Monday ... 7 = Sunday.
		expr.Function("weekday", func(params ...any) (any, error) {
			return isoWeekday(params[0].(time.Time).In(loc).Weekday()), nil
		}, new(func(time.Time) int)),
	}
}

func isoWeekday(d time.Weekday) int {
	if d == time.Sunday {
		return 7
	}
	return int(d)
}

// Bounds on the work of one helper call. Programs always terminate, but a
// helper is Go code: a 1 MB comment or a list built from one must not make
// a rule take seconds. A comment is at most a few KB.
const (
	// maxHelperText is how much of a string the helpers look at: the text
	// helpers read (and return) at most its first maxHelperText bytes.
	maxHelperText = 32 << 10
	// maxNeedles is the longest list containsAny and containsAll take; a
	// longer one is an error. A literal list cannot come close (maxExprNodes).
	maxNeedles = 1000
	// maxCodes is the most sticker codes emojiCodes returns.
	maxCodes = 1000
)

// clip cuts s to at most maxHelperText bytes, on a character boundary.
func clip(s string) string {
	if len(s) <= maxHelperText {
		return s
	}
	i := maxHelperText
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i]
}

// A cases.Caser keeps state and must not be shared between goroutines.
var folders = sync.Pool{New: func() any { c := cases.Fold(); return &c }}

// normalize folds s for comparison: NFKC (full-width letters and digits
// become ASCII, compatibility forms are unified) then Unicode case folding.
func normalize(s string) string {
	if folded(s) {
		return s
	}
	c := folders.Get().(*cases.Caser)
	defer folders.Put(c)
	return c.String(norm.NFKC.String(s))
}

// folded reports, cheaply and conservatively, that normalize(s) == s: the
// usual comment (Chinese, emoji, lower-case ASCII) needs no allocation.
func folded(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf {
			return foldedUnicode(s)
		} else if 'A' <= c && c <= 'Z' {
			return false
		}
	}
	return true
}

func foldedUnicode(s string) bool {
	// plain: only ASCII and CJK Unified Ideographs so far, which are in
	// NFKC as they stand, whatever their neighbours (TestFoldedPlain).
	plain := true
	for _, r := range s {
		if r < utf8.RuneSelf {
			if 'A' <= r && r <= 'Z' {
				return false
			}
			continue
		}
		if isHan(r) {
			continue // no case, no decomposition, never composes
		}
		plain = false
		// Below U+2E80 lie the Latin, Greek, Cyrillic... letters whose full
		// case folding may differ from their simple one; above it, a rune
		// without a simple fold has no full one either, once NFKC has run.
		if r < 0x2E80 || unicode.SimpleFold(r) != r {
			return false
		}
	}
	return plain || norm.NFKC.IsNormalString(s)
}

// isHan reports whether r is in the block of CJK Unified Ideographs, the
// bulk of Chinese text.
func isHan(r rune) bool { return 0x4E00 <= r && r <= 0x9FFF }

func fnNormalize(params ...any) (any, error) {
	return normalize(clip(params[0].(string))), nil
}

// eachNeedle calls fn with every normalized, non-empty string of a helper's
// list argument (any of the three typed forms) until fn returns false.
func eachNeedle(name string, params []any, fn func(string) bool) error {
	if n := needles(params); n > maxNeedles {
		return fmt.Errorf("%s: %d strings to look for, more than %d", name, n, maxNeedles)
	}
	visit := func(s string) bool {
		// An empty needle is in every text: ignore it rather than match all.
		if n := normalize(clip(s)); n != "" {
			return fn(n)
		}
		return true
	}
	switch list := params[1].(type) {
	case []string:
		for _, s := range list {
			if !visit(s) {
				return nil
			}
		}
	case []any:
		for i, v := range list {
			s, ok := v.(string)
			if !ok {
				return fmt.Errorf("%s: list element %d is %T, not a string", name, i+1, v)
			}
			if !visit(s) {
				return nil
			}
		}
	default:
		for _, v := range params[1:] {
			if !visit(v.(string)) {
				return nil
			}
		}
	}
	return nil
}

// needles counts the strings of a helper's list argument.
func needles(params []any) int {
	switch list := params[1].(type) {
	case []string:
		return len(list)
	case []any:
		return len(list)
	}
	return len(params) - 1
}

func fnContainsAny(params ...any) (any, error) {
	text := normalize(clip(params[0].(string)))
	found := false
	err := eachNeedle("containsAny", params, func(n string) bool {
		found = strings.Contains(text, n)
		return !found
	})
	if err != nil {
		return nil, err
	}
	return found, nil
}

func fnContainsAll(params ...any) (any, error) {
	text := normalize(clip(params[0].(string)))
	all, seen := true, false
	err := eachNeedle("containsAll", params, func(n string) bool {
		seen = true
		all = strings.Contains(text, n)
		return all
	})
	if err != nil {
		return nil, err
	}
	// No needle at all is no evidence: false rather than vacuously true.
	return all && seen, nil
}

// emojiCode is a platform text emoji such as Douyin's [呲牙] or [比心].
var emojiCode = regexp.MustCompile(`\[[^\[\]\s]{1,8}\]`)

func fnEmojiCodes(params ...any) (any, error) {
	codes := emojiCode.FindAllString(clip(params[0].(string)), maxCodes)
	if codes == nil {
		codes = []string{}
	}
	return codes, nil
}

// stripEmoji removes text emoji codes and Unicode emoji (with their
// modifiers and joiners) and trims the spaces left around.
func stripEmoji(s string) string {
	s = emojiCode.ReplaceAllString(s, "")
	s = strings.Map(func(r rune) rune {
		switch {
		case r == 0x200D, // zero-width joiner
			r == 0x20E3,                  // combining keycap
			r >= 0xFE00 && r <= 0xFE0F,   // variation selectors
			r >= 0x1F3FB && r <= 0x1F3FF, // skin tones
			r >= 0xE0020 && r <= 0xE007F, // tag sequences (flags)
			unicode.Is(unicode.So, r) && r >= 0x2000:
			return -1
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

func fnStripEmoji(params ...any) (any, error) {
	return stripEmoji(clip(params[0].(string))), nil
}

func fnHasEmoji(params ...any) (any, error) {
	return hasEmoji(clip(params[0].(string))), nil
}

// maxRepeat is the longest string repeat builds, expr's memory budget.
const maxRepeat = 1e6

func fnRepeat(params ...any) (any, error) {
	s, n := params[0].(string), params[1].(int)
	if n < 0 {
		return nil, fmt.Errorf("repeat: count %d is negative", n)
	}
	if n > 0 && len(s) > maxRepeat/n {
		return nil, fmt.Errorf("repeat: result longer than %d bytes", int(maxRepeat))
	}
	return strings.Repeat(s, n), nil
}

// fnOnlyEmoji is false for a text longer than the helpers read: what it has
// past that is unknown.
func fnOnlyEmoji(params ...any) (any, error) {
	s := params[0].(string)
	return len(s) <= maxHelperText && onlyEmoji(s), nil
}
