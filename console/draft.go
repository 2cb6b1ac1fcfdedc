package console

// Drafted answers in the console: the playground asks a drafting rule's
// model for real when the person ticks its box, and shows the messages
// sent, the draft and what the guardrails make of it, as `autoreplyd
// explain --draft` does; the inbox says which model drafted a held or
// flagged answer.

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/autoreplyd/autoreplyd/internal/explain"
	"github.com/autoreplyd/autoreplyd/internal/termesc"
	"github.com/autoreplyd/autoreplyd/llm"
	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/platform"
	"github.com/autoreplyd/autoreplyd/poller"
	"github.com/autoreplyd/autoreplyd/rules"
)

const (
	// playDraftTimeout bounds all the drafts of one playground submit,
	// whatever the endpoints' timeouts: the listener's write timeout (a
	// minute) would otherwise cut the page off.
	playDraftTimeout = 45 * time.Second
	// playRateWait is how long a draft may wait for its endpoint's rate
	// beyond the endpoint's timeout, as explain --draft allows: the
	// playground shares the rate with the daemon's drafting stage.
	playRateWait = 5 * time.Second
)

// playMessage is one message sent to a model, as the playground shows it.
type playMessage struct{ Role, Content string }

// playDraft is one acting drafting rule's request in the playground, and
// what came of it.
type playDraft struct {
	Rule, LLM string
	Messages  []playMessage
	// Answered: the model answered (Text may still be flagged); Tokens
	// names the model and what the answer cost.
	Answered     bool
	Text, Tokens string
	// Verdict is what became of the draft in words; Class is held, sent,
	// flagged or none (no draft).
	Verdict, Class string
}

// playDrafts asks, for each drafting rule that acts in verdicts (set's, on
// cm), its endpoint for a draft: one request per rule, all of them within
// playDraftTimeout and ctx. An endpoint the console does not have is said,
// not asked.
func (c *Console) playDrafts(ctx context.Context, l *lang, user string, set *rules.Set, verdicts []rules.Verdict, cm model.Comment, now time.Time) []playDraft {
	ctx, cancel := context.WithTimeout(ctx, playDraftTimeout)
	defer cancel()
	infos := set.Rules()
	var out []playDraft
	for i, v := range verdicts {
		if !v.Acts || v.Draft == nil {
			continue
		}
		out = append(out, c.playDraft(ctx, l, user, set, infos[i], v, cm, now))
	}
	return out
}

// playDraft asks for one rule's draft; see playDrafts.
func (c *Console) playDraft(ctx context.Context, l *lang, user string, set *rules.Set, ri rules.RuleInfo, v rules.Verdict, cm model.Comment, now time.Time) playDraft {
	d := v.Draft
	pd := playDraft{Rule: v.Rule, LLM: d.LLM, Class: "none"}
	req := llm.Request{System: d.System, Context: d.Context, Prompt: d.Prompt}
	for _, m := range llm.Messages(req) {
		pd.Messages = append(pd.Messages, playMessage{Role: m.Role, Content: c.block(m.Content)})
	}
	client := c.opts.LLM[d.LLM]
	if client == nil {
		pd.Verdict = l.T("play.no_llm", d.LLM)
		return pd
	}
	dctx, cancel := context.WithTimeout(ctx, client.Spec().Timeout+playRateWait)
	dr, err := client.Draft(dctx, req)
	cancel()
	errText := ""
	if err != nil {
		errText = c.show(explain.OneLine(err.Error()))
	}
	c.log.Info("console playground draft", "user", user, "rule", v.Rule, "llm", d.LLM,
		"prompt_tokens", dr.PromptTokens, "completion_tokens", dr.CompletionTokens, "err", errText)
	if err != nil && llm.KindOf(err) != llm.KindRefused {
		pd.Verdict = l.T("play.no_draft", errText)
		return pd
	}
	pd.Answered, pd.Text = true, c.show(dr.Text)
	pd.Tokens = l.T("play.draft_model", c.show(termesc.String(dr.Model)), dr.PromptTokens, dr.CompletionTokens)
	if err != nil {
		// As the drafting stage records it: flagged, reason llm_REASON.
		reason := "llm_refused"
		if e := (*llm.Error)(nil); errors.As(err, &e) && e.Reason != "" {
			reason = "llm_" + e.Reason
		}
		pd.Verdict, pd.Class = l.T("play.draft_flagged", reason, errText), "flagged"
		return pd
	}
	// The platform's limit is the via responder's; without a via the
	// responder is the source's, which a made-up comment has none of.
	var tc platform.TextChecker
	if ri.Via != "" {
		tc, _ = c.opts.Responders[ri.Via].(platform.TextChecker)
	}
	jv := poller.JudgeDraft(set, v.Rule, cm, dr.Text, d.MaxLength, tc, now)
	switch {
	case jv.Status == model.StatusFlagged:
		pd.Verdict, pd.Class = l.T("play.draft_flagged", jv.Reason, c.show(explain.OneLine(jv.Why))), "flagged"
	case v.Approve:
		pd.Verdict, pd.Class = l.T("play.draft_held"), "held"
	default:
		pd.Verdict, pd.Class = l.T("play.draft_sent"), "sent"
	}
	if tc == nil && pd.Class != "flagged" {
		pd.Verdict += " " + l.T("play.draft_unchecked")
	}
	return pd
}

// block makes text shown in a <pre> fit to show: secrets scrubbed, each
// line's control characters and direction overrides made visible, the line
// breaks kept.
func (c *Console) block(text string) string {
	var b strings.Builder
	for line := range strings.Lines(c.show(text)) {
		b.WriteString(termesc.String(strings.TrimRight(line, "\n")))
		b.WriteByte('\n')
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// drafted is the inbox's line on a claim a model drafted ("" for any
// other): which endpoint and model, and what it cost.
func (c *Console) drafted(l *lang, llmName, modelName string, tokens int64) string {
	if llmName == "" {
		return ""
	}
	return l.T("inbox.drafted", c.show(termesc.String(llmName)), c.show(termesc.String(modelName)), tokens)
}
