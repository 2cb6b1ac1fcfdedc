// Command autoreplyd is a rules-based auto-responder daemon: it polls new
// replies under watched comment threads, evaluates the operator's rules, and
// answers each reply at most once, recording everything in SQLite.
//
// See README.md, or run `autoreplyd --help`.
package main

import (
	"context"
	"os"
	_ "time/tzdata" // timezones work on machines without a zoneinfo database

	"github.com/autoreplyd/autoreplyd/cli"
)

func main() {
	os.Exit(cli.Main(context.Background(), os.Args[1:], cli.Env{Stdout: os.Stdout, Stderr: os.Stderr, Environ: os.Environ(), Stdin: os.Stdin}))
}
