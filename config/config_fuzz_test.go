package config

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fuzzCredentials are the files of the fuzzed CREDENTIALS_DIRECTORY, named as
// in config.example.yaml, each holding a distinctive value that no error and
// no rendering of a loaded config may show.
var fuzzCredentials = map[string]string{
	"justoneapi-token":   "FZSECRET-douyin-token-5b9e1d",
	"kitkot-api-key":     "FZSECRET-kitkot-apikey-77c2aa",
	"kitkot-session-key": "FZSECRET-kitkot-session-0e4f3b",
	"wechat-app-secret":  "FZSECRET-wechat-appsecret-a1d9",
	"weibo-access-token": "FZSECRET-weibo-token-3c8e72",
	"weibo-password":     "FZSECRET-weibo-password-6d0b",
}

func FuzzLoadConfig(f *testing.F) {
	example, err := os.ReadFile("../config.example.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(example, "DRY_RUN", "true")
	f.Add(example, "SOURCES__DOUYIN__TOKEN", "inline-and-file")
	f.Add(example, "SOURCES__DOUYIN__SELF_UIDS", "111, 222,,")
	f.Add(example, "RESPONDERS__KITKOT__API_KEY_FILE", "weibo-password")
	f.Add(example, "SOURCES__DOUYIN__THREADS", "7251524159191958327")
	f.Add(example, "TIMEZONE", "Mars/Olympus")
	f.Add(example, "SOURCES__DOUYIN__TIMEOUT", "60")
	f.Add([]byte(minimal), "RESPONDERS__KITKOT__SESSION_KEY_FILE", "kitkot-session-key")
	f.Add([]byte(minimal), "SOURCES__DOUYIN__TOKEN_FILE", "/nonexistent/justoneapi-token")
	for _, s := range []string{
		"",
		"\ufeffdry_run: true\n",
		"dry_run: [1, 2]\n",
		"sources:\n  douyin:\n    token_file: justoneapi-token\n    threads:\n      - comment_id: 7251524159191958327\n        aweme_id: 7251517975340027197.0\n" +
			"responders:\n  kitkot:\n    api_key_file: kitkot-api-key\n    session_key_file: kitkot-session-key\n",
		"sources:\n  douyin:\n    token_file: justoneapi-token\n    token: " + fuzzCredentials["justoneapi-token"] + "\n",
		"sources:\n  douyin:\n    token_file: [justoneapi-token]\n    threads: {a: b}\n    timeout: 1e400\n",
		"sources:\n  wechat:\n    app_secret_file: wechat-app-secret\n  weibo:\n    access_token_file: weibo-access-token\n" +
			"responders:\n  weibo:\n    api: v1\n    password_file: weibo-password\n",
		"schedule: 2024-01-01\ntimezone: ''\nlisten: ':x'\n",
		"a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n" +
			"d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n" +
			"g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\nh: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]\ni: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]\n",
		"sources: &s {douyin: {threads: *s}}\n",
		strings.Repeat("[", 5000) + strings.Repeat("]", 5000),
		"log:\n  level: debug\n---\nlog: {level: info}\n",
	} {
		f.Add([]byte(s), "LOG__LEVEL", "warn")
	}

	credDir := f.TempDir()
	for name, v := range fuzzCredentials {
		// Surrounding whitespace is trimmed by the loader.
		if err := os.WriteFile(filepath.Join(credDir, name), []byte("\n "+v+" \n"), 0o600); err != nil {
			f.Fatal(err)
		}
	}

	f.Fuzz(func(t *testing.T, data []byte, envKey, envVal string) {
		path := filepath.Join(t.TempDir(), "config.yaml")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		environ := []string{EnvPrefix + envKey + "=" + envVal, EnvCredentialsDirectory + "=" + credDir}
		start := time.Now()
		cfg, err := Load(path, environ)
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("Load of %d bytes took %v", len(data), d)
		}
		if err != nil {
			if cfg != nil {
				t.Errorf("a config and an error")
			}
			noFuzzSecret(t, "error", err.Error())
			return
		}
		if cfg == nil || cfg.Location == nil {
			t.Fatalf("loaded config without a Location: %+v", cfg)
		}
		if !filepath.IsAbs(cfg.File) {
			t.Errorf("File %q is not absolute", cfg.File)
		}
		js, err := json.Marshal(cfg)
		if err != nil {
			t.Errorf("json: %v", err)
		}
		noFuzzSecret(t, "String()", cfg.String())
		noFuzzSecret(t, "%+v", fmt.Sprintf("%+v %#v", cfg, cfg))
		noFuzzSecret(t, "JSON", string(js))
	})
}

// noFuzzSecret fails when s shows one of the credential files' values.
func noFuzzSecret(t *testing.T, what, s string) {
	t.Helper()
	for name, v := range fuzzCredentials {
		if strings.Contains(s, v) {
			t.Errorf("%s shows the secret of %s: %s", what, name, s)
		}
	}
}
