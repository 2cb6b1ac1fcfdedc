package config

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
)

// Redacted is what a Secret prints instead of its value.
const Redacted = "[redacted]"

// maxSecretFile bounds what a *_file may hold: a credential is a few hundred
// bytes, a bigger file is a wrong path, not a token.
const maxSecretFile = 64 << 10

// Secret is a credential. Every way of printing it (fmt verbs, JSON, text
// marshalling, slog) gives Redacted; Value returns the real string.
type Secret string

// Value returns the secret itself; use it only where the platform needs it.
func (s Secret) Value() string { return string(s) }

// String implements fmt.Stringer.
func (s Secret) String() string { return Redacted }

// GoString implements fmt.GoStringer, for %#v.
func (s Secret) GoString() string { return `"` + Redacted + `"` }

// Format keeps every verb (%s, %v, %q, %x, ...) away from the value.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		io.WriteString(f, s.GoString())
		return
	}
	io.WriteString(f, Redacted)
}

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(Redacted) }

// MarshalText implements encoding.TextMarshaler.
func (s Secret) MarshalText() ([]byte, error) { return []byte(Redacted), nil }

// MarshalJSON implements json.Marshaler.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + Redacted + `"`), nil }

// secretRef ties a secret field to its *_file sibling and key path.
type secretRef struct {
	key      string // full key path of the inline value, e.g. sources.douyin.token
	val      *Secret
	file     *string
	required bool
}

// resolveSecret fills ref.val from ref.file when given. A relative file is
// read from credDir when set (systemd LoadCredential=), else from cfgDir.
// Errors name the keys and the path, never the content.
func resolveSecret(ref secretRef, credDir, cfgDir string) *KeyError {
	name := ref.key[strings.LastIndexByte(ref.key, '.')+1:]
	fileKey := ref.key + "_file"
	switch {
	case *ref.val != "" && *ref.file != "":
		return keyErr(ref.key, "set either %s or %s_file, not both", name, name)
	case *ref.file != "":
		p := *ref.file
		if !filepath.IsAbs(p) {
			base := cfgDir
			if credDir != "" {
				base = credDir
			}
			p = filepath.Join(base, p)
		}
		v, err := readSecretFile(p)
		if err != nil {
			return keyErr(fileKey, "%v", err)
		}
		*ref.val = Secret(v)
	case *ref.val == "" && ref.required:
		return keyErr(ref.key, "missing (set %s or %s_file)", name, name)
	}
	return nil
}

func readSecretFile(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", fmt.Errorf("cannot read %s: %w", p, pathErrCause(err))
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
	if err != nil {
		return "", fmt.Errorf("cannot read %s: %w", p, pathErrCause(err))
	}
	if len(b) > maxSecretFile {
		return "", fmt.Errorf("%s is larger than %d bytes: not a credential file", p, maxSecretFile)
	}
	v := strings.TrimSpace(string(b))
	if v == "" {
		return "", fmt.Errorf("%s is empty", p)
	}
	return v, nil
}

// pathErrCause drops the *PathError wrapper, whose text repeats the path.
func pathErrCause(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
