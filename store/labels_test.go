package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/internal/testutil"
	"github.com/autoreplyd/autoreplyd/model"
)

// threadLabels reads the labels column of every threads row.
func threadLabels(t *testing.T, s *Store) map[string]string {
	t.Helper()
	rows, err := s.db.QueryContext(t.Context(), `SELECT platform || '/' || thread_id, labels FROM threads`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			t.Fatal(err)
		}
		out[k] = v
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// campaignCounts is the analyst's per-campaign query over replies_v.
func campaignCounts(t *testing.T, s *Store) map[string]int {
	t.Helper()
	// The analyst's query in each database's JSON spelling.
	rows, err := s.db.QueryContext(t.Context(), s.dialect(
		`SELECT coalesce(json_extract(labels, '$.campaign'), '(none)') AS campaign, count(*)
		 FROM replies_v WHERE status = 'sent' GROUP BY campaign`,
		`SELECT coalesce(labels::jsonb ->> 'campaign', '(none)') AS campaign, count(*)
		 FROM replies_v WHERE status = 'sent' GROUP BY campaign`))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			t.Fatal(err)
		}
		out[k] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestThreadLabels(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	ctx := t.Context()
	const a, b, c = "7251524159191958327", "7251524159191958400", "7251524159191958500"
	if err := s.SetThreadLabels(ctx, []ThreadLabels{
		{Platform: model.PlatformDouyin, ThreadID: a, Labels: map[string]string{"campaign": "spring", "品类": "保温杯🍵", "q": `a"<b>&`}},
		{Platform: model.PlatformDouyin, ThreadID: b},
	}); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"douyin/" + a: `{"campaign":"spring","q":"a\"<b>&","品类":"保温杯🍵"}`,
		"douyin/" + b: `{}`,
	}
	if got := threadLabels(t, s); !reflect.DeepEqual(got, want) {
		t.Fatalf("labels after SetThreadLabels:\n got %v\nwant %v", got, want)
	}
	// A row created for its labels reads as a thread never polled.
	if st, ok, err := s.ThreadState(ctx, model.PlatformDouyin, a); err != nil || !ok || st.Initialized || st.Polls != 0 {
		t.Fatalf("state of a labelled thread = %+v, %v, %v", st, ok, err)
	}

	// Answers on a (spring), b (no labels) and c (no threads row at all).
	send := func(id, thread string) {
		t.Helper()
		cm := comment(id)
		cm.ThreadID = thread
		won := mustRecord(t, s, cm, t0, pending("price"))
		if err := s.Settle(ctx, won[0].ID, Settlement{Status: model.StatusSent}, t0); err != nil {
			t.Fatal(err)
		}
	}
	send("1", a)
	send("2", a)
	send("3", b)
	send("4", c)
	if got, want := campaignCounts(t, s), map[string]int{"spring": 2, "(none)": 2}; !reflect.DeepEqual(got, want) {
		t.Errorf("per campaign: %v, want %v", got, want)
	}
	var noRow string
	if err := s.db.QueryRowContext(ctx, `SELECT labels FROM replies_v WHERE comment_id = '4'`).Scan(&noRow); err != nil || noRow != "{}" {
		t.Errorf("labels of a thread without a row = %q, %v; want {}", noRow, err)
	}

	// Saving a poll state keeps the configured labels, alone or in a batch;
	// a thread whose labels were never set keeps its row's.
	if err := s.SaveThreadState(ctx, model.ThreadState{Platform: model.PlatformDouyin, ThreadID: a, Initialized: true, Polls: 1}); err != nil {
		t.Fatal(err)
	}
	if err := s.Batch(ctx, func(db *Store) error {
		return db.SaveThreadState(ctx, model.ThreadState{Platform: model.PlatformDouyin, ThreadID: c, Initialized: true, Polls: 1})
	}); err != nil {
		t.Fatal(err)
	}
	want["douyin/"+c] = "{}"
	if got := threadLabels(t, s); !reflect.DeepEqual(got, want) {
		t.Fatalf("labels after saving states:\n got %v\nwant %v", got, want)
	}

	// The config changes: a is relabelled, c gets labels, b is removed
	// from the config and keeps its last labels; polled state is kept.
	if err := s.SetThreadLabels(ctx, []ThreadLabels{
		{Platform: model.PlatformDouyin, ThreadID: a, Labels: map[string]string{"campaign": "summer"}},
		{Platform: model.PlatformDouyin, ThreadID: c, Labels: map[string]string{"campaign": "spring"}},
	}); err != nil {
		t.Fatal(err)
	}
	want["douyin/"+a], want["douyin/"+c] = `{"campaign":"summer"}`, `{"campaign":"spring"}`
	if got := threadLabels(t, s); !reflect.DeepEqual(got, want) {
		t.Fatalf("labels after a config change:\n got %v\nwant %v", got, want)
	}
	if st, _, err := s.ThreadState(ctx, model.PlatformDouyin, a); err != nil || !st.Initialized || st.Polls != 1 {
		t.Errorf("relabelling lost the poll state: %+v, %v", st, err)
	}
	if got, want := campaignCounts(t, s), map[string]int{"summer": 2, "spring": 1, "(none)": 1}; !reflect.DeepEqual(got, want) {
		t.Errorf("per campaign after the change: %v, want %v", got, want)
	}
	if err := s.SaveThreadState(ctx, model.ThreadState{Platform: model.PlatformDouyin, ThreadID: a, Initialized: true, Polls: 2}); err != nil {
		t.Fatal(err)
	}
	if got := threadLabels(t, s)["douyin/"+a]; got != `{"campaign":"summer"}` {
		t.Errorf("a saved state brought back old labels: %s", got)
	}
	// A saved state writes the configured labels itself: a row missing or
	// stale (here changed by hand) gets them back.
	if _, err := s.db.ExecContext(ctx, `DELETE FROM threads WHERE thread_id = ?`, c); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE threads SET labels = '{}' WHERE thread_id = ?`, a); err != nil {
		t.Fatal(err)
	}
	for _, th := range []string{a, c} {
		if err := s.SaveThreadState(ctx, model.ThreadState{Platform: model.PlatformDouyin, ThreadID: th, Polls: 3}); err != nil {
			t.Fatal(err)
		}
	}
	if got := threadLabels(t, s); !reflect.DeepEqual(got, want) {
		t.Fatalf("labels after saving states over missing or stale rows:\n got %v\nwant %v", got, want)
	}

	// The column holds JSON objects only.
	if _, err := s.db.ExecContext(ctx, `UPDATE threads SET labels = 'not json' WHERE thread_id = ?`, a); err == nil {
		t.Error("threads.labels accepted text that is not JSON")
	}
	if err := s.SetThreadLabels(ctx, []ThreadLabels{{Platform: model.PlatformDouyin}}); err == nil {
		t.Error("SetThreadLabels without a thread id accepted")
	}
}

func TestThreadLabelsReadOnly(t *testing.T) {
	t.Parallel()
	_, path := openTest(t)
	ro, err := OpenReadOnly(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer testutil.Close(t, ro)
	if err := ro.SetThreadLabels(t.Context(), []ThreadLabels{{Platform: "douyin", ThreadID: "1"}}); err == nil {
		t.Error("a read-only store set labels")
	}
}

// replies_v columns before migration 4, in order: they keep their places.
var repliesViewV3 = []string{"id", "platform", "comment_id", "thread_id", "post_id", "rule", "responder",
	"status", "reason", "error", "reply_text", "attempts", "platform_reply_id",
	"created_at", "updated_at", "next_attempt_at",
	"comment_text", "user_uid", "user_nickname", "user_unique_id",
	"comment_created_at", "root_id", "reply_to_id", "disposition", "seen_at"}

func viewColumns(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.Query(`SELECT name FROM pragma_table_info('replies_v')`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	return out
}

// A database of schema version 3 with history migrates: replies_v keeps
// every column in order and gains labels ('{}' everywhere), the history
// stays, and meta exists.
func TestMigrateFrom3(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "v3.db")
	dsn, err := buildDSN(path, "_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range migrations[:3] {
		if _, err := db.Exec(m); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range []string{
		`PRAGMA user_version = 3`,
		`INSERT INTO comments (platform, comment_id, thread_id, disposition, seen_at) VALUES ('douyin', '1', 'T', 'evaluated', '2026-11-22T00:00:00.000Z')`,
		`INSERT INTO replies (platform, comment_id, thread_id, rule, status, created_at, updated_at) VALUES ('douyin', '1', 'T', 'r', 'sent', '2026-11-22T00:00:00.000Z', '2026-11-22T00:00:00.000Z')`,
		`INSERT INTO threads (platform, thread_id, initialized, polls) VALUES ('douyin', 'T', 1, 5)`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if got := viewColumns(t, db); !slices.Equal(got, repliesViewV3) {
		t.Fatalf("the fixture's view columns %v, want %v", got, repliesViewV3)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer testutil.Close(t, s)
	if got, want := viewColumns(t, s.db), append(slices.Clone(repliesViewV3), "labels", "decided_by", "decided_at", "decision_note",
		"llm", "draft_text", "llm_model", "prompt_tokens", "completion_tokens"); !slices.Equal(got, want) {
		t.Errorf("replies_v columns after migrating:\n got %v\nwant %v", got, want)
	}
	var labels, status string
	var id int64
	if err := s.db.QueryRow(`SELECT labels, id, status FROM replies_v WHERE comment_id = '1'`).Scan(&labels, &id, &status); err != nil || labels != "{}" || id != 1 || status != "sent" {
		t.Errorf("migrated labels, id, status = %q, %d, %q, %v", labels, id, status, err)
	}
	// Version 5 rebuilt replies: the new statuses are accepted, the
	// foreign key to comments still holds, and the indexes are back.
	if _, err := s.db.Exec(`UPDATE replies SET status = 'flagged' WHERE id = 1`); err != nil {
		t.Errorf("a migrated claim cannot become flagged: %v", err)
	}
	if _, err := s.db.Exec(`INSERT INTO replies (platform, comment_id, rule, status, created_at, updated_at) VALUES ('douyin', 'nope', 'r', 'held', 'x', 'x')`); err == nil {
		t.Error("a claim for an unknown comment was accepted after the rebuild")
	}
	// 8 rebuilt by version 5, 2 added by version 6 (the console's), all
	// rebuilt by version 9 with one more (drafting claims).
	var indexes int
	if err := s.db.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'replies' AND name LIKE 'replies_%'`).Scan(&indexes); err != nil || indexes != 11 {
		t.Errorf("replies has %d named indexes after the rebuild, want 11 (%v)", indexes, err)
	}
	// Version 9 rebuilt notifications with replies: its foreign key names
	// the table in use, and holds.
	var parent string
	if err := s.db.QueryRow(`SELECT "table" FROM pragma_foreign_key_list('notifications')`).Scan(&parent); err != nil || parent != "replies" {
		t.Errorf("notifications refers to %q (%v), want replies", parent, err)
	}
	if _, err := s.db.Exec(`INSERT INTO notifications (reply_id, channel, event, status, created_at, updated_at) VALUES (999, 'ops', 'held', 'pending', 'x', 'x')`); err == nil {
		t.Error("a notification of no claim was accepted after the rebuild")
	}
	if _, err := s.db.Exec(`UPDATE replies SET status = 'drafting' WHERE id = 1`); err != nil {
		t.Errorf("a migrated claim cannot become drafting: %v", err)
	}
	if st, _, err := s.ThreadState(t.Context(), "douyin", "T"); err != nil || st.Polls != 5 || !st.Initialized {
		t.Errorf("thread state after migrating = %+v, %v", st, err)
	}
	if _, ok, err := s.Meta(t.Context(), MetaTimezone); err != nil || ok {
		t.Errorf("a migrated database has a timezone: %v, %v", ok, err)
	}
}

func TestMeta(t *testing.T) {
	t.Parallel()
	s, path := openTest(t)
	ctx := context.Background()
	if _, ok, err := s.Meta(ctx, MetaTimezone); err != nil || ok {
		t.Fatalf("Meta of a new database = %v, %v", ok, err)
	}
	for _, v := range []string{"Asia/Shanghai", "America/New_York"} {
		if err := s.SetMeta(ctx, MetaTimezone, v); err != nil {
			t.Fatal(err)
		}
	}
	ro, err := OpenReadOnly(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer testutil.Close(t, ro)
	if v, ok, err := ro.Meta(ctx, MetaTimezone); err != nil || !ok || v != "America/New_York" {
		t.Errorf("Meta = %q, %v, %v; want the last value", v, ok, err)
	}
	if err := ro.SetMeta(ctx, MetaTimezone, "UTC"); err == nil {
		t.Error("a read-only store wrote meta")
	}
	if err := s.DeleteMeta(ctx, MetaTimezone); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := ro.Meta(ctx, MetaTimezone); err != nil || ok {
		t.Errorf("after DeleteMeta: %v, %v", ok, err)
	}
}

func TestRecordedRules(t *testing.T) {
	t.Parallel()
	s := historyFixture(t)
	got, err := s.RecordedRules(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"greet", "price", "spam"}; !slices.Equal(got, want) {
		t.Errorf("RecordedRules = %v, want %v", got, want)
	}
}

func TestHistoryDisposition(t *testing.T) {
	t.Parallel()
	s := historyFixture(t)
	ctx := t.Context()
	c := comment("b1")
	if _, err := s.Record(ctx, c, model.DispositionBacklog, []Claim{pending("price")}, t0.Add(4*time.Hour)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ d, want string }{
		{model.DispositionBacklog, "[7]"},
		{model.DispositionEvaluated, "[6 5 4 3 2 1]"},
		{model.DispositionSelf, "[]"},
	} {
		rows, err := s.History(ctx, Filter{Disposition: tc.d})
		if err != nil {
			t.Fatal(err)
		}
		if got := ids(rows); got != tc.want {
			t.Errorf("disposition %s: %s, want %s", tc.d, got, tc.want)
		}
	}
}

// A top-level comment of a watched video is its own thread, which has no
// threads row until replies under it get it discovered: its claims show the
// video's labels (set on the row of the video's poll state) in replies_v,
// the console's claims and replay; once the thread has a row of its own,
// that row's labels win.
func TestVideoTopLevelLabels(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	ctx := t.Context()
	const video, top, other = "7262080445271772416", "7401796290346573044", "7401796290346573099"
	if err := s.SetThreadLabels(ctx, []ThreadLabels{
		{Platform: model.PlatformDouyin, ThreadID: "video:" + video, Labels: map[string]string{"campaign": "夏季🍉"}},
	}); err != nil {
		t.Fatal(err)
	}
	record := func(id, post string) int64 {
		t.Helper()
		cm := comment(id)
		cm.ThreadID, cm.PostID, cm.RootID, cm.ReplyToID = id, post, "0", "0"
		won := mustRecord(t, s, cm, t0, pending("price"))
		if err := s.Settle(ctx, won[0].ID, Settlement{Status: model.StatusSent}, t0); err != nil {
			t.Fatal(err)
		}
		return won[0].ID
	}
	id := record(top, video)
	record(other, "7000000000000000001") // another video, not watched
	labelsOf := func(comment string) string {
		t.Helper()
		var l string
		if err := s.db.QueryRowContext(ctx, `SELECT labels FROM replies_v WHERE comment_id = ?`, comment).Scan(&l); err != nil {
			t.Fatal(err)
		}
		return l
	}
	if got := labelsOf(top); got != `{"campaign":"夏季🍉"}` {
		t.Errorf("a top-level comment's claim has labels %s, want its video's", got)
	}
	if got := labelsOf(other); got != `{}` {
		t.Errorf("a comment of an unwatched video has labels %s, want {}", got)
	}
	// The console's queries read the claims without the view.
	if _, err := s.db.ExecContext(ctx, `UPDATE replies SET status = 'flagged' WHERE id = ?`, id); err != nil {
		t.Fatal(err)
	}
	inbox, err := s.Inbox(ctx, 10, model.StatusFlagged)
	if err != nil || len(inbox) != 1 || inbox[0].Labels != `{"campaign":"夏季🍉"}` {
		t.Errorf("the console's inbox: %+v, %v", inbox, err)
	}
	// Replay evaluates the comment with its video's labels.
	var replayed map[string]string
	if err := s.ReplayComments(ctx, time.Time{}, time.Time{}, func(rc *ReplayComment) error {
		if rc.Comment.ID == top {
			replayed = rc.Comment.Labels
		}
		return nil
	}); err != nil || replayed["campaign"] != "夏季🍉" {
		t.Errorf("replay: labels %v, %v", replayed, err)
	}
	// Discovered, the thread has a row of its own, labelled (here by hand,
	// as labelVideoThreads does): that row's labels are shown.
	if _, err := s.db.ExecContext(ctx, `INSERT INTO threads (platform, thread_id, labels) VALUES ('douyin', ?, '{"campaign":"own"}')`, top); err != nil {
		t.Fatal(err)
	}
	if got := labelsOf(top); got != `{"campaign":"own"}` {
		t.Errorf("a discovered thread's claim has labels %s, want its own row's", got)
	}
}

// BenchmarkSetThreadLabelsUnchanged is a start's labels of 100,000 watched
// threads whose config did not change: one read, no write.
func BenchmarkSetThreadLabelsUnchanged(b *testing.B) {
	s, _ := openTest(b)
	ctx := context.Background()
	threads := make([]ThreadLabels, 100_000)
	for i := range threads {
		threads[i] = ThreadLabels{Platform: "douyin", ThreadID: strconv.Itoa(7_251_524_159_000_000 + i),
			Labels: map[string]string{"campaign": "spring"}}
	}
	if err := s.SetThreadLabels(ctx, threads); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := s.SetThreadLabels(ctx, threads); err != nil {
			b.Fatal(err)
		}
	}
}
