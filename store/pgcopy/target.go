package pgcopy

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/jackc/pgx/v5"
)

// secretParams are the connection parameters that hold a secret: the
// password itself and the passphrase of the client's TLS key. A URL is
// printed by whoever runs a copy, kept in shell histories and shown in
// process lists, so neither may be written in it.
var secretParams = []string{"password", "sslpassword"}

// ErrPasswordInURL is returned (wrapped) by ParseTarget for a URL holding a
// password. Its message never repeats the URL.
var ErrPasswordInURL = errors.New("the URL holds a password: give it in a file instead (--password-file, or the URL's passfile= parameter naming a file in libpq's format host:port:database:user:password)")

// ParseTarget reads a postgres:// or postgresql:// URL into a connection
// config, password being the password read from a file ("" for none: the
// URL's passfile= parameter, read by pgx as libpq would, or no password).
// It refuses a URL that holds a password, and a password given both ways.
// No error repeats the URL.
func ParseTarget(raw, password string) (*pgx.ConnConfig, error) {
	if !strings.HasPrefix(raw, "postgres://") && !strings.HasPrefix(raw, "postgresql://") {
		return nil, errors.New("not a postgres:// URL (postgres://USER@HOST:PORT/DATABASE?sslmode=verify-full)")
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url.Parse's error quotes the URL, password and all.
		return nil, errors.New("not a valid URL (percent-encode any special character in the user name, database or parameters)")
	}
	if _, ok := u.User.Password(); ok {
		return nil, ErrPasswordInURL
	}
	q := u.Query()
	for _, p := range secretParams {
		if q.Has(p) {
			return nil, fmt.Errorf("%s= parameter: %w", p, ErrPasswordInURL)
		}
	}
	if pf := q.Get("passfile"); pf != "" {
		if password != "" {
			return nil, errors.New("both a password file and the URL's passfile= parameter: give one")
		}
		// pgx ignores a passfile it cannot read, which would end in a
		// puzzling authentication failure; say so now.
		f, err := os.Open(pf)
		if err != nil {
			return nil, fmt.Errorf("passfile: %w", err)
		}
		if err := f.Close(); err != nil {
			return nil, fmt.Errorf("passfile: %w", err)
		}
	}
	cfg, err := pgx.ParseConfig(raw)
	if err != nil {
		// pgconn's error shows the URL with any password masked; there is
		// none in it by now.
		return nil, err
	}
	if password != "" {
		cfg.Password = password
	}
	return cfg, nil
}

// ShownURL is raw as it may be printed: without a password in its user
// information, without the secret parameters, and without passfile= (where
// the password lives is nobody's business but the operator's). A URL that
// does not parse is shown as a placeholder.
func ShownURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(a URL that does not parse)"
	}
	if u.User != nil {
		u.User = url.User(u.User.Username())
	}
	q := u.Query()
	for _, p := range append([]string{"passfile"}, secretParams...) {
		q.Del(p)
	}
	u.RawQuery = q.Encode()
	return u.String()
}
