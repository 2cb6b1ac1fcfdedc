package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/pacing"
)

// decisionEdited is the decision note of an answer approved with a text a
// person wrote (Decide): its reply_text is no longer the rule's.
const decisionEdited = "edited"

// ReplayComment is a comment the daemon evaluated, as it saw it, with the
// claims it recorded about it: what `autoreplyd replay` evaluates again.
type ReplayComment struct {
	// Comment is the comment as stored, with the labels its thread has in
	// the threads table. Likes, level, author_liked, reply_to_user,
	// user.region and user.verified are not stored: they are zero. The
	// Labels map may be shared with other comments of the thread: read it
	// only.
	Comment model.Comment
	// SeenAt is when the daemon recorded and evaluated the comment.
	SeenAt time.Time
	// Claims are the claims about it, in the order they were recorded;
	// none when no rule acted.
	Claims []ReplayClaim
}

// ReplayClaim is one claim about a replayed comment.
type ReplayClaim struct {
	ID        int64
	Rule      string
	Status    string
	Reason    string
	ReplyText string
	// Decided says a person decided on the claim (approved, rejected or
	// marked done). An approved answer was held first; its status is now
	// its send's.
	Decided bool
	// Edited says the answer was approved with a person's text, which
	// replaced the rule's in ReplyText.
	Edited bool
}

// ReplayComments calls fn with each comment of disposition evaluated seen
// in [since, until) (a zero bound is none), in the order they were seen,
// with its claims. Rows are read one at a time, so a period of a million
// comments takes no more memory than one. fn's error ends the walk and is
// returned as it is. The ReplayComment is reused: fn must not keep it.
func (s *Store) ReplayComments(ctx context.Context, since, until time.Time, fn func(*ReplayComment) error) error {
	where := []string{"c.disposition = ?"}
	args := []any{model.DispositionEvaluated}
	if !since.IsZero() {
		where = append(where, "c.seen_at >= ?")
		args = append(args, formatTime(since))
	}
	if !until.IsZero() {
		where = append(where, "c.seen_at < ?")
		args = append(args, formatTime(until))
	}
	// One row per claim (one without claims for a comment no rule acted
	// on), grouped by comment in the order seen.
	q := `SELECT c.platform, c.comment_id, c.thread_id, c.post_id, c.root_id, c.reply_to_id,
	        c.user_uid, c.user_nickname, c.user_unique_id, c.text, c.comment_created_at, c.seen_at,
	        coalesce(t.labels, v.labels, '{}'),
	        r.id, coalesce(r.rule, ''), coalesce(r.status, ''), coalesce(r.reason, ''), coalesce(r.reply_text, ''),
	        r.decided_at, coalesce(r.decision_note, '')
	      FROM comments c
	      LEFT JOIN threads t ON t.platform = c.platform AND t.thread_id = c.thread_id
	      LEFT JOIN threads v ON t.thread_id IS NULL AND v.platform = c.platform AND v.thread_id = 'video:' || c.post_id
	      LEFT JOIN replies r ON r.platform = c.platform AND r.comment_id = c.comment_id
	      WHERE ` + strings.Join(where, " AND ") + `
	      ORDER BY c.seen_at, c.platform, c.comment_id, r.id`
	rows, err := s.q.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("read comments to replay: %w", err)
	}
	defer rows.Close()
	labels := labelCache{}
	var cur ReplayComment
	have := false
	for rows.Next() {
		var c model.Comment
		var created, seen, decided sql.NullString
		var labelsJSON, note string
		var id sql.NullInt64
		var cl ReplayClaim
		if err := rows.Scan(&c.Platform, &c.ID, &c.ThreadID, &c.PostID, &c.RootID, &c.ReplyToID,
			&c.User.UID, &c.User.Nickname, &c.User.UniqueID, &c.Text, &created, &seen,
			&labelsJSON, &id, &cl.Rule, &cl.Status, &cl.Reason, &cl.ReplyText, &decided, &note); err != nil {
			return fmt.Errorf("read comments to replay: %w", err)
		}
		if !have || c.Platform != cur.Comment.Platform || c.ID != cur.Comment.ID {
			if have {
				if err := fn(&cur); err != nil {
					return err
				}
			}
			c.CreatedAt = readTime(created)
			c.Labels = labels.get(labelsJSON)
			cur = ReplayComment{Comment: c, SeenAt: readTime(seen), Claims: cur.Claims[:0]}
			have = true
		}
		if id.Valid {
			cl.ID = id.Int64
			cl.Decided = decided.Valid
			cl.Edited = cl.Decided && note == decisionEdited &&
				cl.Status != model.StatusRejected && cl.Status != model.StatusHandled
			cur.Claims = append(cur.Claims, cl)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read comments to replay: %w", err)
	}
	if have {
		return fn(&cur)
	}
	return nil
}

// labelCache decodes each thread's labels once: a period's comments share
// a few threads.
type labelCache map[string]map[string]string

// get decodes a labels column. A value that is not an object of strings
// (a hand edit) is no labels, as for a thread without a row: one such
// thread must not stop a replay of the others.
func (l labelCache) get(j string) map[string]string {
	if m, ok := l[j]; ok {
		return m
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(j), &m); err != nil || len(m) == 0 {
		m = nil
	}
	l[j] = m
	return m
}

// PacedAnswers calls fn with each answer of rule created in [since,
// until), oldest first: the claims pacing counts (sent, pending, unknown,
// retrying, held) and dry_run claims, as in a dry run. A replay starts its
// pacing from them: the answers before the period it replays.
func (s *Store) PacedAnswers(ctx context.Context, rule string, since, until time.Time, fn func(pacing.Answer) error) error {
	rows, err := s.q.QueryContext(ctx,
		`SELECT r.platform, r.thread_id, c.user_uid, r.created_at
		 FROM replies r JOIN comments c ON c.platform = r.platform AND c.comment_id = r.comment_id
		 WHERE r.rule = ? AND r.created_at >= ? AND r.created_at < ? AND `+statusIn("r.status", true)+`
		 ORDER BY r.created_at, r.id`,
		rule, formatTime(since), formatTime(until))
	if err != nil {
		return fmt.Errorf("read answers of rule %s: %w", rule, err)
	}
	defer rows.Close()
	for rows.Next() {
		a := pacing.Answer{Rule: rule}
		var created sql.NullString
		if err := rows.Scan(&a.Platform, &a.ThreadID, &a.UserUID, &created); err != nil {
			return fmt.Errorf("read answers of rule %s: %w", rule, err)
		}
		if a.At = readTime(created); a.At.IsZero() {
			continue // unreadable: it cannot be placed in time
		}
		if err := fn(a); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read answers of rule %s: %w", rule, err)
	}
	return nil
}
