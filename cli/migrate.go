package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/autoreplyd/autoreplyd/internal/redact"
	"github.com/autoreplyd/autoreplyd/internal/regfile"
	"github.com/autoreplyd/autoreplyd/store"
	"github.com/autoreplyd/autoreplyd/store/pgcopy"
)

// maxPasswordFile bounds --password-file: a password is a line, not a file.
const maxPasswordFile = 64 << 10

func migrateCmd(env Env) *cobra.Command {
	var from, to, passwordFile string
	var batch int
	var upgrade bool
	cmd := &cobra.Command{
		Use:   "migrate --from sqlite:PATH --to postgres://USER@HOST:PORT/DATABASE?sslmode=verify-full",
		Short: "Copy the whole history from the SQLite database into PostgreSQL (resumable, verified by counts)",
		Long: `Copy every table of an SQLite database (comments, claims, notifications,
drafts, thread states, discovered threads, pauses, meta) into a PostgreSQL
database, ids and times exactly as stored, so that the daemon can move to
PostgreSQL. Stop the daemon first. The SQLite file is only read.

The target is migrated to this autoreplyd's schema. It must be empty, or a
copy of this same SQLite database (the copy records where it came from in
meta migrated_from): run the command again after an interruption and it goes
on where it stopped, copying nothing twice. It refuses to run while a daemon's
heartbeat on the target is recent.

Rows are copied in batches (--batch), each in a transaction of its own. At the
end the command prints, per table, the rows this run copied and the rows in
the source and in the target, and exits 1 if any table differs.

The password is never written in the URL (the command refuses one): give it
with --password-file, or with the URL's passfile= parameter naming a file in
libpq's format (host:port:database:user:password, the first matching line
wins). The source must have this autoreplyd's schema version: an older one is
migrated first by --upgrade-source (or by running the daemon on it once).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			src, ok := strings.CutPrefix(from, "sqlite:")
			if !ok || src == "" {
				return usageError{"--from: give the SQLite database as sqlite:PATH"}
			}
			if to == "" {
				return usageError{"--to: give the PostgreSQL database as postgres://USER@HOST:PORT/DATABASE?sslmode=verify-full"}
			}
			if batch < 1 {
				return usageError{"--batch: at least 1"}
			}
			password := ""
			if passwordFile != "" {
				var err error
				if password, err = readPasswordFile(passwordFile); err != nil {
					return fmt.Errorf("--password-file: %w", err)
				}
			}
			// Nothing printed below may hold the password, even should a
			// library put it in an error.
			r := redact.New(password)
			cfg, err := pgcopy.ParseTarget(to, password)
			if err != nil {
				return usageError{"--to: " + r.String(err.Error())}
			}
			if upgrade {
				if err := upgradeSource(cmd, src); err != nil {
					return err
				}
			}
			fmt.Fprintf(env.Stdout, "from sqlite:%s\nto   %s\n", show(nil, src), show(r, pgcopy.ShownURL(to)))
			rep, err := pgcopy.Copy(cmd.Context(), pgcopy.Options{
				Source: src, Target: cfg, Batch: batch,
				Progress: progress(env.Stderr),
			})
			if err == nil || errors.Is(err, pgcopy.ErrMismatch) {
				writeCopyTable(env.Stdout, rep)
			}
			switch {
			case errors.Is(err, pgcopy.ErrSourceBehind):
				return fmt.Errorf("%s: run the daemon (or this command with --upgrade-source) once to migrate it", r.String(err.Error()))
			case errors.Is(err, pgcopy.ErrMismatch):
				return fmt.Errorf("the target differs from the source in %s: see the table above", strings.Join(rep.Mismatched(), ", "))
			case err != nil:
				return errors.New(r.String(err.Error()))
			}
			fmt.Fprintf(env.Stdout, "verified: every table holds as many rows in PostgreSQL as in SQLite, with the same highest ids; source fingerprint %s\n", rep.Fingerprint)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&from, "from", "", "the SQLite database, as sqlite:PATH (only read)")
	fl.StringVar(&to, "to", "", "the PostgreSQL database, as a postgres:// URL without a password")
	fl.StringVar(&passwordFile, "password-file", "", "file holding the PostgreSQL password on one line (else the URL's passfile=, or none)")
	fl.IntVar(&batch, "batch", pgcopy.DefaultBatch, "rows per transaction")
	fl.BoolVar(&upgrade, "upgrade-source", false, "migrate an SQLite database of an older schema version first (this writes to it, as the daemon would)")
	return cmd
}

// upgradeSource migrates the SQLite database at path to store.SchemaVersion,
// as the daemon does at its start. It refuses a missing file, which
// store.Open would create.
func upgradeSource(cmd *cobra.Command, path string) error {
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("--from: %w", err)
	}
	st, err := store.Open(cmd.Context(), path)
	if err != nil {
		return err
	}
	return st.Close()
}

// readPasswordFile reads a password: the file's one line, surrounding
// whitespace trimmed. Errors name the file, never its content.
func readPasswordFile(path string) (string, error) {
	b, err := regfile.Read(path, maxPasswordFile)
	if err != nil {
		return "", err
	}
	v := strings.TrimSpace(string(b))
	switch {
	case v == "":
		return "", fmt.Errorf("%s is empty", path)
	case strings.ContainsAny(v, "\r\n"):
		return "", fmt.Errorf("%s holds more than one line: it holds the password alone", path)
	}
	return v, nil
}

// progressEvery is how often the progress of a long table is told.
const progressEvery = 5 * time.Second

// progress tells w how the copy of a long table goes, and each table's
// rows and rate when it is complete.
func progress(w io.Writer) func(string, int64, bool) {
	var start, last time.Time
	return func(table string, n int64, done bool) {
		now := time.Now()
		switch {
		case n == 0 && !done:
			start, last = now, now
		case done:
			d := now.Sub(start).Seconds()
			fmt.Fprintf(w, "%s: %d rows copied in %.1fs (%.0f rows/s)\n", table, n, d, float64(n)/max(d, 1e-3))
		case now.Sub(last) >= progressEvery:
			fmt.Fprintf(w, "%s: %d rows copied so far\n", table, n)
			last = now
		}
	}
}

// writeCopyTable prints what the copy did, one line per table.
func writeCopyTable(w io.Writer, rep pgcopy.Report) {
	table := [][]string{{"TABLE", "COPIED", "SOURCE", "TARGET", "MAX ID", "CHECK"}}
	for _, t := range rep.Tables {
		maxID, check := "-", "ok"
		if t.IDColumn != "" {
			maxID = strconv.FormatInt(t.SourceMax, 10)
			if t.TargetMax != t.SourceMax {
				maxID += " ≠ " + strconv.FormatInt(t.TargetMax, 10)
			}
		}
		if !t.OK() {
			check = "DIFFERS"
		}
		table = append(table, []string{t.Name, strconv.FormatInt(t.Copied, 10),
			strconv.FormatInt(t.Source, 10), strconv.FormatInt(t.Target, 10), maxID, check})
	}
	writeCells(w, table, 1, 2, 3, 4)
}
