// Package cli holds autoreplyd's commands (run, check, test, explain,
// history, stats, replay, resume, resolve, inbox, approve, reject, done,
// notify-test, demo, simulate, migrate, version): flag parsing and output. cmd/autoreplyd only calls
// Main, so the commands can be tested in-process with their exact output.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/autoreplyd/autoreplyd/config"
	"github.com/autoreplyd/autoreplyd/daemon"
	"github.com/autoreplyd/autoreplyd/internal/termesc"
	"github.com/autoreplyd/autoreplyd/logging"
)

// Version is set at build time with -ldflags "-X .../cli.Version=...".
var Version = ""

// Env is what a command sees of its surroundings.
type Env struct {
	Stdout, Stderr io.Writer
	Environ        []string
	// Stdin is what commands that read input read (console hash-password);
	// nil reads nothing.
	Stdin io.Reader
}

// exitError carries an exit code without printing anything more.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

// Main runs the command line args (without the program name) and returns
// the process exit code. Output that could not be written makes it 1.
func Main(ctx context.Context, args []string, env Env) int {
	stdout := &output{w: env.Stdout}
	env.Stdout = stdout
	code := execute(ctx, args, env)
	if stdout.err != nil {
		fmt.Fprintln(env.Stderr, "autoreplyd: the output is incomplete:", termesc.Lines(stdout.err.Error()))
		code = max(code, 1)
	}
	return code
}

func execute(ctx context.Context, args []string, env Env) int {
	root := newRoot(ctx, env)
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return 0
	}
	var ee exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintln(env.Stderr, "autoreplyd:", termesc.Lines(ue.msg))
		return 2
	}
	fmt.Fprintln(env.Stderr, "autoreplyd:", termesc.Lines(err.Error()))
	return 1
}

func newRoot(ctx context.Context, env Env) *cobra.Command {
	root := &cobra.Command{
		Use:           "autoreplyd",
		Short:         "Rules-based auto-responder for Douyin and other social platforms",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	root.SetContext(ctx)
	root.CompletionOptions.DisableDefaultCmd = true
	root.AddCommand(runCmd(env), checkCmd(env), testCmd(env), explainCmd(env), historyCmd(env), demoCmd(env), versionCmd(env), resumeCmd(env))
	root.AddCommand(resolveCmd(env))
	root.AddCommand(statsCmd(env))
	root.AddCommand(simulateCmd(env))
	root.AddCommand(notifyTestCmd(env))
	root.AddCommand(inboxCmd(env), approveCmd(env), rejectCmd(env), doneCmd(env))
	root.AddCommand(replayCmd(env))
	root.AddCommand(consoleCmd(env))
	root.AddCommand(migrateCmd(env))
	return root
}

// configPath resolves --config, else $AUTOREPLYD_CONFIG, else the default.
func configPath(flag string, environ []string) string {
	if flag != "" {
		return flag
	}
	return config.DefaultPath(environ)
}

func runCmd(env Env) *cobra.Command {
	var cfgFlag string
	var dryRun, once bool
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run the daemon: poll, evaluate rules, answer",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(configPath(cfgFlag, env.Environ), env.Environ)
			if err != nil {
				return err
			}
			log, err := logging.New(env.Stderr, cfg.Log.Level, cfg.Log.Format, cfg.Secrets())
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGTERM, os.Interrupt)
			defer stop()
			// The daemon waits out a database that is locked, read-only or
			// full (a crash loop would not fix it); --once fails at once.
			d, err := daemon.New(ctx, cfg, daemon.Options{DryRun: dryRun, Logger: log, WaitForStore: !once, NoListen: once, Version: version()})
			if err != nil {
				if !once && ctx.Err() != nil {
					return nil // SIGTERM while waiting for the database
				}
				return err
			}
			defer func() {
				if err := d.Close(); err != nil {
					log.Error("close database", "err", err)
				}
			}()
			if once {
				d.Cycle(ctx)
				// The cycle's drafts, asked for before exiting; a model
				// that fails is asked again by the next run.
				d.FlushDrafts(ctx)
				// The cycle's notifications, delivered before exiting;
				// a failing channel's wait for later.
				if err := d.FlushNotifications(ctx); err != nil {
					log.Error("deliver notifications", "err", err)
				}
				return nil
			}
			hup := make(chan os.Signal, 1)
			signal.Notify(hup, syscall.SIGHUP)
			defer signal.Stop(hup)
			reload := make(chan struct{}, 1)
			go func() {
				for range hup {
					select {
					case reload <- struct{}{}:
					default:
					}
				}
			}()
			return d.Run(ctx, reload)
		},
	}
	cmd.Flags().StringVar(&cfgFlag, "config", "", "config file (default $AUTOREPLYD_CONFIG or /etc/autoreplyd/config.yaml)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "evaluate and record what would be sent, send nothing")
	cmd.Flags().BoolVar(&once, "once", false, "run one cycle and exit")
	return cmd
}

func checkCmd(env Env) *cobra.Command {
	var cfgFlag string
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Validate the config, the rules and their templates",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return runCheck(configPath(cfgFlag, env.Environ), env)
		},
	}
	cmd.Flags().StringVar(&cfgFlag, "config", "", "config file (default $AUTOREPLYD_CONFIG or /etc/autoreplyd/config.yaml)")
	return cmd
}

func versionCmd(env Env) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		Run: func(*cobra.Command, []string) {
			fmt.Fprintln(env.Stdout, "autoreplyd", version())
		},
	}
}

// version is the -ldflags version, else the module version, else "dev".
func version() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}
