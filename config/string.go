package config

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// String renders the effective configuration as sorted `key = value` lines
// (the file first), secrets redacted; what `check` can print.
func (c *Config) String() string {
	if c == nil {
		return "<nil>"
	}
	var lines []string
	flatten("", reflect.ValueOf(*c), &lines)
	for _, s := range c.Sources {
		flatten(s.Key(), reflect.ValueOf(s.Section), &lines)
	}
	for _, r := range c.Responders {
		flatten(r.Key(), reflect.ValueOf(r.Section), &lines)
	}
	slices.Sort(lines)
	return "file = " + strconv.Quote(c.File) + "\n" + strings.Join(lines, "\n")
}

var secretType = reflect.TypeFor[Secret]()

func flatten(key string, v reflect.Value, out *[]string) {
	for v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return
		}
		v = v.Elem()
	}
	switch {
	case v.Type() == secretType:
		s := `""`
		if v.String() != "" {
			s = Redacted
		}
		*out = append(*out, key+" = "+s)
	case v.Type() == durationType:
		*out = append(*out, key+" = "+time.Duration(v.Int()).String())
	case v.Kind() == reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			name, opts, _ := strings.Cut(f.Tag.Get("koanf"), ",")
			if !f.IsExported() || name == "-" {
				continue
			}
			if strings.Contains(opts, "squash") {
				flatten(key, v.Field(i), out)
				continue
			}
			flatten(joinKey(key, name), v.Field(i), out)
		}
	case v.Kind() == reflect.Slice:
		if v.Len() == 0 {
			*out = append(*out, key+" = []")
		}
		for i := range v.Len() {
			flatten(fmt.Sprintf("%s[%d]", key, i), v.Index(i), out)
		}
	case v.Kind() == reflect.Map:
		for _, k := range v.MapKeys() {
			flatten(joinKey(key, k.String()), v.MapIndex(k), out)
		}
	case v.Kind() == reflect.String:
		*out = append(*out, key+" = "+strconv.Quote(v.String()))
	default:
		*out = append(*out, fmt.Sprintf("%s = %v", key, v.Interface()))
	}
}
