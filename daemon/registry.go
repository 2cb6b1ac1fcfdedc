package daemon

import (
	"fmt"
	"sort"

	"github.com/autoreplyd/autoreplyd/config"
	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/poller"
	"github.com/autoreplyd/autoreplyd/poller/douyin"
	"github.com/autoreplyd/autoreplyd/responders/kitkot"
)

// sourceFactory builds a platform's source binding from the config; ok is
// false when the platform is not configured.
type sourceFactory func(cfg *config.Config) (b poller.Binding, ok bool, err error)

// responderFactory builds a responder and its pacing; ok is false when the
// responder is not configured.
type responderFactory func(cfg *config.Config) (r poller.Responder, p poller.Pacing, ok bool, err error)

// sources is the registry of implemented source platforms, by name.
var sources = map[string]sourceFactory{
	model.PlatformDouyin: douyinSource,
}

// responders is the registry of implemented responders, by config name.
var responders = map[string]responderFactory{
	"kitkot": kitkotResponder,
}

// configuredButMissing lists the config sections present in the file whose
// platform this version does not implement yet: refusing them is better than
// silently watching nothing.
func configuredButMissing(cfg *config.Config) []string {
	var out []string
	if cfg.Sources.TikTok != nil {
		out = append(out, "sources.tiktok")
	}
	if cfg.Sources.Wechat != nil {
		out = append(out, "sources.wechat")
	}
	if cfg.Sources.Weibo != nil {
		out = append(out, "sources.weibo")
	}
	if cfg.Responders.Wechat != nil {
		out = append(out, "responders.wechat")
	}
	if cfg.Responders.Weibo != nil {
		out = append(out, "responders.weibo")
	}
	return out
}

// Build makes the source bindings, responders and pacing the config names.
func Build(cfg *config.Config) ([]poller.Binding, map[string]poller.Responder, map[string]poller.Pacing, error) {
	if missing := configuredButMissing(cfg); len(missing) > 0 {
		return nil, nil, nil, fmt.Errorf("%s: this platform is not supported by this version of autoreplyd yet; remove the section", missing[0])
	}
	var bindings []poller.Binding
	for _, name := range sortedKeys(sources) {
		b, ok, err := sources[name](cfg)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("sources.%s: %w", name, err)
		}
		if ok {
			bindings = append(bindings, b)
		}
	}
	rs := map[string]poller.Responder{}
	pacing := map[string]poller.Pacing{}
	for _, name := range sortedKeys(responders) {
		r, p, ok, err := responders[name](cfg)
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

func douyinSource(cfg *config.Config) (poller.Binding, bool, error) {
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
		FullRescanEvery: c.FullRescanEvery,
		Threads:         threads,
		Location:        cfg.Location,
		Rate:            c.RateLimit,
		Burst:           c.Burst,
	})
	if err != nil {
		return poller.Binding{}, false, err
	}
	return poller.Binding{Source: src, Responder: c.Responder, SelfUIDs: c.SelfUIDs, Backlog: c.Backlog, StopPause: c.StopPause}, true, nil
}

func kitkotResponder(cfg *config.Config) (poller.Responder, poller.Pacing, bool, error) {
	c := cfg.Responders.Kitkot
	if c == nil {
		return nil, poller.Pacing{}, false, nil
	}
	r, err := kitkot.New(kitkot.Config{
		BaseURL:    c.BaseURL,
		APIKey:     c.APIKey.Value(),
		SessionKey: c.SessionKey.Value(),
		Timeout:    c.Timeout,
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
	if len(b.SelfUIDs) > 0 {
		return ""
	}
	p := b.Source.Platform()
	return fmt.Sprintf("sources.%s.self_uids is empty: list the uid of the account that answers, so its replies are never answered even when a send's outcome is unknown", p)
}
