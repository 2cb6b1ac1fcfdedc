package config

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/autoreplyd/autoreplyd/internal/dburl"

	"github.com/knadh/koanf/providers/env/v2"
	"github.com/knadh/koanf/providers/rawbytes"
	"github.com/knadh/koanf/v2"

	"github.com/autoreplyd/autoreplyd/internal/regfile"
	"github.com/autoreplyd/autoreplyd/platform"

	// Zone data in the binary: timezone must work on hosts without tzdata.
	_ "time/tzdata"
)

// Environment variable names.
const (
	// EnvPrefix starts every override: AUTOREPLYD_ + key path in capitals,
	// with __ between levels (AUTOREPLYD_SOURCES__DOUYIN__TOKEN).
	EnvPrefix = "AUTOREPLYD_"
	// EnvConfig is the config path, not an override.
	EnvConfig = "AUTOREPLYD_CONFIG"
	// EnvCredentialsDirectory is set by systemd for LoadCredential=.
	EnvCredentialsDirectory = "CREDENTIALS_DIRECTORY"
)

// maxConfigFile bounds the config file: 10,000 watched threads with labels
// take about 1.5 MB; a bigger file is a wrong path (and read whole, a FIFO or
// /dev/zero would hang or exhaust the process).
const maxConfigFile = 8 << 20

// DefaultPath returns $AUTOREPLYD_CONFIG from environ, else DefaultConfigPath.
func DefaultPath(environ []string) string {
	if p := lookupEnv(environ, EnvConfig); p != "" {
		return p
	}
	return DefaultConfigPath
}

// lookupEnv returns the value of name in environ; the last one wins, as in
// the koanf env provider.
func lookupEnv(environ []string, name string) string {
	v := ""
	for _, kv := range environ {
		if k, val, ok := strings.Cut(kv, "="); ok && k == name {
			v = val
		}
	}
	return v
}

// Load reads the YAML file at path, applies AUTOREPLYD_* overrides and
// CREDENTIALS_DIRECTORY from environ (pass os.Environ(); the process
// environment is not read otherwise), fills defaults, resolves secrets and
// validates. The error lists every problem found, each naming the file and
// the key; it never contains a secret value.
func Load(path string, environ []string) (*Config, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}

	data, err := regfile.Read(abs, maxConfigFile)
	if errors.Is(err, regfile.ErrTooLarge) {
		return nil, fmt.Errorf("%s: larger than %d MiB: not a config file", abs, maxConfigFile>>20)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", abs, pathErrCause(err))
	}
	ko := koanf.New(".")
	if err := ko.Load(rawbytes.Provider(data), literalYAML{}); err != nil {
		return nil, fmt.Errorf("%s: %w", abs, err)
	}
	// The file's own keys, before the environment overrides them: a secret
	// given inline there is worth a warning when others can read the file.
	inFile := ko.Copy()

	// envKeys maps each overridden key path to its variable, for errors.
	envKeys := map[string]string{}
	envProvider := env.Provider(".", env.Opt{
		Prefix:      EnvPrefix,
		EnvironFunc: func() []string { return environ },
		TransformFunc: func(k, v string) (string, any) {
			if k == EnvConfig {
				return "", nil
			}
			key := strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(k, EnvPrefix)), "__", ".")
			if key != "" {
				envKeys[key] = k
			}
			return key, v
		},
	})
	if err := ko.Load(envProvider, nil); err != nil {
		return nil, fmt.Errorf("%s: environment overrides: %w", abs, err)
	}

	// Decoding problems do not stop validation: one run reports everything.
	cfg, probs := decode(ko.Raw())
	cfg.File = abs
	for _, ref := range cfg.secretRefs() {
		if inFile.String(ref.key) != "" {
			cfg.InlineSecrets = append(cfg.InlineSecrets, ref.key)
		}
	}
	finish(cfg, lookupEnv(environ, EnvCredentialsDirectory), &probs)
	if err := probs.join(abs, envKeys); err != nil {
		return nil, err
	}
	return cfg, nil
}

// finish resolves paths and secrets and validates a decoded config.
func finish(c *Config, credDir string, p *problems) {
	dir := filepath.Dir(c.File)

	// First: later steps (and the daemon's expr.Timezone) panic on a bad zone.
	c.Location = validateTimezone(c.Timezone, p)

	if !dburl.IsPostgres(c.Database) {
		c.Database = resolvePath(dir, c.Database)
	}
	c.Rules = resolvePath(dir, c.Rules)
	if c.Console != nil && c.Console.SessionTTL == 0 {
		c.Console.SessionTTL = DefaultSessionTTL
	}

	for _, ref := range c.secretRefs() {
		if p.covers(ref.key) || p.covers(ref.key+"_file") {
			continue // already reported as malformed
		}
		if err := resolveSecret(ref, credDir, dir); err != nil {
			p.add(err)
		}
	}
	c.loadListFiles(dir, p)
	// One problem per key: a key decoding refused (a list where an id
	// belongs) is left empty, and "missing" beside it would be wrong.
	var v problems
	c.validate(&v)
	for _, e := range v {
		if !p.covers(e.Key) {
			p.add(e)
		}
	}
}

// loadListFiles appends the entries of each source's list files
// (threads_file, ...) to its lists, before the sections are checked: the
// checks (ids, duplicates across the YAML list and the file, routes) are
// the same wherever an entry was written.
func (c *Config) loadListFiles(dir string, p *problems) {
	for _, s := range c.Sources {
		lf, ok := s.Section.(platform.ListFiler)
		if !ok {
			continue
		}
		for _, f := range lf.ListFiles() {
			if !p.covers(s.Key() + "." + f.Key) { // else already reported as malformed
				f.Load(dir, s.Key(), p)
			}
		}
	}
}

func resolvePath(dir, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}

func validateTimezone(name string, p *problems) *time.Location {
	if name == "" {
		p.addf("timezone", "empty (use an IANA name such as Asia/Shanghai, or UTC or Local)")
		return time.Local
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		p.addf("timezone", "unknown time zone %q (use an IANA name such as Asia/Shanghai, or UTC or Local)", name)
		return time.Local
	}
	return loc
}

// secretRefs lists every secret of every configured section.
func (c *Config) secretRefs() []secretRef {
	var refs []secretRef
	add := func(section string, rs []platform.SecretRef) {
		for _, r := range rs {
			refs = append(refs, secretRef{key: section + "." + r.Key, val: r.Value, file: r.File, required: r.Required})
		}
	}
	for _, s := range c.Sources {
		add(s.Key(), s.Section.Secrets())
	}
	for _, r := range c.Responders {
		add(r.Key(), r.Section.Secrets())
	}
	for _, n := range c.Notify {
		add(n.Key(), []platform.SecretRef{
			{Key: "url", Value: &n.URL, File: &n.URLFile, Required: true},
			{Key: "secret", Value: &n.Secret, File: &n.SecretFile},
		})
	}
	refs = append(refs, secretRef{key: "database_password", val: &c.DatabasePassword, file: &c.DatabasePasswordFile})
	refs = append(refs, c.llmSecretRefs()...)
	return append(refs, c.consoleSecretRefs()...)
}
