package redact

import (
	"net/url"
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
