// Package dburl reads the config's `database` value: an SQLite file's
// path, or a PostgreSQL URL, which may be shown only without its password.
package dburl

import (
	"errors"
	"net/url"
	"strings"
)

// IsPostgres reports whether database names a PostgreSQL database
// (postgres:// or postgresql://) rather than an SQLite file.
func IsPostgres(database string) bool {
	return strings.HasPrefix(database, "postgres://") || strings.HasPrefix(database, "postgresql://")
}

// Display is database as it may be shown: a PostgreSQL URL without a
// password or passfile (an SQLite path as it is).
func Display(database string) string {
	if !IsPostgres(database) {
		return database
	}
	u, err := url.Parse(database)
	if err != nil {
		return "postgres://(unreadable URL)"
	}
	if u.User != nil {
		u.User = url.User(u.User.Username())
	}
	q := u.Query()
	for k := range q {
		if secretParam(k) || strings.EqualFold(k, "passfile") {
			q.Del(k)
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// Check refuses a PostgreSQL URL that is unreadable or carries a password
// (it would show wherever the URL does: logs, the config's readers). The
// error never quotes the URL.
func Check(database string) error {
	if !IsPostgres(database) {
		return nil
	}
	u, err := url.Parse(database)
	if err != nil {
		return errors.New("not a readable PostgreSQL URL (postgres://user@host:5432/dbname?sslmode=verify-full)")
	}
	hasSecret := false
	for k := range u.Query() {
		hasSecret = hasSecret || secretParam(k)
	}
	if _, has := u.User.Password(); has || hasSecret {
		return errors.New("the URL holds a password: give it in database_password_file (or the URL's passfile) instead")
	}
	if strings.TrimPrefix(u.Path, "/") == "" {
		return errors.New("the URL names no database (postgres://user@host:5432/dbname?sslmode=verify-full)")
	}
	return nil
}

// secretParam reports whether a URL parameter holds a secret: the
// password, or the client key's (sslpassword).
func secretParam(k string) bool {
	return strings.EqualFold(k, "password") || strings.EqualFold(k, "sslpassword")
}
