package replay

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/internal/testutil"
	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/store"
)

// benchComments is the size of the benchmark's history: a busy week.
const benchComments = 100_000

// benchHistory writes n evaluated comments, one every 6 seconds from t0 (a
// week for 100,000), over 200 threads and 2,000 users (each comments every
// 3 hours 20 minutes), as the daemon records them (a page of 1000 per
// batch): one in six asks the price and was answered, one in six is spam,
// skipped; no rule acted on the rest.
func benchHistory(b *testing.B, n int) string {
	b.Helper()
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "autoreplyd.db")
	st, err := store.Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	defer testutil.Close(b, st)
	texts := []string{"这个多少钱？", "加微信 vx123", "好看 😍", "主播好美", "在哪买呀", "谢谢分享[比心]"}
	for start := 0; start < n; start += 1000 {
		err := st.Batch(ctx, func(bs *store.Store) error {
			for i := start; i < min(start+1000, n); i++ {
				at := t0.Add(time.Duration(i) * 6 * time.Second)
				c := model.Comment{Platform: model.PlatformDouyin, ID: fmt.Sprint(7300000000000000000 + i),
					ThreadID: fmt.Sprint(7251524159191958000 + i%200), ReplyToID: "0", CreatedAt: at.Add(-time.Minute),
					Text: texts[i%len(texts)], User: model.User{UID: fmt.Sprint("u", i%2000), Nickname: fmt.Sprint("用户", i%2000)}}
				var claims []store.Claim
				switch i % len(texts) {
				case 0:
					claims = []store.Claim{sent("price", c.User.Nickname+" 你好，价格请看橱窗")}
				case 1:
					claims = []store.Claim{claim("spam", model.StatusSkipped, model.ReasonNoReplyRule, "")}
				}
				if _, err := bs.Record(ctx, c, model.DispositionEvaluated, claims, at); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	return path
}

// BenchmarkRun100k replays a week of 100,000 stored comments with edited
// rules: price matches more and gained a cooldown and a limit (replayed
// from the history: the cooldown holds back most of its answers), a new
// rule flags. It reports the time per replay, comments per second, the
// changes found and the peak heap in use, which must not grow with the
// history.
func BenchmarkRun100k(b *testing.B) {
	set, st := open(b, benchHistory(b, benchComments), `rules:
  - name: complaint
    when: 'containsAny(text, ["差评", "骗子", "主播"])'
    action: flag
  - name: spam
    when: 'containsAny(text, ["加微信", "vx"])'
  - name: price
    when: 'text matches "多少钱|价格|在哪买"'
    reply: ['{{ user.nickname }} 你好，价格请看橱窗', '亲，价格在橱窗里哦']
    cooldown: {user: 24h}
    limit: {hour: 300}
`)
	var peak uint64
	changes := 0
	b.ReportAllocs()
	for b.Loop() {
		changes = 0
		sum, err := Run(context.Background(), st, set, Options{Since: t0}, func(*Change) error {
			if changes++; changes%10_000 == 0 {
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapInuse)
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		if sum.Comments != benchComments {
			b.Fatalf("replayed %d comments, want %d", sum.Comments, benchComments)
		}
	}
	b.ReportMetric(float64(benchComments)*float64(b.N)/b.Elapsed().Seconds(), "comments/s")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(changes), "changes")
}
