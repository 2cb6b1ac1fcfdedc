// Package platformtest holds checks every source's tests share, so that each
// platform is held to the same contract.
package platformtest

import (
	"slices"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/model"
)

// CheckTimes checks the comments of one poll against the create time each
// must have (want, by comment id; in UTC), that they come sorted by it, and
// that the poll reported bad unusable times naming one of the hostile ones.
func CheckTimes(t testing.TB, res model.PollResult, want map[string]time.Time, hostile map[string]bool, bad int) {
	t.Helper()
	if len(res.Comments) != len(want) {
		t.Fatalf("%d comments, want %d", len(res.Comments), len(want))
	}
	for _, c := range res.Comments {
		if !c.CreatedAt.Equal(want[c.ID]) || c.CreatedAt.Location() != time.UTC {
			t.Errorf("comment %s (%q): created %v, want %v", c.ID, c.Text, c.CreatedAt, want[c.ID])
		}
	}
	if !slices.IsSortedFunc(res.Comments, func(a, b model.Comment) int { return a.CreatedAt.Compare(b.CreatedAt) }) {
		t.Error("comments not sorted by create time")
	}
	if b := res.BadTimes; b.Count != bad || !hostile[b.FirstID] {
		t.Errorf("bad times %+v, want %d naming a hostile comment", b, bad)
	}
}
