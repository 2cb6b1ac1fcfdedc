package llm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"golang.org/x/time/rate"

	"github.com/autoreplyd/autoreplyd/internal/httpx"
)

// answerLimit bounds an answer read: max_tokens is at most 4096 (about
// 16 KB of text), and a reasoning model's reasoning_content may be several
// times that; 2 MiB is a broken server.
const answerLimit = 2 << 20

// maxProviderText bounds a provider's message quoted in an error, in bytes.
const maxProviderText = 300

// Draft is a model's answer.
type Draft struct {
	// Text is the answer as plain text (see Clean); never interpreted.
	Text string
	// Model is the model the API says answered (the Spec's when it says
	// none).
	Model            string
	PromptTokens     int64
	CompletionTokens int64
	// FinishReason is the API's finish_reason (stop, length, ...).
	FinishReason string
}

// Client drafts answers on one endpoint. It is safe for concurrent use.
type Client struct {
	spec Spec
	hc   *httpx.Client
	url  string // the chat completions URL
	lim  *rate.Limiter

	mu     sync.Mutex
	banked int // tokens of lim taken by Allow, not yet used by Draft
}

// Option configures a Client.
type Option func(*options)

type options struct{ hc *http.Client }

// WithHTTPClient sends through hc (default: a zero http.Client). Redirects
// are never followed, whatever hc says: a redirect would resend the key.
func WithHTTPClient(hc *http.Client) Option { return func(o *options) { o.hc = hc } }

// New returns the client of spec, its defaults filled; an error lists the
// spec's problems (see Spec.Check).
func New(spec Spec, opts ...Option) (*Client, error) {
	if probs := spec.Check(); len(probs) > 0 {
		return nil, errors.New(strings.Join(probs, "; "))
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	spec = spec.WithDefaults()
	base := strings.TrimRight(spec.BaseURL, "/")
	return &Client{
		spec: spec,
		hc:   httpx.New(httpx.NoRedirects(o.hc), base, spec.APIKey),
		url:  base + "/chat/completions",
		lim:  rate.NewLimiter(spec.Rate, spec.Burst),
	}, nil
}

// Spec is the client's spec, defaults filled.
func (c *Client) Spec() Spec { return c.spec }

// String names the endpoint without its key.
func (c *Client) String() string { return c.spec.String() }

// Allow reports whether a request may start now without waiting on the
// client's rate. A true Allow takes one token of the rate and keeps it for
// the next Draft, which then starts without waiting: a caller doing
// `if c.Allow() { c.Draft(ctx, req) }` spends one token per request, and a
// true Allow not followed by a Draft keeps its token for a later one (a
// second Allow meanwhile reports true without taking another). With
// several callers at once, a Draft may use the token another's Allow took
// and the other's Draft wait instead: Allow is a promise to the endpoint's
// callers together, not to one of them.
func (c *Client) Allow() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.banked > 0 {
		return true
	}
	if c.lim.Allow() {
		c.banked++
		return true
	}
	return false
}

// Ready waits, while ctx allows, until a request may start on the client's
// rate, and keeps the token for the next Draft, as a true Allow does. A
// caller that must record a request as begun before making it (the
// drafting stage) waits here first, so that what it records is followed by
// the request at once.
func (c *Client) Ready(ctx context.Context) error {
	c.mu.Lock()
	if c.banked > 0 {
		c.mu.Unlock()
		return nil
	}
	c.mu.Unlock()
	if err := c.lim.Wait(ctx); err != nil {
		return err
	}
	c.mu.Lock()
	c.banked++
	c.mu.Unlock()
	return nil
}

// wait takes one token of the rate: one Allow kept, else waiting for one
// while ctx allows.
func (c *Client) wait(ctx context.Context) error {
	c.mu.Lock()
	if c.banked > 0 {
		c.banked--
		c.mu.Unlock()
		return nil
	}
	c.mu.Unlock()
	if err := c.lim.Wait(ctx); err != nil {
		reason := ReasonRateWait
		if ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded) {
			reason = ReasonCancelled
		}
		return &Error{Endpoint: c.spec.Name, Kind: KindRetry, Reason: reason, unsent: true,
			Msg: "not sent: waiting for the endpoint's rate (" + fmtRate(c.spec.Rate) + ") would outlast the caller"}
	}
	return nil
}

func fmtRate(r rate.Limit) string {
	if r == rate.Inf {
		return "unlimited"
	}
	return fmt.Sprintf("%.4g a minute", float64(r)*60)
}

// wireRequest is the chat completions request. No tools, no functions, no
// streaming; max_tokens rather than max_completion_tokens, which the
// compatible providers do not all read.
type wireRequest struct {
	Model          string    `json:"model"`
	Messages       []Message `json:"messages"`
	MaxTokens      int       `json:"max_tokens"`
	Temperature    float64   `json:"temperature"`
	ResponseFormat struct {
		Type string `json:"type"`
	} `json:"response_format"`
	Stream bool `json:"stream"`
}

// wireAnswer is what is read of a chat completion. reasoning_content
// (DeepSeek, Qwen) and every other field are ignored: only content is the
// answer.
type wireAnswer struct {
	Model   string `json:"model"`
	Choices []struct {
		Message struct {
			Content      *string           `json:"content"`
			Refusal      *string           `json:"refusal"`
			ToolCalls    []json.RawMessage `json:"tool_calls"`
			FunctionCall json.RawMessage   `json:"function_call"`
		} `json:"message"`
		FinishReason string `json:"finish_reason"`
	} `json:"choices"`
	Usage *struct {
		PromptTokens     int64 `json:"prompt_tokens"`
		CompletionTokens int64 `json:"completion_tokens"`
	} `json:"usage"`
}

// Draft asks the model for one answer to req. It makes exactly one request
// (no retries: the caller's retry policy governs), after taking a token of
// the client's rate (a kept Allow, else waiting while ctx allows); the
// request itself is bounded by the Spec's Timeout. A failure is an *Error;
// with KindRefused the Draft holds what the model answered, cleaned (Text
// may be empty), and what it cost, for the history.
func (c *Client) Draft(ctx context.Context, req Request) (Draft, error) {
	if err := c.wait(ctx); err != nil {
		return Draft{}, err
	}
	w := wireRequest{Model: c.spec.Model, Messages: Messages(req), MaxTokens: req.MaxTokens,
		Temperature: c.spec.Temperature}
	if w.MaxTokens <= 0 {
		w.MaxTokens = c.spec.MaxTokens
	}
	w.ResponseFormat.Type = "text"
	body, err := httpx.JSON(w)
	if err != nil {
		return Draft{}, c.errorf(KindFatal, ReasonRequest, "cannot encode the request: %v", err)
	}
	h := http.Header{"Content-Type": {"application/json"}, "Accept": {"application/json"}}
	if c.spec.APIKey != "" {
		h.Set("Authorization", "Bearer "+c.spec.APIKey)
	}
	a, herr := c.hc.Do(ctx, httpx.Request{Method: http.MethodPost, URL: c.url, Body: body, Header: h,
		Timeout: c.spec.Timeout, Limit: answerLimit})
	defer a.Release()
	if herr != nil {
		return Draft{}, c.exchangeError(herr)
	}
	if a.Status/100 != 2 {
		return Draft{}, &Error{Endpoint: c.spec.Name, Kind: statusKind(a.Status), Status: a.Status,
			Reason: statusReason(a.Status), Msg: c.providerMessage(a.Body)}
	}
	var ans wireAnswer
	if a.Truncated {
		return Draft{}, c.badAnswer(a, "longer than %d MiB", answerLimit>>20)
	}
	if err := json.Unmarshal(a.Body, &ans); err != nil {
		return Draft{}, c.badAnswer(a, "not JSON")
	}
	if len(ans.Choices) == 0 {
		return Draft{}, c.badAnswer(a, "no choices")
	}
	ch := ans.Choices[0]
	d := Draft{Model: ans.Model, FinishReason: ch.FinishReason}
	if d.Model == "" {
		d.Model = c.spec.Model
	}
	if ans.Usage != nil {
		d.PromptTokens, d.CompletionTokens = ans.Usage.PromptTokens, ans.Usage.CompletionTokens
	}
	if ch.Message.Content != nil {
		d.Text = Clean(*ch.Message.Content)
	}
	refused := func(reason, msg string) (Draft, error) {
		return d, &Error{Endpoint: c.spec.Name, Kind: KindRefused, Status: a.Status, Reason: reason, Msg: msg,
			Usage: Usage{PromptTokens: d.PromptTokens, CompletionTokens: d.CompletionTokens}}
	}
	switch {
	case ch.Message.Refusal != nil && strings.TrimSpace(*ch.Message.Refusal) != "":
		return refused(ReasonRefusal, c.quote(*ch.Message.Refusal))
	case ch.FinishReason == "content_filter":
		return refused(ReasonContentFilter, "the provider's content filter stopped the answer")
	case len(ch.Message.ToolCalls) > 0 || len(ch.Message.FunctionCall) > 0 && string(ch.Message.FunctionCall) != "null" ||
		ch.FinishReason == "tool_calls" || ch.FinishReason == "function_call":
		return refused(ReasonToolCalls, "the model asked to call a tool; none is offered")
	case ch.FinishReason == "length":
		return refused(ReasonTruncated, fmt.Sprintf("cut at max_tokens (%d)", w.MaxTokens))
	case d.Text == "":
		return refused(ReasonEmpty, "nothing left of the answer as plain text")
	}
	return d, nil
}

// exchangeError is the *Error of an exchange that got no answer: retried,
// except a request that could not be built (a base URL that passed Check
// and still fails is the config's).
func (c *Client) exchangeError(e *httpx.Error) *Error {
	out := &Error{Endpoint: c.spec.Name, Kind: KindRetry, Status: e.Status, Reason: e.Reason, Msg: e.Msg}
	switch e.Reason {
	case "bad_request":
		out.Kind, out.Reason = KindFatal, ReasonRequest
	case "timeout", "cancelled", "dropped", "connect":
	default:
		out.Reason = ReasonDropped
	}
	return out
}

// badAnswer is the *Error of a 2xx answer that is not a chat completion
// (a proxy's page, a broken server): retried.
func (c *Client) badAnswer(a *httpx.Answer, format string, args ...any) *Error {
	return &Error{Endpoint: c.spec.Name, Kind: KindRetry, Status: a.Status, Reason: ReasonBadAnswer,
		Msg: "the answer is not a chat completion (" + fmt.Sprintf(format, args...) + "): " + c.hc.Snippet(a.Body, maxProviderText)}
}

// errorf is an *Error of this endpoint that is not the provider's answer.
func (c *Client) errorf(kind Kind, reason, format string, args ...any) *Error {
	return &Error{Endpoint: c.spec.Name, Kind: kind, Reason: reason, Msg: c.hc.Redact(fmt.Sprintf(format, args...))}
}

// providerMessage is the provider's own message in an error answer, in the
// shapes the compatible APIs use: OpenAI's {"error": {"message", "code"}},
// Ollama's {"error": "..."}, DashScope's and others' {"code", "message"};
// else the start of the body. Redacted, bounded and escaped.
func (c *Client) providerMessage(body []byte) string {
	var v struct {
		Error   json.RawMessage `json:"error"`
		Code    any             `json:"code"`
		Message string          `json:"message"`
		Msg     string          `json:"msg"`
	}
	if json.Unmarshal(body, &v) == nil {
		var obj struct {
			Message string `json:"message"`
			Code    any    `json:"code"`
			Type    string `json:"type"`
		}
		var s string
		switch {
		case len(v.Error) > 0 && json.Unmarshal(v.Error, &obj) == nil && obj.Message != "":
			return c.quote(withCode(obj.Message, obj.Code, obj.Type))
		case len(v.Error) > 0 && json.Unmarshal(v.Error, &s) == nil && s != "":
			return c.quote(s)
		case v.Message != "":
			return c.quote(withCode(v.Message, v.Code, ""))
		case v.Msg != "":
			return c.quote(withCode(v.Msg, v.Code, ""))
		}
	}
	return c.hc.Snippet(body, maxProviderText)
}

// withCode is msg with the provider's code (or error type) before it.
func withCode(msg string, code any, typ string) string {
	switch k := code.(type) {
	case string:
		if k != "" {
			return k + ": " + msg
		}
	case float64:
		return fmt.Sprintf("%g: %s", k, msg)
	}
	if typ != "" {
		return typ + ": " + msg
	}
	return msg
}

// quote is a provider's or model's text as an error may hold it: redacted,
// bounded and escaped.
func (c *Client) quote(s string) string {
	return c.hc.Snippet([]byte(s), maxProviderText)
}
