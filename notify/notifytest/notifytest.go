// Package notifytest holds loopback imitations of the notification
// channels' platforms (WeCom, DingTalk and Feishu group robots, and a
// webhook receiver), written from their public documents, and an in-memory
// notify.Outbox. The imitations check what the platforms check (the URL's
// key or token, DingTalk's and Feishu's signatures within an hour, custom
// keywords, the text's size, a per-minute rate), answer with the platforms'
// codes, take injected faults (5xx, a hang until the client gives up, a bad
// webhook, too fast, broken JSON, a refused message, any code), and record
// every message they accepted, decoded. Every error answer echoes the
// request's URL, key and all, so that tests see any secret a client would
// let through.
//
// Everything here is safe for concurrent use; it is imported by tests only.
package notifytest

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/notify"
)

// Fault is a failure a Server answers with instead of accepting a message.
type Fault string

const (
	// Fault5xx answers HTTP 502.
	Fault5xx Fault = "5xx"
	// FaultHang holds the request until the client gives up (or the server
	// closes); nothing is answered.
	FaultHang Fault = "hang"
	// FaultBadWebhook answers the platform's code for a wrong URL (WeCom
	// 93000, DingTalk 300001, Feishu 19001; a webhook's HTTP 404).
	FaultBadWebhook Fault = "bad_webhook"
	// FaultTooFast answers the platform's too-fast code (WeCom 45009,
	// DingTalk 130101, Feishu 11232; a webhook's HTTP 429).
	FaultTooFast Fault = "too_fast"
	// FaultRefuse answers the platform's code refusing this message (WeCom
	// 45002 too long, DingTalk 430104 inappropriate content, Feishu 9499
	// bad request; a webhook's HTTP 413).
	FaultRefuse Fault = "refuse"
	// FaultBadJSON answers HTTP 200 with a body that is not JSON.
	FaultBadJSON Fault = "bad_json"
)

// Message is one message a Server accepted.
type Message struct {
	// Text is the message's text: WeCom's and DingTalk's text.content,
	// Feishu's content.text, a webhook's text field.
	Text string
	// Mentions lists every mention the message asked for: WeCom's
	// mentioned_list and mentioned_mobile_list, DingTalk's at.atMobiles and
	// at.atUserIds (and "@all" for at.isAtAll). notify never asks for one.
	Mentions []string
	// MsgType is the robot's msgtype or msg_type.
	MsgType string
	// Webhook is a webhook message about one event; Digest one about
	// several. Nil for the robots.
	Webhook *notify.WebhookEvent
	Digest  *notify.WebhookDigest
	// Event is a webhook message's X-Autoreplyd-Event header.
	Event  string
	Body   []byte
	Header http.Header
	At     time.Time
}

// Server is one imitated channel platform on a loopback port.
type Server struct {
	typ    string
	secret string
	token  string // the key, access_token or hook id in the URL
	srv    *httptest.Server

	mu         sync.Mutex
	now        func() time.Time
	msgs       []Message
	requests   int
	hanging    int
	faults     []fault
	keywords   []string
	perMinute  int
	accepted   []time.Time // accept times within the last minute, for the rate
	blockUntil time.Time   // DingTalk: ten minutes after a burst
	closing    chan struct{}
}

type fault struct {
	kind Fault
	code int
	msg  string
}

// Documented rates: WeCom and DingTalk robots take 20 messages a minute,
// Feishu's 100 (and 5 a second, not imitated); a webhook has none.
const (
	wecomPerMinute    = 20
	dingtalkPerMinute = 20
	feishuPerMinute   = 100
)

// NewWeCom starts a WeCom group robot: POST
// /cgi-bin/webhook/send?key=KEY, text messages of at most 2048 bytes.
func NewWeCom(t testing.TB) *Server {
	return start(t, notify.TypeWeCom, "", wecomPerMinute)
}

// NewDingTalk starts a DingTalk custom robot: POST
// /robot/send?access_token=TOKEN, signed (加签) when secret is not empty.
func NewDingTalk(t testing.TB, secret string) *Server {
	return start(t, notify.TypeDingTalk, secret, dingtalkPerMinute)
}

// NewFeishu starts a Feishu custom robot: POST /open-apis/bot/v2/hook/ID,
// signed (签名校验) when secret is not empty.
func NewFeishu(t testing.TB, secret string) *Server {
	return start(t, notify.TypeFeishu, secret, feishuPerMinute)
}

// NewWebhook starts a webhook receiver: POST /hooks/autoreplyd?token=TOKEN,
// whose X-Autoreplyd-Signature is checked when secret is not empty.
func NewWebhook(t testing.TB, secret string) *Server {
	return start(t, notify.TypeWebhook, secret, 0)
}

// New starts the imitation of a channel type (notify.TypeWeCom, ...).
func New(t testing.TB, typ, secret string) *Server {
	switch typ {
	case notify.TypeWeCom:
		return NewWeCom(t)
	case notify.TypeDingTalk:
		return NewDingTalk(t, secret)
	case notify.TypeFeishu:
		return NewFeishu(t, secret)
	}
	return NewWebhook(t, secret)
}

func start(t testing.TB, typ, secret string, perMinute int) *Server {
	s := &Server{typ: typ, secret: secret, token: randomToken(), now: time.Now, perMinute: perMinute,
		closing: make(chan struct{})}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	if t != nil {
		t.Cleanup(s.Close)
	}
	return s
}

func randomToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // never fails (crypto/rand's contract)
	return hex.EncodeToString(b)
}

// Close stops the server, ending any hanging request first.
func (s *Server) Close() {
	s.mu.Lock()
	select {
	case <-s.closing:
	default:
		close(s.closing)
	}
	s.mu.Unlock()
	s.srv.Close()
}

// Type is the channel type imitated.
func (s *Server) Type() string { return s.typ }

// URL is the full webhook URL, key or token included: a secret.
func (s *Server) URL() string {
	switch s.typ {
	case notify.TypeWeCom:
		return s.srv.URL + "/cgi-bin/webhook/send?key=" + s.token
	case notify.TypeDingTalk:
		return s.srv.URL + "/robot/send?access_token=" + s.token
	case notify.TypeFeishu:
		return s.srv.URL + "/open-apis/bot/v2/hook/" + s.token
	}
	return s.srv.URL + "/hooks/autoreplyd?token=" + s.token
}

// Token is the key, access_token, hook id or token the URL holds.
func (s *Server) Token() string { return s.token }

// Secret is the signing secret the server checks ("" for none).
func (s *Server) Secret() string { return s.secret }

// Spec is a notify.Spec of a channel named name on this server.
func (s *Server) Spec(name string) notify.Spec {
	return notify.Spec{Name: name, Type: s.typ, URL: s.URL(), Secret: s.secret}
}

// Messages returns the messages accepted so far, oldest first.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.msgs)
}

// Requests counts every request, accepted or not.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// Hanging counts the requests held by FaultHang right now.
func (s *Server) Hanging() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hanging
}

// Fail makes the next n requests fail with f.
func (s *Server) Fail(n int, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults = append(s.faults, fault{kind: f})
	}
}

// FailCode makes the next n requests answer code: for a robot, HTTP 200
// with that business code and msg; for a webhook, that HTTP status with msg
// as the body.
func (s *Server) FailCode(n, code int, msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults = append(s.faults, fault{code: code, msg: msg})
	}
}

// SetKeywords sets the robot's custom keywords (自定义关键词): a message
// must hold one of them, else DingTalk answers 310000 and Feishu 19024.
// None: no keyword is required.
func (s *Server) SetKeywords(words ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keywords = slices.Clone(words)
}

// SetRate sets how many messages a minute are accepted before the
// platform's too-fast answer; 0 accepts any number.
func (s *Server) SetRate(perMinute int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.perMinute = perMinute
}

// SetClock sets the server's clock, which signatures' timestamps and the
// rate are checked against.
func (s *Server) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

// answer is what the server says to one request.
type answer struct {
	status int
	code   int
	msg    string
	raw    string // a body as is (broken JSON, a webhook's)
}

// Platform codes the imitations answer with.
var (
	tooFast = map[string]answer{
		notify.TypeWeCom:    {code: 45009, msg: "api freq out of limit"},
		notify.TypeDingTalk: {code: 130101, msg: "send too fast, exceed 20 times per minute"},
		notify.TypeFeishu:   {code: 11232, msg: "frequency limited psm[lark.oapi.app_platform_runtime]"},
		notify.TypeWebhook:  {status: http.StatusTooManyRequests, raw: "too many requests"},
	}
	badWebhook = map[string]answer{
		notify.TypeWeCom:    {code: 93000, msg: "invalid webhook url"},
		notify.TypeDingTalk: {code: 300001, msg: "token is not exist"},
		notify.TypeFeishu:   {code: 19001, msg: "param invalid: incoming webhook access token invalid"},
		notify.TypeWebhook:  {status: http.StatusNotFound, raw: "no such hook"},
	}
	refused = map[string]answer{
		notify.TypeWeCom:    {code: 45002, msg: "content size out of limit"},
		notify.TypeDingTalk: {code: 430104, msg: "message contains inappropriate content"},
		notify.TypeFeishu:   {code: 9499, msg: "Bad Request"},
		notify.TypeWebhook:  {status: http.StatusRequestEntityTooLarge, raw: "too large"},
	}
	badSign = map[string]answer{
		notify.TypeDingTalk: {code: 310000, msg: "sign not match, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]"},
		notify.TypeFeishu:   {code: 19021, msg: "sign match fail or timestamp is not within one hour from current time"},
		notify.TypeWebhook:  {status: http.StatusUnauthorized, raw: "bad signature"},
	}
	noKeyword = map[string]answer{
		notify.TypeDingTalk: {code: 310000, msg: "keywords not in content, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]"},
		notify.TypeFeishu:   {code: 19024, msg: "Key Words Not Found"},
	}
)

// Size limits the imitations check: WeCom's text content 2048 bytes,
// Feishu's request body 20 KB; DingTalk answers 460101 above 20,000 bytes.
const (
	wecomMaxContent  = 2048
	feishuMaxBody    = 20 << 10
	dingtalkMaxBody  = 20000
	maxRequestBody   = 1 << 20
	signatureMaxSkew = time.Hour
)

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody))
	if err != nil {
		return
	}
	s.mu.Lock()
	s.requests++
	var f *fault
	if len(s.faults) > 0 {
		f = &s.faults[0]
		s.faults = s.faults[1:]
	}
	s.mu.Unlock()
	if f != nil {
		if f.kind == FaultHang {
			s.hang(r)
			return
		}
		s.write(w, r, s.faultAnswer(*f))
		return
	}
	if a := s.accept(r, body); a != nil {
		s.write(w, r, *a)
		return
	}
	s.write(w, r, answer{})
}

// hang holds a request until the client gives up or the server closes.
func (s *Server) hang(r *http.Request) {
	s.mu.Lock()
	s.hanging++
	s.mu.Unlock()
	select {
	case <-r.Context().Done():
	case <-s.closing:
	}
	s.mu.Lock()
	s.hanging--
	s.mu.Unlock()
}

func (s *Server) faultAnswer(f fault) answer {
	switch f.kind {
	case Fault5xx:
		return answer{status: http.StatusBadGateway, raw: "<html>502 Bad Gateway</html>"}
	case FaultBadWebhook:
		return badWebhook[s.typ]
	case FaultTooFast:
		return tooFast[s.typ]
	case FaultRefuse:
		return refused[s.typ]
	case FaultBadJSON:
		return answer{raw: "<html>not json"}
	}
	if s.typ == notify.TypeWebhook {
		return answer{status: f.code, raw: f.msg}
	}
	return answer{code: f.code, msg: f.msg}
}

// write sends a, echoing the request's URL into every error answer.
func (s *Server) write(w http.ResponseWriter, r *http.Request, a answer) {
	status := a.status
	if status == 0 {
		status = http.StatusOK
	}
	failed := a.code != 0 || status/100 != 2
	echo := ""
	if failed {
		echo = " (request " + r.URL.String() + ")"
	}
	if a.raw != "" || s.typ == notify.TypeWebhook {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(status)
		raw := a.raw
		if raw == "" {
			raw = "ok"
		}
		// The echo of the request is on purpose (see the package comment).
		io.WriteString(w, raw+echo) //nolint:gosec // a text/plain answer of an imitation, read by tests only

		return
	}
	msg := a.msg
	if msg == "" {
		msg = "ok"
		if s.typ == notify.TypeFeishu {
			msg = "success"
		}
	}
	var v any
	if s.typ == notify.TypeFeishu {
		v = map[string]any{"code": a.code, "msg": msg + echo, "data": map[string]any{}}
	} else {
		v = map[string]any{"errcode": a.code, "errmsg": msg + echo}
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// accept checks a request as the platform does and records it; a non-nil
// answer refuses it.
func (s *Server) accept(r *http.Request, body []byte) *answer {
	if r.Method != http.MethodPost {
		return &answer{status: http.StatusMethodNotAllowed, raw: "POST only"}
	}
	m := Message{Body: body, Header: r.Header.Clone()}
	s.mu.Lock()
	now := s.now()
	s.mu.Unlock()
	m.At = now
	var a *answer
	switch s.typ {
	case notify.TypeWeCom:
		a = s.acceptWeCom(r, body, &m)
	case notify.TypeDingTalk:
		a = s.acceptDingTalk(r, body, &m, now)
	case notify.TypeFeishu:
		a = s.acceptFeishu(r, body, &m, now)
	default:
		a = s.acceptWebhook(r, body, &m)
	}
	if a != nil {
		return a
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.typ == notify.TypeDingTalk || s.typ == notify.TypeFeishu {
		if len(s.keywords) > 0 && !slices.ContainsFunc(s.keywords, func(k string) bool { return strings.Contains(m.Text, k) }) {
			a := noKeyword[s.typ]
			return &a
		}
	}
	if s.tooFast(now) {
		a := tooFast[s.typ]
		return &a
	}
	s.accepted = append(s.accepted, now)
	s.msgs = append(s.msgs, m)
	return nil
}

// tooFast applies the per-minute rate; s.mu is held. DingTalk blocks a
// robot for ten minutes once it went over.
func (s *Server) tooFast(now time.Time) bool {
	if now.Before(s.blockUntil) {
		return true
	}
	if s.perMinute <= 0 {
		return false
	}
	s.accepted = slices.DeleteFunc(s.accepted, func(t time.Time) bool { return now.Sub(t) >= time.Minute })
	if len(s.accepted) < s.perMinute {
		return false
	}
	if s.typ == notify.TypeDingTalk {
		s.blockUntil = now.Add(10 * time.Minute)
	}
	return true
}

func (s *Server) acceptWeCom(r *http.Request, body []byte, m *Message) *answer {
	if r.URL.Path != "/cgi-bin/webhook/send" || r.URL.Query().Get("key") != s.token {
		a := badWebhook[s.typ]
		return &a
	}
	var v struct {
		MsgType string `json:"msgtype"`
		Text    struct {
			Content          string   `json:"content"`
			MentionedList    []string `json:"mentioned_list"`
			MentionedMobiles []string `json:"mentioned_mobile_list"`
		} `json:"text"`
	}
	if json.Unmarshal(body, &v) != nil {
		return &answer{code: 40058, msg: "invalid json request"}
	}
	if v.MsgType != "text" && v.MsgType != "markdown" {
		return &answer{code: 40008, msg: "invalid message type"}
	}
	if v.Text.Content == "" {
		return &answer{code: 44004, msg: "empty content"}
	}
	if len(v.Text.Content) > wecomMaxContent {
		a := refused[s.typ]
		return &a
	}
	m.MsgType, m.Text = v.MsgType, v.Text.Content
	m.Mentions = append(slices.Clone(v.Text.MentionedList), v.Text.MentionedMobiles...)
	return nil
}

func (s *Server) acceptDingTalk(r *http.Request, body []byte, m *Message, now time.Time) *answer {
	q := r.URL.Query()
	if r.URL.Path != "/robot/send" || q.Get("access_token") != s.token {
		a := badWebhook[s.typ]
		return &a
	}
	if s.secret != "" && !validSign(q.Get("timestamp"), q.Get("sign"), now, time.Millisecond, func(ts string) string {
		return hmacBase64([]byte(s.secret), ts+"\n"+s.secret)
	}) {
		a := badSign[s.typ]
		return &a
	}
	if len(body) > dingtalkMaxBody {
		return &answer{code: 460101, msg: "message too large"}
	}
	var v struct {
		MsgType string `json:"msgtype"`
		Text    struct {
			Content string `json:"content"`
		} `json:"text"`
		At struct {
			AtMobiles []string `json:"atMobiles"`
			AtUserIDs []string `json:"atUserIds"`
			IsAtAll   bool     `json:"isAtAll"`
		} `json:"at"`
	}
	if json.Unmarshal(body, &v) != nil || v.MsgType != "text" {
		return &answer{code: 400105, msg: "unsupported message type"}
	}
	m.MsgType, m.Text = v.MsgType, v.Text.Content
	m.Mentions = append(slices.Clone(v.At.AtMobiles), v.At.AtUserIDs...)
	if v.At.IsAtAll {
		m.Mentions = append(m.Mentions, "@all")
	}
	return nil
}

func (s *Server) acceptFeishu(r *http.Request, body []byte, m *Message, now time.Time) *answer {
	id, ok := strings.CutPrefix(r.URL.Path, "/open-apis/bot/v2/hook/")
	if !ok || id != s.token {
		a := badWebhook[s.typ]
		return &a
	}
	if len(body) > feishuMaxBody {
		return &answer{code: 9499, msg: "Bad Request: request body too large"}
	}
	var v struct {
		Timestamp string `json:"timestamp"`
		Sign      string `json:"sign"`
		MsgType   string `json:"msg_type"`
		Content   struct {
			Text string `json:"text"`
		} `json:"content"`
	}
	if json.Unmarshal(body, &v) != nil || v.MsgType == "" {
		return &answer{code: 9499, msg: "Bad Request"}
	}
	if s.secret != "" && !validSign(v.Timestamp, v.Sign, now, time.Second, func(ts string) string {
		return hmacBase64([]byte(ts+"\n"+s.secret), "")
	}) {
		a := badSign[s.typ]
		return &a
	}
	m.MsgType, m.Text = v.MsgType, v.Content.Text
	return nil
}

func (s *Server) acceptWebhook(r *http.Request, body []byte, m *Message) *answer {
	if r.URL.Path != "/hooks/autoreplyd" || r.URL.Query().Get("token") != s.token {
		a := badWebhook[s.typ]
		return &a
	}
	if s.secret != "" {
		want := notify.WebhookSignature(s.secret, body)
		if !hmac.Equal([]byte(r.Header.Get(notify.SignatureHeader)), []byte(want)) {
			a := badSign[s.typ]
			return &a
		}
	}
	var head struct {
		Event string `json:"event"`
	}
	if json.Unmarshal(body, &head) != nil {
		return &answer{status: http.StatusBadRequest, raw: "not JSON"}
	}
	m.Event = r.Header.Get(notify.EventHeader)
	if head.Event == notify.KindDigest {
		var d notify.WebhookDigest
		if err := json.Unmarshal(body, &d); err != nil {
			return &answer{status: http.StatusBadRequest, raw: "not a digest"}
		}
		m.Digest, m.Text = &d, d.Text
		return nil
	}
	var e notify.WebhookEvent
	if err := json.Unmarshal(body, &e); err != nil {
		return &answer{status: http.StatusBadRequest, raw: "not an event"}
	}
	m.Webhook, m.Text = &e, e.Text
	return nil
}

// validSign checks a robot's signature: a timestamp in unit within an hour
// of now, and sign as want computes it from the timestamp.
func validSign(ts, sign string, now time.Time, unit time.Duration, want func(ts string) string) bool {
	n, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return false
	}
	at := time.Unix(0, 0).Add(time.Duration(n) * unit)
	if d := now.Sub(at); d > signatureMaxSkew || d < -signatureMaxSkew {
		return false
	}
	return hmac.Equal([]byte(sign), []byte(want(ts)))
}

func hmacBase64(key []byte, msg string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// String describes the server without its token.
func (s *Server) String() string {
	u, _ := url.Parse(s.srv.URL)
	return fmt.Sprintf("notifytest %s at %s", s.typ, u.Host)
}
