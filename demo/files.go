package demo

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/autoreplyd/autoreplyd/config"
	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/platform/douyin"
	"github.com/autoreplyd/autoreplyd/platform/kitkot"
	"github.com/autoreplyd/autoreplyd/platform/wechat"
	"github.com/autoreplyd/autoreplyd/platform/weibo"
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
// exactly what the config sends. The imitations take one set per API: with
// several sections of one type, the first one's (by name) wins.
func simCredentials(cfg *config.Config) simulator.SimCredentials {
	var c simulator.SimCredentials
	set := func(dst *string, v string) {
		if *dst == "" {
			*dst = v
		}
	}
	for _, s := range cfg.Sources {
		switch x := s.Section.(type) {
		case *douyin.Section:
			set(&c.JustOneAPIToken, x.Token.Value())
		case *kitkot.SourceSection:
			set(&c.KitkotAPIKey, x.APIKey.Value())
		case *wechat.SourceSection:
			if c.WeChatAppID == "" {
				c.WeChatAppID, c.WeChatAppSecret = x.AppID, x.AppSecret.Value()
			}
		case *weibo.SourceSection:
			set(&c.WeiboAccessToken, x.AccessToken.Value())
		}
	}
	for _, e := range cfg.LLM {
		set(&c.LLMAPIKey, e.APIKey.Value())
	}
	for _, r := range cfg.Responders {
		switch x := r.Section.(type) {
		case *kitkot.ResponderSection:
			if c.KitkotSessionKey == "" {
				c.KitkotAPIKey, c.KitkotSessionKey = x.APIKey.Value(), x.SessionKey.Value()
			}
		case *wechat.ResponderSection:
			if c.WeChatAppID == "" {
				c.WeChatAppID, c.WeChatAppSecret = x.AppID, x.AppSecret.Value()
			}
		case *weibo.ResponderSection:
			set(&c.WeiboAccessToken, x.AccessToken.Value())
			if c.WeiboUsername == "" {
				c.WeiboAppKey, c.WeiboUsername, c.WeiboPassword = x.AppKey, x.Username, x.Password.Value()
			}
		}
	}
	return c
}

// simThreads are the threads cfg watches, for the imitations to serve.
func simThreads(cfg *config.Config) []simulator.SimThread {
	var out []simulator.SimThread
	for _, s := range cfg.Sources {
		switch x := s.Section.(type) {
		case *douyin.Section:
			for _, th := range x.Threads {
				out = append(out, simulator.SimThread{Platform: model.PlatformDouyin, ID: th.CommentID, PostID: th.AwemeID})
			}
			for _, v := range x.Videos {
				out = append(out, simulator.SimThread{Platform: model.PlatformDouyin, ID: v.AwemeID, Video: true})
			}
		case *kitkot.SourceSection:
			for _, th := range x.Threads {
				out = append(out, simulator.SimThread{Platform: model.PlatformTikTok, ID: th.CommentID, PostID: th.AwemeID})
			}
		case *wechat.SourceSection:
			for _, a := range x.Articles {
				out = append(out, simulator.SimThread{Platform: model.PlatformWeChat, ID: a.MsgDataID, Index: a.Index})
			}
		case *weibo.SourceSection:
			for _, w := range x.Weibos {
				out = append(out, simulator.SimThread{Platform: model.PlatformWeibo, ID: w.ID})
			}
		}
	}
	return out
}

// baseURLKey is one base_url key of a config and the URL the simulator
// serves that section at.
type baseURLKey struct {
	key, got, want string
}

// simURL is the simulator's URL of an API, by section type; ok is false
// for a type the simulator does not imitate.
func simURL(typ string, urls simulator.SimBaseURLs) (u string, ok bool) {
	switch typ {
	case douyin.Type:
		return urls.Douyin, true
	case kitkot.SourceType, kitkot.ResponderType:
		return urls.Kitkot, true
	case wechat.Type:
		return urls.WeChat, true
	case weibo.Type:
		return urls.Weibo, true
	}
	return "", false
}

// baseURLKeys lists the base_url keys of the sections cfg has, with what
// they should be for a simulator at urls.
func baseURLKeys(cfg *config.Config, urls simulator.SimBaseURLs) []baseURLKey {
	var out []baseURLKey
	add := func(key, typ, got string) {
		if want, ok := simURL(typ, urls); ok {
			out = append(out, baseURLKey{key + ".base_url", strings.TrimRight(got, "/"), want})
		}
	}
	for _, s := range cfg.Sources {
		add(s.Key(), s.Type, s.Section.Base().BaseURL)
	}
	for _, r := range cfg.Responders {
		add(r.Key(), r.Type, r.Section.Base().BaseURL)
	}
	// A model endpoint on loopback is an earlier run's imitation; one
	// elsewhere is the operator's own, left alone.
	for _, e := range cfg.LLM {
		if u, err := url.Parse(e.BaseURL); err == nil && u.Hostname() == "127.0.0.1" {
			out = append(out, baseURLKey{e.Key() + ".base_url", strings.TrimRight(e.BaseURL, "/"), urls.LLM})
		}
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
		if th.Video {
			n["video"]++
			continue
		}
		n[th.Platform]++
	}
	var parts []string
	for _, p := range []struct{ platform, one, many string }{
		{model.PlatformDouyin, "Douyin thread", "Douyin threads"},
		{"video", "Douyin video", "Douyin videos"},
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
