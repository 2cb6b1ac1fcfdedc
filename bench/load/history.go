package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/autoreplyd/autoreplyd/store"
)

// The pre-seeded history: n handled comments, each a row in comments and its
// claim a row in replies, created over the 90 days before the seeding, in
// the watched threads, by a few thousand users. Most questions were answered
// (sent), some held back by a cooldown, a few failed or are unknown; spam
// was skipped. Nothing is pending or retrying, so the daemon has nothing of
// it to resume: the history only weighs on the database.

// historyThreads is how many of the harness's thread ids the history spreads
// over (independent of -threads, so one cached file serves every run).
const historyThreads = 10000

// historySeedBatch rows are inserted per transaction.
const historySeedBatch = 50000

// historyRowsPerInsert rows go into one INSERT statement of each table:
// with one statement a row, database/sql's and the driver's work per call
// was most of the seeding.
const historyRowsPerInsert = 100

// historyInfo says where the seeded database came from.
type historyInfo struct {
	Rows        int     `json:"rows"`
	Cache       string  `json:"cache"`
	Reused      bool    `json:"reused"`
	SeedSeconds float64 `json:"seed_seconds,omitempty"`
	Bytes       int64   `json:"bytes"`
}

// defaultHistoryCache is <user cache dir>/autoreplyd-bench/history-N.db.
func defaultHistoryCache(n int) (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "autoreplyd-bench", "history-"+strconv.Itoa(n)+".db"), nil
}

// prepareHistory puts a database with n rows of history at dst: a copy of
// the cache, seeded first when the cache is missing or does not have this
// schema version and n rows.
func prepareHistory(ctx context.Context, n int, cache, dst string, logf func(string, ...any)) (historyInfo, error) {
	info := historyInfo{Rows: n, Cache: cache}
	if ok, why := historyCacheOK(ctx, cache, n); ok {
		info.Reused = true
	} else {
		logf("seeding %d history rows into %s (%s)", n, cache, why)
		start := time.Now()
		if err := os.MkdirAll(filepath.Dir(cache), 0o750); err != nil {
			return info, err
		}
		tmp := cache + ".tmp-" + strconv.Itoa(os.Getpid())
		removeDB(tmp)
		if err := seedHistory(ctx, tmp, n, logf); err != nil {
			removeDB(tmp)
			return info, fmt.Errorf("seed history: %w", err)
		}
		removeDB(cache)
		if err := os.Rename(tmp, cache); err != nil {
			return info, err
		}
		info.SeedSeconds = time.Since(start).Seconds()
	}
	if err := copyFile(cache, dst); err != nil {
		return info, err
	}
	if fi, err := os.Stat(dst); err == nil {
		info.Bytes = fi.Size()
	}
	return info, nil
}

// removeDB removes a database file and its WAL companions.
func removeDB(p string) {
	for _, s := range []string{"", "-wal", "-shm", "-journal"} {
		_ = os.Remove(p + s)
	}
}

// sqliteDSN is a modernc.org/sqlite DSN for path with params.
func sqliteDSN(path, params string) (string, error) {
	if strings.ContainsAny(path, "?#") {
		return "", fmt.Errorf("database path %q: '?' and '#' are not supported", path)
	}
	return "file:" + path + "?" + params, nil
}

// historyCacheOK reports whether the cache holds n rows of history in the
// schema this autoreplyd writes, and if not, why.
func historyCacheOK(ctx context.Context, path string, n int) (ok bool, why string) {
	if _, err := os.Stat(path); err != nil {
		return false, "no cache yet"
	}
	for _, s := range []string{"-wal", "-journal"} {
		if fi, err := os.Stat(path + s); err == nil && fi.Size() > 0 {
			return false, "the cache was not closed cleanly"
		}
	}
	dsn, err := sqliteDSN(path, "mode=ro")
	if err != nil {
		return false, err.Error()
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return false, err.Error()
	}
	defer func() {
		if err := db.Close(); err != nil && ok {
			ok, why = false, err.Error()
		}
	}()
	var v, replies, comments int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return false, err.Error()
	}
	if v != store.SchemaVersion {
		return false, fmt.Sprintf("the cache has schema version %d, autoreplyd now %d", v, store.SchemaVersion)
	}
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM replies").Scan(&replies); err != nil {
		return false, err.Error()
	}
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM comments").Scan(&comments); err != nil {
		return false, err.Error()
	}
	if replies != n || comments != n {
		return false, fmt.Sprintf("the cache has %d replies and %d comments, not %d", replies, comments, n)
	}
	return true, ""
}

// seedHistory creates path with the real schema (store.Open migrates it),
// drops the secondary indexes of comments and replies, inserts n rows into
// each in large transactions, and creates the indexes again with the very
// statements the schema made them with.
func seedHistory(ctx context.Context, path string, n int, logf func(string, ...any)) (err error) {
	st, err := store.Open(ctx, path)
	if err != nil {
		return err
	}
	if err := st.Close(); err != nil {
		return err
	}
	dsn, err := sqliteDSN(path, "_pragma=busy_timeout(5000)&_pragma=synchronous(OFF)&_pragma=cache_size(-262144)")
	if err != nil {
		return err
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return err
	}
	// Closed below, or here on an early return (Close is idempotent).
	defer func() { err = errors.Join(err, db.Close()) }()
	db.SetMaxOpenConns(1)

	type index struct{ name, sql string }
	var indexes []index
	rows, err := db.QueryContext(ctx, `SELECT name, sql FROM sqlite_master
		WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ('comments', 'replies') ORDER BY name`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var ix index
		if err := rows.Scan(&ix.name, &ix.sql); err != nil {
			rows.Close()
			return err
		}
		indexes = append(indexes, ix)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, ix := range indexes {
		if _, err := db.ExecContext(ctx, `DROP INDEX "`+ix.name+`"`); err != nil {
			return err
		}
	}

	// No rollback journal while seeding: a seeding that fails leaves a
	// file that is removed anyway, and the WAL would write every page twice.
	// WAL, as the store made it, is set again at the end.
	if _, err := db.ExecContext(ctx, "PRAGMA journal_mode=OFF"); err != nil {
		return err
	}
	// The rows are made in a goroutine of their own, a batch ahead of the
	// inserts: on two cores making them costs about as much as inserting.
	batches := make(chan []historyRow, 2)
	genCtx, stop := context.WithCancel(ctx)
	defer stop()
	go func() {
		defer close(batches)
		g := newHistoryRows(n, time.Now())
		for done := 0; done < n; {
			b := make([]historyRow, min(historySeedBatch, n-done))
			for i := range b {
				b[i] = g.next()
			}
			done += len(b)
			select {
			case batches <- b:
			case <-genCtx.Done():
				return
			}
		}
	}()
	done := 0
	for b := range batches {
		if err := insertHistory(ctx, db, b); err != nil {
			return err
		}
		done += len(b)
		if done%500000 == 0 || done == n {
			logf("  %d/%d rows", done, n)
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	logf("  creating %d indexes again", len(indexes))
	for _, ix := range indexes {
		if _, err := db.ExecContext(ctx, ix.sql); err != nil {
			return fmt.Errorf("create index %s: %w", ix.name, err)
		}
	}
	if _, err := db.ExecContext(ctx, "PRAGMA journal_mode=WAL"); err != nil {
		return err
	}
	if _, err := db.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		return err
	}
	return db.Close()
}

// Each seeded row's columns, in the order of the INSERTs below.
const (
	commentInsert = `INSERT INTO comments (platform, comment_id, thread_id, post_id, root_id,
		reply_to_id, user_uid, user_nickname, user_unique_id, text, comment_created_at, disposition, seen_at) VALUES `
	commentValues = `('douyin', ?, ?, ?, ?, '0', ?, ?, ?, ?, ?, 'evaluated', ?)`
	claimInsert   = `INSERT INTO replies (platform, comment_id, thread_id, rule, responder, status,
		reason, error, reply_text, attempts, platform_reply_id, created_at, updated_at) VALUES `
	claimValues = `('douyin', ?, ?, ?, 'kitkot', ?, ?, ?, ?, ?, ?, ?, ?)`
)

// multiInsert is head followed by k copies of values.
func multiInsert(head, values string, k int) string {
	var b strings.Builder
	b.WriteString(head)
	for i := range k {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(values)
	}
	return b.String()
}

// insertHistory inserts rows in one transaction, historyRowsPerInsert rows
// a statement.
func insertHistory(ctx context.Context, db *sql.DB, rows []historyRow) (err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var comment, claim *sql.Stmt // prepared for the statement size in use
	defer func() {
		for _, st := range []*sql.Stmt{comment, claim} {
			if st != nil {
				err = errors.Join(err, st.Close())
			}
		}
	}()
	size := 0
	var cargs, rargs []any
	for len(rows) > 0 {
		k := min(historyRowsPerInsert, len(rows))
		if k != size {
			for _, st := range []*sql.Stmt{comment, claim} {
				if st != nil {
					if err := st.Close(); err != nil {
						return err
					}
				}
			}
			comment, claim = nil, nil
			if comment, err = tx.PrepareContext(ctx, multiInsert(commentInsert, commentValues, k)); err != nil {
				return err
			}
			if claim, err = tx.PrepareContext(ctx, multiInsert(claimInsert, claimValues, k)); err != nil {
				return err
			}
			size = k
		}
		cargs, rargs = cargs[:0], rargs[:0]
		for _, r := range rows[:k] {
			cargs = append(cargs, r.commentID, r.thread, r.post, r.thread, r.user.uid, r.user.nickname,
				r.user.uniqueID, r.text, r.commentAt, r.created)
			rargs = append(rargs, r.commentID, r.thread, r.rule, r.status, r.reason, r.errText, r.replyText,
				r.attempts, r.platformReplyID, r.created, r.updated)
		}
		if _, err := comment.ExecContext(ctx, cargs...); err != nil {
			return err
		}
		if _, err := claim.ExecContext(ctx, rargs...); err != nil {
			return err
		}
		rows = rows[k:]
	}
	return tx.Commit()
}

// historyRow is one seeded comment and its claim.
type historyRow struct {
	commentID, thread, post, text string
	user                          user
	rule, status, reason, errText string
	replyText, platformReplyID    string
	attempts                      int
	commentAt, created, updated   string
}

// historyRows makes the rows, deterministically, spread evenly over the 90
// days before end (ids grow with time, as in a real history).
type historyRows struct {
	g     *generator
	n, i  int
	start time.Time
	step  time.Duration
}

func newHistoryRows(n int, end time.Time) *historyRows {
	span := 90 * 24 * time.Hour
	return &historyRows{g: newGenerator(90), n: n, start: end.Add(-span), step: span / time.Duration(max(n, 1))}
}

func (h *historyRows) next() historyRow {
	g := h.g
	i := h.i
	h.i++
	rnd := g.rnd
	t := h.start.Add(time.Duration(i)*h.step + time.Duration(rnd.Int64N(int64(h.step)+1)))
	th := rnd.IntN(historyThreads)
	u := g.users[rnd.IntN(len(g.users))]
	r := historyRow{
		commentID: strconv.FormatInt(7_100_000_000_000_000_000+int64(i), 10),
		thread:    threadID(th),
		post:      awemeID(th),
		user:      u,
		commentAt: t.Add(-time.Duration(rnd.Int64N(int64(10 * time.Minute)))).UTC().Format(store.TimeLayout),
		created:   t.UTC().Format(store.TimeLayout),
	}
	updated := t.Add(time.Second + time.Duration(rnd.Int64N(int64(3*time.Second))))
	r.updated = updated.UTC().Format(store.TimeLayout)
	switch x := rnd.IntN(100); {
	case x < 30:
		r.rule, r.text, r.status, r.reason = "spam", g.text(spam), "skipped", "no_reply_rule"
		r.updated = r.created
		return r
	case x < 75:
		r.rule, r.text = "price", pickQuestion(rnd, "多少钱", "价格", "how much")
		if rnd.IntN(2) == 0 {
			r.replyText = u.nickname + " 你好，价格请看视频下方的橱窗哦～"
		} else {
			r.replyText = "亲，价格都在橱窗里，欢迎去看看[比心]"
		}
	default:
		r.rule, r.text = "buy_link", pickQuestion(rnd, "链接", "怎么买", "where to buy")
		r.replyText = u.nickname + "，点视频左下角的小黄车就能下单啦[呲牙]"
	}
	switch x := rnd.IntN(1000); {
	case x < 920:
		r.status, r.attempts = "sent", 1
		r.platformReplyID = strconv.FormatInt(7_500_000_000_000_000_000+int64(i)*3, 10)
	case x < 970:
		r.status, r.reason = "skipped", "cooldown"
		r.updated = r.created
	case x < 990:
		r.status, r.reason, r.attempts = "failed", "http_400", 1
		r.errText = "kitkot: HTTP 400: Failed to publish reply"
	default:
		r.status, r.reason, r.attempts = "unknown", "crashed", 1
		r.errText = "pending when the daemon stopped; the reply may or may not have been posted"
	}
	return r
}

// pickQuestion picks a question text holding one of words.
func pickQuestion(rnd *mrand.Rand, words ...string) string {
	for {
		t := questionTexts[rnd.IntN(len(questionTexts))]
		for _, w := range words {
			if strings.Contains(strings.ToLower(t), w) {
				return t
			}
		}
	}
}

// copyFile copies src to dst (created or truncated).
func copyFile(src, dst string) (err error) {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, in.Close()) }()
	removeDB(dst)
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := out.Close(); err == nil {
			err = cerr
		}
	}()
	if _, err := io.Copy(out, in); err != nil {
		return err
	}
	return out.Sync()
}
