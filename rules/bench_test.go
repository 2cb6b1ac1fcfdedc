package rules

import (
	"strings"
	"testing"
	"time"

	"github.com/expr-lang/expr/vm"

	"github.com/autoreplyd/autoreplyd/model"
)

// Issue 8's target: evaluating rules costs at most 1.5× running the same
// compiled expr programs directly. The floor below is what a caller holding
// the compiled programs would do by hand: build the typed env once per
// comment, run the conditions in order on one reused vm.VM until the first
// match, and render that rule's reply segments. It shares the Set's
// programs (same helpers, same patches), so the difference is the rules
// package's own overhead.

// floorRule is one rule reduced to its compiled programs.
type floorRule struct {
	when    *vm.Program
	replies [][]segment
	cont    bool
}

// floor runs compiled programs directly, without the rules package.
type floor struct {
	rules []floorRule
	loc   *time.Location
	m     vm.VM
}

func newFloor(s *Set) *floor {
	f := &floor{loc: s.loc}
	for _, r := range s.rules {
		f.rules = append(f.rules, floorRule{when: r.when, replies: r.replies, cont: r.info.Continue})
	}
	return f
}

// evaluate returns the replies rendered for c, first match first, as
// Set.Evaluate would, and the number of rules that acted.
func (f *floor) evaluate(c model.Comment, now time.Time, out []string) ([]string, int) {
	labels := c.Labels
	if labels == nil {
		labels = map[string]string{}
	}
	var env any = Env{
		Platform: c.Platform, ID: c.ID, Thread: c.ThreadID, Post: c.PostID, Text: c.Text,
		CreatedAt: c.CreatedAt.In(f.loc), Age: now.Sub(c.CreatedAt),
		Likes: int(c.Likes), Level: int(c.Level),
		ReplyTo: c.ReplyToID, ReplyToUser: c.ReplyToUser, AuthorLiked: c.AuthorLiked,
		User: EnvUser{UID: c.User.UID, Nickname: c.User.Nickname, UniqueID: c.User.UniqueID,
			Region: c.User.Region, Verified: c.User.Verified},
		Labels: labels, Now: now.In(f.loc),
	}
	acted := 0
	for i := range f.rules {
		r := &f.rules[i]
		v, err := f.m.Run(r.when, env)
		if err != nil || v != true {
			continue
		}
		ok, n := true, len(out)
		for _, segs := range r.replies {
			var b strings.Builder
			for _, s := range segs {
				if s.prog == nil {
					b.WriteString(s.lit)
					continue
				}
				v, err := f.m.Run(s.prog, env)
				if err != nil {
					ok = false
					break
				}
				if str, isStr := v.(string); isStr {
					b.WriteString(str)
				} else {
					writeValue(&b, v, f.loc)
				}
			}
			out = append(out, b.String())
		}
		if !ok {
			out = out[:n]
			continue
		}
		acted++
		if !r.cont {
			break
		}
	}
	return out, acted
}

func benchComment() model.Comment { return comment("这个价格多少 [呲牙]") }

// TestFloorMatchesEvaluate checks that the floor does the same work as
// Evaluate: same rule, same reply.
func TestFloorMatchesEvaluate(t *testing.T) {
	t.Parallel()
	set := mustLoad(t, fiftyRules())
	f := newFloor(set)
	c := benchComment()
	ds, errs := set.Evaluate(c, testNow)
	got, acted := f.evaluate(c, testNow, nil)
	if len(errs) > 0 || len(ds) != 1 || acted != 1 || len(got) != 1 || got[0] != ds[0].Replies[0] {
		t.Fatalf("Evaluate %+v %v; floor %q (%d acted)", ds, errs, got, acted)
	}
	if want := "史密斯夫妇💑 你好，价格请看橱窗"; got[0] != want {
		t.Fatalf("reply %q, want %q", got[0], want)
	}
}

// BenchmarkEvaluateDirect50Rules is the floor of BenchmarkEvaluate50Rules:
// the same compiled programs run directly.
func BenchmarkEvaluateDirect50Rules(b *testing.B) {
	set := mustLoad(b, fiftyRules())
	f := newFloor(set)
	c := benchComment()
	var out []string
	b.ReportAllocs()
	for b.Loop() {
		var acted int
		if out, acted = f.evaluate(c, testNow, out[:0]); acted != 1 {
			b.Fatal(out)
		}
	}
}

// BenchmarkEvaluateOverhead times Set.Evaluate and the floor alternately in
// one run, so that machine noise hits both alike, and reports their ratio
// (target: at most 1.5). ns/op is the sum of the two.
func BenchmarkEvaluateOverhead(b *testing.B) {
	set := mustLoad(b, fiftyRules())
	f := newFloor(set)
	c := benchComment()
	var out []string
	var tSet, tFloor time.Duration
	evalSet := func() {
		start := time.Now()
		ds, _ := set.Evaluate(c, testNow)
		tSet += time.Since(start)
		if len(ds) != 1 {
			b.Fatal(ds)
		}
	}
	evalFloor := func() {
		start := time.Now()
		var acted int
		out, acted = f.evaluate(c, testNow, out[:0])
		tFloor += time.Since(start)
		if acted != 1 {
			b.Fatal(out)
		}
	}
	odd := false
	for b.Loop() {
		// Alternate which goes first, so neither always runs on a warm cache.
		if odd {
			evalSet()
			evalFloor()
		} else {
			evalFloor()
			evalSet()
		}
		odd = !odd
	}
	if tFloor > 0 {
		b.ReportMetric(float64(tSet)/float64(tFloor), "ratio")
		b.ReportMetric(float64(tSet.Nanoseconds())/float64(b.N), "set-ns/op")
		b.ReportMetric(float64(tFloor.Nanoseconds())/float64(b.N), "direct-ns/op")
	}
}
