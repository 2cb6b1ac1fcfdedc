package daemon

import (
	"fmt"
	"sort"
	"strings"

	"github.com/autoreplyd/autoreplyd/config"
	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/platform"
	"github.com/autoreplyd/autoreplyd/platform/douyin"
	"github.com/autoreplyd/autoreplyd/platform/kitkot"
	"github.com/autoreplyd/autoreplyd/platform/wechat"
	"github.com/autoreplyd/autoreplyd/platform/weibo"
	"github.com/autoreplyd/autoreplyd/poller"
	"github.com/autoreplyd/autoreplyd/rules"
)

// sourceFactory builds a platform's source binding from the config; ok is
// false when the platform is not configured.
type sourceFactory func(cfg *config.Config, env *buildEnv) (b poller.Binding, ok bool, err error)

// responderFactory builds a responder and its pacing; ok is false when the
// responder is not configured.
type responderFactory func(cfg *config.Config, env *buildEnv) (r platform.Responder, p poller.Pacing, ok bool, err error)

// buildEnv is what the factories of one Build share: one WeChat API client
// (and so one access token) per app id, used by the source and the
// responder of that app alike.
type buildEnv struct {
	wechat map[string]*wechat.Client
}

// wechatClient returns the app's client, making it on first use. Two
// sections naming one app id must agree on its endpoint, secret and token
// API: two token refreshers of one app would invalidate each other's tokens.
func (e *buildEnv) wechatClient(cfg wechat.ClientConfig) (*wechat.Client, error) {
	if c, ok := e.wechat[cfg.AppID]; ok {
		if !c.Same(cfg) {
			return nil, fmt.Errorf("app_id %s is also configured with another base_url, app_secret or token_api: give both sections the same values", cfg.AppID)
		}
		return c, nil
	}
	c, err := wechat.NewClient(cfg)
	if err != nil {
		return nil, err
	}
	if e.wechat == nil {
		e.wechat = map[string]*wechat.Client{}
	}
	e.wechat[cfg.AppID] = c
	return c, nil
}

// sources is the registry of implemented source platforms, by name.
var sources = map[string]sourceFactory{
	model.PlatformDouyin: douyinSource,
	model.PlatformTikTok: tiktokSource,
	model.PlatformWeChat: wechatSource,
	model.PlatformWeibo:  weiboSource,
}

// responders is the registry of implemented responders, by config name.
var responders = map[string]responderFactory{
	"kitkot":    kitkotResponder,
	wechat.Name: wechatResponder,
	weibo.Name:  weiboResponder,
}

// configuredButMissing lists the config sections present in the file whose
// platform this version does not implement yet: refusing them is better than
// silently watching nothing.
func configuredButMissing(cfg *config.Config) []string {
	var out []string
	return out
}

// Build makes the source bindings, responders and pacing the config names.
func Build(cfg *config.Config) ([]poller.Binding, map[string]platform.Responder, map[string]poller.Pacing, error) {
	if missing := configuredButMissing(cfg); len(missing) > 0 {
		return nil, nil, nil, fmt.Errorf("%s: this platform is not supported by this version of autoreplyd yet; remove the section", missing[0])
	}
	env := &buildEnv{}
	var bindings []poller.Binding
	for _, name := range sortedKeys(sources) {
		b, ok, err := sources[name](cfg, env)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("sources.%s: %w", name, err)
		}
		if ok {
			bindings = append(bindings, b)
		}
	}
	rs := map[string]platform.Responder{}
	pacing := map[string]poller.Pacing{}
	for _, name := range sortedKeys(responders) {
		r, p, ok, err := responders[name](cfg, env)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("responders.%s: %w", name, err)
		}
		if ok {
			rs[name] = r
			pacing[name] = p
		}
	}
	if len(bindings) == 0 {
		return nil, nil, nil, fmt.Errorf("sources: no source configured")
	}
	for _, b := range bindings {
		if _, ok := rs[b.Responder]; !ok {
			return nil, nil, nil, fmt.Errorf("sources.%s.responder: %q is not a configured responder", b.Source.Platform(), b.Responder)
		}
	}
	return bindings, rs, pacing, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func douyinSource(cfg *config.Config, _ *buildEnv) (poller.Binding, bool, error) {
	c := cfg.Sources.Douyin
	if c == nil {
		return poller.Binding{}, false, nil
	}
	threads := make([]model.Thread, len(c.Threads))
	for i, t := range c.Threads {
		threads[i] = model.Thread{ID: t.CommentID, PostID: t.AwemeID, Labels: t.Labels}
	}
	src, err := douyin.New(douyin.Config{
		BaseURL:         c.BaseURL,
		Token:           c.Token.Value(),
		Timeout:         c.Timeout,
		MaxPages:        c.MaxPages,
		FullRescanEvery: rescanEvery(c.FullRescanEvery),
		Threads:         threads,
		Location:        cfg.Location,
		Rate:            c.RateLimit,
		Burst:           c.Burst,
	})
	if err != nil {
		return poller.Binding{}, false, err
	}
	return poller.Binding{Source: src, Responder: c.Responder, SelfUIDs: c.SelfUIDs, Backlog: c.Backlog, StopPause: c.StopPause,
		MaxInterval: c.MaxInterval, QuietPolls: c.QuietPolls, Concurrency: c.Concurrency, Rate: c.RateLimit, Burst: c.Burst}, true, nil
}

func tiktokSource(cfg *config.Config, _ *buildEnv) (poller.Binding, bool, error) {
	c := cfg.Sources.TikTok
	if c == nil {
		return poller.Binding{}, false, nil
	}
	threads := make([]model.Thread, len(c.Threads))
	for i, t := range c.Threads {
		threads[i] = model.Thread{ID: t.CommentID, PostID: t.AwemeID, Labels: t.Labels}
	}
	rescan := c.FullRescanEvery
	if rescan == 0 {
		rescan = -1 // the config's 0 turns periodic rescans off
	}
	src, err := kitkot.NewSource(kitkot.SourceConfig{
		BaseURL:         c.BaseURL,
		APIKey:          c.APIKey.Value(),
		Timeout:         c.Timeout,
		MaxPages:        c.MaxPages,
		FullRescanEvery: rescan,
		Threads:         threads,
		Rate:            c.RateLimit,
		Burst:           c.Burst,
	})
	if err != nil {
		return poller.Binding{}, false, err
	}
	return poller.Binding{Source: src, Responder: c.Responder, SelfUIDs: c.SelfUIDs, Backlog: c.Backlog,
		MaxInterval: c.MaxInterval, QuietPolls: c.QuietPolls, Concurrency: c.Concurrency, Rate: c.RateLimit, Burst: c.Burst}, true, nil
}

// CheckVia refuses a rule whose via names a responder that is not
// configured (responders as Build returns them).
func CheckVia(set *rules.Set, responders map[string]platform.Responder) error {
	if set == nil {
		return nil
	}
	for _, r := range set.Rules() {
		if r.Via == "" {
			continue
		}
		if _, ok := responders[r.Via]; !ok {
			names := sortedKeys(responders)
			return fmt.Errorf("%s:%d: rule %q: via %q is not a configured responder (configured: %s)",
				r.File, r.Line, r.Name, r.Via, strings.Join(names, ", "))
		}
	}
	return nil
}

func kitkotResponder(cfg *config.Config, _ *buildEnv) (platform.Responder, poller.Pacing, bool, error) {
	c := cfg.Responders.Kitkot
	if c == nil {
		return nil, poller.Pacing{}, false, nil
	}
	r, err := kitkot.NewResponder(kitkot.ResponderConfig{
		BaseURL:    c.BaseURL,
		APIKey:     c.APIKey.Value(),
		SessionKey: c.SessionKey.Value(),
		Timeout:    c.Timeout,
		MaxLength:  c.MaxLength,
	})
	if err != nil {
		return nil, poller.Pacing{}, false, err
	}
	return r, pacingOf(c.Pacing), true, nil
}

func wechatSource(cfg *config.Config, env *buildEnv) (poller.Binding, bool, error) {
	c := cfg.Sources.Wechat
	if c == nil {
		return poller.Binding{}, false, nil
	}
	client, err := env.wechatClient(wechat.ClientConfig{BaseURL: c.BaseURL, AppID: c.AppID, AppSecret: c.AppSecret.Value(),
		TokenAPI: c.TokenAPI, Timeout: c.Timeout})
	if err != nil {
		return poller.Binding{}, false, err
	}
	articles := make([]wechat.Article, len(c.Articles))
	for i, a := range c.Articles {
		articles[i] = wechat.Article{MsgDataID: a.MsgDataID, Index: a.Index, Labels: a.Labels}
	}
	src, err := wechat.NewSource(wechat.SourceConfig{Client: client, Articles: articles, Timeout: c.Timeout, Location: cfg.Location,
		Rate: c.RateLimit, Burst: c.Burst})
	if err != nil {
		return poller.Binding{}, false, err
	}
	// WeChat shows our answer as the comment's `reply`, never as a comment
	// of its own: there are no self uids to list.
	return poller.Binding{Source: src, Responder: c.Responder, Backlog: c.Backlog,
		MaxInterval: c.MaxInterval, QuietPolls: c.QuietPolls, Concurrency: c.Concurrency, Rate: c.RateLimit, Burst: c.Burst}, true, nil
}

func wechatResponder(cfg *config.Config, env *buildEnv) (platform.Responder, poller.Pacing, bool, error) {
	c := cfg.Responders.Wechat
	if c == nil {
		return nil, poller.Pacing{}, false, nil
	}
	client, err := env.wechatClient(wechat.ClientConfig{BaseURL: c.BaseURL, AppID: c.AppID, AppSecret: c.AppSecret.Value(),
		TokenAPI: c.TokenAPI, Timeout: c.Timeout})
	if err != nil {
		return nil, poller.Pacing{}, false, err
	}
	r, err := wechat.NewResponder(wechat.ResponderConfig{Client: client, Timeout: c.Timeout, MaxLength: c.MaxLength})
	if err != nil {
		return nil, poller.Pacing{}, false, err
	}
	return r, pacingOf(c.Pacing), true, nil
}

func weiboSource(cfg *config.Config, _ *buildEnv) (poller.Binding, bool, error) {
	c := cfg.Sources.Weibo
	if c == nil {
		return poller.Binding{}, false, nil
	}
	weibos := make([]weibo.Weibo, len(c.Weibos))
	for i, w := range c.Weibos {
		weibos[i] = weibo.Weibo{ID: w.ID, Labels: w.Labels}
	}
	src, err := weibo.NewSource(weibo.SourceConfig{BaseURL: c.BaseURL, AccessToken: c.AccessToken.Value(), Weibos: weibos, Timeout: c.Timeout,
		Rate: c.RateLimit, Burst: c.Burst})
	if err != nil {
		return poller.Binding{}, false, err
	}
	return poller.Binding{Source: src, Responder: c.Responder, SelfUIDs: c.SelfUIDs, Backlog: c.Backlog,
		MaxInterval: c.MaxInterval, QuietPolls: c.QuietPolls, Concurrency: c.Concurrency, Rate: c.RateLimit, Burst: c.Burst}, true, nil
}

func weiboResponder(cfg *config.Config, _ *buildEnv) (platform.Responder, poller.Pacing, bool, error) {
	c := cfg.Responders.Weibo
	if c == nil {
		return nil, poller.Pacing{}, false, nil
	}
	r, err := weibo.NewResponder(weibo.ResponderConfig{
		API:            c.API,
		BaseURL:        c.BaseURL,
		AccessToken:    c.AccessToken.Value(),
		AppKey:         c.AppKey,
		Username:       c.Username,
		Password:       c.Password.Value(),
		WithoutMention: c.WithoutMention,
		RIP:            c.RIP,
		Timeout:        c.Timeout,
	})
	if err != nil {
		return nil, poller.Pacing{}, false, err
	}
	return r, pacingOf(c.Pacing), true, nil
}

// pacingOf is a responder's config pacing as the poller takes it.
func pacingOf(c config.Pacing) poller.Pacing {
	return poller.Pacing{Limit: c.RateLimit, Burst: c.Burst, DailyCap: c.DailyCap, AvoidRepeat: c.AvoidRepeat,
		BreakerFailures: c.BreakerFailures, BreakerPause: c.BreakerPause}
}

// ApplyRetry sets the retry policy of the config's `retry` section in po.
func ApplyRetry(po *poller.Options, cfg *config.Config) {
	po.MaxAttempts = cfg.Retry.MaxAttempts
	po.MaxRetryAge = cfg.Retry.MaxAge
	po.RetryInitial = cfg.Retry.InitialDelay
	po.RetryMax = cfg.Retry.MaxDelay
}

// SelfUIDsWarning explains the risk of a source without self_uids: our own
// replies are then recognised only by the ids the responder returned, and a
// send whose outcome is unknown leaves no id, so the bot could answer itself.
func SelfUIDsWarning(b poller.Binding) string {
	if len(b.SelfUIDs) > 0 || b.Source.Platform() == model.PlatformWeChat {
		// WeChat: our answers are a comment's `reply`, never comments.
		return ""
	}
	p := b.Source.Platform()
	return fmt.Sprintf("sources.%s.self_uids is empty: list the uid of the account that answers, so its replies are never answered even when a send's outcome is unknown; without it, a send whose outcome is unknown is never reconciled by the text of a reply (anyone could post that text): settle it with `autoreplyd resolve`", p)
}

// rescanEvery maps the config's full_rescan_every (0 = never, as documented;
// an absent key already got its default) to the douyin source's setting,
// where 0 means "the default" and a negative number means never.
func rescanEvery(n int) int {
	if n == 0 {
		return -1
	}
	return n
}
