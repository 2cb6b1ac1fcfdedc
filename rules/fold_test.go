package rules

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// slowNormalize is normalize without the shortcut of folded.
func slowNormalize(s string) string { return cases.Fold().String(norm.NFKC.String(s)) }

// TestFoldedPlain checks the premise of foldedUnicode's fast path: every
// rune of the CJK Unified Ideographs block is its own case fold, has no
// decomposition, and starts and ends a normalization segment (it never
// combines with a neighbour), so a string of such runes and ASCII is in
// NFKC whenever its ASCII part is.
func TestFoldedPlain(t *testing.T) {
	t.Parallel()
	for r := rune(0x4E00); r <= 0x9FFF; r++ {
		if !isHan(r) {
			t.Fatalf("isHan(%U) is false", r)
		}
		s := string(r)
		p := norm.NFKC.PropertiesString(s)
		if unicode.SimpleFold(r) != r || p.Decomposition() != nil || p.CCC() != 0 ||
			!p.BoundaryBefore() || !p.BoundaryAfter() || slowNormalize(s) != s {
			t.Errorf("%U: fold %U, decomposition %q, ccc %d, boundaries %v %v",
				r, unicode.SimpleFold(r), p.Decomposition(), p.CCC(), p.BoundaryBefore(), p.BoundaryAfter())
		}
	}
	for _, r := range []rune{0x4DFF, 0xA000, 0xF900, 0x2F00, 0x3000, 0xFF1F} {
		if isHan(r) {
			t.Errorf("isHan(%U) is true", r)
		}
	}
}

// TestFoldedAgrees checks, on random mixes of ASCII, Han and other text,
// that folded(s) implies normalize leaves s alone.
func TestFoldedAgrees(t *testing.T) {
	t.Parallel()
	pieces := []string{"a", "z", "Z", "0", " ", "[", "]", "\t", "e", "\u0301", "价", "格", "龥", "一", "鿿",
		"😂", "💑", "？", "，", "ß", "Ａ", "ｖ", "\u00e9", "\u2126", "\uf900", "ㄱ", "\u1161", "각", "\xff"}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200000 {
		var b strings.Builder
		for range 1 + rng.IntN(6) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		s := b.String()
		if folded(s) && utf8.ValidString(s) && slowNormalize(s) != s {
			t.Fatalf("folded(%+q) but normalize gives %+q", s, slowNormalize(s))
		}
	}
	for _, s := range []string{"这个价格多少 [呲牙]", "关键词0", "kw3 价格"} {
		if !folded(s) {
			t.Errorf("folded(%q) is false", s)
		}
	}
}
