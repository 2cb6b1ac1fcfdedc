package rules

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/patcher"
)

// Template is a text with {{ expr }} segments over an environment of the
// caller's choosing, for texts that are not a rule's reply (a notification
// channel's message). It is compiled and rendered the way replies are: the
// same splitting, bounds, helpers and value formatting. A compiled Template
// is safe for concurrent use.
type Template struct {
	segs []segment
	loc  *time.Location
	env  reflect.Type
}

// TemplateOption tunes CompileTemplate.
type TemplateOption func(*templateConfig)

type templateConfig struct {
	loc *time.Location
}

// TemplateLocation sets the timezone that times are rendered in and that
// hour() and weekday() read (default UTC).
func TemplateLocation(loc *time.Location) TemplateOption {
	return func(c *templateConfig) {
		if loc != nil {
			c.loc = loc
		}
	}
}

// CompileTemplate compiles src against env, a struct (or pointer to one)
// whose expr tags are the names the template may use. Render must then be
// given a value of the same type. A mistake is reported with the character
// (1-based, in runes) of src where it is, e.g. `character 4: unknown name
// "usr"`.
func CompileTemplate(src string, env any, opts ...TemplateOption) (*Template, error) {
	c := templateConfig{loc: time.UTC}
	for _, o := range opts {
		o(&c)
	}
	t := reflect.TypeOf(env)
	if t == nil || t.Kind() != reflect.Struct && (t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct) {
		return nil, fmt.Errorf("template environment must be a struct, not %v", t)
	}
	segs, err := splitTemplate(src)
	if err != nil {
		var te *templateError
		if errors.As(err, &te) {
			return nil, fmt.Errorf("character %d: %s", te.off+1, te.msg)
		}
		return nil, err
	}
	options := append([]expr.Option{expr.Env(env), expr.MaxNodes(maxExprNodes),
		expr.Patch(patcher.WithTimezone{Location: c.loc})}, helperOptions...)
	options = append(options, timeHelpers(c.loc)...)
	for i := range segs {
		s := &segs[i]
		if s.src == "" {
			continue
		}
		if be := checkBounds(s.src); be != nil {
			return nil, fmt.Errorf("character %d: %s", s.off+utf8.RuneCountInString(s.src[:be.off])+1, be.msg)
		}
		prog, err := expr.Compile(s.src, options...)
		if err == nil {
			err = renderable(prog.Node().Type())
		}
		if err != nil {
			return nil, templateExprError(s, err)
		}
		s.prog = prog
	}
	return &Template{segs: segs, loc: c.loc, env: t}, nil
}

// templateExprError places a compile error of segment s within the template.
func templateExprError(s *segment, err error) error {
	var fe *file.Error
	if !errors.As(err, &fe) {
		// No position (a value that cannot be printed): the expression's
		// first character.
		lead := utf8.RuneCountInString(s.src) - utf8.RuneCountInString(strings.TrimLeft(s.src, " \t\r\n"))
		return fmt.Errorf("character %d: %w", s.off+lead+1, err)
	}
	// expr counts lines from 1 and columns (in runes) from 0.
	off, src := 0, s.src
	for l := 1; l < fe.Line; l++ {
		i := strings.IndexByte(src, '\n')
		if i < 0 {
			break
		}
		off += utf8.RuneCountInString(src[:i]) + 1
		src = src[i+1:]
	}
	return fmt.Errorf("character %d: %s", s.off+off+fe.Column+1, strings.TrimSpace(fe.Message))
}

// Render runs the template against env, a value of the type it was compiled
// with. A template that renders only blanks is an error, as a reply is.
func (t *Template) Render(env any) (string, error) {
	if got := reflect.TypeOf(env); got != t.env {
		return "", fmt.Errorf("template compiled for %v, rendered with %v", t.env, got)
	}
	return render(t.segs, env, t.loc, expr.Run)
}
