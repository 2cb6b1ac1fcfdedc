package notify

import (
	"strings"
	"testing"
	"time"
)

// The text of one message: rendering is far below the cost of the HTTP
// exchange that carries it (see BenchmarkSend in the external tests).
func BenchmarkRender(b *testing.B) {
	r := &renderer{channel: "ops", loc: time.UTC, budget: wecomTextBytes}
	e := Event{ID: 42, Kind: KindHeld, Platform: "douyin", ThreadID: "7301234567890123456", CommentText: strings.Repeat("这个多少钱？😍", 30),
		User: "史密斯夫妇💑", UserUID: "MS4wLjABAAAA", Rule: "price", ReplyText: "你好，价格请看橱窗～", CreatedAt: time.Now()}
	digest := make([]Event, 50)
	for i := range digest {
		digest[i] = e
		digest[i].ID = int64(i)
	}
	b.Run("single", func(b *testing.B) {
		for b.Loop() {
			r.text([]Event{e})
		}
	})
	b.Run("digest50", func(b *testing.B) {
		for b.Loop() {
			r.text(digest)
		}
	})
}
