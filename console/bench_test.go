package console

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/rules"
	"github.com/autoreplyd/autoreplyd/store"
)

// BenchmarkPages renders the inbox and the rules page on the history of a
// million claims that store's BenchmarkConsoleQueries builds and caches in
// the temporary directory (`go test -run ^$ -bench ConsoleQueries
// ./store/` once: about 3 minutes, 1 GB). Without it the benchmark is
// skipped. The database is opened read-only: the pages only read.
func BenchmarkPages(b *testing.B) {
	dbs, _ := filepath.Glob(filepath.Join(os.TempDir(), "autoreplyd-console-bench-s*.db"))
	if len(dbs) == 0 {
		b.Skip("no cached million-claim database: run `go test -run '^$' -bench ConsoleQueries ./store/` first")
	}
	st, err := store.OpenReadOnly(context.Background(), dbs[len(dbs)-1])
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() })
	// The benchmark history's rules (store's benchRuleName), and one that
	// never matched.
	var y strings.Builder
	y.WriteString("rules:\n")
	for i := range 20 {
		name := fmt.Sprintf("rule-%02d", i)
		switch i {
		case 0:
			name = "价格"
		case 3:
			name = "投诉 complaint"
		}
		fmt.Fprintf(&y, "  - name: %q\n    when: 'text contains \"%d\"'\n    reply: 'ok'\n", name, i)
	}
	y.WriteString("  - name: never\n    when: 'false'\n")
	set, err := rules.LoadBytes("rules.yaml", []byte(y.String()), rules.Options{Location: time.UTC})
	if err != nil {
		b.Fatal(err)
	}
	end := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC) // store's benchEnd
	c, err := New(Options{Users: []User{{Name: "ops", Password: "x"}}, SessionTTL: time.Hour, Listen: listenAddr, Store: st, Reader: st,
		Rules: func() *rules.Set { return set }, ApprovalMaxAge: 24 * time.Hour, Location: time.UTC,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return end }})
	if err != nil {
		b.Fatal(err)
	}
	s := c.auth.start("ops")
	h := c.Handler()
	for _, path := range []string{"/ui/inbox", "/ui/rules"} {
		b.Run(strings.TrimPrefix(path, "/ui/"), func(b *testing.B) {
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, path, nil)
				req.Host = listenAddr
				req.AddCookie(&http.Cookie{Name: sessionCookie, Value: s.id}) //nolint:gosec // G124: a request's cookie carries no attributes
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("GET %s: %d\n%s", path, rec.Code, rec.Body.String())
				}
			}
		})
	}
}
