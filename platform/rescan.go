package platform

import "hash/fnv"

// RescanDue reports whether the poll of thread id that follows its
// prevPolls-th is one of its periodic full scans, every n-th poll (n ≤ 0:
// none; the first poll is always a full scan and is not counted here).
// The first periodic one comes after n to 2n−1 polls, then every n: each
// thread counts from its own offset, derived from its id, as threads
// watched since the same cycle and polled every cycle would otherwise all
// rescan in the same cycle, making it several periods long (BENCHMARKS.md,
// load harness run (a3)).
func RescanDue(id string, prevPolls int64, n int) bool {
	if n <= 0 || prevPolls < int64(n) {
		return false
	}
	h := fnv.New32a()
	h.Write([]byte(id))
	off := int64(h.Sum32()) % int64(n)
	return (prevPolls+off)%int64(n) == 0
}
