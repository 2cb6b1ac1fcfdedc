package cli

import (
	"database/sql"
	"strings"
	"testing"
)

// A database holding rows whose times no reader parses (written by an older
// version, or by hand: a year past 9999, garbage) is still listed, in every
// format, with exit 0: the bad times show as unknown, the rows in full.
func TestHistoryListsPoisonedRows(t *testing.T) {
	t.Parallel()
	db := seededDB(t)
	raw, err := sql.Open("sqlite", "file:"+db+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`UPDATE comments SET comment_created_at = '10000-01-01T00:00:00.000Z' WHERE comment_id = '7300000000000000002'`,
		`UPDATE comments SET comment_created_at = 'abc' WHERE comment_id = '7300000000000000003'`,
		`UPDATE replies SET created_at = 'abc', updated_at = '10000-01-01T00:00:00.000Z' WHERE comment_id = '7300000000000000005'`,
		`UPDATE replies SET next_attempt_at = '+275760-09-13T00:00:00.000Z' WHERE comment_id = '7300000000000000005'`,
	} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	if err := raw.Close(); err != nil {
		t.Fatal(err)
	}

	rows := jsonRows(t, historyOK(t, nil, "--database", db, "--format", "json", "--limit", "0"))
	if len(rows) != len(seedRows) {
		t.Fatalf("%d rows, want %d", len(rows), len(seedRows))
	}
	byComment := map[string]map[string]any{}
	for _, r := range rows {
		byComment[r["comment_id"].(string)] = r
	}
	for id, field := range map[string]string{
		"7300000000000000002": "comment_created_at", "7300000000000000003": "comment_created_at",
		"7300000000000000005": "created_at",
	} {
		if got := byComment[id][field]; got != "" {
			t.Errorf("comment %s: %s %q, want unknown (empty)", id, field, got)
		}
	}
	if got := byComment["7300000000000000005"]["reply_text"]; got != "Bob, see the shop" {
		t.Errorf("the poisoned row lost its content: %v", byComment["7300000000000000005"])
	}

	csv := historyOK(t, nil, "--database", db, "--format", "csv", "--limit", "0")
	if n := strings.Count(csv, "\n"); n < len(seedRows)+1 {
		t.Errorf("csv has %d lines:\n%s", n, csv)
	}
	table := historyOK(t, nil, "--database", db, "--limit", "0")
	var line string
	for _, l := range strings.Split(table, "\n") {
		if strings.Contains(l, "7300000000000000005") {
			line = l
		}
	}
	if f := strings.Fields(line); len(f) < 2 || f[1] != "-" || !strings.Contains(line, "retrying") {
		t.Errorf("table row of the claim with an unreadable time: %q\n%s", line, table)
	}
	if r := runCLI(t, nil, "stats", "--database", db, "--since", "100000h", "--format", "json"); r.code != 0 || !strings.Contains(r.stdout, `"day":"unknown"`) {
		t.Errorf("stats: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
