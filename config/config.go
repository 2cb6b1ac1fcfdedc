// Package config owns autoreplyd's configuration file: loading it with koanf,
// applying AUTOREPLYD_* environment overrides, resolving secrets (inline or
// *_file, with systemd's $CREDENTIALS_DIRECTORY), filling defaults and
// validating every key, so that the rest of the daemon receives a typed,
// checked Config or an error naming the file and the key.
package config

import (
	"net/url"
	"path"
	"time"

	"github.com/autoreplyd/autoreplyd/notify"
	"github.com/autoreplyd/autoreplyd/platform"
	_ "github.com/autoreplyd/autoreplyd/platform/all" // the platforms shipped
)

// Default values of the top-level keys.
const (
	DefaultConfigPath = "/etc/autoreplyd/config.yaml"
	DefaultDatabase   = "/var/lib/autoreplyd/autoreplyd.db"
	DefaultRules      = "/etc/autoreplyd/rules.yaml"
	DefaultSchedule   = "@every 1m"
	DefaultTimezone   = "Local"
	DefaultListen     = "127.0.0.1:9464"
	// MinRetention is the shortest retention other than 0: pacing (limits
	// per day, daily caps) counts the last day of answers.
	MinRetention = 24 * time.Hour
)

// Backlog policies: what to do with replies already present when a thread is
// first seen.
const (
	BacklogSkip   = platform.BacklogSkip
	BacklogAnswer = platform.BacklogAnswer
)

// The types every section shares are the platform contract's.
type (
	// Secret is a credential that never prints (platform.Secret).
	Secret = platform.Secret
	// Polling is how hard a source may press its platform (platform.Polling).
	Polling = platform.Polling
	// Adaptive is a source's adaptive polling (platform.Adaptive).
	Adaptive = platform.Adaptive
	// Pacing is a responder's rate limiting (platform.Pacing).
	Pacing = platform.Pacing
)

// Redacted is what a Secret prints instead of its value.
const Redacted = platform.Redacted

// Config is the whole, validated configuration.
type Config struct {
	// File is the absolute path of the file the config was loaded from.
	File string `koanf:"-" json:"file"`
	// InlineSecrets are the keys of the secrets written in the file itself
	// (not in a *_file or the environment), for check's warning when the
	// file is readable by others.
	InlineSecrets []string `koanf:"-" json:"-"`

	// Database is the SQLite file (a relative path is resolved against the
	// config file's directory), or a PostgreSQL URL (postgres://...),
	// which holds no password.
	Database string `koanf:"database" json:"database"`
	// DatabasePassword is PostgreSQL's password, read from
	// DatabasePasswordFile only (an inline key would sit beside the URL
	// in every copy of the config).
	DatabasePassword     Secret `koanf:"-" json:"-"`
	DatabasePasswordFile string `koanf:"database_password_file" json:"database_password_file,omitempty"`
	// Instance is this daemon's name among the daemons sharing one
	// database: its thread leases and its claims carry it. Default: the
	// host name, made fit (see DefaultInstance). Keep it stable across
	// restarts: a restarted daemon settles the claims of its own name.
	Instance string `koanf:"instance" json:"instance"`
	// Rules is a rules file or a directory of *.yaml files; relative paths
	// are resolved against the config file's directory.
	Rules string `koanf:"rules" json:"rules"`
	// Schedule is the poll cycle's cron spec (see Parser).
	Schedule string `koanf:"schedule" json:"schedule"`
	// Timezone is the IANA zone name for rule time helpers and active hours.
	Timezone string `koanf:"timezone" json:"timezone"`
	// Location is Timezone loaded; never nil after Load.
	Location *time.Location `koanf:"-" json:"-"`
	// DryRun evaluates rules and records answers without sending them.
	DryRun bool `koanf:"dry_run" json:"dry_run"`
	// Listen is the address of /metrics and the health endpoints; "" turns
	// the listener off.
	Listen string `koanf:"listen" json:"listen"`
	Log    Log    `koanf:"log" json:"log"`
	// Retry is the policy for retryable send failures.
	Retry Retry `koanf:"retry" json:"retry"`
	// Retention is how long finished claims are kept in the history (see
	// store.Prune); 0 keeps them forever.
	Retention time.Duration `koanf:"retention" json:"retention"`
	// SendJitter is the longest random pause before each send, so answers
	// do not go out in a machine-regular rhythm; 0 turns it off.
	SendJitter time.Duration `koanf:"send_jitter" json:"send_jitter"`

	// Approval governs answers held for a person's approval.
	Approval Approval `koanf:"approval" json:"approval"`
	// Console is the web console (`console:`); nil without the section.
	Console *Console `koanf:"console" json:"console"`
	// Notify are the notification channels (`notify.<name>`), sorted by
	// name.
	Notify []*NotifyChannel `koanf:"-" json:"notify"`
	// LLM are the language model endpoints (`llm.<name>`), sorted by name.
	LLM []*LLMEndpoint `koanf:"-" json:"llm"`

	// Sources and Responders are the configured sections, sorted by name.
	// Each holds the section type its platform declares (see package
	// platform); a section's name is free, its type names the platform.
	Sources    []*Source    `koanf:"-" json:"sources"`
	Responders []*Responder `koanf:"-" json:"responders"`
}

// Source is one `sources.<name>` section.
type Source struct {
	// Name is the section's name: the source's name in pauses, metrics,
	// logs and `resume source:<name>`.
	Name string `json:"name"`
	// Type is the platform type ("douyin"): the section's `type`, else its
	// name.
	Type string `json:"type"`
	// Spec is the type's registration.
	Spec *platform.SourceSpec `json:"-"`
	// Section is the decoded section, of the type Spec declares.
	Section platform.SourceSection `json:"section"`
}

// Platform is the platform of the comments the source lists.
func (s *Source) Platform() string { return s.Spec.Platform }

// Key is the section's key path ("sources.douyin").
func (s *Source) Key() string { return "sources." + s.Name }

// Responder is one `responders.<name>` section.
type Responder struct {
	// Name is the section's name: the responder's name in history, pauses,
	// metrics, rules' `via` and `resume responder:<name>`.
	Name string `json:"name"`
	// Type is the responder type ("kitkot").
	Type    string                    `json:"type"`
	Spec    *platform.ResponderSpec   `json:"-"`
	Section platform.ResponderSection `json:"section"`
}

// Key is the section's key path ("responders.kitkot").
func (r *Responder) Key() string { return "responders." + r.Name }

// Source returns the source section named name, or nil.
func (c *Config) Source(name string) *Source {
	for _, s := range c.Sources {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// Responder returns the responder section named name, or nil.
func (c *Config) Responder(name string) *Responder {
	for _, r := range c.Responders {
		if r.Name == name {
			return r
		}
	}
	return nil
}

// Approval governs answers held for approval (rules with approve: true).
type Approval struct {
	// MaxAge is how long a held answer may wait: older, it is recorded
	// expired and never sent (a late answer reads as spam).
	MaxAge time.Duration `koanf:"max_age" json:"max_age"`
}

// NotifyChannel is one `notify.<name>` section.
type NotifyChannel struct {
	// Name is the section's name, as rules' notify lists it.
	Name string `koanf:"-" json:"name"`
	// Type is one of notify.Types: wecom (企业微信群机器人), dingtalk
	// (钉钉自定义机器人), feishu (飞书自定义机器人), webhook.
	Type string `koanf:"type" json:"type"`
	// URL is the robot's webhook URL. A robot's URL holds its key or
	// access token: a secret, also as url_file.
	URL     platform.Secret `koanf:"url" json:"url"`
	URLFile string          `koanf:"url_file" json:"url_file"`
	// Secret signs messages: DingTalk's 加签 (SEC...), Feishu's 签名校验,
	// the webhook's HMAC key. Optional.
	Secret     platform.Secret `koanf:"secret" json:"secret"`
	SecretFile string          `koanf:"secret_file" json:"secret_file"`
	// Template replaces the default message text ({{ }} like replies).
	Template string `koanf:"template" json:"template"`
	// Rate is the most messages a minute (N/s, N/m or N/h); above it
	// messages are batched into one digest.
	Rate string `koanf:"rate" json:"rate"`
	// Timeout bounds one delivery.
	Timeout time.Duration `koanf:"timeout" json:"timeout"`
}

// Key is the section's key path ("notify.ops").
func (n *NotifyChannel) Key() string { return "notify." + n.Name }

// Spec is the channel as package notify takes it; times in its messages
// are shown in loc. The error is the rate's (Load has refused a bad one).
func (n *NotifyChannel) Spec(loc *time.Location) (notify.Spec, error) {
	lim, err := ParseRate(n.Rate)
	return notify.Spec{Name: n.Name, Type: n.Type, URL: n.URL.Value(), Secret: n.Secret.Value(),
		Template: n.Template, Rate: lim, Timeout: n.Timeout, Location: loc}, err
}

// NotifyChannel returns the channel named name, or nil.
func (c *Config) NotifyChannel(name string) *NotifyChannel {
	for _, n := range c.Notify {
		if n.Name == name {
			return n
		}
	}
	return nil
}

// Log configures log/slog output.
type Log struct {
	// Level is debug, info, warn or error.
	Level string `koanf:"level" json:"level"`
	// Format is text or json.
	Format string `koanf:"format" json:"format"`
}

// Retry is how retryable send failures are retried: on later cycles, after
// an exponential backoff with jitter from InitialDelay up to MaxDelay, until
// MaxAttempts sends or MaxAge after the claim, then recorded failed.
type Retry struct {
	MaxAttempts  int           `koanf:"max_attempts" json:"max_attempts"`
	MaxAge       time.Duration `koanf:"max_age" json:"max_age"`
	InitialDelay time.Duration `koanf:"initial_delay" json:"initial_delay"`
	MaxDelay     time.Duration `koanf:"max_delay" json:"max_delay"`
}

// Secrets returns every non-empty secret value, for scrubbing logs.
func (c *Config) Secrets() []string {
	var out []string
	for _, ref := range c.secretRefs() {
		if *ref.val != "" {
			out = append(out, ref.val.Value())
		}
	}
	// A robot's key is a part of its URL (WeCom's key=, DingTalk's
	// access_token=, Feishu's last path segment): each part is a secret
	// on its own, wherever it shows up without the rest.
	for _, n := range c.Notify {
		out = append(out, urlSecrets(n.URL.Value())...)
	}
	return out
}

// urlSecrets are the parts of a webhook URL that hold its key: its query
// values and its last path segment, when long enough to be a key.
func urlSecrets(raw string) []string {
	u, err := url.Parse(raw)
	if err != nil {
		return nil
	}
	var out []string
	for _, vs := range u.Query() {
		for _, v := range vs {
			if len(v) >= 8 {
				out = append(out, v)
			}
		}
	}
	if seg := path.Base(u.Path); len(seg) >= 16 {
		out = append(out, seg)
	}
	if p, ok := u.User.Password(); ok && p != "" {
		out = append(out, p)
	}
	return out
}
