package cli

import (
	"fmt"
	"time"

	"github.com/autoreplyd/autoreplyd/config"
)

// databaseOf is the SQLite file a command reads and the zone its times are
// shown in: --database (host's zone, no config needed, so an analyst without
// access to the credentials can still query), else the config's database
// and timezone.
func databaseOf(dbFlag, cfgFlag string, env Env) (string, *time.Location, error) {
	if dbFlag != "" {
		return dbFlag, time.Local, nil
	}
	cfg, err := config.Load(configPath(cfgFlag, env.Environ), env.Environ)
	if err != nil {
		return "", nil, err
	}
	return cfg.Database, cfg.Location, nil
}

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
