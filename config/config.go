// Package config owns autoreplyd's configuration file: loading it with koanf,
// applying AUTOREPLYD_* environment overrides, resolving secrets (inline or
// *_file, with systemd's $CREDENTIALS_DIRECTORY), filling defaults and
// validating every key, so that the rest of the daemon receives a typed,
// checked Config or an error naming the file and the key.
package config

import (
	"time"

	"golang.org/x/time/rate"
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
	BacklogSkip   = "skip"
	BacklogAnswer = "answer"
)

// Responder section names, as used by a source's `responder` key.
const (
	ResponderKitkot = "kitkot"
	ResponderWechat = "wechat"
	ResponderWeibo  = "weibo"
)

// WeChat access-token APIs (sources.wechat.token_api, responders.wechat.token_api).
const (
	WechatTokenStable = "stable" // POST /cgi-bin/stable_token (default)
	WechatTokenLegacy = "legacy" // GET /cgi-bin/token
)

// Weibo responder API versions.
const (
	WeiboAPIV1 = "v1"
	WeiboAPIV2 = "v2"
)

// Config is the whole, validated configuration.
type Config struct {
	// File is the absolute path of the file the config was loaded from.
	File string `koanf:"-" json:"file"`
	// InlineSecrets are the keys of the secrets written in the file itself
	// (not in a *_file or the environment), for check's warning when the
	// file is readable by others.
	InlineSecrets []string `koanf:"-" json:"-"`

	// Database is the SQLite file; a relative path is resolved against the
	// config file's directory.
	Database string `koanf:"database" json:"database"`
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

	Sources    Sources    `koanf:"sources" json:"sources"`
	Responders Responders `koanf:"responders" json:"responders"`
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

// Sources holds one section per platform; a nil section is not configured.
type Sources struct {
	Douyin *DouyinSource `koanf:"douyin" json:"douyin,omitempty"`
	TikTok *TikTokSource `koanf:"tiktok" json:"tiktok,omitempty"`
	Wechat *WechatSource `koanf:"wechat" json:"wechat,omitempty"`
	Weibo  *WeiboSource  `koanf:"weibo" json:"weibo,omitempty"`
}

// DouyinSource polls Douyin comment threads through JustOneAPI.
type DouyinSource struct {
	BaseURL   string `koanf:"base_url" json:"base_url"`
	Token     Secret `koanf:"token" json:"token"`
	TokenFile string `koanf:"token_file" json:"token_file,omitempty"`
	// Responder names the responders section that answers this source.
	Responder string `koanf:"responder" json:"responder"`
	// SelfUIDs are our own accounts, never answered.
	SelfUIDs []string `koanf:"self_uids" json:"self_uids"`
	// Backlog is BacklogSkip or BacklogAnswer.
	Backlog string        `koanf:"backlog" json:"backlog"`
	Timeout time.Duration `koanf:"timeout" json:"timeout"`
	// MaxPages caps the pages fetched per poll of one thread.
	MaxPages int `koanf:"max_pages" json:"max_pages"`
	// FullRescanEvery is the number of polls between full rescans of a
	// thread (a safety net against unstable paging); 0 turns it off.
	FullRescanEvery int      `koanf:"full_rescan_every" json:"full_rescan_every"`
	Threads         []Thread `koanf:"threads" json:"threads"`
	Polling         `koanf:",squash"`
	// StopPause is how long a credentials or balance refusal (JustOneAPI
	// 100/300/600/601/602) is persisted as a pause of the source.
	StopPause time.Duration `koanf:"stop_pause" json:"stop_pause"`
	Adaptive  `koanf:",squash"`
}

// Polling is how hard a source may press its platform: every section of
// sources has it.
type Polling struct {
	// Rate bounds the source's API calls (every page of every thread):
	// N/s, N/m or N/h.
	Rate string `koanf:"rate" json:"rate"`
	// RateLimit is Rate parsed.
	RateLimit rate.Limit `koanf:"-" json:"rate_limit"`
	// Burst is the token bucket size of Rate.
	Burst int `koanf:"burst" json:"burst"`
	// Concurrency bounds the threads polled at once (the rate limit
	// still applies to every call).
	Concurrency int `koanf:"concurrency" json:"concurrency"`
}

// Adaptive is a source's adaptive polling: a thread whose last QuietPolls
// polls found nothing new is polled less and less often (each interval twice
// the last), down to once every MaxInterval, and every cycle again once a
// poll finds something.
type Adaptive struct {
	// MaxInterval is the longest time between two polls of a quiet thread;
	// 0 turns adaptive polling off (every thread is polled every cycle).
	MaxInterval time.Duration `koanf:"max_interval" json:"max_interval"`
	// QuietPolls is how many polls in a row must find nothing new before a
	// thread backs off; at least 1.
	QuietPolls int `koanf:"quiet_polls" json:"quiet_polls"`
}

// TikTokSource polls TikTok comment threads through kitkot.
type TikTokSource struct {
	BaseURL         string        `koanf:"base_url" json:"base_url"`
	APIKey          Secret        `koanf:"api_key" json:"api_key"`
	APIKeyFile      string        `koanf:"api_key_file" json:"api_key_file,omitempty"`
	Responder       string        `koanf:"responder" json:"responder"`
	SelfUIDs        []string      `koanf:"self_uids" json:"self_uids"`
	Backlog         string        `koanf:"backlog" json:"backlog"`
	Timeout         time.Duration `koanf:"timeout" json:"timeout"`
	MaxPages        int           `koanf:"max_pages" json:"max_pages"`
	FullRescanEvery int           `koanf:"full_rescan_every" json:"full_rescan_every"`
	Threads         []Thread      `koanf:"threads" json:"threads"`
	Polling         `koanf:",squash"`
	Adaptive        `koanf:",squash"`
}

// Thread is one watched top-level comment whose replies are polled.
type Thread struct {
	// CommentID is the top-level comment's id, all digits.
	CommentID string `koanf:"comment_id" json:"comment_id"`
	// AwemeID is the video's id, all digits; optional.
	AwemeID string            `koanf:"aweme_id" json:"aweme_id,omitempty"`
	Labels  map[string]string `koanf:"labels" json:"labels,omitempty"`
}

// WechatSource polls comments of WeChat Official Account articles.
type WechatSource struct {
	BaseURL       string `koanf:"base_url" json:"base_url"`
	AppID         string `koanf:"app_id" json:"app_id"`
	AppSecret     Secret `koanf:"app_secret" json:"app_secret"`
	AppSecretFile string `koanf:"app_secret_file" json:"app_secret_file,omitempty"`
	// TokenAPI is WechatTokenStable (POST /cgi-bin/stable_token) or
	// WechatTokenLegacy (GET /cgi-bin/token, which invalidates the previous
	// token on every call).
	TokenAPI  string        `koanf:"token_api" json:"token_api"`
	Responder string        `koanf:"responder" json:"responder"`
	Backlog   string        `koanf:"backlog" json:"backlog"`
	Timeout   time.Duration `koanf:"timeout" json:"timeout"`
	Articles  []Article     `koanf:"articles" json:"articles"`
	Polling   `koanf:",squash"`
	Adaptive  `koanf:",squash"`
}

// Article is one watched WeChat article (a msg_data_id and its index).
type Article struct {
	MsgDataID string            `koanf:"msg_data_id" json:"msg_data_id"`
	Index     int               `koanf:"index" json:"index"`
	Labels    map[string]string `koanf:"labels" json:"labels,omitempty"`
}

// WeiboSource polls comments of watched weibos.
type WeiboSource struct {
	BaseURL         string        `koanf:"base_url" json:"base_url"`
	AccessToken     Secret        `koanf:"access_token" json:"access_token"`
	AccessTokenFile string        `koanf:"access_token_file" json:"access_token_file,omitempty"`
	Responder       string        `koanf:"responder" json:"responder"`
	SelfUIDs        []string      `koanf:"self_uids" json:"self_uids"`
	Backlog         string        `koanf:"backlog" json:"backlog"`
	Timeout         time.Duration `koanf:"timeout" json:"timeout"`
	Weibos          []Weibo       `koanf:"weibos" json:"weibos"`
	Polling         `koanf:",squash"`
	Adaptive        `koanf:",squash"`
}

// Weibo is one watched weibo (status).
type Weibo struct {
	ID     string            `koanf:"id" json:"id"`
	Labels map[string]string `koanf:"labels" json:"labels,omitempty"`
}

// Responders holds one section per responder; a nil section is not
// configured.
type Responders struct {
	Kitkot *KitkotResponder `koanf:"kitkot" json:"kitkot,omitempty"`
	Wechat *WechatResponder `koanf:"wechat" json:"wechat,omitempty"`
	Weibo  *WeiboResponder  `koanf:"weibo" json:"weibo,omitempty"`
}

// Pacing is the rate limiting shared by every responder.
type Pacing struct {
	// Rate is the token bucket refill as written: N/s, N/m or N/h.
	Rate string `koanf:"rate" json:"rate"`
	// RateLimit is Rate parsed.
	RateLimit rate.Limit `koanf:"-" json:"rate_limit"`
	// Burst is the token bucket size.
	Burst int `koanf:"burst" json:"burst"`
	// DailyCap is the most answers per day; 0 means no cap.
	DailyCap int `koanf:"daily_cap" json:"daily_cap"`
	// AvoidRepeat: a reply with variants avoids the texts this responder
	// account posted in its last AvoidRepeat answers, so identical text is
	// never posted back to back; 0 turns it off.
	AvoidRepeat int `koanf:"avoid_repeat" json:"avoid_repeat"`
	// BreakerFailures permanent refusals in a row pause the responder for
	// BreakerPause; 0 turns the breaker off.
	BreakerFailures int           `koanf:"breaker_failures" json:"breaker_failures"`
	BreakerPause    time.Duration `koanf:"breaker_pause" json:"breaker_pause"`
}

// KitkotResponder answers with kitkot's aweme reply API.
type KitkotResponder struct {
	BaseURL        string        `koanf:"base_url" json:"base_url"`
	APIKey         Secret        `koanf:"api_key" json:"api_key"`
	APIKeyFile     string        `koanf:"api_key_file" json:"api_key_file,omitempty"`
	SessionKey     Secret        `koanf:"session_key" json:"session_key"`
	SessionKeyFile string        `koanf:"session_key_file" json:"session_key_file,omitempty"`
	Timeout        time.Duration `koanf:"timeout" json:"timeout"`
	// MaxLength is the longest reply sent, in runes; longer ones fail
	// (too_long) without a request.
	MaxLength int `koanf:"max_length" json:"max_length"`
	Pacing    `koanf:",squash"`
}

// WechatResponder answers WeChat article comments.
type WechatResponder struct {
	BaseURL       string `koanf:"base_url" json:"base_url"`
	AppID         string `koanf:"app_id" json:"app_id"`
	AppSecret     Secret `koanf:"app_secret" json:"app_secret"`
	AppSecretFile string `koanf:"app_secret_file" json:"app_secret_file,omitempty"`
	// TokenAPI: as WechatSource.TokenAPI.
	TokenAPI string        `koanf:"token_api" json:"token_api"`
	Timeout  time.Duration `koanf:"timeout" json:"timeout"`
	// MaxLength is the longest reply sent, in runes; longer ones fail
	// (too_long) without a call. WeChat's real limit is not documented.
	MaxLength int `koanf:"max_length" json:"max_length"`
	Pacing    `koanf:",squash"`
}

// WeiboResponder answers Weibo comments, with the v1 (statuses/reply, basic
// auth) or the v2 (comments/reply, OAuth2 token) API.
type WeiboResponder struct {
	// API is WeiboAPIV1 or WeiboAPIV2.
	API             string `koanf:"api" json:"api"`
	BaseURL         string `koanf:"base_url" json:"base_url"`
	AccessToken     Secret `koanf:"access_token" json:"access_token"`
	AccessTokenFile string `koanf:"access_token_file" json:"access_token_file,omitempty"`
	// AppKey is sent as `source` by the v1 API.
	AppKey       string `koanf:"app_key" json:"app_key"`
	Username     string `koanf:"username" json:"username"`
	Password     Secret `koanf:"password" json:"password"`
	PasswordFile string `koanf:"password_file" json:"password_file,omitempty"`
	// WithoutMention asks Weibo not to prefix replies with "回复@name:"
	// (without_mention=1): the whole 140 characters go to the text.
	WithoutMention bool `koanf:"without_mention" json:"without_mention"`
	// RIP is the acting user's IP, sent as `rip` by the v2 API when set.
	RIP     string        `koanf:"rip" json:"rip,omitempty"`
	Timeout time.Duration `koanf:"timeout" json:"timeout"`
	Pacing  `koanf:",squash"`
}

// Secrets returns every non-empty secret value, for scrubbing logs.
func (c *Config) Secrets() []string {
	var out []string
	add := func(ss ...Secret) {
		for _, s := range ss {
			if s != "" {
				out = append(out, s.Value())
			}
		}
	}
	if s := c.Sources.Douyin; s != nil {
		add(s.Token)
	}
	if s := c.Sources.TikTok; s != nil {
		add(s.APIKey)
	}
	if s := c.Sources.Wechat; s != nil {
		add(s.AppSecret)
	}
	if s := c.Sources.Weibo; s != nil {
		add(s.AccessToken)
	}
	if r := c.Responders.Kitkot; r != nil {
		add(r.APIKey, r.SessionKey)
	}
	if r := c.Responders.Wechat; r != nil {
		add(r.AppSecret)
	}
	if r := c.Responders.Weibo; r != nil {
		add(r.AccessToken, r.Password)
	}
	return out
}
