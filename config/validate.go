package config

import (
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/autoreplyd/autoreplyd/internal/dburl"

	"golang.org/x/time/rate"

	"github.com/autoreplyd/autoreplyd/notify"
	"github.com/autoreplyd/autoreplyd/platform"
	"github.com/autoreplyd/autoreplyd/rules"
)

// validate checks every key that decoding could not; secrets and the
// timezone are already resolved.
func (c *Config) validate(p *problems) {
	if _, err := ParseSchedule(c.Schedule); err != nil {
		p.addf("schedule", "invalid cron spec: %v", err)
	}
	switch {
	case c.Database == "":
		p.addf("database", "empty")
	case dburl.IsPostgres(c.Database):
		if err := dburl.Check(c.Database); err != nil {
			p.addf("database", "%v", err)
		}
	case c.DatabasePasswordFile != "":
		p.addf("database_password_file", "only for a PostgreSQL database (database: postgres://...)")
	}
	if c.Rules == "" {
		p.addf("rules", "empty")
	}
	c.validateInstance(p)
	if c.Listen != "" {
		if _, port, err := net.SplitHostPort(c.Listen); err != nil {
			p.addf("listen", "want host:port (e.g. 127.0.0.1:9464), or \"\" to turn the listener off")
		} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
			p.addf("listen", "port %q is not a number from 0 to 65535", port)
		}
	}
	c.Log.Level = strings.ToLower(c.Log.Level)
	oneOf(p, "log.level", c.Log.Level, "debug", "info", "warn", "error")
	c.Log.Format = strings.ToLower(c.Log.Format)
	oneOf(p, "log.format", c.Log.Format, "text", "json")
	retry(p, &c.Retry)
	c.validateConsole(p)
	positiveDuration(p, "approval.max_age", c.Approval.MaxAge)
	for _, n := range c.Notify {
		notifyChannel(p, n, c.Location)
	}
	c.validateLLM(p)
	if c.SendJitter < 0 {
		p.addf("send_jitter", "must not be negative (0 turns the random pause before each send off)")
	}
	switch {
	case c.Retention < 0:
		p.addf("retention", "must not be negative: 0 keeps the history forever, e.g. 90d prunes it after 90 days")
	case c.Retention > 0 && c.Retention < MinRetention:
		p.addf("retention", "%v is too short: at least 1d (rate limits and daily caps count a day of answers), or 0 to keep the history forever", c.Retention)
	}

	if len(c.Sources) == 0 {
		p.addf("sources", "no source configured: add at least one of %s", strings.Join(platform.SourceTypes(), ", "))
	}
	for _, r := range c.Responders {
		k := r.Key()
		b := r.Section.Base()
		b.BaseURL = baseURL(p, k, b.BaseURL)
		positiveDuration(p, k+".timeout", b.Timeout)
		pacing(p, k, &b.Pacing)
		r.Section.Check(k, p)
	}
	// owner: which entry watches each thread or video (platform NUL kind
	// NUL id): two sections polling one would poll it twice per cycle.
	owner := map[string]string{}
	for _, s := range c.Sources {
		k := s.Key()
		b := s.Section.Base()
		b.BaseURL = baseURL(p, k, b.BaseURL)
		b.Responder = c.route(p, k+".responder", b.Responder, s)
		oneOf(p, k+".backlog", b.Backlog, BacklogSkip, BacklogAnswer)
		positiveDuration(p, k+".timeout", b.Timeout)
		polling(p, k, &b.Polling)
		adaptive(p, k, b.Adaptive)
		s.Section.Check(k, p)
		for _, w := range s.Section.Watched() {
			wk := joinKey(k, w.Key)
			if w.Responder != "" && !p.covers(wk+".responder") {
				c.route(p, wk+".responder", w.Responder, s)
			}
			what, wid := "thread", w.ThreadID
			if w.VideoID != "" {
				what, wid = "video", w.VideoID
			}
			if wid == "" {
				continue
			}
			id := s.Platform() + "\x00" + what + "\x00" + wid
			if other, dup := owner[id]; dup {
				if !strings.HasPrefix(other, k+".") { // a duplicate within the section is the section's to report
					p.addf(wk, "%s %s is also watched by %s: watch a %s in one section only", what, wid, other, what)
				}
				continue
			}
			owner[id] = wk
		}
	}
}

// Addf implements platform.Problems.
func (p *problems) Addf(key, format string, args ...any) { p.addf(key, format, args...) }

// route checks the responder that answers a source's thread (the section's
// `responder`, or a watched entry's) and returns it. An empty section-level
// name picks the default: the section named as the platform's default
// responder type, else the only responder that can answer the platform.
func (c *Config) route(p *problems, key, name string, s *Source) string {
	plat := s.Platform()
	if name == "" {
		if r := c.Responder(s.Spec.DefaultResponder); r != nil && platform.CanAnswer(r.Type, plat) {
			return r.Name
		}
		var able []string
		for _, r := range c.Responders {
			if platform.CanAnswer(r.Type, plat) {
				able = append(able, r.Name)
			}
		}
		switch len(able) {
		case 1:
			return able[0]
		case 0:
			p.addf(key, "responder %q is not configured: add a responders.%s section", s.Spec.DefaultResponder, s.Spec.DefaultResponder)
		default:
			p.addf(key, "empty, and several responders can answer %s comments (%s): name one", plat, strings.Join(able, ", "))
		}
		return ""
	}
	r := c.Responder(name)
	if r == nil {
		if spec, ok := platform.Lookup(name); ok && spec.Responder != nil {
			p.addf(key, "responder %q is not configured: add a responders.%s section", name, name)
			return name
		}
		var names []string
		for _, r := range c.Responders {
			names = append(names, r.Name)
		}
		p.addf(key, "unknown responder %q (configured: %s)", name, orNone(names))
		return name
	}
	if !platform.CanAnswer(r.Type, plat) {
		spec, _ := platform.Lookup(r.Type)
		p.addf(key, "responder %q (type %s) cannot answer %s comments: it answers %s", name, r.Type, plat, strings.Join(spec.Responder.Answers, ", "))
	}
	return name
}

func orNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// oneOf reports whether v is one of allowed, adding a problem when not.
func oneOf(p *problems, key, v string, allowed ...string) bool {
	for _, a := range allowed {
		if v == a {
			return true
		}
	}
	p.addf(key, "%q is not one of %s", v, strings.Join(allowed, ", "))
	return false
}

func positiveDuration(p *problems, key string, d time.Duration) {
	if d <= 0 {
		p.addf(key, "must be a positive duration, e.g. 30s")
	}
}

// baseURL checks section.base_url and returns it without a trailing slash,
// so that clients can append "/path".
func baseURL(p *problems, section, v string) string {
	key := section + ".base_url"
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		p.addf(key, "want an absolute http or https URL")
		return v
	}
	if u.User != nil {
		// Credentials belong in their own keys, which are redacted.
		p.addf(key, "must not contain user info: use the section's secret keys")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		p.addf(key, "must not contain a query or fragment")
	}
	return strings.TrimRight(v, "/")
}

// tokenBucket checks a section's rate and burst and returns rate parsed.
func tokenBucket(p *problems, section, r string, burst int) rate.Limit {
	lim, err := ParseRate(r)
	if err != nil {
		p.addf(section+".rate", "%v", err)
	}
	if burst < 1 {
		p.addf(section+".burst", "must be at least 1")
	}
	return lim
}

func polling(p *problems, section string, pl *Polling) {
	pl.RateLimit = tokenBucket(p, section, pl.Rate, pl.Burst)
	if pl.Concurrency < 1 {
		p.addf(section+".concurrency", "must be at least 1")
	}
}

func adaptive(p *problems, section string, a Adaptive) {
	if a.MaxInterval < 0 {
		p.addf(section+".max_interval", "must not be negative (0 polls every thread every cycle; e.g. 15m backs quiet threads off up to 15 minutes)")
	}
	if a.QuietPolls < 1 {
		p.addf(section+".quiet_polls", "must be at least 1")
	}
}

func pacing(p *problems, section string, pc *Pacing) {
	pc.RateLimit = tokenBucket(p, section, pc.Rate, pc.Burst)
	if pc.DailyCap < 0 {
		p.addf(section+".daily_cap", "must not be negative (0 means no cap)")
	}
	if pc.AvoidRepeat < 0 {
		p.addf(section+".avoid_repeat", "must not be negative (0 turns it off)")
	}
	if pc.BreakerFailures < 0 {
		p.addf(section+".breaker_failures", "must not be negative (0 turns the breaker off)")
	}
	positiveDuration(p, section+".breaker_pause", pc.BreakerPause)
}

func retry(p *problems, r *Retry) {
	if r.MaxAttempts < 1 {
		p.addf("retry.max_attempts", "must be at least 1")
	}
	positiveDuration(p, "retry.max_age", r.MaxAge)
	positiveDuration(p, "retry.initial_delay", r.InitialDelay)
	positiveDuration(p, "retry.max_delay", r.MaxDelay)
	if r.InitialDelay > 0 && r.MaxDelay > 0 && r.InitialDelay > r.MaxDelay {
		p.addf("retry.initial_delay", "%s is longer than retry.max_delay %s", r.InitialDelay, r.MaxDelay)
	}
}

// notifyChannel checks one notify section: its rate and timeout here, the
// rest (type, the URL's form, the secret, the template) by the channel's
// own checks.
func notifyChannel(p *problems, n *NotifyChannel, loc *time.Location) {
	if _, err := ParseRate(n.Rate); err != nil {
		p.addf(n.Key()+".rate", "%v", err)
	}
	positiveDuration(p, n.Key()+".timeout", n.Timeout)
	spec, _ := n.Spec(loc)
	for _, prob := range spec.Check() {
		key, msg, ok := strings.Cut(prob, ": ")
		if !ok {
			key, msg = n.Key(), prob
		}
		if key == n.Key()+".type" && !slices.Contains(notify.Types, n.Type) {
			msg += rules.Suggest(n.Type, notify.Types)
		}
		p.addf(key, "%s", msg)
	}
}
