package platform

import (
	"fmt"
	"testing"
)

// Every thread rescans once every n polls, the first time after n to 2n−1
// polls, and threads polled together spread their rescans over n cycles.
func TestRescanDue(t *testing.T) {
	t.Parallel()
	const n = 60
	perCycle := make([]int, n)
	for i := range 6000 {
		id := fmt.Sprintf("%d", 7251524159191958327+int64(i)*1009)
		var at []int64
		for polls := int64(1); polls < 4*n; polls++ {
			if RescanDue(id, polls, n) {
				at = append(at, polls)
			}
		}
		if len(at) != 3 || at[0] < n || at[0] >= 2*n || at[1]-at[0] != n || at[2]-at[1] != n {
			t.Fatalf("thread %s rescans after polls %v, want every %d", id, at, n)
		}
		perCycle[at[0]%n]++
	}
	for c, k := range perCycle { // 100 expected in each
		if k < 50 || k > 150 {
			t.Errorf("%d of 6000 threads rescan at poll ≡ %d (mod %d), want about 100: %v", k, c, n, perCycle)
		}
	}
	for _, tc := range []struct {
		polls int64
		n     int
	}{{0, 60}, {59, 60}, {60, 0}, {60, -1}, {-5, 3}} {
		if RescanDue("1", tc.polls, tc.n) {
			t.Errorf("RescanDue(polls %d, every %d) = true", tc.polls, tc.n)
		}
	}
}
