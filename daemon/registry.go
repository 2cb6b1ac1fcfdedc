package daemon

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/autoreplyd/autoreplyd/config"
	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/platform"
	"github.com/autoreplyd/autoreplyd/poller"
	"github.com/autoreplyd/autoreplyd/rules"
)

// Build makes the source bindings, responders and pacing the config names,
// each through its platform's registration (package platform): a binding
// per `sources` section, a responder per `responders` section, by section
// name.
func Build(cfg *config.Config) ([]poller.Binding, map[string]platform.Responder, map[string]poller.Pacing, error) {
	env := &platform.Env{Location: cfg.Location}
	rs := map[string]platform.Responder{}
	pacing := map[string]poller.Pacing{}
	for _, r := range cfg.Responders {
		resp, err := r.Spec.New(r.Section, env)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("%s: %w", r.Key(), err)
		}
		rs[r.Name] = resp
		pacing[r.Name] = pacingOf(r.Section.Base().Pacing)
	}
	var bindings []poller.Binding
	for _, s := range cfg.Sources {
		src, err := s.Spec.New(s.Section, env)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("%s: %w", s.Key(), err)
		}
		b := s.Section.Base()
		binding := poller.Binding{Source: src, Name: s.Name, Responder: b.Responder, SelfUIDs: s.Section.SelfUIDs(),
			Backlog: b.Backlog, MaxInterval: b.MaxInterval, QuietPolls: b.QuietPolls, Concurrency: b.Concurrency,
			Rate: b.RateLimit, Burst: b.Burst}
		if sp, ok := s.Section.(interface{ SourceStopPause() time.Duration }); ok {
			binding.StopPause = sp.SourceStopPause()
		}
		for _, w := range s.Section.Watched() {
			if w.Responder != "" && w.Responder != b.Responder {
				if binding.Routes == nil {
					binding.Routes = map[string]string{}
				}
				binding.Routes[w.ThreadID] = w.Responder
			}
		}
		bindings = append(bindings, binding)
	}
	if len(bindings) == 0 {
		return nil, nil, nil, fmt.Errorf("sources: no source configured")
	}
	for _, b := range bindings {
		if _, ok := rs[b.Responder]; !ok {
			return nil, nil, nil, fmt.Errorf("sources.%s.responder: %q is not a configured responder", b.SourceName(), b.Responder)
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

// pacingOf is a responder's config pacing as the poller takes it.
func pacingOf(c platform.Pacing) poller.Pacing {
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
	p := b.SourceName()
	return fmt.Sprintf("sources.%s.self_uids is empty: list the uid of the account that answers, so its replies are never answered even when a send's outcome is unknown; without it, a send whose outcome is unknown is never reconciled by the text of a reply (anyone could post that text): settle it with `autoreplyd resolve`", p)
}
