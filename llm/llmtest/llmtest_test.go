package llmtest_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/autoreplyd/autoreplyd/llm/llmtest"
)

// post sends body to path with key and decodes the answer.
func post(t *testing.T, s *llmtest.Server, path, key, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.BaseURL()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var v map[string]any
	_ = json.Unmarshal(b, &v)
	return resp.StatusCode, v
}

const body = `{"model":"imitation-chat","messages":[{"role":"system","content":"你是客服"},{"role":"user","content":"有黑色吗？"}],"max_tokens":64,"temperature":0.3}`

func TestServerAnswersAndCounts(t *testing.T) {
	t.Parallel()
	s := llmtest.New(t)
	s.Queue(llmtest.Reasoning("想一想", "有的"))
	status, v := post(t, s, "/chat/completions", s.Key(), body)
	if status != 200 {
		t.Fatalf("status %d: %v", status, v)
	}
	choice := v["choices"].([]any)[0].(map[string]any)
	msg := choice["message"].(map[string]any)
	if msg["content"] != "有的" || msg["reasoning_content"] != "想一想" || choice["finish_reason"] != "stop" {
		t.Errorf("answer = %v", v)
	}
	usage := v["usage"].(map[string]any)
	// 4 + 2 ("你是客服") + 4 + 3 ("有黑色吗？"); 1 ("有的") + 2 ("想一想").
	if usage["prompt_tokens"] != 13.0 || usage["completion_tokens"] != 3.0 || usage["total_tokens"] != 16.0 {
		t.Errorf("usage = %v", usage)
	}
	if p, c := s.Tokens(); p != 13 || c != 3 {
		t.Errorf("Tokens = %d/%d", p, c)
	}
	r := s.Requests()[0]
	if !r.Authorized || r.MaxTokens != 64 || *r.Temperature != 0.3 || len(r.Messages) != 2 || r.Messages[1].Content != "有黑色吗？" {
		t.Errorf("recorded %+v", r)
	}
	// The default answer for the next one.
	if _, v := post(t, s, "/chat/completions", s.Key(), body); !bytes.Contains(mustJSON(t, v), []byte("感谢关注")) {
		t.Errorf("default answer = %v", v)
	}
}

func TestServerRefusesAndEchoes(t *testing.T) {
	t.Parallel()
	s := llmtest.New(t)
	s.Queue(llmtest.OK("queued for a good request"))
	status, v := post(t, s, "/chat/completions", "sk-wrong", body)
	if status != 401 || !strings.Contains(string(mustJSON(t, v)), "Bearer sk-wrong") {
		t.Errorf("wrong key: %d %v", status, v)
	}
	if status, _ := post(t, s, "/completions", s.Key(), body); status != 404 {
		t.Errorf("wrong path: %d", status)
	}
	if status, v := post(t, s, "/chat/completions", s.Key(), strings.Replace(body, "imitation-chat", "gpt-9", 1)); status != 404 ||
		!strings.Contains(string(mustJSON(t, v)), "model_not_found") {
		t.Errorf("wrong model: %d %v", status, v)
	}
	// The refused requests did not use the queued behaviour.
	_, v = post(t, s, "/chat/completions", s.Key(), body)
	if !strings.Contains(string(mustJSON(t, v)), "queued for a good request") {
		t.Errorf("answer = %v", v)
	}
	if p, _ := s.Tokens(); p != 13 {
		t.Errorf("prompt tokens %d: errors were billed", p)
	}
	s.Queue(llmtest.Status(429), llmtest.ProviderStatus(401))
	if status, v := post(t, s, "/chat/completions", s.Key(), body); status != 429 || !strings.Contains(string(mustJSON(t, v)), s.Key()) {
		t.Errorf("429: %d %v", status, v)
	}
	if status, v := post(t, s, "/chat/completions", s.Key(), body); status != 401 || v["code"] != "InvalidApiKey" {
		t.Errorf("provider 401: %d %v", status, v)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
