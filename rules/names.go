package rules

import (
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/expr-lang/expr/builtin"
	"github.com/expr-lang/expr/conf"
)

// exprNames are the names a rule may use at the top level, for suggestions:
// Env's, then the helpers, then expr's builtins (a tie goes to the first).
var exprNames = func() []string {
	names := envTags(reflect.TypeFor[Env]())
	c := conf.CreateNew()
	for _, o := range append(slices.Clone(helperOptions), timeHelpers(time.UTC)...) {
		o(c)
	}
	var helpers []string
	for name := range c.Functions {
		helpers = append(helpers, name)
	}
	slices.Sort(helpers)
	return append(append(names, helpers...), builtin.Names...)
}()

// rejectIfNames are the names reject_if may use at the top level: the
// draft, then every other.
var rejectIfNames = append([]string{"draft"}, exprNames...)

// envStructs maps the Go type of each struct in Env (rules.EnvUser), as expr
// names it in errors, to the name rules know it by (user) and its fields.
var envStructs = func() map[string]envStruct {
	m := map[string]envStruct{}
	for f := range reflect.TypeFor[Env]().Fields() {
		if f.Type.Kind() == reflect.Struct && f.Type.PkgPath() == reflect.TypeFor[Env]().PkgPath() {
			m[f.Type.String()] = envStruct{name: f.Tag.Get("expr"), fields: envTags(f.Type)}
		}
	}
	return m
}()

type envStruct struct {
	name   string
	fields []string
}

// envTags are the expr names of t's fields.
func envTags(t reflect.Type) []string {
	var names []string
	for f := range t.Fields() {
		if tag := f.Tag.Get("expr"); tag != "" {
			names = append(names, tag)
		}
	}
	return names
}

// The messages of expr's checker that speak of Go types or omit help.
var (
	unknownNameRe = regexp.MustCompile(`^unknown name (\S+)$`)
	noMemberRe    = regexp.MustCompile(`^type (\S+) has no (field|method) (\S+)$`)
)

// explainMessage words an expr compile message as a rule author reads
// rules: `type rules.EnvUser has no field nickame` becomes `user has no
// field "nickame" (did you mean "nickname"?)`, and `unknown name txet`
// becomes `unknown name "txet" (did you mean "text"?)`, suggesting one of
// names (the top-level names of the expression: reject_if knows draft
// too). Other messages are returned as they are.
func explainMessage(msg string, names []string) string {
	if m := unknownNameRe.FindStringSubmatch(msg); m != nil {
		if m[1] == "draft" {
			return `unknown name "draft": the model's draft is known only in reject_if`
		}
		return "unknown name " + strconv.Quote(m[1]) + Suggest(m[1], names)
	}
	if m := noMemberRe.FindStringSubmatch(msg); m != nil {
		s, ok := envStructs[m[1]]
		if !ok {
			return msg
		}
		out := s.name + " has no " + m[2] + " " + strconv.Quote(m[3])
		if m[2] == "field" {
			out += Suggest(m[3], s.fields)
		} else {
			// user.nickname() is not a call: say which fields there are.
			out += "; its fields are " + strings.Join(s.fields, ", ")
		}
		return out
	}
	return msg
}
