package pgcopy

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/autoreplyd/autoreplyd/internal/pgtest"
	"github.com/autoreplyd/autoreplyd/internal/testutil"
	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/store"
	"github.com/autoreplyd/autoreplyd/store/pgschema"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// base is the clock of the populated history.
var base = time.Date(2026, 11, 3, 8, 0, 0, 0, time.UTC)

// populate writes a history into a new SQLite database at path through the
// store's own API, with rows in every table: n comments (a fifth of them
// with Chinese and emoji text, some without a creation time), their claims
// in most statuses, notifications, drafts, thread states with labels,
// discovered threads, pauses and meta. Then, behind the store's back, a few
// times no store would write (unreadable, out of range), which a copy
// must keep as they are.
func populate(t *testing.T, path string, n int, prefix string) {
	t.Helper()
	ctx := t.Context()
	st, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	now := base
	for i := range n {
		now = now.Add(time.Second)
		c := model.Comment{
			Platform: "douyin", ID: fmt.Sprintf("%s%019d", prefix, 7300000000000000000+int64(i)),
			ThreadID: fmt.Sprintf("thread-%d", i%7), PostID: "7299999999999999999",
			RootID: "0", ReplyToID: "0", Text: fmt.Sprintf("comment %d", i),
			CreatedAt: now.Add(-time.Minute),
			User:      model.User{UID: fmt.Sprintf("u%d", i%13), Nickname: "nick", UniqueID: "uid"},
		}
		if i%5 == 0 {
			c.Text = fmt.Sprintf("多少钱？🙂 第%d条", i)
			c.User.Nickname = "小红书🌸"
		}
		if i%11 == 0 {
			c.CreatedAt = time.Time{} // NULL comment_created_at
		}
		var claims []store.Claim
		switch i % 6 {
		case 0:
			claims = []store.Claim{{Rule: "price", Responder: "kitkot", Status: model.StatusPending, ReplyText: "私信你了 👍"}}
		case 1:
			claims = []store.Claim{{Rule: "spam", Status: model.StatusSkipped, Reason: "spam"}}
		case 2:
			claims = []store.Claim{{Rule: "vip", Responder: "kitkot", Status: model.StatusHeld, ReplyText: "held", Notify: []string{"ops", "飞书"}}}
		case 3:
			claims = []store.Claim{{Rule: "ask", Responder: "kitkot", Status: model.StatusDrafting, Draft: &store.DraftRequest{
				LLM: "deepseek", System: "你是客服", Prompt: "回答：" + c.Text, MaxLength: 80, Approve: true, Notify: []string{"ops"}}}}
		case 4:
			claims = []store.Claim{{Rule: "flag", Status: model.StatusFlagged, Reason: "angry", Notify: []string{"ops"}}}
		case 5:
			// no claim: a comment evaluated without a match
		}
		won, err := st.Record(ctx, c, model.DispositionEvaluated, claims, now)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range won {
			switch w.Status {
			case model.StatusPending:
				s := store.Settlement{Status: model.StatusSent, PlatformReplyID: fmt.Sprint(7400000000000000000 + int64(i))}
				if i%4 == 0 {
					s = store.Settlement{Status: model.StatusRetrying, Reason: "rate_limited", Error: "429 太多请求", NextAttempt: now.Add(time.Hour)}
				}
				if err := st.Settle(ctx, w.ID, s, now.Add(time.Second)); err != nil {
					t.Fatal(err)
				}
			case model.StatusDrafting:
				if i%2 == 0 {
					if err := st.SaveDraft(ctx, w.ID, store.StoredDraft{Text: "草稿 ✨", Model: "deepseek-chat", PromptTokens: 40, CompletionTokens: 12, At: now}); err != nil {
						t.Fatal(err)
					}
				}
			case model.StatusHeld:
				if i%4 == 0 {
					if _, _, err := st.Decide(ctx, w.ID, store.Decision{Action: store.DecideReject, By: "王五", Note: "不合适"}, now); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
	}
	for i := range 7 {
		ts := model.ThreadState{Platform: "douyin", ThreadID: fmt.Sprintf("thread-%d", i), Initialized: true, Total: int64(i * 10),
			Known: int64(i), Order: "newest", PageSize: 20, Polls: 3, LastFullScan: now, LastPolled: now}
		if i == 3 {
			ts.LastFullScan = time.Time{} // NULL
		}
		if err := st.SaveThreadState(ctx, ts); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.SetThreadLabels(ctx, []store.ThreadLabels{
		{Platform: "douyin", ThreadID: "thread-1", Labels: map[string]string{"campaign": "双十一 🎉", "shop": "北京"}},
		{Platform: "douyin", ThreadID: "video:7299999999999999999", Labels: map[string]string{"campaign": "video"}},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.RecordVideoListing(ctx, store.VideoListing{Platform: "douyin", AwemeID: "7299999999999999999",
		Threads: []store.ListedThread{{ThreadID: "7300000000000000001", Total: 4}, {ThreadID: "7300000000000000002", Total: 9}}, At: now}); err != nil {
		t.Fatal(err)
	}
	if err := st.SetPause(ctx, "responder:kitkot", now.Add(2*time.Hour), "余额不足", now); err != nil {
		t.Fatal(err)
	}
	if err := st.SetPause(ctx, "source:douyin", time.Time{}, "token refused", now); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{store.MetaTimezone: "Asia/Shanghai", "a_first": "before migrated_from", "zz_last": "after it"} {
		if err := st.SetMeta(ctx, k, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	db := openRaw(t, path)
	for _, q := range []string{
		`UPDATE replies SET updated_at = 'not a time' WHERE id = 2`,
		`UPDATE comments SET comment_created_at = '0000-13-45T99:99:99.000Z' WHERE rowid = 3`,
		`UPDATE threads SET next_poll = '2026-11-03 08:00' WHERE thread_id = 'thread-2'`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

// openRaw opens an SQLite file with no store in between.
func openRaw(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// allTables are the tables of the schema, each with its copy order key.
var allTables = map[string]string{
	"comments":           "rowid",
	"replies":            "id",
	"notifications":      "id",
	"drafts":             "reply_id",
	"threads":            "platform, thread_id",
	"discovered_threads": "platform, thread_id",
	"pauses":             "scope",
	"meta":               "key",
}

// dump reads every row of every table of both databases, in key order, with
// the same columns (SQLite's, comments with its rowid).
func dump(t *testing.T, sqlitePath, dsn string) (src, dst map[string][][]any) {
	t.Helper()
	ctx := t.Context()
	db := openRaw(t, sqlitePath)
	defer testutil.Close(t, db)
	conn := connect(t, dsn)
	src, dst = map[string][][]any{}, map[string][][]any{}
	for name, key := range allTables {
		rows, err := db.QueryContext(ctx, `SELECT name FROM pragma_table_info(?) ORDER BY cid`, name)
		if err != nil {
			t.Fatal(err)
		}
		var cols []string
		for rows.Next() {
			var c string
			if err := rows.Scan(&c); err != nil {
				t.Fatal(err)
			}
			cols = append(cols, c)
		}
		rows.Close()
		if name == "comments" {
			cols = append(cols, "rowid")
		}
		list := strings.Join(cols, ", ")
		where := ""
		if name == "meta" {
			where = " WHERE key <> 'migrated_from'"
		}
		q := "SELECT " + list + " FROM " + name + where + " ORDER BY " + key //nolint:gosec // G202: the test's own table names
		srows, err := db.QueryContext(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for srows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := srows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			src[name] = append(src[name], vals)
		}
		srows.Close()
		prows, err := conn.Query(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for prows.Next() {
			vals, err := prows.Values()
			if err != nil {
				t.Fatal(err)
			}
			dst[name] = append(dst[name], vals)
		}
		if err := prows.Err(); err != nil {
			t.Fatal(err)
		}
	}
	return src, dst
}

// sameRows fails t unless every table holds the same rows in both.
func sameRows(t *testing.T, sqlitePath, dsn string) {
	t.Helper()
	src, dst := dump(t, sqlitePath, dsn)
	for name := range allTables {
		if len(src[name]) == 0 {
			t.Errorf("%s: the source has no rows: the test proves nothing of it", name)
		}
		if len(src[name]) != len(dst[name]) {
			t.Errorf("%s: %d rows in the source, %d in the target", name, len(src[name]), len(dst[name]))
			continue
		}
		for i := range src[name] {
			if !reflect.DeepEqual(src[name][i], dst[name][i]) {
				t.Errorf("%s row %d:\nsource %#v\ntarget %#v", name, i, src[name][i], dst[name][i])
			}
		}
	}
}

// connect opens a connection to dsn, closed (and checked) when t ends.
func connect(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := conn.Close(context.Background()); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return conn
}

func target(t *testing.T, dsn string) *pgx.ConnConfig {
	t.Helper()
	cfg, err := ParseTarget(dsn, "")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestCopyKeepsEveryRowExactly(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "src.db")
	populate(t, path, 120, "")
	dsn := pgtest.NewDatabase(t)

	rep, err := Copy(t.Context(), Options{Source: path, Target: target(t, dsn), Batch: 25})
	if err != nil {
		t.Fatal(err)
	}
	sameRows(t, path, dsn)

	var names []string
	for _, tb := range rep.Tables {
		names = append(names, tb.Name)
		if !tb.OK() || tb.Copied != tb.Source || tb.Source == 0 {
			t.Errorf("%+v: want every row copied and the counts equal", tb)
		}
	}
	// Referenced tables first (comments before replies before drafts and
	// notifications), each pass over the rest in alphabetical order.
	want := "comments discovered_threads meta pauses replies threads drafts notifications"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("tables copied in the order %s, want %s", got, want)
	}
	for _, tb := range rep.Tables {
		if (tb.Name == "replies" || tb.Name == "notifications" || tb.Name == "drafts") && tb.IDColumn == "" ||
			tb.Name == "comments" && tb.IDColumn != "rowid" {
			t.Errorf("%s: id column %q", tb.Name, tb.IDColumn)
		}
	}

	// The identities continue after the copied ids.
	ctx := t.Context()
	conn := connect(t, dsn)
	var maxReply, maxRowid, newReply, newRowid int64
	if err := conn.QueryRow(ctx, `SELECT max(id) FROM replies`).Scan(&maxReply); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, `SELECT max(rowid) FROM comments`).Scan(&maxRowid); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, `INSERT INTO comments (platform, comment_id, disposition, seen_at)
		VALUES ('douyin', 'new', 'evaluated', '2026-12-01T00:00:00.000Z') RETURNING rowid`).Scan(&newRowid); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, `INSERT INTO replies (platform, comment_id, rule, status, created_at, updated_at)
		VALUES ('douyin', 'new', 'r', 'sent', '2026-12-01T00:00:00.000Z', '2026-12-01T00:00:00.000Z') RETURNING id`).Scan(&newReply); err != nil {
		t.Fatal(err)
	}
	if newReply != maxReply+1 || newRowid != maxRowid+1 {
		t.Errorf("new ids %d and rowid %d, want %d and %d (past the copied ones)", newReply, newRowid, maxReply+1, maxRowid+1)
	}
	var notif int64
	if err := conn.QueryRow(ctx, `INSERT INTO notifications (reply_id, channel, event, status, created_at, updated_at)
		VALUES ($1, 'ops', 'held', 'pending', '2026-12-01T00:00:00.000Z', '2026-12-01T00:00:00.000Z') RETURNING id`, newReply).Scan(&notif); err != nil {
		t.Fatal(err)
	}
	if got := rep.Tables[len(rep.Tables)-1]; got.Name != "notifications" || notif != got.SourceMax+1 {
		t.Errorf("new notification id %d, want %d", notif, got.SourceMax+1)
	}
	var fp string
	if err := conn.QueryRow(ctx, `SELECT value FROM meta WHERE key = 'migrated_from'`).Scan(&fp); err != nil || fp != rep.Fingerprint || !strings.HasPrefix(fp, "sqlite-sha256:") {
		t.Errorf("meta migrated_from %q (%v), want %q", fp, err, rep.Fingerprint)
	}
}

func TestCopyLeavesTheSourceUntouched(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "src.db")
	populate(t, path, 10, "")
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Copy(t.Context(), Options{Source: path, Target: target(t, pgtest.NewDatabase(t))}); err != nil {
		t.Fatal(err)
	}
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(before) != string(after) {
		t.Error("the copy changed the source file")
	}
}

// errStop is the interruption the tests' hook causes.
var errStop = errors.New("interrupted")

func TestCopyResumesWhereItStopped(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "src.db")
	populate(t, path, 100, "")
	dsn := pgtest.NewDatabase(t)
	cfg := target(t, dsn)

	// Stop in the middle of each of the two big tables in turn: after 2
	// batches of comments, then (second run) after 1 batch of replies.
	var total = map[string]int64{}
	for _, stop := range []struct {
		table   string
		batches int
	}{{"comments", 2}, {"replies", 1}} {
		n := 0
		rep, err := Copy(t.Context(), Options{Source: path, Target: cfg, Batch: 15, afterBatch: func(table string) error {
			if table == stop.table {
				if n++; n == stop.batches {
					return errStop
				}
			}
			return nil
		}})
		if !errors.Is(err, errStop) {
			t.Fatalf("stopping in %s: %v", stop.table, err)
		}
		for _, tb := range rep.Tables {
			total[tb.Name] += tb.Copied
		}
	}
	if total["comments"] != 100 || total["replies"] != 15 {
		t.Errorf("copied before the interruptions: %v", total)
	}
	rep, err := Copy(t.Context(), Options{Source: path, Target: cfg, Batch: 15})
	if err != nil {
		t.Fatal(err)
	}
	sameRows(t, path, dsn)
	for _, tb := range rep.Tables {
		total[tb.Name] += tb.Copied
		// Every row copied once over the three runs; meta, copied whole
		// each run, is the exception.
		if tb.Name != "meta" && total[tb.Name] != tb.Source {
			t.Errorf("%s: %d rows copied over three runs, %d in the source", tb.Name, total[tb.Name], tb.Source)
		}
		if !tb.OK() {
			t.Errorf("%+v", tb)
		}
	}
	// A fourth run finds nothing left to copy.
	rep, err = Copy(t.Context(), Options{Source: path, Target: cfg, Batch: 15})
	if err != nil {
		t.Fatal(err)
	}
	for _, tb := range rep.Tables {
		if tb.Name != "meta" && tb.Copied != 0 {
			t.Errorf("%s: a finished copy copied %d rows again", tb.Name, tb.Copied)
		}
	}
}

func TestCopyRefusesAnotherHistory(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.db"), filepath.Join(dir, "b.db")
	populate(t, a, 10, "")
	populate(t, b, 10, "b")
	dsn := pgtest.NewDatabase(t)
	if _, err := Copy(t.Context(), Options{Source: a, Target: target(t, dsn)}); err != nil {
		t.Fatal(err)
	}
	_, err := Copy(t.Context(), Options{Source: b, Target: target(t, dsn)})
	if err == nil || !strings.Contains(err.Error(), "copy of another SQLite database") {
		t.Errorf("copying b onto a's copy: %v", err)
	}
	sameRows(t, a, dsn) // nothing of b got in

	// A database with rows of its own, no copy's.
	dsn2 := pgtest.NewDatabase(t)
	conn := connect(t, dsn2)
	if _, err := Copy(t.Context(), Options{Source: a, Target: target(t, dsn2)}); err != nil {
		t.Fatal(err) // migrates the schema
	}
	if _, err := conn.Exec(t.Context(), `TRUNCATE comments, replies, notifications, drafts, threads, discovered_threads, pauses, meta;
		INSERT INTO pauses (scope, created_at) VALUES ('source:douyin', '2026-12-01T00:00:00.000Z')`); err != nil {
		t.Fatal(err)
	}
	_, err = Copy(t.Context(), Options{Source: a, Target: target(t, dsn2)})
	if err == nil || !strings.Contains(err.Error(), "already holds rows (in pauses) that were not copied from this source") {
		t.Errorf("copying into a database with rows of its own: %v", err)
	}
}

func TestCopyRefusesSourceOfAnotherVersion(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "src.db")
	populate(t, path, 3, "")
	for _, tc := range []struct {
		version int
		want    string
	}{
		{store.SchemaVersion + 1, "newer than the"},
		{store.SchemaVersion - 1, "must be migrated first"},
	} {
		db := openRaw(t, path)
		if _, err := db.Exec(fmt.Sprintf("PRAGMA user_version = %d", tc.version)); err != nil {
			t.Fatal(err)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		dsn := pgtest.NewDatabase(t)
		_, err := Copy(t.Context(), Options{Source: path, Target: target(t, dsn)})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("version %d: %v, want %q", tc.version, err, tc.want)
		}
		if tc.version < store.SchemaVersion && !errors.Is(err, ErrSourceBehind) {
			t.Errorf("version %d: %v does not wrap ErrSourceBehind", tc.version, err)
		}
	}
}

func TestCopyRefusesWhileADaemonRunsOnTheTarget(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "src.db")
	populate(t, path, 3, "")
	dsn := pgtest.NewDatabase(t)
	conn := connect(t, dsn)
	// A daemon's schema (10: instances) with its heartbeat.
	if err := pgschema.Migrate(t.Context(), conn); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	fresh := now.Add(-time.Minute).Format(store.TimeLayout)
	if _, err := conn.Exec(t.Context(), `INSERT INTO instances (name, host, started_at, heartbeat_at) VALUES ('a', 'host-a', $1, $1)`, fresh); err != nil {
		t.Fatal(err)
	}
	clock := func() time.Time { return now }
	_, err := Copy(t.Context(), Options{Source: path, Target: target(t, dsn), Now: clock})
	if err == nil || !strings.Contains(err.Error(), `a daemon is running on it (instance "a" on host "host-a"`) {
		t.Fatalf("copy while a daemon runs: %v", err)
	}
	var n int
	if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM comments`).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d comments copied (%v) while a daemon ran", n, err)
	}
	// Its heartbeat grown old, the daemon is taken for stopped.
	now = now.Add(AliveWindow)
	if _, err := Copy(t.Context(), Options{Source: path, Target: target(t, dsn), Now: clock}); err != nil {
		t.Fatal(err)
	}
}

func TestParseTarget(t *testing.T) {
	const secret = "s3cr3t-Passw0rd"
	for _, raw := range []string{
		"postgres://autoreplyd:" + secret + "@db.example:5432/autoreplyd?sslmode=verify-full",
		"postgresql://autoreplyd@db.example/autoreplyd?password=" + secret,
		"postgres://autoreplyd@db.example/autoreplyd?sslmode=verify-full&sslpassword=" + secret,
	} {
		_, err := ParseTarget(raw, "")
		if !errors.Is(err, ErrPasswordInURL) {
			t.Errorf("%s: %v, want ErrPasswordInURL", ShownURL(raw), err)
		}
		if err != nil && strings.Contains(err.Error(), secret) {
			t.Errorf("the error shows the password: %v", err)
		}
		if s := ShownURL(raw); strings.Contains(s, secret) {
			t.Errorf("ShownURL shows the password: %s", s)
		}
	}
	// A URL that does not parse is not echoed either.
	if _, err := ParseTarget("postgres://u:"+secret+"-Pässword@h:port/%zz", ""); err == nil || strings.Contains(err.Error(), secret) {
		t.Errorf("unparsable URL: %v", err)
	}
	if _, err := ParseTarget("host=db user=u password="+secret, ""); err == nil || strings.Contains(err.Error(), secret) {
		t.Errorf("keyword/value string: %v", err)
	}

	// passfile=, read by pgx in libpq's format; the first matching line wins.
	dir := t.TempDir()
	pf := filepath.Join(dir, "pgpass")
	if err := os.WriteFile(pf, []byte("other:5432:*:*:wrong\ndb.example:5432:autoreplyd:autoreplyd:"+secret+"\n*:*:*:*:later\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	raw := "postgres://autoreplyd@db.example:5432/autoreplyd?sslmode=disable&passfile=" + pf
	cfg, err := ParseTarget(raw, "")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Password != secret {
		t.Errorf("password from the passfile: %q", cfg.Password)
	}
	if s := ShownURL(raw); strings.Contains(s, "passfile") || s != "postgres://autoreplyd@db.example:5432/autoreplyd?sslmode=disable" {
		t.Errorf("ShownURL %s", s)
	}
	if _, err := ParseTarget(raw, "from-file"); err == nil || !strings.Contains(err.Error(), "give one") {
		t.Errorf("password file and passfile=: %v", err)
	}
	if _, err := ParseTarget(raw+"-missing", ""); err == nil || !strings.Contains(err.Error(), "passfile") {
		t.Errorf("missing passfile: %v", err)
	}
	cfg, err = ParseTarget("postgres://autoreplyd@db.example/autoreplyd?sslmode=disable", secret)
	if err != nil || cfg.Password != secret {
		t.Errorf("password given: %v", err)
	}
}

// TestCopyUnderTheContextsDeadline only checks that a cancelled copy stops
// with the context's error and can be resumed.
func TestCopyStopsWhenCancelled(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "src.db")
	populate(t, path, 40, "")
	dsn := pgtest.NewDatabase(t)
	ctx, cancel := context.WithCancel(t.Context())
	_, err := Copy(ctx, Options{Source: path, Target: target(t, dsn), Batch: 10, afterBatch: func(string) error {
		cancel()
		return nil
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled copy: %v", err)
	}
	if _, err := Copy(t.Context(), Options{Source: path, Target: target(t, dsn), Batch: 10}); err != nil {
		t.Fatal(err)
	}
	sameRows(t, path, dsn)
}
