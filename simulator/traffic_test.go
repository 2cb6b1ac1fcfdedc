package simulator

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestTrafficDeterministic(t *testing.T) {
	t.Parallel()
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
	for _, want := range []string{"多少钱", "链接在哪", "好看", "[呲牙]", "[捂脸]", "[赞]", "[比心]", "vx123", "私信我", "how much?", "where to buy", "😂😂", "投诉", "退款"} {
		if !strings.Contains(texts.String(), want) {
			t.Errorf("no reply contains %q in 200 ticks", want)
		}
	}
	if got := NewTraffic(apiA, 1).Tick(start, nil); got != nil {
		t.Errorf("no threads: %v", got)
	}
}

// The other platforms' traffic: deterministic, stored on the imitation,
// people coming back, and texts the example rules (price, links, praise,
// spam) and the platform's own flavour (TikTok's English, Weibo's
// [emoticons], WeChat's openids) show up in.
func TestTrafficOtherPlatforms(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 3, 9, 22, 0, 0, 0, time.UTC)
	type world struct {
		kk   *Kitkot
		wx   *WeChat
		wb   *Weibo
		tk   []KitkotComment
		wxcs []WeChatComment
		wbcs []WeiboComment
	}
	run := func(seed int64) world {
		w := world{kk: NewKitkot("k", "s"), wx: NewWeChat("wx1", "sec"), wb: NewWeibo("tok")}
		w.kk.AddThread("7300000000000000011", "7300000000000000001")
		w.wb.AddWeibo("4023227965")
		tr := NewTraffic(nil, seed)
		for i := range 200 {
			now := start.Add(time.Duration(i) * time.Minute)
			w.tk = append(w.tk, tr.TikTok(w.kk, now, "7300000000000000011"))
			w.wxcs = append(w.wxcs, tr.WeChat(w.wx, now, "2247483647", 1))
			w.wbcs = append(w.wbcs, tr.Weibo(w.wb, now, "4023227965"))
		}
		return w
	}
	a, b := run(42), run(42)
	strip := func(w world) world { w.kk, w.wx, w.wb = nil, nil, nil; return w }
	// Kitkot cids start at random (two imitations never share one).
	for i := range a.tk {
		a.tk[i].CID, b.tk[i].CID, a.tk[i].ReplyToReplyID, b.tk[i].ReplyToReplyID = "", "", "", ""
	}
	if !reflect.DeepEqual(strip(a), strip(b)) {
		t.Fatal("same seed, different comments")
	}
	a = run(42)

	texts := map[string]*strings.Builder{"tiktok": {}, "wechat": {}, "weibo": {}}
	people := map[string]map[string]int{"tiktok": {}, "wechat": {}, "weibo": {}}
	replyTo := map[string]int{}
	for i, c := range a.tk {
		if c.CID == "" || c.Text == "" || c.Nickname == "" || c.UserUID == "" || c.CreateTime != start.Add(time.Duration(i)*time.Minute).Unix() {
			t.Fatalf("tiktok comment %+v", c)
		}
		texts["tiktok"].WriteString(c.Text + "\n")
		people["tiktok"][c.UserUID]++
		if c.ReplyToReplyID != "" {
			replyTo["tiktok"]++
		}
	}
	for _, c := range a.wxcs {
		if c.UserCommentID == 0 || c.Content == "" || len(c.OpenID) != 28 || c.OpenID[0] != 'o' {
			t.Fatalf("wechat comment %+v", c)
		}
		texts["wechat"].WriteString(c.Content + "\n")
		people["wechat"][c.OpenID]++
	}
	for _, c := range a.wbcs {
		if c.ID < WeiboFirstID || c.Text == "" || c.ScreenName == "" || c.UID == "" || c.UID == a.wb.BotUID {
			t.Fatalf("weibo comment %+v", c)
		}
		texts["weibo"].WriteString(c.Text + "\n")
		people["weibo"][c.UID]++
		if c.ReplyTo != 0 {
			replyTo["weibo"]++
		}
	}
	if n := len(a.kk.ThreadReplies("7300000000000000011")); n != 200 {
		t.Errorf("kitkot holds %d replies, want 200", n)
	}
	if n := len(a.wb.Comments("4023227965")); n != 200 {
		t.Errorf("weibo holds %d comments, want 200", n)
	}
	if _, ok := a.wx.Comment("2247483647", 1, a.wxcs[199].UserCommentID); !ok {
		t.Error("wechat does not hold the last comment")
	}
	for platform, ps := range people {
		back := 0
		for _, n := range ps {
			if n > 1 {
				back++
			}
		}
		if back == 0 {
			t.Errorf("%s: nobody comes back", platform)
		}
	}
	if replyTo["tiktok"] == 0 || replyTo["weibo"] == 0 {
		t.Errorf("replies answering another: %v", replyTo)
	}
	for platform, wants := range map[string][]string{
		"tiktok": {"how much", "link", "love it", "great", "follow me", "有优惠活动吗", "🔥"},
		"wechat": {"多少钱", "怎么买", "好看", "加微信", "优惠活动", "打卡"},
		"weibo":  {"多少钱", "求链接", "好看", "[赞]", "私信我", "折扣", "[doge]"},
	} {
		for _, want := range wants {
			if !strings.Contains(texts[platform].String(), want) {
				t.Errorf("%s: no comment contains %q in 200", platform, want)
			}
		}
	}
}
