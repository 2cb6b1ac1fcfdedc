package config

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/autoreplyd/autoreplyd/llm"
)

const secretLLMKey = "sk-s3cr3t-deepseek-5c6d7e8f"

func TestLLMEndpoints(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// A key file beside the config, read relative to it, its newline trimmed.
	writeSecretFile(t, filepath.Join(dir, "deepseek-key"), []byte(secretLLMKey+"\n"), 0o600)
	path := filepath.Join(dir, "config.yaml")
	writeSecretFile(t, path, []byte(with(t, `
llm:
  deepseek:
    base_url: https://api.deepseek.com/v1/
    api_key_file: deepseek-key
    model: deepseek-chat
    timeout: 20s
    max_tokens: 300
    temperature: 0
    rate: 10/m
    burst: 2
    daily_tokens: 200000
  ollama:
    base_url: http://127.0.0.1:11434/v1
    model: qwen2.5:7b
`)), 0o600)
	cfg, err := Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range cfg.LLM {
		names = append(names, e.Key())
	}
	if !slices.Equal(names, []string{"llm.deepseek", "llm.ollama"}) {
		t.Fatalf("endpoints = %v", names)
	}
	got := cfg.LLMEndpoint("deepseek").Spec()
	want := llm.Spec{Name: "deepseek", BaseURL: "https://api.deepseek.com/v1/", APIKey: secretLLMKey, Model: "deepseek-chat",
		Timeout: 20 * time.Second, MaxTokens: 300, Temperature: 0, Rate: rate.Limit(10.0 / 60), Burst: 2, DailyTokens: 200000}
	if got != want {
		t.Errorf("spec = key ok %v, %s", got.APIKey == secretLLMKey, fieldsOf(got))
	}
	// The defaults, and no key for a local server.
	o := cfg.LLMEndpoint("ollama").Spec()
	if o.APIKey != "" || o.Timeout != llm.DefaultTimeout || o.MaxTokens != llm.DefaultMaxTokens ||
		o.Temperature != llm.DefaultTemperature || o.Rate != llm.DefaultRate || o.Burst != llm.DefaultBurst || o.DailyTokens != 0 {
		t.Errorf("ollama = %+v", fieldsOf(o))
	}
	if cfg.LLMEndpoint("nope") != nil {
		t.Error("an endpoint that is not configured was found")
	}
	// The key scrubs logs, and is shown nowhere.
	if !slices.Contains(cfg.Secrets(), secretLLMKey) {
		t.Error("the API key is not among Secrets()")
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{string(b), cfg.String(), fmt.Sprintf("%+v %#v", cfg.LLM[0], cfg.LLM[0]), fmt.Sprintf("%+v", got)} {
		if strings.Contains(out, secretLLMKey) {
			t.Errorf("the API key is shown: %s", out)
		}
	}
	if !strings.Contains(string(b), `"model":"deepseek-chat"`) {
		t.Errorf("json = %s", b)
	}
	// Every spec the config accepts, llm accepts.
	for _, e := range cfg.LLM {
		if _, err := llm.New(e.Spec()); err != nil {
			t.Errorf("llm.New(%s): %v", e.Key(), err)
		}
	}
}

// fieldsOf is a Spec's fields without its key, for failure messages (a
// Spec prints as its name only).
func fieldsOf(s llm.Spec) string {
	return fmt.Sprintf("{%s %s %s %v %d %v %v %d %d}", s.Name, s.BaseURL, s.Model, s.Timeout, s.MaxTokens,
		s.Temperature, s.Rate, s.Burst, s.DailyTokens)
}

func TestLLMEndpointErrors(t *testing.T) {
	t.Parallel()
	msg := loadErr(t, with(t, `
llm:
  deepseek:
    base_url: http://api.deepseek.com/v1
    api_key: `+secretLLMKey+`
    api_key_file: /nonexistent
  qwen:
    base_url: https://dashscope.aliyuncs.com/compatible-mode/v1/chat/completions
    model: qwen-plus
    max_tokens: 5000
    temperature: 2.5
    rate: lots
    burst: 0
    daily_tokens: -1
    timeout: 0s
  moonshot:
    base_url: https://api.moonshot.cn/v1
    model: moonshot-v1-8k
    max_token: 100
    temperatur: 0.2
    max_tokens: 0
  "Bad Name":
    model: x
`))
	wantContains(t, msg,
		`llm.deepseek.model: missing`,
		`llm.deepseek.base_url: must be https`,
		`llm.deepseek.api_key: set either api_key or api_key_file, not both`,
		`llm.qwen.base_url: is the API's root, without /chat/completions`,
		`llm.qwen.max_tokens: must be from 1 to 4096`,
		`llm.qwen.temperature: must be from 0 to 2`,
		`llm.qwen.rate: "lots"`,
		`llm.qwen.burst: must be at least 1`,
		`llm.qwen.daily_tokens: must not be negative`,
		`llm.qwen.timeout: must be a positive duration`,
		`llm.moonshot.max_token: unknown key (did you mean "max_tokens"?)`,
		`llm.moonshot.temperatur: unknown key (did you mean "temperature"?)`,
		`llm.moonshot.max_tokens: must be from 1 to 4096`,
		`is not a section name`,
	)
	if strings.Contains(msg, secretLLMKey) {
		t.Errorf("an error shows the API key:\n%s", msg)
	}
	// One problem per key.
	if n := strings.Count(msg, "llm.qwen.max_tokens:"); n != 1 {
		t.Errorf("llm.qwen.max_tokens reported %d times:\n%s", n, msg)
	}
}

func TestLLMKeyFromEnvAndCredentials(t *testing.T) {
	t.Parallel()
	cred := t.TempDir()
	writeSecretFile(t, filepath.Join(cred, "qwen-key"), []byte("sk-from-credentials\n"), 0o600)
	content := with(t, `
llm:
  qwen:
    base_url: https://dashscope.aliyuncs.com/compatible-mode/v1
    api_key_file: qwen-key
    model: qwen-plus
`)
	cfg := mustLoad(t, content, "CREDENTIALS_DIRECTORY="+cred, "AUTOREPLYD_LLM__QWEN__MODEL=qwen-max")
	if s := cfg.LLMEndpoint("qwen").Spec(); s.APIKey != "sk-from-credentials" || s.Model != "qwen-max" {
		t.Errorf("qwen = %v %v", s.APIKey == "sk-from-credentials", s.Model)
	}
	// An inline key is named for check's warning about readable files.
	cfg = mustLoad(t, with(t, `
llm:
  deepseek:
    base_url: https://api.deepseek.com/v1
    api_key: `+secretLLMKey+`
    model: deepseek-chat
`))
	if !slices.Contains(cfg.InlineSecrets, "llm.deepseek.api_key") {
		t.Errorf("inline secrets = %v", cfg.InlineSecrets)
	}
}
