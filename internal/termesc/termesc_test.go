package termesc

import (
	"testing"
	"unicode/utf8"
)

func TestString(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"plain ascii", "plain ascii"},
		{"价格多少 😀 [呲牙]", "价格多少 😀 [呲牙]"},
		{"\x1b[2J...\nsecond line", `\x1b[2J...\nsecond line`},
		{"a\tb\rc", `a\tb\rc`},
		{"bell\a del\x7f", `bell\x07 del\x7f`},
		{"c1 \u0085 \u009b", `c1 \u0085 \u009b`},
		{"evil\u202etxt.exe", `evil\u202etxt.exe`},
		{"\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069", `\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069`},
		{"mark\u200e\u200f\u061c", `mark\u200e\u200f\u061c`},
		{"sep\u2028\u2029\ufeff", `sep\u2028\u2029\ufeff`},
		{"bad \xff\xfe utf8", `bad \xff\xfe utf8`},
		{"zero width joiner 👨‍👩‍👧 kept", "zero width joiner 👨‍👩‍👧 kept"},
	} {
		if got := String(tc.in); got != tc.want {
			t.Errorf("String(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestStringKeepsSafeInputIdentical(t *testing.T) {
	s := "no escapes needed, 中文"
	if got := String(s); got != s {
		t.Fatalf("String changed %q to %q", s, got)
	}
	if n := testing.AllocsPerRun(100, func() { _ = String(s) }); n != 0 {
		t.Errorf("String allocates %v times on safe input, want 0", n)
	}
}

func TestLines(t *testing.T) {
	t.Parallel()
	if got := Lines("a.yaml:1:2: x\nb.yaml:3:4: \x1b[2Jy\r"); got != "a.yaml:1:2: x\nb.yaml:3:4: \\x1b[2Jy\\r" {
		t.Fatalf("Lines = %q", got)
	}
	if got := Lines("plain\ntwo"); got != "plain\ntwo" {
		t.Fatalf("Lines changed safe text: %q", got)
	}
}

func TestStrings(t *testing.T) {
	t.Parallel()
	got := Strings([]string{"ok", "x\ny"})
	if got[0] != "ok" || got[1] != `x\ny` {
		t.Fatalf("Strings = %q", got)
	}
}

func FuzzString(f *testing.F) {
	f.Add("\x1b[31mred\u202e")
	f.Add("\xff\xfe")
	f.Fuzz(func(t *testing.T, s string) {
		out := String(s)
		if !utf8.ValidString(out) {
			t.Fatalf("String(%q) = %q is not UTF-8", s, out)
		}
		for _, r := range out {
			if Unsafe(r) {
				t.Fatalf("String(%q) = %q still holds %U", s, out, r)
			}
		}
	})
}
