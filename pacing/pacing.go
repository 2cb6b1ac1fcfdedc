// Package pacing decides whether a rule may answer a comment now, given the
// rule's cooldowns, limits and active windows and the history of answers.
// The daemon asks the SQLite history (so pacing survives restarts); the
// `autoreplyd test` command asks a made-up one.
package pacing

import (
	"context"
	"time"

	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/rules"
)

// Reasons a comment held back by pacing is recorded skipped with.
const (
	ReasonCooldown = "cooldown" // the rule answered this person or thread too recently
	ReasonLimit    = "limit"    // the rule reached its hourly or daily limit
	ReasonInactive = "inactive" // outside the rule's active windows
)

// Query asks how many answers a rule gave since a time, optionally to one
// user or in one thread.
type Query struct {
	Rule     string
	Platform string
	UserUID  string // "" = any user
	ThreadID string // "" = any thread
	Since    time.Time
}

// History counts past answers. An answer is a claim that was or may have
// been sent (sent, pending, unknown, retrying, held for approval), and dry_run claims when the
// daemon runs dry, so a dry run paces like the real thing.
type History interface {
	Answers(ctx context.Context, q Query) (int, error)
}

// Check returns the reason the rule must not answer c at now ("" when it
// may). The cheap checks come first: the active window needs no history.
func Check(ctx context.Context, h History, rule string, p rules.Pacing, c model.Comment, now time.Time) (string, error) {
	if p.IsZero() {
		return "", nil
	}
	if !p.ActiveAt(now) {
		return ReasonInactive, nil
	}
	if p.CooldownUser > 0 && c.User.UID != "" {
		n, err := h.Answers(ctx, Query{Rule: rule, Platform: c.Platform, UserUID: c.User.UID, Since: now.Add(-p.CooldownUser)})
		if err != nil {
			return "", err
		}
		if n > 0 {
			return ReasonCooldown, nil
		}
	}
	if p.CooldownThread > 0 {
		n, err := h.Answers(ctx, Query{Rule: rule, Platform: c.Platform, ThreadID: c.ThreadID, Since: now.Add(-p.CooldownThread)})
		if err != nil {
			return "", err
		}
		if n > 0 {
			return ReasonCooldown, nil
		}
	}
	for _, l := range []struct {
		n   int
		per time.Duration
	}{{p.LimitHour, time.Hour}, {p.LimitDay, 24 * time.Hour}} {
		if l.n <= 0 {
			continue
		}
		n, err := h.Answers(ctx, Query{Rule: rule, Since: now.Add(-l.per)})
		if err != nil {
			return "", err
		}
		if n >= l.n {
			return ReasonLimit, nil
		}
	}
	return "", nil
}

// Answer is one past answer of a made-up history.
type Answer struct {
	Rule     string
	Platform string
	UserUID  string
	ThreadID string
	At       time.Time
}

// Memory is an in-memory History, for rule tests and for answers decided
// earlier in the same batch.
type Memory []Answer

// Answers counts the matching answers.
func (m Memory) Answers(_ context.Context, q Query) (int, error) {
	n := 0
	for _, a := range m {
		if a.Rule != q.Rule || a.At.Before(q.Since) {
			continue
		}
		if q.Platform != "" && a.Platform != q.Platform {
			continue
		}
		if q.UserUID != "" && a.UserUID != q.UserUID {
			continue
		}
		if q.ThreadID != "" && a.ThreadID != q.ThreadID {
			continue
		}
		n++
	}
	return n, nil
}
