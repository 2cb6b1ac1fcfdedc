// Package explain words each rule's verdict on one comment, for `autoreplyd
// explain` and the web console's playground: both say the same thing in the
// same words.
package explain

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/autoreplyd/autoreplyd/internal/termesc"
	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/rules"
)

// Marks open a rule's line: it matched, it did not, or it failed.
const (
	MarkMatched = "✓"
	MarkNot     = "·"
	MarkError   = "✗"
)

// Line is one rule's verdict in words.
type Line struct {
	Rule string
	Mark string // MarkMatched, MarkNot or MarkError
	// Outcome is the verdict: "not matched", "matched → acts", "error: ...".
	Outcome string
	// Acts: the rule would act on the comment.
	Acts bool
	// Details say what an acting rule would do (its answers, whom it would
	// notify) and its pacing.
	Details []string
}

// Explain words the verdicts of set.Explain (one per rule of infos, in
// order) at now: a line per rule, then the outcome, one line per acting
// rule ("price acts: answers"), or the one line saying no rule acts.
func Explain(infos []rules.RuleInfo, verdicts []rules.Verdict, now time.Time) (lines []Line, outcome []string) {
	var acting []int
	ender := "" // the last acting rule that ended evaluation
	for i, v := range verdicts {
		ri := infos[i]
		l := Line{Rule: ri.Name, Mark: MarkMatched}
		switch {
		case v.Err != nil:
			l.Mark, l.Outcome = MarkError, "error: "+OneLine(v.Err.Error())
		case !v.Matched:
			l.Mark, l.Outcome = MarkNot, "not matched"
		case !v.Acts:
			l.Outcome = "matched, does not act: " + ender + " ended evaluation"
		default:
			acting = append(acting, i)
			if !ri.Continue {
				ender = ri.Name
			}
			l.Acts, l.Outcome = true, "matched → acts"
			if ri.Continue {
				l.Outcome += " (continue: true)"
			}
			l.Details = actionLines(v)
			if ri.HasReply {
				l.Details = append(l.Details, pacingLines(ri.Pacing, now)...)
			}
		}
		lines = append(lines, l)
	}
	if len(acting) == 0 {
		return lines, []string{"no rule acts: the comment is not answered"}
	}
	for _, i := range acting {
		outcome = append(outcome, actingOutcome(infos[i], verdicts[i], now))
	}
	return lines, outcome
}

// actingOutcome says what an acting rule does with the comment in the end.
func actingOutcome(ri rules.RuleInfo, v rules.Verdict, now time.Time) string {
	switch {
	case ri.Action == rules.ActionFlag:
		return ri.Name + " acts: the comment is flagged for a person, nothing is sent"
	case ri.Draft != nil && !ri.Pacing.ActiveAt(now):
		return fmt.Sprintf("%s acts: the comment is skipped (inactive at %s)", ri.Name, now.Format("15:04"))
	case ri.Draft != nil:
		what := "asks llm." + ri.Draft.LLM + " for a draft, then holds it for approval if the guardrails pass it (nothing is sent until a person approves)"
		if !ri.Approve {
			what = "asks llm." + ri.Draft.LLM + " for a draft and sends it if the guardrails pass it, with no person reading it first (approve: false)"
		}
		if historyPaced(ri.Pacing) {
			what += ", unless its cooldown or limit holds it back"
		}
		return ri.Name + " acts: " + what
	case !ri.HasReply:
		return fmt.Sprintf("%s acts: the comment is skipped (%s), nothing is sent", ri.Name, model.ReasonNoReplyRule)
	case !ri.Pacing.ActiveAt(now):
		return fmt.Sprintf("%s acts: the comment is skipped (inactive at %s)", ri.Name, now.Format("15:04"))
	}
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
	return ri.Name + " acts: " + what
}

// actionLines say what an acting rule would do with the comment: flag it,
// skip it, hold its answer for approval or answer (every variant listed),
// and whom it would notify.
func actionLines(v rules.Verdict) []string {
	var lines []string
	switch {
	case v.Action == rules.ActionFlag:
		lines = append(lines, "would flag (nothing sent)")
	case v.Draft != nil:
		lines = append(lines, "would ask llm."+v.Draft.LLM+" for a draft of: "+strconv.Quote(v.Draft.Prompt))
		if v.Draft.MaxLength > 0 {
			lines = append(lines, fmt.Sprintf("a draft over %d characters is flagged", v.Draft.MaxLength))
		}
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

// OneLine puts s on one escaped line (a rule error may quote the comment).
func OneLine(s string) string { return termesc.String(strings.Join(strings.Fields(s), " ")) }

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
		h = append(h, "cooldown user "+ShortDuration(p.CooldownUser))
	}
	if p.CooldownThread > 0 {
		h = append(h, "cooldown thread "+ShortDuration(p.CooldownThread))
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

// ShortDuration prints 24h, 10m, 1h30m, 90s rather than 24h0m0s.
func ShortDuration(d time.Duration) string {
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
