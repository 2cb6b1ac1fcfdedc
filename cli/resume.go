package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/autoreplyd/autoreplyd/internal/redact"
	"github.com/autoreplyd/autoreplyd/store"
)

func resumeCmd(env Env) *cobra.Command {
	var cfgFlag, dbFlag string
	var list bool
	cmd := &cobra.Command{
		Use:   "resume [--list] [SCOPE...]",
		Short: "List or lift the persisted pauses of sources, responders and model endpoints (source:douyin, responder:kitkot, llm:deepseek)",
		Long: `Lift a persisted pause of a source or responder (a quota, balance, token or
risk-control answer paused it) or of a language model endpoint (it refused
our key or model), or list the pauses in force with --list.

A running daemon reads the pauses at each cycle: a lifted responder pause
takes effect at its next cycle, and the answers held while it was paused are
sent then. A source stopped by a credentials or balance refusal also stays
stopped in the running daemon's memory: restart autoreplyd after resuming it.`,
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			if list == (len(args) > 0) {
				return fmt.Errorf("name the scopes to resume (e.g. responder:kitkot), or --list")
			}
			for _, a := range args {
				if !validScope(a) {
					return fmt.Errorf("%q: a scope is source:NAME, responder:NAME or llm:NAME, NAME being the section's name in the config (see `autoreplyd resume --list`)", a)
				}
			}
			db, err := databaseOf(dbFlag, cfgFlag, "", env)
			if err != nil {
				return err
			}
			if list {
				st, err := db.openReadOnly(cmd.Context())
				if err != nil {
					return err
				}
				err = listPauses(cmd.Context(), env.Stdout, st, time.Now(), db)
				return errors.Join(err, st.Close())
			}
			if !store.IsPostgres(db.path) {
				if _, err := os.Stat(db.path); err != nil {
					return fmt.Errorf("database %s: %w", db.path, err)
				}
			}
			st, err := openWritable(cmd.Context(), db.path)
			if err != nil {
				return err
			}
			// A database that will not close fails the command, not silently.
			defer func() { err = errors.Join(err, st.Close()) }()
			if err := db.settleZone(cmd.Context(), st); err != nil {
				return err
			}
			return resume(cmd.Context(), env.Stdout, st, args, time.Now(), db)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&cfgFlag, "config", "", "config file (default $AUTOREPLYD_CONFIG or /etc/autoreplyd/config.yaml)")
	fl.StringVar(&dbFlag, "database", "", "use this SQLite file instead of the config's database (times then in the time zone the daemon recorded in it, else the host's)")
	fl.BoolVar(&list, "list", false, "list the pauses in force")
	return cmd
}

func validScope(s string) bool {
	kind, name, ok := strings.Cut(s, ":")
	return ok && name != "" && (kind == "source" || kind == "responder" || kind == "llm")
}

// activePauses returns the stored pauses still in force at now.
func activePauses(ctx context.Context, st *store.Store, now time.Time) ([]store.Pause, error) {
	ps, err := st.Pauses(ctx)
	if err != nil {
		return nil, err
	}
	var out []store.Pause
	for _, p := range ps {
		if p.Until.IsZero() || now.Before(p.Until) {
			out = append(out, p)
		}
	}
	return out, nil
}

// describePause says what p is, its reason (the platform's words) scrubbed
// of r's secrets and escaped for a terminal.
func describePause(p store.Pause, loc *time.Location, r *redact.Redactor) string {
	until := "until resumed"
	if !p.Until.IsZero() {
		until = "until " + p.Until.In(loc).Format("2006-01-02 15:04:05 MST")
	}
	return fmt.Sprintf("%s paused %s: %s", show(r, p.Scope), until, show(r, p.Reason))
}

// listPauses prints the pauses in force, one a line.
func listPauses(ctx context.Context, w io.Writer, st *store.Store, now time.Time, db database) error {
	ps, err := activePauses(ctx, st, now)
	if err != nil {
		return err
	}
	if len(ps) == 0 {
		fmt.Fprintln(w, "no pauses in force")
		return nil
	}
	for _, p := range ps {
		fmt.Fprintln(w, describePause(p, db.loc, db.redact))
	}
	return nil
}

// resume clears the pauses of scopes, saying what each one was.
func resume(ctx context.Context, w io.Writer, st *store.Store, scopes []string, now time.Time, db database) error {
	ps, err := activePauses(ctx, st, now)
	if err != nil {
		return err
	}
	active := map[string]store.Pause{}
	for _, p := range ps {
		active[p.Scope] = p
	}
	for _, scope := range scopes {
		p, ok := active[scope]
		if err := st.ClearPause(ctx, scope); err != nil {
			return err
		}
		if !ok {
			fmt.Fprintf(w, "%s was not paused\n", show(nil, scope))
			continue
		}
		fmt.Fprintf(w, "resumed: %s\n", describePause(p, db.loc, db.redact))
		if strings.HasPrefix(scope, "source:") {
			fmt.Fprintf(w, "  a running autoreplyd keeps a source stopped by a credentials or balance refusal until it restarts: restart it now\n")
		} else if strings.HasPrefix(scope, "llm:") {
			fmt.Fprintf(w, "  a running autoreplyd asks for its waiting drafts again within seconds\n")
		} else {
			fmt.Fprintf(w, "  a running autoreplyd resumes it at its next cycle, held answers included\n")
		}
	}
	return nil
}
