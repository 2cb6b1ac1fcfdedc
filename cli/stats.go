package cli

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/autoreplyd/autoreplyd/store"
)

// defaultStatsSince is the window of a bare `autoreplyd stats`.
const defaultStatsSince = "7d"

// tableRuleCells bounds the RULE column of the stats table.
const tableRuleCells = 32

func statsCmd(env Env) *cobra.Command {
	var cfgFlag, dbFlag, since, until, format string
	var f store.StatsFilter
	cmd := &cobra.Command{
		Use:   "stats",
		Short: "Count handled replies by day, rule and status (safe while the daemon runs)",
		Long: `Count the handled replies (claims) in the SQLite history by local day, rule
and status. Days are in the config's timezone (with --database: the host's).
A claim counts on the day it was made, whatever its status now.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(format); err != nil {
				return err
			}
			db, err := databaseOf(dbFlag, cfgFlag, env)
			if err != nil {
				return err
			}
			loc := db.loc
			if f.Since, f.Until, err = parseRange(since, until, loc); err != nil {
				return err
			}
			st, err := store.OpenReadOnly(cmd.Context(), db.path)
			if err != nil {
				return err
			}
			defer st.Close()
			rows, err := st.Stats(cmd.Context(), f, loc)
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
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&cfgFlag, "config", "", "config file (default $AUTOREPLYD_CONFIG or /etc/autoreplyd/config.yaml)")
	fl.StringVar(&dbFlag, "database", "", "read this SQLite file instead of the config's database (days then in the host's time zone)")
	fl.StringVar(&since, "since", defaultStatsSince, "only replies claimed since: a duration ago (24h, 30d), a time (2026-11-22, 2026-11-22 08:00, RFC 3339), or '' for all")
	fl.StringVar(&until, "until", "", "only replies claimed before: same forms as --since")
	fl.StringVar(&f.Platform, "platform", "", "only this platform (douyin, ...)")
	fl.StringVar(&f.Rule, "rule", "", "only this rule")
	fl.StringVar(&format, "format", "table", "table (a row per day and rule), json (JSON Lines: day, rule, status, count) or csv")
	return cmd
}

// statsJSON is one JSON Lines record; field names are part of the contract.
type statsJSON struct {
	Day    string `json:"day"`
	Rule   string `json:"rule"`
	Status string `json:"status"`
	Count  int    `json:"count"`
}

func writeStatsJSON(w io.Writer, rows []store.StatsRow) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, r := range rows {
		if err := enc.Encode(statsJSON{Day: r.Day, Rule: r.Rule, Status: r.Status, Count: r.Count}); err != nil {
			return err
		}
	}
	return nil
}

var statsCSVHeader = []string{"day", "rule", "status", "count"}

func writeStatsCSV(w io.Writer, rows []store.StatsRow) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(statsCSVHeader); err != nil {
		return err
	}
	for _, r := range rows {
		if err := cw.Write([]string{r.Day, r.Rule, r.Status, strconv.Itoa(r.Count)}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// writeStatsTable prints one line per day and rule, a column per status and
// the total, then a line of totals. rows are ordered by day and rule
// (store.Stats).
func writeStatsTable(w io.Writer, rows []store.StatsRow) {
	if len(rows) == 0 {
		fmt.Fprintln(w, "(no handled replies match)")
		return
	}
	// Every known status has a column; one this version does not know
	// (a newer daemon wrote it) gets one too, after them.
	statuses := slices.Clone(store.Statuses)
	for _, r := range rows {
		if !slices.Contains(statuses, r.Status) {
			statuses = append(statuses, r.Status)
		}
	}
	head := []string{"DAY", "RULE"}
	for _, s := range statuses {
		head = append(head, strings.ToUpper(s))
	}
	head = append(head, "TOTAL")
	table := [][]string{head}
	totals := make([]int, len(statuses)+1)
	line := func(day, rule string, counts []int) []string {
		out := []string{day, rule}
		for _, n := range counts {
			out = append(out, strconv.Itoa(n))
		}
		return out
	}
	for i := 0; i < len(rows); {
		day, rule := rows[i].Day, rows[i].Rule
		counts := make([]int, len(statuses)+1)
		for ; i < len(rows) && rows[i].Day == day && rows[i].Rule == rule; i++ {
			j := slices.Index(statuses, rows[i].Status)
			counts[j] += rows[i].Count
			counts[len(statuses)] += rows[i].Count
		}
		for j, n := range counts {
			totals[j] += n
		}
		table = append(table, line(day, clip(rule, tableRuleCells), counts))
	}
	table = append(table, line("TOTAL", "", totals))
	right := make([]int, 0, len(statuses)+1)
	for j := range len(statuses) + 1 {
		right = append(right, 2+j)
	}
	writeCells(w, table, right...)
}
