package poller

import (
	"context"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/store"
)

// TestKnownCache: a thread's look-ups are answered from memory for the ids
// the database said were recorded at its last poll, and from the database
// for every other id (one recorded since is then known); a thread no longer
// watched is forgotten. Closing the store shows which look-ups reached it.
func TestKnownCache(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() }) // closed already below unless the test failed first
	const plat, src, th, other = model.PlatformDouyin, "douyin", "7000000000000000001", "7000000000000000002"
	now := time.Now()
	record := func(ids ...string) {
		t.Helper()
		for _, id := range ids {
			c := model.Comment{Platform: plat, ID: id, ThreadID: th, Text: "你好 🙂", CreatedAt: now}
			if _, err := db.Record(ctx, c, model.DispositionBacklog, nil, now); err != nil {
				t.Fatal(err)
			}
		}
	}
	var k knownCache
	poll := func(thread string, ids ...[]string) ([][]string, error) {
		t.Helper()
		known, done := k.lookup(db, plat, src, thread)
		defer done()
		var out [][]string
		for _, page := range ids {
			got, err := known(ctx, page)
			if err != nil {
				return out, err
			}
			out = append(out, slices.Sorted(maps.Keys(got)))
		}
		return out, nil
	}
	want := func(got [][]string, err error, want ...[]string) {
		t.Helper()
		if err != nil {
			t.Fatalf("look-up: %v", err)
		}
		if !slices.EqualFunc(got, want, slices.Equal) {
			t.Fatalf("known %q, want %q", got, want)
		}
	}

	record("101", "102")
	got, err := poll(th, []string{"101", "102", "103"})
	want(got, err, []string{"101", "102"})
	// 103 was not remembered as unknown: recorded since, it is known.
	record("103")
	got, err = poll(th, []string{"103", "101", "102"})
	want(got, err, []string{"101", "102", "103"})

	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	// The first page's ids, from memory; a later page's, from the database.
	got, err = poll(th, []string{"101", "102", "103"}, []string{"104"})
	if err == nil || !slices.EqualFunc(got, [][]string{{"101", "102", "103"}}, slices.Equal) {
		t.Fatalf("with the store closed: known %q, %v; want the first page's three from memory, then an error", got, err)
	}
	// An id that is a prefix of a remembered one is not remembered.
	if _, err := poll(th, []string{"10"}); err == nil {
		t.Fatal("id 10 answered from memory; only 101, 102, 103 are remembered")
	}
	// Another thread's look-up is its own.
	if _, err := poll(other, []string{"101"}); err == nil {
		t.Fatal("thread without a poll answered from memory")
	}
	// A reload that drops the thread drops what it remembered.
	k.keep(src, nil)
	if _, err := poll(th, []string{"101"}); err == nil {
		t.Fatal("a thread no longer watched still answered from memory")
	}
}

// TestKnownCacheBound: at most maxKnownCached ids of a thread are kept.
func TestKnownCacheBound(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	now := time.Now()
	var ids []string
	for i := range maxKnownCached + 10 {
		id := "9" + time.Duration(i).String()
		ids = append(ids, id)
		c := model.Comment{Platform: model.PlatformDouyin, ID: id, ThreadID: "t", CreatedAt: now}
		if _, err := db.Record(ctx, c, model.DispositionBacklog, nil, now); err != nil {
			t.Fatal(err)
		}
	}
	var k knownCache
	known, done := k.lookup(db, model.PlatformDouyin, "douyin", "t")
	if got, err := known(ctx, ids); err != nil || len(got) != len(ids) {
		t.Fatalf("known %d of %d, %v", len(got), len(ids), err)
	}
	done()
	n := 0
	for _, id := range ids {
		if cached(k.ids["douyin"]["t"], id) {
			n++
		}
	}
	if n != maxKnownCached {
		t.Fatalf("%d ids remembered, want %d", n, maxKnownCached)
	}
}

// TestKnownCacheLearn: what a poll recorded is added to what the thread
// remembers, once each, at most maxKnownCached ids, never an empty id or one
// holding the separator.
func TestKnownCacheLearn(t *testing.T) {
	var k knownCache
	var cs []model.Comment
	for i := range maxKnownCached + 5 {
		cs = append(cs, model.Comment{ID: "7" + time.Duration(i).String()})
	}
	k.learn("douyin", "t", []model.Comment{{ID: "a"}, {ID: "a"}, {ID: ""}, {ID: "b\x00c"}}, 0)
	if got := k.ids["douyin"]["t"]; got != "a\x00" {
		t.Fatalf("remembered %q, want only a", got)
	}
	k.learn("douyin", "t", cs, 1000)
	set := k.ids["douyin"]["t"]
	if n := strings.Count(set, "\x00"); n != maxKnownCached {
		t.Fatalf("%d ids remembered, want %d", n, maxKnownCached)
	}
	if !cached(set, "a") || !cached(set, cs[0].ID) || cached(set, cs[len(cs)-1].ID) {
		t.Fatalf("remembered %q: want a and the first comments, not the last", set)
	}
	k.learn("douyin", "t", nil, 0)
	if k.ids["douyin"]["t"] != set {
		t.Fatal("learning nothing changed what is remembered")
	}
	// A page of 10: a first sight of a long thread keeps its first page.
	k.learn("douyin", "long", cs, 10)
	if set := k.ids["douyin"]["long"]; strings.Count(set, "\x00") != 10 || !cached(set, cs[9].ID) || cached(set, cs[10].ID) {
		t.Fatalf("with a page of 10, remembered %q", set)
	}
}
