package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	// database/sql's "pgx" driver, for reading a PostgreSQL history.
	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/autoreplyd/autoreplyd/internal/pgtest"
)

// pgDatabase is the database the harness creates on its PostgreSQL server.
const pgDatabase = "autoreplyd"

// startPostgres starts the throwaway PostgreSQL server of -database pg and
// creates the daemons' database on it; the caller must Close the server.
// The server is pgtest's: initdb into a directory of its own (not the run
// directory: when the harness runs as root the server runs as the postgres
// user, who must own it, and a socket path must stay short), trust
// authentication over a unix socket in that directory, fsync,
// synchronous_commit and full_page_writes off.
func startPostgres(ctx context.Context) (*pgtest.Server, string, error) {
	srv, err := pgtest.StartServer()
	if err != nil {
		return nil, "", fmt.Errorf("start PostgreSQL: %w", err)
	}
	dsn, err := srv.CreateDatabase(ctx, pgDatabase)
	if err != nil {
		return nil, "", errors.Join(err, srv.Close())
	}
	return srv, dsn, nil
}

// historyDB opens the run's history for reading: the SQLite file at
// database, or the PostgreSQL database at the URL database. ph is the
// dialect's placeholder for the i-th argument (from 1).
func historyDB(pg bool, database string) (db *sql.DB, ph func(i int) string, err error) {
	if pg {
		db, err = sql.Open("pgx", database)
		return db, func(i int) string { return "$" + strconv.Itoa(i) }, err
	}
	dsn, err := sqliteDSN(database, "mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		return nil, nil, err
	}
	db, err = sql.Open("sqlite", dsn)
	return db, func(int) string { return "?" }, err
}

// instanceName is daemon i's AUTOREPLYD_INSTANCE among n: "" for a lone
// daemon, which then runs on daemons without the instance key too.
func instanceName(i, n int) string {
	if n == 1 {
		return ""
	}
	return fmt.Sprintf("bench-%d", i)
}

// logName is daemon i's log file among n.
func logName(i, n int) string {
	if n == 1 {
		return "autoreplyd.log"
	}
	return fmt.Sprintf("autoreplyd-%d.log", i)
}

// startDaemons starts n daemons on one config at once (so that they join
// the database together) and waits until each is ready; daemon 0 serves
// /metrics at listen, the others at free ports. On an error every daemon
// started is killed.
func startDaemons(ctx context.Context, n int, bin string, pre []string, cfg, credDir, listen, dir string) ([]*daemonProc, []time.Duration, error) {
	type started struct {
		d   *daemonProc
		t   time.Duration
		err error
	}
	results := make([]chan started, n)
	for i := range n {
		addr := listen
		if i > 0 {
			port, err := freePort()
			if err != nil {
				return nil, nil, err
			}
			addr = fmt.Sprintf("127.0.0.1:%d", port)
		}
		results[i] = make(chan started, 1)
		go func() {
			d, t, err := startDaemon(ctx, bin, pre, cfg, credDir, addr, instanceName(i, n), dir, logName(i, n))
			results[i] <- started{d, t, err}
		}()
	}
	ds := make([]*daemonProc, 0, n)
	ts := make([]time.Duration, 0, n)
	var errs []error
	for i := range n {
		r := <-results[i]
		if r.err != nil {
			errs = append(errs, fmt.Errorf("daemon %d: %w", i, r.err))
			continue
		}
		ds, ts = append(ds, r.d), append(ts, r.t)
	}
	if len(errs) > 0 {
		for _, d := range ds {
			errs = append(errs, d.kill())
		}
		return nil, nil, errors.Join(errs...)
	}
	return ds, ts, nil
}

// exitedEarly reports the first daemon of ds that has exited, as an error.
func exitedEarly(ds []*daemonProc) error {
	for i, d := range ds {
		select {
		case <-d.exited:
			return fmt.Errorf("autoreplyd %d exited (%w):\n%s", i, d.waitErr, d.logTail(20))
		default:
		}
	}
	return nil
}

// logCycle is one "cycle done" line of a daemon's log.
type logCycle struct {
	end     time.Time
	took    time.Duration
	threads int // threads polled
}

// parseCycleLine reads a "cycle done" line of the text log format
// (time=... level=INFO msg="cycle done" took=1.234s threads=5000 ...).
func parseCycleLine(line string) (logCycle, bool) {
	if !strings.Contains(line, `msg="cycle done"`) {
		return logCycle{}, false
	}
	var c logCycle
	var okEnd, okTook bool
	for _, f := range strings.Fields(line) {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			continue
		}
		switch k {
		case "time":
			t, err := time.Parse(time.RFC3339Nano, v)
			c.end, okEnd = t, err == nil
		case "took":
			d, err := time.ParseDuration(v)
			c.took, okTook = d, err == nil
		case "threads":
			c.threads, _ = strconv.Atoi(v)
		}
	}
	return c, okEnd && okTook
}

// readCycles is every cycle a daemon's log records.
func readCycles(path string) ([]logCycle, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []logCycle
	for line := range strings.Lines(string(b)) {
		if c, ok := parseCycleLine(line); ok {
			out = append(out, c)
		}
	}
	return out, nil
}

// instanceReport is one daemon's part of the run, its cycles read from its
// log: those that started in the measured window and ended before the
// daemons were stopped.
type instanceReport struct {
	Name           string  `json:"name"`
	StartupSeconds float64 `json:"startup_seconds"`
	Cycles         int     `json:"cycles"`
	CycleP50       float64 `json:"cycle_p50_seconds"`
	CycleMax       float64 `json:"cycle_max_seconds"`
	// PollsPerCycle is the threads it polled a cycle, on average: its
	// share of the threads.
	PollsPerCycle float64 `json:"polls_per_cycle"`
	PeakRSS       int64   `json:"peak_rss_bytes"`
	// CPUSeconds is its CPU time over the measured cycles (0: not read).
	CPUSeconds float64        `json:"cpu_seconds"`
	LogLines   map[string]int `json:"log_lines"`
	seconds    []float64      // the measured cycles' lengths, sorted
}

// combinedCycles is the measured cycles of every daemon taken together.
type combinedCycles struct {
	Cycles   int     `json:"cycles"`
	CycleP50 float64 `json:"cycle_p50_seconds"`
	CycleMax float64 `json:"cycle_max_seconds"`
}

// combineInstances fills r.Combined from r.Instances.
func (r *report) combineInstances() {
	var all []float64
	for _, in := range r.Instances {
		all = append(all, in.seconds...)
	}
	sorted := sortedCopy(all)
	r.Combined = combinedCycles{Cycles: len(sorted), CycleP50: percentile(sorted, 50)}
	if len(sorted) > 0 {
		r.Combined.CycleMax = sorted[len(sorted)-1]
	}
}

// measuredCycles fills the cycle figures of r from cycles: those started in
// [from, to) and ended before stop.
func (r *instanceReport) measuredCycles(cycles []logCycle, from, to, stop time.Time) {
	var secs []float64
	polls := 0
	for _, c := range cycles {
		start := c.end.Add(-c.took)
		if start.Before(from) || !start.Before(to) || !c.end.Before(stop) {
			continue
		}
		secs = append(secs, c.took.Seconds())
		polls += c.threads
	}
	sorted := sortedCopy(secs)
	r.seconds = sorted
	r.Cycles = len(sorted)
	r.CycleP50 = percentile(sorted, 50)
	if len(sorted) > 0 {
		r.CycleMax = sorted[len(sorted)-1]
		r.PollsPerCycle = float64(polls) / float64(len(sorted))
	}
}

// instancesCPU is each daemon's CPU time so far, nil when one cannot be
// read.
func instancesCPU(ds []*daemonProc) []float64 {
	out := make([]float64, len(ds))
	for i, d := range ds {
		t, ok := procCPU(d.cmd.Process.Pid)
		if !ok {
			return nil
		}
		out[i] = t
	}
	return out
}
