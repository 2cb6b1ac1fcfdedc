package config

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"

	"github.com/autoreplyd/autoreplyd/platform"
)

// decode turns koanf's merged map into a Config with defaults for every key
// not given. Problems name the full key path.
func decode(raw map[string]any) (*Config, problems) {
	var p problems
	cfg := defaultConfig()
	top := make(map[string]any, len(raw))
	for k, v := range raw {
		if k != "sources" && k != "responders" && k != "notify" && k != "llm" {
			top[k] = v
		}
	}
	decodeInto("", top, cfg, &p)
	for _, sec := range sections("sources", raw["sources"], &p) {
		spec, ok := platform.Lookup(sec.typ)
		if !ok || spec.Source == nil {
			p.addf(sec.typeKey, "%s", unknownType("source", sec, platform.SourceTypes()))
			continue
		}
		s := &Source{Name: sec.name, Type: sec.typ, Spec: spec.Source, Section: spec.Source.NewSection()}
		decodeInto(sec.key, sec.body, s.Section, &p)
		s.Section.Base().Type = sec.typ
		cfg.Sources = append(cfg.Sources, s)
	}
	for _, sec := range sections("responders", raw["responders"], &p) {
		spec, ok := platform.Lookup(sec.typ)
		if !ok || spec.Responder == nil {
			p.addf(sec.typeKey, "%s", unknownType("responder", sec, platform.ResponderTypes()))
			continue
		}
		r := &Responder{Name: sec.name, Type: sec.typ, Spec: spec.Responder, Section: spec.Responder.NewSection()}
		decodeInto(sec.key, sec.body, r.Section, &p)
		r.Section.Base().Type = sec.typ
		cfg.Responders = append(cfg.Responders, r)
	}
	for _, sec := range sections("notify", raw["notify"], &p) {
		n := &NotifyChannel{Name: sec.name, Type: sec.typ, Rate: DefaultNotifyRate, Timeout: DefaultNotifyTimeout}
		decodeInto(sec.key, sec.body, n, &p)
		if !sec.typed {
			// A channel's name is its type only when it names one.
			n.Type = sec.typ
		}
		cfg.Notify = append(cfg.Notify, n)
	}
	decodeLLM(raw["llm"], cfg, &p)
	return cfg, p
}

// rawSection is one section of `sources` or `responders` as written.
type rawSection struct {
	name, typ    string
	key, typeKey string // "sources.shop", and the key that named the type
	typed        bool   // the type came from a `type` key
	body         map[string]any
}

// sections lists the sections under kind ("sources"), sorted by name, with
// their types: a section's `type`, else its name.
func sections(kind string, v any, p *problems) []rawSection {
	if v == nil {
		return nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		p.addf(kind, "expected a mapping of sections, got %s", describeValue(v))
		return nil
	}
	var out []rawSection
	for _, name := range slices.Sorted(maps.Keys(m)) {
		key := joinKey(kind, name)
		if !platform.TypePattern.MatchString(name) {
			p.addf(key, "%q is not a section name: use lower case letters, digits, _ and - (at most 64)", name)
			continue
		}
		sec := rawSection{name: name, typ: name, key: key, typeKey: key}
		switch b := m[name].(type) {
		case nil:
			sec.body = map[string]any{}
		case map[string]any:
			sec.body = b
		default:
			p.addf(key, "expected a mapping of keys, got %s", describeValue(b))
			continue
		}
		if t, ok := sec.body["type"]; ok {
			ts, isString := t.(string)
			if !isString || !platform.TypePattern.MatchString(ts) {
				p.addf(key+".type", "expected a %s type name", strings.TrimSuffix(kind, "s"))
				continue
			}
			sec.typ, sec.typeKey, sec.typed = ts, key+".type", true
		}
		out = append(out, sec)
	}
	return out
}

// unknownType says why a section's type is not one of known.
func unknownType(what string, sec rawSection, known []string) string {
	if sec.typed {
		return fmt.Sprintf("unknown %s type %q (known: %s)", what, sec.typ, strings.Join(known, ", "))
	}
	return fmt.Sprintf("unknown %s %q: a section's name is its type (%s) unless the section sets `type`",
		what, sec.name, strings.Join(known, ", "))
}

// decodeInto decodes m into target (a pointer holding the defaults), with
// problems keyed under prefix. Our own shape walk runs first: it names the
// full path of unknown keys and refuses a list or mapping where a value
// belongs (mapstructure would print the offending value, which may be a
// secret).
func decodeInto(prefix string, m map[string]any, target any, p *problems) {
	var q problems
	checkShape("", m, reflect.TypeOf(target), &q)
	dec, err := mapstructure.NewDecoder(&mapstructure.DecoderConfig{
		// Passing our own config drops koanf's default hooks: these replace them.
		DecodeHook: mapstructure.ComposeDecodeHookFunc(
			durationHook,
			stringHook,
			stringToSliceHook,
			mapstructure.TextUnmarshallerHookFunc(),
		),
		WeaklyTypedInput: true, // environment values are strings
		ErrorUnused:      true,
		MatchName:        func(a, b string) bool { return a == b },
		TagName:          "koanf",
		Result:           target,
	})
	if err != nil {
		p.addf(prefix, "internal error: %v", err)
		return
	}
	if err := dec.Decode(m); err != nil {
		// Keep only what the walk has not said already about the key.
		var d problems
		collectDecodeErrors(err, &d)
		for _, e := range d {
			if !q.covers(e.Key) {
				q.add(e)
			}
		}
	}
	for _, e := range q {
		e.Key = joinKey(prefix, e.Key)
		p.add(e)
	}
}

func joinKey(parent, k string) string {
	switch {
	case parent == "":
		return k
	case k == "":
		return parent
	case k[0] == '[':
		return parent + k
	}
	return parent + "." + k
}

func describeValue(v any) string {
	switch v.(type) {
	case map[string]any, map[any]any:
		return "a mapping"
	case []any:
		return "a list"
	default:
		return "a single value"
	}
}

// checkShape walks v against the Go type t and reports unknown keys and
// values of the wrong shape (mapping, list, single value).
func checkShape(key string, v any, t reflect.Type, p *problems) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if v == nil {
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			p.addf(key, "expected a mapping of keys, got %s", describeValue(v))
			return
		}
		fields := structFields(t)
		for k, sub := range m {
			ft, ok := fields[k]
			if !ok {
				p.addf(joinKey(key, k), "unknown key")
				continue
			}
			checkShape(joinKey(key, k), sub, ft, p)
		}
	case reflect.Slice:
		switch vv := v.(type) {
		case []any:
			for i, e := range vv {
				checkShape(fmt.Sprintf("%s[%d]", key, i), e, t.Elem(), p)
			}
		case string:
			// "a,b" from the environment becomes a list of strings.
			if t.Elem().Kind() != reflect.String {
				p.addf(key, "expected a list, got %s", describeValue(v))
			}
		default:
			p.addf(key, "expected a list, got %s", describeValue(v))
		}
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok {
			p.addf(key, "expected a mapping, got %s", describeValue(v))
			return
		}
		for k, sub := range m {
			checkShape(joinKey(key, k), sub, t.Elem(), p)
		}
	default:
		switch v.(type) {
		case map[string]any, map[any]any, []any:
			p.addf(key, "expected a single value, got %s", describeValue(v))
		}
	}
}

// structFields maps koanf key names to field types, flattening squashed
// embedded structs, as mapstructure does.
func structFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("koanf"), ",")
		if name == "-" {
			continue
		}
		if strings.Contains(opts, "squash") {
			for k, v := range structFields(f.Type) {
				out[k] = v
			}
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

var durationType = reflect.TypeFor[time.Duration]()

// durationHook parses "60s"-style strings; a bare number other than 0 is
// refused because its unit would be a guess (mapstructure reads nanoseconds).
// YAML numbers arrive as the text written (see literalYAML).
func durationHook(_, to reflect.Type, data any) (any, error) {
	if to != durationType {
		return data, nil
	}
	v, ok := data.(string)
	if !ok {
		return data, nil
	}
	v = strings.TrimSpace(v)
	if platform.IsDigits(v) && strings.Trim(v, "0") != "" {
		return nil, errors.New("a duration needs a unit, e.g. 60s")
	}
	d, err := parseDuration(v)
	if err != nil {
		return nil, fmt.Errorf("invalid duration %q: use a number with a unit, e.g. 30s, 2m, 1h, 7d", v)
	}
	return d, nil
}

// parseDuration is time.ParseDuration that also takes whole days, alone or
// leading: "30d", "1d12h". A day is 24 hours.
func parseDuration(s string) (time.Duration, error) {
	sign, rest := "", s
	if r, ok := strings.CutPrefix(rest, "-"); ok {
		sign, rest = "-", r
	} else if r, ok := strings.CutPrefix(rest, "+"); ok {
		rest = r
	}
	i := 0
	for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
		i++
	}
	if i == 0 || i == len(rest) || rest[i] != 'd' {
		return time.ParseDuration(s)
	}
	days, err := strconv.ParseInt(rest[:i], 10, 64)
	const maxDays = math.MaxInt64 / int64(24*time.Hour)
	if err != nil || days > maxDays {
		return 0, fmt.Errorf("time: invalid duration %q", s)
	}
	d := time.Duration(days) * 24 * time.Hour
	if more := rest[i+1:]; more != "" {
		m, err := time.ParseDuration(more)
		if err != nil || m < 0 || m > math.MaxInt64-d {
			return 0, fmt.Errorf("time: invalid duration %q", s)
		}
		d += m
	}
	if sign == "-" {
		d = -d
	}
	return d, nil
}

// stringHook turns a YAML boolean into "true" or "false" for a text key
// (mapstructure's weak typing would make it "1" or "0"). Numbers and
// timestamps need nothing: they arrive as the text written (see literalYAML),
// so an id keeps every digit and 0x10 stays 0x10.
func stringHook(_, to reflect.Type, data any) (any, error) {
	if b, ok := data.(bool); ok && to.Kind() == reflect.String {
		return strconv.FormatBool(b), nil
	}
	return data, nil
}

// stringToSliceHook lets the environment set a list of strings as "a,b".
func stringToSliceHook(_, to reflect.Type, data any) (any, error) {
	s, ok := data.(string)
	if !ok || to.Kind() != reflect.Slice || to.Elem().Kind() != reflect.String {
		return data, nil
	}
	var out []string
	for part := range strings.SplitSeq(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out, nil
}

// collectDecodeErrors turns mapstructure's joined errors into KeyErrors.
func collectDecodeErrors(err error, p *problems) {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			collectDecodeErrors(e, p)
		}
		return
	}
	de, ok := err.(*mapstructure.DecodeError) //nolint:errorlint // the walk unwraps one level at a time; errors.As would stop at the first DecodeError of a joined list and lose the rest
	if !ok {
		// Decode wraps the joined errors in a "decoding failed" message.
		if inner := errors.Unwrap(err); inner != nil {
			collectDecodeErrors(inner, p)
			return
		}
		p.addf("", "%v", err)
		return
	}
	inner := de.Unwrap()
	var nested *mapstructure.DecodeError
	if _, ok := inner.(interface{ Unwrap() []error }); ok || errors.As(inner, &nested) {
		collectDecodeErrors(inner, p)
		return
	}
	key := mapstructureKey(de.Name())
	if rest, ok := strings.CutPrefix(inner.Error(), "has invalid keys: "); ok {
		for k := range strings.SplitSeq(rest, ", ") {
			p.addf(joinKey(key, k), "unknown key")
		}
		return
	}
	var pe *mapstructure.ParseError
	var ue *mapstructure.UnconvertibleTypeError
	switch {
	case errors.As(inner, &pe):
		p.addf(key, "expected %s", typeWord(pe.Expected.Type()))
	case errors.As(inner, &ue):
		p.addf(key, "expected %s, got %s", typeWord(ue.Expected.Type()), describeValue(ue.Value))
	default:
		p.addf(key, "%v", inner)
	}
}

// mapstructureKey rewrites map entries name[k] as name.k, our spelling.
func mapstructureKey(name string) string {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		if name[i] == '[' {
			if j := strings.IndexByte(name[i:], ']'); j > 0 {
				inside := name[i+1 : i+j]
				if _, err := strconv.Atoi(inside); err != nil {
					b.WriteString("." + inside)
					i += j
					continue
				}
			}
		}
		b.WriteByte(name[i])
	}
	return b.String()
}

func typeWord(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Slice:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "a mapping"
	}
	return t.String()
}
