package doccheck

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/autoreplyd/autoreplyd/demo"
	"github.com/autoreplyd/autoreplyd/internal/testutil"
)

// The guides' queries are the ```sql blocks of the guides, one statement a
// block, its first line a `-- title` comment. The guides tell the analyst to
// paste them into `sqlite3 -readonly -header -column DB`.

// emptyAllowed are the titles of the queries that may rightly return nothing
// on a short demo run: every other query must return rows there.
var emptyAllowed = map[string]bool{
	"failures by reason":        true, // the demo's faults are retried and sent
	"pauses in force":           true, // the demo's kitkot never pauses
	"claims to look at by hand": true, // nothing unknown or failed in a short run
}

// demoDatabase runs the demo for a few seconds with a fixed seed and returns
// its database, opened read-only.
func demoDatabase(t *testing.T) *sql.DB {
	t.Helper()
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var log strings.Builder
	err := demo.Run(ctx, demo.Options{Duration: 6 * time.Second, Tick: 500 * time.Millisecond, Seed: 42,
		Out: io.Discard, Log: &log, Dir: dir})
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, log.String())
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "autoreplyd.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { testutil.Close(t, db) })
	return db
}

// query is one ```sql block of a guide.
type query struct {
	block
	title string
}

func (q query) String() string { return fmt.Sprintf("%s:%d (%s)", q.file, q.line, q.title) }

// guideQueries collects the ```sql blocks of every guide.
func guideQueries(t *testing.T, root string) []query {
	t.Helper()
	var out []query
	for _, f := range guideFiles(t, root) {
		for _, b := range codeBlocks(parseFile(t, root, f), "sql") {
			b.file = filepath.ToSlash(b.file)
			first, _, _ := strings.Cut(strings.TrimSpace(b.text), "\n")
			title, ok := strings.CutPrefix(first, "-- ")
			if !ok {
				t.Errorf("%s:%d: a ```sql block starts with a `-- title` comment line", b.file, b.line)
			}
			out = append(out, query{block: b, title: strings.TrimSpace(title)})
		}
	}
	return out
}

// rows runs q and returns its column names and rows as text.
func rows(db *sql.DB, q string) ([]string, [][]string, error) {
	r, err := db.Query(q)
	if err != nil {
		return nil, nil, err
	}
	defer r.Close()
	cols, err := r.Columns()
	if err != nil {
		return nil, nil, err
	}
	var out [][]string
	for r.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := r.Scan(ptrs...); err != nil {
			return nil, nil, err
		}
		row := make([]string, len(cols))
		for i, v := range vals {
			row[i] = v.String
		}
		out = append(out, row)
	}
	return cols, out, r.Err()
}

// TestGuideQueries runs every query of the guides against a database the
// demo produced: each must run, and return rows unless emptyAllowed says
// otherwise. The busiest-threads query must count the comments of others
// only (disposition 'self' are our own answers showing up in the thread).
func TestGuideQueries(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	queries := guideQueries(t, root)
	if len(queries) == 0 {
		t.Fatal("no ```sql blocks in the guides")
	}
	db := demoDatabase(t)
	titles := map[string]bool{}
	busiest := false
	for _, q := range queries {
		titles[q.title] = true
		stmt := strings.TrimSpace(q.text)
		if strings.Count(strings.TrimSuffix(stmt, ";"), ";") > 0 {
			t.Errorf("%v: one statement a block", q)
			continue
		}
		cols, got, err := rows(db, stmt)
		if err != nil {
			t.Errorf("%v: %v", q, err)
			continue
		}
		if len(got) == 0 && !emptyAllowed[q.title] {
			t.Errorf("%v: no rows from the demo's database", q)
		}
		t.Logf("%v: %d rows", q, len(got))
		if strings.HasPrefix(q.title, "busiest threads") {
			busiest = true
			checkBusiest(t, db, q, cols, got)
		}
	}
	for title := range emptyAllowed {
		if !titles[title] {
			t.Errorf("emptyAllowed names %q, which no guide's query has as title", title)
		}
	}
	if !busiest {
		t.Error("no guide has the busiest threads query")
	}
}

// checkBusiest holds the busiest-threads query to counting other people's
// comments: its `comments` column is, for each thread, the count of the
// thread's comments not ours (the demo's are all from this week).
func checkBusiest(t *testing.T, db *sql.DB, q query, cols []string, got [][]string) {
	t.Helper()
	idx := map[string]int{}
	for i, c := range cols {
		idx[c] = i
	}
	for _, c := range []string{"platform", "thread_id", "comments"} {
		if _, ok := idx[c]; !ok {
			t.Errorf("%v: no %s column (columns %v)", q, c, cols)
			return
		}
	}
	var self int
	if err := db.QueryRow(`SELECT count(*) FROM comments WHERE disposition = 'self'`).Scan(&self); err != nil {
		t.Fatal(err)
	}
	if self == 0 {
		t.Fatal("the demo's database holds none of our own replies: the busiest-threads check proves nothing")
	}
	for _, row := range got {
		var want string
		err := db.QueryRow(`SELECT count(*) FROM comments WHERE platform = ? AND thread_id = ? AND disposition <> 'self'`,
			row[idx["platform"]], row[idx["thread_id"]]).Scan(&want)
		if err != nil {
			t.Fatal(err)
		}
		if row[idx["comments"]] != want {
			t.Errorf("%v: thread %s: comments = %s, want %s (the comments of others only)", q, row[idx["thread_id"]], row[idx["comments"]], want)
		}
	}
}
