package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/autoreplyd/autoreplyd/config"
	"github.com/autoreplyd/autoreplyd/internal/redact"
	"github.com/autoreplyd/autoreplyd/replay"
	"github.com/autoreplyd/autoreplyd/rules"
)

// replayFormats are the output formats of replay: a readable report, or
// JSON Lines for programs (CSV cannot hold a comment's several outcomes).
var replayFormats = []string{"table", "json"}

// notStored are the names rules can use that the comments table does not
// keep: a replayed comment has them zero or empty.
const notStored = "likes, level, author_liked, reply_to_user, user.region, user.verified"

type replayFlags struct {
	config, database, rules string
	since, until, format    string
	noPacing                bool
}

func replayCmd(env Env) *cobra.Command {
	var f replayFlags
	cmd := &cobra.Command{
		Use:   "replay [--since 7d] [--until T] [--rules PATH] [--format table|json] [--no-pacing]",
		Short: "Evaluate the stored comments again with new rules and show what would change (read-only)",
		Long: `Evaluates again, with --rules (default: the config's rules), the comments the
daemon evaluated in the period, each at the time it was evaluated and with its
thread's labels, and prints each comment whose outcome changes (the claims the
history holds, then what the new rules would do), then each rule's hits:
gained, lost and changed. Run it before every reload.

Pacing is replayed: the new rules' cooldowns, limits and active windows count
the stored answers before the period and the replayed answers in it.
--no-pacing leaves it out. Daily caps, responder pauses and breakers are not
replayed. The database is only read, safe while the daemon runs. A rules file
that does not load exits 1 with every problem at its file:line:col.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runReplay(cmd.Context(), env, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.config, "config", "", "config file: its database, rules and timezone (default $AUTOREPLYD_CONFIG or /etc/autoreplyd/config.yaml)")
	fl.StringVar(&f.database, "database", "", "read this SQLite file instead of the config's database (with --rules, no config is read; times then in the zone the daemon recorded in it)")
	fl.StringVar(&f.rules, "rules", "", "the rule file or directory to replay (default: the config's rules)")
	fl.StringVar(&f.since, "since", "7d", "comments evaluated since: a duration ago (24h, 7d) or a time (2026-11-22, 2026-11-22 08:00, RFC 3339); \"\" for all")
	fl.StringVar(&f.until, "until", "", "comments evaluated before: same forms as --since (default: now)")
	fl.StringVar(&f.format, "format", "table", "table, or json (JSON Lines: one object per changed comment, then a summary)")
	fl.BoolVar(&f.noPacing, "no-pacing", false, "leave out cooldowns, limits and active windows")
	return cmd
}

func runReplay(ctx context.Context, env Env, f replayFlags) (err error) {
	if err := checkChoice("format", f.format, replayFormats); err != nil {
		return err
	}
	db := database{path: f.database, rules: f.rules}
	// The config gives the database, the rules and the zone they were
	// evaluated in; --database and --rules together need none.
	if f.config != "" || f.database == "" || f.rules == "" {
		cfg, err := config.Load(configPath(f.config, env.Environ), env.Environ)
		if err != nil {
			printErrors(env, err)
			return exitError{1}
		}
		if db.path == "" {
			db.path = cfg.Database
		}
		usePassword(cfg)
		if db.rules == "" {
			db.rules = cfg.Rules
		}
		db.loc, db.redact = cfg.Location, redact.New(cfg.Secrets()...)
	}
	st, err := db.openReadOnly(ctx)
	if err != nil {
		return err
	}
	// A database that will not close fails the command, not silently.
	defer func() { err = errors.Join(err, st.Close()) }()
	set, err := rules.Load(db.rules, rules.Options{Location: db.loc})
	if err != nil {
		printErrors(env, err)
		return exitError{1}
	}
	opts := replay.Options{NoPacing: f.noPacing}
	if opts.Since, opts.Until, err = parseRange(f.since, f.until, db.loc); err != nil {
		return err
	}
	// One write a line would make a long report cost more in system
	// calls than the replay itself. A failed write is kept by Main's
	// output, which reports it and exits 1.
	w := bufio.NewWriterSize(env.Stdout, 64<<10)
	defer func() { _ = w.Flush() }()
	out := replayOutput{w: w, db: db, set: set, opts: opts}
	if f.format == "table" {
		out.header()
	}
	sum, err := replay.Run(ctx, st, set, opts, func(ch *replay.Change) error {
		if f.format == "json" {
			return out.changeJSON(ch)
		}
		out.change(ch)
		return nil
	})
	if err != nil {
		return err
	}
	if f.format == "json" {
		return out.summaryJSON(sum)
	}
	out.summary(sum)
	return nil
}

// replayOutput prints a replay's report.
type replayOutput struct {
	w    io.Writer
	db   database
	set  *rules.Set
	opts replay.Options
}

// period renders the period's bounds in the database's zone.
func (o replayOutput) period() string {
	from, to := "the first comment", "now"
	if !o.opts.Since.IsZero() {
		from = o.opts.Since.In(o.db.loc).Format("2006-01-02 15:04")
	}
	if !o.opts.Until.IsZero() {
		to = o.opts.Until.In(o.db.loc).Format("2006-01-02 15:04")
	}
	return fmt.Sprintf("comments evaluated from %s to %s (%s)", from, to, o.db.loc)
}

// header says what is replayed and what is not: a reader must not take a
// quiet report for more than it checked.
func (o replayOutput) header() {
	fmt.Fprintf(o.w, "rules         %s (%d rule(s)), each comment at the time it was evaluated\n", show(o.db.redact, o.db.rules), o.set.Len())
	fmt.Fprintf(o.w, "period        %s\n", o.period())
	if o.opts.NoPacing {
		fmt.Fprintln(o.w, "pacing        left out (--no-pacing): answers held back by a cooldown, limit or active window compare as answers")
	} else {
		fmt.Fprintln(o.w, "pacing        replayed from the history: cooldowns, limits and active windows count the stored answers before the period and the replayed ones in it")
	}
	fmt.Fprintln(o.w, "not replayed  daily caps, responder pauses, breakers")
	fmt.Fprintf(o.w, "not stored    %s: zero or empty\n", notStored)
}

// quote shows an untrusted text on one line, in quotes: secrets scrubbed,
// control characters and bidi overrides escaped; Chinese and emoji as
// they are.
func (o replayOutput) quote(s string) string { return `"` + show(o.db.redact, s) + `"` }

// change prints one changed comment: what the history holds (-), what the
// new rules would do (+).
func (o replayOutput) change(ch *replay.Change) {
	c := ch.Comment
	r := o.db.redact
	fmt.Fprintf(o.w, "\n%s  %s  thread %s  comment %s\n", ch.SeenAt.In(o.db.loc).Format("2006-01-02 15:04:05"),
		show(r, c.Platform), show(r, c.ThreadID), show(r, c.ID))
	who := show(r, c.User.Nickname)
	if c.User.UID != "" {
		who += " (uid " + show(r, c.User.UID) + ")"
	}
	fmt.Fprintf(o.w, "  %s: %s\n", strings.TrimSpace(who), o.quote(c.Text))
	width := 0
	for _, x := range ch.Old {
		width = max(width, cells(show(r, x.Rule)))
	}
	for _, x := range ch.New {
		width = max(width, cells(show(r, x.Rule)))
	}
	line := func(sign, rule, what string) {
		rule = show(r, rule)
		fmt.Fprintf(o.w, "  %s %s%s  %s\n", sign, rule, strings.Repeat(" ", width-cells(rule)), what)
	}
	if len(ch.Old) == 0 {
		fmt.Fprintln(o.w, "  - (no rule acted)")
	}
	for _, x := range ch.Old {
		line("-", x.Rule, o.describeOld(x))
	}
	if len(ch.New) == 0 {
		fmt.Fprintln(o.w, "  + (no rule would act)")
	}
	for _, x := range ch.New {
		line("+", x.Rule, o.describeNew(x))
	}
	for _, e := range ch.Errors {
		fmt.Fprintf(o.w, "  ! rule %s failed: %s\n", show(r, e.Rule), oneLine(r.String(e.Err.Error())))
	}
}

// describeOld is a claim as history shows it: status (reason) and text.
func (o replayOutput) describeOld(x replay.Old) string {
	s := x.Status
	if x.Reason != "" {
		s += " (" + show(o.db.redact, x.Reason) + ")"
	}
	if x.ReplyText != "" {
		s += ": " + o.quote(x.ReplyText)
	}
	if x.Edited {
		s += ", as a person edited it"
	}
	return s
}

// describeNew says what a new rule would do.
func (o replayOutput) describeNew(x replay.New) string {
	texts := func() string {
		q := make([]string, len(x.Replies))
		for i, t := range x.Replies {
			q[i] = o.quote(t)
		}
		if len(q) == 1 {
			return ": " + q[0]
		}
		return " one of: " + strings.Join(q, ", ")
	}
	switch x.Kind {
	case replay.Flag:
		return "would flag (nothing sent)"
	case replay.Skip:
		return "would skip (" + x.Reason + ")"
	case replay.Paced:
		return "would be held back (" + x.Reason + "), nothing sent"
	case replay.Held:
		return "would hold for approval" + texts()
	}
	return "would answer" + texts()
}

// summary prints each rule's hits and the totals.
func (o replayOutput) summary(sum *replay.Summary) {
	fmt.Fprintln(o.w)
	table := [][]string{{"RULE", "OLD", "NEW", "GAINED", "LOST", "CHANGED", "ERRORS"}}
	for _, rc := range sum.Rules {
		table = append(table, []string{show(o.db.redact, rc.Rule), strconv.Itoa(rc.Old), strconv.Itoa(rc.New),
			strconv.Itoa(rc.Gained), strconv.Itoa(rc.Lost), strconv.Itoa(rc.Changed), strconv.Itoa(rc.Errors)})
	}
	writeCells(o.w, table, 1, 2, 3, 4, 5, 6)
	fmt.Fprintf(o.w, "\n%d comment(s) replayed, %d changed\n", sum.Comments, sum.Changed)
}

// replayChangeJSON is one changed comment in JSON Lines; field names are
// part of the product contract (docs/rules.md).
type replayChangeJSON struct {
	Type             string            `json:"type"` // "change"
	Platform         string            `json:"platform"`
	ThreadID         string            `json:"thread_id"`
	CommentID        string            `json:"comment_id"`
	PostID           string            `json:"post_id"`
	SeenAt           string            `json:"seen_at"`
	CommentCreatedAt string            `json:"comment_created_at"`
	CommentText      string            `json:"comment_text"`
	User             string            `json:"user"`
	UserUID          string            `json:"user_uid"`
	Old              []replayOldJSON   `json:"old"`
	New              []replayNewJSON   `json:"new"`
	Errors           []replayErrorJSON `json:"errors,omitempty"`
}

type replayOldJSON struct {
	Rule      string `json:"rule"`
	Status    string `json:"status"`
	Reason    string `json:"reason"`
	ReplyText string `json:"reply_text"`
	Edited    bool   `json:"edited,omitempty"`
}

type replayNewJSON struct {
	Rule    string `json:"rule"`
	Action  string `json:"action"`
	Approve bool   `json:"approve"`
	// Outcome is answer, held, flag, skip or paced: approve with an
	// answer pacing let through is held.
	Outcome   string   `json:"outcome"`
	Reason    string   `json:"reason,omitempty"`
	ReplyText string   `json:"reply_text"`
	Variants  []string `json:"variants,omitempty"`
	Notify    []string `json:"notify,omitempty"`
}

type replayErrorJSON struct {
	Rule  string `json:"rule"`
	Error string `json:"error"`
}

type replaySummaryJSON struct {
	Type      string           `json:"type"` // "summary"
	RulesPath string           `json:"rules_path"`
	Since     string           `json:"since"`
	Until     string           `json:"until"`
	Pacing    string           `json:"pacing"` // "replayed" or "off"
	Comments  int              `json:"comments"`
	Changed   int              `json:"changed"`
	Rules     []replayRuleJSON `json:"rules"`
}

type replayRuleJSON struct {
	Rule    string `json:"rule"`
	Old     int    `json:"old"`
	New     int    `json:"new"`
	Gained  int    `json:"gained"`
	Lost    int    `json:"lost"`
	Changed int    `json:"changed"`
	Errors  int    `json:"errors"`
}

func (o replayOutput) encode(v any) error {
	enc := json.NewEncoder(o.w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// changeJSON writes one changed comment. JSON carries the texts exactly,
// for programs; only the config's secrets are scrubbed.
func (o replayOutput) changeJSON(ch *replay.Change) error {
	r := o.db.redact
	c := ch.Comment
	j := replayChangeJSON{Type: "change", Platform: c.Platform, ThreadID: c.ThreadID, CommentID: c.ID, PostID: c.PostID,
		SeenAt: rfc3339(ch.SeenAt), CommentCreatedAt: rfc3339(c.CreatedAt), CommentText: r.String(c.Text),
		User: r.String(c.User.Nickname), UserUID: c.User.UID, Old: []replayOldJSON{}, New: []replayNewJSON{}}
	for _, x := range ch.Old {
		j.Old = append(j.Old, replayOldJSON{Rule: x.Rule, Status: x.Status, Reason: r.String(x.Reason), ReplyText: r.String(x.ReplyText), Edited: x.Edited})
	}
	for _, x := range ch.New {
		n := replayNewJSON{Rule: x.Rule, Action: x.Action, Approve: x.Approve, Outcome: string(x.Kind), Reason: x.Reason, Notify: x.Notify}
		for _, t := range x.Replies {
			n.Variants = append(n.Variants, r.String(t))
		}
		if len(n.Variants) > 0 {
			n.ReplyText = n.Variants[0]
		}
		if len(n.Variants) < 2 {
			n.Variants = nil
		}
		j.New = append(j.New, n)
	}
	for _, e := range ch.Errors {
		j.Errors = append(j.Errors, replayErrorJSON{Rule: e.Rule, Error: r.String(e.Err.Error())})
	}
	return o.encode(j)
}

// summaryJSON writes the summary object, last.
func (o replayOutput) summaryJSON(sum *replay.Summary) error {
	j := replaySummaryJSON{Type: "summary", RulesPath: o.db.rules, Since: rfc3339(o.opts.Since), Until: rfc3339(o.opts.Until),
		Pacing: "replayed", Comments: sum.Comments, Changed: sum.Changed, Rules: []replayRuleJSON{}}
	if o.opts.NoPacing {
		j.Pacing = "off"
	}
	for _, rc := range sum.Rules {
		j.Rules = append(j.Rules, replayRuleJSON{Rule: rc.Rule, Old: rc.Old, New: rc.New, Gained: rc.Gained, Lost: rc.Lost, Changed: rc.Changed, Errors: rc.Errors})
	}
	return o.encode(j)
}
