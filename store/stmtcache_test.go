package store

import (
	"context"
	"sync"
	"testing"
)

// The console's reads prepare each statement once, concurrently safe, and
// Close closes them; inside a batch they run on its transaction, uncached.
func TestStatementCache(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	ctx := context.Background()
	mustRecord(t, s, comment("1"), t0, pending("price"))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 20 {
				if _, err := s.UserHistory(ctx, "douyin", "u1", 5); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	s.cache.mu.Lock()
	n := len(s.cache.m)
	s.cache.mu.Unlock()
	if n != 1 {
		t.Fatalf("%d statements cached after one query run 160 times, want 1", n)
	}
	h, err := s.UserHistory(ctx, "douyin", "u1", 5)
	if err != nil || len(h) != 1 || len(h[0].Claims) != 1 || h[0].Claims[0].Rule != "price" {
		t.Fatalf("UserHistory through the cache = %+v, %v", h, err)
	}
	// A batch reads its own writes: uncached, on its transaction.
	err = s.Batch(ctx, func(b *Store) error {
		mustRecord(t, b, comment("2"), t0, pending("thanks"))
		c := comment("2")
		h, err := b.UserHistory(ctx, "douyin", c.User.UID, 5)
		if err != nil || len(h) != 1 {
			t.Errorf("UserHistory inside a batch = %+v, %v", h, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cache.close(); err != nil {
		t.Fatal(err)
	}
	if s.cache.m != nil {
		t.Error("close left statements")
	}
	// Still usable: prepared again on demand.
	if _, err := s.UserHistory(ctx, "douyin", "u1", 5); err != nil {
		t.Fatal(err)
	}
}
