package cli

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/autoreplyd/autoreplyd/internal/httpx"
	"github.com/autoreplyd/autoreplyd/internal/redact"
	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/store"
)

// defaultHistoryLimit keeps a bare `autoreplyd history` readable; --limit 0
// lists everything.
const defaultHistoryLimit = 100

func historyCmd(env Env) *cobra.Command {
	var cfgFlag, dbFlag, tzFlag, since, until, format string
	var wide bool
	var f store.Filter
	cmd := &cobra.Command{
		Use:   "history",
		Short: "List handled replies from the SQLite history (safe while the daemon runs)",
		Long: `List the handled replies (claims) in the SQLite history, newest first.
The ID column is the claim id that resolve takes. Times are shown, and dates
in --since and --until read, in --timezone, else the config's timezone, else
(--database alone) the time zone the daemon recorded in the database, else
the host's.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) (err error) {
			if err := checkFormat(format); err != nil {
				return err
			}
			if err := checkEnums(
				enumFlag{"status", f.Status, store.Statuses},
				enumFlag{"platform", f.Platform, platforms()},
				enumFlag{"disposition", f.Disposition, store.Dispositions},
			); err != nil {
				return err
			}
			if f.Limit < 0 {
				return fmt.Errorf("--limit: must be 0 (no limit) or more")
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
			rows, err := st.History(cmd.Context(), f)
			if err != nil {
				return err
			}
			scrubRows(rows, db.redact)
			switch format {
			case "json":
				return writeJSONLines(env.Stdout, rows, func(r store.HistoryRow) any { return toJSON(r) })
			case "csv":
				return writeCSV(env.Stdout, csvHeader, rows, func(r store.HistoryRow) []string { return csvRecord(toJSON(r)) })
			}
			writeTable(env.Stdout, rows, db.loc, wide)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&cfgFlag, "config", "", "config file (default $AUTOREPLYD_CONFIG or /etc/autoreplyd/config.yaml)")
	fl.StringVar(&dbFlag, "database", "", "read this SQLite file instead of the config's database (times then in the time zone the daemon recorded in it, else the host's)")
	fl.StringVar(&tzFlag, "timezone", "", "show times and read dates in this IANA time zone (default: the config's, or the database's)")
	fl.StringVar(&since, "since", "", "only replies claimed since: a duration ago (24h, 7d) or a time (2026-11-22, 2026-11-22 08:00, RFC 3339)")
	fl.StringVar(&until, "until", "", "only replies claimed before: same forms as --since")
	fl.StringVar(&f.Rule, "rule", "", "only this rule")
	fl.StringVar(&f.Status, "status", "", "only this status ("+strings.Join(store.Statuses, ", ")+")")
	fl.StringVar(&f.Platform, "platform", "", "only this platform ("+strings.Join(platforms(), ", ")+")")
	fl.StringVar(&f.Disposition, "disposition", "", "only replies to comments of this disposition ("+strings.Join(store.Dispositions, ", ")+")")
	fl.StringVar(&f.Thread, "thread", "", "only this thread id")
	fl.IntVar(&f.Limit, "limit", defaultHistoryLimit, "at most N rows, newest first (0 = all)")
	fl.StringVar(&format, "format", "table", "table, json (JSON Lines) or csv")
	fl.BoolVar(&wide, "wide", false, "table: show texts and names whole, not cut to the column")
	return cmd
}

// scrubRows removes the config's secrets from the free text of rows, in
// every format (escaping control characters is the table's business: JSON
// and CSV carry the text exactly, for programs).
func scrubRows(rows []store.HistoryRow, r *redact.Redactor) {
	if r.Empty() {
		return
	}
	for i := range rows {
		x := &rows[i]
		for _, f := range []*string{&x.Reason, &x.Error, &x.ReplyText, &x.CommentText, &x.UserNickname, &x.UserUniqueID,
			&x.DecidedBy, &x.DecisionNote} {
			*f = r.String(*f)
		}
		x.Labels = r.String(x.Labels)
	}
}

// parseWhen reads "24h", "7d", "2026-11-22", "2026-11-22 08:00" (local to
// loc) or RFC 3339. "" is the zero time (no bound).
func parseWhen(s string, now time.Time, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if n, ok := strings.CutSuffix(s, "d"); ok {
		if days, err := strconv.Atoi(n); err == nil && days >= 0 {
			return now.AddDate(0, 0, -days), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil {
		if d < 0 {
			return time.Time{}, fmt.Errorf("%q: a negative duration", s)
		}
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02 15:04:05", "2006-01-02 15:04", time.DateOnly} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is neither a duration (24h, 7d) nor a time (2026-11-22, 2026-11-22 08:00, RFC 3339)", s)
}

// historyJSON is one JSON Lines record; field names are part of the product
// contract.
type historyJSON struct {
	ID               int64  `json:"id"`
	Platform         string `json:"platform"`
	CommentID        string `json:"comment_id"`
	ThreadID         string `json:"thread_id"`
	PostID           string `json:"post_id"`
	Rule             string `json:"rule"`
	Responder        string `json:"responder"`
	Status           string `json:"status"`
	Reason           string `json:"reason"`
	Error            string `json:"error"`
	ReplyText        string `json:"reply_text"`
	CommentText      string `json:"comment_text"`
	User             string `json:"user"`
	UserUID          string `json:"user_uid"`
	PlatformReplyID  string `json:"platform_reply_id"`
	Attempts         int    `json:"attempts"`
	CommentCreatedAt string `json:"comment_created_at"`
	CreatedAt        string `json:"created_at"`
	UpdatedAt        string `json:"updated_at"`
	// Who approved, rejected or marked done a held or flagged claim, when,
	// and a rejection's reason ("edited" for an approval with a new text).
	DecidedBy    string `json:"decided_by"`
	DecidedAt    string `json:"decided_at"`
	DecisionNote string `json:"decision_note"`
	// The comment's disposition and its thread's labels ({} when none).
	Disposition string            `json:"disposition"`
	Labels      map[string]string `json:"labels"`
	// A drafted answer: the endpoint, the model's draft as it answered
	// (reply_text is what is or was to be sent, a person's edit
	// included), the model the API named and the tokens it cost.
	LLM              string `json:"llm"`
	DraftText        string `json:"draft_text"`
	LLMModel         string `json:"llm_model"`
	PromptTokens     int64  `json:"prompt_tokens"`
	CompletionTokens int64  `json:"completion_tokens"`
}

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func toJSON(r store.HistoryRow) historyJSON {
	return historyJSON{
		ID: r.ID, Platform: r.Platform, CommentID: r.CommentID, ThreadID: r.ThreadID, PostID: r.PostID,
		Rule: r.Rule, Responder: r.Responder, Status: r.Status, Reason: r.Reason, Error: r.Error,
		ReplyText: r.ReplyText, CommentText: r.CommentText, User: r.UserNickname, UserUID: r.UserUID,
		PlatformReplyID: r.PlatformReplyID, Attempts: r.Attempts,
		CommentCreatedAt: rfc3339(r.CommentCreatedAt), CreatedAt: rfc3339(r.CreatedAt), UpdatedAt: rfc3339(r.UpdatedAt),
		DecidedBy: r.DecidedBy, DecidedAt: rfc3339(r.DecidedAt), DecisionNote: r.DecisionNote,
		Disposition: r.Disposition, Labels: labelsOf(r.Labels),
		LLM: r.LLM, DraftText: r.DraftText, LLMModel: r.LLMModel, PromptTokens: r.PromptTokens, CompletionTokens: r.CompletionTokens,
	}
}

// labelsOf reads a row's labels (a JSON object of strings). An object the
// daemon did not write (values that are not strings, edited by hand) shows
// as no labels rather than failing the command; never nil, so JSON says {}.
func labelsOf(raw string) map[string]string {
	m := map[string]string{}
	if raw != "" && raw != "{}" {
		if err := json.Unmarshal([]byte(raw), &m); err != nil {
			return map[string]string{}
		}
	}
	return m
}

// labelsText is labels as the CSV column holds them: a JSON object.
func labelsText(m map[string]string) string {
	b, err := httpx.JSON(m)
	if err != nil || m == nil {
		return "{}"
	}
	return string(b)
}

// writeJSONLines writes record(r) for each of rows as one JSON object a
// line, with <, > and & as themselves.
func writeJSONLines[T any](w io.Writer, rows []T, record func(T) any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, r := range rows {
		if err := enc.Encode(record(r)); err != nil {
			return err
		}
	}
	return nil
}

// csvHeader names the columns of history --format csv: historyJSON's
// fields, in order. Columns are only ever added at the end, so that scripts
// reading them by position keep working.
var csvHeader = []string{"id", "platform", "comment_id", "thread_id", "post_id", "rule", "responder", "status", "reason", "error",
	"reply_text", "comment_text", "user", "user_uid", "platform_reply_id", "attempts", "comment_created_at", "created_at", "updated_at",
	"decided_by", "decided_at", "decision_note", "disposition", "labels",
	"llm", "draft_text", "llm_model", "prompt_tokens", "completion_tokens"}

// csvRecord is j as a record of csvHeader's columns.
func csvRecord(j historyJSON) []string {
	return []string{strconv.FormatInt(j.ID, 10), j.Platform, j.CommentID, j.ThreadID, j.PostID, j.Rule, j.Responder, j.Status, j.Reason, j.Error,
		j.ReplyText, j.CommentText, j.User, j.UserUID, j.PlatformReplyID, strconv.Itoa(j.Attempts), j.CommentCreatedAt, j.CreatedAt, j.UpdatedAt,
		j.DecidedBy, j.DecidedAt, j.DecisionNote, j.Disposition, labelsText(j.Labels),
		j.LLM, j.DraftText, j.LLMModel, strconv.FormatInt(j.PromptTokens, 10), strconv.FormatInt(j.CompletionTokens, 10)}
}

// writeCSV writes header, then record(r) for each of rows, every field
// through csvField.
func writeCSV[T any](w io.Writer, header []string, rows []T, record func(T) []string) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(header); err != nil {
		return err
	}
	for _, r := range rows {
		rec := record(r)
		for i, f := range rec {
			rec[i] = csvField(f)
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// csvField keeps a spreadsheet from running a field as a formula: comments
// and nicknames are anyone's to write, and a comment "=HYPERLINK(...)"
// opened in Excel or LibreOffice would be a live formula. A field that
// starts with =, +, -, @, a tab or a carriage return (what they take for
// the start of a formula) gets a leading apostrophe, which they show as
// text; ids, times and counts never start so. JSON carries the text exactly.
func csvField(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// Table column widths for free text, in terminal cells (--wide: none).
const (
	tableUserCells  = 16
	tableTextCells  = 24
	tableReplyCells = 30
)

// tableByCells bounds the name of who decided in the REASON column.
const tableByCells = 12

// reasonCell is the REASON column: the claim's reason, and who decided
// about a held or flagged claim and when, compactly ("approved by lin
// 12-03 10:00"); json and csv have the whole of it. An approved answer
// keeps "approved" once sent, when its reason is the send's.
func reasonCell(r store.HistoryRow, loc *time.Location, cut func(string, int) string) string {
	if r.DecidedBy == "" && r.DecidedAt.IsZero() {
		return dash(r.Reason)
	}
	var words []string
	if r.Reason != "" && r.Reason != model.ReasonApproved {
		words = append(words, r.Reason+";")
	}
	switch r.Status {
	case model.StatusRejected, model.StatusHandled:
		// The status says what was decided.
	default:
		words = append(words, "approved")
	}
	words = append(words, "by", cut(dash(r.DecidedBy), tableByCells))
	if !r.DecidedAt.IsZero() {
		words = append(words, r.DecidedAt.In(loc).Format("01-02 15:04"))
	}
	return strings.Join(words, " ")
}

// localTime renders t in loc for the table; the zero time (unknown: the
// store could not read the row's timestamp) is "-".
func localTime(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(loc).Format("2006-01-02 15:04:05")
}

func writeTable(w io.Writer, rows []store.HistoryRow, loc *time.Location, wide bool) {
	cut := clip
	if wide {
		// Whole, on one line: writeCells escapes line breaks and controls.
		cut = func(s string, _ int) string { return s }
	}
	head := []string{"ID", "TIME", "PLATFORM", "THREAD", "COMMENT", "USER", "RULE", "STATUS", "REASON", "TEXT", "REPLY"}
	table := [][]string{head}
	for _, r := range rows {
		table = append(table, []string{
			strconv.FormatInt(r.ID, 10),
			localTime(r.CreatedAt, loc),
			r.Platform, r.ThreadID, r.CommentID,
			cut(r.UserNickname, tableUserCells), r.Rule, r.Status, reasonCell(r, loc, cut),
			cut(r.CommentText, tableTextCells), cut(r.ReplyText, tableReplyCells),
		})
	}
	writeCells(w, table)
	if len(rows) == 0 {
		fmt.Fprintln(w, "(no handled replies match)")
	}
}
