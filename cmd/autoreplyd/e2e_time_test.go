package main

// Hostile create times, end to end: the real binary polls a JustOneAPI
// imitation that sends impossible create_time values, records the comments
// with the time they were seen and warns once; then, on a database an older
// version poisoned with times no reader parses, `history` lists every row
// and exits 0, and the next cycle sends every due retry, the poisoned ones
// included.

import (
	"bufio"
	"database/sql"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/simulator"
)

func TestEndToEndHostileCreateTimes(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "@every 1h", true)
	w.once() // the threads are first seen empty: what comes next is answered
	addAt := func(text, nick, uid, createTime string) string {
		return w.jo.AddReply(threadA, simulator.Reply{AwemeID: aweme, Text: text, Nickname: nick, UserUID: uid,
			CreateTime: time.Now().Unix(), CreateTimeJSON: createTime, ReplyToReplyID: "0"})
	}
	bad1 := addAt("多少钱", "客A", "30001", `253402300800`)
	bad2 := addAt("好看", "客B", "30002", `"1e300"`)
	good := w.add(threadA, "多少钱", "客C", "30003")
	// Every first send fails retryably: the claims are left retrying.
	for range 3 {
		w.kk.Faults.Push(simulator.Fault{Kind: simulator.FaultHTTPStatus, Status: http.StatusServiceUnavailable})
	}
	before := time.Now().Add(-time.Second)
	stderr := w.once()
	after := time.Now().Add(time.Second)
	if n := strings.Count(stderr, "comment create times unusable"); n != 1 {
		t.Errorf("%d warnings about the create times, want 1:\n%s", n, stderr)
	}

	rows := historyMaps(t, w)
	if len(rows) != 3 {
		t.Fatalf("%d history rows, want 3: %v", len(rows), rows)
	}
	for _, id := range []string{bad1, bad2} {
		r := rows[id]
		at, err := time.Parse(time.RFC3339, r["comment_created_at"].(string))
		if err != nil || at.Before(before.Truncate(time.Second)) || at.After(after) || r["status"] != "retrying" {
			t.Errorf("comment %s: created %v (%v), status %v; want the time it was seen, retrying", id, r["comment_created_at"], err, r["status"])
		}
	}

	// Rows as an older version wrote them: times past 9999 and garbage. The
	// retries are made due.
	db, err := sql.Open("sqlite", "file:"+filepath.Join(w.dir, "state", "autoreplyd.db")+"?_pragma=busy_timeout(5000)")
	must(t, err)
	for _, q := range []string{
		`UPDATE comments SET comment_created_at = '10000-01-01T00:00:00.000Z' WHERE comment_id = '` + bad1 + `'`,
		`UPDATE comments SET comment_created_at = 'abc' WHERE comment_id = '` + good + `'`,
		`UPDATE replies SET created_at = '10000-01-01T00:00:00.000Z' WHERE comment_id = '` + bad2 + `'`,
		`UPDATE replies SET next_attempt_at = '2000-01-01T00:00:00.000Z' WHERE status = 'retrying'`,
	} {
		_, err := db.Exec(q)
		must(t, err)
	}
	must(t, db.Close())

	stdout, stderr, code := w.run("history", "--config", w.cfg)
	if code != 0 {
		t.Fatalf("history exited %d on a poisoned database:\n%s", code, stderr)
	}
	for _, id := range []string{bad1, bad2, good} {
		if !strings.Contains(stdout, id) {
			t.Errorf("history does not list %s:\n%s", id, stdout)
		}
	}
	if rows := historyMaps(t, w); len(rows) != 3 || rows[bad1]["comment_created_at"] != "" || rows[bad2]["created_at"] != "" {
		t.Errorf("poisoned times not shown as unknown: %v", rows)
	}

	stderr = w.once()
	if strings.Contains(stderr, "load due retries") {
		t.Errorf("the due retries were not loaded:\n%s", stderr)
	}
	posts := postsByText(w.kk)
	for _, want := range []string{"客A 你好，价格请看橱窗[比心]", "谢谢客B！", "客C 你好，价格请看橱窗[比心]"} {
		if posts[want] != 1 {
			t.Errorf("%q posted %d times, want 1 (posts %v)", want, posts[want], posts)
		}
	}
	for id, r := range historyMaps(t, w) {
		if r["status"] != "sent" {
			t.Errorf("comment %s ends %v/%v", id, r["status"], r["reason"])
		}
	}
}

// historyMaps runs `history --format json` and returns its rows by comment id.
func historyMaps(t *testing.T, w *world) map[string]map[string]any {
	t.Helper()
	stdout, stderr, code := w.run("history", "--config", w.cfg, "--format", "json", "--limit", "0")
	if code != 0 {
		t.Fatalf("history exited %d:\n%s", code, stderr)
	}
	out := map[string]map[string]any{}
	sc := bufio.NewScanner(strings.NewReader(stdout))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("history line %q: %v", sc.Text(), err)
		}
		out[m["comment_id"].(string)] = m
	}
	return out
}
