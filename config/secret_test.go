package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/autoreplyd/autoreplyd/internal/regfile/regfiletest"
)

// leaked is a value that must never appear in an error: the contents of the
// files the hostile cases point at.
const leaked = "LEAKED-c0ntent-7q7q"

// tokenFileConfig is a valid config whose Douyin token comes from file.
func tokenFileConfig(file string) string {
	return "sources: {douyin: {token_file: '" + file + "', threads: [{comment_id: '1'}]}}\nresponders: {kitkot: {api_key: a, session_key: s}}\n"
}

// loadSecret loads a config reading the token from file (relative to
// credDir when that is set), with the test's deadline on it: a FIFO must not
// hang it. It returns the token, or the error's text.
func loadSecret(t *testing.T, file, credDir string) (token, msg string) {
	t.Helper()
	path := writeConfig(t, tokenFileConfig(file))
	var env []string
	if credDir != "" {
		env = []string{"CREDENTIALS_DIRECTORY=" + credDir}
	}
	var c *Config
	var err error
	regfiletest.Returns(t, "Load with token_file "+file, func() { c, err = Load(path, env) })
	if err != nil {
		if strings.Contains(err.Error(), leaked) {
			t.Errorf("the error shows the file's content:\n%v", err)
		}
		return "", err.Error()
	}
	return srcs(c).Douyin.Token.Value(), ""
}

// A secret file is one line of a regular file of bounded size, inside its
// directory when relative; every refusal names the key and the file, never
// what the file holds.
func TestSecretFileHostile(t *testing.T) {
	base := t.TempDir()
	credDir := filepath.Join(base, "credentials")
	outsideDir := filepath.Join(base, "elsewhere")
	for _, d := range []string{credDir, outsideDir} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	put := func(dir, name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	outside := put(outsideDir, "shadow", leaked+"\n")
	put(credDir, "good", "tok-1\n")
	put(credDir, "crlf", "tok-2\r\n")
	put(credDir, "two-lines", "tok-3\n"+leaked+"\n")
	put(credDir, "nul", "tok\x00"+leaked)
	put(credDir, "escape", "tok\x1b[2J"+leaked)
	put(credDir, "big", strings.Repeat(leaked, maxSecretFile/len(leaked)+1))
	put(credDir, "at-limit", strings.Repeat("a", maxSecretFile-1)+"\n")
	if err := os.Symlink(outside, filepath.Join(credDir, "abs-link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../elsewhere/shadow", filepath.Join(credDir, "rel-link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("good", filepath.Join(credDir, "inside-link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/proc/self/environ", filepath.Join(outsideDir, "environ-link")); err != nil {
		t.Fatal(err)
	}
	regfiletest.FIFO(t, credDir, "fifo")
	absFIFO := regfiletest.FIFO(t, outsideDir, "fifo")

	const key = "sources.douyin.token_file: "
	for _, tc := range []struct {
		name, file, credDir string
		want                string // the token, or
		wantErr             []string
	}{
		{name: "trailing newline", file: "good", credDir: credDir, want: "tok-1"},
		{name: "CRLF", file: "crlf", credDir: credDir, want: "tok-2"},
		{name: "a symlink inside", file: "inside-link", credDir: credDir, want: "tok-1"},
		{name: "at the size limit", file: "at-limit", credDir: credDir, want: strings.Repeat("a", maxSecretFile-1)},
		{name: "absolute", file: outside, want: leaked},

		{name: "../ out of CREDENTIALS_DIRECTORY", file: "../elsewhere/shadow", credDir: credDir,
			wantErr: []string{key + "../elsewhere/shadow leaves $CREDENTIALS_DIRECTORY (" + credDir + ")"}},
		{name: "deep ../", file: "../../../../../../../../etc/passwd", credDir: credDir,
			wantErr: []string{key + "../../../../../../../../etc/passwd leaves $CREDENTIALS_DIRECTORY"}},
		{name: "../ out of the config's directory", file: "../elsewhere/shadow",
			wantErr: []string{key + "../elsewhere/shadow leaves the config file's directory"}},
		{name: "absolute symlink out", file: "abs-link", credDir: credDir,
			wantErr: []string{key + "cannot read " + filepath.Join(credDir, "abs-link") + " inside $CREDENTIALS_DIRECTORY: path escapes"}},
		{name: "relative symlink out", file: "rel-link", credDir: credDir,
			wantErr: []string{key + "cannot read " + filepath.Join(credDir, "rel-link") + " inside $CREDENTIALS_DIRECTORY: path escapes"}},
		{name: "FIFO", file: "fifo", credDir: credDir,
			wantErr: []string{key + "cannot read " + filepath.Join(credDir, "fifo") + " inside $CREDENTIALS_DIRECTORY: not a regular file (a named pipe)"}},
		{name: "absolute FIFO", file: absFIFO,
			wantErr: []string{key + "cannot read " + absFIFO + ": not a regular file (a named pipe)"}},
		{name: "/proc/self/environ", file: "/proc/self/environ",
			wantErr: []string{key + "/proc/self/environ is under /proc: a secret file must be a regular file of yours"}},
		{name: "/proc through a symlink", file: filepath.Join(outsideDir, "environ-link"),
			wantErr: []string{key + filepath.Join(outsideDir, "environ-link") + " leads to /proc/", "which is under /proc"}},
		{name: "/dev/zero", file: "/dev/zero", wantErr: []string{key + "/dev/zero is under /dev"}},
		{name: "/sys", file: "/sys/kernel/mm/transparent_hugepage/enabled", wantErr: []string{"is under /sys"}},
		{name: "larger than 64 KiB", file: "big", credDir: credDir,
			wantErr: []string{key + filepath.Join(credDir, "big") + " is larger than 64 KiB: not a credential file"}},
		{name: "two lines", file: "two-lines", credDir: credDir,
			wantErr: []string{key + filepath.Join(credDir, "two-lines") + " holds more than one line"}},
		{name: "NUL", file: "nul", credDir: credDir,
			wantErr: []string{key + filepath.Join(credDir, "nul") + " holds a control character", "at byte 3"}},
		{name: "escape sequence", file: "escape", credDir: credDir,
			wantErr: []string{key + filepath.Join(credDir, "escape") + " holds a control character"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			token, msg := loadSecret(t, tc.file, tc.credDir)
			// A token read from a wrong file may be anything (the test's
			// environment, /etc/passwd): its length only is shown.
			if tc.wantErr == nil {
				if msg != "" || token != tc.want {
					t.Fatalf("token of %d bytes (want %d), error %v", len(token), len(tc.want), msg)
				}
				return
			}
			if msg == "" {
				t.Fatalf("loaded a token of %d bytes; want an error", len(token))
			}
			wantContains(t, msg, tc.wantErr...)
		})
	}
}

// The config file itself is read bounded: a FIFO or a device given as the
// config does not hang or fill memory.
func TestConfigFileNotRegular(t *testing.T) {
	fifo := regfiletest.FIFO(t, t.TempDir(), "config.yaml")
	for _, p := range []string{fifo, "/dev/zero"} {
		var err error
		regfiletest.Returns(t, "Load("+p+")", func() { _, err = Load(p, nil) })
		if err == nil || !strings.Contains(err.Error(), p+": not a regular file") {
			t.Errorf("Load(%s): %v, want not a regular file", p, err)
		}
	}
	big := writeConfig(t, minimal+"#"+strings.Repeat("x", maxConfigFile)+"\n")
	if _, err := Load(big, nil); err == nil || !strings.Contains(err.Error(), big+": larger than 8 MiB") {
		t.Errorf("Load of a config over 8 MiB: %v", err)
	}
}

// InlineSecrets names the secrets written in the config file itself, not
// those from *_file or the environment.
func TestInlineSecrets(t *testing.T) {
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("t\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := mustLoad(t, tokenFileConfig(tokenFile))
	if want := []string{"responders.kitkot.api_key", "responders.kitkot.session_key"}; !slices.Equal(c.InlineSecrets, want) {
		t.Errorf("InlineSecrets = %q, want %q", c.InlineSecrets, want)
	}
	c = mustLoad(t, "sources: {douyin: {threads: [{comment_id: '1'}]}}\nresponders: {kitkot: {api_key: a}}\n",
		"AUTOREPLYD_SOURCES__DOUYIN__TOKEN=t", "AUTOREPLYD_RESPONDERS__KITKOT__SESSION_KEY=s")
	if want := []string{"responders.kitkot.api_key"}; !slices.Equal(c.InlineSecrets, want) {
		t.Errorf("InlineSecrets = %q, want %q (the environment's are not inline)", c.InlineSecrets, want)
	}
}
