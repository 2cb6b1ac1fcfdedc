package rules

import (
	"unicode"
	"unicode/utf8"
)

// Unicode emoji, as hasEmoji and onlyEmoji see them.
//
// A pictograph counts on its own: the emoji of the pictograph blocks
// (U+1F300–U+1F64F misc symbols and pictographs and emoticons, U+1F680–U+1F6FF
// transport, U+1F90C–U+1F9FF and U+1FA70–U+1FAFF supplemental symbols and
// pictographs, regional indicators that make flags, a few enclosed and
// squared symbols), and the characters of Miscellaneous Symbols and Dingbats
// that Unicode lists as emoji (☀ ☺ ♥ ✌ ❤ ✨ ✅ ...).
//
// A character that is mostly text (© ® ™ ‼ ↔ ▶ 〰 〽 ㊗ ㊙ ...) counts only in
// emoji presentation, followed by U+FE0F; a keycap base (0-9 # *) only as a
// keycap, followed by [U+FE0F] U+20E3.
//
// Joiners, variation selectors, skin tones, the keycap mark and the tags of
// subdivision flags are parts of an emoji. CJK punctuation, ★ ☆ ♡ ♪ and the
// platforms' sticker codes such as [呲牙] are not emoji.

// emojiRange is an inclusive range of code points.
type emojiRange struct{ lo, hi rune }

// pictographs count as emoji on their own. Sorted, for a binary search.
var pictographs = []emojiRange{
	{0x231A, 0x231B}, {0x23E9, 0x23EC}, {0x23F0, 0x23F0}, {0x23F3, 0x23F3},
	{0x25FD, 0x25FE},
	// Miscellaneous Symbols: the characters with Emoji=Yes.
	{0x2600, 0x2604}, {0x260E, 0x260E}, {0x2611, 0x2611}, {0x2614, 0x2615},
	{0x2618, 0x2618}, {0x261D, 0x261D}, {0x2620, 0x2620}, {0x2622, 0x2623},
	{0x2626, 0x2626}, {0x262A, 0x262A}, {0x262E, 0x262F}, {0x2638, 0x263A},
	{0x2640, 0x2640}, {0x2642, 0x2642}, {0x2648, 0x2653}, {0x265F, 0x2660},
	{0x2663, 0x2663}, {0x2665, 0x2666}, {0x2668, 0x2668}, {0x267B, 0x267B},
	{0x267E, 0x267F}, {0x2692, 0x2697}, {0x2699, 0x2699}, {0x269B, 0x269C},
	{0x26A0, 0x26A1}, {0x26A7, 0x26A7}, {0x26AA, 0x26AB}, {0x26B0, 0x26B1},
	{0x26BD, 0x26BE}, {0x26C4, 0x26C5}, {0x26C8, 0x26C8}, {0x26CE, 0x26CF},
	{0x26D1, 0x26D1}, {0x26D3, 0x26D4}, {0x26E9, 0x26EA}, {0x26F0, 0x26F5},
	{0x26F7, 0x26FA}, {0x26FD, 0x26FD},
	// Dingbats: the characters with Emoji=Yes.
	{0x2702, 0x2702}, {0x2705, 0x2705}, {0x2708, 0x270D}, {0x270F, 0x270F},
	{0x2712, 0x2712}, {0x2714, 0x2714}, {0x2716, 0x2716}, {0x271D, 0x271D},
	{0x2721, 0x2721}, {0x2728, 0x2728}, {0x2733, 0x2734}, {0x2744, 0x2744},
	{0x2747, 0x2747}, {0x274C, 0x274C}, {0x274E, 0x274E}, {0x2753, 0x2755},
	{0x2757, 0x2757}, {0x2763, 0x2764}, {0x2795, 0x2797}, {0x27A1, 0x27A1},
	{0x27B0, 0x27B0}, {0x27BF, 0x27BF},
	{0x2B1B, 0x2B1C}, {0x2B50, 0x2B50}, {0x2B55, 0x2B55},
	{0x1F004, 0x1F004}, {0x1F0CF, 0x1F0CF},
	{0x1F170, 0x1F171}, {0x1F17E, 0x1F17F}, {0x1F18E, 0x1F18E}, {0x1F191, 0x1F19A},
	{0x1F1E6, 0x1F1FF}, // regional indicators: flags are pairs of them
	{0x1F201, 0x1F202}, {0x1F21A, 0x1F21A}, {0x1F22F, 0x1F22F}, {0x1F232, 0x1F23A},
	{0x1F250, 0x1F251},
	{0x1F300, 0x1F64F}, // misc symbols and pictographs, skin tones, emoticons
	{0x1F680, 0x1F6FF}, // transport and map symbols
	{0x1F7E0, 0x1F7EB}, {0x1F7F0, 0x1F7F0},
	{0x1F90C, 0x1F9FF}, // supplemental symbols and pictographs
	{0x1FA70, 0x1FAFF}, // symbols and pictographs extended-A
}

// textual are emoji only when followed by U+FE0F.
var textual = []emojiRange{
	{0x00A9, 0x00A9}, {0x00AE, 0x00AE}, {0x203C, 0x203C}, {0x2049, 0x2049},
	{0x2122, 0x2122}, {0x2139, 0x2139}, {0x2194, 0x2199}, {0x21A9, 0x21AA},
	{0x2328, 0x2328}, {0x23CF, 0x23CF}, {0x23ED, 0x23EF}, {0x23F1, 0x23F2},
	{0x23F8, 0x23FA}, {0x24C2, 0x24C2}, {0x25AA, 0x25AB}, {0x25B6, 0x25B6},
	{0x25C0, 0x25C0}, {0x25FB, 0x25FC}, {0x2934, 0x2935}, {0x2B05, 0x2B07},
	{0x3030, 0x3030}, {0x303D, 0x303D}, {0x3297, 0x3297}, {0x3299, 0x3299},
}

const (
	zwj           = 0x200D
	keycapMark    = 0x20E3
	emojiSelector = 0xFE0F
)

func inRanges(table []emojiRange, r rune) bool {
	lo, hi := 0, len(table)
	for lo < hi {
		m := (lo + hi) / 2
		switch {
		case r < table[m].lo:
			hi = m
		case r > table[m].hi:
			lo = m + 1
		default:
			return true
		}
	}
	return false
}

// emojiPart reports whether r is a part of an emoji that is no emoji by
// itself: a joiner, a variation selector, the keycap mark or a tag.
func emojiPart(r rune) bool {
	return r == zwj || r == keycapMark || (r >= 0xFE00 && r <= 0xFE0F) || (r >= 0xE0020 && r <= 0xE007F)
}

func keycapBase(r rune) bool {
	return (r >= '0' && r <= '9') || r == '#' || r == '*'
}

// emojiAt reports whether s starts with an emoji (its first rune being one,
// or starting one with the runes that follow); size is the first rune's.
func emojiAt(s string) (emoji bool, size int) {
	r, size := utf8.DecodeRuneInString(s)
	switch {
	case r < 0x80 && !keycapBase(r):
		return false, size
	case r >= 0x2000 && inRanges(pictographs, r):
		return true, size
	case keycapBase(r):
		next, n := utf8.DecodeRuneInString(s[size:])
		if next == emojiSelector {
			next, _ = utf8.DecodeRuneInString(s[size+n:])
		}
		return next == keycapMark, size
	case inRanges(textual, r):
		next, _ := utf8.DecodeRuneInString(s[size:])
		return next == emojiSelector, size
	}
	return false, size
}

// hasEmoji reports whether s contains a Unicode emoji. Sticker codes such as
// [呲牙] are not Unicode emoji: emojiCodes finds those.
func hasEmoji(s string) bool {
	for i := 0; i < len(s); {
		if s[i] < 0x80 && !keycapBase(rune(s[i])) {
			i++
			continue
		}
		ok, n := emojiAt(s[i:])
		if ok {
			return true
		}
		i += n
	}
	return false
}

// onlyEmoji reports whether s holds at least one emoji or sticker code and
// nothing else but parts of emoji and white space.
func onlyEmoji(s string) bool {
	seen := false
	for i := 0; i < len(s); {
		if n := stickerAt(s[i:]); n > 0 {
			seen = true
			i += n
			continue
		}
		ok, n := emojiAt(s[i:])
		if ok {
			seen = true
			i += n
			// The keycap mark and selector that made it one are parts.
			continue
		}
		r, _ := utf8.DecodeRuneInString(s[i:])
		if !emojiPart(r) && !unicode.IsSpace(r) {
			return false
		}
		i += n
	}
	return seen
}

// stickerAt returns the length of the sticker code s starts with (the
// emojiCode pattern: "[", 1 to 8 characters other than brackets and ASCII
// white space, "]"), or 0.
func stickerAt(s string) int {
	if len(s) < 3 || s[0] != '[' {
		return 0
	}
	count := 0
	for i, r := range s[1:] {
		switch r {
		case ']':
			if count == 0 {
				return 0
			}
			return i + 2
		case '[', ' ', '\t', '\n', '\f', '\r':
			return 0
		}
		if count++; count > 8 {
			return 0
		}
	}
	return 0
}
