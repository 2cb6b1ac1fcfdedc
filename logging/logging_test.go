package logging

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

type stringer string

func (s stringer) String() string { return string(s) }

func TestSecretsNeverWritten(t *testing.T) {
	t.Parallel()
	const tok = "tok-SECRET-8c1f2e"
	const key = "kk-APIKEY-77aa"
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			log, err := New(&buf, "debug", format, []string{tok, key, "ab", ""})
			if err != nil {
				t.Fatal(err)
			}
			l := log.With("url", "https://x/api?token="+tok)
			l.Info("calling with "+key,
				"err", fmt.Errorf("wrapped: %w", errors.New("GET ?api_key="+key)),
				"s", stringer(tok),
				"list", []string{tok, "ok"},
				"n", 42,
			)
			l.WithGroup("g").Warn("grouped", "inner", tok)
			out := buf.String()
			if strings.Contains(out, tok) || strings.Contains(out, key) {
				t.Fatalf("secret leaked:\n%s", out)
			}
			if !strings.Contains(out, Redacted) || !strings.Contains(out, "42") {
				t.Fatalf("expected redaction marker and other values kept:\n%s", out)
			}
			// A too-short "secret" is not scrubbed (it would mangle every line).
			if !strings.Contains(out, "grouped") {
				t.Fatalf("message lost:\n%s", out)
			}
		})
	}
}

func TestBadLevelAndFormat(t *testing.T) {
	t.Parallel()
	if _, err := New(&bytes.Buffer{}, "loud", "text", nil); err == nil || !strings.Contains(err.Error(), "log.level") {
		t.Fatalf("want log.level error, got %v", err)
	}
	if _, err := New(&bytes.Buffer{}, "info", "xml", nil); err == nil || !strings.Contains(err.Error(), "log.format") {
		t.Fatalf("want log.format error, got %v", err)
	}
}

func TestRedactorLongestFirst(t *testing.T) {
	t.Parallel()
	r := NewRedactor([]string{"abcd", "abcdefgh"})
	if got := r("x abcdefgh y abcd"); got != "x "+Redacted+" y "+Redacted {
		t.Fatalf("got %q", got)
	}
}
