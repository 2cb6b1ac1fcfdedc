package store

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/model"
)

// cycleRows is how many answered comments one benchmark cycle handles: a
// busy thread's page.
const cycleRows = 20

// claimSettleCycle handles n answered comments the way the poller does: the
// page's comments and queued claims recorded in one batch, then per answer
// the attempt mark before the send and the settlement after it.
func claimSettleCycle(b *testing.B, s *Store, c model.Comment, first, n int) {
	ctx := context.Background()
	ids := make([]int64, 0, n)
	cl := Claim{Rule: "price", Responder: "kitkot", Status: model.StatusPending, ReplyText: "你好，价格请看橱窗 🙏", Queued: true}
	err := s.Batch(ctx, func(bs *Store) error {
		for i := range n {
			c.ID = strconv.Itoa(first + i)
			got, err := bs.Record(ctx, c, model.DispositionEvaluated, []Claim{cl}, t0)
			if err != nil {
				return err
			}
			ids = append(ids, got[0].ID)
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	for _, id := range ids {
		if ok, err := s.StartSend(ctx, id, t0); err != nil || !ok {
			b.Fatalf("StartSend = %v, %v", ok, err)
		}
		if err := s.Settle(ctx, id, Settlement{Status: model.StatusSent, PlatformReplyID: "76" + strconv.FormatInt(id, 10)}, t0); err != nil {
			b.Fatal(err)
		}
	}
}

// bareInsertCycle inserts the same rows as claimSettleCycle leaves behind
// (comment + claim settled sent) in one transaction, with plain prepared
// INSERTs: the floor.
func bareInsertCycle(b *testing.B, s *Store, c model.Comment, first, n int) {
	ctx := context.Background()
	ts := formatTime(t0)
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Rollback()
	insC := tx.StmtContext(ctx, s.stmts.insertComment)
	for i := range n {
		id := strconv.Itoa(first + i)
		if _, err := insC.ExecContext(ctx, c.Platform, id, c.ThreadID, c.PostID, c.RootID, c.ReplyToID,
			c.User.UID, c.User.Nickname, c.User.UniqueID, c.Text, nullTime(c.CreatedAt), model.DispositionEvaluated, ts); err != nil {
			b.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO replies (platform, comment_id, thread_id, rule, responder, status, reason,
			   reply_text, attempts, platform_reply_id, created_at, updated_at)
			 VALUES (?, ?, ?, ?, ?, ?, '', ?, 1, ?, ?, ?)`,
			c.Platform, id, c.ThreadID, "price", "kitkot", model.StatusSent, "你好，价格请看橱窗 🙏", "76"+id, ts, ts); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkClaimSettleVsBareInsert runs both in one run, alternating cycles
// of cycleRows answered comments on two databases growing alike, and reports
// each one's time per row and their ratio (issue 8's target: at most 2).
func BenchmarkClaimSettleVsBareInsert(b *testing.B) {
	protocol, _ := openTest(b)
	bare, _ := openTest(b)
	c := comment("")
	var tProto, tBare time.Duration
	rows := 0
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		first := i * cycleRows
		start := time.Now()
		claimSettleCycle(b, protocol, c, first, cycleRows)
		tProto += time.Since(start)
		start = time.Now()
		bareInsertCycle(b, bare, c, first, cycleRows)
		tBare += time.Since(start)
		rows += cycleRows
	}
	b.ReportMetric(float64(tProto.Nanoseconds())/float64(rows), "claim+settle-ns/row")
	b.ReportMetric(float64(tBare.Nanoseconds())/float64(rows), "bare-ns/row")
	b.ReportMetric(float64(tProto)/float64(tBare), "ratio")
}

// BenchmarkClaimSettle is the store's share of one answered comment alone,
// recorded in a batch of its own (a page with one new answer): the worst
// case of the protocol above.
func BenchmarkClaimSettle(b *testing.B) {
	s, _ := openTest(b)
	c := comment("")
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		claimSettleCycle(b, s, c, i, 1)
	}
}

// BenchmarkBareInsert is one autocommitted insert of a comment row, for
// comparison with BenchmarkClaimSettle.
func BenchmarkBareInsert(b *testing.B) {
	s, _ := openTest(b)
	ctx := context.Background()
	ts := formatTime(t0)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		_, err := s.db.ExecContext(ctx,
			`INSERT INTO comments (platform, comment_id, text, disposition, seen_at) VALUES (?, ?, ?, ?, ?)`,
			"douyin", strconv.Itoa(i), "how much?", model.DispositionEvaluated, ts)
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSaveIdleStates saves the states of 10,000 labelled threads (a
// cycle's idle polls, each row already there) in commits of n states, as
// the poller's idle batches do, one statement a state (SaveThreadState) or
// in multi-row statements (SaveThreadStates): an op is a cycle's worth.
func BenchmarkSaveIdleStates(b *testing.B) {
	const threads = 10000
	for _, bc := range []struct {
		n        int
		multiRow bool
	}{{200, false}, {1000, false}, {5000, false}, {200, true}, {1000, true}, {5000, true}} {
		n, name := bc.n, "one-a-statement"
		if bc.multiRow {
			name = "multi-row"
		}
		b.Run(name+"/batch="+strconv.Itoa(n), func(b *testing.B) {
			s, _ := openTest(b)
			ctx := context.Background()
			states := make([]model.ThreadState, threads)
			for i := range states {
				states[i] = model.ThreadState{Platform: "douyin", ThreadID: "7" + strconv.Itoa(1_000_000_000+i), Initialized: true,
					Total: 20, Known: 20, Order: "newest", PageSize: 10, Polls: 1, LastPolled: t0}
			}
			save := func(batch []model.ThreadState) {
				err := s.Batch(ctx, func(db *Store) error {
					if bc.multiRow {
						return db.SaveThreadStates(ctx, batch)
					}
					for _, st := range batch {
						if err := db.SaveThreadState(ctx, st); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			labels := make([]ThreadLabels, len(states))
			for i, st := range states {
				labels[i] = ThreadLabels{Platform: st.Platform, ThreadID: st.ThreadID, Labels: map[string]string{"campaign": "春季"}}
			}
			if err := s.SetThreadLabels(ctx, labels); err != nil {
				b.Fatal(err)
			}
			save(states)
			b.ReportAllocs()
			for k := 0; b.Loop(); k++ {
				for i := range states {
					states[i].Polls++
					states[i].IdlePolls++
					states[i].LastPolled = t0.Add(time.Duration(k) * time.Minute)
				}
				for i := 0; i < threads; i += n {
					save(states[i:min(i+n, threads)])
				}
			}
		})
	}
}
