// Package logging builds autoreplyd's log/slog logger: text or JSON, a level,
// and a handler that scrubs every configured secret from messages and
// attribute values before anything is written. Sources and responders never
// put secrets in their errors; this is the second line of defence.
package logging

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/autoreplyd/autoreplyd/internal/redact"
)

// Redacted replaces a secret wherever it would have appeared.
const Redacted = redact.Mask

// New returns a logger writing to w. level is debug|info|warn|error, format
// text|json; secrets are scrubbed from every record.
func New(w io.Writer, level, format string, secrets []string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log.level: %q is not one of debug, info, warn, error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	var h slog.Handler
	switch format {
	case "", "text":
		h = slog.NewTextHandler(w, opts)
	case "json":
		h = slog.NewJSONHandler(w, opts)
	default:
		return nil, fmt.Errorf("log.format: %q is not text or json", format)
	}
	return slog.New(NewRedactingHandler(h, secrets)), nil
}

// NewRedactor returns a function that replaces each secret in a string,
// raw or in the escaped forms a platform may echo it in (see redact.New).
func NewRedactor(secrets []string) func(string) string {
	return redact.New(secrets...).String
}

// NewRedactingHandler wraps h so that secrets never reach it.
func NewRedactingHandler(h slog.Handler, secrets []string) slog.Handler {
	return &redactingHandler{inner: h, redact: NewRedactor(secrets)}
}

type redactingHandler struct {
	inner  slog.Handler
	redact func(string) string
}

func (h *redactingHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.inner.Enabled(ctx, l)
}

func (h *redactingHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, h.redact(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.attr(a))
		return true
	})
	return h.inner.Handle(ctx, out)
}

func (h *redactingHandler) WithAttrs(as []slog.Attr) slog.Handler {
	red := make([]slog.Attr, len(as))
	for i, a := range as {
		red[i] = h.attr(a)
	}
	return &redactingHandler{inner: h.inner.WithAttrs(red), redact: h.redact}
}

func (h *redactingHandler) WithGroup(name string) slog.Handler {
	return &redactingHandler{inner: h.inner.WithGroup(name), redact: h.redact}
}

func (h *redactingHandler) attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, h.redact(v.String()))
	case slog.KindGroup:
		gs := v.Group()
		red := make([]any, len(gs))
		for i, g := range gs {
			red[i] = h.attr(g)
		}
		return slog.Group(a.Key, red...)
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			return slog.String(a.Key, h.redact(x.Error()))
		case fmt.Stringer:
			return slog.String(a.Key, h.redact(x.String()))
		case []string:
			red := make([]string, len(x))
			for i, s := range x {
				red[i] = h.redact(s)
			}
			return slog.Any(a.Key, red)
		default:
			return slog.String(a.Key, h.redact(fmt.Sprint(x)))
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}
