package config

import (
	"crypto/tls"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/autoreplyd/autoreplyd/internal/termesc"
)

// Console defaults and bounds.
const (
	// DefaultSessionTTL is how long a console sign-in lasts: a working day.
	DefaultSessionTTL = 12 * time.Hour
	// MinBcryptCost is the lowest bcrypt cost a console password hash may
	// have: below it a stolen hash is cheap to brute-force (hash-password
	// uses 12).
	MinBcryptCost = 10
)

// Console is the `console:` section: the web console served under /ui/ on
// the listen address (see package console). Nil when the section is absent.
type Console struct {
	// Users may sign in; each has a bcrypt password_hash or a
	// password_file holding the password itself.
	Users []*ConsoleUser `koanf:"users" json:"users"`
	// SessionTTL is how long a sign-in lasts.
	SessionTTL time.Duration `koanf:"session_ttl" json:"session_ttl"`
	// AllowedHosts are the host:port names the console answers to besides
	// the listen address itself (a request with another Host gets 403).
	AllowedHosts []string `koanf:"allowed_hosts" json:"allowed_hosts"`
	// TLSCertFile and TLSKeyFile, both or neither, make the listener speak
	// HTTPS (every route on it, /metrics included).
	TLSCertFile string `koanf:"tls_cert_file" json:"tls_cert_file"`
	TLSKeyFile  string `koanf:"tls_key_file" json:"tls_key_file"`
}

// ConsoleUser is one entry of console.users.
type ConsoleUser struct {
	// Name is who signs in; decisions taken in the console record it.
	Name string `koanf:"name" json:"name"`
	// PasswordHash is a bcrypt hash (autoreplyd console hash-password),
	// also as password_hash_file.
	PasswordHash     Secret `koanf:"password_hash" json:"password_hash"`
	PasswordHashFile string `koanf:"password_hash_file" json:"password_hash_file"`
	// PasswordFile is a credential file holding the password itself
	// (relative: in $CREDENTIALS_DIRECTORY); Password is what it holds.
	PasswordFile string `koanf:"password_file" json:"password_file"`
	Password     Secret `koanf:"-" json:"-"`
}

// TLS says whether the listener serves HTTPS.
func (c *Console) TLS() bool { return c != nil && c.TLSCertFile != "" }

// consoleSecretRefs are the console users' secrets: a hash is as good as a
// password to an offline attacker, so both are kept out of every output.
func (c *Config) consoleSecretRefs() []secretRef {
	if c.Console == nil {
		return nil
	}
	var refs []secretRef
	for i, u := range c.Console.Users {
		key := fmt.Sprintf("console.users[%d]", i)
		refs = append(refs,
			secretRef{key: key + ".password_hash", val: &u.PasswordHash, file: &u.PasswordHashFile},
			// The password has no inline key (koanf:"-"): only its file.
			secretRef{key: key + ".password", val: &u.Password, file: &u.PasswordFile})
	}
	return refs
}

// validateConsole checks the console section; secrets are resolved.
func (c *Config) validateConsole(p *problems) {
	cs := c.Console
	if cs == nil {
		return
	}
	if c.Listen == "" {
		p.addf("console", "the console is served on the listen address: set listen (e.g. 127.0.0.1:9464)")
	}
	if len(cs.Users) == 0 {
		p.addf("console.users", "no user: add one with a name and a password_hash (autoreplyd console hash-password) or a password_file")
	}
	seen := map[string]bool{}
	for i, u := range cs.Users {
		key := fmt.Sprintf("console.users[%d]", i)
		if u == nil {
			p.addf(key, "empty entry: want a name and a password_hash or a password_file")
			continue
		}
		switch {
		case strings.TrimSpace(u.Name) == "":
			p.addf(key+".name", "missing")
		case u.Name != strings.TrimSpace(u.Name) || termesc.String(u.Name) != u.Name:
			p.addf(key+".name", "%q: a user name is printable text without surrounding spaces", u.Name)
		case seen[u.Name]:
			p.addf(key+".name", "%q is listed twice", u.Name)
		}
		seen[u.Name] = true
		hash, pw := u.PasswordHash.Value(), u.Password.Value()
		switch {
		case p.covers(key+".password_hash") || p.covers(key+".password_hash_file") || p.covers(key+".password_file"):
		case hash == "" && pw == "":
			p.addf(key, "no password: set password_hash (autoreplyd console hash-password) or password_file")
		case hash != "" && pw != "":
			p.addf(key, "set either password_hash or password_file, not both")
		case hash != "":
			// The error never quotes the value: a hash is a secret.
			cost, err := bcrypt.Cost([]byte(hash))
			switch {
			case err != nil:
				p.addf(key+".password_hash", "not a bcrypt hash (make one with: autoreplyd console hash-password < password-file)")
			case cost < MinBcryptCost:
				p.addf(key+".password_hash", "bcrypt cost %d is too low: at least %d (hash-password uses 12)", cost, MinBcryptCost)
			}
		}
	}
	if cs.SessionTTL <= 0 {
		p.addf("console.session_ttl", "must be a positive duration, e.g. 12h")
	}
	for i, h := range cs.AllowedHosts {
		host, port, err := net.SplitHostPort(h)
		if err != nil || host == "" || port == "" {
			p.addf(fmt.Sprintf("console.allowed_hosts[%d]", i), "%q: want host:port as the browser's address bar shows it (e.g. autoreplyd.internal:9464)", h)
		}
	}
	switch {
	case (cs.TLSCertFile == "") != (cs.TLSKeyFile == ""):
		p.addf("console", "set both tls_cert_file and tls_key_file, or neither")
	case cs.TLSCertFile != "":
		dir := filepath.Dir(c.File)
		cs.TLSCertFile, cs.TLSKeyFile = resolvePath(dir, cs.TLSCertFile), resolvePath(dir, cs.TLSKeyFile)
		if _, err := tls.LoadX509KeyPair(cs.TLSCertFile, cs.TLSKeyFile); err != nil {
			// The error names the files; it never holds the key.
			p.addf("console.tls_cert_file", "cannot load the certificate and key: %v", err)
		}
	}
}
