package notify

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/autoreplyd/autoreplyd/rules"
)

// Channel types.
const (
	TypeWeCom    = "wecom"    // 企业微信群机器人
	TypeDingTalk = "dingtalk" // 钉钉自定义机器人
	TypeFeishu   = "feishu"   // 飞书 / Lark 自定义机器人
	TypeWebhook  = "webhook"  // a signed JSON POST to any URL
)

// Types are the channel types, in the order messages list them.
var Types = []string{TypeWeCom, TypeDingTalk, TypeFeishu, TypeWebhook}

// Defaults of a Spec's optional keys.
const (
	// DefaultRateText is the default rate as the config writes it. The
	// robots allow 20 messages a minute each (DingTalk then blocks the robot
	// for ten minutes); what is above the rate goes out as one digest.
	DefaultRateText = "20/m"
	// DefaultBurst: one message at a time, evenly spaced. A larger burst
	// lets a robot's minute hold more than its 20.
	DefaultBurst = 1
	// DefaultTimeout bounds one delivery: the robots answer in well under a
	// second; ten seconds is a network in trouble.
	DefaultTimeout = 10 * time.Second
	// maxTimeout keeps a hanging channel from holding its own queue for long.
	maxTimeout = 5 * time.Minute
)

// DefaultRate is DefaultRateText as a rate.Limit (20 a minute).
var DefaultRate = rate.Every(3 * time.Second)

// Spec is one configured channel, the config's notify.NAME section. It is
// printed (%v, %+v, %#v) without its URL and secret.
type Spec struct {
	Name string
	Type string // one of Types
	// URL is where messages go. For the robots it holds the robot's key or
	// token (WeCom ?key=, DingTalk ?access_token=, Feishu /hook/ID) and is a
	// secret; a webhook's is treated as one too (it may hold a token).
	URL string
	// Secret signs each message: DingTalk's 加签 secret (SEC...), Feishu's
	// 签名校验 secret, the webhook's HMAC key. Optional.
	Secret string
	// Template, when set, replaces the default text of a message about one
	// event: {{ expr }} segments over TemplateEnv's names, as in replies.
	Template string
	// Rate is the most messages a second the channel is sent (0:
	// DefaultRate); above it, events are batched into one digest message.
	// The config parses notify.NAME.rate ("20/m") into it.
	Rate rate.Limit
	// Burst is how many messages may go at once (0: DefaultBurst).
	Burst int
	// Timeout bounds one delivery (0: DefaultTimeout).
	Timeout time.Duration
	// Location is the timezone of times in messages (nil: time.Local).
	Location *time.Location
}

// String names the channel as messages do, without its URL or secret.
func (s Spec) String() string { return "notify." + s.Name + " (" + s.Type + ")" }

// GoString is String: %#v must not print the URL either.
func (s Spec) GoString() string { return s.String() }

// withDefaults fills the optional keys.
func (s Spec) withDefaults() Spec {
	if s.Rate == 0 {
		s.Rate = DefaultRate
	}
	if s.Burst == 0 {
		s.Burst = DefaultBurst
	}
	if s.Timeout == 0 {
		s.Timeout = DefaultTimeout
	}
	if s.Location == nil {
		s.Location = time.Local
	}
	return s
}

// validName is a channel name a rule's notify list can spell.
var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)

// Check returns the spec's problems, each naming its key
// ("notify.ops.url: ..."). No problem quotes the URL or the secret.
func (s Spec) Check() []string {
	key := "notify." + s.Name
	var probs []string
	add := func(k, format string, args ...any) {
		probs = append(probs, key+k+": "+fmt.Sprintf(format, args...))
	}
	if !validName.MatchString(s.Name) {
		add("", "a channel name is 1 to 64 letters, digits, _ or -, starting with a letter or digit")
	}
	known := false
	for _, t := range Types {
		known = known || s.Type == t
	}
	switch {
	case s.Type == "":
		add(".type", "missing (want wecom, dingtalk, feishu or webhook)")
	case !known:
		add(".type", "unknown type %q (want wecom, dingtalk, feishu or webhook)", cutRunes(clean(s.Type, maxIDRunes), maxIDRunes))
	}
	for _, p := range checkURL(s.Type, s.URL) {
		add(".url", "%s", p)
	}
	if strings.IndexFunc(s.Secret, invisible) >= 0 || strings.TrimSpace(s.Secret) != s.Secret {
		add(".secret", "holds blanks or control characters at its ends or inside (a secret file's trailing newline?)")
	}
	if s.Type == TypeWeCom && s.Secret != "" {
		add(".secret", "WeCom robots sign nothing: the key in the URL is the robot's only secret")
	}
	if s.Type == TypeDingTalk && s.Secret != "" && !strings.HasPrefix(s.Secret, "SEC") {
		add(".secret", "a DingTalk 加签 secret starts with SEC (copy it from the robot's security settings)")
	}
	if s.Template != "" {
		if _, err := rules.CompileTemplate(s.Template, TemplateEnv{}); err != nil {
			add(".template", "%v", err)
		}
	}
	if r := float64(s.Rate); r < 0 || math.IsNaN(r) || math.IsInf(r, 0) {
		add(".rate", "must be a positive rate, e.g. %s", DefaultRateText)
	}
	if s.Burst < 0 {
		add(".burst", "must be 1 or more")
	}
	if s.Timeout < 0 || s.Timeout > maxTimeout {
		add(".timeout", "must be positive and at most %v", maxTimeout)
	}
	return probs
}

// checkURL checks a channel's URL for its type. The problems never quote
// the URL: it holds the robot's key.
func checkURL(typ, raw string) []string {
	if raw == "" {
		return []string{"missing"}
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() {
		// url.Parse's error quotes the URL: say only that it is not one.
		return []string{"not an absolute URL (http(s)://host/...)"}
	}
	var probs []string
	host := u.Hostname()
	switch {
	case host == "":
		probs = append(probs, "has no host")
	case strings.ContainsAny(host, " %"):
		probs = append(probs, "its host is not a host name")
	}
	if port := u.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			probs = append(probs, "its port is not a number from 1 to 65535")
		}
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && loopback(host):
		// Loopback only: the imitations tests run against.
	case u.Scheme == "http":
		probs = append(probs, "must be https (the URL and the messages are secrets in transit); http is allowed only for loopback hosts")
	default:
		probs = append(probs, "must be an https URL")
	}
	if u.Fragment != "" {
		probs = append(probs, "must not have a #fragment")
	}
	if u.User != nil && typ != TypeWebhook {
		probs = append(probs, "must not hold a user name or password")
	}
	q := u.Query()
	switch typ {
	case TypeWeCom:
		if q.Get("key") == "" {
			probs = append(probs, "a WeCom robot URL ends in /cgi-bin/webhook/send?key=...: its key is missing")
		}
	case TypeDingTalk:
		if q.Get("access_token") == "" {
			probs = append(probs, "a DingTalk robot URL ends in /robot/send?access_token=...: its access_token is missing")
		}
		if q.Has("timestamp") || q.Has("sign") {
			probs = append(probs, "must not hold timestamp or sign: each message is signed with notify's secret")
		}
	case TypeFeishu:
		if feishuHookID(u) == "" {
			probs = append(probs, "a Feishu robot URL ends in /open-apis/bot/v2/hook/ID: its ID is missing")
		}
	}
	return probs
}

// loopback says whether host is this machine.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// feishuHookID is the hook id of a Feishu robot URL (the secret part of its
// path), or "".
func feishuHookID(u *url.URL) string {
	_, id, ok := strings.Cut(u.Path, "/hook/")
	if !ok || strings.Contains(id, "/") {
		return ""
	}
	return id
}

// New returns the channel spec describes, sending through hc (nil: a zero
// http.Client) on a fresh connection per message, following no redirect.
func New(spec Spec, hc *http.Client) (Channel, error) {
	if probs := spec.Check(); len(probs) > 0 {
		return nil, errors.New(strings.Join(probs, "; "))
	}
	spec = spec.withDefaults()
	c, err := newClient(spec, hc)
	if err != nil {
		return nil, err
	}
	switch spec.Type {
	case TypeWeCom:
		return &wecom{c}, nil
	case TypeDingTalk:
		return &dingtalk{c}, nil
	case TypeFeishu:
		return &feishu{c}, nil
	}
	return &webhook{c}, nil
}
