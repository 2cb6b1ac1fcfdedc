package store

// Drafted answers: a rule's answer written by a language model. The claim is
// recorded drafting with what to ask (DraftRequest); the drafting stage takes
// the due ones (DueDrafts), marks each request before making it
// (BeginDraft), stores the model's answer as soon as it has it (SaveDraft:
// never asked for again after that, across restarts), and then moves the
// claim on (SettleDraft: held for a person, retrying to be sent, flagged by
// a guardrail, failed or skipped), or leaves it drafting for a later attempt
// (DraftLater).

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/autoreplyd/autoreplyd/model"
)

// DraftRequest is what a drafting claim asks of a model, kept with it.
type DraftRequest struct {
	LLM string // the endpoint, llm.NAME
	// System and Prompt are the rule's templates as rendered for the
	// comment when it was evaluated: the prompt holds the commenter's
	// words. The rule's context file is not kept: it is read from the
	// rules when the request is made.
	System, Prompt string
	MaxLength      int  // characters; 0: the platform's limit only
	Approve        bool // the draft waits for a person (held) rather than being sent
	// Notify names the channels told when the draft is held or flagged.
	Notify []string
}

// StoredDraft is a model's answer as stored.
type StoredDraft struct {
	Text             string
	Model            string
	PromptTokens     int64
	CompletionTokens int64
	At               time.Time
}

// DraftItem is a due drafting claim with its comment and request.
type DraftItem struct {
	ID        int64
	Rule      string
	Responder string
	CreatedAt time.Time
	// Attempts counts the requests made for it so far (BeginDraft).
	Attempts int
	Request  DraftRequest
	// Draft is the model's answer when one is stored: the claim is then
	// moved on without asking again.
	Draft *StoredDraft
	// Comment is the comment as stored, with its thread's labels; the
	// fields the comments table lacks (likes, level, ...) are zero.
	Comment model.Comment
}

// DraftOutcome moves a drafting claim on.
type DraftOutcome struct {
	// Status is held (waits for a person), retrying (sent by the next
	// cycle's retries; reason drafted), flagged (a guardrail stopped it),
	// failed or skipped.
	Status      string
	Reason      string
	Error       string
	ReplyText   string    // the text to send or hold (the draft); kept on flagged claims for the person
	NextAttempt time.Time // with retrying
}

// ReasonDrafted is the reason of a draft that is sent without approval: it
// waits as retrying for the next cycle's retries, which send it.
const ReasonDrafted = "drafted"

// insertDraft records the request of drafting claim id inside tx.
func (s *Store) insertDraft(ctx context.Context, tx *sql.Tx, id int64, r *DraftRequest, ts string) error {
	notify, err := json.Marshal(append([]string{}, r.Notify...))
	if err != nil {
		return err
	}
	approve := 0
	if r.Approve {
		approve = 1
	}
	if _, err := tx.ExecContext(ctx,
		`INSERT INTO drafts (reply_id, llm, system, prompt, max_length, approve, notify) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		id, r.LLM, s.scrub(r.System), s.scrub(r.Prompt), r.MaxLength, approve, string(notify)); err != nil {
		return err
	}
	// Due at once: the drafting stage takes it up.
	_, err = tx.ExecContext(ctx, `UPDATE replies SET next_attempt_at = ? WHERE id = ?`, ts, id)
	return err
}

// DueDrafts returns up to limit drafting claims of endpoint llm ("" for
// every endpoint) whose next attempt is at or before now, oldest first.
func (s *Store) DueDrafts(ctx context.Context, llm string, now time.Time, limit int) ([]DraftItem, error) {
	q := `SELECT r.id, r.rule, r.responder, r.created_at,
	        d.llm, d.system, d.prompt, d.max_length, d.approve, d.notify, d.attempts,
	        d.draft_text, d.model, d.prompt_tokens, d.completion_tokens, d.drafted_at,
	        c.platform, c.comment_id, c.thread_id, c.post_id, c.root_id, c.reply_to_id,
	        c.user_uid, c.user_nickname, c.user_unique_id, c.text, c.comment_created_at,
	        coalesce(t.labels, v.labels, '{}')
	      FROM replies r
	      JOIN drafts d ON d.reply_id = r.id
	      JOIN comments c ON c.platform = r.platform AND c.comment_id = r.comment_id
	      LEFT JOIN threads t ON t.platform = r.platform AND t.thread_id = r.thread_id
	      LEFT JOIN threads v ON t.thread_id IS NULL AND v.platform = r.platform AND v.thread_id = 'video:' || c.post_id
	      WHERE r.status = ? AND r.next_attempt_at <= ? AND (? = '' OR d.llm = ?)
	      ORDER BY r.created_at, r.id`
	args := []any{model.StatusDrafting, formatTime(now), llm, llm}
	if limit > 0 {
		q += ` LIMIT ?`
		args = append(args, limit)
	}
	rows, err := s.q.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list due drafts: %w", err)
	}
	defer rows.Close()
	labels := labelCache{}
	var items []DraftItem
	for rows.Next() {
		var it DraftItem
		var created, commentCreated, draftedAt sql.NullString
		var draftText sql.NullString
		var notify, labelsJSON, modelName string
		var approve int
		var pt, ct int64
		c := &it.Comment
		if err := rows.Scan(&it.ID, &it.Rule, &it.Responder, &created,
			&it.Request.LLM, &it.Request.System, &it.Request.Prompt, &it.Request.MaxLength, &approve, &notify, &it.Attempts,
			&draftText, &modelName, &pt, &ct, &draftedAt,
			&c.Platform, &c.ID, &c.ThreadID, &c.PostID, &c.RootID, &c.ReplyToID,
			&c.User.UID, &c.User.Nickname, &c.User.UniqueID, &c.Text, &commentCreated, &labelsJSON); err != nil {
			return nil, fmt.Errorf("list due drafts: %w", err)
		}
		it.CreatedAt, c.CreatedAt = readTime(created), readTime(commentCreated)
		it.Request.Approve = approve != 0
		if err := json.Unmarshal([]byte(notify), &it.Request.Notify); err != nil {
			// A hand edit: tell nobody rather than fail the draft.
			it.Request.Notify = nil
		}
		c.Labels = labels.get(labelsJSON)
		if draftText.Valid {
			it.Draft = &StoredDraft{Text: draftText.String, Model: modelName, PromptTokens: pt, CompletionTokens: ct, At: readTime(draftedAt)}
		}
		items = append(items, it)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list due drafts: %w", err)
	}
	return items, nil
}

// BeginDraft records that a request for drafting claim id is about to be
// made, committed before it: attempts is the count DueDrafts read, so of two
// workers (or two processes) only one makes the request. It reports false,
// changing nothing, when the claim is no longer drafting, its draft is
// stored, or another worker began it.
func (s *Store) BeginDraft(ctx context.Context, id int64, attempts int, now time.Time) (bool, error) {
	if err := s.writableAt("begin draft", now); err != nil {
		return false, err
	}
	if err := s.sendCheck(); err != nil {
		return false, fmt.Errorf("begin draft of claim %d: %w", id, err)
	}
	tx, err := s.begin(ctx)
	if err != nil {
		return false, fmt.Errorf("begin draft of claim %d: %w", id, err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx,
		`UPDATE drafts SET attempts = attempts + 1, requested_at = ?
		 WHERE reply_id = ? AND attempts = ? AND draft_text IS NULL
		   AND EXISTS (SELECT 1 FROM replies WHERE id = ? AND status = ?)`,
		formatTime(now), id, attempts, id, model.StatusDrafting)
	if err != nil {
		return false, fmt.Errorf("begin draft of claim %d: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("begin draft of claim %d: %w", id, err)
	}
	if n != 1 {
		return false, nil
	}
	// The claim now waits on this daemon's request.
	if _, err := tx.ExecContext(ctx, `UPDATE replies SET instance = ? WHERE id = ?`, s.instance, id); err != nil {
		return false, fmt.Errorf("begin draft of claim %d: %w", id, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("begin draft of claim %d: commit: %w", id, err)
	}
	return true, nil
}

// SaveDraft stores the model's answer to drafting claim id (its text, even
// when a guardrail will stop it, and the tokens it cost). A stored draft is
// never asked for again. Only the first answer is kept.
func (s *Store) SaveDraft(ctx context.Context, id int64, d StoredDraft) error {
	if err := s.writableAt("save draft", d.At); err != nil {
		return err
	}
	res, err := s.q.ExecContext(ctx,
		`UPDATE drafts SET draft_text = ?, model = ?, prompt_tokens = ?, completion_tokens = ?, drafted_at = ?
		 WHERE reply_id = ? AND draft_text IS NULL`,
		s.scrub(d.Text), d.Model, d.PromptTokens, d.CompletionTokens, formatTime(d.At), id)
	if err != nil {
		return fmt.Errorf("save draft of claim %d: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return errors.Join(fmt.Errorf("save draft of claim %d: no drafting request without a draft", id), err)
	}
	return nil
}

// DraftLater leaves drafting claim id drafting, due again at next, with
// the reason and error of the attempt that failed.
func (s *Store) DraftLater(ctx context.Context, id int64, reason, errText string, next, now time.Time) error {
	if err := s.writableAt("draft later", now); err != nil {
		return err
	}
	_, err := s.q.ExecContext(ctx,
		`UPDATE replies SET reason = ?, error = ?, updated_at = ?, next_attempt_at = ? WHERE id = ? AND status = ?`,
		s.scrub(reason), s.scrub(errText), formatTime(now), formatTime(clampTime(next)), id, model.StatusDrafting)
	if err != nil {
		return fmt.Errorf("draft claim %d later: %w", id, err)
	}
	return nil
}

// SettleDraft moves drafting claim id on (see DraftOutcome), and, for held
// and flagged outcomes, puts the notifications of its channels in the
// outbox in the same transaction. It reports false, changing nothing, when
// the claim is no longer drafting.
func (s *Store) SettleDraft(ctx context.Context, id int64, o DraftOutcome, now time.Time) (bool, error) {
	if err := s.writableAt("settle draft", now); err != nil {
		return false, err
	}
	var next sql.NullString
	switch o.Status {
	case model.StatusHeld, model.StatusFlagged, model.StatusFailed, model.StatusSkipped:
	case model.StatusRetrying:
		if o.NextAttempt.IsZero() {
			return false, fmt.Errorf("settle draft of claim %d: retrying needs a next attempt time", id)
		}
		next = nullTime(clampTime(o.NextAttempt))
	default:
		return false, fmt.Errorf("settle draft of claim %d: cannot settle as %q", id, o.Status)
	}
	ts := formatTime(now)
	tx, err := s.begin(ctx)
	if err != nil {
		return false, fmt.Errorf("settle draft of claim %d: %w", id, err)
	}
	defer tx.Rollback()
	// attempts stays 0: the sends count their own attempts.
	res, err := tx.ExecContext(ctx,
		`UPDATE replies SET status = ?, reason = ?, error = ?, reply_text = ?, updated_at = ?, next_attempt_at = ?
		 WHERE id = ? AND status = ?`,
		o.Status, s.scrub(o.Reason), s.scrub(o.Error), s.scrub(o.ReplyText), ts, next, id, model.StatusDrafting)
	if err != nil {
		return false, fmt.Errorf("settle draft of claim %d: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return false, err
	}
	if o.Status == model.StatusHeld || o.Status == model.StatusFlagged {
		var notify string
		if err := tx.QueryRowContext(ctx, `SELECT notify FROM drafts WHERE reply_id = ?`, id).Scan(&notify); err != nil {
			return false, fmt.Errorf("settle draft of claim %d: %w", id, err)
		}
		var channels []string
		_ = json.Unmarshal([]byte(notify), &channels) // a hand edit tells nobody
		for _, ch := range channels {
			if _, err := tx.ExecContext(ctx, sqlInsertNotification, id, ch, eventOf(o.Status), ts, ts, ts); err != nil {
				return false, fmt.Errorf("settle draft of claim %d: notification to %s: %w", id, ch, err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("settle draft of claim %d: commit: %w", id, err)
	}
	return true, nil
}

// TokensSpent sums the tokens endpoint llm's drafts cost since since (its
// budget's day).
func (s *Store) TokensSpent(ctx context.Context, llm string, since time.Time) (int64, error) {
	var n int64
	err := s.q.QueryRowContext(ctx,
		`SELECT coalesce(sum(prompt_tokens + completion_tokens), 0) FROM drafts WHERE llm = ? AND drafted_at >= ?`,
		llm, formatTime(since)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("tokens spent by %s: %w", llm, err)
	}
	return n, nil
}

// DraftStat counts one rule's drafted answers through one endpoint.
type DraftStat struct {
	Rule, LLM string
	// Drafted counts the claims the model answered; Waiting those still
	// drafting.
	Drafted, Waiting int
	// Held wait for a person now; Approved were approved (Edited of them
	// with a person's text); Rejected and Expired never went out; Flagged
	// were stopped by a guardrail or refused by the model.
	Held, Approved, Edited, Rejected, Expired, Flagged int
	Tokens                                             int64
}

// DraftStats counts the drafted answers claimed in [f.Since, f.Until)
// (zero: unbounded), by rule and endpoint.
func (s *Store) DraftStats(ctx context.Context, f StatsFilter) ([]DraftStat, error) {
	q := `SELECT r.rule, d.llm,
	        count(d.draft_text), count(*) FILTER (WHERE r.status = 'drafting'),
	        count(*) FILTER (WHERE r.status = 'held'),
	        count(*) FILTER (WHERE r.decided_by <> '' AND r.status NOT IN ('held', 'rejected', 'expired', 'flagged', 'handled')),
	        count(*) FILTER (WHERE r.decision_note = ?), count(*) FILTER (WHERE r.status = 'rejected'),
	        count(*) FILTER (WHERE r.status = 'expired'), count(*) FILTER (WHERE r.status = 'flagged'),
	        coalesce(sum(d.prompt_tokens + d.completion_tokens), 0)
	      FROM replies r JOIN drafts d ON d.reply_id = r.id
	      WHERE (? = '' OR r.created_at >= ?) AND (? = '' OR r.created_at < ?) AND (? = '' OR r.platform = ?) AND (? = '' OR r.rule = ?)
	      GROUP BY r.rule, d.llm ORDER BY r.rule, d.llm`
	since, until := "", ""
	if !f.Since.IsZero() {
		since = formatTime(f.Since)
	}
	if !f.Until.IsZero() {
		until = formatTime(f.Until)
	}
	rows, err := s.db.QueryContext(ctx, q, decisionEdited, since, since, until, until, f.Platform, f.Platform, f.Rule, f.Rule)
	if err != nil {
		return nil, fmt.Errorf("draft stats: %w", err)
	}
	defer rows.Close()
	var out []DraftStat
	for rows.Next() {
		var d DraftStat
		if err := rows.Scan(&d.Rule, &d.LLM, &d.Drafted, &d.Waiting, &d.Held, &d.Approved, &d.Edited, &d.Rejected,
			&d.Expired, &d.Flagged, &d.Tokens); err != nil {
			return nil, fmt.Errorf("draft stats: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("draft stats: %w", err)
	}
	return out, nil
}
