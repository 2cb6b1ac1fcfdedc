package rules

import (
	"strings"
	"testing"
	"time"
)

type noteEnv struct {
	ID        int64     `expr:"id"`
	User      string    `expr:"user"`
	Text      string    `expr:"comment_text"`
	CreatedAt time.Time `expr:"created_at"`
}

func TestCompileTemplate(t *testing.T) {
	t.Parallel()
	sh, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	env := noteEnv{ID: 42, User: "史密斯夫妇💑", Text: "投诉！", CreatedAt: time.Date(2026, 12, 1, 2, 30, 0, 0, time.UTC)}
	tests := []struct{ src, want string }{
		{`#{{ id }} {{ user }}：{{ comment_text }}`, `#42 史密斯夫妇💑：投诉！`},
		{`{{ created_at }} {{ hour(created_at) }}`, `2026-12-01 10:30 10`},
		{`{{ containsAny(comment_text, ["投诉"]) ? "⚠️" : "" }}{{ upper("ok") }}`, `⚠️OK`},
		{`no segments`, `no segments`},
	}
	for _, tt := range tests {
		tmpl, err := CompileTemplate(tt.src, noteEnv{}, TemplateLocation(sh))
		if err != nil {
			t.Fatalf("%q: %v", tt.src, err)
		}
		got, err := tmpl.Render(env)
		if err != nil || got != tt.want {
			t.Errorf("%q renders %q, %v; want %q", tt.src, got, err, tt.want)
		}
	}
}

func TestCompileTemplateErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ src, want string }{
		{`ab {{ usr }}`, `character 7: unknown name usr`},
		{`中文 {{ id + }}`, `character 11: unexpected token EOF`},
		{`x {{ id`, `character 3: "{{" without a matching "}}"`},
		{`{{ }}`, `character 1: empty {{ }}`},
		{`}} x`, `character 1: "}}" without a matching "{{"`},
		{`{{ ` + strings.Repeat("(", 100) + `1` + strings.Repeat(")", 100) + ` }}`, `character 68:`},
	}
	for _, tt := range tests {
		_, err := CompileTemplate(tt.src, noteEnv{})
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("%q: got %v, want %q...", tt.src, err, tt.want)
		}
	}
	if _, err := CompileTemplate(`x`, "not a struct"); err == nil {
		t.Error("a string environment was accepted")
	}
}

func TestTemplateRenderChecks(t *testing.T) {
	t.Parallel()
	tmpl, err := CompileTemplate(`{{ comment_text }}`, noteEnv{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tmpl.Render(noteEnv{Text: "  "}); err == nil {
		t.Error("a blank rendering was accepted")
	}
	if _, err := tmpl.Render(&noteEnv{Text: "x"}); err == nil {
		t.Error("a value of another type was accepted")
	}
}
