package rules

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/expr-lang/expr/vm"
)

// timeLayout renders time.Time values in replies, in the configured timezone.
const timeLayout = "2006-01-02 15:04"

// segment is one piece of a reply template: literal text, or an expression
// between {{ and }}.
type segment struct {
	lit  string
	src  string // the expression's source, when an expression
	off  int    // rune offset of src within the template, for positions
	prog *vm.Program
}

// templateError is a malformed template, at rune offset off.
type templateError struct {
	off int
	msg string
}

func (e *templateError) Error() string { return e.msg }

// splitTemplate cuts s into literal text and {{ expr }} segments. Inside a
// segment, braces of map literals and string literals may contain "}}".
func splitTemplate(s string) ([]segment, error) {
	var segs []segment
	runeOff := func(i int) int { return utf8.RuneCountInString(s[:i]) }
	i := 0
	for i < len(s) {
		open := strings.Index(s[i:], "{{")
		closing := strings.Index(s[i:], "}}")
		if closing >= 0 && (open < 0 || closing < open) {
			return nil, &templateError{runeOff(i + closing), `"}}" without a matching "{{"`}
		}
		if open < 0 {
			segs = append(segs, segment{lit: s[i:]})
			break
		}
		if open > 0 {
			segs = append(segs, segment{lit: s[i : i+open]})
		}
		start := i + open + 2
		end := exprEnd(s, start)
		if end < 0 {
			return nil, &templateError{runeOff(i + open), `"{{" without a matching "}}"`}
		}
		src := s[start:end]
		if strings.TrimSpace(src) == "" {
			return nil, &templateError{runeOff(i + open), "empty {{ }}"}
		}
		segs = append(segs, segment{src: src, off: runeOff(start)})
		i = end + 2
	}
	return segs, nil
}

// exprEnd returns the index of the "}}" closing an expression that starts
// at s[start:], or -1.
func exprEnd(s string, start int) int {
	depth := 0
	for i := start; i < len(s); i++ {
		switch c := s[i]; c {
		case '"', '\'', '`':
			// Skip the string literal, escapes included.
			for i++; i < len(s) && s[i] != c; i++ {
				if s[i] == '\\' && c != '`' {
					i++
				}
			}
			if i >= len(s) {
				return -1
			}
		case '{':
			depth++
		case '}':
			if depth == 0 && i+1 < len(s) && s[i+1] == '}' {
				return i
			}
			if depth > 0 {
				depth--
			}
		}
	}
	return -1
}

// renderable says whether a template expression of type t can be shown as
// text; a struct such as `user` cannot, `user.nickname` can.
func renderable(t reflect.Type) error {
	if t == nil {
		return nil
	}
	switch t.Kind() {
	case reflect.Struct:
		if t == reflect.TypeFor[time.Time]() {
			return nil
		}
	case reflect.Map, reflect.Func, reflect.Chan, reflect.UnsafePointer:
	default:
		return nil
	}
	if s, ok := envStructs[t.String()]; ok {
		return fmt.Errorf("{{ }} yields %s, not something printable: use one of its fields (%s)", s.name, strings.Join(s.fields, ", "))
	}
	return fmt.Errorf("{{ }} yields %s, not something printable", t)
}

// errEmptyReply is a reply that rendered to nothing but blanks.
var errEmptyReply = errors.New("renders empty text")

// render runs every segment against env and joins the result.
func render(segs []segment, env any, loc *time.Location, run func(*vm.Program, any) (any, error)) (string, error) {
	var b strings.Builder
	for _, s := range segs {
		if s.prog == nil {
			b.WriteString(s.lit)
			continue
		}
		v, err := run(s.prog, env)
		if err != nil {
			return "", err
		}
		writeValue(&b, v, loc)
	}
	// expr slices and indexes strings by bytes: text[0:1] of Chinese text
	// is half a character. A reply is text; drop what is not.
	out := strings.ToValidUTF8(b.String(), "")
	if strings.TrimSpace(out) == "" {
		return "", errEmptyReply
	}
	return out, nil
}

// writeValue renders one expression result: numbers plainly, times in loc
// with timeLayout, nil as nothing.
func writeValue(b *strings.Builder, v any, loc *time.Location) {
	switch x := v.(type) {
	case nil:
	case string:
		b.WriteString(x)
	case time.Time:
		b.WriteString(x.In(loc).Format(timeLayout))
	case time.Duration:
		b.WriteString(x.String())
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case int:
		b.WriteString(strconv.Itoa(x))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case int32:
		b.WriteString(strconv.FormatInt(int64(x), 10))
	case int16:
		b.WriteString(strconv.FormatInt(int64(x), 10))
	case int8:
		b.WriteString(strconv.FormatInt(int64(x), 10))
	case uint:
		b.WriteString(strconv.FormatUint(uint64(x), 10))
	case uint64:
		b.WriteString(strconv.FormatUint(x, 10))
	case uint32:
		b.WriteString(strconv.FormatUint(uint64(x), 10))
	case uint16:
		b.WriteString(strconv.FormatUint(uint64(x), 10))
	case uint8:
		b.WriteString(strconv.FormatUint(uint64(x), 10))
	case float64:
		b.WriteString(strconv.FormatFloat(x, 'f', -1, 64))
	case float32:
		b.WriteString(strconv.FormatFloat(float64(x), 'f', -1, 32))
	case []string:
		b.WriteString(strings.Join(x, " "))
	case []any:
		for i, e := range x {
			if i > 0 {
				b.WriteByte(' ')
			}
			writeValue(b, e, loc)
		}
	case fmt.Stringer:
		b.WriteString(x.String())
	default:
		fmt.Fprint(b, x)
	}
}
