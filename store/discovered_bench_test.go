package store

import (
	"strconv"
	"testing"
	"time"
)

// benchVideo fills a store with one video's 200 discovered threads (the
// default max_threads) and returns a page of 20 of them, as listed.
func benchVideo(b *testing.B, baseline bool) (*Store, []ListedThread) {
	b.Helper()
	s, _ := openTest(b)
	all := make([]ListedThread, 200)
	for i := range all {
		all[i] = ListedThread{ThreadID: strconv.Itoa(7251524159191958000 + i), Total: 3}
	}
	l := listing(t0, all...)
	l.Baseline = baseline
	if _, err := s.RecordVideoListing(b.Context(), l); err != nil {
		b.Fatal(err)
	}
	return s, all[:20]
}

// An unchanged page of an unchanged video: what every idle video costs
// the store each cycle.
func BenchmarkRecordVideoListingUnchanged(b *testing.B) {
	s, page := benchVideo(b, false)
	at := t0
	for b.Loop() {
		at = at.Add(time.Second)
		if _, err := s.RecordVideoListing(b.Context(), listing(at, page...)); err != nil {
			b.Fatal(err)
		}
	}
}

// The changed threads of a video of 200 threads, all changed (never
// polled): the most a video's query returns.
func BenchmarkChangedThreads(b *testing.B) {
	s, _ := benchVideo(b, false)
	for b.Loop() {
		if ds, err := s.ChangedThreads(b.Context(), "douyin", video); err != nil || len(ds) != 200 {
			b.Fatal(len(ds), err)
		}
	}
}

// The changed threads of a video of 200 threads, none changed: what every
// idle video costs the store each cycle.
func BenchmarkChangedThreadsNone(b *testing.B) {
	s, _ := benchVideo(b, true)
	for b.Loop() {
		if ds, err := s.ChangedThreads(b.Context(), "douyin", video); err != nil || len(ds) != 0 {
			b.Fatal(len(ds), err)
		}
	}
}

// Keeping one video within max_threads among 1,000 videos of 50 discovered
// threads each (50,000 rows): what every listed video costs the store.
// Before the count and the index were named (BENCHMARKS.md, "Whole
// videos"), SQLite read every discovered thread of the platform.
func BenchmarkEvictWithinBound(b *testing.B) {
	s, _ := openTest(b)
	for v := range 1000 {
		all := make([]ListedThread, 50)
		for i := range all {
			all[i] = ListedThread{ThreadID: strconv.Itoa(7251524159191000000 + v*100 + i), Total: 3}
		}
		l := listing(t0, all...)
		l.AwemeID = strconv.Itoa(7000000000000000000 + v)
		if _, err := s.RecordVideoListing(b.Context(), l); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		if dropped, err := s.EvictDiscoveredThreads(b.Context(), "douyin", "7000000000000000500", 200); err != nil || len(dropped) != 0 {
			b.Fatal(len(dropped), err)
		}
	}
}
