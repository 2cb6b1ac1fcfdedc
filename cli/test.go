package cli

import (
	"fmt"
	"regexp"
	"time"

	"github.com/spf13/cobra"

	"github.com/autoreplyd/autoreplyd/config"
	"github.com/autoreplyd/autoreplyd/ruletest"
)

func testCmd(env Env) *cobra.Command {
	var cfgFlag, run string
	var verbose bool
	cmd := &cobra.Command{
		Use:   "test [--config F] TESTS.yaml...",
		Short: "Run rule unit tests: which rule answers made-up comments, with what text",
		Long: "Runs rule unit tests. Each TESTS.yaml names rule files (rule_files, relative to it; else the\n" +
			"config's rules) and lists made-up comments with the outcome expected: the rule that acts and its\n" +
			"reply or replies, an answer held for approval (held: true), a comment flagged for a person\n" +
			"(flagged: true), a skip and its reason, or no match. Prints a diff-like message for each failed\n" +
			"case and a summary; exits 1 if any case fails. The config is read only with --config or for a\n" +
			"test file without rule_files.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			var filter *regexp.Regexp
			if run != "" {
				var err error
				if filter, err = regexp.Compile(run); err != nil {
					return fmt.Errorf("--run: %w", err)
				}
			}
			r := &ruletest.Runner{Filter: filter}
			if cfgFlag != "" {
				cfg, err := config.Load(cfgFlag, env.Environ)
				if err != nil {
					printErrors(env, err)
					return exitError{1}
				}
				r.Location = cfg.Location
				r.Config = func() (string, *time.Location, error) { return cfg.Rules, cfg.Location, nil }
			} else {
				r.Config = lazyConfig(env)
			}
			return runTests(cmd, env, r, files, verbose)
		},
	}
	cmd.Flags().StringVar(&cfgFlag, "config", "", "config whose rules and timezone are the defaults (default: read $AUTOREPLYD_CONFIG or /etc/autoreplyd/config.yaml only for a test file without rule_files)")
	cmd.Flags().StringVar(&run, "run", "", "run only the cases whose name matches this regular expression")
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "list the passing cases too")
	return cmd
}

// lazyConfig loads the default config once, the first time a test file
// without rule_files asks for it.
func lazyConfig(env Env) func() (string, *time.Location, error) {
	var cfg *config.Config
	var err error
	loaded := false
	return func() (string, *time.Location, error) {
		if !loaded {
			loaded = true
			cfg, err = config.Load(configPath("", env.Environ), env.Environ)
		}
		if err != nil {
			return "", nil, err
		}
		return cfg.Rules, cfg.Location, nil
	}
}

// runTests runs every file; a file that cannot be read, parsed or whose
// rules do not load is reported on stderr and makes the exit code 1.
func runTests(cmd *cobra.Command, env Env, r *ruletest.Runner, files []string, verbose bool) error {
	passed, failed, broken := 0, 0, 0
	for _, name := range files {
		data, err := ruletest.ReadFile(name)
		if err != nil {
			fmt.Fprintln(env.Stderr, err)
			broken++
			continue
		}
		f, err := ruletest.Parse(name, data)
		if err != nil {
			printErrors(env, err)
			broken++
			continue
		}
		res, err := r.Run(cmd.Context(), f)
		if err != nil {
			printErrors(env, err)
			broken++
			continue
		}
		res.Write(env.Stdout, verbose)
		passed += res.Passed()
		failed += res.Failed()
	}
	if passed+failed == 0 && broken == 0 && r.Filter != nil {
		fmt.Fprintf(env.Stderr, "no test case matches --run %q\n", r.Filter)
		broken++
	}
	fmt.Fprintf(env.Stdout, "%d passed, %d failed\n", passed, failed)
	if failed > 0 || broken > 0 {
		return exitError{1}
	}
	return nil
}
