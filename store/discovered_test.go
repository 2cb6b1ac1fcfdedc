package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/internal/testutil"
)

// Ids beyond 2^53 (and 2^64) must come back as written.
const (
	video  = "7251517975340027197"
	bigT   = "18446744073709551617"
	threeT = "7251524159191958327"
)

var videoLabels = map[string]string{"campaign": "春季", "表情": "🌸"}

const videoLabelsJSON = `{"campaign":"春季","表情":"🌸"}`

func listing(at time.Time, threads ...ListedThread) VideoListing {
	return VideoListing{Platform: "douyin", AwemeID: video, Labels: videoLabels, Threads: threads, At: at}
}

func mustList(t *testing.T, s *Store, l VideoListing) []string {
	t.Helper()
	found, err := s.RecordVideoListing(t.Context(), l)
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// summary is each thread as "id known/listed", in the store's order.
func summary(ds []DiscoveredThread) []string {
	out := []string{}
	for _, d := range ds {
		out = append(out, d.ThreadID+" "+strconv.Itoa(d.KnownTotal)+"/"+strconv.Itoa(d.ListedTotal))
	}
	return out
}

func changed(t *testing.T, s *Store) []string {
	t.Helper()
	ds, err := s.ChangedThreads(t.Context(), "douyin", video)
	if err != nil {
		t.Fatal(err)
	}
	return summary(ds)
}

func discovered(t *testing.T, s *Store) []DiscoveredThread {
	t.Helper()
	ds, err := s.DiscoveredThreads(t.Context(), "douyin", video)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func want(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %q, want %q", what, got, want)
	}
}

func TestVideoListingDiscoversChangedThreads(t *testing.T) {
	t.Parallel()
	s, path := openTest(t)
	ctx := t.Context()

	// A comment without replies has no thread yet.
	found := mustList(t, s, listing(t0, ListedThread{"1", 0}, ListedThread{threeT, 3}, ListedThread{bigT, 1}))
	want(t, "found", found, []string{threeT, bigT})
	ds := discovered(t, s)
	if len(ds) != 2 || ds[0].AwemeID != video || !ds[0].LastActive.Equal(t0) || !ds[0].DiscoveredAt.Equal(t0) {
		t.Fatalf("discovered = %+v", ds)
	}
	// Same last_active: the thread with more replies first (the tie is
	// broken the same way for listing and eviction).
	want(t, "changed", changed(t, s), []string{threeT + " 0/3", bigT + " 0/1"})
	labels := threadLabels(t, s)
	if labels["douyin/"+threeT] != videoLabelsJSON || labels["douyin/"+bigT] != videoLabelsJSON || len(labels) != 2 {
		t.Errorf("threads labels = %v", labels)
	}

	// Polled for the listed count: no longer changed.
	if err := s.MarkThreadPolled(ctx, "douyin", threeT, 3); err != nil {
		t.Fatal(err)
	}
	want(t, "changed after a poll", changed(t, s), []string{bigT + " 0/1"})

	// Next listing: threeT unchanged keeps its last_active; bigT moved; 1
	// got its first reply.
	t1 := t0.Add(time.Minute)
	found = mustList(t, s, listing(t1, ListedThread{threeT, 3}, ListedThread{bigT, 2}, ListedThread{"1", 1}))
	want(t, "found", found, []string{"1"})
	want(t, "changed", changed(t, s), []string{bigT + " 0/2", "1 0/1"})
	for _, d := range discovered(t, s) {
		wantActive := t1
		if d.ThreadID == threeT {
			wantActive = t0
		}
		if !d.LastActive.Equal(wantActive) || !d.DiscoveredAt.Before(t1.Add(time.Second)) {
			t.Errorf("%s: last_active %v, want %v", d.ThreadID, d.LastActive, wantActive)
		}
	}

	// A count that fell takes the known count down with it, so that the
	// next reply, back to the old count, is seen.
	mustList(t, s, listing(t1.Add(time.Minute), ListedThread{threeT, 2}))
	want(t, "changed after a deletion", changed(t, s), []string{bigT + " 0/2", "1 0/1"})
	mustList(t, s, listing(t1.Add(2*time.Minute), ListedThread{threeT, 3}))
	want(t, "changed after a new reply", changed(t, s), []string{threeT + " 2/3", bigT + " 0/2", "1 0/1"})

	// What the store holds survives a reopen.
	testutil.Close(t, s)
	s2, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer testutil.Close(t, s2)
	want(t, "changed after reopening", changed(t, s2), []string{threeT + " 2/3", bigT + " 0/2", "1 0/1"})
}

// The first listing of a video whose backlog is skipped: its threads are
// recorded, none worth a poll until a count moves.
func TestVideoListingBaseline(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	l := listing(t0, ListedThread{threeT, 3}, ListedThread{bigT, 1})
	l.Baseline = true
	want(t, "found", mustList(t, s, l), []string{threeT, bigT})
	want(t, "changed", changed(t, s), []string{})
	want(t, "discovered", summary(discovered(t, s)), []string{threeT + " 3/3", bigT + " 1/1"})
	mustList(t, s, listing(t0.Add(time.Minute), ListedThread{bigT, 2}))
	want(t, "changed", changed(t, s), []string{bigT + " 1/2"})
}

// A thread the config lists is never taken over by discovery: not
// recorded, its labels the config's; one discovered before the config
// listed it is dropped by the next listing that shows it.
func TestVideoListingLeavesConfiguredThreads(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	ctx := t.Context()
	mustList(t, s, listing(t0, ListedThread{bigT, 1}))
	own := map[string]string{"campaign": "自己的 🎯"}
	if err := s.SetThreadLabels(ctx, []ThreadLabels{
		{Platform: "douyin", ThreadID: threeT, Labels: own},
		{Platform: "douyin", ThreadID: bigT, Labels: own},
	}); err != nil {
		t.Fatal(err)
	}
	ownJSON := `{"campaign":"自己的 🎯"}`
	// bigT is not in this listing: it stays recorded, but keeps the
	// config's labels.
	want(t, "found", mustList(t, s, listing(t0.Add(time.Minute), ListedThread{threeT, 5})), nil)
	want(t, "discovered", summary(discovered(t, s)), []string{bigT + " 0/1"})
	labels := threadLabels(t, s)
	if labels["douyin/"+threeT] != ownJSON || labels["douyin/"+bigT] != ownJSON {
		t.Errorf("threads labels = %v, want the config's", labels)
	}
	mustList(t, s, listing(t0.Add(2*time.Minute), ListedThread{bigT, 2}))
	want(t, "discovered", summary(discovered(t, s)), []string{})
	if labels := threadLabels(t, s); labels["douyin/"+bigT] != ownJSON {
		t.Errorf("threads labels = %v, want the config's", labels)
	}
}

// New labels in the config reach every discovered thread of the video at
// its next listing, listed or not.
func TestVideoListingRelabels(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	mustList(t, s, listing(t0, ListedThread{threeT, 1}, ListedThread{bigT, 1}))
	l := listing(t0.Add(time.Minute), ListedThread{bigT, 1})
	l.Labels = map[string]string{"campaign": "夏季"}
	mustList(t, s, l)
	labels := threadLabels(t, s)
	for _, id := range []string{threeT, bigT} {
		if got := labels["douyin/"+id]; got != `{"campaign":"夏季"}` {
			t.Errorf("%s labels = %s", id, got)
		}
	}
	l.Labels = nil
	mustList(t, s, l)
	if got := threadLabels(t, s)["douyin/"+threeT]; got != "{}" {
		t.Errorf("labels after removing them = %s", got)
	}
}

func TestEvictDiscoveredThreads(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	ctx := t.Context()
	// Threads 1..4 last active at t0+1m..t0+4m; another video's thread
	// is not this video's to evict.
	for i, id := range []string{"1", "2", "3", bigT} {
		mustList(t, s, listing(t0.Add(time.Duration(i+1)*time.Minute), ListedThread{id, 1}))
	}
	other := listing(t0, ListedThread{"9", 1})
	other.AwemeID = "7000000000000000001"
	mustList(t, s, other)
	// Thread 1 comes back to life.
	mustList(t, s, listing(t0.Add(5*time.Minute), ListedThread{"1", 2}))

	dropped, err := s.EvictDiscoveredThreads(ctx, "douyin", video, 2)
	if err != nil {
		t.Fatal(err)
	}
	want(t, "dropped", summary(dropped), []string{"2 0/1", "3 0/1"})
	if !dropped[0].LastActive.Equal(t0.Add(2*time.Minute)) || dropped[1].AwemeID != video {
		t.Errorf("dropped = %+v", dropped)
	}
	want(t, "kept", summary(discovered(t, s)), []string{"1 0/2", bigT + " 0/1"})
	dropped, err = s.EvictDiscoveredThreads(ctx, "douyin", video, 2)
	if err != nil || len(dropped) != 0 {
		t.Errorf("second eviction dropped %v, %v", dropped, err)
	}
	ds, err := s.DiscoveredThreads(ctx, "douyin", "7000000000000000001")
	if err != nil || len(ds) != 1 {
		t.Errorf("the other video's threads = %v, %v", ds, err)
	}
	// A dropped thread keeps its labels: its history stays labelled.
	if got := threadLabels(t, s)["douyin/2"]; got != videoLabelsJSON {
		t.Errorf("labels of an evicted thread = %s", got)
	}
	// Polling an evicted thread is no error, and brings nothing back.
	if err := s.MarkThreadPolled(ctx, "douyin", "2", 1); err != nil {
		t.Fatal(err)
	}
	want(t, "kept", summary(discovered(t, s)), []string{"1 0/2", bigT + " 0/1"})
}

func TestVideoListingRefusesBadInput(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	for _, l := range []VideoListing{
		{Platform: "douyin", At: t0},
		{AwemeID: video, At: t0},
		listing(t0, ListedThread{"1", 1}, ListedThread{"", 1}),
	} {
		if _, err := s.RecordVideoListing(t.Context(), l); err == nil {
			t.Errorf("%+v: recorded", l)
		}
	}
	// The refused listing wrote nothing, its first thread included.
	want(t, "discovered", summary(discovered(t, s)), []string{})
}

// A database of schema 6 gains the table, empty, and keeps its threads.
func TestMigrateDiscoveredThreads(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "v6.db")
	dsn, err := buildDSN(path, "_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range migrations[:6] {
		if _, err := db.Exec(m); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range []string{
		`PRAGMA user_version = 6`,
		`INSERT INTO threads (platform, thread_id, polls, labels) VALUES ('douyin', '` + bigT + `', 5, '{"a":"b"}')`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer testutil.Close(t, s)
	if got := summary(discovered(t, s)); len(got) != 0 {
		t.Errorf("discovered after migrating = %v", got)
	}
	var polls int
	if err := s.db.QueryRow(`SELECT polls FROM threads WHERE thread_id = ?`, bigT).Scan(&polls); err != nil || polls != 5 {
		t.Errorf("polls = %d, %v", polls, err)
	}
	// STRICT: a count must be an integer.
	if _, err := s.db.Exec(`INSERT INTO discovered_threads (platform, aweme_id, thread_id, known_total, last_active, discovered_at)
		VALUES ('douyin', '1', '2', 'many', 'x', 'x')`); err == nil {
		t.Error("STRICT table accepted text in an INTEGER column")
	}
}

// Threads found by one listing share their last_active: the one with
// fewer replies goes first, then the older comment (ids compared as
// numbers, not as text: "9" is older than "10").
func TestEvictTieBreak(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	mustList(t, s, listing(t0, ListedThread{"10", 1}, ListedThread{"9", 1}, ListedThread{"8", 5}, ListedThread{"11", 1}))
	dropped, err := s.EvictDiscoveredThreads(t.Context(), "douyin", video, 2)
	if err != nil {
		t.Fatal(err)
	}
	want(t, "dropped", summary(dropped), []string{"9 0/1", "10 0/1"})
	want(t, "kept", summary(discovered(t, s)), []string{"8 0/5", "11 0/1"})
}

// A thread the config stops listing gets its video's labels at the
// video's next listing, though that listing finds nothing new.
func TestVideoListingLabelsThreadLeftByConfig(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	ctx := t.Context()
	mustList(t, s, listing(t0, ListedThread{bigT, 1}, ListedThread{threeT, 1}))
	if err := s.SetThreadLabels(ctx, []ThreadLabels{{Platform: "douyin", ThreadID: bigT, Labels: map[string]string{"a": "b"}}}); err != nil {
		t.Fatal(err)
	}
	mustList(t, s, listing(t0.Add(time.Minute), ListedThread{threeT, 1}))
	if got := threadLabels(t, s)["douyin/"+bigT]; got != `{"a":"b"}` {
		t.Fatalf("labels while configured = %s", got)
	}
	if err := s.SetThreadLabels(ctx, nil); err != nil {
		t.Fatal(err)
	}
	mustList(t, s, listing(t0.Add(2*time.Minute), ListedThread{threeT, 1}))
	if got := threadLabels(t, s)["douyin/"+bigT]; got != videoLabelsJSON {
		t.Errorf("labels once the config left it = %s, want %s", got, videoLabelsJSON)
	}
}

// A thread whose replies all went keeps its row at 0, worth no poll, and
// is worth one again at its next reply.
func TestVideoListingCountToZero(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	mustList(t, s, listing(t0, ListedThread{bigT, 2}))
	if err := s.MarkThreadPolled(t.Context(), "douyin", bigT, 2); err != nil {
		t.Fatal(err)
	}
	mustList(t, s, listing(t0.Add(time.Minute), ListedThread{bigT, 0}))
	want(t, "discovered", summary(discovered(t, s)), []string{bigT + " 0/0"})
	want(t, "changed", changed(t, s), []string{})
	want(t, "found", mustList(t, s, listing(t0.Add(2*time.Minute), ListedThread{bigT, 1})), nil)
	want(t, "changed", changed(t, s), []string{bigT + " 0/1"})
}
