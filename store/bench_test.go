package store

import (
	"context"
	"strconv"
	"testing"

	"github.com/autoreplyd/autoreplyd/model"
)

// BenchmarkClaimSettle measures the store's share of handling one reply: the
// claim (comment + claim in one transaction) and its settlement.
func BenchmarkClaimSettle(b *testing.B) {
	s, _ := openTest(b)
	ctx := context.Background()
	c := comment("")
	claims := []Claim{pending("price")}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		c.ID = strconv.Itoa(i)
		got, err := s.Record(ctx, c, model.DispositionEvaluated, claims, t0)
		if err != nil || len(got) != 1 {
			b.Fatalf("Record = %v, %v", got, err)
		}
		if err := s.Settle(ctx, got[0].ID, Settlement{Status: model.StatusSent, PlatformReplyID: "r" + c.ID}, t0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBareInsert is the floor to compare with: one autocommitted insert
// of a comment row.
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
