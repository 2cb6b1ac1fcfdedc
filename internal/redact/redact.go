// Package redact scrubs secrets from text: one Redactor, built from every
// secret the config holds, is applied to whatever leaves the process or is
// kept (log records, database columns, metrics, HTTP answers, command
// output). Components keep secrets out of their own errors; this is the
// line that also catches one platform echoing another's credential.
package redact

import (
	"bytes"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
)

// Mask replaces a secret wherever it would have appeared.
const Mask = "[redacted]"

// MinLen is the length below which a value is not scrubbed, since
// replacing every "a" or "1" would mangle everything; config refuses no
// secret for length, so such a secret is simply a weak one.
const MinLen = 4

// Redactor replaces every form of a set of secrets. The zero value and nil
// replace nothing. It is safe for concurrent use.
type Redactor struct {
	r       *strings.Replacer
	longest int // the longest form replaced, in bytes
}

// New returns a Redactor of secrets (empty and short ones are ignored). Each
// secret is replaced raw and in the forms a platform may echo it back in
// (see Forms).
func New(secrets ...string) *Redactor { return Options{}.New(secrets...) }

// Options make a Redactor other than New's.
type Options struct {
	// Mask replaces each secret (default Mask).
	Mask string
	// MinLen: shorter secrets are not scrubbed (default MinLen). A platform
	// client scrubs its own secrets from its own errors whatever their
	// length (1): there, every occurrence is one it put in a request.
	MinLen int
}

// New returns a Redactor of secrets with o's mask and minimum length.
func (o Options) New(secrets ...string) *Redactor {
	mask, minLen := o.Mask, o.MinLen
	if mask == "" {
		mask = Mask
	}
	if minLen <= 0 {
		minLen = MinLen
	}
	var forms []string
	for _, s := range secrets {
		if len(s) < minLen {
			continue
		}
		forms = append(forms, Forms(s)...)
	}
	slices.Sort(forms)
	forms = slices.Compact(forms)
	if len(forms) == 0 {
		return &Redactor{}
	}
	// Longest first: a secret containing another is replaced whole.
	slices.SortStableFunc(forms, func(a, b string) int { return len(b) - len(a) })
	args := make([]string, 0, 2*len(forms))
	longest := 0
	for _, f := range forms {
		args = append(args, f, mask)
		longest = max(longest, len(f))
	}
	return &Redactor{r: strings.NewReplacer(args...), longest: longest}
}

// Forms are the spellings of secret that text may hold: raw, URL
// query-escaped (a query string, a form body), path-escaped (a URL path)
// and JSON-escaped with and without HTML escaping (a JSON body; WeChat's are
// written without it). A test checking that a secret leaked nowhere looks
// for each of them.
func Forms(secret string) []string {
	if secret == "" {
		return nil
	}
	forms := append([]string{secret, url.QueryEscape(secret), url.PathEscape(secret)}, jsonForms(secret)...)
	slices.Sort(forms)
	return slices.Compact(forms)
}

// jsonForms are s as a JSON string's contents, with and without HTML
// escaping (json.Marshal writes < as \u003c; WeChat bodies are encoded
// without it).
func jsonForms(s string) []string {
	var out []string
	for _, html := range []bool{true, false} {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(html)
		if enc.Encode(s) == nil {
			j := bytes.TrimSpace(b.Bytes())
			out = append(out, string(j[1:len(j)-1]))
		}
	}
	return out
}

// String returns s with every secret replaced by Mask.
func (r *Redactor) String(s string) string {
	if r == nil || r.r == nil || s == "" {
		return s
	}
	return r.r.Replace(s)
}

// Strings applies String to each element of ss, in place, and returns ss.
func (r *Redactor) Strings(ss []string) []string {
	for i, s := range ss {
		ss[i] = r.String(s)
	}
	return ss
}

// Longest is the length in bytes of the longest form r replaces: text cut
// more than that past a point holds every secret that starts before it
// whole, so it can be scrubbed before it is shortened.
func (r *Redactor) Longest() int {
	if r == nil {
		return 0
	}
	return r.longest
}

// Empty reports whether r replaces nothing.
func (r *Redactor) Empty() bool { return r == nil || r.r == nil }
