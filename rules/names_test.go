package rules

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// loadOne loads a single rule with when and reply (reply "" for none) and
// returns the load error's text ("" when it loaded).
func loadOne(t *testing.T, when, reply string) string {
	t.Helper()
	src := "rules:\n  - name: x\n    when: " + when + "\n"
	if reply != "" {
		src += "    reply: " + reply + "\n"
	}
	_, err := LoadBytes("t.yaml", []byte(src), Options{})
	if err == nil {
		return ""
	}
	return err.Error()
}

// An unknown name or field is worded as rules name things (user, not
// rules.EnvUser), quoted, with the name meant when it is a near miss, in
// conditions and templates alike.
func TestUnknownNamesSayWhatWasMeant(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ expr, want string }{
		{`user.nickame`, `user has no field "nickame" (did you mean "nickname"?)`},
		{`txet`, `unknown name "txet" (did you mean "text"?)`},
		{`user.Nickname`, `user has no field "Nickname" (did you mean "nickname"?)`},
		{`Text`, `unknown name "Text" (did you mean "text"?)`},
		{`user.nick`, `user has no field "nick" (did you mean "nickname"?)`},
		{`containsAy(text, ["a"])`, `unknown name "containsAy" (did you mean "containsAny"?)`},
		{`lowr(text)`, `unknown name "lowr" (did you mean "lower"?)`},
		{`user.nickame()`, `user has no method "nickame"; its fields are uid, nickname, unique_id, region, verified`},
		{`user.x`, `user has no field "x"`},
		{`foo`, `unknown name "foo"`},
	} {
		when := loadOne(t, fmt.Sprintf("'%s != nil'", tc.expr), "")
		if !strings.HasSuffix(when, `rule "x": when: `+tc.want) {
			t.Errorf("when %s:\n got %s\nwant ...when: %s", tc.expr, when, tc.want)
		}
		reply := loadOne(t, "'true'", fmt.Sprintf("'{{ %s }}'", tc.expr))
		if !strings.HasSuffix(reply, `rule "x": reply: `+tc.want) {
			t.Errorf("reply {{ %s }}:\n got %s\nwant ...reply: %s", tc.expr, reply, tc.want)
		}
	}
}

// Every name of the environment and every field of every struct in it is
// suggested for a near miss of it (here the name with its last letter
// doubled).
func TestEveryNameIsSuggested(t *testing.T) {
	t.Parallel()
	env := reflect.TypeFor[Env]()
	structs := 0
	for f := range env.Fields() {
		name := f.Tag.Get("expr")
		typo := name + name[len(name)-1:]
		got := loadOne(t, fmt.Sprintf("'%s != nil'", typo), "")
		if want := fmt.Sprintf(`unknown name %q (did you mean %q?)`, typo, name); !strings.HasSuffix(got, want) {
			t.Errorf("%s: %s, want ...%s", typo, got, want)
		}
		if f.Type.Kind() != reflect.Struct || f.Type.PkgPath() != env.PkgPath() {
			continue
		}
		structs++
		for sf := range f.Type.Fields() {
			field := sf.Tag.Get("expr")
			typo := field + field[len(field)-1:]
			got := loadOne(t, fmt.Sprintf("'%s.%s != nil'", name, typo), "")
			if want := fmt.Sprintf(`%s has no field %q (did you mean %q?)`, name, typo, field); !strings.HasSuffix(got, want) {
				t.Errorf("%s.%s: %s, want ...%s", name, typo, got, want)
			}
		}
	}
	if structs == 0 {
		t.Fatal("no struct in Env: the field suggestions went untested")
	}
}
