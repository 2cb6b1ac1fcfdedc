package config

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"
)

// validate checks every key that decoding could not; secrets and the
// timezone are already resolved.
func (c *Config) validate(p *problems) {
	if _, err := ParseSchedule(c.Schedule); err != nil {
		p.addf("schedule", "invalid cron spec: %v", err)
	}
	if c.Database == "" {
		p.addf("database", "empty")
	}
	if c.Rules == "" {
		p.addf("rules", "empty")
	}
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
	if c.SendJitter < 0 {
		p.addf("send_jitter", "must not be negative (0 turns the random pause before each send off)")
	}
	switch {
	case c.Retention < 0:
		p.addf("retention", "must not be negative: 0 keeps the history forever, e.g. 90d prunes it after 90 days")
	case c.Retention > 0 && c.Retention < MinRetention:
		p.addf("retention", "%v is too short: at least 1d (rate limits and daily caps count a day of answers), or 0 to keep the history forever", c.Retention)
	}

	s := &c.Sources
	if s.Douyin == nil && s.TikTok == nil && s.Wechat == nil && s.Weibo == nil {
		p.addf("sources", "no source configured: add at least one of douyin, tiktok, wechat, weibo")
	}
	if d := s.Douyin; d != nil {
		const k = "sources.douyin"
		d.BaseURL = baseURL(p, k, d.BaseURL)
		c.checkResponder(p, k, d.Responder)
		selfUIDs(p, k, d.SelfUIDs)
		oneOf(p, k+".backlog", d.Backlog, BacklogSkip, BacklogAnswer)
		positiveDuration(p, k+".timeout", d.Timeout)
		paging(p, k, d.MaxPages, d.FullRescanEvery)
		threads(p, k, d.Threads)
		polling(p, k, &d.Polling)
		positiveDuration(p, k+".stop_pause", d.StopPause)
		adaptive(p, k, d.Adaptive)
	}
	if t := s.TikTok; t != nil {
		const k = "sources.tiktok"
		t.BaseURL = baseURL(p, k, t.BaseURL)
		c.checkResponder(p, k, t.Responder)
		selfUIDs(p, k, t.SelfUIDs)
		oneOf(p, k+".backlog", t.Backlog, BacklogSkip, BacklogAnswer)
		positiveDuration(p, k+".timeout", t.Timeout)
		paging(p, k, t.MaxPages, t.FullRescanEvery)
		threads(p, k, t.Threads)
		polling(p, k, &t.Polling)
		adaptive(p, k, t.Adaptive)
	}
	if w := s.Wechat; w != nil {
		const k = "sources.wechat"
		w.BaseURL = baseURL(p, k, w.BaseURL)
		required(p, k+".app_id", w.AppID)
		oneOf(p, k+".token_api", w.TokenAPI, WechatTokenStable, WechatTokenLegacy)
		c.checkResponder(p, k, w.Responder)
		oneOf(p, k+".backlog", w.Backlog, BacklogSkip, BacklogAnswer)
		positiveDuration(p, k+".timeout", w.Timeout)
		articles(p, k, w.Articles)
		polling(p, k, &w.Polling)
		adaptive(p, k, w.Adaptive)
	}
	if w := s.Weibo; w != nil {
		const k = "sources.weibo"
		w.BaseURL = baseURL(p, k, w.BaseURL)
		c.checkResponder(p, k, w.Responder)
		selfUIDs(p, k, w.SelfUIDs)
		oneOf(p, k+".backlog", w.Backlog, BacklogSkip, BacklogAnswer)
		positiveDuration(p, k+".timeout", w.Timeout)
		weibos(p, k, w.Weibos)
		polling(p, k, &w.Polling)
		adaptive(p, k, w.Adaptive)
	}

	r := &c.Responders
	if k := r.Kitkot; k != nil {
		k.BaseURL = baseURL(p, "responders.kitkot", k.BaseURL)
		positiveDuration(p, "responders.kitkot.timeout", k.Timeout)
		if k.MaxLength < 1 {
			p.addf("responders.kitkot.max_length", "must be at least 1")
		}
		pacing(p, "responders.kitkot", &k.Pacing)
	}
	if w := r.Wechat; w != nil {
		w.BaseURL = baseURL(p, "responders.wechat", w.BaseURL)
		required(p, "responders.wechat.app_id", w.AppID)
		oneOf(p, "responders.wechat.token_api", w.TokenAPI, WechatTokenStable, WechatTokenLegacy)
		positiveDuration(p, "responders.wechat.timeout", w.Timeout)
		if w.MaxLength < 1 {
			p.addf("responders.wechat.max_length", "must be at least 1")
		}
		pacing(p, "responders.wechat", &w.Pacing)
	}
	if w := r.Weibo; w != nil {
		w.BaseURL = baseURL(p, "responders.weibo", w.BaseURL)
		if oneOf(p, "responders.weibo.api", w.API, WeiboAPIV1, WeiboAPIV2) && w.API == WeiboAPIV1 {
			required(p, "responders.weibo.app_key", w.AppKey)
			required(p, "responders.weibo.username", w.Username)
		}
		positiveDuration(p, "responders.weibo.timeout", w.Timeout)
		pacing(p, "responders.weibo", &w.Pacing)
	}
}

// checkResponder checks that a source's responder names a configured
// responders section.
func (c *Config) checkResponder(p *problems, section, name string) {
	key := section + ".responder"
	configured := map[string]bool{
		ResponderKitkot: c.Responders.Kitkot != nil,
		ResponderWechat: c.Responders.Wechat != nil,
		ResponderWeibo:  c.Responders.Weibo != nil,
	}
	ok, known := configured[name]
	switch {
	case name == "":
		p.addf(key, "empty: name a responder (kitkot, wechat or weibo)")
	case !known:
		p.addf(key, "unknown responder %q (want kitkot, wechat or weibo)", name)
	case !ok:
		p.addf(key, "responder %q is not configured: add a responders.%s section", name, name)
	}
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

func required(p *problems, key, v string) {
	if strings.TrimSpace(v) == "" {
		p.addf(key, "missing")
	}
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

func selfUIDs(p *problems, section string, uids []string) {
	for i, u := range uids {
		key := fmt.Sprintf("%s.self_uids[%d]", section, i)
		if strings.TrimSpace(u) == "" {
			p.addf(key, "empty")
			continue
		}
		id(p, key, u, false)
	}
}

func paging(p *problems, section string, maxPages, rescan int) {
	if maxPages < 1 {
		p.addf(section+".max_pages", "must be at least 1")
	}
	if rescan < 0 {
		p.addf(section+".full_rescan_every", "must not be negative (0 turns full rescans off)")
	}
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// id checks a required (or, with optional, possibly empty) id: decimal
// digits only, as the platforms write them. Unquoted, YAML would have read
// 0x10 as 16 and 0123 as 83; the text written reaches us (see literalYAML)
// and is refused here rather than silently watching another thread.
func id(p *problems, key, v string, optional bool) {
	switch {
	case v == "" && optional:
	case v == "":
		p.addf(key, "missing")
	case !isDigits(v):
		p.addf(key, "%q is not a numeric id: ids are decimal digits only; write the id in quotes as the platform shows it, e.g. \"7251524159191958327\"", v)
	}
}

func labels(p *problems, key string, l map[string]string) {
	for k := range l {
		if strings.TrimSpace(k) == "" {
			p.addf(key, "empty label name")
		}
	}
}

func threads(p *problems, section string, ts []Thread) {
	if len(ts) == 0 {
		p.addf(section+".threads", "no threads to watch: list at least one {comment_id, aweme_id}")
	}
	seen := map[string]int{}
	for i, t := range ts {
		k := fmt.Sprintf("%s.threads[%d]", section, i)
		id(p, k+".comment_id", t.CommentID, false)
		id(p, k+".aweme_id", t.AwemeID, true)
		labels(p, k+".labels", t.Labels)
		if t.CommentID == "" {
			continue
		}
		if j, dup := seen[t.CommentID]; dup {
			p.addf(k+".comment_id", "duplicate comment_id %s: also at %s.threads[%d]", t.CommentID, section, j)
			continue
		}
		seen[t.CommentID] = i
	}
}

func articles(p *problems, section string, as []Article) {
	if len(as) == 0 {
		p.addf(section+".articles", "no articles to watch: list at least one {msg_data_id, index}")
	}
	seen := map[string]int{}
	for i, a := range as {
		k := fmt.Sprintf("%s.articles[%d]", section, i)
		id(p, k+".msg_data_id", a.MsgDataID, false)
		if a.Index < 0 {
			p.addf(k+".index", "must not be negative")
		}
		labels(p, k+".labels", a.Labels)
		if a.MsgDataID == "" {
			continue
		}
		key := a.MsgDataID + "/" + strconv.Itoa(a.Index)
		if j, dup := seen[key]; dup {
			p.addf(k, "duplicate article %s index %d: also at %s.articles[%d]", a.MsgDataID, a.Index, section, j)
			continue
		}
		seen[key] = i
	}
}

func weibos(p *problems, section string, ws []Weibo) {
	if len(ws) == 0 {
		p.addf(section+".weibos", "no weibos to watch: list at least one {id}")
	}
	seen := map[string]int{}
	for i, w := range ws {
		k := fmt.Sprintf("%s.weibos[%d]", section, i)
		id(p, k+".id", w.ID, false)
		labels(p, k+".labels", w.Labels)
		if w.ID == "" {
			continue
		}
		if j, dup := seen[w.ID]; dup {
			p.addf(k+".id", "duplicate id %s: also at %s.weibos[%d]", w.ID, section, j)
			continue
		}
		seen[w.ID] = i
	}
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
