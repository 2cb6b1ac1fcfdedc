package store

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/model"
)

// The console benchmarks run on a history of benchClaims claims (one per
// comment) over benchDays days up to benchEnd: 11,000 a day, a busy
// account's quarter under `retention: 90d`. Rules, threads and users are
// Zipf-distributed: the busiest thread and the busiest user have 169,000
// and 131,000 comments, the worst case of the thread and user queries.
// Claims for a person from the last benchWaitingDays days are still waiting
// (flagged or held: the inbox); older ones were decided.
const (
	benchClaims      = 1_000_000
	benchDays        = 90
	benchWaitingDays = 3
	benchRules       = 20
	benchThreads     = 2_000
	benchUsers       = 200_000
	// benchGen names the generator's version in the cached file's name:
	// change it whenever the data below changes (a change of the schema
	// changes the name by itself).
	benchGen = 1
)

// benchEnd is the end of the benchmark history: "now" for the queries.
var benchEnd = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

// benchRuleName is the name of rule i; two are Chinese, as real ones are.
func benchRuleName(i int) string {
	switch i {
	case 0:
		return "价格"
	case 3:
		return "投诉 complaint"
	}
	return fmt.Sprintf("rule-%02d", i)
}

// benchThreadID and benchUserUID are the ids of thread i and user i: long
// numeric strings as the platforms' are.
func benchThreadID(i int) string { return strconv.Itoa(7251524159191958327 + i) }
func benchUserUID(i int) string  { return "MS4wLjABAAAA" + strconv.Itoa(100000+i) }

// consoleBenchDB returns the path of the benchmark database, building it on
// first use in the temporary directory, keyed by the schema (its version
// and a hash of its migrations) and the generator's version, so that later
// runs reuse it (3 minutes to build, 1 GB).
func consoleBenchDB(b *testing.B) string {
	b.Helper()
	h := fnv.New64a()
	for _, m := range migrations {
		h.Write([]byte(m))
	}
	path := filepath.Join(os.TempDir(), fmt.Sprintf("autoreplyd-console-bench-s%d-%x-g%d.db", SchemaVersion, h.Sum64(), benchGen))
	if _, err := os.Stat(path); err == nil {
		return path
	}
	start := time.Now()
	tmp := path + ".building"
	for _, p := range []string{tmp, tmp + "-wal", tmp + "-shm"} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			b.Fatal(err)
		}
	}
	if err := buildConsoleBench(context.Background(), tmp); err != nil {
		b.Fatalf("build %s: %v", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		b.Fatal(err)
	}
	b.Logf("built %s in %s", path, time.Since(start).Round(time.Second))
	return path
}

// buildConsoleBench writes the benchmark history into a new database at
// path: one transaction, prepared statements.
func buildConsoleBench(ctx context.Context, path string) (err error) {
	s, err := Open(ctx, path)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, s.Close()) }()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	insC, err := tx.PrepareContext(ctx, `INSERT INTO comments (platform, comment_id, thread_id, post_id, root_id,
		reply_to_id, user_uid, user_nickname, user_unique_id, text, comment_created_at, disposition, seen_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'evaluated', ?)`)
	if err != nil {
		return err
	}
	insR, err := tx.PrepareContext(ctx, `INSERT INTO replies (platform, comment_id, thread_id, rule, responder,
		status, reason, reply_text, attempts, platform_reply_id, created_at, updated_at)
		VALUES (?, ?, ?, ?, 'kitkot', ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(18, 6))
	zipf := func(n uint64) *rand.Zipf { return rand.NewZipf(rng, 1.1, 1, n-1) }
	rules, threads, users := zipf(benchRules), zipf(benchThreads), zipf(benchUsers)
	//nolint:gosec // G115: a Zipf draws at most its imax, a small constant
	draw := func(z *rand.Zipf) int { return int(z.Uint64()) }
	start := benchEnd.Add(-benchDays * 24 * time.Hour)
	step := benchDays * 24 * time.Hour / benchClaims
	waitingFrom := benchEnd.Add(-benchWaitingDays * 24 * time.Hour)
	// lastInThread is each thread's latest comment id, for replies.
	lastInThread := make(map[int]string)
	for i := range benchClaims {
		at := start.Add(time.Duration(i) * step)
		ts := formatTime(at)
		id := strconv.Itoa(7300000000000000000 + i)
		th, user, rule := draw(threads), draw(users), draw(rules)
		root, replyTo := "0", "0"
		if prev, ok := lastInThread[th]; ok && rng.IntN(3) == 0 {
			root, replyTo = prev, prev
		}
		lastInThread[th] = id
		status, reason, text, attempts, replyID := model.StatusSent, "", "你好，价格请看橱窗 🙏", 1, ""
		switch p := rng.IntN(100); {
		case p < 35:
			status, text, attempts = model.StatusSkipped, "", 0
			reason = [...]string{model.ReasonNoReplyRule, model.ReasonNoReplyRule, "cooldown", "daily_cap"}[rng.IntN(4)]
		case p < 40:
			status, attempts = model.StatusDryRun, 0
		case p < 43:
			status, reason = model.StatusFailed, "platform_400"
		case p < 44:
			status, reason = model.StatusUnknown, model.ReasonCrashed
		case p < 46:
			status, text, attempts = model.StatusFlagged, "", 0
			if at.Before(waitingFrom) {
				status = model.StatusHandled
			}
		case p < 48:
			status, attempts = model.StatusHeld, 0
			if at.Before(waitingFrom) {
				status = [...]string{model.StatusRejected, model.StatusExpired, model.StatusSent}[rng.IntN(3)]
			}
		}
		if status == model.StatusSent {
			replyID = strconv.Itoa(7400000000000000000 + i)
		}
		uid := benchUserUID(user)
		if _, err := insC.ExecContext(ctx, model.PlatformDouyin, id, benchThreadID(th), "post"+benchThreadID(th), root, replyTo,
			uid, "用户"+strconv.Itoa(user)+" 🌸", "handle"+strconv.Itoa(user),
			"请问这个多少钱？😀 "+strconv.Itoa(i), ts, ts); err != nil {
			return err
		}
		if _, err := insR.ExecContext(ctx, model.PlatformDouyin, id, benchThreadID(th), benchRuleName(rule),
			status, reason, text, attempts, replyID, ts, ts); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
	return err
}

// openConsoleBench opens the benchmark database read-only, as `history`
// would; the console's queries are the same on the daemon's connection.
func openConsoleBench(b *testing.B) *Store {
	b.Helper()
	if testing.Short() {
		b.Skip("-short: the million-claim database takes minutes to build")
	}
	s, err := OpenReadOnly(context.Background(), consoleBenchDB(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	return s
}

// busiest returns the thread and the user with the most comments, and the
// newest comment of that thread that answers another.
func busiest(b *testing.B, s *Store) (thread, user, commentID string) {
	b.Helper()
	ctx := context.Background()
	if err := s.db.QueryRowContext(ctx, `SELECT thread_id FROM comments GROUP BY thread_id ORDER BY count(*) DESC LIMIT 1`).Scan(&thread); err != nil {
		b.Fatal(err)
	}
	if err := s.db.QueryRowContext(ctx, `SELECT user_uid FROM comments GROUP BY user_uid ORDER BY count(*) DESC LIMIT 1`).Scan(&user); err != nil {
		b.Fatal(err)
	}
	if err := s.db.QueryRowContext(ctx, `SELECT comment_id FROM comments WHERE platform = 'douyin' AND thread_id = ? AND reply_to_id <> '0'
		ORDER BY seen_at DESC LIMIT 1`, thread).Scan(&commentID); err != nil {
		b.Fatal(err)
	}
	return thread, user, commentID
}

// BenchmarkConsoleQueries measures each console query on the million-claim
// history; every one must stay well under the 50 ms of a page.
func BenchmarkConsoleQueries(b *testing.B) {
	s := openConsoleBench(b)
	thread, user, cid := busiest(b, s)
	ctx := context.Background()
	day := 24 * time.Hour
	b.Run("RuleStats24hHourly", func(b *testing.B) {
		for b.Loop() {
			mustStats(b, s, benchEnd.Add(-day), benchEnd, time.Hour)
		}
	})
	b.Run("RuleStats7dDaily", func(b *testing.B) {
		for b.Loop() {
			mustStats(b, s, benchEnd.Add(-7*day), benchEnd, day)
		}
	})
	b.Run("RuleStats7dHourly", func(b *testing.B) {
		for b.Loop() {
			mustStats(b, s, benchEnd.Add(-7*day), benchEnd, time.Hour)
		}
	})
	b.Run("InboxHistory100", func(b *testing.B) {
		for b.Loop() {
			rows, err := s.History(ctx, Filter{Statuses: []string{model.StatusFlagged, model.StatusHeld}, Limit: 100})
			if err != nil || len(rows) != 100 {
				b.Fatalf("History = %d rows, %v", len(rows), err)
			}
		}
	})
	b.Run("Inbox100", func(b *testing.B) {
		for b.Loop() {
			if rows, err := s.Inbox(ctx, 100); err != nil || len(rows) != 100 {
				b.Fatalf("Inbox = %d rows, %v", len(rows), err)
			}
		}
	})
	b.Run("InboxCount", func(b *testing.B) {
		for b.Loop() {
			if n, err := s.CountStatuses(ctx, model.StatusFlagged, model.StatusHeld); err != nil || n == 0 {
				b.Fatalf("CountStatuses = %d, %v", n, err)
			}
		}
	})
	b.Run("ThreadContextBusiest", func(b *testing.B) {
		for b.Loop() {
			tc, err := s.ThreadContext(ctx, model.PlatformDouyin, thread, cid, DefaultContextLimit)
			if err != nil || tc.RepliesTo == nil || len(tc.Answers) != DefaultContextLimit {
				b.Fatalf("ThreadContext = %+v, %v", tc, err)
			}
		}
	})
	b.Run("UserHistoryBusiest", func(b *testing.B) {
		for b.Loop() {
			h, err := s.UserHistory(ctx, model.PlatformDouyin, user, DefaultContextLimit)
			if err != nil || len(h) != DefaultContextLimit {
				b.Fatalf("UserHistory = %d, %v", len(h), err)
			}
		}
	})
	// What the two heaviest pages read: the rules page both periods, the
	// inbox page its newest 50 waiting claims, each with its thread
	// context and its author's history (5 rows each).
	b.Run("RulesPage", func(b *testing.B) {
		for b.Loop() {
			mustStats(b, s, benchEnd.Add(-day), benchEnd, time.Hour)
			mustStats(b, s, benchEnd.Add(-7*day), benchEnd, day)
		}
	})
	b.Run("InboxPage50", func(b *testing.B) {
		for b.Loop() {
			rows, err := s.Inbox(ctx, 50)
			if err != nil || len(rows) != 50 {
				b.Fatalf("Inbox = %d rows, %v", len(rows), err)
			}
			for _, r := range rows {
				if _, err := s.ThreadContext(ctx, r.Platform, r.ThreadID, r.CommentID, 5); err != nil {
					b.Fatal(err)
				}
				if _, err := s.UserHistory(ctx, r.Platform, r.UserUID, 5); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}

func mustStats(b *testing.B, s *Store, since, until time.Time, bucket time.Duration) {
	b.Helper()
	st, err := s.RuleStats(context.Background(), since, until, bucket)
	if err != nil || len(st) != benchRules {
		b.Fatalf("RuleStats = %d rules, %v", len(st), err)
	}
}
