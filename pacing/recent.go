package pacing

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/autoreplyd/autoreplyd/rules"
)

// sweepEvery is how many answers of a rule are added between two sweeps of
// its per-user and per-thread answers: a user or thread answered once and
// never again would otherwise be kept for the whole run. Each sweep walks
// every key of the rule, so sweeping this rarely keeps its cost per answer
// small while the memory stays within a few thousand stale keys.
const sweepEvery = 4096

// Recent is an in-memory History fed answers in time order, as a replay of
// past comments decides them. It keeps a rule's answers only while the
// rule's pacing can still count them (Span), so what it holds is bounded by
// the answers within that span, however long the run. Not safe for
// concurrent use.
type Recent struct {
	rules map[string]*recentRule
}

type recentRule struct {
	span     time.Duration
	all      []time.Time // every answer, for limits
	platform map[string][]time.Time
	user     map[recentKey][]time.Time
	thread   map[recentKey][]time.Time
	adds     int // since the last sweep
}

// recentKey is a user or a thread of a platform.
type recentKey struct{ platform, id string }

// Span is how far back the pacing p looks into the history: its longest
// cooldown, an hour for an hourly limit, a day for a daily one. 0 means no
// history is needed (no pacing, or active windows only).
func Span(p rules.Pacing) time.Duration {
	span := max(p.CooldownUser, p.CooldownThread)
	if p.LimitHour > 0 {
		span = max(span, time.Hour)
	}
	if p.LimitDay > 0 {
		span = max(span, 24*time.Hour)
	}
	return span
}

// NewRecent is an empty Recent for the rules rs. It keeps the answers of
// the rules whose pacing counts history and no others: nothing asks for
// them.
func NewRecent(rs []rules.RuleInfo) *Recent {
	r := &Recent{rules: map[string]*recentRule{}}
	for _, ri := range rs {
		if span := Span(ri.Pacing); span > 0 {
			r.rules[ri.Name] = &recentRule{span: span, platform: map[string][]time.Time{},
				user: map[recentKey][]time.Time{}, thread: map[recentKey][]time.Time{}}
		}
	}
	return r
}

// Add records answer a. Answers come in time order; an earlier one than
// the rule's latest is put in its place, but answers older than the span
// before the latest one may already be forgotten.
func (r *Recent) Add(a Answer) {
	rr := r.rules[a.Rule]
	if rr == nil {
		return
	}
	cutoff := a.At.Add(-rr.span)
	rr.all = insertTime(rr.all, a.At, cutoff)
	rr.platform[a.Platform] = insertTime(rr.platform[a.Platform], a.At, cutoff)
	if a.UserUID != "" {
		k := recentKey{a.Platform, a.UserUID}
		rr.user[k] = insertTime(rr.user[k], a.At, cutoff)
	}
	k := recentKey{a.Platform, a.ThreadID}
	rr.thread[k] = insertTime(rr.thread[k], a.At, cutoff)
	if rr.adds++; rr.adds >= sweepEvery {
		rr.adds = 0
		sweep(rr.platform, cutoff)
		sweep(rr.user, cutoff)
		sweep(rr.thread, cutoff)
	}
}

// insertTime adds t to the sorted ts and drops the times before cutoff.
// Dropping by reslicing lets append copy only the live times when it grows
// the array, so the old ones are freed with it.
func insertTime(ts []time.Time, t, cutoff time.Time) []time.Time {
	i, _ := slices.BinarySearchFunc(ts, cutoff, time.Time.Compare)
	ts = ts[i:]
	if n := len(ts); n == 0 || !t.Before(ts[n-1]) {
		return append(ts, t)
	}
	j, _ := slices.BinarySearchFunc(ts, t, time.Time.Compare)
	return slices.Insert(ts, j, t)
}

// sweep forgets the keys whose latest answer is before cutoff.
func sweep[K comparable](m map[K][]time.Time, cutoff time.Time) {
	for k, ts := range m {
		if len(ts) == 0 || ts[len(ts)-1].Before(cutoff) {
			delete(m, k)
		}
	}
}

// Answers counts the answers of q.Rule at or after q.Since. It answers the
// queries Check asks: a rule's answers to a user or in a thread of a
// platform, on a platform (a thread cooldown of a comment without a thread
// id), or all of them; a user and a thread at once, or either without a
// platform, is an error.
func (r *Recent) Answers(_ context.Context, q Query) (int, error) {
	rr := r.rules[q.Rule]
	if rr == nil {
		return 0, nil
	}
	var ts []time.Time
	switch {
	case q.UserUID != "" && q.ThreadID == "" && q.Platform != "":
		ts = rr.user[recentKey{q.Platform, q.UserUID}]
	case q.ThreadID != "" && q.UserUID == "" && q.Platform != "":
		ts = rr.thread[recentKey{q.Platform, q.ThreadID}]
	case q.UserUID == "" && q.ThreadID == "" && q.Platform != "":
		ts = rr.platform[q.Platform]
	case q.UserUID == "" && q.ThreadID == "" && q.Platform == "":
		ts = rr.all
	default:
		return 0, fmt.Errorf("count recent answers of rule %s: a query by platform %q, user %q and thread %q is not supported",
			q.Rule, q.Platform, q.UserUID, q.ThreadID)
	}
	i, _ := slices.BinarySearchFunc(ts, q.Since, time.Time.Compare)
	return len(ts) - i, nil
}

var _ History = (*Recent)(nil)
