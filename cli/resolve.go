package cli

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/autoreplyd/autoreplyd/store"
)

func resolveCmd(env Env) *cobra.Command {
	var cfgFlag, dbFlag string
	var sent, retry, drop bool
	cmd := &cobra.Command{
		Use:   "resolve ID (--sent | --retry | --drop)",
		Short: "Settle an unknown, failed or retrying reply by hand (safe while the daemon runs)",
		Long: `Settle claim ID (the id column of history --format json or csv) by hand:
  --sent   it was posted (you saw it on the platform): record it sent
  --retry  it was not posted: the daemon sends it again on its next cycle
  --drop   give up: record it failed, never sent
Only unknown, failed or retrying claims can be resolved. The history shows
the reason resolved_sent, resolved_retry or resolved_drop, and "resolved by
hand" in the error column.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil || id <= 0 {
				return fmt.Errorf("claim id %q is not a positive number", args[0])
			}
			var action string
			n := 0
			for _, a := range []struct {
				set  bool
				name string
			}{{sent, store.ResolveSent}, {retry, store.ResolveRetry}, {drop, store.ResolveDrop}} {
				if a.set {
					action = a.name
					n++
				}
			}
			if n != 1 {
				return errors.New("give exactly one of --sent, --retry or --drop")
			}
			db, err := databaseOf(dbFlag, cfgFlag, "", env)
			if err != nil {
				return err
			}
			st, err := openWritable(cmd.Context(), db.path)
			if err != nil {
				return err
			}
			// A database that will not close fails the command, not silently.
			defer func() { err = errors.Join(err, st.Close()) }()
			before, after, err := st.Resolve(cmd.Context(), id, action, time.Now())
			if err != nil {
				return err
			}
			r, err := st.ClaimRow(cmd.Context(), id)
			if err != nil {
				fmt.Fprintf(env.Stdout, "claim %d: %s → %s\n", id, before, after)
				return nil
			}
			fmt.Fprintf(env.Stdout, "claim %d (%s comment %s, rule %s): %s → %s (%s)\n",
				id, show(db.redact, r.Platform), show(db.redact, r.CommentID), show(db.redact, r.Rule), before, r.Status, show(db.redact, r.Reason))
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&cfgFlag, "config", "", "config file (default $AUTOREPLYD_CONFIG or /etc/autoreplyd/config.yaml)")
	fl.StringVar(&dbFlag, "database", "", "use this SQLite file instead of the config's database")
	fl.BoolVar(&sent, "sent", false, "it was posted: record it sent")
	fl.BoolVar(&retry, "retry", false, "it was not posted: send it again on the daemon's next cycle")
	fl.BoolVar(&drop, "drop", false, "give up: record it failed")
	return cmd
}
