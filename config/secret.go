package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unicode"

	"github.com/autoreplyd/autoreplyd/internal/regfile"
)

// maxSecretFile bounds what a *_file may hold: a credential is a few hundred
// bytes, a bigger file is a wrong path, not a token.
const maxSecretFile = 64 << 10

// secretRef ties a secret field to its *_file sibling and key path.
type secretRef struct {
	key      string // full key path of the inline value, e.g. sources.douyin.token
	val      *Secret
	file     *string
	required bool
}

// resolveSecret fills ref.val from ref.file when given (see readSecret).
// Errors name the keys and the path, never the content.
func resolveSecret(ref secretRef, credDir, cfgDir string) *KeyError {
	name := ref.key[strings.LastIndexByte(ref.key, '.')+1:]
	fileKey := ref.key + "_file"
	switch {
	case *ref.val != "" && *ref.file != "":
		return keyErr(ref.key, "set either %s or %s_file, not both", name, name)
	case *ref.file != "":
		v, err := readSecret(*ref.file, credDir, cfgDir)
		if err != nil {
			return keyErr(fileKey, "%v", err)
		}
		*ref.val = Secret(v)
	case *ref.val == "" && ref.required:
		return keyErr(ref.key, "missing (set %s or %s_file)", name, name)
	}
	return nil
}

// kernelDirs hold no credential, only files that must never be sent as one:
// /proc/self/environ and /proc/self/cmdline are this process's environment
// and arguments (other secrets among them), /dev and /sys devices and kernel
// state. A secret file there is refused by name, even through a symlink.
var kernelDirs = []string{"/proc", "/sys", "/dev"}

// readSecret reads the secret file p. A relative p is read from credDir when
// set (systemd's LoadCredential=), else from cfgDir, and must stay inside
// that directory, through ".." and symlinks alike (os.Root). The file must be
// a regular file (a FIFO is refused without waiting for a writer) of at most
// maxSecretFile bytes holding one line: surrounding whitespace and a final
// newline are trimmed; a second line, a NUL or another control character is
// refused. Errors name the file, never its content.
func readSecret(p, credDir, cfgDir string) (string, error) {
	var f *os.File
	shown := p
	if filepath.IsAbs(p) {
		if err := notKernelFile(p); err != nil {
			return "", err
		}
		var err error
		if f, err = regfile.Open(p); err != nil {
			return "", fmt.Errorf("cannot read %s: %w", p, pathErrCause(err))
		}
	} else {
		base, where := cfgDir, "the config file's directory"
		if credDir != "" {
			base, where = credDir, "$"+EnvCredentialsDirectory
		}
		shown = filepath.Join(base, p)
		if !filepath.IsLocal(p) {
			return "", fmt.Errorf("%s leaves %s (%s): a relative secret file is read from inside it; give an absolute path for a file elsewhere", p, where, base)
		}
		root, err := os.OpenRoot(base)
		if err != nil {
			return "", fmt.Errorf("cannot read %s: %w", shown, pathErrCause(err))
		}
		// The root only opens the file: its Close has nothing to report
		// about what was read.
		defer func() { _ = root.Close() }()
		if f, err = regfile.OpenIn(root, p); err != nil {
			// A symlink out of base gives "path escapes from parent".
			return "", fmt.Errorf("cannot read %s inside %s: %w", shown, where, pathErrCause(err))
		}
	}
	// Read only: a Close error cannot lose anything read.
	defer func() { _ = f.Close() }()
	b, err := regfile.ReadAll(f, maxSecretFile)
	switch {
	case errors.Is(err, regfile.ErrTooLarge):
		return "", fmt.Errorf("%s is larger than %d KiB: not a credential file", shown, maxSecretFile>>10)
	case err != nil:
		return "", fmt.Errorf("cannot read %s: %w", shown, pathErrCause(err))
	}
	return secretLine(shown, string(b))
}

// secretLine is the one line a secret file holds, trimmed.
func secretLine(shown, content string) (string, error) {
	v := strings.TrimSpace(content)
	lead := len(content) - len(strings.TrimLeftFunc(content, unicode.IsSpace))
	switch {
	case v == "":
		return "", fmt.Errorf("%s is empty", shown)
	case strings.ContainsRune(v, '\n'):
		return "", fmt.Errorf("%s holds more than one line: a secret file holds the secret alone, on one line (a final newline is fine)", shown)
	}
	if i := strings.IndexFunc(v, unicode.IsControl); i >= 0 {
		return "", fmt.Errorf("%s holds a control character (a NUL, carriage return, tab or escape) at byte %d: a secret file holds the secret alone, on one line", shown, lead+i)
	}
	return v, nil
}

// notKernelFile refuses an absolute path in kernelDirs, as written or
// through symlinks.
func notKernelFile(p string) error {
	paths := []string{filepath.Clean(p)}
	if r, err := filepath.EvalSymlinks(p); err == nil {
		paths = append(paths, r)
	}
	for _, q := range paths {
		for _, d := range kernelDirs {
			if q != d && !strings.HasPrefix(q, d+"/") {
				continue
			}
			what := p
			if q != paths[0] {
				what += " leads to " + q + ", which"
			}
			return fmt.Errorf("%s is under %s: a secret file must be a regular file of yours, not a kernel or device file", what, d)
		}
	}
	return nil
}

// pathErrCause drops the *PathError wrapper, whose text repeats the path.
func pathErrCause(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
