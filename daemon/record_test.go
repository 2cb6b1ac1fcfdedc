package daemon

import (
	"database/sql"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/internal/testutil"
	"github.com/autoreplyd/autoreplyd/poller"
	"github.com/autoreplyd/autoreplyd/simulator"
	"github.com/autoreplyd/autoreplyd/store"
)

// query runs q on the database at path (read-only) and returns its rows as
// "col1|col2" strings.
func query(t *testing.T, path, q string) []string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer testutil.Close(t, db)
	rows, err := db.Query(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var s []string
		for _, v := range vals {
			s = append(s, v.String)
		}
		out = append(out, strings.Join(s, "|"))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// The config's time zone and thread labels are in the database after every
// start, and follow the config when it changes.
func TestRecordConfig(t *testing.T) {
	t.Parallel()
	jo, _, url := imitations(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "autoreplyd.db")
	start := func(cfgPath string) *Daemon {
		t.Helper()
		d, err := New(t.Context(), load(t, cfgPath), Options{Logger: quietLogger(), Tune: func(o *poller.Options) { o.Jitter = nil }})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	labelsByThread := func() map[string]string {
		t.Helper()
		m := map[string]string{}
		for _, r := range query(t, db, `SELECT thread_id, labels FROM threads`) {
			k, v, _ := strings.Cut(r, "|")
			m[k] = v
		}
		return m
	}
	byCampaign := `SELECT coalesce(json_extract(labels, '$.campaign'), '-') AS campaign, count(*)
		FROM replies_v WHERE status = 'sent' GROUP BY campaign ORDER BY campaign`

	// writeConfig labels thread A {campaign: spring}, B nothing.
	d := start(writeConfig(t, dir, url, "@every 1h", rulesV1, ""))
	if got := query(t, db, `SELECT value FROM meta WHERE key = 'timezone'`); len(got) != 1 || got[0] != "Asia/Shanghai" {
		t.Errorf("meta timezone = %v, want Asia/Shanghai", got)
	}
	want := map[string]string{threadA: `{"campaign":"spring"}`, threadB: `{}`}
	if got := labelsByThread(); !maps.Equal(got, want) {
		t.Errorf("labels at start = %v, want %v", got, want)
	}
	d.Cycle(t.Context()) // first sight
	for i, th := range []string{threadA, threadA, threadB} {
		jo.AddReply(th, simulator.Reply{AwemeID: aweme, Text: "多少钱", UserUID: "100" + string(rune('1'+i)), Nickname: "客",
			CreateTime: time.Now().Unix(), ReplyToReplyID: "0"})
	}
	if st := d.Cycle(t.Context()); st.Sent != 3 {
		t.Fatalf("cycle %+v, want 3 sent", st)
	}
	if got := labelsByThread(); !maps.Equal(got, want) {
		t.Errorf("labels after polls saved the thread states = %v, want %v", got, want)
	}
	if got := query(t, db, byCampaign); strings.Join(got, ",") != "-|1,spring|2" {
		t.Errorf("answers by campaign = %v, want -|1,spring|2", got)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}

	// The config changes: another zone; A becomes summer, B spring.
	cfgPath := writeConfig(t, dir, url, "@every 1h", rulesV1, "")
	cfgText := strings.Replace(readFile(t, cfgPath), "timezone: Asia/Shanghai", "timezone: America/New_York", 1)
	cfgText = strings.Replace(cfgText, "labels: {campaign: spring}", "labels: {campaign: summer, 渠道: 直播}", 1)
	cfgText = strings.Replace(cfgText, "      - comment_id: \""+threadB+"\"\n        aweme_id: \""+aweme+"\"\n",
		"      - comment_id: \""+threadB+"\"\n        aweme_id: \""+aweme+"\"\n        labels: {campaign: spring}\n", 1)
	testutil.WriteFile(t, cfgPath, cfgText)
	d = start(cfgPath)
	defer testutil.Close(t, d)
	if got := query(t, db, `SELECT value FROM meta WHERE key = 'timezone'`); len(got) != 1 || got[0] != "America/New_York" {
		t.Errorf("meta timezone after the change = %v, want America/New_York", got)
	}
	want = map[string]string{threadA: `{"campaign":"summer","渠道":"直播"}`, threadB: `{"campaign":"spring"}`}
	if got := labelsByThread(); !maps.Equal(got, want) {
		t.Errorf("labels after the change = %v, want %v", got, want)
	}
	if got := query(t, db, byCampaign); strings.Join(got, ",") != "spring|1,summer|2" {
		t.Errorf("answers by campaign after the change = %v, want spring|1,summer|2", got)
	}
	if v, ok, err := d.Store().Meta(t.Context(), store.MetaTimezone); err != nil || !ok || v != "America/New_York" {
		t.Errorf("Store().Meta = %q, %v, %v", v, ok, err)
	}
}

func TestZoneName(t *testing.T) {
	t.Parallel()
	sh, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	if n, ok := zoneName(sh); !ok || n != "Asia/Shanghai" {
		t.Errorf("zoneName(Asia/Shanghai) = %q, %v", n, ok)
	}
	if n, ok := zoneName(time.UTC); !ok || n != "UTC" {
		t.Errorf("zoneName(UTC) = %q, %v", n, ok)
	}
	// The host's zone: whatever it is named, the name loads.
	if n, ok := zoneName(time.Local); ok {
		if _, err := time.LoadLocation(n); err != nil || n == "Local" {
			t.Errorf("zoneName(Local) = %q, which does not name a zone: %v", n, err)
		}
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
