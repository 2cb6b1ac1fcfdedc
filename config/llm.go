package config

import (
	"reflect"
	"strings"
	"time"

	"github.com/autoreplyd/autoreplyd/llm"
	"github.com/autoreplyd/autoreplyd/rules"
)

// Defaults of an llm section's optional keys: package llm's.
const (
	DefaultLLMTimeout     = llm.DefaultTimeout
	DefaultLLMMaxTokens   = llm.DefaultMaxTokens
	DefaultLLMTemperature = llm.DefaultTemperature
	DefaultLLMRate        = llm.DefaultRateText
	DefaultLLMBurst       = llm.DefaultBurst
)

// LLMEndpoint is one `llm.<name>` section: an OpenAI-compatible chat
// completions API that rules' draft.llm names.
type LLMEndpoint struct {
	// Name is the section's name, as rules' draft.llm names it and
	// `resume llm:<name>` resumes it.
	Name string `koanf:"-" json:"name"`
	// BaseURL is the API's root (https://api.deepseek.com/v1); plain http
	// only for loopback and private addresses (a local vLLM or Ollama).
	BaseURL string `koanf:"base_url" json:"base_url"`
	// APIKey is the bearer key, also as api_key_file; optional (a local
	// server may take none).
	APIKey     Secret `koanf:"api_key" json:"api_key"`
	APIKeyFile string `koanf:"api_key_file" json:"api_key_file"`
	// Model is the model's name at the provider (deepseek-chat).
	Model string `koanf:"model" json:"model"`
	// Timeout bounds one request.
	Timeout time.Duration `koanf:"timeout" json:"timeout"`
	// MaxTokens bounds an answer (1 to 4096).
	MaxTokens int `koanf:"max_tokens" json:"max_tokens"`
	// Temperature is the sampling temperature (0 to 2).
	Temperature float64 `koanf:"temperature" json:"temperature"`
	// Rate is the most requests (N/s, N/m or N/h); Burst how many may
	// start at once.
	Rate  string `koanf:"rate" json:"rate"`
	Burst int    `koanf:"burst" json:"burst"`
	// DailyTokens is the daily budget of tokens, prompt and completion
	// together; 0: none.
	DailyTokens int64 `koanf:"daily_tokens" json:"daily_tokens"`
}

// Key is the section's key path ("llm.deepseek").
func (e *LLMEndpoint) Key() string { return "llm." + e.Name }

// Spec is the endpoint as package llm takes it. A rate that does not parse
// (Load has refused it) is left 0: llm's default.
func (e *LLMEndpoint) Spec() llm.Spec {
	lim, _ := ParseRate(e.Rate)
	return llm.Spec{Name: e.Name, BaseURL: e.BaseURL, APIKey: e.APIKey.Value(), Model: e.Model,
		Timeout: e.Timeout, MaxTokens: e.MaxTokens, Temperature: e.Temperature, Rate: lim, Burst: e.Burst,
		DailyTokens: e.DailyTokens}
}

// LLMEndpoint returns the endpoint named name, or nil.
func (c *Config) LLMEndpoint(name string) *LLMEndpoint {
	for _, e := range c.LLM {
		if e.Name == name {
			return e
		}
	}
	return nil
}

// llmKeys are the keys an llm section may hold, for "did you mean".
var llmKeys = func() []string {
	var out []string
	for k := range structFields(reflect.TypeFor[LLMEndpoint]()) {
		out = append(out, k)
	}
	return out
}()

// decodeLLM decodes the `llm` sections, sorted by name, with defaults for
// the keys not given. An unknown key's problem suggests the key meant.
func decodeLLM(raw any, cfg *Config, p *problems) {
	for _, sec := range sections("llm", raw, p) {
		e := &LLMEndpoint{Name: sec.name, Timeout: DefaultLLMTimeout, MaxTokens: DefaultLLMMaxTokens,
			Temperature: DefaultLLMTemperature, Rate: DefaultLLMRate, Burst: DefaultLLMBurst}
		var q problems
		decodeInto(sec.key, sec.body, e, &q)
		for _, k := range q {
			if k.Msg == "unknown key" {
				k.Msg += rules.Suggest(k.Key[strings.LastIndexByte(k.Key, '.')+1:], llmKeys)
			}
			p.add(k)
		}
		cfg.LLM = append(cfg.LLM, e)
	}
}

// llmSecretRefs are the endpoints' API keys: optional, a local server may
// take none.
func (c *Config) llmSecretRefs() []secretRef {
	var refs []secretRef
	for _, e := range c.LLM {
		refs = append(refs, secretRef{key: e.Key() + ".api_key", val: &e.APIKey, file: &e.APIKeyFile})
	}
	return refs
}

// validateLLM checks the llm sections: the keys a Spec cannot tell from
// its defaults here (max_tokens 0, a rate that does not parse), the rest by
// llm's own checks.
func (c *Config) validateLLM(p *problems) {
	for _, e := range c.LLM {
		k := e.Key()
		var q problems
		if _, err := ParseRate(e.Rate); err != nil {
			q.addf(k+".rate", "%v", err)
		}
		if e.Burst < 1 {
			q.addf(k+".burst", "must be at least 1")
		}
		if e.MaxTokens < 1 {
			q.addf(k+".max_tokens", "must be from 1 to %d", llm.MaxMaxTokens)
		}
		if e.Timeout <= 0 {
			q.addf(k+".timeout", "must be a positive duration, e.g. 30s")
		}
		for _, prob := range e.Spec().Check() {
			key, msg, ok := strings.Cut(prob, ": ")
			if !ok {
				key, msg = k, prob
			}
			if !q.covers(key) {
				q.addf(key, "%s", msg)
			}
		}
		for _, x := range q {
			p.add(x)
		}
	}
}
