package cli

import (
	"bufio"
	"cmp"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"golang.org/x/text/width"

	"github.com/autoreplyd/autoreplyd/internal/testutil"
	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/store"
)

// day is the seeded history's day (UTC); every seeded time is fixed so the
// output is stable.
var day = time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)

const (
	threadA = "7251524159191958327"
	threadB = "7251524159191958400"
	aweme   = "7251517975340027197"
)

// seedRow is one comment and the claim about it.
type seedRow struct {
	at       time.Time
	platform string
	id       string
	thread   string
	nick     string
	text     string
	rule     string
	status   string
	reason   string
	errText  string
	reply    string
	replyID  string
	// disposition is the comment's; "" is evaluated.
	disposition string
	// responder answers the claim; "" is kitkot.
	responder string
}

// seedRows cover every status, Chinese and emoji, a text long enough to be
// clipped in the table, and a comma, quotes and a newline for CSV quoting.
// The first row is on the day before `day` in UTC but on `day` in
// Asia/Shanghai.
var seedRows = []seedRow{
	{at: day.Add(-time.Hour), platform: "douyin", id: "7300000000000000001", thread: threadA, nick: "早起的鸟",
		text: "早上好", rule: "greet", status: model.StatusSent, reply: "早上好呀", replyID: "7399999999999999001"},
	{at: day.Add(time.Hour), platform: "douyin", id: "7300000000000000002", thread: threadA, nick: "史密斯夫妇💑",
		text: "多少钱[呲牙]", rule: "price", status: model.StatusSent, reply: "史密斯夫妇💑 你好，价格请看橱窗[比心]", replyID: "7399999999999999002"},
	{at: day.Add(time.Hour + 10*time.Minute), platform: "douyin", id: "7300000000000000003", thread: threadA, nick: "小明",
		text: "加微信 vx123456", rule: "spam", status: model.StatusSkipped, reason: model.ReasonNoReplyRule},
	{at: day.Add(time.Hour + 20*time.Minute), platform: "douyin", id: "7300000000000000004", thread: threadB, nick: "Alice",
		text: "这个保温杯真的太好看了，请问有没有粉色的？还有多大容量？能装热水吗", rule: "thanks", status: model.StatusFailed,
		reason: "platform_400", errText: "permanent failure: code 400: text too long", reply: "谢谢Alice！"},
	{at: day.Add(time.Hour + 30*time.Minute), platform: "douyin", id: "7300000000000000005", thread: threadB, nick: "Bob \"the builder\"",
		text: "He said \"how much, really?\"\nthen left", rule: "price", status: model.StatusRetrying, reason: "http_503",
		errText: "retryable failure: HTTP 503", reply: "Bob, see the shop"},
	{at: day.Add(time.Hour + 40*time.Minute), platform: "douyin", id: "7300000000000000006", thread: threadA, nick: "carol",
		text: "how much?", rule: "price", status: model.StatusUnknown, reason: "timeout",
		errText: "unknown failure: timeout after the request was sent", reply: "carol 你好，价格请看橱窗[比心]"},
	{at: day.Add(time.Hour + 50*time.Minute), platform: "douyin", id: "7300000000000000007", thread: threadB, nick: "王五",
		text: "价格？", rule: "price", status: model.StatusDryRun, reply: "王五 你好，价格请看橱窗[比心]"},
	{at: day.Add(2 * time.Hour), platform: "weibo", id: "5000000000000001", thread: "4023227965", nick: "微博用户",
		text: "好看", rule: "thanks", status: model.StatusPending, reply: "谢谢微博用户！"},
}

// seedHistory writes rows into a new database at path, as the daemon would:
// Record at the row's time, then Settle a minute later.
func seedHistory(t *testing.T, path string, rows []seedRow) {
	t.Helper()
	ctx := t.Context()
	st, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := st.Close(); err != nil {
			t.Error(err)
		}
	}()
	for _, r := range rows {
		c := model.Comment{Platform: r.platform, ID: r.id, ThreadID: r.thread, PostID: aweme, RootID: r.thread, ReplyToID: "0",
			Text: r.text, CreatedAt: r.at.Add(-5 * time.Minute),
			User: model.User{UID: "uid-" + r.id, Nickname: r.nick, UniqueID: "u" + r.id}}
		if r.platform == "weibo" {
			c.PostID = r.thread
		}
		claim := store.Claim{Rule: r.rule, Responder: cmp.Or(r.responder, "kitkot"), Status: model.StatusPending, ReplyText: r.reply}
		switch r.status {
		case model.StatusSkipped, model.StatusDryRun, model.StatusFlagged, model.StatusHeld:
			claim.Status, claim.Reason = r.status, r.reason
		}
		won, err := st.Record(ctx, c, cmp.Or(r.disposition, model.DispositionEvaluated), []store.Claim{claim}, r.at)
		if err != nil {
			t.Fatal(err)
		}
		if len(won) != 1 {
			t.Fatalf("Record %s: won %d claims", r.id, len(won))
		}
		switch r.status {
		case model.StatusPending, model.StatusSkipped, model.StatusDryRun, model.StatusFlagged, model.StatusHeld:
			continue
		}
		s := store.Settlement{Status: r.status, Reason: r.reason, Error: r.errText, PlatformReplyID: r.replyID}
		if r.status == model.StatusRetrying {
			s.NextAttempt = r.at.Add(10 * time.Minute)
		}
		if err := st.Settle(ctx, won[0].ID, s, r.at.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
}

// seededDB is a database holding seedRows.
func seededDB(t *testing.T) string {
	t.Helper()
	db := filepath.Join(t.TempDir(), "history.db")
	seedHistory(t, db, seedRows)
	return db
}

func historyOK(t *testing.T, environ []string, args ...string) string {
	t.Helper()
	r := runCLI(t, environ, append([]string{"history"}, args...)...)
	if r.code != 0 {
		t.Fatalf("history %v: exit %d\nstderr: %s", args, r.code, r.stderr)
	}
	if r.stderr != "" {
		t.Errorf("history %v: stderr %q", args, r.stderr)
	}
	return r.stdout
}

func TestHistoryGolden(t *testing.T) {
	t.Parallel()
	db := seededDB(t)
	for _, format := range []string{"table", "json", "csv"} {
		t.Run(format, func(t *testing.T) {
			golden(t, "history."+format+".golden", historyOK(t, nil, "--database", db, "--format", format))
		})
	}
	t.Run("default format is table", func(t *testing.T) {
		golden(t, "history.table.golden", historyOK(t, nil, "--database", db))
	})
	t.Run("empty", func(t *testing.T) {
		golden(t, "history.empty.table.golden", historyOK(t, nil, "--database", db, "--platform", "tiktok"))
		if out := historyOK(t, nil, "--database", db, "--platform", "tiktok", "--format", "json"); out != "" {
			t.Errorf("json with no rows printed %q", out)
		}
		if out := historyOK(t, nil, "--database", db, "--platform", "tiktok", "--format", "csv"); out != strings.Join(csvHeader, ",")+"\n" {
			t.Errorf("csv with no rows printed %q", out)
		}
	})
}

// jsonRows parses JSON Lines output.
func jsonRows(t *testing.T, out string) []map[string]any {
	t.Helper()
	var rows []map[string]any
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("bad JSON line %q: %v", sc.Text(), err)
		}
		rows = append(rows, m)
	}
	return rows
}

func TestHistoryJSONContract(t *testing.T) {
	t.Parallel()
	db := seededDB(t)
	rows := jsonRows(t, historyOK(t, nil, "--database", db, "--format", "json", "--limit", "0"))
	if len(rows) != len(seedRows) {
		t.Fatalf("%d rows, want %d", len(rows), len(seedRows))
	}
	// PRODUCT.md: at least these fields.
	for _, k := range []string{"platform", "comment_id", "thread_id", "rule", "responder", "status", "reason",
		"reply_text", "comment_text", "user", "created_at", "updated_at"} {
		for i, r := range rows {
			if _, ok := r[k]; !ok {
				t.Errorf("row %d has no %q", i, k)
			}
		}
	}
	// Newest first; values round-trip exactly (emoji, quotes, newline).
	for i, r := range rows {
		want := seedRows[len(seedRows)-1-i]
		if r["comment_id"] != want.id || r["comment_text"] != want.text || r["user"] != want.nick || r["status"] != want.status {
			t.Errorf("row %d = %v, want %+v", i, r, want)
		}
		if r["created_at"] != want.at.Format(time.RFC3339) {
			t.Errorf("row %d created_at %v, want %s", i, r["created_at"], want.at.Format(time.RFC3339))
		}
	}
	statuses := map[string]bool{}
	for _, r := range rows {
		statuses[r["status"].(string)] = true
	}
	for _, s := range []string{"pending", "sent", "retrying", "failed", "unknown", "dry_run", "skipped"} {
		if !statuses[s] {
			t.Errorf("no %s row in the fixture", s)
		}
	}
}

func TestHistoryCSVRoundTrip(t *testing.T) {
	t.Parallel()
	db := seededDB(t)
	out := historyOK(t, nil, "--database", db, "--format", "csv")
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatalf("csv does not parse: %v\n%s", err, out)
	}
	if !slices.Equal(recs[0], csvHeader) {
		t.Errorf("header %v", recs[0])
	}
	if len(recs) != len(seedRows)+1 {
		t.Fatalf("%d records, want %d", len(recs), len(seedRows)+1)
	}
	col := func(name string) int { return slices.Index(csvHeader, name) }
	for i, rec := range recs[1:] {
		want := seedRows[len(seedRows)-1-i]
		if len(rec) != len(csvHeader) {
			t.Errorf("record %d has %d fields", i, len(rec))
			continue
		}
		if rec[col("comment_text")] != want.text || rec[col("user")] != want.nick || rec[col("reply_text")] != want.reply {
			t.Errorf("record %d: text %q user %q reply %q, want %q %q %q", i,
				rec[col("comment_text")], rec[col("user")], rec[col("reply_text")], want.text, want.nick, want.reply)
		}
	}
}

// termCells is the test's own idea of a terminal cell width (wcwidth-like):
// East Asian wide and fullwidth runes take two cells; combining marks and
// zero-width format characters none; VS16 widens the emoji before it.
func termCells(r rune) int {
	switch {
	case r == '\uFE0F':
		return 1
	case unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf):
		return 0
	}
	switch width.LookupRune(r).Kind() {
	case width.EastAsianWide, width.EastAsianFullwidth:
		return 2
	}
	return 1
}

// cellOffsets maps the terminal cell offset of each rune of line (the first
// one, when zero-width runes share a cell) to its index in the string.
func cellOffsets(line string) (m map[int]int, total int) {
	m = map[int]int{}
	cell := 0
	for i, r := range line {
		if _, ok := m[cell]; !ok {
			m[cell] = i
		}
		cell += termCells(r)
	}
	if _, ok := m[cell]; !ok {
		m[cell] = len(line)
	}
	return m, cell
}

// checkTable checks a history table with one row per status in statuses:
// every column starts at the same terminal cell on every line, free text is
// clipped to its width and nothing reaches the terminal but printable text.
func checkTable(t *testing.T, out string, statuses []string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != len(statuses)+1 {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(statuses)+1, out)
	}
	head := strings.Fields(lines[0])
	wantHead := []string{"ID", "TIME", "PLATFORM", "THREAD", "COMMENT", "USER", "RULE", "STATUS", "REASON", "TEXT", "REPLY"}
	if !slices.Equal(head, wantHead) {
		t.Fatalf("header %q", lines[0])
	}
	// Each column starts at the same cell offset on every line: at the
	// header word's offset there is a rune boundary, preceded by two
	// spaces, and the cell is not blank.
	var offsets []int
	for _, h := range head {
		offsets = append(offsets, strings.Index(lines[0], h)) // the header is ASCII
	}
	for n, line := range lines[1:] {
		for _, r := range line {
			if unicode.IsControl(r) {
				t.Errorf("line %d has a control character %U: %q", n+1, r, line)
			}
		}
		at, total := cellOffsets(line)
		for c, off := range offsets {
			if c == len(offsets)-1 && total < off {
				continue // no reply: the last column is empty and trimmed
			}
			i, ok := at[off]
			if !ok {
				t.Errorf("line %d: no rune starts at cell %d (column %s): %q", n+1, off, head[c], line)
				continue
			}
			if c > 0 && !strings.HasSuffix(line[:i], "  ") {
				t.Errorf("line %d: column %s at cell %d is not preceded by two spaces: %q", n+1, head[c], off, line)
			}
			if i >= len(line) || line[i] == ' ' {
				t.Errorf("line %d: column %s is blank at cell %d: %q", n+1, head[c], off, line)
			}
		}
		// The STATUS column holds the row's status.
		if i, ok := at[offsets[7]]; ok && !strings.HasPrefix(line[i:], statuses[n]+" ") {
			t.Errorf("line %d: STATUS column reads %q, want %s", n+1, line[i:], statuses[n])
		}
		// Free text is clipped to its width.
		text, reply := line[at[offsets[9]]:], ""
		if i, ok := at[offsets[10]]; ok {
			text, reply = line[at[offsets[9]]:i], line[i:]
		}
		if _, c := cellOffsets(strings.TrimRight(text, " ")); c > tableTextCells {
			t.Errorf("TEXT %q is %d cells, more than %d", text, c, tableTextCells)
		}
		if _, c := cellOffsets(reply); c > tableReplyCells {
			t.Errorf("REPLY %q is %d cells, more than %d", reply, c, tableReplyCells)
		}
	}
}

func TestHistoryTableAlignment(t *testing.T) {
	t.Parallel()
	db := seededDB(t)
	out := historyOK(t, nil, "--database", db)
	var statuses []string
	for i := len(seedRows) - 1; i >= 0; i-- {
		statuses = append(statuses, seedRows[i].status)
	}
	checkTable(t, out, statuses)
	// The long comment and the long reply are clipped, with a mark.
	if n := strings.Count(out, "…"); n < 2 {
		t.Errorf("%d clip marks, want at least 2:\n%s", n, out)
	}
}

// Comment text and nicknames are untrusted: zero-width characters (a
// spammer's trick against keyword rules), combining marks, VS16 emoji and
// terminal escapes must neither break the columns nor reach the terminal.
func TestHistoryTableUntrustedText(t *testing.T) {
	t.Parallel()
	rows := []seedRow{
		{nick: "E\u0301mile\u0301", text: "加\u200b微\u200b信 vx\u200b123", status: model.StatusSkipped, rule: "spam", reason: model.ReasonNoReplyRule},
		{nick: "❤️小甜甜❤️", text: "❤️❤️❤️ 爱了", status: model.StatusSent, rule: "thanks", reply: "谢谢❤️小甜甜❤️！"},
		{nick: "\x1b[31mred\x1b[0m", text: "\x1b[2J\x1b]0;pwned\x07hello\x7f\u009b1m", status: model.StatusDryRun, rule: "r", reply: "ok"},
		{nick: "a\u200d\u200d\u200db", text: "👨\u200d👩\u200d👧 family", status: model.StatusFailed, rule: "r", reply: "x"},
	}
	for i := range rows {
		rows[i].at, rows[i].platform, rows[i].thread = day.Add(time.Duration(i)*time.Minute), "douyin", threadA
		rows[i].id = fmt.Sprint(7300000000000000100 + i)
	}
	db := filepath.Join(t.TempDir(), "untrusted.db")
	seedHistory(t, db, rows)
	out := historyOK(t, nil, "--database", db)
	checkTable(t, out, []string{model.StatusFailed, model.StatusDryRun, model.StatusSent, model.StatusSkipped})
	if !strings.Contains(out, "[2J]0;pwnedhello") {
		t.Errorf("the escape-laden text lost its printable part:\n%s", out)
	}
	// JSON and CSV keep the text exactly.
	js := jsonRows(t, historyOK(t, nil, "--database", db, "--format", "json"))
	if js[1]["comment_text"] != rows[2].text || js[1]["user"] != rows[2].nick {
		t.Errorf("json changed the text: %q %q", js[1]["comment_text"], js[1]["user"])
	}
}

func TestCells(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want int
	}{
		{"abc", 3},
		{"史密斯夫妇💑", 12},
		{"[呲牙]", 6},
		{"ｈｉ", 4},              // fullwidth
		{"加\u200b微信", 6},       // zero-width space
		{"E\u0301mile", 5},     // combining acute
		{"❤️", 2},              // U+2764 U+FE0F: emoji presentation
		{"✨", 2},               // wide emoji
		{"…", 1},               // ambiguous: narrow
		{"👨\u200d👩\u200d👧", 6}, // ZWJ sequence: terminals disagree; each emoji counted
	} {
		if got := cells(tc.in); got != tc.want {
			t.Errorf("cells(%q) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

func TestClip(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"a\nb\tc  d", 10, "a b c d"},
		{"abcdefghijk", 10, "abcdefghi…"},
		{"史密斯夫妇💑", 12, "史密斯夫妇💑"},
		{"史密斯夫妇💑", 11, "史密斯夫妇…"},
		{"史密斯夫妇💑", 10, "史密斯夫…"},
		{"a史密斯", 6, "a史密…"},
		{"", 5, ""},
		{"\x1b[2Jhi\x07", 10, "[2Jhi"},
		{"加\u200b微信", 6, "加\u200b微信"},
	} {
		got := clip(tc.in, tc.n)
		if got != tc.want {
			t.Errorf("clip(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
		if cells(got) > tc.n {
			t.Errorf("clip(%q, %d) = %q is %d cells", tc.in, tc.n, got, cells(got))
		}
	}
}

// ids returns the comment ids of JSON Lines output, in order.
func commentIDs(t *testing.T, out string) []string {
	t.Helper()
	var ids []string
	for _, r := range jsonRows(t, out) {
		ids = append(ids, r["comment_id"].(string))
	}
	return ids
}

// seedIDs returns the ids of seedRows at the given indexes, newest first.
func seedIDs(idx ...int) []string {
	slices.Sort(idx)
	var out []string
	for i := len(idx) - 1; i >= 0; i-- {
		out = append(out, seedRows[idx[i]].id)
	}
	return out
}

func TestHistoryFilters(t *testing.T) {
	t.Parallel()
	db := seededDB(t)
	all := []int{0, 1, 2, 3, 4, 5, 6, 7}
	for _, tc := range []struct {
		name string
		args []string
		want []int
	}{
		{"all", nil, all},
		{"rule", []string{"--rule", "price"}, []int{1, 4, 5, 6}},
		{"status", []string{"--status", "sent"}, []int{0, 1}},
		{"status retrying", []string{"--status", "retrying"}, []int{4}},
		{"platform", []string{"--platform", "weibo"}, []int{7}},
		{"thread", []string{"--thread", threadB}, []int{3, 4, 6}},
		{"rule and thread", []string{"--rule", "price", "--thread", threadA}, []int{1, 5}},
		{"since a date (local to the host, UTC here)", []string{"--since", "2026-11-22"}, []int{1, 2, 3, 4, 5, 6, 7}},
		{"since date and time", []string{"--since", "2026-11-22 01:30"}, []int{4, 5, 6, 7}},
		{"since RFC 3339 with an offset", []string{"--since", "2026-11-22T09:40:00+08:00"}, []int{5, 6, 7}},
		{"until (exclusive)", []string{"--until", "2026-11-22 01:20"}, []int{0, 1, 2}},
		{"since and until", []string{"--since", "2026-11-22", "--until", "2026-11-22T01:30:00Z"}, []int{1, 2, 3}},
		{"limit", []string{"--limit", "3"}, []int{5, 6, 7}},
		{"limit 0 is all", []string{"--limit", "0"}, all},
		{"limit with a filter", []string{"--status", "sent", "--limit", "1"}, []int{1}},
		{"nothing", []string{"--status", "sent", "--platform", "weibo"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := historyOK(t, nil, append([]string{"--database", db, "--format", "json"}, tc.args...)...)
			if got, want := commentIDs(t, out), seedIDs(tc.want...); !slices.Equal(got, want) {
				t.Errorf("history %v:\n got %v\nwant %v", tc.args, got, want)
			}
		})
	}
}

// Durations count back from now: seed rows relative to the real clock.
func TestHistorySinceDuration(t *testing.T) {
	t.Parallel()
	now := time.Now().UTC().Truncate(time.Second)
	rows := []seedRow{
		{at: now.Add(-10 * 24 * time.Hour), platform: "douyin", id: "1", thread: threadA, nick: "a", text: "x", rule: "r", status: model.StatusDryRun},
		{at: now.Add(-3 * 24 * time.Hour), platform: "douyin", id: "2", thread: threadA, nick: "b", text: "x", rule: "r", status: model.StatusDryRun},
		{at: now.Add(-2 * time.Hour), platform: "douyin", id: "3", thread: threadA, nick: "c", text: "x", rule: "r", status: model.StatusDryRun},
		{at: now.Add(-time.Minute), platform: "douyin", id: "4", thread: threadA, nick: "d", text: "x", rule: "r", status: model.StatusDryRun},
	}
	db := filepath.Join(t.TempDir(), "h.db")
	seedHistory(t, db, rows)
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"--since", "1h"}, []string{"4"}},
		{[]string{"--since", "24h"}, []string{"4", "3"}},
		{[]string{"--since", "7d"}, []string{"4", "3", "2"}},
		{[]string{"--since", "30d"}, []string{"4", "3", "2", "1"}},
		{[]string{"--since", "0d"}, nil},
		{[]string{"--until", "1h"}, []string{"3", "2", "1"}},
		{[]string{"--since", "7d", "--until", "1h"}, []string{"3", "2"}},
	} {
		out := historyOK(t, nil, append([]string{"--database", db, "--format", "json"}, tc.args...)...)
		if got := commentIDs(t, out); !slices.Equal(got, tc.want) {
			t.Errorf("history %v: got %v, want %v", tc.args, got, tc.want)
		}
	}
}

func TestHistoryDefaultLimit(t *testing.T) {
	t.Parallel()
	rows := make([]seedRow, defaultHistoryLimit+20)
	for i := range rows {
		rows[i] = seedRow{at: day.Add(time.Duration(i) * time.Second), platform: "douyin", id: fmt.Sprint(1000 + i),
			thread: threadA, nick: "n", text: "t", rule: "r", status: model.StatusDryRun}
	}
	db := filepath.Join(t.TempDir(), "many.db")
	seedHistory(t, db, rows)
	count := func(args ...string) []string {
		return commentIDs(t, historyOK(t, nil, append([]string{"--database", db, "--format", "json"}, args...)...))
	}
	if got := count(); len(got) != defaultHistoryLimit || got[0] != fmt.Sprint(1000+len(rows)-1) {
		t.Errorf("default: %d rows starting %v, want the newest %d", len(got), got[:1], defaultHistoryLimit)
	}
	if got := count("--limit", "0"); len(got) != len(rows) {
		t.Errorf("--limit 0: %d rows, want %d", len(got), len(rows))
	}
	if got := count("--limit", "110"); len(got) != 110 {
		t.Errorf("--limit 110: %d rows", len(got))
	}
	// The table's default is the same.
	table := historyOK(t, nil, "--database", db)
	if n := strings.Count(table, "\n"); n != defaultHistoryLimit+1 {
		t.Errorf("table: %d lines, want %d", n, defaultHistoryLimit+1)
	}
}

// Through --config: the database comes from the config, and table times and
// dates in --since are in the config's timezone.
func TestHistoryWithConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "state"), 0o755); err != nil {
		t.Fatal(err)
	}
	seedHistory(t, filepath.Join(dir, "state", "autoreplyd.db"), seedRows)
	cfg := filepath.Join(dir, "config.yaml")
	testutil.WriteFile(t, cfg, configYAML("state/autoreplyd.db", "rules.yaml", ""))

	// 2026-11-22 in Asia/Shanghai starts at 2026-11-21T16:00Z: the first
	// row (23:00Z on the 21st) is on the 22nd there.
	out := historyOK(t, nil, "--config", cfg, "--since", "2026-11-22", "--format", "json")
	if got, want := commentIDs(t, out), seedIDs(0, 1, 2, 3, 4, 5, 6, 7); !slices.Equal(got, want) {
		t.Errorf("--since 2026-11-22 in Asia/Shanghai: got %v, want %v", got, want)
	}
	out = historyOK(t, nil, "--config", cfg, "--until", "2026-11-22 09:10", "--format", "json")
	if got, want := commentIDs(t, out), seedIDs(0, 1); !slices.Equal(got, want) {
		t.Errorf("--until 2026-11-22 09:10 in Asia/Shanghai: got %v, want %v", got, want)
	}
	// JSON times stay UTC.
	if rows := jsonRows(t, out); rows[1]["created_at"] != "2026-11-21T23:00:00Z" {
		t.Errorf("json created_at %v, want UTC", rows[1]["created_at"])
	}

	table := historyOK(t, nil, "--config", cfg, "--status", "sent")
	lines := strings.Split(strings.TrimSuffix(table, "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("table:\n%s", table)
	}
	// 2026-11-21T23:00Z is 07:00 the next day at +08:00.
	if !strings.HasPrefix(lines[2], "1   2026-11-22 07:00:00  douyin") {
		t.Errorf("oldest sent row %q, want its time in +08:00 (2026-11-22 07:00:00)", lines[2])
	}
	if !strings.HasPrefix(lines[1], "2   2026-11-22 09:00:00  douyin") {
		t.Errorf("newest sent row %q, want its time in +08:00 (2026-11-22 09:00:00)", lines[1])
	}
	golden(t, "history.config.table.golden", table)

	// $AUTOREPLYD_CONFIG works the same.
	if got := historyOK(t, []string{"AUTOREPLYD_CONFIG=" + cfg}, "--status", "sent"); got != table {
		t.Errorf("with $AUTOREPLYD_CONFIG:\n%s\nwant\n%s", got, table)
	}
	// --database wins over the config's database but the config is not read.
	if got := historyOK(t, []string{"AUTOREPLYD_CONFIG=" + filepath.Join(dir, "nope.yaml")},
		"--database", filepath.Join(dir, "state", "autoreplyd.db"), "--status", "sent", "--format", "json"); len(jsonRows(t, got)) != 2 {
		t.Errorf("--database with a missing config: %s", got)
	}
}

func TestHistoryErrors(t *testing.T) {
	t.Parallel()
	db := seededDB(t)
	missing := filepath.Join(t.TempDir(), "missing.db")
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{

		{"bad since", []string{"--database", db, "--since", "yesterday"}, []string{"--since", `"yesterday"`}},
		{"negative since", []string{"--database", db, "--since", "-2h"}, []string{"--since", "negative"}},
		{"bad until", []string{"--database", db, "--until", "2026-13-01"}, []string{"--until", `"2026-13-01"`}},
		{"negative limit", []string{"--database", db, "--limit", "-1"}, []string{"--limit"}},
		{"missing database", []string{"--database", missing}, []string{missing, "does not exist"}},
		{"missing config", []string{"--config", filepath.Join(t.TempDir(), "nope.yaml")}, []string{"nope.yaml"}},
		{"extra argument", []string{"--database", db, "extra"}, []string{"extra"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, nil, append([]string{"history"}, tc.args...)...)
			if r.code != 1 {
				t.Errorf("exit %d, want 1", r.code)
			}
			if r.stdout != "" {
				t.Errorf("stdout %q, want nothing", r.stdout)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr %q does not contain %q", r.stderr, w)
				}
			}
			if strings.Count(strings.TrimSuffix(r.stderr, "\n"), "\n") != 0 {
				t.Errorf("stderr is not one line: %q", r.stderr)
			}
		})
	}
	if m, _ := filepath.Glob(missing + "*"); len(m) > 0 {
		t.Errorf("history created %v", m)
	}
}

func TestParseWhen(t *testing.T) {
	t.Parallel()
	sh, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 22, 10, 30, 0, 0, sh)
	for _, tc := range []struct {
		in      string
		want    time.Time
		wantErr string
	}{
		{in: "", want: time.Time{}},
		{in: "24h", want: now.Add(-24 * time.Hour)},
		{in: "90m", want: now.Add(-90 * time.Minute)},
		{in: " 1h30m ", want: now.Add(-90 * time.Minute)},
		{in: "7d", want: now.AddDate(0, 0, -7)},
		{in: "0d", want: now},
		{in: "0", want: now},
		{in: "2026-11-22", want: time.Date(2026, 11, 22, 0, 0, 0, 0, sh)},
		{in: "2026-11-22 08:00", want: time.Date(2026, 11, 22, 8, 0, 0, 0, sh)},
		{in: "2026-11-22 08:00:30", want: time.Date(2026, 11, 22, 8, 0, 30, 0, sh)},
		{in: "2026-11-22T08:00:00Z", want: time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)},
		{in: "2026-11-22T08:00:00+08:00", want: time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)},
		{in: "-1h", wantErr: "negative"},
		{in: "garbage", wantErr: "neither a duration"},
		{in: "7days", wantErr: "neither a duration"},
		{in: "2026-11-22 8am", wantErr: "neither a duration"},
		{in: "2026/11/22", wantErr: "neither a duration"},
	} {
		got, err := parseWhen(tc.in, now, sh)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), strings.TrimSpace(tc.in)) {
				t.Errorf("parseWhen(%q) = %v, %v; want an error containing %q and the input", tc.in, got, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseWhen(%q): %v", tc.in, err)
			continue
		}
		if !got.Equal(tc.want) {
			t.Errorf("parseWhen(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

// The table's first column is the claim id, the one resolve takes.
func TestHistoryTableIDResolves(t *testing.T) {
	t.Parallel()
	db := seededDB(t)
	var id string
	for _, line := range strings.Split(historyOK(t, nil, "--database", db, "--status", "unknown"), "\n")[1:] {
		if strings.Contains(line, seedRows[5].id) {
			id = strings.Fields(line)[0]
		}
	}
	if id != claimUnknown {
		t.Fatalf("ID of the unknown claim %q, want %s", id, claimUnknown)
	}
	r := runCLI(t, nil, "resolve", "--database", db, id, "--drop")
	if r.code != 0 || !strings.Contains(r.stdout, "comment "+seedRows[5].id) {
		t.Fatalf("resolve %s: exit %d, stdout %q, stderr %q", id, r.code, r.stdout, r.stderr)
	}
	if got := claimJSON(t, db, id); got.Status != model.StatusFailed || got.Reason != "resolved_drop" {
		t.Errorf("after resolve: %s/%s", got.Status, got.Reason)
	}
}

// --wide shows texts and names whole, one row a line, escaped.
func TestHistoryWide(t *testing.T) {
	t.Parallel()
	rows := append([]seedRow(nil), seedRows...)
	rows[0].text = "\x1b[2J清屏\u202e" + strings.Repeat("很长的评论", 10)
	db := filepath.Join(t.TempDir(), "wide.db")
	seedHistory(t, db, rows)
	out := historyOK(t, nil, "--database", db, "--wide")
	if strings.Contains(out, "…") {
		t.Errorf("--wide cut a text:\n%s", out)
	}
	for _, want := range []string{
		rows[3].text, // the long comment
		rows[1].reply,
		`Bob "the builder"`,
		`He said "how much, really?"\nthen left`, // the line break escaped, on one line
		`\x1b[2J清屏\u202e` + strings.Repeat("很长的评论", 10),
	} {
		if !strings.Contains(out, want) {
			t.Errorf("--wide output lacks %q:\n%s", want, out)
		}
	}
	if strings.ContainsAny(out, "\x1b\u202e") {
		t.Errorf("--wide let a control character through:\n%q", out)
	}
	if n := strings.Count(out, "\n"); n != len(rows)+1 {
		t.Errorf("--wide printed %d lines, want %d", n, len(rows)+1)
	}
	// Without it the same texts are cut.
	if out := historyOK(t, nil, "--database", db); strings.Contains(out, rows[3].text) || !strings.Contains(out, "…") {
		t.Errorf("the default table does not cut long texts:\n%s", out)
	}
}
