package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/autoreplyd/autoreplyd/internal/httpx"
	"github.com/autoreplyd/autoreplyd/rules"
)

// Channel delivers messages to one configured place.
type Channel interface {
	Name() string
	Type() string
	// Send delivers one message: about the one event, or a digest of
	// several. A nil error means the platform accepted it. A failure is an
	// *Error whose Class says what to do.
	Send(ctx context.Context, events []Event) error
}

// Answer is what a channel's platform said to a message, for
// `autoreplyd notify-test` to print.
type Answer struct {
	// Status is the HTTP status; 0 when no answer came.
	Status int
	// Coded says whether the answer held a business code: a robot's JSON
	// does, a webhook's answer and a robot's broken one do not.
	Coded bool
	// Code and Msg are the platform's business code and message (errcode
	// and errmsg, code and msg); without a code, Msg quotes the start of
	// the answer. Msg is redacted, escaped and bounded.
	Code int
	Msg  string
}

func (a Answer) String() string {
	if a.Status == 0 {
		return "no answer"
	}
	s := httpx.StatusText(a.Status)
	if a.Coded {
		s += ", code " + strconv.Itoa(a.Code)
	}
	if a.Msg != "" {
		s += " " + strconv.Quote(a.Msg)
	}
	return s
}

// deliverer is implemented by this package's channels: Send, with the
// platform's answer.
type deliverer interface {
	deliver(ctx context.Context, events []Event) (Answer, error)
}

// SendTest sends ch one test message and returns what its platform
// answered, for `autoreplyd notify-test CHANNEL`. The error is Send's.
func SendTest(ctx context.Context, ch Channel, now time.Time) (Answer, error) {
	e := TestEvent(now)
	if d, ok := ch.(deliverer); ok {
		return d.deliver(ctx, []Event{e})
	}
	return Answer{}, ch.Send(ctx, []Event{e})
}

// TestEvent is the event a test message is about.
func TestEvent(now time.Time) Event {
	return Event{Kind: KindTest, Status: KindTest, Platform: "test", CommentText: "这是一条测试消息",
		User: "autoreplyd", Rule: "notify-test", CreatedAt: now}
}

// Bounds on what a platform's answer is read to: theirs are a few dozen
// bytes; a webhook's is its own business, of which only the start is
// quoted.
const answerLimit = 64 << 10

// Size limits of a message's text, in bytes.
const (
	// wecomTextBytes: WeCom's text message content is at most 2048 bytes.
	wecomTextBytes = 2048
	// robotTextBytes is what DingTalk and Feishu text messages get: Feishu
	// takes a request body of up to 20 KB and DingTalk documents no text
	// limit we could find; 4 KB holds a digest of ten and keeps the body
	// far below both.
	robotTextBytes = 4096
	// webhookTextBytes bounds the webhook's text field.
	webhookTextBytes = 4096
)

// client is what every channel type shares: its spec, its HTTP side and its
// renderer.
type client struct {
	name, typ string
	url       string // a secret
	secret    string
	timeout   time.Duration
	limit     rate.Limit
	burst     int
	hc        *httpx.Client
	render    *renderer
	now       func() time.Time // for signatures' timestamps
}

func newClient(spec Spec, hc *http.Client) (*client, error) {
	u, err := url.Parse(spec.URL)
	if err != nil {
		return nil, fmt.Errorf("notify.%s.url: not a URL", spec.Name)
	}
	r := &renderer{channel: spec.Name, loc: spec.Location, budget: robotTextBytes}
	switch spec.Type {
	case TypeWeCom:
		r.budget = wecomTextBytes
	case TypeWebhook:
		r.budget = webhookTextBytes
	}
	if spec.Template != "" {
		r.tmpl, err = rules.CompileTemplate(spec.Template, TemplateEnv{}, rules.TemplateLocation(spec.Location))
		if err != nil {
			return nil, fmt.Errorf("notify.%s.template: %w", spec.Name, err)
		}
	}
	// Messages name the scheme and host only: a Feishu path holds the
	// robot's id, a webhook's may hold a token.
	endpoint := u.Scheme + "://" + u.Host
	return &client{
		name: spec.Name, typ: spec.Type, url: spec.URL, secret: spec.Secret, timeout: spec.Timeout,
		limit: spec.Rate, burst: spec.Burst,
		hc:     httpx.New(httpx.NoReplay(hc), endpoint, urlSecrets(u, spec.URL, spec.Secret)...),
		render: r,
		now:    time.Now,
	}, nil
}

// urlSecrets are the spellings of a channel's secrets an answer or error
// could echo: the whole URL, the secret, and each part of the URL that
// holds a key (query values, a password, a Feishu hook id, a long path
// segment). Short query values ("1", "json") are left: replacing them would
// mangle every message, and they are not what makes the URL a secret.
func urlSecrets(u *url.URL, raw, secret string) []string {
	out := []string{raw, secret}
	for _, vs := range u.Query() {
		for _, v := range vs {
			if len(v) >= 8 {
				out = append(out, v)
			}
		}
	}
	if p, ok := u.User.Password(); ok {
		out = append(out, p)
	}
	if id := feishuHookID(u); id != "" {
		out = append(out, id)
	}
	for _, seg := range strings.Split(u.Path, "/") {
		if len(seg) >= 16 {
			out = append(out, seg)
		}
	}
	var keep []string
	for _, s := range out {
		if s != "" {
			keep = append(keep, s)
		}
	}
	return keep
}

// Name is the channel's name.
func (c *client) Name() string { return c.name }

// Type is the channel's type.
func (c *client) Type() string { return c.typ }

// String names the channel without its URL or secret.
func (c *client) String() string { return "notify." + c.name + " (" + c.typ + ")" }

// post sends body to target and returns the answer, or an *Error when no
// answer came. A non-2xx answer is returned as it is: each type reads its
// own.
func (c *client) post(ctx context.Context, target string, body []byte, header http.Header) (*httpx.Answer, error) {
	h := http.Header{"Content-Type": {"application/json; charset=utf-8"}}
	for k, vs := range header {
		h[k] = vs
	}
	a, err := c.hc.Do(ctx, httpx.Request{Method: http.MethodPost, URL: target, Body: body, Header: h,
		Timeout: c.timeout, Limit: answerLimit})
	if err != nil {
		return nil, c.exchangeError(err)
	}
	return a, nil
}

// robotAnswer reads a robot's JSON answer {errcode, errmsg} (WeCom,
// DingTalk) or {code, msg} (Feishu; older answers say StatusCode and
// StatusMessage): accepted when the code is 0 and the status 2xx.
func (c *client) robotAnswer(a *httpx.Answer, table map[int]codeInfo) (Answer, error) {
	var body struct {
		ErrCode    *int   `json:"errcode"`
		ErrMsg     string `json:"errmsg"`
		Code       *int   `json:"code"`
		Msg        string `json:"msg"`
		StatusCode *int   `json:"StatusCode"`
		StatusMsg  string `json:"StatusMessage"`
	}
	ans := Answer{Status: a.Status}
	code, msg, ok := 0, "", false
	if json.Unmarshal(a.Body, &body) == nil {
		switch {
		case body.ErrCode != nil:
			code, msg, ok = *body.ErrCode, body.ErrMsg, true
		case body.Code != nil:
			code, msg, ok = *body.Code, body.Msg, true
		case body.StatusCode != nil:
			code, msg, ok = *body.StatusCode, body.StatusMsg, true
		}
	}
	if !ok {
		ans.Msg = c.hc.Snippet(a.Body, maxPlatformText)
		if a.Status/100 != 2 {
			return ans, c.statusError(a.Status, a.Body)
		}
		// A 2xx answer that is not the platform's JSON: not known to be
		// accepted, so sent again later (a duplicate beats a loss).
		return ans, c.errorf(Retry, "%s answered %s without the platform's JSON: %s", c.hc.Endpoint(), httpx.StatusText(a.Status), ans.Msg)
	}
	ans.Coded, ans.Code, ans.Msg = true, code, c.platformText(msg)
	switch {
	case code != 0:
		return ans, c.codeError(table, a.Status, code, msg)
	case a.Status/100 != 2:
		return ans, c.statusError(a.Status, a.Body)
	}
	return ans, nil
}
