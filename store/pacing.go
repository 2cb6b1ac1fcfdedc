package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/pacing"
)

// answeredStatuses are the statuses of a claim that was or may have been
// sent: what pacing and reply variants count as an answer. A held answer
// may be approved and sent: it counts too, and so does one a model is still
// drafting.
var answeredStatuses = []string{model.StatusSent, model.StatusPending, model.StatusUnknown, model.StatusRetrying, model.StatusHeld,
	model.StatusDrafting}

// statusIn renders "status IN (...)" over the answered statuses (and
// dry_run when includeDryRun) for column col. The statuses are constants,
// so they are inlined.
func statusIn(col string, includeDryRun bool) string {
	ss := answeredStatuses
	if includeDryRun {
		ss = append(ss[:len(ss):len(ss)], model.StatusDryRun)
	}
	return col + " IN ('" + strings.Join(ss, "', '") + "')"
}

// Answers counts the answers (claims sent, pending, unknown or retrying)
// rule q.Rule gave since q.Since, optionally only on q.Platform, to
// q.UserUID or in q.ThreadID. Dry-run claims are not answers here; see
// PacingHistory. *Store is a pacing.History.
func (s *Store) Answers(ctx context.Context, q pacing.Query) (int, error) {
	return s.answers(ctx, q, false)
}

// PacingHistory is the store as a pacing.History; with includeDryRun the
// dry_run claims count as answers too, so a dry run paces like the real
// thing.
func (s *Store) PacingHistory(includeDryRun bool) pacing.History {
	return pacingHistory{s: s, dryRun: includeDryRun}
}

type pacingHistory struct {
	s      *Store
	dryRun bool
}

func (h pacingHistory) Answers(ctx context.Context, q pacing.Query) (int, error) {
	return h.s.answers(ctx, q, h.dryRun)
}

func (s *Store) answers(ctx context.Context, q pacing.Query, includeDryRun bool) (int, error) {
	var b strings.Builder
	args := []any{}
	switch {
	case q.UserUID != "" && q.Platform != "":
		// CROSS JOIN keeps comments the outer loop: the user's comments
		// (comments_user), then each one's claim by the rule (the unique
		// (platform, comment_id, rule)), however busy the rule is.
		b.WriteString(`SELECT count(*) FROM comments c CROSS JOIN replies r
		 ON r.platform = c.platform AND r.comment_id = c.comment_id`)
	case q.UserUID != "":
		// A uid on any platform: the rule's recent claims (replies_rule).
		b.WriteString(`SELECT count(*) FROM replies r
		 JOIN comments c ON c.platform = r.platform AND c.comment_id = r.comment_id`)
	default:
		b.WriteString(`SELECT count(*) FROM replies r`)
	}
	b.WriteString(` WHERE r.rule = ? AND r.created_at >= ? AND ` + statusIn("r.status", includeDryRun))
	args = append(args, q.Rule, formatTime(q.Since))
	if q.Platform != "" {
		b.WriteString(` AND r.platform = ?`)
		args = append(args, q.Platform)
	}
	if q.UserUID != "" {
		b.WriteString(` AND c.user_uid = ?`)
		args = append(args, q.UserUID)
		if q.Platform != "" {
			b.WriteString(` AND c.platform = ?`)
			args = append(args, q.Platform)
		}
	}
	if q.ThreadID != "" {
		b.WriteString(` AND r.thread_id = ?`)
		args = append(args, q.ThreadID)
	}
	var n int
	if err := s.q.QueryRowContext(ctx, b.String(), args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count answers of rule %s: %w", q.Rule, err)
	}
	return n, nil
}

// RecentReplyTexts returns the reply texts of responder's last n answers
// (claims sent, pending, unknown or retrying, and dry_run with
// includeDryRun), newest first; nil when n <= 0. Reply variants avoid them.
func (s *Store) RecentReplyTexts(ctx context.Context, responder string, n int, includeDryRun bool) ([]string, error) {
	if n <= 0 {
		return nil, nil
	}
	rows, err := s.q.QueryContext(ctx,
		`SELECT reply_text FROM replies WHERE responder = ? AND `+statusIn("status", includeDryRun)+`
		 ORDER BY created_at DESC, id DESC LIMIT ?`, responder, n)
	if err != nil {
		return nil, fmt.Errorf("recent reply texts of %s: %w", responder, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, fmt.Errorf("recent reply texts of %s: %w", responder, err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("recent reply texts of %s: %w", responder, err)
	}
	return out, nil
}

var _ pacing.History = (*Store)(nil)
