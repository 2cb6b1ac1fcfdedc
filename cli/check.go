package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/autoreplyd/autoreplyd/config"
	"github.com/autoreplyd/autoreplyd/daemon"
	"github.com/autoreplyd/autoreplyd/internal/redact"
	"github.com/autoreplyd/autoreplyd/internal/termesc"
	"github.com/autoreplyd/autoreplyd/platform"
	"github.com/autoreplyd/autoreplyd/rules"
	"github.com/autoreplyd/autoreplyd/store"
)

// runCheck validates config, platform wiring, rules and templates without
// touching the database or the network, so it is safe while the daemon runs
// (ExecReload runs it before SIGHUP). Every problem is printed, one a line,
// as FILE:LINE:COL or KEY: MESSAGE; the exit code is 1 if there is any.
func runCheck(path string, env Env) error {
	cfg, err := config.Load(path, env.Environ)
	if err != nil {
		printErrors(env, err)
		return exitError{1}
	}
	failed := false
	bindings, responders, _, err := daemon.Build(cfg)
	if err != nil {
		fmt.Fprintf(env.Stderr, "%s: %v\n", cfg.File, err)
		failed = true
	}
	set, err := daemon.LoadRules(cfg)
	if err != nil {
		printErrors(env, err)
		failed = true
	}
	if err == nil && responders != nil {
		if err := daemon.CheckVia(set, responders); err != nil {
			fmt.Fprintln(env.Stderr, err)
			failed = true
		}
	}
	if set != nil {
		if err := daemon.CheckNotify(set, cfg); err != nil {
			fmt.Fprintln(env.Stderr, err)
			failed = true
		}
		if err := daemon.CheckLLM(set, cfg); err != nil {
			fmt.Fprintln(env.Stderr, err)
			failed = true
		}
	}
	if failed {
		return exitError{1}
	}
	threads, videos := 0, 0
	for _, b := range bindings {
		threads += len(b.Source.Threads())
		if vs, ok := b.Source.(platform.VideoSource); ok {
			videos += len(vs.Videos())
		}
	}
	watched := fmt.Sprintf("%d thread(s)", threads)
	if videos > 0 {
		watched += fmt.Sprintf(", %d video(s)", videos)
	}
	red := redact.New(cfg.Secrets()...)
	for _, w := range daemon.Warnings(cfg, bindings) {
		fmt.Fprintln(env.Stderr, "warning:", show(red, w))
	}
	for _, w := range set.Warnings() {
		fmt.Fprintln(env.Stderr, "warning:", show(red, w))
	}
	fmt.Fprintf(env.Stdout, "config %s: OK (%d source(s), %s, %d responder(s), schedule %q, timezone %s)\n",
		cfg.File, len(bindings), watched, len(responders), cfg.Schedule, cfg.Location)
	fmt.Fprintf(env.Stdout, "rules %s: OK (%d rule(s) in %d file(s))\n", cfg.Rules, set.Len(), len(set.Files()))
	checkPauses(env, cfg, red)
	return nil
}

// checkPauses prints the persisted pauses in force when the database exists,
// reading it only; a database it cannot read is a warning, not a failure.
func checkPauses(env Env, cfg *config.Config, red *redact.Redactor) {
	if !store.IsPostgres(cfg.Database) {
		if _, err := os.Stat(cfg.Database); err != nil {
			return
		}
	}
	usePassword(cfg)
	ctx := context.Background()
	st, err := store.OpenReadOnly(ctx, cfg.Database)
	if err != nil {
		fmt.Fprintln(env.Stderr, "warning: pauses not checked:", err)
		return
	}
	defer func() {
		if err := st.Close(); err != nil {
			fmt.Fprintln(env.Stderr, "warning:", err)
		}
	}()
	ps, err := activePauses(ctx, st, time.Now())
	if err != nil {
		fmt.Fprintln(env.Stderr, "warning: pauses not checked:", err)
		return
	}
	for _, p := range ps {
		fmt.Fprintf(env.Stdout, "paused: %s (lift with `autoreplyd resume %s`)\n", describePause(p, cfg.Location, red), show(red, p.Scope))
	}
}

// printErrors prints each error of a joined or multi-error, one a line.
func printErrors(env Env, err error) {
	var le *rules.LoadError
	if errors.As(err, &le) {
		for _, e := range le.Errors {
			fmt.Fprintln(env.Stderr, termesc.Lines(e.Error()))
		}
		return
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			printErrors(env, e)
		}
		return
	}
	fmt.Fprintln(env.Stderr, termesc.Lines(err.Error()))
}
