package simulator

import (
	"math/rand/v2"
	"strconv"
	"sync"
	"time"
)

// Traffic adds made-up but realistic replies to a JustOneAPI imitation, for
// the demo: price questions, praise, sticker codes, spam, English and
// emoji-only replies, from nicknames mixing Chinese and emoji. The same seed
// and the same calls give the same replies. Safe for concurrent use.
type Traffic struct {
	api *JustOneAPI

	mu       sync.Mutex
	rnd      *rand.Rand
	regulars []Reply // people who commented before (their user fields)
}

// NewTraffic returns a generator adding replies to api, deterministic for seed.
func NewTraffic(api *JustOneAPI, seed int64) *Traffic {
	return &Traffic{api: api, rnd: rand.New(rand.NewPCG(uint64(seed), 0x6a6f747261666663))}
}

// joTexts are reply texts, grouped by what a rule would make of them.
var joTexts = [][]string{
	// price and purchase questions
	{"多少钱？", "这个多少钱啊", "价格多少[捂脸]", "怎么买？", "链接在哪", "链接在哪里呀[呲牙]", "求链接！！", "有优惠吗，多少钱一件", "价格私我一下"},
	// praise
	{"好看", "太棒了[赞]", "好看好看[比心][比心]", "太棒了吧👍", "主播好用心[赞][赞]", "爱了爱了❤️"},
	// stickers only
	{"[呲牙]", "[捂脸][捂脸]", "[赞]", "[比心]", "[呲牙][赞]"},
	// spam
	{"加微信 vx123 领福利", "私信我，带你赚钱", "加v：vx123 看更多", "私信我 免费领取"},
	// English
	{"how much?", "where to buy", "How much is it? 😍", "link please"},
	// emoji only
	{"😂😂", "😂😂😂", "👍", "🔥🔥", "😍"},
}

var (
	joNickFirst = []string{"小", "阿", "大", "老", "爱吃", "不吃", "快乐的", "迷路的"}
	joNickLast  = []string{"虎", "猫", "鱼", "兔子", "葡萄", "橙子", "星星", "Momo", "Lily"}
	joNickDeco  = []string{"", "", "💑", "🌸", "✨", "🐱", "_", "2024"}
	joRegions   = []string{"CN", "CN", "CN", "CN", "HK", "TW", "US"}
)

// Tick adds 0 to 3 replies, created at now, to threads picked at random, and
// returns them as stored (with their cids). Some answer an earlier reply.
func (t *Traffic) Tick(now time.Time, threads []string) []Reply {
	if len(threads) == 0 {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	n := t.rnd.IntN(4)
	out := make([]Reply, 0, n)
	for range n {
		thread := threads[t.rnd.IntN(len(threads))]
		r := t.reply(now, thread)
		r.CID = t.api.AddReply(thread, r)
		out = append(out, r)
	}
	return out
}

// reply makes up one reply; t.mu is held.
func (t *Traffic) reply(now time.Time, thread string) Reply {
	pick := func(s []string) string { return s[t.rnd.IntN(len(s))] }
	uid := strconv.FormatUint(10_000_000_000+t.rnd.Uint64N(90_000_000_000), 10)
	r := Reply{
		Text:       pick(joTexts[t.rnd.IntN(len(joTexts))]),
		CreateTime: now.Unix(),
		UserUID:    uid,
		Nickname:   pick(joNickFirst) + pick(joNickLast) + pick(joNickDeco),
		UniqueID:   "dy" + strconv.FormatUint(t.rnd.Uint64N(1_000_000_000), 36),
		SecUID:     "MS4wLjABAAAA" + joSecUIDTail(t.rnd),
		Region:     pick(joRegions),
		Verified:   t.rnd.IntN(20) == 0,
		Digg:       int64(t.rnd.IntN(5)),
	}
	// About a third of replies come from someone who commented before, as
	// in real threads (and as cooldowns expect).
	if len(t.regulars) > 0 && t.rnd.IntN(3) == 0 {
		u := t.regulars[t.rnd.IntN(len(t.regulars))]
		r.UserUID, r.Nickname, r.UniqueID, r.SecUID, r.Region, r.Verified = u.UserUID, u.Nickname, u.UniqueID, u.SecUID, u.Region, u.Verified
	} else {
		t.regulars = append(t.regulars, r)
	}
	if earlier := t.api.Replies(thread); len(earlier) > 0 && t.rnd.IntN(4) == 0 {
		to := earlier[t.rnd.IntN(len(earlier))]
		r.ReplyToReplyID, r.ReplyToUsername = to.CID, to.Nickname
	}
	return r
}

// joSecUIDTail makes up the random part of a sec_uid.
func joSecUIDTail(rnd *rand.Rand) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	b := make([]byte, 43)
	for i := range b {
		b[i] = alphabet[rnd.IntN(len(alphabet))]
	}
	return string(b)
}
