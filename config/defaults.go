package config

import "time"

// Defaults of the sections. A section absent from the file stays nil; a
// present one starts from these values and the file overrides key by key.
const (
	DefaultDouyinBaseURL = "https://api.justoneapi.com"
	DefaultKitkotBaseURL = "https://kitkot.xyz/api"
	DefaultWechatBaseURL = "https://api.weixin.qq.com"
	DefaultWeiboBaseURL  = "https://api.weibo.com"

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
)

func defaultConfig() *Config {
	return &Config{
		Database: DefaultDatabase,
		Rules:    DefaultRules,
		Schedule: DefaultSchedule,
		Timezone: DefaultTimezone,
		Listen:   DefaultListen,
		Log:      Log{Level: "info", Format: "text"},
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
	}
}

func defaultWechatSource() *WechatSource {
	return &WechatSource{
		BaseURL:   DefaultWechatBaseURL,
		Responder: ResponderWechat,
		Backlog:   BacklogSkip,
		Timeout:   DefaultResponderTimeout,
	}
}

func defaultWeiboSource() *WeiboSource {
	return &WeiboSource{
		BaseURL:   DefaultWeiboBaseURL,
		Responder: ResponderWeibo,
		Backlog:   BacklogSkip,
		Timeout:   DefaultResponderTimeout,
	}
}

func defaultPacing(r string) Pacing {
	return Pacing{Rate: r, Burst: DefaultBurst, DailyCap: DefaultDailyCap, AvoidRepeat: DefaultAvoidRepeat}
}

func defaultKitkot() *KitkotResponder {
	return &KitkotResponder{
		BaseURL: DefaultKitkotBaseURL,
		Timeout: DefaultResponderTimeout,
		Pacing:  defaultPacing(DefaultRate),
	}
}

func defaultWechatResponder() *WechatResponder {
	return &WechatResponder{
		BaseURL: DefaultWechatBaseURL,
		Timeout: DefaultResponderTimeout,
		Pacing:  defaultPacing(DefaultRate),
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
