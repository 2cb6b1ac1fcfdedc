package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/autoreplyd/autoreplyd/model"
)

// StatsFilter selects the claims Stats counts. Zero fields do not filter.
type StatsFilter struct {
	Since    time.Time // created_at >= Since
	Until    time.Time // created_at < Until
	Platform string
	Rule     string
}

// UnknownDay is the Day of the claims whose created_at cannot be read; it
// sorts after every date.
const UnknownDay = "unknown"

// StatsRow is how many claims of one rule have one status (and, skipped
// ones, one reason), among those claimed on one local day.
type StatsRow struct {
	Day    string // YYYY-MM-DD of the claim's created_at in the location asked for
	Rule   string
	Status string
	// Reason is why the claims were skipped (no_reply_rule, cooldown,
	// daily_cap, ...): set for StatusSkipped only, whose reasons say what
	// kept the comments unanswered; other statuses' reasons are details of
	// a send, counted together.
	Reason string
	Count  int
}

// Statuses lists every claim status in the order reports show them: the
// outcomes of a send first, then what is still under way, then what was
// never meant to be sent; last, PersonStatuses.
var Statuses = append([]string{
	model.StatusSent, model.StatusFailed, model.StatusUnknown, model.StatusRetrying,
	model.StatusPending, model.StatusDryRun, model.StatusSkipped,
}, PersonStatuses...)

// PersonStatuses are the statuses of a person in the loop: a comment
// flagged for a person, an answer held for approval (drafting: before that,
// while a model writes it), and what a person (or approval.max_age) decided
// about them. A history without rules that flag
// or hold answers has none of them.
var PersonStatuses = []string{
	model.StatusDrafting, model.StatusFlagged, model.StatusHeld, model.StatusRejected, model.StatusExpired, model.StatusHandled,
}

// statusRank orders statuses as Statuses does; unknown values sort last.
func statusRank(s string) int {
	if i := slices.Index(Statuses, s); i >= 0 {
		return i
	}
	return len(Statuses)
}

// statsMinute is the prefix of TimeLayout down to the minute: SQLite groups
// by it, Go then maps each minute to its local day. Every time zone's offset
// is a whole number of minutes, so a minute never straddles two local days,
// daylight saving time included; the rows Go sees number at most the minutes
// in which something was claimed, per rule and status, whatever the volume.
const statsMinute = "2006-01-02T15:04"

// Stats counts the claims f selects by local day (in loc; nil is UTC), rule,
// status and (skipped claims) reason, ordered by day, rule, status as in
// Statuses, then reason. It only
// reads, so it works on a store opened with OpenReadOnly while the daemon
// runs.
func (s *Store) Stats(ctx context.Context, f StatsFilter, loc *time.Location) ([]StatsRow, error) {
	if loc == nil {
		loc = time.UTC
	}
	var where []string
	var args []any
	if !f.Since.IsZero() {
		where = append(where, "created_at >= ?")
		args = append(args, formatTime(f.Since))
	}
	if !f.Until.IsZero() {
		where = append(where, "created_at < ?")
		args = append(args, formatTime(f.Until))
	}
	if f.Platform != "" {
		where = append(where, "platform = ?")
		args = append(args, f.Platform)
	}
	if f.Rule != "" {
		where = append(where, "rule = ?")
		args = append(args, f.Rule)
	}
	q := `SELECT substr(created_at, 1, 16) AS minute, rule, status,
	        CASE WHEN status = 'skipped' THEN reason ELSE '' END AS why, count(*) FROM replies`
	if len(where) > 0 {
		//nolint:gosec // G202: where holds fixed conditions with ? placeholders; the values are bound
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " GROUP BY minute, rule, status, why"
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("query stats: %w", err)
	}
	defer rows.Close()

	type key struct{ day, rule, status, reason string }
	counts := make(map[key]int)
	// Consecutive rows mostly share their minute: parse it once.
	var lastMinute, lastDay string
	for rows.Next() {
		var minute, rule, status, reason string
		var n int
		if err := rows.Scan(&minute, &rule, &status, &reason, &n); err != nil {
			return nil, fmt.Errorf("query stats: %w", err)
		}
		if minute != lastMinute {
			lastMinute, lastDay = minute, UnknownDay
			// An unreadable created_at (a row of an older version) is
			// counted on no day rather than failing the report.
			if t, err := time.Parse(statsMinute, minute); err == nil {
				lastDay = t.In(loc).Format(time.DateOnly)
			}
		}
		counts[key{lastDay, rule, status, reason}] += n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query stats: %w", err)
	}
	out := make([]StatsRow, 0, len(counts))
	for k, n := range counts {
		out = append(out, StatsRow{Day: k.day, Rule: k.rule, Status: k.status, Reason: k.reason, Count: n})
	}
	slices.SortFunc(out, func(a, b StatsRow) int {
		return cmp.Or(cmp.Compare(a.Day, b.Day), cmp.Compare(a.Rule, b.Rule),
			cmp.Compare(statusRank(a.Status), statusRank(b.Status)), cmp.Compare(a.Status, b.Status), cmp.Compare(a.Reason, b.Reason))
	})
	return out, nil
}
