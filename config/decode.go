package config

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
)

// decode turns koanf's merged map into a Config with defaults for every key
// not given. Problems name the full key path.
func decode(raw map[string]any) (*Config, problems) {
	var p problems
	cfg := defaultConfig()
	allocSections(cfg, raw)

	// Our own walk first: it names the full path of unknown keys and
	// refuses a list or mapping where a value belongs (mapstructure would
	// print the offending value, which may be a secret).
	checkShape("", raw, reflect.TypeFor[Config](), &p)

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
		Result:           cfg,
	})
	if err != nil {
		p.addf("", "internal error: %v", err)
		return cfg, p
	}
	if err := dec.Decode(raw); err != nil {
		// Keep only what the walk has not said already about the key.
		var q problems
		collectDecodeErrors(err, &q)
		for _, e := range q {
			if !p.covers(e.Key) {
				p.add(e)
			}
		}
	}
	return cfg, p
}

// allocSections gives every section present in the file its defaults, so
// that decoding fills only the keys given. Absent sections stay nil.
func allocSections(c *Config, raw map[string]any) {
	has := func(section, name string) bool {
		m, ok := raw[section].(map[string]any)
		if !ok {
			return false
		}
		_, ok = m[name]
		return ok
	}
	if has("sources", "douyin") {
		c.Sources.Douyin = defaultDouyin()
	}
	if has("sources", "tiktok") {
		c.Sources.TikTok = defaultTikTok()
	}
	if has("sources", "wechat") {
		c.Sources.Wechat = defaultWechatSource()
	}
	if has("sources", "weibo") {
		c.Sources.Weibo = defaultWeiboSource()
	}
	if has("responders", "kitkot") {
		c.Responders.Kitkot = defaultKitkot()
	}
	if has("responders", "wechat") {
		c.Responders.Wechat = defaultWechatResponder()
	}
	if has("responders", "weibo") {
		c.Responders.Weibo = defaultWeiboResponder()
	}
}

func joinKey(parent, k string) string {
	if parent == "" {
		return k
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
func durationHook(from, to reflect.Type, data any) (any, error) {
	if to != durationType {
		return data, nil
	}
	v, ok := data.(string)
	if !ok {
		return data, nil
	}
	v = strings.TrimSpace(v)
	if isDigits(v) && strings.Trim(v, "0") != "" {
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
func stringHook(from, to reflect.Type, data any) (any, error) {
	if b, ok := data.(bool); ok && to.Kind() == reflect.String {
		return strconv.FormatBool(b), nil
	}
	return data, nil
}

// stringToSliceHook lets the environment set a list of strings as "a,b".
func stringToSliceHook(from, to reflect.Type, data any) (any, error) {
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
	de, ok := err.(*mapstructure.DecodeError)
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
