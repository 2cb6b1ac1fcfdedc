package cli

import (
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
	if rulesPath == "" || f.config != "" {
		cfg, err := config.Load(configPath(f.config, env.Environ), env.Environ)
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

	nameWidth := 0
	for _, ri := range infos {
		nameWidth = max(nameWidth, cells(ri.Name))
	}
	detail := strings.Repeat(" ", 2+nameWidth+2) // under the verdict
	var acting []int
	ender := "" // the last acting rule that ended evaluation
	for i, v := range verdicts {
		ri := infos[i]
		pad := strings.Repeat(" ", nameWidth-cells(ri.Name)+2)
		switch {
		case v.Err != nil:
			fmt.Fprintf(w, "✗ %s%serror: %s\n", ri.Name, pad, oneLine(v.Err.Error()))
		case !v.Matched:
			fmt.Fprintf(w, "· %s%snot matched\n", ri.Name, pad)
		case !v.Acts:
			fmt.Fprintf(w, "✓ %s%smatched, does not act: %s ended evaluation\n", ri.Name, pad, ender)
		default:
			acting = append(acting, i)
			if !ri.Continue {
				ender = ri.Name
			}
			how := "matched → acts"
			if ri.Continue {
				how += " (continue: true)"
			}
			fmt.Fprintf(w, "✓ %s%s%s\n", ri.Name, pad, how)
			for _, l := range actionLines(v) {
				fmt.Fprintf(w, "%s%s\n", detail, l)
			}
			if ri.HasReply {
				for _, l := range pacingLines(ri.Pacing, now) {
					fmt.Fprintf(w, "%s%s\n", detail, l)
				}
			}
		}
	}
	fmt.Fprintln(w)
	if len(acting) == 0 {
		fmt.Fprintln(w, "→ no rule acts: the comment is not answered")
		return
	}
	for _, i := range acting {
		ri, v := infos[i], verdicts[i]
		switch {
		case ri.Action == rules.ActionFlag:
			fmt.Fprintf(w, "→ %s acts: the comment is flagged for a person, nothing is sent\n", ri.Name)
		case !ri.HasReply:
			fmt.Fprintf(w, "→ %s acts: the comment is skipped (%s), nothing is sent\n", ri.Name, model.ReasonNoReplyRule)
		case !ri.Pacing.ActiveAt(now):
			fmt.Fprintf(w, "→ %s acts: the comment is skipped (inactive at %s)\n", ri.Name, now.Format("15:04"))
		default:
			what := "answers"
			switch {
			case ri.Approve && len(v.Replies) > 1:
				what = fmt.Sprintf("holds one of %d replies for approval (nothing is sent until a person approves)", len(v.Replies))
			case ri.Approve:
				what = "holds its answer for approval (nothing is sent until a person approves)"
			case len(v.Replies) > 1:
				what = fmt.Sprintf("answers with one of %d replies", len(v.Replies))
			}
			if historyPaced(ri.Pacing) {
				what += ", unless its cooldown or limit holds it back"
			}
			fmt.Fprintf(w, "→ %s acts: %s\n", ri.Name, what)
		}
	}
}

// actionLines say what an acting rule would do with the comment: flag it,
// skip it, hold its answer for approval or answer (every variant listed),
// and whom it would notify.
func actionLines(v rules.Verdict) []string {
	var lines []string
	switch {
	case v.Action == rules.ActionFlag:
		lines = append(lines, "would flag (nothing sent)")
	case len(v.Replies) == 0:
		lines = append(lines, fmt.Sprintf("would skip (%s), nothing sent", model.ReasonNoReplyRule))
	default:
		what := "would answer"
		if v.Approve {
			what = "would hold for approval"
		}
		if len(v.Replies) == 1 {
			lines = append(lines, what+": "+strconv.Quote(v.Replies[0]))
			break
		}
		lines = append(lines, what+" one of:")
		for j, r := range v.Replies {
			lines = append(lines, fmt.Sprintf("  reply %d: %s", j+1, strconv.Quote(r)))
		}
	}
	if len(v.Notify) > 0 {
		lines = append(lines, "would notify "+strings.Join(v.Notify, ", "))
	}
	return lines
}

// oneLine puts s on one escaped line (a rule error may quote the comment).
func oneLine(s string) string { return termesc.String(strings.Join(strings.Fields(s), " ")) }

func historyPaced(p rules.Pacing) bool {
	return p.CooldownUser > 0 || p.CooldownThread > 0 || p.LimitHour > 0 || p.LimitDay > 0
}

// pacingLines describes a rule's pacing: the active windows checked at now,
// the cooldowns and limits only named (they depend on the history).
func pacingLines(p rules.Pacing, now time.Time) []string {
	var lines []string
	if len(p.Active) > 0 {
		ws := make([]string, len(p.Active))
		for i, win := range p.Active {
			ws[i] = formatWindow(win)
		}
		state := "active"
		if !p.ActiveAt(now) {
			state = "inactive"
		}
		lines = append(lines, fmt.Sprintf("active %s (now %s: %s)", strings.Join(ws, ", "), now.Format("Mon 15:04"), state))
	}
	var h []string
	if p.CooldownUser > 0 {
		h = append(h, "cooldown user "+shortDuration(p.CooldownUser))
	}
	if p.CooldownThread > 0 {
		h = append(h, "cooldown thread "+shortDuration(p.CooldownThread))
	}
	if p.LimitHour > 0 {
		h = append(h, fmt.Sprintf("limit %d/hour", p.LimitHour))
	}
	if p.LimitDay > 0 {
		h = append(h, fmt.Sprintf("limit %d/day", p.LimitDay))
	}
	if len(h) > 0 {
		lines = append(lines, "paced by history: "+strings.Join(h, ", "))
	}
	return lines
}

// shortDuration prints 24h, 10m, 1h30m, 90s rather than 24h0m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

var dayNames = [7]string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}

// formatWindow prints a window as written: "Mon-Fri 09:00-18:00".
func formatWindow(w rules.Window) string {
	hm := func(m int) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }
	span := hm(w.Start) + "-" + hm(w.End)
	// Weekdays Monday first; runs of three or more as a range.
	order := []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday}
	var parts []string
	for i := 0; i < len(order); {
		if !w.Days[order[i]] {
			i++
			continue
		}
		j := i
		for j+1 < len(order) && w.Days[order[j+1]] {
			j++
		}
		switch j - i {
		case 0:
			parts = append(parts, dayNames[order[i]])
		case 1:
			parts = append(parts, dayNames[order[i]], dayNames[order[j]])
		default:
			parts = append(parts, dayNames[order[i]]+"-"+dayNames[order[j]])
		}
		i = j + 1
	}
	if len(parts) == 0 || len(parts) == 1 && parts[0] == "Mon-Sun" {
		return span
	}
	return strings.Join(parts, ",") + " " + span
}
