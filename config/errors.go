package config

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// KeyError is one problem with one configuration key. Load returns them
// joined (errors.Join), sorted by key; use errors.As to inspect the first.
type KeyError struct {
	// File is the config file.
	File string
	// Key is the full key path, e.g. sources.douyin.threads[0].comment_id.
	Key string
	// Env is the environment variable that set the key, if one did.
	Env string
	// Msg says what is wrong; it never contains a secret value.
	Msg string
}

func (e *KeyError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteString(": ")
	}
	if e.Key != "" {
		b.WriteString(e.Key)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	if e.Env != "" {
		b.WriteString(" (from $")
		b.WriteString(e.Env)
		b.WriteString(")")
	}
	return b.String()
}

func keyErr(key, format string, args ...any) *KeyError {
	return &KeyError{Key: key, Msg: fmt.Sprintf(format, args...)}
}

// problems collects KeyErrors during one Load.
type problems []*KeyError

func (p *problems) add(e *KeyError) {
	if e != nil {
		*p = append(*p, e)
	}
}

func (p *problems) addf(key, format string, args ...any) {
	p.add(keyErr(key, format, args...))
}

// covers reports whether a problem was found at key or above it.
func (p problems) covers(key string) bool {
	for _, e := range p {
		if e.Key == key || strings.HasPrefix(key, e.Key+".") || strings.HasPrefix(key, e.Key+"[") {
			return true
		}
	}
	return false
}

// join stamps file and env origin on every problem, sorts them by key and
// joins them; nil when there are none.
func (p problems) join(file string, envKeys map[string]string) error {
	if len(p) == 0 {
		return nil
	}
	for _, e := range p {
		e.File = file
		e.Env = envOrigin(e.Key, envKeys)
	}
	slices.SortStableFunc(p, func(a, b *KeyError) int {
		return cmp.Or(cmp.Compare(a.Key, b.Key), cmp.Compare(a.Msg, b.Msg))
	})
	p = slices.CompactFunc(p, func(a, b *KeyError) bool { return a.Key == b.Key && a.Msg == b.Msg })
	errs := make([]error, len(p))
	for i, e := range p {
		errs[i] = e
	}
	return errors.Join(errs...)
}

// envOrigin returns the variable that set key, or a key under it (a
// variable creating an unknown section is reported on the section).
func envOrigin(key string, envKeys map[string]string) string {
	if v, ok := envKeys[key]; ok {
		return v
	}
	// Secrets resolved from a *_file report the inline key: check the file key too.
	if v, ok := envKeys[key+"_file"]; ok {
		return v
	}
	var found []string
	for k, v := range envKeys {
		if strings.HasPrefix(k, key+".") {
			found = append(found, v)
		}
	}
	if len(found) == 1 {
		return found[0]
	}
	return ""
}
