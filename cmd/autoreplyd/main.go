// Command autoreplyd is a rules-based auto-responder daemon: it polls new
// replies under watched comment threads, evaluates the operator's rules, and
// answers each reply at most once, recording everything in SQLite.
//
// See README.md, or run `autoreplyd --help`.
package main

import (
	"context"
	"os"
	"runtime/debug"
	_ "time/tzdata" // timezones work on machines without a zoneinfo database

	"github.com/autoreplyd/autoreplyd/cli"
)

// defaultMemoryLimit is the Go runtime's soft memory limit when
// GOMEMLIMIT does not set one. The daemon's live heap is small (68 MB
// with 100,000 watched threads) but each cycle allocates much more than
// that (pages decoded and dropped); with the runtime's default pacing the
// heap grows to several times the live data before it is collected, and
// the resident memory stays there (330 MB measured at 100,000 threads).
// Near the limit the collector runs sooner instead. It is soft: a live
// heap above it is never refused, only collected more often.
const defaultMemoryLimit = 150 << 20

// memoryLimit is the limit main sets: defaultMemoryLimit, unless
// GOMEMLIMIT is in the environment (the runtime has read it: ok false).
func memoryLimit(lookup func(string) (string, bool)) (limit int64, ok bool) {
	if _, set := lookup("GOMEMLIMIT"); set {
		return 0, false
	}
	return defaultMemoryLimit, true
}

func main() {
	if limit, ok := memoryLimit(os.LookupEnv); ok {
		debug.SetMemoryLimit(limit)
	}
	os.Exit(cli.Main(context.Background(), os.Args[1:], cli.Env{Stdout: os.Stdout, Stderr: os.Stderr, Environ: os.Environ(), Stdin: os.Stdin}))
}
