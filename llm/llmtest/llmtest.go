// Package llmtest is a loopback imitation of an OpenAI-compatible chat
// completions API (POST {base}/chat/completions), written from the OpenAI
// API reference and the compatible providers' documents (DeepSeek, Qwen's
// DashScope compatible mode, Ollama). It checks the bearer key and the
// model, answers with usage counted plausibly, records every request
// decoded, and takes a queue of behaviours for the next requests: an
// answer, an HTTP error with an OpenAI-shaped or a provider-shaped body, a
// hang, a refusal, a content filter, a truncated answer, tool calls, an
// overlong or injected answer, an answer wrapped in <think>, and a
// DeepSeek-style answer with reasoning_content beside content.
//
// Every error answer echoes the Authorization header it got, key and all
// (some providers quote the key they refuse), so that tests see any secret
// a client would let through.
//
// Everything here is safe for concurrent use; it is imported by tests only.
package llmtest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/autoreplyd/autoreplyd/llm"
)

// Model is the model the imitation serves unless told otherwise; the
// answers name it with a dated suffix (AnsweredModel), as OpenAI's do.
const Model = "imitation-chat"

// AnsweredModel is the model name an answer to a request for model says.
func AnsweredModel(model string) string { return model + "-2026-01-01" }

// Injected is the answer of Inject: what a model talked round by a comment
// would write.
const Injected = "加我微信 vx12345"

// Request is one request the server got, decoded.
type Request struct {
	Model       string
	Messages    []llm.Message
	MaxTokens   int      // max_tokens (0: absent)
	Temperature *float64 // nil: absent
	// Authorized says whether Authorization was "Bearer KEY" with the
	// server's key; Auth is the header as sent (a secret).
	Authorized bool
	Auth       string
	// Tools says whether the request offered tools or functions;
	// ResponseFormat is response_format.type ("" when absent); Stream is
	// stream.
	Tools          bool
	ResponseFormat string
	Stream         bool
	Path           string
	Body           []byte
	Header         http.Header
}

// Behaviour is what the server does with one request. Make one with the
// functions below.
type Behaviour struct {
	kind      string
	text      string
	reasoning string
	status    int
	provider  bool
}

// OK answers text (finish_reason stop).
func OK(text string) Behaviour { return Behaviour{kind: "ok", text: text} }

// Status answers HTTP status with an OpenAI-shaped error body
// ({"error": {"message", "type", "code"}}) for it; 401's message quotes the
// key sent, as OpenAI's "Incorrect API key provided: sk-..." does.
func Status(status int) Behaviour { return Behaviour{kind: "status", status: status} }

// ProviderStatus answers HTTP status with a body that is not OpenAI's
// shape: DashScope's {"code", "message", "request_id"} (echoing the key),
// or for a 502 a gateway's HTML page.
func ProviderStatus(status int) Behaviour {
	return Behaviour{kind: "status", status: status, provider: true}
}

// Hang holds the request until the client gives up or the server closes.
func Hang() Behaviour { return Behaviour{kind: "hang"} }

// Refusal answers with message.refusal set and no content.
func Refusal(text string) Behaviour { return Behaviour{kind: "refusal", text: text} }

// ContentFilter answers finish_reason content_filter with an empty content.
func ContentFilter() Behaviour { return Behaviour{kind: "content_filter"} }

// Length answers text cut short: finish_reason length.
func Length(text string) Behaviour { return Behaviour{kind: "length", text: text} }

// ToolCalls answers a tool call (finish_reason tool_calls, no content).
func ToolCalls() Behaviour { return Behaviour{kind: "tool_calls"} }

// Overlong answers runes characters of text (finish_reason stop).
func Overlong(runes int) Behaviour {
	return OK(longText(runes))
}

// Inject answers Injected.
func Inject() Behaviour { return OK(Injected) }

// Think answers text after a <think>…</think> block of reasoning.
func Think(reasoning, text string) Behaviour {
	return OK("<think>\n" + reasoning + "\n</think>\n\n" + text)
}

// Reasoning answers text in content and reasoning in reasoning_content, as
// DeepSeek's reasoner and Qwen's thinking models do.
func Reasoning(reasoning, text string) Behaviour {
	return Behaviour{kind: "ok", text: text, reasoning: reasoning}
}

// BadJSON answers HTTP 200 with a body that is not JSON.
func BadJSON() Behaviour { return Behaviour{kind: "bad_json"} }

func longText(runes int) string {
	unit := []rune("这是一个很长的回答。")
	out := make([]rune, runes)
	for i := range out {
		out[i] = unit[i%len(unit)]
	}
	return string(out)
}

// Server is one imitated API on a loopback port.
type Server struct {
	srv   *httptest.Server
	key   string
	model string

	mu         sync.Mutex
	answer     func(Request) string
	queue      []Behaviour
	reqs       []Request
	prompt     int64
	completion int64
	hanging    int
	closing    chan struct{}
}

// New starts a server with a random key, serving Model, answering every
// request "您好，感谢关注！" unless told otherwise.
func New(t testing.TB) *Server {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // never fails (crypto/rand's contract)
	return NewWithKey(t, "sk-imitation-"+hex.EncodeToString(b))
}

// NewWithKey starts a server whose key is key; "" accepts any request, as
// a local server does.
func NewWithKey(t testing.TB, key string) *Server {
	s := &Server{key: key, model: Model, closing: make(chan struct{}),
		answer: func(Request) string { return "您好，感谢关注！" }}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	if t != nil {
		t.Cleanup(s.Close)
	}
	return s
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

// BaseURL is the API's root: the server's URL and /v1.
func (s *Server) BaseURL() string { return s.srv.URL + "/v1" }

// Key is the key the server accepts: a secret.
func (s *Server) Key() string { return s.key }

// Spec is an llm.Spec of an endpoint named name on this server.
func (s *Server) Spec(name string) llm.Spec {
	return llm.Spec{Name: name, BaseURL: s.BaseURL(), APIKey: s.key, Model: s.model,
		Temperature: llm.DefaultTemperature}
}

// SetModel sets the one model the server serves; another gets 404.
func (s *Server) SetModel(model string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.model = model
}

// SetAnswer sets the text of requests with no queued behaviour.
func (s *Server) SetAnswer(f func(Request) string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.answer = f
}

// Queue adds behaviours for the next requests, in order.
func (s *Server) Queue(b ...Behaviour) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queue = append(s.queue, b...)
}

// Requests returns every request so far, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.reqs)
}

// Tokens are the prompt and completion tokens served so far (billed
// answers: refusals and truncated answers included, errors not).
func (s *Server) Tokens() (prompt, completion int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.prompt, s.completion
}

// Hanging counts the requests held by Hang right now.
func (s *Server) Hanging() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hanging
}

// CountTokens is the imitation's token count of text: a rune is about half
// a token (Chinese runs about one token per one or two characters), at
// least 1 for any text.
func CountTokens(text string) int64 {
	n := int64(utf8.RuneCountInString(text))
	if n == 0 {
		return 0
	}
	return (n + 1) / 2
}

// maxRequestBody bounds a request read: a draft request is a few KB.
const maxRequestBody = 1 << 20

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody))
	if err != nil {
		return
	}
	req := Request{Path: r.URL.Path, Body: body, Header: r.Header.Clone(), Auth: r.Header.Get("Authorization")}
	var wire struct {
		Model          string                 `json:"model"`
		Messages       []llm.Message          `json:"messages"`
		MaxTokens      int                    `json:"max_tokens"`
		Temperature    *float64               `json:"temperature"`
		Tools          []any                  `json:"tools"`
		Functions      []any                  `json:"functions"`
		Stream         bool                   `json:"stream"`
		ResponseFormat *struct{ Type string } `json:"response_format"`
	}
	decodeErr := json.Unmarshal(body, &wire)
	req.Model, req.Messages, req.MaxTokens, req.Temperature, req.Stream = wire.Model, wire.Messages, wire.MaxTokens, wire.Temperature, wire.Stream
	req.Tools = len(wire.Tools) > 0 || len(wire.Functions) > 0
	if wire.ResponseFormat != nil {
		req.ResponseFormat = wire.ResponseFormat.Type
	}

	s.mu.Lock()
	req.Authorized = s.key == "" || req.Auth == "Bearer "+s.key
	s.reqs = append(s.reqs, req)
	model := s.model
	answer := s.answer
	s.mu.Unlock()

	switch {
	case r.Method != http.MethodPost:
		s.openAIError(w, r, http.StatusMethodNotAllowed, "Method not allowed", "invalid_request_error", "")
		return
	case r.URL.Path != "/v1/chat/completions":
		s.openAIError(w, r, http.StatusNotFound, "Unknown request URL: POST "+r.URL.Path, "invalid_request_error", "unknown_url")
		return
	case !req.Authorized:
		s.openAIError(w, r, http.StatusUnauthorized, "Incorrect API key provided: "+strings.TrimPrefix(req.Auth, "Bearer ")+".", "invalid_request_error", "invalid_api_key")
		return
	case decodeErr != nil || len(req.Messages) == 0:
		s.openAIError(w, r, http.StatusBadRequest, "We could not parse the JSON body of your request.", "invalid_request_error", "")
		return
	case req.Model != model:
		s.openAIError(w, r, http.StatusNotFound, "The model `"+req.Model+"` does not exist or you do not have access to it.", "invalid_request_error", "model_not_found")
		return
	}
	// Only a request the API would take gets a queued behaviour.
	var b *Behaviour
	s.mu.Lock()
	if len(s.queue) > 0 {
		b = &s.queue[0]
		s.queue = s.queue[1:]
	}
	s.mu.Unlock()
	if b == nil {
		b = &Behaviour{kind: "ok", text: answer(req)}
	}
	s.behave(w, r, req, *b)
}

func (s *Server) behave(w http.ResponseWriter, r *http.Request, req Request, b Behaviour) {
	msg := map[string]any{"role": "assistant", "content": b.text}
	finish := "stop"
	switch b.kind {
	case "status":
		if b.provider {
			s.providerError(w, r, b.status)
		} else {
			s.openAIError(w, r, b.status, statusMessage(b.status, req.Model), statusType(b.status), "")
		}
		return
	case "hang":
		s.hang(r)
		return
	case "bad_json":
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, "<html>not json")
		return
	case "refusal":
		msg["content"], msg["refusal"] = nil, b.text
	case "content_filter":
		msg["content"], finish = "", "content_filter"
	case "length":
		finish = "length"
	case "tool_calls":
		msg["content"], finish = nil, "tool_calls"
		msg["tool_calls"] = []any{map[string]any{"id": "call_1", "type": "function",
			"function": map[string]any{"name": "send_contact", "arguments": `{"wechat":"vx12345"}`}}}
	}
	if b.reasoning != "" {
		msg["reasoning_content"] = b.reasoning
	}
	var prompt int64
	for _, m := range req.Messages {
		prompt += 4 + CountTokens(m.Content)
	}
	completion := CountTokens(b.text) + CountTokens(b.reasoning)
	if completion == 0 {
		completion = 1 // the end of the answer is a token too
	}
	s.mu.Lock()
	s.prompt += prompt
	s.completion += completion
	s.mu.Unlock()
	resp := map[string]any{
		"id": "chatcmpl-imitation", "object": "chat.completion", "created": 1767225600,
		"model":   AnsweredModel(req.Model),
		"choices": []any{map[string]any{"index": 0, "message": msg, "finish_reason": finish, "logprobs": nil}},
		"usage": map[string]any{"prompt_tokens": prompt, "completion_tokens": completion,
			"total_tokens": prompt + completion},
		"system_fingerprint": "fp_imitation",
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(resp)
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

func statusMessage(status int, model string) string {
	switch status {
	case http.StatusTooManyRequests:
		return "Rate limit reached for requests. Please try again in 20s."
	case http.StatusUnauthorized:
		return "Incorrect API key provided."
	case http.StatusPaymentRequired:
		return "Insufficient Balance"
	case http.StatusNotFound:
		return "The model `" + model + "` does not exist or you do not have access to it."
	case http.StatusBadRequest:
		return "Invalid value for 'max_tokens': must be at most 8192."
	}
	if status >= 500 {
		return "The server had an error while processing your request. Sorry about that!"
	}
	return http.StatusText(status)
}

func statusType(status int) string {
	switch {
	case status == http.StatusTooManyRequests:
		return "rate_limit_exceeded"
	case status >= 500:
		return "server_error"
	}
	return "invalid_request_error"
}

// openAIError answers status with OpenAI's error shape, echoing the
// request's Authorization header.
func (s *Server) openAIError(w http.ResponseWriter, r *http.Request, status int, msg, typ, code string) {
	var c any
	if code != "" {
		c = code
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{
		"message": msg + echo(r), "type": typ, "param": nil, "code": c}})
}

// providerError answers status in a provider's own shape: DashScope's JSON,
// or a gateway's HTML page for 502.
func (s *Server) providerError(w http.ResponseWriter, r *http.Request, status int) {
	if status == http.StatusBadGateway {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(status)
		io.WriteString(w, "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><!--"+echo(r)+"--></body></html>") //nolint:gosec // an imitation's error page, read by tests only
		return
	}
	code := "InternalError"
	switch {
	case status == http.StatusUnauthorized:
		code = "InvalidApiKey"
	case status == http.StatusTooManyRequests:
		code = "Throttling.RateQuota"
	case status < 500:
		code = "InvalidParameter"
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"code": code,
		"message": "Request failed with code " + code + "." + echo(r), "request_id": "7b3c-" + strconv.Itoa(status)})
}

// echo quotes the request's Authorization header (see the package
// comment).
func echo(r *http.Request) string {
	if a := r.Header.Get("Authorization"); a != "" {
		return " (Authorization: " + a + ")"
	}
	return ""
}
