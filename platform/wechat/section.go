package wechat

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/platform"
)

// Type is the section type of the WeChat source and of the responder.
const Type = Name

// DefaultBaseURL is WeChat's API root.
const DefaultBaseURL = "https://api.weixin.qq.com"

func init() {
	platform.Register(platform.Spec{Type: Type,
		Source: &platform.SourceSpec{
			Platform:         model.PlatformWeChat,
			DefaultResponder: Type,
			NewSection:       func() platform.SourceSection { return NewSourceSection() },
			New:              newSourceFromSection,
		},
		Responder: &platform.ResponderSpec{
			Answers:    []string{model.PlatformWeChat},
			NewSection: func() platform.ResponderSection { return NewResponderSection() },
			New:        newResponderFromSection,
		},
	})
}

// App is what identifies an Official Account app in a section.
type App struct {
	AppID         string          `koanf:"app_id" json:"app_id"`
	AppSecret     platform.Secret `koanf:"app_secret" json:"app_secret"`
	AppSecretFile string          `koanf:"app_secret_file" json:"app_secret_file,omitempty"`
	// TokenAPI is TokenStable (POST /cgi-bin/stable_token) or TokenLegacy
	// (GET /cgi-bin/token, which invalidates the previous token on every
	// call).
	TokenAPI string `koanf:"token_api" json:"token_api"`
}

func (a *App) check(key string, p platform.Problems) {
	platform.CheckRequired(p, key+".app_id", a.AppID)
	platform.CheckOneOf(p, key+".token_api", a.TokenAPI, TokenStable, TokenLegacy)
}

func (a *App) secrets() []platform.SecretRef {
	return []platform.SecretRef{{Key: "app_secret", Value: &a.AppSecret, File: &a.AppSecretFile, Required: true}}
}

// client returns the app's client, shared by every section of the build
// that names the app: two token refreshers of one app would invalidate each
// other's tokens. Two sections naming one app id must agree on its
// endpoint, secret and token API.
func (a *App) client(env *platform.Env, baseURL string, timeout time.Duration) (*Client, error) {
	cfg := ClientConfig{BaseURL: baseURL, AppID: a.AppID, AppSecret: a.AppSecret.Value(), TokenAPI: a.TokenAPI, Timeout: timeout}
	v, err := env.Shared("wechat-app:"+a.AppID, func() (any, error) { return NewClient(cfg) })
	if err != nil {
		return nil, err
	}
	c := v.(*Client)
	if !c.Same(cfg) {
		return nil, fmt.Errorf("app_id %s is also configured with another base_url, app_secret or token_api: give both sections the same values", a.AppID)
	}
	return c, nil
}

// Watch is one watched article: its msg_data_id and index.
type Watch struct {
	MsgDataID string            `koanf:"msg_data_id" json:"msg_data_id"`
	Index     int               `koanf:"index" json:"index"`
	Labels    map[string]string `koanf:"labels" json:"labels,omitempty"`
	// Responder routes this article's answers to another responders section.
	Responder string `koanf:"responder" json:"responder,omitempty"`
}

// SourceSection is a `sources.<name>` section of type wechat.
type SourceSection struct {
	platform.SourceBase `koanf:",squash"`
	App                 `koanf:",squash"`
	Articles            []Watch `koanf:"articles" json:"articles"`
	// ArticlesFile holds more articles, one JSON object a line (see
	// platform.ListOf), watched after those of Articles.
	ArticlesFile string `koanf:"articles_file" json:"articles_file,omitempty"`

	articlesFrom platform.ListFrom
}

// NewSourceSection returns a section with every default.
func NewSourceSection() *SourceSection {
	return &SourceSection{
		SourceBase: platform.NewSourceBase(DefaultBaseURL, DefaultSourceTimeout),
		App:        App{TokenAPI: TokenStable},
	}
}

// Check implements platform.SourceSection.
func (s *SourceSection) Check(key string, p platform.Problems) {
	s.App.check(key, p)
	if len(s.Articles) == 0 {
		p.Addf(key+".articles", "no articles to watch: list at least one {msg_data_id, index} in articles or articles_file")
	}
	seen := make(map[string]int, len(s.Articles))
	for i, a := range s.Articles {
		k := key + "." + s.articlesFrom.Key("articles", i)
		platform.CheckID(p, k+".msg_data_id", a.MsgDataID, false)
		if a.Index < 0 {
			p.Addf(k+".index", "must not be negative")
		}
		platform.CheckLabels(p, k+".labels", a.Labels)
		platform.CheckRoute(p, k+".responder", a.Responder)
		if a.MsgDataID == "" {
			continue
		}
		id := a.MsgDataID + "/" + strconv.Itoa(a.Index)
		if j, dup := seen[id]; dup {
			p.Addf(k, "duplicate article %s index %d: also at %s.%s", a.MsgDataID, a.Index, key, s.articlesFrom.Key("articles", j))
			continue
		}
		seen[id] = i
	}
}

// ListFiles implements platform.ListFiler: articles_file.
func (s *SourceSection) ListFiles() []platform.ListFile {
	return []platform.ListFile{platform.ListOf("articles", &s.ArticlesFile, &s.Articles, &s.articlesFrom)}
}

// Secrets implements platform.SourceSection.
func (s *SourceSection) Secrets() []platform.SecretRef { return s.App.secrets() }

// Watched implements platform.SourceSection.
func (s *SourceSection) Watched() []platform.Watched {
	out := make([]platform.Watched, len(s.Articles))
	for i, a := range s.Articles {
		out[i] = platform.Watched{Key: s.articlesFrom.Key("articles", i), ThreadID: ThreadID(a.MsgDataID, a.Index), Responder: a.Responder}
	}
	return out
}

// SelfUIDs implements platform.SourceSection: WeChat shows our answer as
// the comment's `reply`, never as a comment of its own.
func (s *SourceSection) SelfUIDs() []string { return nil }

func newSourceFromSection(sec platform.SourceSection, env *platform.Env) (platform.Source, error) {
	s := sec.(*SourceSection)
	client, err := s.App.client(env, s.BaseURL, s.Timeout)
	if err != nil {
		return nil, err
	}
	articles := make([]Article, len(s.Articles))
	for i, a := range s.Articles {
		articles[i] = Article{MsgDataID: a.MsgDataID, Index: a.Index, Labels: a.Labels}
	}
	return NewSource(SourceConfig{Client: client, Articles: articles, Timeout: s.Timeout, Location: env.Location,
		Rate: s.RateLimit, Burst: s.Burst})
}

// ResponderSection is a `responders.<name>` section of type wechat.
type ResponderSection struct {
	platform.ResponderBase `koanf:",squash"`
	App                    `koanf:",squash"`
	// MaxLength is the longest reply sent, in runes; longer ones fail
	// (too_long) without a call. WeChat's real limit is not documented.
	MaxLength int `koanf:"max_length" json:"max_length"`
}

// NewResponderSection returns a section with every default.
func NewResponderSection() *ResponderSection {
	return &ResponderSection{
		ResponderBase: platform.NewResponderBase(DefaultBaseURL, platform.DefaultResponderRate),
		App:           App{TokenAPI: TokenStable},
		MaxLength:     DefaultMaxLength,
	}
}

// Check implements platform.ResponderSection.
func (s *ResponderSection) Check(key string, p platform.Problems) {
	s.App.check(key, p)
	platform.CheckMaxLength(p, key, s.MaxLength)
}

// Secrets implements platform.ResponderSection.
func (s *ResponderSection) Secrets() []platform.SecretRef { return s.App.secrets() }

func newResponderFromSection(sec platform.ResponderSection, env *platform.Env) (platform.Responder, error) {
	s := sec.(*ResponderSection)
	if s == nil {
		return nil, errors.New("wechat: no section")
	}
	client, err := s.App.client(env, s.BaseURL, s.Timeout)
	if err != nil {
		return nil, err
	}
	return NewResponder(ResponderConfig{Client: client, Timeout: s.Timeout, MaxLength: s.MaxLength})
}
