package console

import (
	"context"
	"fmt"
	"html/template"
	"strings"
	"time"

	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/store"
)

// Stats are the read queries of the rules page and the inbox's context.
// The daemon passes an implementation over its store; StoreStats is one
// built on the store's general queries.
type Stats interface {
	// RuleStats counts each rule's claims created in [since, until), with
	// a series of counts per bucket (oldest first) for its chart.
	RuleStats(ctx context.Context, since, until time.Time, bucket time.Duration) ([]RuleStat, error)
	// ThreadContext is what surrounds a claim's comment: the comment it
	// replies to and our earlier answers in its thread (newest first, at
	// most limit).
	ThreadContext(ctx context.Context, platform, threadID, commentID string, limit int) (ThreadContext, error)
	// UserHistory is a user's earlier comments and what became of them,
	// newest first, at most limit.
	UserHistory(ctx context.Context, platform, uid string, limit int) ([]store.HistoryRow, error)
}

// RuleStat is one rule's claims in a period.
type RuleStat struct {
	Rule string
	// ByStatus counts the claims by status (model.Status*); Skipped the
	// skipped ones by reason.
	ByStatus map[string]int
	Skipped  map[string]int
	// Series counts the claims per bucket, oldest first.
	Series []int
	// LastMatched is the rule's latest claim ever (zero: none known).
	LastMatched time.Time
}

// Total is every claim of the rule in the period.
func (r RuleStat) Total() int {
	n := 0
	for _, c := range r.ByStatus {
		n += c
	}
	return n
}

// ThreadContext is a comment's thread as far as the history knows it.
type ThreadContext struct {
	// Parent is the text of the comment it replies to ("" when unknown).
	Parent string
	// Answers are our claims in the thread, newest first.
	Answers []store.HistoryRow
}

// StoreStats implements Stats with the store's general queries (History
// and Stats). Its counts are by local day: a bucket other than 24h gets no
// series; it knows no parent comment, no user history, and takes a rule's
// last match to be its latest claim in the period asked for.
type StoreStats struct {
	Store    *store.Store
	Location *time.Location
}

// RuleStats implements Stats.
func (s StoreStats) RuleStats(ctx context.Context, since, until time.Time, bucket time.Duration) ([]RuleStat, error) {
	rows, err := s.Store.Stats(ctx, store.StatsFilter{Since: since, Until: until}, s.Location)
	if err != nil {
		return nil, err
	}
	days := map[string]int{}
	var dayKeys []string
	if bucket == 24*time.Hour {
		for d := since.In(s.Location); d.Before(until); d = d.AddDate(0, 0, 1) {
			k := d.Format(time.DateOnly)
			days[k] = len(dayKeys)
			dayKeys = append(dayKeys, k)
		}
	}
	byRule := map[string]*RuleStat{}
	var out []*RuleStat
	for _, r := range rows {
		rs := byRule[r.Rule]
		if rs == nil {
			rs = &RuleStat{Rule: r.Rule, ByStatus: map[string]int{}, Skipped: map[string]int{}}
			if dayKeys != nil {
				rs.Series = make([]int, len(dayKeys))
			}
			byRule[r.Rule] = rs
			out = append(out, rs)
		}
		rs.ByStatus[r.Status] += r.Count
		if r.Status == model.StatusSkipped {
			rs.Skipped[r.Reason] += r.Count
		}
		if i, ok := days[r.Day]; ok {
			rs.Series[i] += r.Count
		}
		if t, err := time.ParseInLocation(time.DateOnly, r.Day, s.Location); err == nil && t.After(rs.LastMatched) {
			rs.LastMatched = t
		}
	}
	res := make([]RuleStat, len(out))
	for i, r := range out {
		res[i] = *r
	}
	return res, nil
}

// ThreadContext implements Stats: our claims in the thread.
func (s StoreStats) ThreadContext(ctx context.Context, platform, threadID, _ string, limit int) (ThreadContext, error) {
	rows, err := s.Store.History(ctx, store.Filter{Platform: platform, Thread: threadID, Statuses: []string{model.StatusSent}, Limit: limit})
	return ThreadContext{Answers: rows}, err
}

// UserHistory implements Stats: the store's general queries cannot select
// by user, so there is none.
func (StoreStats) UserHistory(context.Context, string, string, int) ([]store.HistoryRow, error) {
	return nil, nil
}

// barChart is a small SVG bar chart of series: numbers only (the labels
// are the title's), so nothing in it comes from a user.
func barChart(series []int, title string) template.HTML {
	const w, h, gap = 84, 24, 2
	if len(series) == 0 {
		return ""
	}
	top := 1
	for _, v := range series {
		top = max(top, v)
	}
	bw := (w - gap*(len(series)-1)) / len(series)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg role="img" width="%d" height="%d" viewBox="0 0 %d %d"><title>%s</title>`, w, h, w, h, template.HTMLEscapeString(title))
	for i, v := range series {
		bh := v * h / top
		if v > 0 && bh == 0 {
			bh = 1
		}
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d"></rect>`, i*(bw+gap), h-bh, bw, bh)
	}
	b.WriteString(`</svg>`)
	//nolint:gosec // G203: the markup is built above from numbers and an escaped title
	return template.HTML(b.String())
}
