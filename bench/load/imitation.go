package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"math"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/autoreplyd/autoreplyd/simulator"
)

// The harness's rules sort new replies in three kinds, and so does its
// traffic: questions (answered by the price or buy_link rule), spam (skipped
// by the spam rule) and chatter (no rule matches).
type kind int

const (
	chatter kind = iota
	question
	spam
)

func (k kind) String() string {
	switch k {
	case question:
		return "question"
	case spam:
		return "spam"
	}
	return "chatter"
}

// rulesYAML is the harness's rules file: a spam rule without reply, a price
// rule with two variants and a per-user cooldown, a buy-link rule.
const rulesYAML = `# written by bench/load
rules:
  - name: spam
    description: 广告引流，不回复
    when: 'containsAny(text, ["加微信", "加v", "vx", "私信我", "代理", "兼职"])'

  - name: price
    when: 'text matches "多少钱|价格|怎么卖|(?i)how much|price"'
    reply:
      - '{{ user.nickname }} 你好，价格请看视频下方的橱窗哦～'
      - '亲，价格都在橱窗里，欢迎去看看[比心]'
    cooldown: {user: 24h}

  - name: buy_link
    when: 'containsAny(text, ["怎么买", "链接", "在哪买", "哪里买", "where to buy", "link"])'
    reply: '{{ user.nickname }}，点视频左下角的小黄车就能下单啦[呲牙]'
`

// Texts of each kind; every question matches price or buy_link, every spam
// text matches spam, and no chatter matches any rule (the smoke test checks
// what the daemon made of them).
var (
	questionTexts = []string{"多少钱？", "这个多少钱啊", "价格多少[捂脸]", "怎么买？", "链接在哪", "链接在哪里呀[呲牙]",
		"求链接！！", "有优惠吗，多少钱一件", "how much?", "where to buy", "How much is it? 😍", "link please"}
	spamTexts    = []string{"加微信 vx123 领福利", "私信我，带你赚钱", "加v：vx123 看更多", "私信我 免费领取", "兼职日结，私信我"}
	chatterTexts = []string{"好看", "太棒了[赞]", "好看好看[比心][比心]", "太棒了吧👍", "主播好用心[赞][赞]", "爱了爱了❤️", "[呲牙]",
		"[捂脸][捂脸]", "😂😂", "👍", "🔥🔥", "第一次刷到，关注了", "背景音乐是什么", "哈哈哈哈哈", "mark一下"}

	nickFirst = []string{"小", "阿", "大", "老", "爱吃", "不吃", "快乐的", "迷路的", "早睡的", "会飞的"}
	nickLast  = []string{"虎", "猫", "鱼", "兔子", "葡萄", "橙子", "星星", "Momo", "Lily", "豆包"}
	nickDeco  = []string{"", "", "💑", "🌸", "✨", "🐱", "_", "2024"}
	regions   = []string{"CN", "CN", "CN", "CN", "HK", "TW", "US"}
)

// Ids: 19 digits (above 2^53, as on Douyin), in ranges of their own.
const (
	threadIDBase   int64  = 7_300_000_000_000_000_000 // int64: an index added never wraps
	threadIDStep   int64  = 1009
	awemeIDBase    int64  = 7_250_000_000_000_000_000
	threadsPerPost        = 20
	userPool              = 3000
	newUserBase    uint64 = 20_000_000_000
)

func threadID(i int) string { return strconv.FormatInt(threadIDBase+int64(i)*threadIDStep, 10) }

// threadIndex is threadID's inverse: the index of the thread id, and whether
// id is one threadID makes.
func threadIndex(id string) (int, bool) {
	v, err := strconv.ParseInt(id, 10, 64)
	if err != nil || v < threadIDBase || (v-threadIDBase)%threadIDStep != 0 || (v-threadIDBase)/threadIDStep > math.MaxInt32 {
		return 0, false
	}
	return int((v - threadIDBase) / threadIDStep), true
}

func awemeID(i int) string {
	return strconv.FormatInt(awemeIDBase+int64(i/threadsPerPost)*131, 10)
}

// user is a commenter's fields, shared by all of their replies.
type user struct {
	uid, nickname, uniqueID, secUID, region string
	verified                                bool
}

// generator makes up replies, deterministically for a seed. Backlog replies
// come from a pool of a few thousand users (their strings shared, so 200,000
// stored replies cost little); new replies each come from a new user, so
// that the price rule's per-user cooldown never holds one back and every
// question is answered.
type generator struct {
	mu      sync.Mutex
	rnd     *mrand.Rand
	users   []user
	nextUID uint64
}

func newGenerator(seed uint64) *generator {
	g := &generator{rnd: mrand.New(mrand.NewPCG(seed, 0x6c6f6164)), nextUID: newUserBase}
	g.users = make([]user, userPool)
	for i := range g.users {
		g.users[i] = g.makeUser(strconv.FormatUint(10_000_000_000+g.rnd.Uint64N(9_000_000_000), 10))
	}
	return g
}

func (g *generator) pick(s []string) string { return s[g.rnd.IntN(len(s))] }

func (g *generator) makeUser(uid string) user {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	sec := make([]byte, 12+43)
	copy(sec, "MS4wLjABAAAA")
	for i := 12; i < len(sec); i++ {
		sec[i] = alphabet[g.rnd.IntN(len(alphabet))]
	}
	return user{
		uid:      uid,
		nickname: g.pick(nickFirst) + g.pick(nickLast) + g.pick(nickDeco),
		uniqueID: "dy" + strconv.FormatUint(g.rnd.Uint64N(1_000_000_000), 36),
		secUID:   string(sec),
		region:   g.pick(regions),
		verified: g.rnd.IntN(20) == 0,
	}
}

func (g *generator) text(k kind) string {
	switch k {
	case question:
		return g.pick(questionTexts)
	case spam:
		return g.pick(spamTexts)
	}
	return g.pick(chatterTexts)
}

func reply(u user, aweme, text string, created int64, digg int64) simulator.Reply {
	return simulator.Reply{AwemeID: aweme, Text: text, CreateTime: created, UserUID: u.uid, Nickname: u.nickname,
		UniqueID: u.uniqueID, SecUID: u.secUID, Region: u.region, Verified: u.verified, ReplyToReplyID: "0", Digg: digg}
}

// backlog makes the n replies a thread already has, created over the month
// before now, oldest first.
func (g *generator) backlog(thread int, n int, now time.Time) []simulator.Reply {
	g.mu.Lock()
	defer g.mu.Unlock()
	rs := make([]simulator.Reply, n)
	start := now.Add(-30 * 24 * time.Hour).Unix()
	t := start + g.rnd.Int64N(7*24*3600)
	for i := range rs {
		t += 1 + g.rnd.Int64N(3*3600)
		k := chatter
		if g.rnd.IntN(4) == 0 {
			k = question
		}
		rs[i] = reply(g.users[g.rnd.IntN(len(g.users))], awemeID(thread), g.text(k), t, int64(g.rnd.IntN(5)))
	}
	return rs
}

// kinds returns the kinds of n new replies: round(n*match) questions (at
// least one when match > 0), round(n*spam) spam, the rest chatter, in a
// random order.
func (g *generator) kinds(n int, match, spamShare float64) []kind {
	g.mu.Lock()
	defer g.mu.Unlock()
	ks := make([]kind, n)
	nq := int(float64(n)*match + 0.5)
	if match > 0 && nq == 0 && n > 0 {
		nq = 1
	}
	ns := min(int(float64(n)*spamShare+0.5), n-nq)
	for i := range ks {
		switch {
		case i < nq:
			ks[i] = question
		case i < nq+ns:
			ks[i] = spam
		}
	}
	g.rnd.Shuffle(len(ks), func(i, j int) { ks[i], ks[j] = ks[j], ks[i] })
	return ks
}

// fresh makes a new reply of kind k in thread, by a new user, created now.
func (g *generator) fresh(thread int, k kind, now time.Time) simulator.Reply {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.nextUID++
	u := g.makeUser(strconv.FormatUint(g.nextUID, 10))
	return reply(u, awemeID(thread), g.text(k), now.Unix(), 0)
}

// choose picks n distinct thread indexes out of total.
func (g *generator) choose(n, total int) []int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.rnd.Perm(total)[:n]
}

// chooseSticky picks n distinct thread indexes out of total, given prev,
// the previous pick: round(sticky×n) of them (at most all of prev) among
// prev, the rest among the other threads (and among the rest of prev when
// the others are too few). With sticky 1 and n the size of prev, it picks
// prev again; with sticky 0 or no prev, it is choose.
func (g *generator) chooseSticky(n, total int, prev []int, sticky float64) []int {
	if sticky <= 0 || len(prev) == 0 {
		return g.choose(n, total)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	keep := min(int(sticky*float64(n)+0.5), len(prev), n)
	out := make([]int, 0, n)
	inPrev := make(map[int]bool, len(prev))
	for _, t := range prev {
		inPrev[t] = true
	}
	order := g.rnd.Perm(len(prev))
	for _, i := range order[:keep] {
		out = append(out, prev[i])
	}
	if len(out) < n {
		for _, t := range g.rnd.Perm(total) {
			if len(out) == n {
				break
			}
			if !inPrev[t] {
				out = append(out, t)
			}
		}
	}
	for _, i := range order[keep:] {
		if len(out) == n {
			break
		}
		out = append(out, prev[i])
	}
	return out
}

// where says where a new comment the harness added is: a reply in a
// configured thread, a top-level comment of a watched video, or a reply in
// a thread under a watched video's comment (a discovered thread).
type where int

const (
	inThread where = iota
	topLevel
	inVideoThread
)

func (w where) String() string {
	switch w {
	case topLevel:
		return "top-level comment"
	case inVideoThread:
		return "reply in a discovered thread"
	}
	return "reply"
}

// newReply is one comment the harness added after the first cycle.
type newReply struct {
	CID    string
	Thread int // the configured thread's index (inThread)
	Kind   kind
	Where  where
	// ThreadID is the thread the answer goes to (kitkot's reply_id): the
	// top-level comment itself, or the one the reply is under.
	ThreadID string
	Video    int // the video's index (topLevel, inVideoThread)
}

// imitation is the loopback JustOneAPI and kitkot, and what the harness
// learns from them: calls per thread, answers per thread, reaction latency.
type imitation struct {
	jo   *simulator.JustOneAPI
	kk   *simulator.Kitkot
	srv  *http.Server
	base string // http://127.0.0.1:PORT

	token, apiKey, sessionKey string

	echo bool

	mu sync.Mutex
	// pending are the questions of each thread not answered yet, oldest
	// first: an answer names its thread (kitkot's reply_id is the root
	// comment), and the questions of one thread added in one step appeared
	// at the same time, so the oldest pending one is the one answered. A
	// top-level question is its own thread's only question: the harness
	// adds replies only under comments that were there before the run.
	pending map[string][]pend
	// echoes counts the answers posted since takeEchoes: each shows up in
	// its thread as a new reply (the daemon's own).
	echoes     int
	latencies  []latency
	posts      int
	unexpected int // answers to a thread with no question pending

	// cmu guards calls and unseen, and orders additions to a thread with
	// the calls that list it.
	cmu sync.Mutex
	// calls are the listing requests not yet attributed to a cycle, oldest
	// first.
	calls []callRec
	// unseen counts each thread's new replies (the harness's and the
	// daemon's own answers) added since the thread was last listed.
	unseen map[string]int
	// videoOf maps each top-level comment of a watched video (a thread
	// the daemon may discover) to the video's aweme id; unseenVideo counts
	// what changed in each video since its listing's page 1 was last
	// asked for.
	videoOf     map[string]string
	unseenVideo map[string]videoUnseen
}

// pend is a question not answered yet: when it appeared, and where.
type pend struct {
	at    time.Time
	where where
}

// videoUnseen is what changed in a video since it was last listed: new
// top-level comments, and new replies under its comments (the harness's and
// the daemon's own answers).
type videoUnseen struct {
	top, replies int
}

// callRec is one listing request: when, for which thread, and how many new
// replies of the thread it was the first to list (a poll's first page lists
// all of them, in newest-first order; the harness counts them there in every
// order). A request of the video listing names the video instead, and page
// 1 of it takes what changed in the video (a poll starts on page 1).
type callRec struct {
	at     time.Time
	thread string
	fresh  int
	video  string
	page1  bool
	vfresh videoUnseen
}

func secret() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// startImitation serves both imitations on a new loopback port.
func startImitation(order string, pageSize int, videoOrder string, videoPageSize int, echo bool) (*imitation, error) {
	im := &imitation{token: secret(), apiKey: secret(), sessionKey: secret(), echo: echo,
		pending: map[string][]pend{}, unseen: map[string]int{}, videoOf: map[string]string{}, unseenVideo: map[string]videoUnseen{}}
	im.jo = simulator.NewJustOneAPI(im.token)
	im.jo.SetPageSize(pageSize)
	switch order {
	case "newest":
		im.jo.SetOrder(simulator.OrderNewest)
	case "oldest":
		im.jo.SetOrder(simulator.OrderOldest)
	case "recommended":
		im.jo.SetOrder(simulator.OrderRecommended)
	default:
		return nil, fmt.Errorf("-order %q: want newest, oldest or recommended", order)
	}
	vo, ok := videoOrders[videoOrder]
	if !ok {
		return nil, fmt.Errorf("-video-order %q: want newest, oldest or hot", videoOrder)
	}
	im.jo.SetVideoOrder(vo)
	im.jo.SetVideoPageSize(videoPageSize)
	im.kk = simulator.NewKitkot(im.apiKey, im.sessionKey)
	im.kk.OnPost = im.onPost
	mux := http.NewServeMux()
	mux.Handle("/api/douyin/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		rec := callRec{at: time.Now(), thread: q.Get("commentId")}
		im.cmu.Lock()
		if r.URL.Path == simulator.JustOneAPIVideoPath {
			rec.thread, rec.video = "", q.Get("awemeId")
			if p := q.Get("page"); p == "" || p == "1" {
				rec.page1 = true
				rec.vfresh = im.unseenVideo[rec.video]
				delete(im.unseenVideo, rec.video)
			}
		} else {
			rec.fresh = im.unseen[rec.thread]
			delete(im.unseen, rec.thread)
		}
		im.calls = append(im.calls, rec)
		im.cmu.Unlock()
		im.jo.ServeHTTP(w, r)
	}))
	mux.Handle("/api/video/", im.kk)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	im.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := im.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			panic(err)
		}
	}()
	im.base = "http://" + ln.Addr().String()
	return im, nil
}

func (im *imitation) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = im.srv.Shutdown(ctx)
}

// onPost sees every answer kitkot accepted.
func (im *imitation) onPost(p simulator.Post) {
	now := time.Now()
	im.mu.Lock()
	im.posts++
	if q := im.pending[p.ReplyID]; len(q) > 0 {
		im.latencies = append(im.latencies, latency{asked: q[0].at, took: now.Sub(q[0].at), where: q[0].where})
		if len(q) == 1 {
			delete(im.pending, p.ReplyID)
		} else {
			im.pending[p.ReplyID] = q[1:]
		}
	} else {
		im.unexpected++
	}
	if im.echo {
		im.echoes++
	}
	im.mu.Unlock()
	if im.echo {
		im.cmu.Lock()
		im.jo.AddReply(p.ReplyID, simulator.Reply{CID: p.CID, AwemeID: p.AwemeID, Text: p.Text, CreateTime: p.At.Unix(),
			UserUID: im.kk.BotUID, Nickname: im.kk.BotNickname, UniqueID: "autoreply_bot", ReplyToReplyID: "0"})
		im.unseen[p.ReplyID]++
		if v := im.videoOf[p.ReplyID]; v != "" {
			u := im.unseenVideo[v]
			u.replies++
			im.unseenVideo[v] = u
		}
		im.cmu.Unlock()
	}
}

// addNew adds new replies to the threads at indexes, n each, registering
// the questions as pending when expect is set, and returns them.
func (im *imitation) addNew(g *generator, threads []int, n int, match, spamShare float64, expect bool) []newReply {
	ks := g.kinds(len(threads)*n, match, spamShare)
	out := make([]newReply, 0, len(ks))
	now := time.Now()
	for i, t := range threads {
		rs := make([]simulator.Reply, n)
		for j := range rs {
			rs[j] = g.fresh(t, ks[i*n+j], now)
		}
		id := threadID(t)
		at := time.Now()
		if expect {
			im.mu.Lock()
			for j := range rs {
				if ks[i*n+j] == question {
					im.pending[id] = append(im.pending[id], pend{at: at, where: inThread})
				}
			}
			im.mu.Unlock()
		}
		im.cmu.Lock()
		cids := im.jo.AddThread(id, rs)
		im.unseen[id] += len(rs)
		im.cmu.Unlock()
		for j, cid := range cids {
			out = append(out, newReply{CID: cid, Thread: t, Kind: ks[i*n+j], Where: inThread, ThreadID: id})
		}
	}
	return out
}

// takeEchoes returns how many answers were posted since the last call.
func (im *imitation) takeEchoes() int {
	im.mu.Lock()
	defer im.mu.Unlock()
	e := im.echoes
	im.echoes = 0
	return e
}

// threadCalls is one thread's calls in a cycle, and the new replies they
// were the first to list.
type threadCalls struct {
	calls, fresh int
}

// videoCalls is one video's listing calls in a cycle, and what changed in it
// since the listing before.
type videoCalls struct {
	calls int
	fresh videoUnseen
}

// cycleCalls are the calls of one cycle, by what they listed.
type cycleCalls struct {
	// threads are the configured threads', discovered the threads' under
	// watched videos, videos the video listing's.
	threads, discovered map[string]threadCalls
	videos              map[string]videoCalls
	total               int
	// unseen are the configured threads, and unseenDiscovered the threads
	// under videos, holding new replies no call has listed yet;
	// unseenVideos the videos changed since their last listing.
	unseen, unseenDiscovered map[string]int
	unseenVideos             map[string]videoUnseen
}

// takeCalls takes the calls received up to until; the later ones stay for
// the next cycle. (The imitation's own record of calls, which the harness
// does not use, is emptied to keep memory flat.)
func (im *imitation) takeCalls(until time.Time) cycleCalls {
	im.jo.ResetCalls()
	im.cmu.Lock()
	n := len(im.calls)
	for n > 0 && im.calls[n-1].at.After(until) {
		n--
	}
	taken := im.calls[:n:n]
	im.calls = slices.Clone(im.calls[n:])
	cc := cycleCalls{threads: map[string]threadCalls{}, discovered: map[string]threadCalls{}, videos: map[string]videoCalls{},
		total: len(taken), unseen: map[string]int{}, unseenDiscovered: map[string]int{}, unseenVideos: maps.Clone(im.unseenVideo)}
	for id, k := range im.unseen {
		if im.videoOf[id] != "" {
			cc.unseenDiscovered[id] = k
		} else {
			cc.unseen[id] = k
		}
	}
	for _, c := range taken {
		switch {
		case c.video != "":
			vc := cc.videos[c.video]
			vc.calls++
			vc.fresh.top += c.vfresh.top
			vc.fresh.replies += c.vfresh.replies
			cc.videos[c.video] = vc
		case im.videoOf[c.thread] != "":
			tc := cc.discovered[c.thread]
			tc.calls++
			tc.fresh += c.fresh
			cc.discovered[c.thread] = tc
		default:
			tc := cc.threads[c.thread]
			tc.calls++
			tc.fresh += c.fresh
			cc.threads[c.thread] = tc
		}
	}
	im.cmu.Unlock()
	return cc
}

// callsAfter is how many calls were received after t.
func (im *imitation) callsAfter(t time.Time) int {
	im.cmu.Lock()
	defer im.cmu.Unlock()
	n := 0
	for i := len(im.calls) - 1; i >= 0 && im.calls[i].at.After(t); i-- {
		n++
	}
	return n
}

// latency is one answer's reaction time, when and where its question
// appeared.
type latency struct {
	asked time.Time
	took  time.Duration
	where where
}

// answers are the kitkot side's counts.
type answers struct {
	Posts      int
	Unexpected int
	Pending    int
	// PendingAt counts the unanswered questions by where they are.
	PendingAt map[where]int
	Latencies []latency
}

// since is the reaction times of the questions in w asked at or after t.
func (a answers) since(t time.Time, w where) []time.Duration {
	var out []time.Duration
	for _, l := range a.Latencies {
		if !l.asked.Before(t) && l.where == w {
			out = append(out, l.took)
		}
	}
	return out
}

func (im *imitation) answers() answers {
	im.mu.Lock()
	defer im.mu.Unlock()
	n := 0
	at := map[where]int{}
	for _, q := range im.pending {
		n += len(q)
		for _, p := range q {
			at[p.where]++
		}
	}
	return answers{Posts: im.posts, Unexpected: im.unexpected, Pending: n, PendingAt: at, Latencies: slices.Clone(im.latencies)}
}
