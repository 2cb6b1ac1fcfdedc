package simulator

import (
	"crypto/subtle"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// LLMPath is the chat completions path of an OpenAI-compatible API, under
// its base URL (which ends in /v1).
const LLMPath = "/v1/chat/completions"

// LLM imitates an OpenAI-compatible chat completions API (DeepSeek, Qwen's
// compatible mode, ...) for the demo and simulate: it answers like a shop's
// customer service from the question in the user message, with usage
// counts, and, asked for contact details, answers with a WeChat id, so that
// a rule's reject_if has something to stop. The tests' richer imitation,
// with faults, is llm/llmtest. An http.Handler, safe for concurrent use.
type LLM struct {
	// Model is the model name it answers as.
	Model string
	key   string

	mu    sync.Mutex
	calls int
}

// NewLLM returns an imitation accepting the bearer key ("" accepts any
// request, as a local server does).
func NewLLM(key string) *LLM { return &LLM{Model: "demo-chat", key: key} }

// Calls is the number of completions it answered.
func (l *LLM) Calls() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.calls
}

// llmAnswers are the imitation's answers, by a word of the question.
var llmAnswers = []struct{ word, answer string }{
	{"机洗", "可以机洗的，建议装洗衣袋、冷水轻柔模式哦~"},
	{"粉色", "粉色有货的，下单时选颜色就可以啦[比心]"},
	{"保温", "保温6小时左右，冬天放车里也够用~"},
	{"送人", "很适合送人，还有礼盒包装可以选哦[玫瑰]"},
	{"联系", "有问题可以加微信 demo-shop-123 找客服哦"}, // reject_if stops this one
	{"小孩", "小朋友也可以用，材质是食品级的，放心~"},
}

func (l *LLM) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != LLMPath {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if l.key != "" {
		auth, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(auth), []byte(l.key)) != 1 {
			llmError(w, http.StatusUnauthorized, "invalid_api_key", "Incorrect API key provided.")
			return
		}
	}
	var req struct {
		Model    string `json:"model"`
		Messages []struct {
			Role    string `json:"role"`
			Content string `json:"content"`
		} `json:"messages"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil || len(req.Messages) == 0 {
		llmError(w, http.StatusBadRequest, "invalid_request_error", "messages: required")
		return
	}
	if req.Model != l.Model {
		llmError(w, http.StatusNotFound, "model_not_found", "The model does not exist.")
		return
	}
	var prompt, question strings.Builder
	for _, m := range req.Messages {
		prompt.WriteString(m.Content)
		if m.Role == "user" {
			question.WriteString(m.Content)
		}
	}
	answer := "感谢关注！这个问题我帮您确认一下，稍后回复您哦~"
	for _, a := range llmAnswers {
		if strings.Contains(question.String(), a.word) {
			answer = a.answer
			break
		}
	}
	l.mu.Lock()
	l.calls++
	l.mu.Unlock()
	pt, ct := utf8.RuneCountInString(prompt.String())/2+1, utf8.RuneCountInString(answer)/2+1
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"id": "chatcmpl-sim", "object": "chat.completion", "created": time.Now().Unix(), "model": l.Model,
		"choices": []any{map[string]any{"index": 0, "finish_reason": "stop",
			"message": map[string]any{"role": "assistant", "content": answer}}},
		"usage": map[string]any{"prompt_tokens": pt, "completion_tokens": ct, "total_tokens": pt + ct},
	})
}

// llmError writes an OpenAI-shaped error.
func llmError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": msg, "type": code, "code": code}})
}
