package simulator

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestTrafficDeterministic(t *testing.T) {
	threads := []string{"7251524159191958327", "7251524159191958999"}
	start := time.Date(2026, 3, 9, 22, 0, 0, 0, time.UTC)
	run := func(seed int64) ([][]Reply, *JustOneAPI) {
		api := NewJustOneAPI("tok")
		tr := NewTraffic(api, seed)
		var ticks [][]Reply
		for i := range 200 {
			ticks = append(ticks, tr.Tick(start.Add(time.Duration(i)*time.Minute), threads))
		}
		return ticks, api
	}
	a, apiA := run(42)
	b, _ := run(42)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("same seed, different replies")
	}
	if c, _ := run(43); reflect.DeepEqual(a, c) {
		t.Error("different seeds, same replies")
	}

	total, replyTo := 0, 0
	var texts strings.Builder
	for i, tick := range a {
		if len(tick) > 3 {
			t.Errorf("tick %d added %d replies", i, len(tick))
		}
		for _, r := range tick {
			total++
			if r.CID == "" || r.Nickname == "" || r.UserUID == "" || r.Text == "" {
				t.Errorf("incomplete reply %+v", r)
			}
			if r.CreateTime != start.Add(time.Duration(i)*time.Minute).Unix() {
				t.Errorf("reply created at %d", r.CreateTime)
			}
			if r.ReplyToReplyID != "" {
				replyTo++
			}
			texts.WriteString(r.Text + "\n")
		}
	}
	if stored := len(apiA.Replies(threads[0])) + len(apiA.Replies(threads[1])); stored != total {
		t.Errorf("%d replies returned, %d stored", total, stored)
	}
	if total < 200 || replyTo == 0 {
		t.Errorf("%d replies, %d answering another", total, replyTo)
	}
	for _, want := range []string{"多少钱", "链接在哪", "好看", "[呲牙]", "[捂脸]", "[赞]", "[比心]", "vx123", "私信我", "how much?", "where to buy", "😂😂"} {
		if !strings.Contains(texts.String(), want) {
			t.Errorf("no reply contains %q in 200 ticks", want)
		}
	}
	if got := NewTraffic(apiA, 1).Tick(start, nil); got != nil {
		t.Errorf("no threads: %v", got)
	}
}
