package weibo

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/platform/platformtest"
	"github.com/autoreplyd/autoreplyd/simulator"
)

// A hostile created_at (a year past the poll's clock or before year 1, a
// five-digit year, a number where a date belongs, garbage) neither fails the
// page (created_at was a string: a number failed the whole listing) nor
// reaches the comment: it gets the poll's time and the poll reports it
// once. Unix seconds, as some variants send, are read as such.
func TestHostileCreatedAt(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 9, 22, 0, 0, 0, time.UTC)
	wb := simulator.NewWeibo(tok)
	wb.AddWeibo(weibo)
	srv := httptest.NewServer(wb)
	t.Cleanup(srv.Close)
	s, err := NewSource(SourceConfig{BaseURL: srv.URL, AccessToken: tok, Timeout: time.Second, Weibos: []Weibo{{ID: weibo}},
		Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}

	want := map[string]time.Time{}
	hostile := map[string]bool{}
	good := time.Date(2011, 5, 31, 16, 50, 25, 0, time.UTC)
	want[wb.AddComment(weibo, simulator.WeiboComment{Text: "date", CreatedAt: good})] = good
	want[wb.AddComment(weibo, simulator.WeiboComment{Text: "unix", CreatedAtJSON: "1688379962"})] = time.Unix(1688379962, 0)
	bad := append([]string{
		`"Fri Dec 31 23:59:59 +0000 9999"`, `"Mon Jan 01 00:00:00 +0800 0001"`, `"Wed Jun 01 00:50:25 +0800 12011"`,
		`"Wed Jun 01 00:50:25 +0800 2004"`, `""`, `"Wed Jun 01 00:50:25"`,
	}, simulator.HostileUnixTimes...)
	for _, raw := range bad {
		id := wb.AddComment(weibo, simulator.WeiboComment{Text: "坏 " + raw, CreatedAtJSON: raw})
		want[id], hostile[id] = now, true
	}

	res, err := s.PollThread(context.Background(), s.Threads()[0], model.ThreadState{}, nil)
	if err != nil {
		t.Fatalf("poll: %v", err)
	}
	platformtest.CheckTimes(t, res, want, hostile, len(bad))
}
