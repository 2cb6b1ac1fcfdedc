package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/autoreplyd/autoreplyd/model"
)

// The console's read side: what the rules, inbox and live pages show beside
// the claims themselves. Every query here only reads, so it works on a store
// opened with OpenReadOnly while the daemon writes, and each one is bounded
// by an index (see migration 6 and TestConsoleQueryPlans): a page stays fast
// on a history of a million claims (BENCHMARKS.md, "Console queries").

// The console's queries, named so that TestConsoleQueryPlans checks the
// plans of exactly these.
const (
	// sqlRuleCounts counts a period's claims (parameters: since, until)
	// per rule, status and reason, with each one's newest claim ever. The
	// distinct (rule, status, reason) of the history are found by a
	// skip-scan of replies_rule_status, a few index seeks each, and each
	// one's claims in the period are one range of that index: no table row
	// is read, nothing is sorted, and the cost grows with the claims in
	// the period, not with the history.
	sqlRuleCounts = `
WITH RECURSIVE keys(rule, status, reason) AS (
	SELECT rule, status, reason FROM replies
	WHERE id = (SELECT id FROM replies INDEXED BY replies_rule_status
	               WHERE rule >= '' ORDER BY rule, status, reason LIMIT 1)
	UNION ALL
	SELECT n.rule, n.status, n.reason FROM keys
	JOIN replies n ON n.id = coalesce(
		(SELECT id FROM replies INDEXED BY replies_rule_status
		 WHERE rule = keys.rule AND status = keys.status AND reason > keys.reason
		 ORDER BY reason LIMIT 1),
		(SELECT id FROM replies INDEXED BY replies_rule_status
		 WHERE rule = keys.rule AND status > keys.status
		 ORDER BY status, reason LIMIT 1),
		(SELECT id FROM replies INDEXED BY replies_rule_status
		 WHERE rule > keys.rule
		 ORDER BY rule, status, reason LIMIT 1))
)
SELECT rule, status, reason,
       (SELECT count(*) FROM replies r INDEXED BY replies_rule_status
        WHERE r.rule = keys.rule AND r.status = keys.status AND r.reason = keys.reason
          AND r.created_at >= ? AND r.created_at < ?),
       (SELECT max(created_at) FROM replies r INDEXED BY replies_rule_status
        WHERE r.rule = keys.rule AND r.status = keys.status AND r.reason = keys.reason)
FROM keys`

	// sqlRuleSeries counts each rule's claims per bucket (parameters: a
	// JSON array of rules, a JSON array of [start, end) pairs): one range
	// of replies_rule per rule and bucket. Counting ranges rather than
	// grouping by a prefix of created_at keeps any bucket exact, and SQLite
	// sorts nothing (its sorter took 90 ms for a week of claims).
	sqlRuleSeries = `
WITH b AS (SELECT key AS i, value ->> 0 AS lo, value ->> 1 AS hi FROM json_each(?)),
     rules AS (SELECT value AS rule FROM json_each(?))
SELECT rules.rule, b.i,
       (SELECT count(*) FROM replies r INDEXED BY replies_rule
        WHERE r.rule = rules.rule AND r.created_at >= b.lo AND r.created_at < b.hi)
FROM rules, b`
	// pgRuleSeries is sqlRuleSeries in PostgreSQL's JSON functions.
	pgRuleSeries = `
WITH b AS (SELECT x.ord - 1 AS i, x.e ->> 0 AS lo, x.e ->> 1 AS hi
           FROM json_array_elements($1::json) WITH ORDINALITY AS x(e, ord)),
     rules AS (SELECT value AS rule FROM json_array_elements_text($2::json))
SELECT rules.rule, b.i,
       (SELECT count(*) FROM replies r
        WHERE r.rule = rules.rule AND r.created_at >= b.lo AND r.created_at < b.hi)
FROM rules, b`

	// sqlThreadAnswers reads a thread's newest sent claims but those on one
	// comment (parameters: platform, thread, comment, limit).
	// replies_thread_sent holds exactly the sent claims, newest last: the
	// newest few are read whatever else the thread holds.
	sqlThreadAnswers = `SELECT ` + claimCols + `
FROM replies r INDEXED BY replies_thread_sent
JOIN comments c ON c.platform = r.platform AND c.comment_id = r.comment_id
LEFT JOIN drafts d ON d.reply_id = r.id
WHERE r.platform = ? AND r.thread_id = ? AND r.status = 'sent' AND r.comment_id <> ?
ORDER BY r.created_at DESC, r.id DESC LIMIT ?`

	// sqlThreadComments reads a comment with the comments it answers
	// (parameters: platform, comment; platform, comment; platform,
	// comment): three primary-key lookups in one statement.
	sqlThreadComments = `SELECT ` + commentCols + ` FROM comments
WHERE platform = ? AND comment_id IN (?,
	(SELECT reply_to_id FROM comments WHERE platform = ? AND comment_id = ?),
	(SELECT root_id FROM comments WHERE platform = ? AND comment_id = ?))`

	// sqlInbox reads the newest claims of some statuses (parameters: the
	// statuses, then the limit; the IN list is completed at
	// run time). The ids come first, from replies_status alone; only the
	// rows kept are joined with their comments: sorting every waiting
	// claim joined, as History's query does, took 18 ms for 1,347.
	sqlInbox = `SELECT ` + claimCols + `
FROM replies r JOIN comments c ON c.platform = r.platform AND c.comment_id = r.comment_id
LEFT JOIN drafts d ON d.reply_id = r.id
WHERE r.id IN (SELECT id FROM replies INDEXED BY replies_status WHERE status IN (%s)
               ORDER BY created_at DESC, id DESC LIMIT ?)
ORDER BY r.created_at DESC, r.id DESC`

	// sqlUserHistory reads a user's newest comments through
	// comments_user_seen, then each one's claims through the unique
	// (platform, comment_id, rule) (parameters: platform, uid, limit).
	sqlUserHistory = `
WITH mine AS (
	SELECT rowid AS n, ` + commentCols + ` FROM comments INDEXED BY comments_user_seen
	WHERE platform = ? AND user_uid = ?
	ORDER BY seen_at DESC, rowid DESC LIMIT ?
)
SELECT mine.platform, mine.comment_id, mine.thread_id, mine.post_id, mine.root_id, mine.reply_to_id,
       mine.user_uid, mine.user_nickname, mine.user_unique_id, mine.text, mine.comment_created_at,
       mine.disposition, mine.seen_at,
       r.id, coalesce(r.rule, ''), coalesce(r.status, ''), coalesce(r.reason, ''), coalesce(r.reply_text, ''), r.created_at
FROM mine LEFT JOIN replies r ON r.platform = mine.platform AND r.comment_id = mine.comment_id
ORDER BY mine.seen_at DESC, mine.n DESC, r.id`
)

// MaxBuckets bounds the series of RuleStats: a chart has a few dozen bars,
// and each bucket costs an index search per rule (168 hourly buckets of 20
// rules took 55 ms on the benchmark's history, 7 daily ones 24 ms). A year
// of days fits.
const MaxBuckets = 400

// DefaultContextLimit is how many rows ThreadContext and UserHistory return
// for a limit of 0 or less; MaxContextLimit is the most they return
// whatever the limit: the context of one comment, not a report.
const (
	DefaultContextLimit = 10
	MaxContextLimit     = 200
)

// RuleStat is what one rule's claims came to in a period.
//
// Rule errors (an expression that failed on a comment) are not in the
// database: nothing is claimed for them. They are the metric
// autoreplyd_rule_errors_total, which the rules page reads from the metrics
// registry.
type RuleStat struct {
	Rule string
	// Claims counts the rule's claims in the period: its hits, whatever
	// became of them.
	Claims int
	// ByStatus counts the claims by status (model.Status*; absent statuses
	// are absent keys). Answered is ByStatus[model.StatusSent]; flagged,
	// held, rejected, expired, handled, failed, unknown, retrying, dry_run
	// and skipped are the others.
	ByStatus map[string]int
	// Skipped counts the skipped claims by reason (no_reply_rule, cooldown,
	// daily_cap, ...); empty when none was skipped.
	Skipped map[string]int
	// Series counts the claims per bucket: Series[i] those created in
	// [since+i*bucket, since+(i+1)*bucket), the last bucket ending at until.
	Series []int
	// LastMatched is the creation time of the rule's newest claim, in the
	// whole history, not only the period (zero if it cannot be read). A
	// rule of the live configuration missing from RuleStats' result never
	// matched (or its claims were all pruned by retention).
	LastMatched time.Time
}

// Answered is how many of the rule's claims in the period were sent.
func (r RuleStat) Answered() int { return r.ByStatus[model.StatusSent] }

// RuleStats returns, for every rule that has a claim in the history (not
// only in the period), what its claims created in [since, until) came to,
// with a series of counts per bucket for a chart, ordered by rule name.
// bucket must be positive and divide the period into at most MaxBuckets
// buckets (the last one may be cut short by until). Every bucket is exact,
// whatever its alignment. The cost grows with the claims in the period, and
// with rules times buckets, not with the history: on the million-claim
// benchmark, 24 hours by the hour took 8–10 ms, 7 days by the day 24–39 ms.
func (s *Store) RuleStats(ctx context.Context, since, until time.Time, bucket time.Duration) ([]RuleStat, error) {
	if bucket <= 0 {
		return nil, fmt.Errorf("rule statistics: bucket must be positive, not %s", bucket)
	}
	if !until.After(since) {
		return nil, fmt.Errorf("rule statistics: the period ends (%s) before it starts (%s)",
			until.UTC().Format(time.RFC3339), since.UTC().Format(time.RFC3339))
	}
	span := until.Sub(since)
	n := int(span / bucket)
	if span%bucket != 0 {
		n++
	}
	if n > MaxBuckets || n <= 0 {
		return nil, fmt.Errorf("rule statistics: %s in buckets of %s is more than %d buckets", span, bucket, MaxBuckets)
	}

	byRule := make(map[string]*RuleStat)
	last := make(map[string]string)
	rows, err := s.query(ctx, sqlRuleCounts, formatTime(since), formatTime(until))
	if err != nil {
		return nil, fmt.Errorf("rule statistics: %w", err)
	}
	for rows.Next() {
		var rule, status, reason string
		var count int
		var newest sql.NullString
		if err := rows.Scan(&rule, &status, &reason, &count, &newest); err != nil {
			rows.Close()
			return nil, fmt.Errorf("rule statistics: %w", err)
		}
		r := byRule[rule]
		if r == nil {
			r = &RuleStat{Rule: rule, ByStatus: map[string]int{}, Skipped: map[string]int{}, Series: make([]int, n)}
			byRule[rule] = r
		}
		last[rule] = max(last[rule], newest.String)
		if count == 0 {
			continue
		}
		r.Claims += count
		r.ByStatus[status] += count
		if status == model.StatusSkipped {
			r.Skipped[reason] += count
		}
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, fmt.Errorf("rule statistics: %w", err)
	}

	// The series of the rules that have claims in the period; the others'
	// stay zero.
	var active []string
	for rule, r := range byRule {
		r.LastMatched = readTime(sql.NullString{String: last[rule], Valid: true})
		if r.Claims > 0 {
			active = append(active, rule)
		}
	}
	if len(active) > 0 {
		bounds := make([][2]string, n)
		for i := range bounds {
			lo, hi := since.Add(time.Duration(i)*bucket), since.Add(time.Duration(i+1)*bucket)
			if hi.After(until) {
				hi = until
			}
			bounds[i] = [2]string{formatTime(lo), formatTime(hi)}
		}
		bj, err := json.Marshal(bounds)
		if err != nil {
			return nil, fmt.Errorf("rule statistics: %w", err)
		}
		rj, err := json.Marshal(active)
		if err != nil {
			return nil, fmt.Errorf("rule statistics: %w", err)
		}
		rows, err := s.query(ctx, s.dialect(sqlRuleSeries, pgRuleSeries), string(bj), string(rj))
		if err != nil {
			return nil, fmt.Errorf("rule statistics: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var rule string
			var i, count int
			if err := rows.Scan(&rule, &i, &count); err != nil {
				return nil, fmt.Errorf("rule statistics: %w", err)
			}
			if r := byRule[rule]; r != nil && i >= 0 && i < n {
				r.Series[i] = count
			}
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("rule statistics: %w", err)
		}
	}

	out := make([]RuleStat, 0, len(byRule))
	for _, r := range byRule {
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b RuleStat) int { return strings.Compare(a.Rule, b.Rule) })
	return out, nil
}

// StoredComment is a recorded comment as the comments table holds it.
type StoredComment struct {
	model.Comment // Labels and ReplyToUser are not stored: empty
	// Disposition is evaluated, backlog or self (model.Disposition*).
	Disposition string
	// SeenAt is when the daemon first recorded the comment.
	SeenAt time.Time
}

// commentCols are the comments columns scanComment reads, in order.
const commentCols = `platform, comment_id, thread_id, post_id, root_id, reply_to_id, user_uid, user_nickname,
	user_unique_id, text, comment_created_at, disposition, seen_at`

// claimCols are historyCols read from replies r joined with comments c
// and left joined with drafts d
// (the thread's labels looked up by its primary key) rather than from
// replies_v: SQLite prepares the two-table join in a third
// of the time it takes for the view, which also joins threads, and the
// console prepares its queries on every page.
const claimCols = `r.id, r.platform, r.comment_id, r.thread_id, c.post_id, r.rule, r.responder, r.status, r.reason,
	r.error, r.reply_text, c.text, c.user_uid, c.user_nickname, c.user_unique_id, r.platform_reply_id,
	r.attempts, c.comment_created_at, r.created_at, r.updated_at, r.next_attempt_at,
	r.decided_by, r.decided_at, r.decision_note, c.disposition,
	coalesce((SELECT t.labels FROM threads t WHERE t.platform = r.platform AND t.thread_id = r.thread_id),
	         (SELECT v.labels FROM threads v WHERE v.platform = r.platform AND v.thread_id = 'video:' || c.post_id), '{}'),
	coalesce(d.llm, ''), d.draft_text, coalesce(d.model, ''), coalesce(d.prompt_tokens, 0), coalesce(d.completion_tokens, 0)`

func scanComment(sc interface{ Scan(...any) error }) (StoredComment, error) {
	var c StoredComment
	var created, seen sql.NullString
	if err := sc.Scan(&c.Platform, &c.ID, &c.ThreadID, &c.PostID, &c.RootID, &c.ReplyToID, &c.User.UID,
		&c.User.Nickname, &c.User.UniqueID, &c.Text, &created, &c.Disposition, &seen); err != nil {
		return StoredComment{}, err
	}
	c.CreatedAt, c.SeenAt = readTime(created), readTime(seen)
	return c, nil
}

// ThreadContext is what surrounds one comment in its thread.
type ThreadContext struct {
	// RepliesTo is the comment it answers (its reply_to_id, else its
	// root_id), nil when it is top-level or that comment was never recorded
	// (it predates the daemon, or was pruned).
	RepliesTo *StoredComment
	// Root is the top-level comment of its conversation when that is not
	// RepliesTo (nil otherwise, or when never recorded).
	Root *StoredComment
	// Answers are our sent answers in the thread to other comments, newest
	// first, at most the limit asked for.
	Answers []HistoryRow
}

// contextLimit is limit bounded as DefaultContextLimit and MaxContextLimit
// say.
func contextLimit(limit int) int {
	if limit <= 0 {
		return DefaultContextLimit
	}
	return min(limit, MaxContextLimit)
}

// noParent reports whether a root_id or reply_to_id names no comment: empty,
// or "0", the platforms' word for "top-level" / "answers the root".
func noParent(id string) bool { return id == "" || id == "0" }

// ThreadContext returns the comments that comment commentID of platform
// answers, and up to limit (see DefaultContextLimit) of our sent answers to
// other comments of thread threadID, newest first. A comment never recorded
// has no RepliesTo and no Root; its thread's answers are still returned.
func (s *Store) ThreadContext(ctx context.Context, platform, threadID, commentID string, limit int) (ThreadContext, error) {
	var tc ThreadContext
	byID := make(map[string]*StoredComment, 3)
	rows, err := s.query(ctx, sqlThreadComments, platform, commentID, platform, commentID, platform, commentID)
	if err != nil {
		return tc, fmt.Errorf("thread context of %s comment %s: %w", platform, commentID, err)
	}
	for rows.Next() {
		c, err := scanComment(rows)
		if err != nil {
			rows.Close()
			return tc, fmt.Errorf("thread context of %s comment %s: %w", platform, commentID, err)
		}
		byID[c.ID] = &c
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return tc, fmt.Errorf("thread context of %s comment %s: %w", platform, commentID, err)
	}
	if self := byID[commentID]; self != nil {
		parent := self.ReplyToID
		if noParent(parent) {
			parent = self.RootID
		}
		if !noParent(parent) && parent != commentID {
			tc.RepliesTo = byID[parent]
		}
		if root := self.RootID; !noParent(root) && root != parent && root != commentID {
			tc.Root = byID[root]
		}
	}
	rows, err = s.query(ctx, sqlThreadAnswers, platform, threadID, commentID, contextLimit(limit))
	if err != nil {
		return tc, fmt.Errorf("thread context of %s comment %s: %w", platform, commentID, err)
	}
	defer rows.Close()
	for rows.Next() {
		r, err := scanHistory(rows)
		if err != nil {
			return tc, fmt.Errorf("thread context of %s comment %s: %w", platform, commentID, err)
		}
		tc.Answers = append(tc.Answers, r)
	}
	if err := rows.Err(); err != nil {
		return tc, fmt.Errorf("thread context of %s comment %s: %w", platform, commentID, err)
	}
	return tc, nil
}

// UserComment is one of a user's comments and what the rules did with it.
type UserComment struct {
	StoredComment
	// Claims are the rules' claims on the comment (none when no rule
	// matched, or it was backlog or our own), in the order they were made.
	Claims []UserClaim
}

// UserClaim is what one rule did with a comment.
type UserClaim struct {
	ID        int64
	Rule      string
	Status    string
	Reason    string
	ReplyText string
	CreatedAt time.Time
}

// UserHistory returns up to limit (see DefaultContextLimit) of the comments
// of user userUID on platform, newest first (by when the daemon saw them),
// each with the rules' claims on it.
func (s *Store) UserHistory(ctx context.Context, platform, userUID string, limit int) ([]UserComment, error) {
	if userUID == "" {
		// The empty uid is every comment whose author was not said: not
		// one person's history.
		return nil, nil
	}
	rows, err := s.query(ctx, sqlUserHistory, platform, userUID, contextLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("history of %s user %s: %w", platform, userUID, err)
	}
	defer rows.Close()
	var out []UserComment
	for rows.Next() {
		var c UserComment
		var created, seen, claimCreated sql.NullString
		var id sql.NullInt64
		var cl UserClaim
		if err := rows.Scan(&c.Platform, &c.ID, &c.ThreadID, &c.PostID, &c.RootID, &c.ReplyToID, &c.User.UID,
			&c.User.Nickname, &c.User.UniqueID, &c.Text, &created, &c.Disposition, &seen,
			&id, &cl.Rule, &cl.Status, &cl.Reason, &cl.ReplyText, &claimCreated); err != nil {
			return nil, fmt.Errorf("history of %s user %s: %w", platform, userUID, err)
		}
		if len(out) == 0 || out[len(out)-1].ID != c.ID {
			c.CreatedAt, c.SeenAt = readTime(created), readTime(seen)
			out = append(out, c)
		}
		if id.Valid {
			cl.ID, cl.CreatedAt = id.Int64, readTime(claimCreated)
			last := &out[len(out)-1]
			last.Claims = append(last.Claims, cl)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("history of %s user %s: %w", platform, userUID, err)
	}
	return out, nil
}

// Inbox returns the newest limit claims (all when limit <= 0) that have any
// of statuses (model.StatusFlagged and model.StatusHeld when none is
// given): the same rows, in the same order (newest first, by created_at
// then id), as History with Filter{Statuses, Limit}, without reading the
// comments of the claims it leaves out.
func (s *Store) Inbox(ctx context.Context, limit int, statuses ...string) ([]HistoryRow, error) {
	if len(statuses) == 0 {
		statuses = []string{model.StatusFlagged, model.StatusHeld}
	}
	if limit <= 0 {
		limit = math.MaxInt64 // no limit (SQLite's -1 is an error in PostgreSQL)
	}
	args := make([]any, 0, len(statuses)+1)
	for _, st := range statuses {
		args = append(args, st)
	}
	args = append(args, limit)
	// Only "?" placeholders are formatted in; the statuses are bound.
	q := fmt.Sprintf(sqlInbox, "?"+strings.Repeat(", ?", len(statuses)-1))
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("query inbox: %w", err)
	}
	defer rows.Close()
	var out []HistoryRow
	for rows.Next() {
		r, err := scanHistory(rows)
		if err != nil {
			return nil, fmt.Errorf("query inbox: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query inbox: %w", err)
	}
	return out, nil
}

// CountStatuses counts the claims that have any of statuses (each counted
// once), such as the
// inbox's flagged and held, through replies_status: one index range per
// status, not a pass over the history as Counts makes.
func (s *Store) CountStatuses(ctx context.Context, statuses ...string) (int, error) {
	total := 0
	for _, st := range slices.Compact(slices.Sorted(slices.Values(statuses))) {
		var n int
		if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM replies WHERE status = ?`, st).Scan(&n); err != nil {
			return 0, fmt.Errorf("count %s claims: %w", st, err)
		}
		total += n
	}
	return total, nil
}
