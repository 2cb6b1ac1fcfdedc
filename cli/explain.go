package cli

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/autoreplyd/autoreplyd/config"
	"github.com/autoreplyd/autoreplyd/internal/explain"
	"github.com/autoreplyd/autoreplyd/internal/redact"
	"github.com/autoreplyd/autoreplyd/internal/termesc"
	"github.com/autoreplyd/autoreplyd/llm"
	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/poller"
	"github.com/autoreplyd/autoreplyd/rules"
	"github.com/autoreplyd/autoreplyd/ruletest"
)

// explainFlags are the made-up comment and where the rules come from.
type explainFlags struct {
	config, rules, timezone string
	text, nickname, uid     string
	uniqueID, region        string
	verified                bool
	labels                  []string
	platform, thread        string
	createdAt, now          string
	likes                   int64
	draft                   bool
}

func explainCmd(env Env) *cobra.Command {
	var f explainFlags
	cmd := &cobra.Command{
		Use:   "explain [--config F | --rules PATH] --text T [--nickname N ...]",
		Short: "Show each rule's verdict on one made-up comment",
		Long: "Evaluates every rule on one made-up comment and prints, one line per rule in order, whether it\n" +
			"matched (✓), did not (·) or failed (✗); the rule(s) that would act show what they would do (answer\n" +
			"with the reply they would render, hold it for approval, flag the comment, skip it), whom they would\n" +
			"notify, and their pacing. Cooldowns and limits depend on the history of answers and are only named;\n" +
			"the active window is checked at --now.",
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return runExplain(env, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.config, "config", "", "config file: its rules and timezone (default $AUTOREPLYD_CONFIG or /etc/autoreplyd/config.yaml, unless --rules)")
	fl.StringVar(&f.rules, "rules", "", "rule file or directory to use instead of the config's (the config is then read only with --config)")
	fl.StringVar(&f.timezone, "timezone", "", "timezone of the rules and of --time/--now (default: the config's, else UTC)")
	fl.StringVar(&f.text, "text", "", "the comment's text (required)")
	fl.StringVar(&f.nickname, "nickname", "", "the author's nickname")
	fl.StringVar(&f.uid, "uid", "", "the author's uid")
	fl.StringVar(&f.uniqueID, "unique-id", "", "the author's handle (user.unique_id)")
	fl.StringVar(&f.region, "region", "", "the author's region, such as CN")
	fl.BoolVar(&f.verified, "verified", false, "the author is verified")
	fl.StringArrayVar(&f.labels, "label", nil, "a label of the thread as KEY=VALUE (repeatable)")
	fl.StringVar(&f.platform, "platform", model.PlatformDouyin, strings.Join(platforms(), ", "))
	fl.StringVar(&f.thread, "thread", "", "the watched thread's id")
	fl.StringVar(&f.createdAt, "time", "", `when the comment was written, "2026-11-22 09:58" (default: --now)`)
	fl.StringVar(&f.now, "now", "", `evaluation time, "2026-11-22 10:00" (default: the current time)`)
	fl.Int64Var(&f.likes, "likes", 0, "likes of the comment")
	fl.BoolVar(&f.draft, "draft", false, "ask the model of each drafting rule that acts for a draft, for real (it costs tokens), and judge it as the daemon would")
	_ = cmd.MarkFlagRequired("text")
	return cmd
}

func runExplain(env Env, f explainFlags) error {
	var loc *time.Location
	if f.timezone != "" {
		var err error
		if loc, err = time.LoadLocation(f.timezone); err != nil {
			return fmt.Errorf("--timezone: unknown time zone %q", f.timezone)
		}
	}
	rulesPath := f.rules
	var cfg *config.Config
	if rulesPath == "" || f.config != "" || f.draft {
		var err error
		cfg, err = config.Load(configPath(f.config, env.Environ), env.Environ)
		if err != nil {
			printErrors(env, err)
			return exitError{1}
		}
		if rulesPath == "" {
			rulesPath = cfg.Rules
		}
		if loc == nil {
			loc = cfg.Location
		}
	}
	if loc == nil {
		loc = time.UTC
	}
	c := model.Comment{
		Platform: f.platform, ID: "explain", ThreadID: f.thread, ReplyToID: "0", Text: f.text, Likes: f.likes,
		User: model.User{UID: f.uid, Nickname: f.nickname, UniqueID: f.uniqueID, Region: f.region, Verified: f.verified},
	}
	if err := checkChoice("platform", c.Platform, platforms()); err != nil {
		return err
	}
	for _, kv := range f.labels {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return fmt.Errorf("--label: want KEY=VALUE, got %q", kv)
		}
		if c.Labels == nil {
			c.Labels = map[string]string{}
		}
		c.Labels[k] = v
	}
	now := time.Now().In(loc)
	if f.now != "" {
		t, err := ruletest.ParseTime(f.now, loc)
		if err != nil {
			return fmt.Errorf("--now: %w", err)
		}
		now = t.In(loc)
	}
	c.CreatedAt = now
	if f.createdAt != "" {
		t, err := ruletest.ParseTime(f.createdAt, loc)
		if err != nil {
			return fmt.Errorf("--time: %w", err)
		}
		c.CreatedAt = t.In(loc)
	}
	set, err := rules.Load(rulesPath, rules.Options{Location: loc})
	if err != nil {
		printErrors(env, err)
		return exitError{1}
	}
	writeExplain(env.Stdout, rulesPath, set, c, now)
	if f.draft {
		return explainDrafts(env, cfg, set, c, now)
	}
	return nil
}

// explainDrafts asks, for real, each drafting rule that would act for its
// draft of c, and shows the messages sent, the draft and what the
// guardrails make of it.
func explainDrafts(env Env, cfg *config.Config, set *rules.Set, c model.Comment, now time.Time) error {
	w := env.Stdout
	asked := false
	red := redact.New(cfg.Secrets()...)
	for _, v := range set.Explain(c, now) {
		if !v.Acts || v.Draft == nil {
			continue
		}
		asked = true
		d := v.Draft
		e := cfg.LLMEndpoint(d.LLM)
		fmt.Fprintf(w, "\ndraft of rule %s by llm.%s: a real request, it costs tokens\n", v.Rule, d.LLM)
		req := llm.Request{System: d.System, Context: d.Context, Prompt: d.Prompt}
		for _, m := range llm.Messages(req) {
			fmt.Fprintf(w, "  %s:\n", m.Role)
			for line := range strings.Lines(m.Content) {
				fmt.Fprintf(w, "    %s\n", termesc.String(strings.TrimRight(line, "\n")))
			}
		}
		if e == nil {
			fmt.Fprintf(w, "→ llm.%s is not configured: no draft\n", d.LLM)
			continue
		}
		client, err := llm.New(e.Spec())
		if err != nil {
			return fmt.Errorf("%s: %s", e.Key(), show(red, err.Error()))
		}
		ctx, cancel := context.WithTimeout(context.Background(), client.Spec().Timeout+5*time.Second)
		dr, err := client.Draft(ctx, req)
		cancel()
		if err != nil && llm.KindOf(err) != llm.KindRefused {
			fmt.Fprintf(w, "→ no draft: %s\n", show(red, err.Error()))
			continue
		}
		fmt.Fprintf(w, "draft    %s\n", strconv.Quote(dr.Text))
		fmt.Fprintf(w, "model    %s, %d prompt + %d completion tokens\n", termesc.String(dr.Model), dr.PromptTokens, dr.CompletionTokens)
		if err != nil {
			fmt.Fprintf(w, "→ flagged for a person: the model gave no usable draft (%s)\n", show(red, err.Error()))
			continue
		}
		verdict := poller.JudgeDraft(set, v.Rule, c, dr.Text, d.MaxLength, nil, now)
		switch {
		case verdict.Status == model.StatusFlagged:
			fmt.Fprintf(w, "→ flagged for a person (%s): %s\n", verdict.Reason, verdict.Why)
		case v.Approve:
			fmt.Fprintf(w, "→ held for approval (the platform's own length limit is checked too when the daemon drafts it)\n")
		default:
			fmt.Fprintf(w, "→ sent without a person (approve: false)\n")
		}
	}
	if !asked {
		fmt.Fprintln(w, "\n(no drafting rule would act on this comment: no model was asked)")
	}
	return nil
}

// writeExplain prints the comment, one line per rule (with the reply and
// pacing of the rules that act) and the outcome.
func writeExplain(w io.Writer, rulesPath string, set *rules.Set, c model.Comment, now time.Time) {
	infos := set.Rules()
	verdicts := set.Explain(c, now)

	who := ""
	if c.User.Nickname != "" {
		who = " by " + c.User.Nickname
	}
	if c.User.UID != "" {
		who += " (uid " + c.User.UID + ")"
	}
	fmt.Fprintf(w, "comment  %s%s on %s\n", strconv.Quote(c.Text), who, c.Platform)
	if c.ThreadID != "" {
		fmt.Fprintf(w, "thread   %s\n", c.ThreadID)
	}
	if len(c.Labels) > 0 {
		keys := make([]string, 0, len(c.Labels))
		for k := range c.Labels {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for i, k := range keys {
			keys[i] = k + "=" + c.Labels[k]
		}
		fmt.Fprintf(w, "labels   %s\n", strings.Join(keys, " "))
	}
	const layout = "2006-01-02 15:04"
	fmt.Fprintf(w, "time     written %s, now %s (%s)\n", c.CreatedAt.Format(layout), now.Format(layout), now.Location())
	fmt.Fprintf(w, "rules    %s (%d rule(s))\n\n", rulesPath, len(infos))

	lines, outcome := explain.Explain(infos, verdicts, now)
	nameWidth := 0
	for _, ri := range infos {
		nameWidth = max(nameWidth, cells(ri.Name))
	}
	detail := strings.Repeat(" ", 2+nameWidth+2) // under the verdict
	for _, l := range lines {
		pad := strings.Repeat(" ", nameWidth-cells(l.Rule)+2)
		fmt.Fprintf(w, "%s %s%s%s\n", l.Mark, l.Rule, pad, l.Outcome)
		for _, d := range l.Details {
			fmt.Fprintf(w, "%s%s\n", detail, d)
		}
	}
	fmt.Fprintln(w)
	for _, o := range outcome {
		fmt.Fprintf(w, "→ %s\n", o)
	}
}

// oneLine puts s on one escaped line (a rule error may quote the comment).
func oneLine(s string) string { return explain.OneLine(s) }

// shortDuration prints 24h, 10m, 1h30m, 90s rather than 24h0m0s.
func shortDuration(d time.Duration) string { return explain.ShortDuration(d) }
