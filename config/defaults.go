package config

import "time"

// Defaults of the sections. A section absent from the file stays nil; a
// present one starts from these values and the file overrides key by key.
const (
	DefaultDouyinBaseURL = "https://api.justoneapi.com"
	DefaultKitkotBaseURL = "https://kitkot.xyz/api"
	DefaultWechatBaseURL = "https://api.weixin.qq.com"
	DefaultWeiboBaseURL  = "https://api.weibo.com"

	// DefaultWechatMaxLength is responders.wechat.max_length in runes: the
	// real limit of comment/reply/add is undocumented (88007 says "too long").
	DefaultWechatMaxLength = 600
	// DefaultKitkotMaxLength is responders.kitkot.max_length in runes:
	// TikTok limits a comment to 150 characters.
	DefaultKitkotMaxLength = 150

	// JustOneAPI calls can take tens of seconds; its guidance is >= 60s.
	DefaultSourceTimeout    = 60 * time.Second
	DefaultResponderTimeout = 30 * time.Second

	DefaultMaxPages        = 500
	DefaultFullRescanEvery = 60

	DefaultRate     = "20/m"
	DefaultBurst    = 1
	DefaultDailyCap = 500
	// DefaultAvoidRepeat is how many of a responder's last answers a reply
	// variant avoids repeating.
	DefaultAvoidRepeat = 10
	// Weibo allows about 60 comments per hour per user and app.
	DefaultWeiboRate = "1/m"

	// Responder breaker: equal to poller.DefaultBreakerFailures and
	// poller.DefaultBreakerPause (see there for why).
	DefaultBreakerFailures = 5
	DefaultBreakerPause    = 30 * time.Minute

	// Every source: JustOneAPI and kitkot charge every call, and every
	// platform answers too many calls with a code that stops the source
	// (JustOneAPI 302, WeChat 45011, Weibo 10022-10024); 5 calls a second
	// stays clear of that while still polling a few hundred threads a
	// minute. Burst 1 spreads calls evenly.
	DefaultSourceRate  = "5/s"
	DefaultSourceBurst = 1
	// DefaultSourceConcurrency: threads are polled one at a time.
	DefaultSourceConcurrency = 1
	// DefaultSourceStopPause equals poller.DefaultSourceStopPause.
	DefaultSourceStopPause = time.Hour
	// DefaultQuietPolls equals poller.DefaultQuietPolls (see there for why).
	// max_interval defaults to 0: adaptive polling is off unless asked for.
	DefaultQuietPolls = 3

	// Retry policy: equal to poller.DefaultMaxAttempts, DefaultMaxRetryAge,
	// DefaultRetryInitial and DefaultRetryMax (see there for why).
	DefaultRetryMaxAttempts  = 5
	DefaultRetryMaxAge       = 24 * time.Hour
	DefaultRetryInitialDelay = time.Minute
	DefaultRetryMaxDelay     = time.Hour

	// DefaultSendJitter bounds the random pause before each send.
	DefaultSendJitter = 3 * time.Second
)

func defaultConfig() *Config {
	return &Config{
		Database:   DefaultDatabase,
		Rules:      DefaultRules,
		Schedule:   DefaultSchedule,
		Timezone:   DefaultTimezone,
		Listen:     DefaultListen,
		Log:        Log{Level: "info", Format: "text"},
		SendJitter: DefaultSendJitter,
		Retry: Retry{
			MaxAttempts:  DefaultRetryMaxAttempts,
			MaxAge:       DefaultRetryMaxAge,
			InitialDelay: DefaultRetryInitialDelay,
			MaxDelay:     DefaultRetryMaxDelay,
		},
	}
}

func defaultDouyin() *DouyinSource {
	return &DouyinSource{
		BaseURL:         DefaultDouyinBaseURL,
		Responder:       ResponderKitkot,
		Backlog:         BacklogSkip,
		Timeout:         DefaultSourceTimeout,
		MaxPages:        DefaultMaxPages,
		FullRescanEvery: DefaultFullRescanEvery,
		Polling:         defaultPolling(),
		StopPause:       DefaultSourceStopPause,
		Adaptive:        defaultAdaptive(),
	}
}

func defaultTikTok() *TikTokSource {
	return &TikTokSource{
		BaseURL:         DefaultKitkotBaseURL,
		Responder:       ResponderKitkot,
		Backlog:         BacklogSkip,
		Timeout:         DefaultSourceTimeout,
		MaxPages:        DefaultMaxPages,
		FullRescanEvery: DefaultFullRescanEvery,
		Polling:         defaultPolling(),
		Adaptive:        defaultAdaptive(),
	}
}

func defaultWechatSource() *WechatSource {
	return &WechatSource{
		BaseURL:   DefaultWechatBaseURL,
		TokenAPI:  WechatTokenStable,
		Responder: ResponderWechat,
		Backlog:   BacklogSkip,
		Timeout:   DefaultResponderTimeout,
		Polling:   defaultPolling(),
		Adaptive:  defaultAdaptive(),
	}
}

func defaultWeiboSource() *WeiboSource {
	return &WeiboSource{
		BaseURL:   DefaultWeiboBaseURL,
		Responder: ResponderWeibo,
		Backlog:   BacklogSkip,
		Timeout:   DefaultResponderTimeout,
		Polling:   defaultPolling(),
		Adaptive:  defaultAdaptive(),
	}
}

func defaultPolling() Polling {
	return Polling{Rate: DefaultSourceRate, Burst: DefaultSourceBurst, Concurrency: DefaultSourceConcurrency}
}

func defaultAdaptive() Adaptive { return Adaptive{QuietPolls: DefaultQuietPolls} }

func defaultPacing(r string) Pacing {
	return Pacing{Rate: r, Burst: DefaultBurst, DailyCap: DefaultDailyCap, AvoidRepeat: DefaultAvoidRepeat,
		BreakerFailures: DefaultBreakerFailures, BreakerPause: DefaultBreakerPause}
}

func defaultKitkot() *KitkotResponder {
	return &KitkotResponder{
		BaseURL:   DefaultKitkotBaseURL,
		Timeout:   DefaultResponderTimeout,
		MaxLength: DefaultKitkotMaxLength,
		Pacing:    defaultPacing(DefaultRate),
	}
}

func defaultWechatResponder() *WechatResponder {
	return &WechatResponder{
		BaseURL:   DefaultWechatBaseURL,
		TokenAPI:  WechatTokenStable,
		MaxLength: DefaultWechatMaxLength,
		Timeout:   DefaultResponderTimeout,
		Pacing:    defaultPacing(DefaultRate),
	}
}

func defaultWeiboResponder() *WeiboResponder {
	return &WeiboResponder{
		API:     WeiboAPIV2,
		BaseURL: DefaultWeiboBaseURL,
		Timeout: DefaultResponderTimeout,
		Pacing:  defaultPacing(DefaultWeiboRate),
	}
}
