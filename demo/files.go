package demo

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/autoreplyd/autoreplyd/config"
	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/simulator"
)

// readHeaderTimeout bounds a request's headers to the imitations (slowloris).
const readHeaderTimeout = 5 * time.Second

// writeNew writes a file that must not exist yet: an existing one (the
// operator's edit, or a file of an earlier run) is never overwritten, and
// existed says so. O_EXCL makes that true even against a concurrent writer.
func writeNew(path string, data []byte, perm os.FileMode) (existed bool, err error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if errors.Is(err, fs.ErrExist) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return false, fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return false, fmt.Errorf("write %s: %w", path, err)
	}
	return false, nil
}

// simCredentials are the secrets of cfg, for the imitations to accept
// exactly what the config sends.
func simCredentials(cfg *config.Config) simulator.SimCredentials {
	var c simulator.SimCredentials
	s, r := cfg.Sources, cfg.Responders
	if s.Douyin != nil {
		c.JustOneAPIToken = s.Douyin.Token.Value()
	}
	if s.TikTok != nil {
		c.KitkotAPIKey = s.TikTok.APIKey.Value()
	}
	if r.Kitkot != nil {
		c.KitkotAPIKey, c.KitkotSessionKey = r.Kitkot.APIKey.Value(), r.Kitkot.SessionKey.Value()
	}
	if s.Wechat != nil {
		c.WeChatAppID, c.WeChatAppSecret = s.Wechat.AppID, s.Wechat.AppSecret.Value()
	}
	if r.Wechat != nil && c.WeChatAppID == "" {
		c.WeChatAppID, c.WeChatAppSecret = r.Wechat.AppID, r.Wechat.AppSecret.Value()
	}
	if s.Weibo != nil {
		c.WeiboAccessToken = s.Weibo.AccessToken.Value()
	}
	if w := r.Weibo; w != nil {
		if c.WeiboAccessToken == "" {
			c.WeiboAccessToken = w.AccessToken.Value()
		}
		c.WeiboAppKey, c.WeiboUsername, c.WeiboPassword = w.AppKey, w.Username, w.Password.Value()
	}
	return c
}

// simThreads are the threads cfg watches, for the imitations to serve.
func simThreads(cfg *config.Config) []simulator.SimThread {
	var out []simulator.SimThread
	s := cfg.Sources
	if s.Douyin != nil {
		for _, th := range s.Douyin.Threads {
			out = append(out, simulator.SimThread{Platform: model.PlatformDouyin, ID: th.CommentID, PostID: th.AwemeID})
		}
	}
	if s.TikTok != nil {
		for _, th := range s.TikTok.Threads {
			out = append(out, simulator.SimThread{Platform: model.PlatformTikTok, ID: th.CommentID, PostID: th.AwemeID})
		}
	}
	if s.Wechat != nil {
		for _, a := range s.Wechat.Articles {
			out = append(out, simulator.SimThread{Platform: model.PlatformWeChat, ID: a.MsgDataID, Index: a.Index})
		}
	}
	if s.Weibo != nil {
		for _, w := range s.Weibo.Weibos {
			out = append(out, simulator.SimThread{Platform: model.PlatformWeibo, ID: w.ID})
		}
	}
	return out
}

// baseURLKey is one base_url key of a config and the URL the simulator
// serves that section at.
type baseURLKey struct {
	key, got, want string
}

// baseURLKeys lists the base_url keys of the sections cfg has, with what
// they should be for a simulator at urls.
func baseURLKeys(cfg *config.Config, urls simulator.SimBaseURLs) []baseURLKey {
	var out []baseURLKey
	add := func(key, got, want string) {
		out = append(out, baseURLKey{key, strings.TrimRight(got, "/"), want})
	}
	s, r := cfg.Sources, cfg.Responders
	if x := s.Douyin; x != nil {
		add("sources.douyin.base_url", x.BaseURL, urls.Douyin)
	}
	if x := s.TikTok; x != nil {
		add("sources.tiktok.base_url", x.BaseURL, urls.Kitkot)
	}
	if x := s.Wechat; x != nil {
		add("sources.wechat.base_url", x.BaseURL, urls.WeChat)
	}
	if x := s.Weibo; x != nil {
		add("sources.weibo.base_url", x.BaseURL, urls.Weibo)
	}
	if x := r.Kitkot; x != nil {
		add("responders.kitkot.base_url", x.BaseURL, urls.Kitkot)
	}
	if x := r.Wechat; x != nil {
		add("responders.wechat.base_url", x.BaseURL, urls.WeChat)
	}
	if x := r.Weibo; x != nil {
		add("responders.weibo.base_url", x.BaseURL, urls.Weibo)
	}
	return out
}

// envKey is the AUTOREPLYD_ variable overriding a config key.
func envKey(key string) string {
	return config.EnvPrefix + strings.ToUpper(strings.ReplaceAll(key, ".", "__"))
}

// plainWord matches what a shell takes as one word as it is.
var plainWord = regexp.MustCompile(`^[A-Za-z0-9_./:@%+=,-]+$`)

// shellQuote quotes s for a POSIX shell when it needs it, so that a printed
// command can be pasted as it is.
func shellQuote(s string) string {
	if plainWord.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// watching says how many threads of each platform are watched.
func watching(ths []simulator.SimThread) string {
	n := map[string]int{}
	for _, th := range ths {
		n[th.Platform]++
	}
	var parts []string
	for _, p := range []struct{ platform, one, many string }{
		{model.PlatformDouyin, "Douyin thread", "Douyin threads"},
		{model.PlatformTikTok, "TikTok thread", "TikTok threads"},
		{model.PlatformWeChat, "WeChat article", "WeChat articles"},
		{model.PlatformWeibo, "weibo", "weibos"},
	} {
		switch c := n[p.platform]; c {
		case 0:
		case 1:
			parts = append(parts, "1 "+p.one)
		default:
			parts = append(parts, fmt.Sprintf("%d %s", c, p.many))
		}
	}
	if len(parts) == 0 {
		return "no thread"
	}
	return strings.Join(parts, ", ")
}
