package console

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/autoreplyd/autoreplyd/console/chart"
	"github.com/autoreplyd/autoreplyd/internal/answer"
	"github.com/autoreplyd/autoreplyd/internal/explain"
	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/platform"
	"github.com/autoreplyd/autoreplyd/replay"
	"github.com/autoreplyd/autoreplyd/rules"
	"github.com/autoreplyd/autoreplyd/ruletest"
	"github.com/autoreplyd/autoreplyd/store"
)

// Bounds of the pages.
const (
	// inboxLimit is the most waiting claims the inbox lists (newest
	// first); the title counts them all.
	inboxLimit = 25
	// contextLimit bounds each row's thread answers and user history.
	contextLimit = 5
	// contextReaders is how many rows' context the inbox reads at once:
	// a few, on the store's pool of connections.
	contextReaders = 4
	// readTimeout bounds a page's database reads.
	readTimeout = 10 * time.Second
	// maxReplay is the longest period the replay page takes, and
	// replayTimeout how long it may run: the listener answers within a
	// minute.
	maxReplay     = 7 * 24 * time.Hour
	replayTimeout = 30 * time.Second
	// replayChanges is the most changes the replay page lists.
	replayChanges = 200
)

// inboxRow is one waiting claim as the inbox shows it.
type inboxRow struct {
	ID                                    int64
	Status, Rule, Platform, When, Expires string
	Nickname, Comment, Reply, Parent      string
	// Reason and Why say why a claim is flagged (a draft's guardrail:
	// reject_if, draft_too_long, llm_refusal ...); Drafted names the model
	// that drafted the answer ("" when none did).
	Reason, Why, Drafted string
	Thread, History      []contextLine
}

// contextLine is one claim of a row's context.
type contextLine struct {
	When, Rule, Status, Comment, Text string
}

// getInbox lists what waits for a person.
func (c *Console) getInbox(w http.ResponseWriter, r *http.Request, s *session) {
	c.inbox(w, r, s, http.StatusOK, c.signedPage(r, s, "inbox"))
}

// inbox renders the inbox with p (its flash or error) at code.
func (c *Console) inbox(w http.ResponseWriter, r *http.Request, s *session, code int, p *page) {
	ctx, cancel := context.WithTimeout(r.Context(), readTimeout)
	defer cancel()
	total, err := c.opts.Reader.CountStatuses(ctx, model.StatusFlagged, model.StatusHeld)
	var rows []store.HistoryRow
	if err == nil {
		rows, err = c.opts.Reader.Inbox(ctx, inboxLimit, model.StatusFlagged, model.StatusHeld)
	}
	// Claims whose draft a model is still writing have nothing to decide
	// yet: counted, so that a person knows more are coming.
	var drafting int
	if err == nil {
		drafting, err = c.opts.Reader.CountStatuses(ctx, model.StatusDrafting)
	}
	if err != nil {
		c.fail(w, r, s, http.StatusInternalServerError, p.L.T("error.store", c.show(err.Error())))
		return
	}
	p.Title = fmt.Sprintf("(%d) %s", total, p.L.T("inbox.title"))
	data := struct {
		Rows     []inboxRow
		More     bool
		Limit    int
		Drafting int
	}{More: total > len(rows), Limit: inboxLimit, Drafting: drafting}
	// Each row's context is a few indexed reads; reading rows side by side
	// keeps the page fast on a large history (BENCHMARKS.md, "Console
	// pages").
	data.Rows = make([]inboxRow, len(rows))
	var wg sync.WaitGroup
	sem := make(chan struct{}, contextReaders)
	for i, h := range rows {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			data.Rows[i] = c.inboxRow(ctx, p.L, h)
		})
	}
	wg.Wait()
	c.render(w, r, code, "inbox", p, data)
}

// inboxRow is h with its context. A context that cannot be read is left
// out (logged): the row itself is what matters.
func (c *Console) inboxRow(ctx context.Context, l *lang, h store.HistoryRow) inboxRow {
	row := inboxRow{ID: h.ID, Status: h.Status, Rule: c.show(h.Rule), Platform: h.Platform, When: c.timeText(h.CreatedAt),
		Nickname: c.show(h.UserNickname), Comment: c.show(h.CommentText), Reply: c.show(h.ReplyText),
		Drafted: c.drafted(l, h.LLM, h.LLMModel, h.PromptTokens+h.CompletionTokens)}
	if h.Status == model.StatusFlagged {
		row.Reason, row.Why = c.show(h.Reason), c.show(h.Error)
	}
	if h.Status == model.StatusHeld && c.opts.ApprovalMaxAge > 0 && !h.CreatedAt.IsZero() {
		row.Expires = c.timeText(h.CreatedAt.Add(c.opts.ApprovalMaxAge))
	}
	tc, err := c.stats.ThreadContext(ctx, h.Platform, h.ThreadID, h.CommentID, contextLimit)
	if err != nil {
		c.log.Warn("console: cannot read a thread's context", "claim", h.ID, "err", err)
	}
	if p := tc.RepliesTo; p != nil {
		row.Parent = c.show(p.User.Nickname + ": " + p.Text)
	}
	for _, a := range tc.Answers {
		row.Thread = append(row.Thread, contextLine{When: c.timeText(a.CreatedAt), Rule: c.show(a.Rule), Status: a.Status,
			Comment: c.show(a.CommentText), Text: c.show(a.ReplyText)})
	}
	if h.UserUID != "" {
		hist, err := c.stats.UserHistory(ctx, h.Platform, h.UserUID, contextLimit+1)
		if err != nil {
			c.log.Warn("console: cannot read a user's history", "claim", h.ID, "err", err)
		}
		for _, u := range hist {
			if u.ID == h.CommentID || len(row.History) >= contextLimit {
				continue
			}
			line := contextLine{When: c.timeText(u.SeenAt), Comment: c.show(u.Text)}
			for _, cl := range u.Claims {
				line.Rule, line.Status, line.Text = c.show(cl.Rule), cl.Status, c.show(cl.ReplyText)
			}
			row.History = append(row.History, line)
		}
	}
	return row
}

// postInbox records a decision about claim {id}: approve (with the text as
// edited), reject (with a reason) or done. By is the signed-in user.
func (c *Console) postInbox(w http.ResponseWriter, r *http.Request, s *session) {
	l := c.lang(r)
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		c.fail(w, r, s, http.StatusNotFound, l.T("error.not_found"))
		return
	}
	action := r.PostFormValue("action")
	if !slices.Contains([]string{store.DecideApprove, store.DecideReject, store.DecideDone}, action) {
		c.fail(w, r, s, http.StatusBadRequest, l.T("inbox.bad_action"))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), readTimeout)
	defer cancel()
	row, err := c.opts.Store.ClaimRow(ctx, id)
	if errors.Is(err, store.ErrNoClaim) {
		c.fail(w, r, s, http.StatusNotFound, l.T("error.not_found"))
		return
	}
	if err != nil {
		c.fail(w, r, s, http.StatusInternalServerError, l.T("error.store", c.show(err.Error())))
		return
	}
	d := store.Decision{Action: action, By: s.user, MaxAge: c.opts.ApprovalMaxAge}
	p := c.signedPage(r, s, "inbox")
	switch action {
	case store.DecideApprove:
		text := answer.Trim(r.PostFormValue("text"))
		// The proposed answer as it was: approved as written, not edited.
		if text != row.ReplyText && row.Status == model.StatusHeld {
			if err := answer.Check(c.opts.Responders[row.Responder], row, text); err != nil {
				p.Error = l.T("inbox.invalid", c.show(err.Error()))
				c.inbox(w, r, s, http.StatusUnprocessableEntity, p)
				return
			}
			d.Text = text
		}
	case store.DecideReject:
		d.Note = answer.Trim(r.PostFormValue("reason"))
		if err := answer.CheckForm(d.Note); d.Note != "" && err != nil {
			p.Error = l.T("inbox.invalid", err.Error())
			c.inbox(w, r, s, http.StatusUnprocessableEntity, p)
			return
		}
	}
	_, _, err = c.opts.Store.Decide(ctx, id, d, c.now())
	var flash string
	switch {
	case errors.Is(err, store.ErrExpired):
		flash = l.T("inbox.expired", id)
	case errors.Is(err, store.ErrNotDecidable):
		p.Error = l.T("inbox.not_decidable", c.show(err.Error()))
		c.inbox(w, r, s, http.StatusConflict, p)
		return
	case err != nil:
		c.fail(w, r, s, http.StatusInternalServerError, l.T("error.store", c.show(err.Error())))
		return
	case action == store.DecideApprove && d.Text != "":
		flash = l.T("inbox.approved_edited", id)
	case action == store.DecideApprove:
		flash = l.T("inbox.approved", id)
	case action == store.DecideReject:
		flash = l.T("inbox.rejected", id)
	default:
		flash = l.T("inbox.handled", id)
	}
	c.log.Info("console decision", "user", s.user, "claim", id, "action", action, "edited", d.Text != "", "err", err)
	c.auth.setFlash(s, flash)
	http.Redirect(w, r, "/ui/inbox", http.StatusSeeOther)
}

// ruleRow is one rule as the rules page shows it.
type ruleRow struct {
	Name, Description, Where string
	Day, Week                string
	Chart                    any
	Never                    bool
	// Errors are the rule's run-time errors since the start.
	Errors int
}

// getRules lists the live rules with their counts over 24 hours and 7
// days, a daily chart, and the last reload's outcome.
func (c *Console) getRules(w http.ResponseWriter, r *http.Request, s *session) {
	p := c.signedPage(r, s, "rules")
	l := p.L
	ctx, cancel := context.WithTimeout(r.Context(), readTimeout)
	defer cancel()
	now := c.now()
	day, err := c.stats.RuleStats(ctx, now.Add(-24*time.Hour), now, time.Hour)
	var week []store.RuleStat
	if err == nil {
		// Whole local days, today last: the chart's seven bars.
		y, m, d := now.In(c.opts.Location).Date()
		start := time.Date(y, m, d, 0, 0, 0, 0, c.opts.Location).AddDate(0, 0, -6)
		week, err = c.stats.RuleStats(ctx, start, now, 24*time.Hour)
	}
	if err != nil {
		c.fail(w, r, s, http.StatusInternalServerError, l.T("error.store", c.show(err.Error())))
		return
	}
	index := func(rs []store.RuleStat) map[string]store.RuleStat {
		m := map[string]store.RuleStat{}
		for _, x := range rs {
			m[x.Rule] = x
		}
		return m
	}
	dayBy, weekBy := index(day), index(week)
	// RuleStats lists every rule with a claim in the whole history: one
	// missing never matched (or its claims were pruned).
	matched := map[string]bool{}
	for _, x := range week {
		matched[x.Rule] = true
	}
	var days []string
	y, m, dd := now.In(c.opts.Location).Date()
	for i := 6; i >= 0; i-- {
		days = append(days, time.Date(y, m, dd-i, 0, 0, 0, 0, c.opts.Location).Format("01-02"))
	}
	counts := func(x store.RuleStat) string {
		skipped := 0
		var reasons []string
		for _, reason := range slices.Sorted(maps.Keys(x.Skipped)) {
			skipped += x.Skipped[reason]
			reasons = append(reasons, fmt.Sprintf("%s %d", reason, x.Skipped[reason]))
		}
		out := l.T("rules.counts", x.Claims, x.Answered(), skipped, x.ByStatus[model.StatusHeld],
			x.ByStatus[model.StatusFlagged], x.ByStatus[model.StatusFailed])
		if len(reasons) > 0 {
			out += " (" + strings.Join(reasons, ", ") + ")"
		}
		return out
	}
	var st Status
	if c.opts.Status != nil {
		st = c.opts.Status(ctx)
	}
	data := struct {
		Rows                []ruleRow
		Reload, ReloadClass string
		ReloadErrors        []string
	}{}
	for _, ri := range c.opts.Rules().Rules() {
		wk := weekBy[ri.Name]
		row := ruleRow{Name: ri.Name, Description: ri.Description, Where: fmt.Sprintf("%s:%d", filepath.Base(ri.File), ri.Line),
			Day: counts(dayBy[ri.Name]), Week: counts(wk), Chart: chart.Bars(wk.Series, days, 0, 0),
			Never: !matched[ri.Name]}
		data.Rows = append(data.Rows, row)
	}
	for i := range data.Rows {
		data.Rows[i].Errors = st.RuleErrors[data.Rows[i].Name]
	}
	switch rl := st.Reload; {
	case rl.At.IsZero():
		data.Reload, data.ReloadClass = l.T("rules.reload_none"), "none"
	case rl.Err != "":
		data.Reload, data.ReloadClass = l.T("rules.reload_failed", c.timeText(rl.At)), "failed"
		data.ReloadErrors = strings.Split(c.show(rl.Err), "\n")
	case rl.Changed:
		data.Reload, data.ReloadClass = l.T("rules.reload_ok", c.timeText(rl.At)), "ok"
	default:
		data.Reload, data.ReloadClass = l.T("rules.reload_same", c.timeText(rl.At)), "ok"
	}
	c.render(w, r, http.StatusOK, "rules", p, data)
}

// healthRow is one source, responder or channel on the health page.
type healthRow struct {
	Kind, KindText, Name, State, Class string
	Detail                             []string
}

// getHealth shows the sources and responders with their pauses, the last
// cycle, the API calls today and the notification channels.
func (c *Console) getHealth(w http.ResponseWriter, r *http.Request, s *session) {
	p := c.signedPage(r, s, "health")
	l := p.L
	ctx, cancel := context.WithTimeout(r.Context(), readTimeout)
	defer cancel()
	var st Status
	if c.opts.Status != nil {
		st = c.opts.Status(ctx)
	}
	data := struct {
		Problems   []string
		Cycle      string
		CallsToday int
		Rows       []healthRow
	}{CallsToday: st.CallsToday, Cycle: l.T("health.no_cycle")}
	for _, pr := range st.Problems {
		data.Problems = append(data.Problems, c.show(pr))
	}
	if !st.LastCycle.IsZero() {
		cy := st.Cycle
		data.Cycle = l.T("health.cycle_detail", c.timeText(st.LastCycle), cy.Polled, cy.Calls, cy.New, cy.Sent, cy.Errors)
	}
	section := func(kind, name string) healthRow {
		row := healthRow{Kind: kind, KindText: l.T("health." + kind), Name: name, State: l.T("health.ok"), Class: "ok"}
		for _, ps := range st.Pauses {
			if ps.Scope != kind+":"+name {
				continue
			}
			row.State, row.Class = l.T("health.paused")+" ("+ps.Kind+")", "paused"
			d := c.show(ps.Reason)
			if !ps.Until.IsZero() {
				d += " · " + l.T("health.until", c.timeText(ps.Until))
			}
			row.Detail = append(row.Detail, d)
		}
		return row
	}
	for _, n := range st.Sources {
		data.Rows = append(data.Rows, section("source", n))
	}
	for _, n := range st.Responders {
		data.Rows = append(data.Rows, section("responder", n))
	}
	for _, ch := range st.Channels {
		row := healthRow{Kind: "channel", KindText: l.T("health.channel"), Name: ch.Name, State: l.T("health.ok"), Class: "ok"}
		if !ch.Healthy {
			row.State, row.Class = l.T("health.failing"), "failing"
			if ch.FixConfig {
				row.State += " · " + l.T("health.fix_config")
			}
		}
		if ch.LastError != "" {
			row.Detail = append(row.Detail, c.show(ch.LastError))
		}
		if ch.Queued > 0 {
			row.Detail = append(row.Detail, l.T("health.queued", ch.Queued))
		}
		data.Rows = append(data.Rows, row)
	}
	c.render(w, r, http.StatusOK, "health", p, data)
}

// platforms are the platforms a comment can come from, for the filters.
func (*Console) platforms() []string {
	return platform.Platforms()
}

// playgroundData is the playground's form and verdicts.
type playgroundData struct {
	Text, Nickname, Labels, Time, Rules, Platform string
	Platforms                                     []string
	// CanDraft: the daemon has model endpoints, so the form offers to ask
	// them (Draft: it was asked to).
	CanDraft, Draft bool
	Explained       bool
	Lines           []explain.Line
	Outcome         []string
	// Drafts are the drafting rules' requests and answers, when asked.
	Drafts []playDraft
}

// playground explains a made-up comment with the rules in the form
// (prefilled with the live rules' YAML): each rule's verdict in the words
// of `autoreplyd explain`. Nothing is saved.
func (c *Console) playground(w http.ResponseWriter, r *http.Request, s *session) {
	p := c.signedPage(r, s, "playground")
	l := p.L
	d := playgroundData{Platforms: c.platforms(), Platform: model.PlatformDouyin, CanDraft: len(c.opts.LLM) > 0}
	// A GET with a text (a live decision's link) evaluates it under the
	// live rules; nothing is saved either way.
	if r.Method != http.MethodPost && r.URL.Query().Get("text") == "" {
		d.Rules = c.liveRulesYAML()
		c.render(w, r, http.StatusOK, "playground", p, d)
		return
	}
	d.Text, d.Nickname, d.Labels = r.FormValue("text"), r.FormValue("nickname"), r.FormValue("labels")
	d.Time, d.Rules = r.FormValue("time"), r.FormValue("rules")
	if r.Method != http.MethodPost {
		d.Rules = c.liveRulesYAML()
	}
	// Only a POST (CSRF-checked) spends tokens: a link cannot.
	d.Draft = d.CanDraft && r.Method == http.MethodPost && r.PostFormValue("draft") == "1"
	if pl := r.FormValue("platform"); slices.Contains(d.Platforms, pl) {
		d.Platform = pl
	}
	loc := c.opts.Location
	now := c.now().In(loc)
	cm := model.Comment{Platform: d.Platform, ID: "playground", ReplyToID: "0", Text: d.Text, CreatedAt: now,
		User: model.User{Nickname: d.Nickname, UID: "playground"}}
	for _, line := range strings.Split(d.Labels, "\n") {
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || strings.TrimSpace(k) == "" {
			p.Error = l.T("play.bad_label", line)
			c.render(w, r, http.StatusUnprocessableEntity, "playground", p, d)
			return
		}
		if cm.Labels == nil {
			cm.Labels = map[string]string{}
		}
		cm.Labels[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	if t := strings.TrimSpace(d.Time); t != "" {
		at, err := ruletest.ParseTime(t, loc)
		if err != nil {
			p.Error = l.T("play.bad_time", err.Error())
			c.render(w, r, http.StatusUnprocessableEntity, "playground", p, d)
			return
		}
		cm.CreatedAt = at.In(loc)
	}
	set, ok := c.loadFormRules(p, d.Rules)
	if !ok {
		c.render(w, r, http.StatusUnprocessableEntity, "playground", p, d)
		return
	}
	d.Explained = true
	verdicts := set.Explain(cm, now)
	d.Lines, d.Outcome = explain.Explain(set.Rules(), verdicts, now)
	if d.Draft {
		d.Drafts = c.playDrafts(r.Context(), l, s.user, set, verdicts, cm, now)
	}
	c.render(w, r, http.StatusOK, "playground", p, d)
}

// formRulesFile is the name the rules of a form load under, beside the
// live rules (see formRulesName).
const formRulesFile = "console.yaml"

// formRulesName is where the rules of a form load as from: a file in the
// live rules' directory, so that a relative draft.context_file is the file
// the live rule reads.
func (c *Console) formRulesName() string {
	dir := c.opts.RulesPath
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		dir = filepath.Dir(dir)
	}
	return filepath.Join(dir, formRulesFile)
}

// loadFormRules loads the rules of a form; when they do not load, p's
// error lists the problems. A draft.context_file must be one the live
// rules use: the playground shows and sends a context file's text, and a
// console user may not read the daemon's other files (its keys among
// them) that way.
func (c *Console) loadFormRules(p *page, yamlText string) (*rules.Set, bool) {
	name := c.formRulesName()
	set, err := rules.LoadBytes(name, []byte(yamlText), rules.Options{Location: c.opts.Location})
	var problems []string
	if err != nil {
		problems = strings.Split(strings.TrimRight(c.show(err.Error()), "\n"), "\n")
	} else {
		live := map[string]bool{}
		for _, ri := range c.opts.Rules().Rules() {
			if ri.Draft != nil && ri.Draft.ContextFile != "" {
				live[ri.Draft.ContextFile] = true
			}
		}
		for _, ri := range set.Rules() {
			if ri.Draft != nil && ri.Draft.ContextFile != "" && !live[ri.Draft.ContextFile] {
				problems = append(problems, c.show(p.L.T("play.context_file", formRulesFile, ri.Line, ri.Name, ri.Draft.ContextFile)))
			}
		}
	}
	if len(problems) > 0 {
		p.Error = p.L.T("play.bad_rules")
		for i := range problems {
			// The positions name the form, not a file in the rules'
			// directory.
			problems[i] = strings.ReplaceAll(problems[i], name, formRulesFile)
		}
		p.Errors = problems
		return nil, false
	}
	return set, true
}

// liveRulesYAML is the live rules' YAML: the rules file, or a directory's
// files merged into one rules list (in load order, comments kept).
func (c *Console) liveRulesYAML() string {
	path := c.opts.RulesPath
	fi, err := os.Stat(path)
	if err != nil {
		return ""
	}
	if !fi.IsDir() {
		b, err := rules.ReadFile(path)
		if err != nil {
			return ""
		}
		return string(b)
	}
	var merged *yaml.Node // the first file's document, its rules list grown
	var list *yaml.Node
	for _, f := range c.opts.Rules().Files() {
		b, err := rules.ReadFile(f)
		if err != nil {
			continue
		}
		var doc yaml.Node
		if yaml.Unmarshal(b, &doc) != nil || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
			continue
		}
		m := doc.Content[0]
		for i := 0; i+1 < len(m.Content); i += 2 {
			if m.Content[i].Value != "rules" || m.Content[i+1].Kind != yaml.SequenceNode {
				continue
			}
			if merged == nil {
				merged, list = &doc, m.Content[i+1]
			} else {
				list.Content = append(list.Content, m.Content[i+1].Content...)
			}
		}
	}
	if merged == nil {
		return ""
	}
	b, err := yaml.Marshal(merged)
	if err != nil {
		return ""
	}
	return string(b)
}

// replayData is the replay page's form and outcome.
type replayData struct {
	Since, Rules      string
	Done, Truncated   bool
	Comments, Changed int
	Limit             int
	Counts            []replay.RuleCount
	Changes           []replayChange
}

type replayChange struct {
	When, User, Comment string
	Old, New            []string
}

// replayPage replays the stored comments of a period (at most 7 days)
// with the rules in the form, as `autoreplyd replay` does, within
// replayTimeout.
func (c *Console) replayPage(w http.ResponseWriter, r *http.Request, s *session) {
	p := c.signedPage(r, s, "replay")
	l := p.L
	d := replayData{Since: "24h", Limit: replayChanges}
	if r.Method != http.MethodPost {
		d.Rules = c.liveRulesYAML()
		c.render(w, r, http.StatusOK, "replay", p, d)
		return
	}
	d.Since, d.Rules = strings.TrimSpace(r.PostFormValue("since")), r.PostFormValue("rules")
	now := c.now()
	since, err := parseSince(d.Since, now, c.opts.Location)
	switch {
	case err != nil:
		p.Error = l.T("replay.bad_since", err.Error())
	case now.Sub(since) > maxReplay:
		p.Error = l.T("replay.too_long")
	}
	if p.Error != "" {
		c.render(w, r, http.StatusUnprocessableEntity, "replay", p, d)
		return
	}
	set, ok := c.loadFormRules(p, d.Rules)
	if !ok {
		c.render(w, r, http.StatusUnprocessableEntity, "replay", p, d)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), replayTimeout)
	defer cancel()
	sum, err := replay.Run(ctx, c.opts.Reader, set, replay.Options{Since: since, Until: now}, func(ch *replay.Change) error {
		if len(d.Changes) >= replayChanges {
			d.Truncated = true
			return nil
		}
		d.Changes = append(d.Changes, c.replayChange(ch))
		return nil
	})
	if err != nil {
		p.Error = l.T("replay.failed", c.show(err.Error()))
		c.render(w, r, http.StatusInternalServerError, "replay", p, d)
		return
	}
	d.Done, d.Comments, d.Changed, d.Counts = true, sum.Comments, sum.Changed, sum.Rules
	c.render(w, r, http.StatusOK, "replay", p, d)
}

// replayChange words one change as the replay command's report does.
func (c *Console) replayChange(ch *replay.Change) replayChange {
	out := replayChange{When: c.timeText(ch.SeenAt), User: c.show(ch.Comment.User.Nickname), Comment: c.show(ch.Comment.Text)}
	for _, o := range ch.Old {
		line := fmt.Sprintf("%s: %s (%s)", o.Rule, o.Kind, o.Status)
		if o.ReplyText != "" {
			line += " " + strconv.Quote(o.ReplyText)
		}
		out.Old = append(out.Old, c.show(line))
	}
	for _, n := range ch.New {
		line := fmt.Sprintf("%s: %s", n.Rule, n.Kind)
		if n.Reason != "" {
			line += " (" + n.Reason + ")"
		}
		if len(n.Replies) > 0 {
			line += " " + strconv.Quote(n.Replies[0])
		}
		out.New = append(out.New, c.show(line))
	}
	for _, e := range ch.Errors {
		out.New = append(out.New, c.show(e.Rule+": error: "+explain.OneLine(e.Err.Error())))
	}
	return out
}

// parseSince reads the replay's start: a duration ago (24h, 7d) or a time
// (2026-11-22, 2026-11-22 08:00, RFC 3339) in loc.
func parseSince(s string, now time.Time, loc *time.Location) (time.Time, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n >= 0 {
			return now.Add(-time.Duration(n) * 24 * time.Hour), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	if t, err := time.ParseInLocation(time.DateOnly, s, loc); err == nil {
		return t, nil
	}
	t, err := ruletest.ParseTime(s, loc)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q: want 24h, 7d or a date such as 2026-11-22", s)
	}
	return t, nil
}
