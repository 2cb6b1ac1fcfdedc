package cli

import (
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/autoreplyd/autoreplyd/demo"
)

func simulateCmd(env Env) *cobra.Command {
	var o demo.SimulateOptions
	cmd := &cobra.Command{
		Use:   "simulate",
		Short: "Serve loopback imitations of all four platforms for run to rehearse a config against",
		Long: "Serves loopback imitations of Douyin (JustOneAPI), TikTok and kitkot, WeChat and Weibo on one\n" +
			"address, writes DIR/config.yaml (every platform pointed at them, made-up secrets in files under\n" +
			"DIR/credentials) and DIR/rules.yaml unless they exist (an existing file is never overwritten: its\n" +
			"threads are served and its credentials accepted), prints the commands to run against it, and keeps\n" +
			"adding realistic comments at --traffic until Ctrl-C. Add your own with\n" +
			"  curl --data-urlencode platform=douyin --data-urlencode 'text=多少钱' URL/sim/comments",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGTERM, os.Interrupt)
			defer stop()
			o.ListenSet = cmd.Flags().Changed("listen")
			o.Program = program()
			o.Environ = env.Environ
			o.Out, o.Log = env.Stdout, env.Stderr
			return demo.Simulate(ctx, o)
		},
	}
	cmd.Flags().StringVar(&o.Dir, "dir", demo.DefaultSimulateDir, "directory of the config, credentials, rules and database")
	cmd.Flags().StringVar(&o.Listen, "listen", demo.DefaultSimulateListen,
		"address to serve the imitations on (port 0: a free one; default with an existing config: the address its base URLs name)")
	cmd.Flags().StringVar(&o.Traffic, "traffic", demo.DefaultSimulateTraffic, "made-up comments: N/s, N/m or N/h; 0 = only those you add")
	cmd.Flags().Int64Var(&o.Seed, "seed", 0, "seed of the made-up comments (0 = random)")
	return cmd
}
