package cli

import (
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/autoreplyd/autoreplyd/demo"
)

func demoCmd(env Env) *cobra.Command {
	var o demo.Options
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the whole pipeline against a built-in simulator of JustOneAPI and kitkot",
		Long: "Runs the real pipeline (rules.example.yaml, SQLite on disk, HTTP on loopback) against a built-in\n" +
			"simulator that keeps adding realistic Douyin replies. Prints each decision as it happens and a\n" +
			"summary at the end. Stops after --duration or on Ctrl-C.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGTERM, os.Interrupt)
			defer stop()
			o.Out, o.Log = env.Stdout, env.Stderr
			return demo.Run(ctx, o)
		},
	}
	cmd.Flags().DurationVar(&o.Duration, "duration", 30*time.Second, "how long to run (0 = until Ctrl-C)")
	cmd.Flags().StringVar(&o.Dir, "dir", "", "directory for the demo's config, rules and database (default: a new temporary directory)")
	cmd.Flags().Int64Var(&o.Seed, "seed", 0, "seed of the simulated traffic (0 = random)")
	cmd.Flags().DurationVar(&o.Tick, "tick", 2*time.Second, "poll schedule period and traffic pace")
	return cmd
}
