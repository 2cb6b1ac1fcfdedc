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

// join stamps file and env origin on every problem, sorts them by key (in
// the order of the entries: threads[2] before threads[10], a list file's
// line 9 before its line 10) and joins them; nil when there are none.
func (p problems) join(file string, envKeys map[string]string) error {
	if len(p) == 0 {
		return nil
	}
	for _, e := range p {
		e.File = file
		e.Env = envOrigin(e.Key, envKeys)
	}
	slices.SortStableFunc(p, func(a, b *KeyError) int {
		return cmp.Or(compareKeys(a.Key, b.Key), cmp.Compare(a.Msg, b.Msg))
	})
	p = slices.CompactFunc(p, func(a, b *KeyError) bool { return a.Key == b.Key && a.Msg == b.Msg })
	errs := make([]error, len(p))
	for i, e := range p {
		errs[i] = e
	}
	return errors.Join(errs...)
}

// compareKeys orders key paths as strings, except that runs of digits
// (list indexes, line numbers) compare as numbers.
func compareKeys(a, b string) int {
	for a != "" && b != "" {
		da, db := digitRun(a), digitRun(b)
		if da == 0 || db == 0 {
			if c := cmp.Compare(a[0], b[0]); c != 0 {
				return c
			}
			a, b = a[1:], b[1:]
			continue
		}
		na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
		if c := cmp.Or(cmp.Compare(len(na), len(nb)), cmp.Compare(na, nb)); c != 0 {
			return c
		}
		a, b = a[da:], b[db:]
	}
	return cmp.Compare(len(a), len(b))
}

// digitRun is the length of the run of ASCII digits s starts with.
func digitRun(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
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
