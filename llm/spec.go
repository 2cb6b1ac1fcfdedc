package llm

import (
	"fmt"
	"math"
	"net"
	"net/url"
	"regexp"
	"strings"
	"time"

	"golang.org/x/time/rate"
)

// Defaults of a Spec's optional keys.
const (
	// DefaultTimeout bounds one request: a hosted model drafts a short
	// answer in a few seconds; a local one on a CPU may take twenty.
	DefaultTimeout = 30 * time.Second
	// DefaultMaxTokens bounds an answer: a comment reply is one or two
	// sentences (100 Chinese characters is about 70 to 150 tokens).
	DefaultMaxTokens = 200
	// DefaultTemperature keeps drafts close to the operator's facts while
	// not repeating one sentence word for word.
	DefaultTemperature = 0.3
	// DefaultRateText is the default rate as the config writes it: the
	// hosted APIs allow far more; a flood of drafts is the budget's
	// problem, not a throughput goal.
	DefaultRateText = "30/m"
	// DefaultBurst: one request at a time, evenly spaced.
	DefaultBurst = 1
)

// Bounds of a Spec's keys.
const (
	// MaxMaxTokens bounds max_tokens: a comment reply never needs more,
	// and every provider accepts it.
	MaxMaxTokens = 4096
	// MaxTemperature is the top of the OpenAI range (0..2).
	MaxTemperature = 2.0
	// maxTimeout keeps a hanging endpoint from holding a send slot long.
	maxTimeout = 10 * time.Minute
)

// DefaultRate is DefaultRateText as a rate.Limit (30 a minute).
var DefaultRate = rate.Every(2 * time.Second)

// Spec is one configured endpoint, the config's llm.NAME section. It is
// printed (%v, %+v, %#v, %s) without its API key.
type Spec struct {
	// Name is the section's name, as rules' draft.llm names it.
	Name string
	// BaseURL is the API's root, the chat completions path under it:
	// https://api.deepseek.com/v1,
	// https://dashscope.aliyuncs.com/compatible-mode/v1,
	// http://127.0.0.1:11434/v1 (Ollama).
	BaseURL string
	// APIKey is sent as "Authorization: Bearer KEY"; a secret. Empty sends
	// no Authorization header (a local server).
	APIKey string
	// Model is the model asked for (deepseek-chat, qwen-plus, ...).
	Model string
	// Timeout bounds one request, the answer included (0: DefaultTimeout).
	Timeout time.Duration
	// MaxTokens is the most tokens of an answer (0: DefaultMaxTokens).
	MaxTokens int
	// Temperature is sent as it is: 0 is a temperature. The config fills
	// DefaultTemperature when the key is absent.
	Temperature float64
	// Rate is the most requests a second (0: DefaultRate); the config
	// parses llm.NAME.rate ("30/m") into it.
	Rate rate.Limit
	// Burst is how many requests may start at once (0: DefaultBurst).
	Burst int
	// DailyTokens is the endpoint's daily budget of tokens, prompt and
	// completion together (0: none). The client does not enforce it: the
	// caller counts the tokens its drafts used (the store keeps them) and
	// stops asking past it.
	DailyTokens int64
}

// String names the endpoint without its key.
func (s Spec) String() string {
	return "llm." + s.Name + " (" + s.Model + " at " + shownURL(s.BaseURL) + ")"
}

// GoString is String: %#v must not print the key either.
func (s Spec) GoString() string { return s.String() }

// Format is String for every verb, so that %+v, %q and %x cannot reach
// the fields (fmt would print the key with %+v of a struct).
func (s Spec) Format(f fmt.State, verb rune) {
	switch verb {
	case 'q':
		_, _ = fmt.Fprintf(f, "%q", s.String())
	default:
		_, _ = f.Write([]byte(s.String()))
	}
}

// shownURL is a base URL as a message may show it: scheme, host and path,
// never a user, password or query.
func shownURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(an unreadable URL)"
	}
	u.User, u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = nil, "", false, "", ""
	return strings.TrimRight(u.String(), "/")
}

// WithDefaults fills the optional keys left at zero (Temperature is never
// zero by default: see its comment).
func (s Spec) WithDefaults() Spec {
	if s.Timeout == 0 {
		s.Timeout = DefaultTimeout
	}
	if s.MaxTokens == 0 {
		s.MaxTokens = DefaultMaxTokens
	}
	if s.Rate == 0 {
		s.Rate = DefaultRate
	}
	if s.Burst == 0 {
		s.Burst = DefaultBurst
	}
	return s
}

// validName is an endpoint name a rule's draft.llm can spell.
var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)

// Check returns the spec's problems, each naming its key
// ("llm.deepseek.model: missing"). No problem quotes the key.
func (s Spec) Check() []string {
	key := "llm." + s.Name
	var probs []string
	add := func(k, format string, args ...any) {
		probs = append(probs, key+k+": "+fmt.Sprintf(format, args...))
	}
	if !validName.MatchString(s.Name) {
		add("", "an endpoint name is 1 to 64 letters, digits, _ or -, starting with a letter or digit")
	}
	for _, p := range CheckBaseURL(s.BaseURL) {
		add(".base_url", "%s", p)
	}
	if strings.IndexFunc(s.APIKey, invisible) >= 0 {
		add(".api_key", "holds blanks or control characters (a key file's second line?)")
	}
	switch {
	case strings.TrimSpace(s.Model) == "":
		add(".model", "missing (the model's name at the provider, e.g. deepseek-chat or qwen-plus)")
	case strings.IndexFunc(s.Model, invisible) >= 0 || len(s.Model) > 200:
		add(".model", "not a model name (blanks, control characters or over 200 bytes)")
	}
	if s.Timeout < 0 || s.Timeout > maxTimeout {
		add(".timeout", "must be positive and at most %v", maxTimeout)
	}
	if s.MaxTokens < 0 || s.MaxTokens > MaxMaxTokens {
		add(".max_tokens", "must be from 1 to %d", MaxMaxTokens)
	}
	if t := s.Temperature; t < 0 || t > MaxTemperature || math.IsNaN(t) {
		add(".temperature", "must be from 0 to %g", MaxTemperature)
	}
	if r := float64(s.Rate); r < 0 || math.IsNaN(r) || math.IsInf(r, 0) {
		add(".rate", "must be a positive rate, e.g. %s", DefaultRateText)
	}
	if s.Burst < 0 {
		add(".burst", "must be 1 or more")
	}
	if s.DailyTokens < 0 {
		add(".daily_tokens", "must not be negative (0 means no budget)")
	}
	return probs
}

// CheckBaseURL returns the problems of an API base URL; none quotes it.
//
// Plain http is accepted for loopback and private-network hosts (a vLLM or
// Ollama on this machine or the LAN, where TLS is rarely set up) and
// refused elsewhere: over the internet it would carry the API key and
// every comment in clear text.
func CheckBaseURL(raw string) []string {
	if raw == "" {
		return []string{"missing (e.g. https://api.deepseek.com/v1)"}
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Opaque != "" {
		return []string{"not an absolute URL (https://host/v1)"}
	}
	var probs []string
	host := u.Hostname()
	switch {
	case host == "":
		probs = append(probs, "has no host")
	case strings.ContainsAny(host, " %"):
		probs = append(probs, "its host is not a host name")
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && host != "" && localHost(host):
	case u.Scheme == "http":
		probs = append(probs, "must be https (the key and the comments are secrets in transit); http is allowed only for loopback and private-network addresses (a local vLLM or Ollama)")
	default:
		probs = append(probs, "must be an https URL")
	}
	if u.User != nil {
		probs = append(probs, "must not hold a user name or password: the key goes in api_key or api_key_file")
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		probs = append(probs, "must not hold a query or a #fragment")
	}
	if strings.HasSuffix(strings.TrimRight(u.Path, "/"), "/chat/completions") {
		probs = append(probs, "is the API's root, without /chat/completions (e.g. https://api.deepseek.com/v1)")
	}
	return probs
}

// localHost says whether host is this machine or an address of a private
// network: localhost, a loopback, private (10/8, 172.16/12, 192.168/16,
// fc00::/7) or link-local address. A name other than localhost is not:
// where it resolves to is not known here.
func localHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && (ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast())
}

// invisible says whether r is a blank or control character.
func invisible(r rune) bool {
	return r <= ' ' || r == 0x7f || (r >= 0x80 && r <= 0xa0) || r == 0x2028 || r == 0x2029 || r == 0xfeff
}
