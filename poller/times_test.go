package poller_test

import (
	"database/sql"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/internal/syncbuf"
	"github.com/autoreplyd/autoreplyd/internal/testutil"
	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/poller"
	"github.com/autoreplyd/autoreplyd/simulator"
)

// Comments whose create time is hostile are answered and recorded with the
// time they were seen, and the poll says so in one warning, not one per
// comment.
func TestHostileCreateTimesRecordedSaneWithOneWarning(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{})
	var logs syncbuf.Buffer
	p := h.newPoller(func(o *poller.Options) {
		o.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	h.initThreads(p)
	var cids []string
	for i, raw := range []string{`253402300800`, `"1e300"`, `"abc"`, `-1`} {
		cids = append(cids, h.jo.AddReply(threadA, simulator.Reply{AwemeID: aweme, Text: "多少钱", UserUID: "2000000000000000" + string(rune('1'+i)),
			Nickname: "客" + string(rune('A'+i)), CreateTime: h.nextTime(), CreateTimeJSON: raw, ReplyToReplyID: "0"}))
	}
	st := h.cycle(p)
	if st.Sent != len(cids) || st.Errors != 0 {
		t.Fatalf("stats %+v", st)
	}
	for _, cid := range cids {
		r := h.row(cid)
		wantStatus(t, r, model.StatusSent, "")
		if !r.CommentCreatedAt.Equal(h.clk.Now()) {
			t.Errorf("comment %s recorded as created %v, want the poll's time %v", cid, r.CommentCreatedAt, h.clk.Now())
		}
	}
	var warns []string
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, "comment create times unusable") {
			warns = append(warns, line)
		}
	}
	if len(warns) != 1 {
		t.Fatalf("%d warnings, want 1:\n%s", len(warns), strings.Join(warns, "\n"))
	}
	for _, want := range []string{"level=WARN", "platform=douyin", "thread=" + threadA, "comments=4", "first_comment=", "first_value="} {
		if !strings.Contains(warns[0], want) {
			t.Errorf("warning lacks %q: %s", want, warns[0])
		}
	}
	// The next poll finds them known: no warning.
	h.cycle(p)
	if n := strings.Count(logs.String(), "comment create times unusable"); n != 1 {
		t.Errorf("%d warnings after a second poll, want still 1", n)
	}
}

// Rows an older version wrote with times the store cannot read (a year past
// 9999, garbage) neither stop the due retries nor are skipped: every due
// claim is sent, the poisoned ones too.
func TestDueRetriesGoOutWithPoisonedRows(t *testing.T) {
	t.Parallel()
	h := newHarness(t, setup{})
	p := h.newPoller(nil)
	h.initThreads(p)
	var cids []string
	for i := range 3 {
		cids = append(cids, h.add(threadA, "2000000000000000"+string(rune('1'+i)), "客"+string(rune('A'+i)), "多少钱"))
		h.kk.Faults.Push(simulator.Fault{Kind: simulator.FaultHTTPStatus, Status: http.StatusServiceUnavailable})
	}
	if st := h.cycle(p); st.Retrying != 3 {
		t.Fatalf("stats %+v", st)
	}
	db, err := sql.Open("sqlite", "file:"+h.dbf+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer testutil.Close(t, db)
	for _, q := range []struct {
		sql string
		arg string
	}{
		{`UPDATE comments SET comment_created_at = '10000-01-01T00:00:00.000Z' WHERE comment_id = ?`, cids[0]},
		{`UPDATE comments SET comment_created_at = 'abc' WHERE comment_id = ?`, cids[1]},
		{`UPDATE replies SET created_at = '+275760-09-13T00:00:00.000Z' WHERE comment_id = ?`, cids[2]},
	} {
		if _, err := db.ExecContext(h.ctx, q.sql, q.arg); err != nil {
			t.Fatal(err)
		}
	}
	h.clk.Advance(time.Hour) // every retry due
	st := h.cycle(p)
	if st.Sent != 3 || st.Errors != 0 {
		t.Fatalf("stats %+v: the due retries did not all go out", st)
	}
	h.wantPosts(3)
	for _, cid := range cids {
		wantStatus(t, h.row(cid), model.StatusSent, "")
	}
}
