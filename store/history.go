package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// Filter selects history rows. Zero fields do not filter; Limit 0 returns
// every row.
type Filter struct {
	Since  time.Time // created_at >= Since
	Until  time.Time // created_at < Until
	Rule   string
	Status string
	// Statuses selects any of these statuses (with Status, either).
	Statuses []string
	Platform string
	Thread   string // thread id
	// Disposition is the comment's: evaluated, backlog or self.
	Disposition string
	Limit       int
}

// HistoryRow is one handled reply (a claim) with the comment it answers.
type HistoryRow struct {
	ID               int64
	Platform         string
	CommentID        string
	ThreadID         string
	PostID           string
	Rule             string
	Responder        string
	Status           string
	Reason           string
	Error            string
	ReplyText        string
	CommentText      string
	UserUID          string
	UserNickname     string
	UserUniqueID     string
	PlatformReplyID  string
	Attempts         int
	CommentCreatedAt time.Time // zero when the platform did not say
	CreatedAt        time.Time
	UpdatedAt        time.Time
	NextAttemptAt    time.Time // zero unless retrying
	// DecidedBy and DecidedAt say who approved, rejected or marked done a
	// held or flagged claim, and when; DecisionNote is a rejection's reason.
	DecidedBy    string
	DecidedAt    time.Time
	DecisionNote string
	// Disposition is the comment's (evaluated, backlog, self); Labels are
	// its thread's configured labels as the daemon last recorded them: a
	// JSON object, "{}" when none.
	Disposition string
	Labels      string
	// LLM is the endpoint that drafted the answer ("" when no model did),
	// DraftText the model's draft as it answered (ReplyText is what is or
	// was to be sent: the draft, or a person's edit), LLMModel the model
	// the API said answered, and the tokens it cost.
	LLM              string
	DraftText        string
	LLMModel         string
	PromptTokens     int64
	CompletionTokens int64
}

// historyCols are the replies_v columns scanHistory reads, in order.
const historyCols = `id, platform, comment_id, thread_id, post_id, rule, responder, status, reason, error,
	        reply_text, comment_text, user_uid, user_nickname, user_unique_id, platform_reply_id,
	        attempts, comment_created_at, created_at, updated_at, next_attempt_at,
	        decided_by, decided_at, decision_note, disposition, labels,
	        llm, draft_text, llm_model, prompt_tokens, completion_tokens`

// scanHistory reads one row of historyCols.
func scanHistory(sc interface{ Scan(...any) error }) (HistoryRow, error) {
	var r HistoryRow
	var commentCreated, created, updated, next, decided, draft sql.NullString
	if err := sc.Scan(&r.ID, &r.Platform, &r.CommentID, &r.ThreadID, &r.PostID, &r.Rule,
		&r.Responder, &r.Status, &r.Reason, &r.Error, &r.ReplyText, &r.CommentText,
		&r.UserUID, &r.UserNickname, &r.UserUniqueID, &r.PlatformReplyID, &r.Attempts,
		&commentCreated, &created, &updated, &next, &r.DecidedBy, &decided, &r.DecisionNote,
		&r.Disposition, &r.Labels, &r.LLM, &draft, &r.LLMModel, &r.PromptTokens, &r.CompletionTokens); err != nil {
		return HistoryRow{}, err
	}
	r.readTimes(commentCreated, created, updated, next)
	r.DecidedAt = readTime(decided)
	r.DraftText = draft.String
	return r, nil
}

// readTimes sets r's times from their columns; an unreadable one is
// unknown (zero), shown as such, and never fails the query.
func (r *HistoryRow) readTimes(commentCreated, created, updated, next sql.NullString) {
	r.CommentCreatedAt, r.CreatedAt = readTime(commentCreated), readTime(created)
	r.UpdatedAt, r.NextAttemptAt = readTime(updated), readTime(next)
}

// History returns the claims f selects, newest first (by created_at, then
// id).
func (s *Store) History(ctx context.Context, f Filter) ([]HistoryRow, error) {
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
	if f.Rule != "" {
		where = append(where, "rule = ?")
		args = append(args, f.Rule)
	}
	if f.Status != "" {
		where = append(where, "status = ?")
		args = append(args, f.Status)
	}
	if len(f.Statuses) > 0 {
		where = append(where, "status IN (?"+strings.Repeat(", ?", len(f.Statuses)-1)+")")
		for _, st := range f.Statuses {
			args = append(args, st)
		}
	}
	if f.Platform != "" {
		where = append(where, "platform = ?")
		args = append(args, f.Platform)
	}
	if f.Thread != "" {
		where = append(where, "thread_id = ?")
		args = append(args, f.Thread)
	}
	if f.Disposition != "" {
		where = append(where, "disposition = ?")
		args = append(args, f.Disposition)
	}
	q := `SELECT ` + historyCols + ` FROM replies_v`
	if len(where) > 0 {
		//nolint:gosec // G202: where holds fixed conditions with ? placeholders; the values are bound
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY created_at DESC, id DESC"
	if f.Limit > 0 {
		q += " LIMIT ?"
		args = append(args, f.Limit)
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("query history: %w", err)
	}
	defer rows.Close()
	var out []HistoryRow
	for rows.Next() {
		r, err := scanHistory(rows)
		if err != nil {
			return nil, fmt.Errorf("query history: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query history: %w", err)
	}
	return out, nil
}

// Counts returns how many claims have each status; absent statuses are
// absent keys.
func (s *Store) Counts(ctx context.Context) (map[string]int, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT status, count(*) FROM replies GROUP BY status`)
	if err != nil {
		return nil, fmt.Errorf("count claims: %w", err)
	}
	defer rows.Close()
	counts := make(map[string]int)
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, fmt.Errorf("count claims: %w", err)
		}
		counts[st] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count claims: %w", err)
	}
	return counts, nil
}
