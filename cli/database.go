package cli

import (
	"fmt"
	"time"

	"github.com/autoreplyd/autoreplyd/config"
	"github.com/autoreplyd/autoreplyd/internal/redact"
	"github.com/autoreplyd/autoreplyd/internal/termesc"
)

// database is the SQLite file a command reads, the zone its times are shown
// in, and the secrets scrubbed from what it prints.
type database struct {
	path string
	loc  *time.Location
	// redact holds the config's secrets: rows written before the daemon
	// scrubbed them on write still print none. Nil with --database.
	redact *redact.Redactor
}

// databaseOf is the database a command reads: --database (host's zone, no
// config needed, so an analyst without access to the credentials can still
// query), else the config's database and timezone.
func databaseOf(dbFlag, cfgFlag string, env Env) (database, error) {
	if dbFlag != "" {
		return database{path: dbFlag, loc: time.Local}, nil
	}
	cfg, err := config.Load(configPath(cfgFlag, env.Environ), env.Environ)
	if err != nil {
		return database{}, err
	}
	return database{path: cfg.Database, loc: cfg.Location, redact: redact.New(cfg.Secrets()...)}, nil
}

// show makes one string from the platforms or the database safe to print:
// secrets scrubbed, control characters and bidi overrides escaped.
func show(r *redact.Redactor, s string) string { return termesc.String(r.String(s)) }

// checkFormat refuses an output format other than table, json or csv.
func checkFormat(format string) error {
	switch format {
	case "table", "json", "csv":
		return nil
	}
	return fmt.Errorf("--format: %q is not table, json or csv", format)
}

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
