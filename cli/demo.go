package cli

import (
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
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
			"summary of the run at the end. Stops after --duration or on Ctrl-C. Without --dir everything goes\n" +
			"to a temporary directory, removed at the end; with --dir a config or rules file already there is\n" +
			"used as it is (edit the rules while the demo runs: they reload), never overwritten.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGTERM, os.Interrupt)
			defer stop()
			o.Out, o.Log = env.Stdout, env.Stderr
			o.Program = program()
			return demo.Run(ctx, o)
		},
	}
	cmd.Flags().DurationVar(&o.Duration, "duration", 30*time.Second, "how long to run (0 = until Ctrl-C)")
	cmd.Flags().StringVar(&o.Dir, "dir", "", "directory for the demo's config, rules and database, kept (default: a temporary directory, removed at the end)")
	cmd.Flags().Int64Var(&o.Seed, "seed", 0, "seed of the simulated traffic (0 = random)")
	cmd.Flags().DurationVar(&o.Tick, "tick", 2*time.Second, "poll schedule period and traffic pace")
	return cmd
}

// goRunName is the name `go run ./cmd/autoreplyd` gives the executable it
// builds in a temporary directory (…/go-build…/b001/exe/autoreplyd).
const goRunName = "autoreplyd"

// program is how to run this binary again, for the commands the demo and
// simulate print: `go run ./cmd/autoreplyd` when go run built it (its
// executable is deleted on exit), its name alone when that is what $PATH
// finds, else the path it was started by (os.Args[0]).
func program() string {
	arg0 := os.Args[0]
	dir := filepath.Dir(arg0)
	if filepath.Base(arg0) == goRunName && filepath.Base(dir) == "exe" && strings.Contains(dir, string(filepath.Separator)+"go-build") {
		return "go run ./cmd/autoreplyd"
	}
	if !strings.ContainsRune(arg0, filepath.Separator) {
		return arg0
	}
	base := filepath.Base(arg0)
	if found, err := exec.LookPath(base); err == nil && sameFile(found, arg0) {
		return base
	}
	return shellQuote(arg0)
}

// plainWord matches what a POSIX shell takes as one word as it is.
var plainWord = regexp.MustCompile(`^[A-Za-z0-9_./:@%+=,-]+$`)

// shellQuote quotes s for a POSIX shell when it needs it, so that a
// printed command can be pasted as it is.
func shellQuote(s string) string {
	if plainWord.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func sameFile(a, b string) bool {
	fa, err := os.Stat(a)
	if err != nil {
		return false
	}
	fb, err := os.Stat(b) //nolint:gosec // G703: os.Args[0], this very program
	return err == nil && os.SameFile(fa, fb)
}
