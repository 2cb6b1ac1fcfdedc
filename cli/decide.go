package cli

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/autoreplyd/autoreplyd/daemon"
	"github.com/autoreplyd/autoreplyd/internal/answer"
	"github.com/autoreplyd/autoreplyd/internal/termesc"
	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/store"
)

// decideFlags are the flags of approve, reject and done.
type decideFlags struct {
	config, database, by string
	text, reason         string
}

func approveCmd(env Env) *cobra.Command {
	return decideCmd(env, store.DecideApprove, `approve ID [--text "edited answer"] [--by NAME]`,
		"Approve a held answer, as written or edited: the daemon sends it (safe while the daemon runs)",
		`Approve the held answer of claim ID (the ID column of inbox): the daemon
sends it on its next cycle, through the normal send path (pacing, daily cap,
breaker, retries). --text replaces the answer; it is checked as a rendered
one is (not empty, one line of printable text, within the limit of the
claim's responder: max_length, Weibo's 140 weighted characters with the
回复@name: prefix), which needs the config. An answer held longer than
approval.max_age is recorded expired instead, never sent, and approve exits 1.
Only a held claim can be approved, once.`,
		func(cmd *cobra.Command, f *decideFlags) {
			cmd.Flags().StringVar(&f.text, "text", "", "send this answer instead of the held one")
		})
}

func rejectCmd(env Env) *cobra.Command {
	return decideCmd(env, store.DecideReject, `reject ID [--reason "..."] [--by NAME]`,
		"Reject a held answer: it is never sent (safe while the daemon runs)",
		`Reject the held answer of claim ID (the ID column of inbox): it is recorded
rejected, with who decided, when and --reason, and never sent. Only a held
claim can be rejected, once.`,
		func(cmd *cobra.Command, f *decideFlags) {
			cmd.Flags().StringVar(&f.reason, "reason", "", "why, recorded as the decision's note (history's decision_note)")
		})
}

func doneCmd(env Env) *cobra.Command {
	return decideCmd(env, store.DecideDone, "done ID [--by NAME]",
		"Mark a flagged comment dealt with by a person: handled (safe while the daemon runs)",
		`Mark the flagged comment of claim ID (the ID column of inbox) as dealt with
by a person: it is recorded handled, with who and when. Nothing is sent.
Only a flagged claim can be marked done, once.`, nil)
}

// decideCmd is the command of one decision (store.Decide*), with the flags
// every decision has and those more adds.
func decideCmd(env Env, action, use, short, long string, more func(*cobra.Command, *decideFlags)) *cobra.Command {
	var f decideFlags
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Long:  long,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDecide(cmd, env, args[0], action, f, cmd.Flags().Changed("text"))
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.config, "config", "", "config file (default $AUTOREPLYD_CONFIG or /etc/autoreplyd/config.yaml)")
	fl.StringVar(&f.database, "database", "", "use this SQLite file instead of the config's database (alone: no config read, approval.max_age its default)")
	fl.StringVar(&f.by, "by", "", "who decides, recorded and shown by history (default $SUDO_USER, else $USER)")
	if more != nil {
		more(cmd, &f)
	}
	return cmd
}

// runDecide records a person's decision (store.Decide) about claim arg and
// says what became of it. hasText says approve's --text was given.
func runDecide(cmd *cobra.Command, env Env, arg, action string, f decideFlags, hasText bool) (err error) {
	id, err := strconv.ParseInt(arg, 10, 64)
	if err != nil || id <= 0 {
		return fmt.Errorf("claim id %q is not a positive number", arg)
	}
	by, err := decider(f.by, env.Environ)
	if err != nil {
		return err
	}
	if err := checkOneLine("--reason", f.reason); err != nil {
		return err
	}
	text := answer.Trim(f.text)
	if hasText {
		// What needs no config, before the config and the database.
		if err := answer.CheckForm(text); err != nil {
			return fmt.Errorf("--text: %w", err)
		}
	}
	ic, err := loadInboxConfig(f.database, f.config, "", env)
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	st, err := openWritable(ctx, ic.db.path)
	if err != nil {
		return err
	}
	// A database that will not close fails the command, not silently.
	defer func() { err = errors.Join(err, st.Close()) }()
	row, err := st.ClaimRow(ctx, id)
	if err != nil {
		return err
	}
	// Checks that only matter for a held answer; any other claim is
	// refused by Decide below, which says its status.
	if action == store.DecideApprove && row.Status == model.StatusHeld {
		if hasText {
			if err := checkEditedText(ic, row, text); err != nil {
				return err
			}
		}
		ic.noteMaxAge(env.Stderr)
	}
	before, _, err := st.Decide(ctx, id, store.Decision{Action: action, Text: text, By: by, Note: f.reason, MaxAge: ic.maxAge}, time.Now())
	if err != nil {
		return err
	}
	outcome := "handled"
	switch action {
	case store.DecideApprove:
		outcome = "approved; the daemon sends it on its next cycle"
		if hasText {
			outcome = "approved with the edited answer; the daemon sends it on its next cycle"
		}
	case store.DecideReject:
		outcome = "rejected; never sent"
	}
	red := ic.db.redact
	fmt.Fprintf(env.Stdout, "claim %d (%s comment %s, rule %s): %s → %s\n",
		id, show(red, row.Platform), show(red, row.CommentID), show(red, row.Rule), before, outcome)
	return nil
}

// decider is who decides: --by, else $SUDO_USER (the person behind sudo),
// else $USER. Nobody is an error: a decision is always someone's.
func decider(flag string, environ []string) (string, error) {
	by := strings.TrimSpace(flag)
	for _, name := range []string{"SUDO_USER", "USER"} {
		if by != "" {
			break
		}
		by = strings.TrimSpace(environValue(environ, name))
	}
	if by == "" {
		return "", errors.New("who decides? give --by NAME ($SUDO_USER and $USER are not set)")
	}
	return by, checkOneLine("--by", by)
}

// environValue is the value of name in environ; the last one wins.
func environValue(environ []string, name string) string {
	v := ""
	for _, kv := range environ {
		if k, val, ok := strings.Cut(kv, "="); ok && k == name {
			v = val
		}
	}
	return v
}

// checkOneLine refuses a value holding a character that termesc escapes (a
// control character, a line break, a direction override): what a person
// types here is recorded and shown, or sent to a platform as an answer.
func checkOneLine(flag, s string) error {
	if esc := termesc.String(s); esc != s {
		return fmt.Errorf("%s: %s holds a control character or a direction override: give one line of printable text", flag, esc)
	}
	return nil
}

// checkEditedText checks approve's --text as the claim's responder checks a
// rendered answer before sending it (platform.TextChecker), so that an
// edited answer the platform refuses for its length is refused now, while
// the held one can still be approved as written, rather than failing at
// send (answer.Check, which the web console shares). Without the config the
// limits are unknown: the edit is refused.
func checkEditedText(ic inboxConfig, row store.HistoryRow, text string) error {
	if ic.cfg == nil {
		return fmt.Errorf("--text: the edited answer cannot be checked against its responder's limits: %s; give --config, or approve without --text",
			termesc.Lines(ic.noConfig))
	}
	_, responders, _, err := daemon.Build(ic.cfg)
	if err != nil {
		return fmt.Errorf("--text: the edited answer cannot be checked: %s: %w", ic.cfg.File, err)
	}
	r, ok := responders[row.Responder]
	if !ok {
		return fmt.Errorf("--text: claim %d is answered by responder %s, which %s no longer has: its limits are unknown",
			row.ID, show(ic.db.redact, strconv.Quote(row.Responder)), ic.cfg.File)
	}
	if err := answer.Check(r, row, text); err != nil {
		return fmt.Errorf("--text: %s; nothing changed", show(ic.db.redact, err.Error()))
	}
	return nil
}

// openWritable opens the database at path read-write beside a running
// daemon: WAL and the busy timeout serialise a command's one short
// transaction with the daemon's writes. A missing database is an error
// here, not a new empty one.
func openWritable(ctx context.Context, path string) (*store.Store, error) {
	ro, err := store.OpenReadOnly(ctx, path)
	if err != nil {
		return nil, err
	}
	if err := ro.Close(); err != nil {
		return nil, err
	}
	return store.Open(ctx, path)
}
