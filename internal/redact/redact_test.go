package redact

import (
	"net/url"
	"slices"
	"strings"
	"testing"
)

func TestRedactorForms(t *testing.T) {
	t.Parallel()
	key := "k3y/with+odd chars&=\"<"
	r := New("tok-123456", key, "abc", "")
	for _, in := range []string{
		"token tok-123456 echoed",
		"query ?api_key=" + url.QueryEscape(key) + "&x=1",
		"path /k/" + url.PathEscape(key) + "/x",
		"raw " + key,
		`json {"key":"k3y/with+odd chars\u0026=\"\u003c"}`,
		`json {"key":"k3y/with+odd chars&=\"<"}`,
	} {
		out := r.String(in)
		if strings.Contains(out, "tok-123456") || strings.Contains(out, "k3y") {
			t.Errorf("String(%q) = %q still holds a secret", in, out)
		}
		if !strings.Contains(out, Mask) {
			t.Errorf("String(%q) = %q: no %s", in, out, Mask)
		}
	}
	if got := r.String("abc stays: too short to scrub"); got != "abc stays: too short to scrub" {
		t.Errorf("short secret scrubbed: %q", got)
	}
}

func TestRedactorLongestFirst(t *testing.T) {
	t.Parallel()
	r := New("secret", "secret-and-more")
	if got := r.String("x secret-and-more y"); got != "x "+Mask+" y" {
		t.Fatalf("got %q", got)
	}
}

func TestNilAndEmpty(t *testing.T) {
	t.Parallel()
	var r *Redactor
	if r.String("a secret") != "a secret" || !r.Empty() || !New().Empty() || New("abcd").Empty() {
		t.Fatal("nil or empty Redactor changed text or misreported Empty")
	}
	if got := New("中文密钥值").String("回声 中文密钥值"); got != "回声 "+Mask {
		t.Fatalf("non-ASCII secret: %q", got)
	}
}

func TestOptionsAndForms(t *testing.T) {
	key := `a/b+c d"<`
	forms := Forms(key)
	for _, want := range []string{key, url.QueryEscape(key), url.PathEscape(key), `a/b+c d\"\u003c`, `a/b+c d\"<`} {
		if !slices.Contains(forms, want) {
			t.Errorf("Forms(%q) = %q: no %q", key, forms, want)
		}
	}
	if Forms("") != nil {
		t.Error("forms of an empty secret")
	}
	r := Options{Mask: "REDACTED", MinLen: 1}.New("ab", key)
	for _, f := range forms {
		if got := r.String("x " + f + " y"); got != "x REDACTED y" {
			t.Errorf("String(%q) = %q", f, got)
		}
	}
	if got := r.String("ab"); got != "REDACTED" {
		t.Errorf("a short secret with MinLen 1: %q", got)
	}
	longest := 0
	for _, f := range forms {
		longest = max(longest, len(f))
	}
	if r.Longest() != longest || (*Redactor)(nil).Longest() != 0 {
		t.Errorf("Longest = %d, want %d", r.Longest(), longest)
	}
}
