package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Threads discovered under watched videos. One listing of a video gives
// every listed top-level comment's reply count; a thread is recorded once
// the count shows it has replies, and is worth a poll while the count
// listed is above the count its last poll answered. The engine lists a
// video, records the listing (RecordVideoListing), polls the changed
// threads (ChangedThreads) through the thread machinery, marks each polled
// (MarkThreadPolled), and keeps the video within its max_threads
// (EvictDiscoveredThreads).

// ListedThread is one top-level comment of a video listing.
type ListedThread struct {
	// ThreadID is the comment's id (its cid), the thread's id.
	ThreadID string
	// Total is the reply count the listing shows (Douyin's
	// reply_comment_total), a display count.
	Total int
}

// VideoListing is what one listing of a video told about its threads.
type VideoListing struct {
	Platform string
	AwemeID  string
	// Labels are the video's configured labels, given to every thread
	// discovered under it.
	Labels map[string]string
	// Threads are the listed top-level comments, in any order; one listed
	// twice counts once, with its last count.
	Threads []ListedThread
	// At is when the listing was made.
	At time.Time
	// Baseline records the threads found as polled already at their
	// count: for the first listing of a video whose backlog is skipped,
	// whose replies so far are not to be answered and need no poll.
	Baseline bool
}

// DiscoveredThread is a discovered thread as the store holds it.
type DiscoveredThread struct {
	Platform string
	AwemeID  string
	ThreadID string
	// KnownTotal is the listed count the last poll answered (0: never
	// polled); ListedTotal the count the last listing showed.
	KnownTotal  int
	ListedTotal int
	// LastActive is when the count last moved (or the thread was found).
	LastActive   time.Time
	DiscoveredAt time.Time
	// Baseline: the thread was found by a Baseline listing, with replies
	// that are backlog (there before the video was first seen): at its
	// first poll, the replies created before DiscoveredAt are recorded,
	// not answered.
	Baseline bool
}

// The statements RecordVideoListing runs for each listed thread, prepared
// once (see prepare). Neither writes a row whose count did not move, so a
// listing of an unchanged video writes nothing.
const (
	// sqlUpsertDiscovered records a thread with replies, returning a row
	// when it wrote one: true when it inserted it (discovered_at is the
	// listing's time), false when the count moved.
	sqlUpsertDiscovered = `INSERT INTO discovered_threads (platform, aweme_id, thread_id, known_total, listed_total,
		   last_active, discovered_at, baseline)
		 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7)
		 ON CONFLICT (platform, thread_id) DO UPDATE SET
		   last_active = excluded.last_active,
		   known_total = CASE WHEN discovered_threads.known_total < excluded.listed_total
		                      THEN discovered_threads.known_total ELSE excluded.listed_total END,
		   listed_total = excluded.listed_total
		 WHERE discovered_threads.listed_total <> excluded.listed_total
		 RETURNING CASE WHEN discovered_at = ?6 THEN 1 ELSE 0 END`
	// sqlZeroDiscovered brings a recorded thread's count down to 0; a
	// comment without replies is not recorded.
	sqlZeroDiscovered = `UPDATE discovered_threads SET last_active = ?1, known_total = 0, listed_total = 0
		 WHERE platform = ?2 AND thread_id = ?3 AND listed_total <> 0`
)

// configured reports whether a thread is one the config lists (see
// SetThreadLabels).
func (l *labelSet) configured(platform, thread string) bool {
	if l == nil {
		return false
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	_, ok := l.byThread[threadKey{platform, thread}]
	return ok
}

// videoLabelled reports whether the video's discovered threads were all
// given labels (JSON text) by a committed listing since the last
// SetThreadLabels.
func (l *labelSet) videoLabelled(video threadKey, labels string) bool {
	if l == nil {
		return false
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	j, ok := l.byVideo[video]
	return ok && j == labels
}

func (l *labelSet) setVideoLabelled(video threadKey, labels string) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.byVideo == nil {
		l.byVideo = map[threadKey]string{}
	}
	l.byVideo[video] = labels
}

// RecordVideoListing records what one listing of a video showed, in one
// transaction, and returns the ids of the threads it discovered, in
// listing order.
//
// A listed comment already recorded gets its count; its last_active moves
// when the count did. A count that fell (deleted or hidden replies) lowers
// the known count with it, so that the next reply, which brings it back,
// is seen. A comment not recorded yet is recorded when its count is above
// 0 (a comment without replies has no thread to poll yet; a reply, ours
// included, makes a later listing show it), with a known count of 0, or of
// its count with Baseline. A thread the config lists (SetThreadLabels) is
// never recorded, and is dropped if it was: it is polled once, as the
// configured thread, with its own labels. Every thread of the video gets
// the video's labels in threads (history and replies_v read them there).
func (s *Store) RecordVideoListing(ctx context.Context, l VideoListing) ([]string, error) {
	const op = "record video listing"
	if err := s.writableAt(op, l.At); err != nil {
		return nil, err
	}
	if l.Platform == "" || l.AwemeID == "" {
		return nil, fmt.Errorf("%s: platform and video id are required (got %q, %q)", op, l.Platform, l.AwemeID)
	}
	labels, err := s.encodeLabels(l.Labels)
	if err != nil {
		return nil, fmt.Errorf("%s: labels of %s video %s: %w", op, l.Platform, l.AwemeID, err)
	}
	at := formatTime(l.At)
	tx, err := s.begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	defer tx.Rollback()
	upsert := s.stmt(ctx, tx.Tx, s.stmts.upsertDiscovered)
	zero := s.stmt(ctx, tx.Tx, s.stmts.zeroDiscovered)
	var found []string
	for _, t := range l.Threads {
		if t.ThreadID == "" {
			return nil, fmt.Errorf("%s: %s video %s lists a comment without an id", op, l.Platform, l.AwemeID)
		}
		total := max(t.Total, 0)
		if s.labels.configured(l.Platform, t.ThreadID) {
			if _, err := tx.ExecContext(ctx, `DELETE FROM discovered_threads WHERE platform = ? AND thread_id = ?`,
				l.Platform, t.ThreadID); err != nil {
				return nil, fmt.Errorf("%s: %s thread %s: %w", op, l.Platform, t.ThreadID, err)
			}
			continue
		}
		if total == 0 {
			if _, err := zero.ExecContext(ctx, at, l.Platform, t.ThreadID); err != nil {
				return nil, fmt.Errorf("%s: %s thread %s: %w", op, l.Platform, t.ThreadID, err)
			}
			continue
		}
		known, baseline := 0, 0
		if l.Baseline {
			known, baseline = total, 1
		}
		// A row comes back when one was written: inserted (found now) or
		// updated (found earlier, or earlier in this listing).
		var isNew bool
		err := upsert.QueryRowContext(ctx, l.Platform, l.AwemeID, t.ThreadID, known, total, at, baseline).Scan(&isNew)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return nil, fmt.Errorf("%s: %s thread %s: %w", op, l.Platform, t.ThreadID, err)
		case isNew && !slices.Contains(found, t.ThreadID):
			found = append(found, t.ThreadID)
		}
	}
	vk := threadKey{l.Platform, l.AwemeID}
	if len(found) > 0 || !s.labels.videoLabelled(vk, labels) {
		if err := s.labelVideoThreads(ctx, tx, l.Platform, l.AwemeID, labels); err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("%s: commit: %w", op, err)
	}
	if tx.own {
		// Inside a Batch, the labels are known written only when the
		// Batch commits: the next listing checks again.
		s.labels.setVideoLabelled(vk, labels)
	}
	return found, nil
}

// labelVideoThreads gives the video's labels to each of its discovered
// threads whose threads row lacks them (a new thread, or labels changed in
// the config): usually none, found by one query on the video's rows.
func (s *Store) labelVideoThreads(ctx context.Context, tx txn, platform, awemeID, labels string) error {
	rows, err := tx.QueryContext(ctx,
		`SELECT d.thread_id FROM discovered_threads d
		 LEFT JOIN threads t ON t.platform = d.platform AND t.thread_id = d.thread_id
		 WHERE d.platform = ? AND d.aweme_id = ? AND t.labels IS DISTINCT FROM ?`, platform, awemeID, labels)
	if err != nil {
		return fmt.Errorf("labels of %s video %s: %w", platform, awemeID, err)
	}
	var stale []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return fmt.Errorf("labels of %s video %s: %w", platform, awemeID, err)
		}
		stale = append(stale, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("labels of %s video %s: %w", platform, awemeID, err)
	}
	for _, id := range stale {
		if s.labels.configured(platform, id) {
			continue // the config's labels win; the listing that shows it drops the row
		}
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO threads (platform, thread_id, labels) VALUES (?, ?, ?)
			 ON CONFLICT (platform, thread_id) DO UPDATE SET labels = excluded.labels`,
			platform, id, labels); err != nil {
			return fmt.Errorf("labels of %s thread %s: %w", platform, id, err)
		}
	}
	return nil
}

// discoveredOrder puts the most recently active threads first. Threads
// found by one listing share their last_active: the one with more replies
// is the livelier conversation, and then the newer comment (ids are digits
// that grow with time: compared by length, then as text) is more likely to
// see more.
const discoveredOrder = `last_active DESC, listed_total DESC, length(thread_id) DESC, thread_id DESC`

// discoveredColumns are the columns scanDiscovered reads, in its order.
const discoveredColumns = `platform, aweme_id, thread_id, known_total, listed_total, last_active, discovered_at, baseline`

func scanDiscovered(rows *sql.Rows) ([]DiscoveredThread, error) {
	defer rows.Close()
	var out []DiscoveredThread
	for rows.Next() {
		var d DiscoveredThread
		var active, found sql.NullString
		if err := rows.Scan(&d.Platform, &d.AwemeID, &d.ThreadID, &d.KnownTotal, &d.ListedTotal, &active, &found, &d.Baseline); err != nil {
			return nil, err
		}
		d.LastActive, d.DiscoveredAt = readTime(active), readTime(found)
		out = append(out, d)
	}
	return out, rows.Err()
}

// DiscoveredThreads returns the discovered threads of a video, the most
// recently active first.
func (s *Store) DiscoveredThreads(ctx context.Context, platform, awemeID string) ([]DiscoveredThread, error) {
	return s.queryDiscovered(ctx, "list discovered threads", platform, awemeID, "discovered_threads", "")
}

// ChangedThreads returns the discovered threads of a video whose listed
// count is above the known one, the most recently active first: the
// threads worth a poll.
func (s *Store) ChangedThreads(ctx context.Context, platform, awemeID string) ([]DiscoveredThread, error) {
	// Without the hint SQLite prefers the index that gives the order, and
	// reads every thread of the video; the partial index holds only the
	// changed ones, usually none.
	return s.queryDiscovered(ctx, "list changed threads", platform, awemeID,
		"discovered_threads INDEXED BY discovered_threads_changed", ` AND listed_total > known_total`)
}

func (s *Store) queryDiscovered(ctx context.Context, op, platform, awemeID, from, cond string) ([]DiscoveredThread, error) {
	rows, err := s.q.QueryContext(ctx,
		`SELECT `+discoveredColumns+` FROM `+from+` WHERE platform = ? AND aweme_id = ?`+cond+`
		 ORDER BY `+discoveredOrder, platform, awemeID)
	if err != nil {
		return nil, fmt.Errorf("%s of %s video %s: %w", op, platform, awemeID, err)
	}
	out, err := scanDiscovered(rows)
	if err != nil {
		return nil, fmt.Errorf("%s of %s video %s: %w", op, platform, awemeID, err)
	}
	return out, nil
}

// MarkThreadPolled records that a discovered thread was polled for the
// listed count total: pass the ListedTotal that made it a changed thread,
// not the replies the poll found. A display count may keep counting
// replies no listing shows (hidden, deleted), and a known count set from
// the poll would then stay below the listed one, making the thread worth a
// poll every cycle. A thread no longer recorded (evicted meanwhile) is no
// error.
func (s *Store) MarkThreadPolled(ctx context.Context, platform, threadID string, total int) error {
	const op = "mark thread polled"
	if err := s.writable(op); err != nil {
		return err
	}
	if _, err := s.q.ExecContext(ctx,
		`UPDATE discovered_threads SET known_total = ? WHERE platform = ? AND thread_id = ?`,
		max(total, 0), platform, threadID); err != nil {
		return fmt.Errorf("%s: %s thread %s: %w", op, platform, threadID, err)
	}
	return nil
}

// EvictDiscoveredThreads keeps the max most recently active discovered
// threads of a video and returns those it dropped, the least recently
// active first, for the caller to log. A dropped thread keeps its threads
// row (its poll state and labels), so its history stays labelled; a later
// listing that shows its count moved discovers it again.
func (s *Store) EvictDiscoveredThreads(ctx context.Context, platform, awemeID string, keep int) ([]DiscoveredThread, error) {
	const op = "evict discovered threads"
	if err := s.writable(op); err != nil {
		return nil, err
	}
	// Counted first, from the video's index alone: a video within its
	// bound (every listing of most) costs no DELETE. Both statements name
	// the index: SQLite otherwise plans them on the primary key with
	// platform = ? alone and reads every discovered thread of the
	// platform, 20 ms a video at 50,000 threads (BENCHMARKS.md, "Whole
	// videos").
	var n int
	if err := s.q.QueryRowContext(ctx,
		`SELECT count(*) FROM discovered_threads INDEXED BY discovered_threads_video WHERE platform = ? AND aweme_id = ?`,
		platform, awemeID).Scan(&n); err != nil {
		return nil, fmt.Errorf("%s of %s video %s: %w", op, platform, awemeID, err)
	}
	if n <= max(keep, 0) {
		return nil, nil
	}
	rows, err := s.q.QueryContext(ctx,
		`DELETE FROM discovered_threads
		 WHERE platform = ?1 AND thread_id IN (
		   SELECT thread_id FROM discovered_threads INDEXED BY discovered_threads_video WHERE platform = ?1 AND aweme_id = ?2
		   EXCEPT
		   SELECT thread_id FROM (SELECT thread_id FROM discovered_threads INDEXED BY discovered_threads_video
		                          WHERE platform = ?1 AND aweme_id = ?2 ORDER BY `+discoveredOrder+` LIMIT ?3) AS kept)
		 RETURNING `+discoveredColumns, platform, awemeID, max(keep, 0))
	if err != nil {
		return nil, fmt.Errorf("%s of %s video %s: %w", op, platform, awemeID, err)
	}
	out, err := scanDiscovered(rows)
	if err != nil {
		return nil, fmt.Errorf("%s of %s video %s: %w", op, platform, awemeID, err)
	}
	// RETURNING gives no order: discoveredOrder's, reversed.
	slices.SortFunc(out, func(a, b DiscoveredThread) int {
		if c := a.LastActive.Compare(b.LastActive); c != 0 {
			return c
		}
		if c := cmp.Compare(a.ListedTotal, b.ListedTotal); c != 0 {
			return c
		}
		if c := cmp.Compare(len(a.ThreadID), len(b.ThreadID)); c != 0 {
			return c
		}
		return strings.Compare(a.ThreadID, b.ThreadID)
	})
	return out, nil
}

// ListedTotals returns the reply counts the last listings showed for those
// of ids that are discovered threads of platform (the others are absent:
// a comment never seen with replies, or dropped). A newest-first video
// poll weighs them against the video's moved total to tell whether replies
// landed under comments it has not read yet.
func (s *Store) ListedTotals(ctx context.Context, platform string, ids []string) (map[string]int, error) {
	out := map[string]int{}
	for start := 0; start < len(ids); start += maxVars {
		chunk := ids[start:min(start+maxVars, len(ids))]
		args := make([]any, 0, len(chunk)+1)
		args = append(args, platform)
		for _, id := range chunk {
			args = append(args, id)
		}
		rows, err := s.q.QueryContext(ctx, `SELECT thread_id, listed_total FROM discovered_threads
			WHERE platform = ? AND thread_id IN (?`+strings.Repeat(", ?", len(chunk)-1)+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("listed totals of %s threads: %w", platform, err)
		}
		for rows.Next() {
			var id string
			var n int
			if err := rows.Scan(&id, &n); err != nil {
				rows.Close()
				return nil, fmt.Errorf("listed totals of %s threads: %w", platform, err)
			}
			out[id] = n
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return nil, fmt.Errorf("listed totals of %s threads: %w", platform, err)
		}
	}
	return out, nil
}
