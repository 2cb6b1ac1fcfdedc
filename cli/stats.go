package cli

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/autoreplyd/autoreplyd/internal/termesc"
	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/store"
)

// defaultStatsSince is the window of a bare `autoreplyd stats`.
const defaultStatsSince = "7d"

// tableRuleCells bounds the RULE column of the stats table.
const tableRuleCells = 32

func statsCmd(env Env) *cobra.Command {
	var cfgFlag, dbFlag, tzFlag, since, until, format string
	var f store.StatsFilter
	cmd := &cobra.Command{
		Use:   "stats",
		Short: "Count handled replies by day, rule, status and skip reason (safe while the daemon runs)",
		Long: `Count the handled replies (claims) in the SQLite history by local day, rule
and status; skipped claims by reason too (no_reply_rule, cooldown, limit,
daily_cap, ...): the table has a column SKIPPED:REASON per reason present
(SKIPPED alone when none was skipped), json and csv a reason field, empty for
the other statuses. The columns FLAGGED, HELD, REJECTED, EXPIRED and HANDLED
(a person in the loop) appear when such claims are counted. A claim counts on the day it was made, whatever its
status now. Days are in --timezone, else the config's timezone, else
(--database alone) the time zone the daemon recorded in the database, else
the host's.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) (err error) {
			if err := checkFormat(format); err != nil {
				return err
			}
			if err := checkEnum("platform", f.Platform, platforms()); err != nil {
				return err
			}
			db, err := databaseOf(dbFlag, cfgFlag, tzFlag, env)
			if err != nil {
				return err
			}
			st, err := db.openReadOnly(cmd.Context())
			if err != nil {
				return err
			}
			// A database that will not close fails the command, not silently.
			defer func() { err = errors.Join(err, st.Close()) }()
			if f.Since, f.Until, err = parseRange(since, until, db.loc); err != nil {
				return err
			}
			warnUnknownRule(cmd.Context(), env.Stderr, st, db, f.Rule)
			rows, err := st.Stats(cmd.Context(), f, db.loc)
			if err != nil {
				return err
			}
			switch format {
			case "json":
				return writeStatsJSON(env.Stdout, rows)
			case "csv":
				return writeStatsCSV(env.Stdout, rows)
			}
			writeStatsTable(env.Stdout, rows)
			drafts, err := st.DraftStats(cmd.Context(), f)
			if err != nil {
				return err
			}
			writeDraftStats(env.Stdout, drafts)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&cfgFlag, "config", "", "config file (default $AUTOREPLYD_CONFIG or /etc/autoreplyd/config.yaml)")
	fl.StringVar(&dbFlag, "database", "", "read this SQLite file instead of the config's database (days then in the time zone the daemon recorded in it, else the host's)")
	fl.StringVar(&tzFlag, "timezone", "", "count days and read dates in this IANA time zone (default: the config's, or the database's)")
	fl.StringVar(&since, "since", defaultStatsSince, "only replies claimed since: a duration ago (24h, 30d), a time (2026-11-22, 2026-11-22 08:00, RFC 3339), or '' for all")
	fl.StringVar(&until, "until", "", "only replies claimed before: same forms as --since")
	fl.StringVar(&f.Platform, "platform", "", "only this platform ("+strings.Join(platforms(), ", ")+")")
	fl.StringVar(&f.Rule, "rule", "", "only this rule")
	fl.StringVar(&format, "format", "table", "table (a row per day and rule), json (JSON Lines: day, rule, status, count, reason) or csv")
	return cmd
}

// statsJSON is one JSON Lines record; field names are part of the contract.
type statsJSON struct {
	Day    string `json:"day"`
	Rule   string `json:"rule"`
	Status string `json:"status"`
	Count  int    `json:"count"`
	// Reason is why skipped claims were skipped; empty for other statuses.
	Reason string `json:"reason"`
}

func writeStatsJSON(w io.Writer, rows []store.StatsRow) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, r := range rows {
		if err := enc.Encode(statsJSON{Day: r.Day, Rule: r.Rule, Status: r.Status, Count: r.Count, Reason: r.Reason}); err != nil {
			return err
		}
	}
	return nil
}

// statsCSVHeader: reason comes last, so that scripts reading the first four
// columns by position keep working.
var statsCSVHeader = []string{"day", "rule", "status", "count", "reason"}

func writeStatsCSV(w io.Writer, rows []store.StatsRow) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(statsCSVHeader); err != nil {
		return err
	}
	for _, r := range rows {
		if err := cw.Write([]string{r.Day, r.Rule, r.Status, strconv.Itoa(r.Count), r.Reason}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// statsColumn is one count column of the stats table: a status, or skipped
// with one reason.
type statsColumn struct{ status, reason string }

func (c statsColumn) header() string {
	h := strings.ToUpper(c.status)
	if c.reason != "" {
		h += ":" + c.reason
	}
	return h
}

// statsColumns are the count columns for rows: every known status in
// store.Statuses order, skipped split into one column per reason present
// (a plain SKIPPED when nothing was skipped, or for skips without a
// reason), then any status this version does not know (a newer daemon
// wrote it). The statuses of a person in the loop (store.PersonStatuses)
// have a column only when counted: without rules that flag or hold
// answers they would be five columns of zeros.
func statsColumns(rows []store.StatsRow) []statsColumn {
	var reasons, unknown []string
	skipped := false
	present := map[string]bool{}
	for _, r := range rows {
		present[r.Status] = true
		switch {
		case r.Status == model.StatusSkipped:
			skipped = true
			if !slices.Contains(reasons, r.Reason) {
				reasons = append(reasons, r.Reason)
			}
		case !slices.Contains(store.Statuses, r.Status) && !slices.Contains(unknown, r.Status):
			unknown = append(unknown, r.Status)
		}
	}
	slices.Sort(reasons)
	if !skipped {
		reasons = []string{""}
	}
	var cols []statsColumn
	for _, s := range store.Statuses {
		if slices.Contains(store.PersonStatuses, s) && !present[s] {
			continue
		}
		if s != model.StatusSkipped {
			cols = append(cols, statsColumn{status: s})
			continue
		}
		for _, r := range reasons {
			cols = append(cols, statsColumn{status: s, reason: r})
		}
	}
	for _, s := range unknown {
		cols = append(cols, statsColumn{status: s})
	}
	return cols
}

// writeStatsTable prints one line per day and rule, a column per status
// (skipped: per reason, see statsColumns) and the total, then a line of
// totals. rows are ordered by day and rule (store.Stats).
func writeStatsTable(w io.Writer, rows []store.StatsRow) {
	if len(rows) == 0 {
		fmt.Fprintln(w, "(no handled replies match)")
		return
	}
	cols := statsColumns(rows)
	head := []string{"DAY", "RULE"}
	for _, c := range cols {
		head = append(head, c.header())
	}
	head = append(head, "TOTAL")
	table := [][]string{head}
	totals := make([]int, len(cols)+1)
	line := func(day, rule string, counts []int) []string {
		out := []string{day, rule}
		for _, n := range counts {
			out = append(out, strconv.Itoa(n))
		}
		return out
	}
	for i := 0; i < len(rows); {
		day, rule := rows[i].Day, rows[i].Rule
		counts := make([]int, len(cols)+1)
		for ; i < len(rows) && rows[i].Day == day && rows[i].Rule == rule; i++ {
			j := slices.Index(cols, statsColumn{status: rows[i].Status, reason: rows[i].Reason})
			counts[j] += rows[i].Count
			counts[len(cols)] += rows[i].Count
		}
		for j, n := range counts {
			totals[j] += n
		}
		table = append(table, line(day, clip(rule, tableRuleCells), counts))
	}
	table = append(table, line("TOTAL", "", totals))
	right := make([]int, 0, len(cols)+1)
	for j := range len(cols) + 1 {
		right = append(right, 2+j)
	}
	writeCells(w, table, right...)
}

// writeDraftStats adds, under the table, what became of the answers a
// language model drafted, by rule and endpoint; nothing when none was.
func writeDraftStats(w io.Writer, ds []store.DraftStat) {
	if len(ds) == 0 {
		return
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "drafted answers (language model):")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RULE\tLLM\tDRAFTED\tDRAFTING\tHELD\tAPPROVED\tEDITED\tREJECTED\tEXPIRED\tFLAGGED\tTOKENS")
	for _, d := range ds {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\n", termesc.String(d.Rule), termesc.String(d.LLM),
			d.Drafted, d.Waiting, d.Held, d.Approved, d.Edited, d.Rejected, d.Expired, d.Flagged, d.Tokens)
	}
	_ = tw.Flush()
}
