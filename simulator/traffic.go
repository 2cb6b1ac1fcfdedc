package simulator

import (
	"math/rand/v2"
	"strconv"
	"sync"
	"time"
)

// Traffic makes up realistic comments and adds them to the platform
// imitations, for the demo and `autoreplyd simulate`: price questions,
// praise, sticker codes, spam, English and emoji-only comments, from people
// (some of whom come back) whose nicknames mix Chinese and emoji, each
// platform with its own flavour (TikTok mostly English, WeChat readers known
// by openid only, Weibo's [emoticons]). The same seed and the same calls
// give the same comments. Safe for concurrent use.
type Traffic struct {
	api *JustOneAPI

	mu  sync.Mutex
	rnd *rand.Rand
	// People who commented before, by platform, so that some come back (as
	// in real threads, and as cooldowns expect).
	regulars   []Reply
	tkRegulars []KitkotComment
	wxRegulars []string // openids
	wbRegulars []WeiboComment
}

// NewTraffic returns a generator adding Douyin replies to api (nil when
// only the other platforms' methods are used), deterministic for seed.
func NewTraffic(api *JustOneAPI, seed int64) *Traffic {
	return &Traffic{api: api, rnd: rand.New(rand.NewPCG(uint64(seed), 0x6a6f747261666663))} //nolint:gosec // G115: the seed's bits; a negative seed is as good as any
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
	// complaints: for a person, not the robot
	{"质量太差了，我要投诉", "怎么退款？", "差评！发货太慢了😡", "骗子，东西是假的"},
	// English
	{"how much?", "where to buy", "How much is it? 😍", "link please"},
	// emoji only
	{"😂😂", "😂😂😂", "👍", "🔥🔥", "😍"},
	// questions no template answers: a drafting rule's
	{"这个能机洗吗？", "有粉色的吗？", "保温能保多久？", "适合送人吗？", "怎么联系客服？", "小孩能用吗？"},
}

// tkTexts are TikTok reply texts: mostly English, some Chinese.
var tkTexts = [][]string{
	{"how much?", "How much is this 😍", "price pls", "what's the price?", "多少钱"},
	{"where to buy??", "link pls 🙏", "is there a link", "where can I get one"},
	{"love it 😍", "this is great 🔥", "so cute!!", "great video 👏", "I love it"},
	{"follow me for more 💰", "check my profile 👀", "DM me to earn $$$ 加微信"},
	{"any discount? 有优惠活动吗", "活动什么时候结束"},
	{"😂😂😂", "🔥🔥", "💯", "🥰"},
	{"first", "who's here in 2026", "lol same"},
}

// wxTexts are comments under a WeChat Official Account article.
var wxTexts = [][]string{
	{"请问多少钱？", "价格是多少呢", "这个怎么卖", "多少钱一套"},
	{"在哪里买？求链接", "怎么买呀", "哪里买得到"},
	{"写得真好，已转发", "好看！", "太棒了，学到了", "喜欢这篇[强]", "每期都看，支持"},
	{"有优惠活动吗？", "活动还有吗，想参加"},
	{"加微信领资料 vx888", "兼职日结，私信我"},
	{"打卡", "第一", "[玫瑰][玫瑰]"},
}

// wbTexts are comments under a weibo, with Weibo's [emoticons].
var wbTexts = [][]string{
	{"多少钱[允悲]", "价格多少啊", "求价格！", "这个怎么卖"},
	{"求链接[哈哈]", "在哪买", "哪里买的"},
	{"好看[心]", "太棒了[赞]", "喜欢喜欢[爱你]", "好看好看[哈哈][哈哈]"},
	{"有折扣活动吗", "优惠还有吗[doge]"},
	{"加v私聊 vx999", "代理招募，私信我"},
	{"转发微博", "[doge]", "哈哈哈哈哈[笑cry]", "前排"},
}

var (
	joNickFirst = []string{"小", "阿", "大", "老", "爱吃", "不吃", "快乐的", "迷路的"}
	joNickLast  = []string{"虎", "猫", "鱼", "兔子", "葡萄", "橙子", "星星", "Momo", "Lily"}
	joNickDeco  = []string{"", "", "💑", "🌸", "✨", "🐱", "_", "2024"}
	joRegions   = []string{"CN", "CN", "CN", "CN", "HK", "TW", "US"}

	tkNickFirst = []string{"lily", "tom", "mia", "jay", "sofia", "kai", "小美", "noah"}
	tkNickLast  = []string{".wang", "_88", "tom", " ✨", "🌷", ".lee", "_official", ""}
	tkRegions   = []string{"US", "US", "GB", "SG", "MY", "PH", "CA", "CN"}

	wbNickFirst = []string{"小鹿", "momo", "吃瓜", "一只", "今天也要", "橘子"}
	wbNickLast  = []string{"乱撞", "酱", "群众", "柠檬精", "早睡", "汽水"}
	wbNickDeco  = []string{"", "2024", "_", "🍋", "呀"}
)

// Tick adds 0 to 3 Douyin replies, created at now, to threads picked at
// random, and returns them as stored (with their cids). Some answer an
// earlier reply.
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
		out = append(out, t.douyinLocked(now, thread))
	}
	return out
}

// Douyin adds one reply, created at now, to a thread of the JustOneAPI
// imitation and returns it as stored.
func (t *Traffic) Douyin(now time.Time, thread string) Reply {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.douyinLocked(now, thread)
}

// douyinLocked makes up one reply and adds it; t.mu is held.
func (t *Traffic) douyinLocked(now time.Time, thread string) Reply {
	r := t.personLocked(now)
	if earlier := t.api.Replies(thread); len(earlier) > 0 && t.rnd.IntN(4) == 0 {
		to := earlier[t.rnd.IntN(len(earlier))]
		r.ReplyToReplyID, r.ReplyToUsername = to.CID, to.Nickname
	}
	r.CID = t.api.AddReply(thread, r)
	return r
}

// DouyinVideo adds, created at now, either a new top-level comment to the
// video awemeID (its thread is its own cid) or, one time in three once the
// video has comments, a reply under one of them, and returns it as stored
// with the thread it is in.
func (t *Traffic) DouyinVideo(now time.Time, awemeID string) (r Reply, thread string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if top := t.api.Comments(awemeID); len(top) > 0 && t.rnd.IntN(3) == 0 {
		// Recent comments draw the conversation, as under a real video.
		c := top[len(top)-1-t.rnd.IntN(min(len(top), 5))]
		r = t.douyinLocked(now, c.CID)
		return r, c.CID
	}
	r = t.personLocked(now)
	r.CID = t.api.AddComment(awemeID, r)
	return r, r.CID
}

// personLocked makes up a comment by a new or returning person, with no
// cid yet; t.mu is held.
func (t *Traffic) personLocked(now time.Time) Reply {
	pick := t.picker()
	uid := strconv.FormatUint(10_000_000_000+t.rnd.Uint64N(90_000_000_000), 10)
	r := Reply{
		Text:       pick(joTexts[t.rnd.IntN(len(joTexts))]),
		CreateTime: now.Unix(),
		UserUID:    uid,
		Nickname:   pick(joNickFirst) + pick(joNickLast) + pick(joNickDeco),
		UniqueID:   "dy" + strconv.FormatUint(t.rnd.Uint64N(1_000_000_000), 36),
		SecUID:     "MS4wLjABAAAA" + randomTail(t.rnd, 43),
		Region:     pick(joRegions),
		Verified:   t.rnd.IntN(20) == 0,
		Digg:       int64(t.rnd.IntN(5)),
	}
	if len(t.regulars) > 0 && t.rnd.IntN(3) == 0 {
		u := t.regulars[t.rnd.IntN(len(t.regulars))]
		r.UserUID, r.Nickname, r.UniqueID, r.SecUID, r.Region, r.Verified = u.UserUID, u.Nickname, u.UniqueID, u.SecUID, u.Region, u.Verified
	} else {
		t.regulars = append(t.regulars, r)
	}
	return r
}

// TikTok adds one reply, created at now, to the TikTok comment thread of
// the kitkot imitation (AddThread first) and returns it with its cid.
func (t *Traffic) TikTok(kk *Kitkot, now time.Time, thread string) KitkotComment {
	t.mu.Lock()
	defer t.mu.Unlock()
	pick := t.picker()
	c := KitkotComment{
		Text:       pick(tkTexts[t.rnd.IntN(len(tkTexts))]),
		CreateTime: now.Unix(),
		UserUID:    strconv.FormatUint(6_800_000_000_000_000_000+t.rnd.Uint64N(100_000_000_000_000_000), 10),
		Nickname:   pick(tkNickFirst) + pick(tkNickLast),
		UniqueID:   "user" + strconv.FormatUint(t.rnd.Uint64N(100_000_000), 10),
		Region:     pick(tkRegions),
		Digg:       int64(t.rnd.IntN(20)),
	}
	if len(t.tkRegulars) > 0 && t.rnd.IntN(3) == 0 {
		u := t.tkRegulars[t.rnd.IntN(len(t.tkRegulars))]
		c.UserUID, c.Nickname, c.UniqueID, c.Region = u.UserUID, u.Nickname, u.UniqueID, u.Region
	} else {
		t.tkRegulars = append(t.tkRegulars, c)
	}
	if earlier := kk.ThreadReplies(thread); len(earlier) > 0 && t.rnd.IntN(4) == 0 {
		c.ReplyToReplyID = earlier[t.rnd.IntN(len(earlier))].CID
	}
	c.CID = kk.AddReply(thread, c)
	return c
}

// WeChat adds one comment, created at now, to an article of the WeChat
// imitation and returns it as stored (with its user_comment_id). Readers
// are known by openid only, as in comment/list.
func (t *Traffic) WeChat(wx *WeChat, now time.Time, msgDataID string, index int) WeChatComment {
	t.mu.Lock()
	defer t.mu.Unlock()
	pick := t.picker()
	c := WeChatComment{
		Content:    pick(wxTexts[t.rnd.IntN(len(wxTexts))]),
		CreateTime: now.Unix(),
		OpenID:     "o" + randomTail(t.rnd, 27),
	}
	if len(t.wxRegulars) > 0 && t.rnd.IntN(3) == 0 {
		c.OpenID = t.wxRegulars[t.rnd.IntN(len(t.wxRegulars))]
	} else {
		t.wxRegulars = append(t.wxRegulars, c.OpenID)
	}
	c.UserCommentID = wx.AddComment(msgDataID, index, c)
	return c
}

// Weibo adds one comment, created at now, under a weibo of the Weibo
// imitation and returns it as stored (with its id). Some answer an earlier
// comment.
func (t *Traffic) Weibo(wb *Weibo, now time.Time, weiboID string) WeiboComment {
	t.mu.Lock()
	defer t.mu.Unlock()
	pick := t.picker()
	c := WeiboComment{
		Text:       pick(wbTexts[t.rnd.IntN(len(wbTexts))]),
		CreatedAt:  now,
		UID:        strconv.FormatUint(1_000_000_000+t.rnd.Uint64N(8_000_000_000), 10),
		ScreenName: pick(wbNickFirst) + pick(wbNickLast) + pick(wbNickDeco),
	}
	if len(t.wbRegulars) > 0 && t.rnd.IntN(3) == 0 {
		u := t.wbRegulars[t.rnd.IntN(len(t.wbRegulars))]
		c.UID, c.ScreenName = u.UID, u.ScreenName
	} else {
		t.wbRegulars = append(t.wbRegulars, c)
	}
	var others []WeiboComment
	for _, o := range wb.Comments(weiboID) {
		if o.UID != wb.BotUID {
			others = append(others, o)
		}
	}
	if len(others) > 0 && t.rnd.IntN(4) == 0 {
		c.ReplyTo = others[t.rnd.IntN(len(others))].ID
	}
	id, _ := strconv.ParseUint(wb.AddComment(weiboID, c), 10, 64)
	c.ID = id
	return c
}

// picker returns a function picking one of a list at random; t.mu is held
// while it is used.
func (t *Traffic) picker() func([]string) string {
	return func(s []string) string { return s[t.rnd.IntN(len(s))] }
}

// randomTail makes up n characters of the alphabet sec_uids and openids use.
func randomTail(rnd *rand.Rand, n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[rnd.IntN(len(alphabet))]
	}
	return string(b)
}
