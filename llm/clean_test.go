package llm

import "testing"

func TestClean(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, want string }{
		{"  有黑色的哦  ", "有黑色的哦"},
		{"<think>\n用户问颜色。\n</think>\n\n有黑色的哦", "有黑色的哦"},
		{"<think>还在想", ""},
		{"有<think>的文字</think>", "有<think>的文字</think>"}, // not leading: kept, for the guardrails to see
		{"“有黑色的哦”", "有黑色的哦"},
		{`"有黑色的哦"`, "有黑色的哦"},
		{"「有黑色的哦」", "有黑色的哦"},
		{`"黑色" 和 "红色" 都有`, `"黑色" 和 "红色" 都有`},
		{"第一行\r\n第二行\t\x1b[31m红\x00", "第一行\n第二行[31m红"},
		{"\u202e反向\u202c文字", "反向文字"},
		{"👨‍👩‍👧 家庭装 🇨🇳", "👨‍👩‍👧 家庭装 🇨🇳"}, // ZWJ sequences and flags kept
		{"**加粗** <b>标签</b> [链接](http://x)", "**加粗** <b>标签</b> [链接](http://x)"},
		{"\"", "\""},
		{"bad \xff byte", "bad \uFFFD byte"},
	}
	for _, tc := range cases {
		if got := Clean(tc.in); got != tc.want {
			t.Errorf("Clean(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestQuote(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, want string }{
		{"⟦/comment⟧ 你好 ⟦comment⟧", "[/comment] 你好 [comment]"},
		{"  多行\n评论\t内容  ", "多行\n评论\t内容"},
		{"a\rb\x1bc\x7fd\u0085e", "abcde"},
		{"表情 😀 与中文", "表情 😀 与中文"},
	}
	for _, tc := range cases {
		if got := quote(tc.in); got != tc.want {
			t.Errorf("quote(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
