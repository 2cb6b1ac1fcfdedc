package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/autoreplyd/autoreplyd/internal/dburl"

	"github.com/autoreplyd/autoreplyd/config"
	"github.com/autoreplyd/autoreplyd/internal/redact"
	"github.com/autoreplyd/autoreplyd/internal/termesc"
	"github.com/autoreplyd/autoreplyd/store"
)

// database is the SQLite file a command reads, the zone its times are shown
// in, and the secrets scrubbed from what it prints.
type database struct {
	path string
	// loc is the zone of days and times shown and of dates given; nil
	// until settleZone when only --database says which database.
	loc *time.Location
	// redact holds the config's secrets: rows written before the daemon
	// scrubbed them on write still print none. Nil with --database.
	redact *redact.Redactor
	// rules is the config's rules file or directory ("" with --database).
	rules string
}

// databaseOf is the database a command reads: --database (no config needed,
// so an analyst without access to the credentials can still query), else
// the config's database. Times are shown in the zone named by timezone
// (--timezone; "" when the command has none or it was not given), else
// the config's, else (--database) the zone the daemon recorded in the
// database (see settleZone).
func databaseOf(dbFlag, cfgFlag, timezone string, env Env) (database, error) {
	tz, err := zoneOf(timezone)
	if err != nil {
		return database{}, err
	}
	if dbFlag != "" {
		return database{path: dbFlag, loc: tz}, nil
	}
	cfg, err := config.Load(configPath(cfgFlag, env.Environ), env.Environ)
	if err != nil {
		return database{}, err
	}
	return configDatabase(cfg, "", tz), nil
}

// zoneOf reads --timezone; "" is nil (not given).
func zoneOf(timezone string) (*time.Location, error) {
	if timezone == "" {
		return nil, nil
	}
	loc, err := time.LoadLocation(timezone)
	if err != nil {
		return nil, fmt.Errorf("--timezone: unknown time zone %q (use an IANA name such as Asia/Shanghai, or UTC or Local)", timezone)
	}
	return loc, nil
}

// configDatabase is the database of cfg: path ("" for the config's
// database) shown in tz (nil for the config's timezone).
func configDatabase(cfg *config.Config, path string, tz *time.Location) database {
	usePassword(cfg)
	if path == "" {
		path = cfg.Database
	}
	if tz == nil {
		tz = cfg.Location
	}
	return database{path: path, loc: tz, redact: redact.New(cfg.Secrets()...), rules: cfg.Rules}
}

// settleZone sets the zone of a database given alone (no --timezone, no
// config) from st: the zone the daemon recorded at its last start (meta
// timezone), else, for a database no daemon of this version has run on
// yet, the host's.
func (db *database) settleZone(ctx context.Context, st *store.Store) error {
	if db.loc != nil {
		return nil
	}
	name, ok, err := st.Meta(ctx, store.MetaTimezone)
	if err != nil {
		return fmt.Errorf("database %s: %w", dburl.Display(db.path), err)
	}
	if !ok {
		db.loc = time.Local
		return nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return fmt.Errorf("database %s: the recorded time zone (meta timezone) %q is unknown here: give --timezone", dburl.Display(db.path), termesc.String(name))
	}
	db.loc = loc
	return nil
}

// openReadOnly opens the database for reading and settles its zone.
func (db *database) openReadOnly(ctx context.Context) (*store.Store, error) {
	st, err := store.OpenReadOnly(ctx, db.path)
	if err != nil {
		return nil, err
	}
	if err := db.settleZone(ctx, st); err != nil {
		return nil, errors.Join(err, st.Close())
	}
	return st, nil
}

// show makes one string from the platforms or the database safe to print:
// secrets scrubbed, control characters and bidi overrides escaped.
func show(r *redact.Redactor, s string) string { return termesc.String(r.String(s)) }

// parseRange reads --since and --until (see parseWhen) in loc.
func parseRange(since, until string, loc *time.Location) (from, to time.Time, err error) {
	now := time.Now()
	if from, err = parseWhen(since, now, loc); err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("--since: %w", err)
	}
	if to, err = parseWhen(until, now, loc); err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("--until: %w", err)
	}
	return from, to, nil
}

// usePassword gives the store cfg's PostgreSQL password (database_password_file)
// for the connections a command opens.
func usePassword(cfg *config.Config) {
	store.SetPGOptions(store.PGOptions{Password: cfg.DatabasePassword.Value()})
}
