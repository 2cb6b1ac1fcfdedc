package cli

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/autoreplyd/autoreplyd/config"
	"github.com/autoreplyd/autoreplyd/internal/termesc"
	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/store"
)

// inboxStatuses are the statuses of claims waiting for a person.
var inboxStatuses = []string{model.StatusFlagged, model.StatusHeld}

func inboxCmd(env Env) *cobra.Command {
	var cfgFlag, dbFlag, tzFlag, since, status, format string
	var limit int
	var wide bool
	cmd := &cobra.Command{
		Use:   "inbox",
		Short: "List what waits for a person: flagged comments and held answers (safe while the daemon runs)",
		Long: `List the claims waiting for a person, newest first: comments a rule flagged
(action: flag), to be dealt with and marked done, and answers a rule held for
approval (approve: true), to be approved (as written or edited) or rejected.
The ID column is the claim id that approve, reject and done take. A held
answer not approved within approval.max_age (from the config; its default,
24h, with --database alone) expires and is never sent: EXPIRES says when.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) (err error) {
			if err := checkFormat(format); err != nil {
				return err
			}
			if err := checkEnum("status", status, inboxStatuses); err != nil {
				return err
			}
			if limit < 0 {
				return fmt.Errorf("--limit: must be 0 (no limit) or more")
			}
			ic, err := loadInboxConfig(dbFlag, cfgFlag, tzFlag, env)
			if err != nil {
				return err
			}
			st, err := ic.db.openReadOnly(cmd.Context())
			if err != nil {
				return err
			}
			// A database that will not close fails the command, not silently.
			defer func() { err = errors.Join(err, st.Close()) }()
			from, _, err := parseRange(since, "", ic.db.loc)
			if err != nil {
				return err
			}
			f := store.Filter{Since: from, Statuses: inboxStatuses}
			if status != "" {
				f.Statuses = []string{status}
			}
			if limit > 0 {
				f.Limit = limit + 1 // one more says whether more are waiting
			}
			rows, err := st.History(cmd.Context(), f)
			if err != nil {
				return err
			}
			more := limit > 0 && len(rows) > limit
			if more {
				rows = rows[:limit]
			}
			scrubRows(rows, ic.db.redact)
			if slices.ContainsFunc(rows, func(r store.HistoryRow) bool { return r.Status == model.StatusHeld }) {
				ic.noteMaxAge(env.Stderr)
			}
			switch format {
			case "json":
				return writeJSONLines(env.Stdout, rows, func(r store.HistoryRow) any {
					return inboxJSON{historyJSON: toJSON(r), ExpiresAt: rfc3339(expiresAt(r, ic.maxAge))}
				})
			case "csv":
				return writeCSV(env.Stdout, inboxCSVHeader, rows, func(r store.HistoryRow) []string {
					return append(csvRecord(toJSON(r)), rfc3339(expiresAt(r, ic.maxAge)))
				})
			}
			writeInboxTable(env.Stdout, rows, time.Now(), ic.maxAge, wide)
			if more {
				fmt.Fprintf(env.Stdout, "(more are waiting: the newest %d are listed; --limit 0 lists them all)\n", limit)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&cfgFlag, "config", "", "config file (default $AUTOREPLYD_CONFIG or /etc/autoreplyd/config.yaml)")
	fl.StringVar(&dbFlag, "database", "", "read this SQLite file instead of the config's database (alone: no config read, approval.max_age its default)")
	fl.StringVar(&tzFlag, "timezone", "", "read dates in --since in this IANA time zone (default: the config's, or the database's)")
	fl.StringVar(&status, "status", "", "only flagged comments or only held answers ("+strings.Join(inboxStatuses, ", ")+")")
	fl.StringVar(&since, "since", "", "only claims made since: a duration ago (24h, 7d) or a time (2026-11-22, 2026-11-22 08:00, RFC 3339)")
	fl.IntVar(&limit, "limit", defaultHistoryLimit, "at most N rows, newest first (0 = all)")
	fl.StringVar(&format, "format", "table", "table, json (JSON Lines) or csv")
	fl.BoolVar(&wide, "wide", false, "table: show comments, answers and names whole, not cut to the column")
	return cmd
}

// inboxConfig is what the inbox and the decision commands (approve, reject,
// done) read of the config: the database, approval.max_age and, for approve
// --text, the config itself (its responders check an edited answer).
type inboxConfig struct {
	db database
	// cfg is nil when no config was read: --database alone, or a config
	// that did not load beside --database (noConfig says which).
	cfg      *config.Config
	noConfig string
	// maxAge is approval.max_age: the config's, else its default.
	maxAge time.Duration
}

// loadInboxConfig reads the config at --config ($AUTOREPLYD_CONFIG, the
// default path) unless --database is given alone, which, as for history,
// reads none. A config that does not load is an error only without
// --database: with it, the commands that do not need the config still work.
func loadInboxConfig(dbFlag, cfgFlag, tzFlag string, env Env) (inboxConfig, error) {
	tz, err := zoneOf(tzFlag)
	if err != nil {
		return inboxConfig{}, err
	}
	ic := inboxConfig{db: database{path: dbFlag, loc: tz}, maxAge: config.DefaultApprovalMaxAge}
	path := configPath(cfgFlag, env.Environ)
	if dbFlag != "" && path == config.DefaultConfigPath {
		ic.noConfig = "--database alone reads no config"
		return ic, nil
	}
	cfg, err := config.Load(path, env.Environ)
	if err != nil {
		if dbFlag == "" {
			return inboxConfig{}, err
		}
		ic.noConfig = "the config did not load: " + err.Error()
		return ic, nil
	}
	ic.cfg, ic.maxAge, ic.db = cfg, cfg.Approval.MaxAge, configDatabase(cfg, dbFlag, tz)
	return ic, nil
}

// noteMaxAge says on w, when no config was read, that approval.max_age is
// its default: the expiry times shown, or an approval's deadline, may not
// be the daemon's.
func (ic inboxConfig) noteMaxAge(w io.Writer) {
	if ic.cfg != nil {
		return
	}
	fmt.Fprintf(w, "autoreplyd: note: %s: approval.max_age is taken as its default, %s (give --config for the configured one)\n",
		termesc.Lines(ic.noConfig), shortDuration(ic.maxAge))
}

// expiresAt is when held claim r expires (maxAge after it was held); zero
// for other claims, or when its time is unknown.
func expiresAt(r store.HistoryRow, maxAge time.Duration) time.Time {
	if r.Status != model.StatusHeld || r.CreatedAt.IsZero() {
		return time.Time{}
	}
	return r.CreatedAt.Add(maxAge)
}

// inboxJSON is one inbox --format json line: a history record and, for a
// held answer, when it expires ("" for a flagged comment).
type inboxJSON struct {
	historyJSON
	ExpiresAt string `json:"expires_at"`
}

// inboxCSVHeader is history's columns, then expires_at.
var inboxCSVHeader = slices.Concat(csvHeader, []string{"expires_at"})

// age is d compactly, rounded down: 45s, 12m, 3h05m, 2d03h.
func age(d time.Duration) string {
	switch {
	case d < time.Minute:
		return strconv.Itoa(int(d/time.Second)) + "s"
	case d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + "m"
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh%02dm", d/time.Hour, d%time.Hour/time.Minute)
	}
	return fmt.Sprintf("%dd%02dh", d/(24*time.Hour), d%(24*time.Hour)/time.Hour)
}

// expiresCell is the EXPIRES column: how long a held answer has left.
func expiresCell(r store.HistoryRow, now time.Time, maxAge time.Duration) string {
	at := expiresAt(r, maxAge)
	switch {
	case at.IsZero():
		return "-"
	case !at.After(now):
		// The daemon's next cycle records it expired; approve would too.
		return "past max_age"
	}
	return "in " + age(at.Sub(now))
}

func writeInboxTable(w io.Writer, rows []store.HistoryRow, now time.Time, maxAge time.Duration, wide bool) {
	if len(rows) == 0 {
		fmt.Fprintln(w, "(nothing is waiting for a person)")
		return
	}
	cut := clip
	if wide {
		// Whole, on one line: writeCells escapes line breaks and controls.
		cut = func(s string, _ int) string { return s }
	}
	table := [][]string{{"ID", "AGE", "STATUS", "EXPIRES", "PLATFORM", "THREAD", "USER", "RULE", "COMMENT", "ANSWER"}}
	for _, r := range rows {
		waited := "-"
		if !r.CreatedAt.IsZero() {
			waited = age(max(now.Sub(r.CreatedAt), 0))
		}
		status := r.Status
		if r.Status == model.StatusFlagged && r.Reason != "" {
			// A guardrail's or a model's reason: why a draft is here.
			status += " (" + r.Reason + ")"
		}
		answer := dash(cut(r.ReplyText, tableReplyCells))
		if r.LLM != "" && r.ReplyText != "" {
			// A model wrote it: the person reading should know.
			answer = "[llm." + r.LLM + "] " + answer
		}
		table = append(table, []string{
			strconv.FormatInt(r.ID, 10), waited, status, expiresCell(r, now, maxAge),
			r.Platform, r.ThreadID, cut(r.UserNickname, tableUserCells), r.Rule,
			cut(r.CommentText, tableTextCells), answer,
		})
	}
	writeCells(w, table)
}
