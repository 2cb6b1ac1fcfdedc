package simulator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/autoreplyd/autoreplyd/model"
)

// Path prefixes under which a Sim serves each imitation on one listener. A
// source's or responder's base_url is the Sim's URL plus its prefix (see
// SimBaseURLs).
const (
	SimJustOneAPIPrefix = "/justoneapi"
	SimKitkotPrefix     = "/kitkot"
	SimWeChatPrefix     = "/wechat"
	SimWeiboPrefix      = "/weibo"
	SimLLMPrefix        = "/llm"
	// SimCommentsPath takes comments added by hand: POST platform, thread,
	// text and optionally nickname (form fields).
	SimCommentsPath = "/sim/comments"
)

// Bounds of a comment added by hand.
const (
	simMaxBody = 64 << 10 // a form holding one comment
	simMaxText = 2000     // runes: longer than any platform allows
)

// SimCredentials are the secrets a Sim's imitations accept. Those of a
// platform not watched may be empty.
type SimCredentials struct {
	JustOneAPIToken                string
	KitkotAPIKey, KitkotSessionKey string
	WeChatAppID, WeChatAppSecret   string
	WeiboAccessToken               string
	LLMAPIKey                      string // the language model imitation's key ("" accepts any)
	// The Weibo v1 API's account (responders.weibo with api: v1).
	WeiboAppKey, WeiboUsername, WeiboPassword string
}

// SimBaseURLs are the base URLs of a Sim served at one URL, as a config's
// base_url keys want them.
type SimBaseURLs struct {
	Douyin string // sources.douyin
	Kitkot string // sources.tiktok and responders.kitkot
	WeChat string // sources.wechat and responders.wechat
	Weibo  string // sources.weibo and responders.weibo
	LLM    string // llm.NAME (an OpenAI-compatible API's /v1 root)
}

// BaseURLs returns the base URLs of a Sim served at base (http://host:port).
func BaseURLs(base string) SimBaseURLs {
	base = strings.TrimRight(base, "/")
	return SimBaseURLs{
		Douyin: base + SimJustOneAPIPrefix,
		Kitkot: base + SimKitkotPrefix + "/api",
		WeChat: base + SimWeChatPrefix,
		Weibo:  base + SimWeiboPrefix,
		LLM:    base + SimLLMPrefix + "/v1",
	}
}

// SimThread is one watched thread: a Douyin or TikTok comment whose replies
// are polled, a WeChat article or a weibo; or a whole Douyin video.
type SimThread struct {
	Platform string // model.Platform*
	ID       string // comment_id (douyin, tiktok), msg_data_id (wechat), id (weibo), aweme_id (a video)
	PostID   string // aweme_id (douyin, tiktok)
	Index    int    // the article's index (wechat)
	// Video: a whole Douyin video (ID is its aweme_id), whose made-up
	// comments are new top-level comments and replies under them.
	Video bool
}

// Name is the thread as the history shows it: its id, and for WeChat
// msg_data_id:index. A video is video:aweme_id, as the daemon keeps its
// state; its comments' threads are their top-level comments' cids.
func (th SimThread) Name() string {
	switch {
	case th.Video:
		return "video:" + th.ID
	case th.Platform == model.PlatformWeChat:
		return th.ID + ":" + strconv.Itoa(th.Index)
	}
	return th.ID
}

// Kinds of SimEvent.
const (
	SimEventComment = "comment" // a comment was added (made up or by hand)
	SimEventAnswer  = "answer"  // an imitation accepted an answer
)

// SimEvent is something that happened on a Sim's imitations.
type SimEvent struct {
	Kind     string // SimEventComment or SimEventAnswer
	Platform string // model.Platform*; for answers through kitkot, the thread's
	Thread   string // SimThread.Name
	ID       string // the comment's id on its platform ("" for a WeChat answer)
	User     string // nickname, screen name or openid ("" for answers)
	Text     string
	At       time.Time
}

// Sim serves the loopback imitations of all four platforms on one handler,
// each under its own prefix, with the threads it watches: comments are
// added by Tick (made up by Traffic) or by hand (SimCommentsPath, AddComment),
// and answers posted through kitkot show up in their thread, as on Douyin
// and TikTok (WeChat and Weibo imitations do that themselves). Safe for
// concurrent use; set OnEvent before serving.
type Sim struct {
	JustOneAPI *JustOneAPI
	Kitkot     *Kitkot
	WeChat     *WeChat
	Weibo      *Weibo
	LLM        *LLM
	// OnEvent, when set, is told every comment added and every answer
	// accepted, as they happen.
	OnEvent func(SimEvent)

	traffic *Traffic
	mux     *http.ServeMux

	mu      sync.Mutex
	threads []SimThread
	byKey   map[string]SimThread // platform + NUL + thread id
	hand    int                  // comments added by hand so far
}

// NewSim returns a Sim accepting the credentials c, its made-up traffic
// deterministic for seed. Comment ids start from a value that grows with
// the time, as on the platforms: a database kept from an earlier Sim never
// finds a new comment's id already known.
func NewSim(c SimCredentials, seed int64) *Sim {
	s := &Sim{
		JustOneAPI: NewJustOneAPI(c.JustOneAPIToken),
		Kitkot:     NewKitkot(c.KitkotAPIKey, c.KitkotSessionKey),
		WeChat:     NewWeChat(c.WeChatAppID, c.WeChatAppSecret),
		Weibo:      NewWeibo(c.WeiboAccessToken),
		LLM:        NewLLM(c.LLMAPIKey),
		byKey:      map[string]SimThread{},
	}
	if c.WeiboUsername != "" {
		s.Weibo.SetV1Account(c.WeiboAppKey, c.WeiboUsername, c.WeiboPassword)
	}
	// Milliseconds since the epoch: well inside each platform's id range,
	// and past every id an earlier Sim handed out (ids are one per comment).
	ms := uint64(time.Now().UnixMilli())
	s.JustOneAPI.nextCID = joFirstCID + ms*1000
	s.WeChat.nextID = ms
	s.Weibo.nextID = WeiboFirstID + ms*1000
	s.JustOneAPI.SetPageSize(10)
	s.JustOneAPI.SetOrder(OrderNewest)
	s.traffic = NewTraffic(s.JustOneAPI, seed)
	s.Kitkot.OnPost = s.kitkotPosted
	s.WeChat.OnPost = func(p WeChatPost) {
		s.emit(SimEvent{Kind: SimEventAnswer, Platform: model.PlatformWeChat, Thread: wxKey(p.MsgDataID, p.Index),
			Text: p.Content, At: p.At})
	}
	s.Weibo.OnPost = func(p WeiboPost) {
		s.emit(SimEvent{Kind: SimEventAnswer, Platform: model.PlatformWeibo, Thread: p.WeiboID,
			ID: strconv.FormatUint(p.ID, 10), Text: p.Text, At: p.At})
	}
	s.mux = http.NewServeMux()
	s.mux.Handle(SimJustOneAPIPrefix+"/", http.StripPrefix(SimJustOneAPIPrefix, s.JustOneAPI))
	s.mux.Handle(SimKitkotPrefix+"/", http.StripPrefix(SimKitkotPrefix, s.Kitkot))
	s.mux.Handle(SimWeChatPrefix+"/", http.StripPrefix(SimWeChatPrefix, s.WeChat))
	s.mux.Handle(SimWeiboPrefix+"/", http.StripPrefix(SimWeiboPrefix, s.Weibo))
	s.mux.Handle(SimLLMPrefix+"/", http.StripPrefix(SimLLMPrefix, s.LLM))
	s.mux.HandleFunc(SimCommentsPath, s.serveComments)
	return s
}

// ServeHTTP implements http.Handler.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Watch makes th a thread of its platform's imitation (a Douyin thread
// needs nothing; the others answer "not found" for threads they do not
// know). Watching a thread twice is harmless.
func (s *Sim) Watch(th SimThread) error {
	if th.ID == "" {
		return fmt.Errorf("%s thread: no id", th.Platform)
	}
	switch th.Platform {
	case model.PlatformDouyin:
	case model.PlatformTikTok:
		if th.Video {
			return errors.New("tiktok: kitkot lists no video's comments")
		}
		s.Kitkot.AddThread(th.ID, th.PostID)
	case model.PlatformWeChat:
		s.WeChat.AddArticle(th.ID, th.Index)
	case model.PlatformWeibo:
		s.Weibo.AddWeibo(th.ID)
	default:
		return fmt.Errorf("platform %q: want %s", th.Platform, strings.Join(simPlatforms, ", "))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := th.Platform + "\x00" + th.Name()
	if _, ok := s.byKey[key]; !ok {
		s.byKey[key] = th
		s.threads = append(s.threads, th)
	}
	return nil
}

// simPlatforms are the platforms a Sim imitates, in the order it lists them.
var simPlatforms = []string{model.PlatformDouyin, model.PlatformTikTok, model.PlatformWeChat, model.PlatformWeibo}

// Threads returns the watched threads, in the order they were watched.
func (s *Sim) Threads() []SimThread {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.threads)
}

// Backlog adds n made-up comments to every watched thread, created one
// second apart from at: the comments already there before autoreplyd looks.
func (s *Sim) Backlog(at time.Time, n int) {
	for i := range n {
		for _, th := range s.Threads() {
			s.made(at.Add(time.Duration(i)*time.Second), th)
		}
	}
}

// Tick adds one made-up comment, created at now, to a watched thread picked
// at random; false when no thread is watched.
func (s *Sim) Tick(now time.Time) (SimEvent, bool) {
	ths := s.Threads()
	if len(ths) == 0 {
		return SimEvent{}, false
	}
	s.traffic.mu.Lock()
	th := ths[s.traffic.rnd.IntN(len(ths))]
	s.traffic.mu.Unlock()
	return s.made(now, th), true
}

// Burst adds 0 to 3 made-up comments, created at now, as Tick does.
func (s *Sim) Burst(now time.Time) []SimEvent {
	s.traffic.mu.Lock()
	n := s.traffic.rnd.IntN(4)
	s.traffic.mu.Unlock()
	var out []SimEvent
	for range n {
		if ev, ok := s.Tick(now); ok {
			out = append(out, ev)
		}
	}
	return out
}

// Flow adds one made-up comment every interval until ctx ends.
func (s *Sim) Flow(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			s.Tick(now)
		}
	}
}

// made adds one made-up comment to th and reports it.
func (s *Sim) made(now time.Time, th SimThread) SimEvent {
	ev := SimEvent{Kind: SimEventComment, Platform: th.Platform, Thread: th.Name(), At: now}
	switch {
	case th.Video:
		// A new top-level comment (its thread is itself), or a reply under
		// one of the video's comments (the thread the daemon discovers).
		r, thread := s.traffic.DouyinVideo(now, th.ID)
		ev.Thread, ev.ID, ev.User, ev.Text = thread, r.CID, r.Nickname, r.Text
		s.emit(ev)
		return ev
	}
	switch th.Platform {
	case model.PlatformDouyin:
		r := s.traffic.Douyin(now, th.ID)
		ev.ID, ev.User, ev.Text = r.CID, r.Nickname, r.Text
	case model.PlatformTikTok:
		c := s.traffic.TikTok(s.Kitkot, now, th.ID)
		ev.ID, ev.User, ev.Text = c.CID, c.Nickname, c.Text
	case model.PlatformWeChat:
		c := s.traffic.WeChat(s.WeChat, now, th.ID, th.Index)
		ev.ID, ev.User, ev.Text = strconv.FormatUint(c.UserCommentID, 10), c.OpenID, c.Content
	case model.PlatformWeibo:
		c := s.traffic.Weibo(s.Weibo, now, th.ID)
		ev.ID, ev.User, ev.Text = strconv.FormatUint(c.ID, 10), c.ScreenName, c.Text
	}
	s.emit(ev)
	return ev
}

// AddComment adds a comment written by hand to a watched thread: platform
// "" is the first watched thread's, thread "" the platform's first watched
// thread (a WeChat thread is msg_data_id:index, or msg_data_id for index
// 0); nickname "" is made up. Each such comment comes from a new person,
// so that cooldowns do not hold back the next one.
func (s *Sim) AddComment(now time.Time, platform, thread, text, nickname string) (SimEvent, error) {
	switch n := utf8.RuneCountInString(text); {
	case strings.TrimSpace(text) == "":
		return SimEvent{}, errors.New("text: empty")
	case !utf8.ValidString(text):
		return SimEvent{}, errors.New("text: not UTF-8")
	case n > simMaxText:
		return SimEvent{}, fmt.Errorf("text: %d characters, at most %d", n, simMaxText)
	}
	th, err := s.thread(platform, thread)
	if err != nil {
		return SimEvent{}, err
	}
	s.mu.Lock()
	s.hand++
	n := s.hand
	s.mu.Unlock()
	if nickname == "" {
		nickname = "访客" + strconv.Itoa(n)
	}
	// A uid of its own per comment, from a range the made-up people avoid.
	uid := strconv.FormatInt(now.UnixMilli()*100+int64(n%100), 10)
	ev := SimEvent{Kind: SimEventComment, Platform: th.Platform, Thread: th.Name(), User: nickname, Text: text, At: now}
	switch {
	case th.Video:
		// By hand, a video gets a new top-level comment: its own thread.
		ev.ID = s.JustOneAPI.AddComment(th.ID, Reply{Text: text, CreateTime: now.Unix(), UserUID: uid,
			Nickname: nickname, UniqueID: "dy" + uid, Region: "CN", ReplyToReplyID: "0"})
		ev.Thread = ev.ID
	case th.Platform == model.PlatformDouyin:
		ev.ID = s.JustOneAPI.AddReply(th.ID, Reply{AwemeID: th.PostID, Text: text, CreateTime: now.Unix(), UserUID: uid,
			Nickname: nickname, UniqueID: "dy" + uid, Region: "CN", ReplyToReplyID: "0"})
	case th.Platform == model.PlatformTikTok:
		ev.ID = s.Kitkot.AddReply(th.ID, KitkotComment{Text: text, CreateTime: now.Unix(), UserUID: uid,
			Nickname: nickname, UniqueID: "user" + uid, Region: "US"})
	case th.Platform == model.PlatformWeChat:
		ev.User = "oSIM" + uid // WeChat shows readers by openid only
		ev.ID = strconv.FormatUint(s.WeChat.AddComment(th.ID, th.Index, WeChatComment{Content: text, CreateTime: now.Unix(), OpenID: ev.User}), 10)
	case th.Platform == model.PlatformWeibo:
		ev.ID = s.Weibo.AddComment(th.ID, WeiboComment{UID: uid, ScreenName: nickname, Text: text, CreatedAt: now})
	}
	s.emit(ev)
	return ev, nil
}

// thread finds a watched thread for AddComment.
func (s *Sim) thread(platform, thread string) (SimThread, error) {
	ths := s.Threads()
	var names []string
	for _, th := range ths {
		if platform != "" && th.Platform != platform {
			continue
		}
		if thread == "" || th.Name() == thread || (th.Platform == model.PlatformWeChat && th.Index == 0 && th.ID == thread) ||
			(th.Video && th.ID == thread) {
			return th, nil
		}
		names = append(names, th.Name())
	}
	switch {
	case len(ths) == 0:
		return SimThread{}, errors.New("no thread is watched")
	case platform != "" && !slices.Contains(simPlatforms, platform):
		return SimThread{}, fmt.Errorf("platform %q: want one of %s", platform, strings.Join(simPlatforms, ", "))
	case len(names) == 0:
		return SimThread{}, fmt.Errorf("platform %q: no thread of it is watched", platform)
	}
	return SimThread{}, fmt.Errorf("thread %q: not a watched %s thread (watched: %s)", thread, platform, strings.Join(names, ", "))
}

// serveComments takes a comment written by hand: POST platform, thread,
// text, nickname as form fields; it answers 201 with the comment as JSON,
// or 400 with the problem.
func (s *Sim) serveComments(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "POST platform, thread, text and nickname as form fields", http.StatusMethodNotAllowed)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, simMaxBody)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "cannot read the form: "+err.Error(), http.StatusBadRequest)
		return
	}
	ev, err := s.AddComment(time.Now(), r.Form.Get("platform"), r.Form.Get("thread"), r.Form.Get("text"), r.Form.Get("nickname"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusCreated)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(map[string]string{"platform": ev.Platform, "thread": ev.Thread, "comment_id": ev.ID, "user": ev.User, "text": ev.Text})
}

// kitkotPosted shows an answer posted through kitkot in the thread it
// answers (Douyin's or TikTok's, whichever is watched), as on the platforms.
func (s *Sim) kitkotPosted(p Post) {
	s.mu.Lock()
	_, douyin := s.byKey[model.PlatformDouyin+"\x00"+p.ReplyID]
	_, tiktok := s.byKey[model.PlatformTikTok+"\x00"+p.ReplyID]
	s.mu.Unlock()
	// An answer to a top-level comment of a video, or to a reply in one of
	// its threads, lands in that comment's thread.
	if video, _ := s.JustOneAPI.VideoOf(p.ReplyID); video != "" {
		s.mu.Lock()
		_, douyin = s.byKey[model.PlatformDouyin+"\x00video:"+video]
		s.mu.Unlock()
	}
	ev := SimEvent{Kind: SimEventAnswer, Thread: p.ReplyID, ID: p.CID, Text: p.Text, At: p.At}
	switch {
	case douyin:
		ev.Platform = model.PlatformDouyin
		s.JustOneAPI.AddReply(p.ReplyID, Reply{CID: p.CID, AwemeID: p.AwemeID, Text: p.Text, UserUID: s.Kitkot.BotUID,
			Nickname: s.Kitkot.BotNickname, CreateTime: p.At.Unix(), ReplyToReplyID: "0"})
	case tiktok:
		ev.Platform = model.PlatformTikTok
		s.Kitkot.AddReply(p.ReplyID, KitkotComment{CID: p.CID, AwemeID: p.AwemeID, Text: p.Text, UserUID: s.Kitkot.BotUID,
			Nickname: s.Kitkot.BotNickname, CreateTime: p.At.Unix()})
	}
	s.emit(ev)
}

func (s *Sim) emit(ev SimEvent) {
	if s.OnEvent != nil {
		s.OnEvent(ev)
	}
}
