package poller

import "testing"

func TestPickVariant(t *testing.T) {
	t.Parallel()
	if got := pickVariant(nil); got != "" {
		t.Fatalf("no variants: got %q", got)
	}
	if got := pickVariant([]string{"only"}); got != "only" {
		t.Fatalf("one variant: got %q", got)
	}
	vs := []string{"甲", "乙", "丙"}
	seen := map[string]int{}
	for range 1000 {
		seen[pickVariant(vs)]++
	}
	for v := range seen {
		if v != "甲" && v != "乙" && v != "丙" {
			t.Fatalf("picked %q, not a variant", v)
		}
	}
	// 1000 draws miss a variant with probability about 3*(2/3)^1000.
	if len(seen) != 3 {
		t.Fatalf("not every variant picked: %v", seen)
	}
}
