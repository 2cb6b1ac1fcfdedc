package weibo

import (
	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/platform"
)

// Type is the section type of the Weibo source and of the responder.
const Type = Name

// DefaultBaseURL is Weibo's open API root.
const DefaultBaseURL = "https://api.weibo.com"

// DefaultRate is the responder's: Weibo allows about 60 comments per hour
// per user and app.
const DefaultRate = "1/m"

func init() {
	platform.Register(platform.Spec{Type: Type,
		Source: &platform.SourceSpec{
			Platform:         model.PlatformWeibo,
			DefaultResponder: Type,
			NewSection:       func() platform.SourceSection { return NewSourceSection() },
			New:              newSourceFromSection,
		},
		Responder: &platform.ResponderSpec{
			Answers:    []string{model.PlatformWeibo},
			NewSection: func() platform.ResponderSection { return NewResponderSection() },
			New:        newResponderFromSection,
		},
	})
}

// Watch is one watched weibo.
type Watch struct {
	ID     string            `koanf:"id" json:"id"`
	Labels map[string]string `koanf:"labels" json:"labels,omitempty"`
	// Responder routes this weibo's answers to another responders section.
	Responder string `koanf:"responder" json:"responder,omitempty"`
}

// SourceSection is a `sources.<name>` section of type weibo.
type SourceSection struct {
	platform.SourceBase `koanf:",squash"`
	AccessToken         platform.Secret `koanf:"access_token" json:"access_token"`
	AccessTokenFile     string          `koanf:"access_token_file" json:"access_token_file,omitempty"`
	SelfUIDList         []string        `koanf:"self_uids" json:"self_uids"`
	Weibos              []Watch         `koanf:"weibos" json:"weibos"`
	// WeibosFile holds more weibos, one JSON object a line (see
	// platform.ListOf), watched after those of Weibos.
	WeibosFile string `koanf:"weibos_file" json:"weibos_file,omitempty"`

	weibosFrom platform.ListFrom
}

// NewSourceSection returns a section with every default.
func NewSourceSection() *SourceSection {
	return &SourceSection{SourceBase: platform.NewSourceBase(DefaultBaseURL, DefaultSourceTimeout)}
}

// Check implements platform.SourceSection.
func (s *SourceSection) Check(key string, p platform.Problems) {
	platform.CheckSelfUIDs(p, key, s.SelfUIDList)
	if len(s.Weibos) == 0 {
		p.Addf(key+".weibos", "no weibos to watch: list at least one {id} in weibos or weibos_file")
	}
	seen := make(map[string]int, len(s.Weibos))
	for i, w := range s.Weibos {
		k := key + "." + s.weibosFrom.Key("weibos", i)
		platform.CheckID(p, k+".id", w.ID, false)
		platform.CheckLabels(p, k+".labels", w.Labels)
		platform.CheckRoute(p, k+".responder", w.Responder)
		if w.ID == "" {
			continue
		}
		if j, dup := seen[w.ID]; dup {
			p.Addf(k+".id", "duplicate id %s: also at %s.%s", w.ID, key, s.weibosFrom.Key("weibos", j))
			continue
		}
		seen[w.ID] = i
	}
}

// ListFiles implements platform.ListFiler: weibos_file.
func (s *SourceSection) ListFiles() []platform.ListFile {
	return []platform.ListFile{platform.ListOf("weibos", &s.WeibosFile, &s.Weibos, &s.weibosFrom)}
}

// Secrets implements platform.SourceSection.
func (s *SourceSection) Secrets() []platform.SecretRef {
	return []platform.SecretRef{{Key: "access_token", Value: &s.AccessToken, File: &s.AccessTokenFile, Required: true}}
}

// Watched implements platform.SourceSection.
func (s *SourceSection) Watched() []platform.Watched {
	out := make([]platform.Watched, len(s.Weibos))
	for i, w := range s.Weibos {
		out[i] = platform.Watched{Key: s.weibosFrom.Key("weibos", i), ThreadID: w.ID, Responder: w.Responder}
	}
	return out
}

// SelfUIDs implements platform.SourceSection.
func (s *SourceSection) SelfUIDs() []string { return s.SelfUIDList }

func newSourceFromSection(sec platform.SourceSection, _ *platform.Env) (platform.Source, error) {
	s := sec.(*SourceSection)
	weibos := make([]Weibo, len(s.Weibos))
	for i, w := range s.Weibos {
		weibos[i] = Weibo{ID: w.ID, Labels: w.Labels}
	}
	return NewSource(SourceConfig{BaseURL: s.BaseURL, AccessToken: s.AccessToken.Value(), Weibos: weibos, Timeout: s.Timeout,
		Rate: s.RateLimit, Burst: s.Burst})
}

// ResponderSection is a `responders.<name>` section of type weibo, with the
// v1 (statuses/reply, basic auth) or the v2 (comments/reply, OAuth2 token)
// API.
type ResponderSection struct {
	platform.ResponderBase `koanf:",squash"`
	// API is APIV1 or APIV2.
	API             string          `koanf:"api" json:"api"`
	AccessToken     platform.Secret `koanf:"access_token" json:"access_token"`
	AccessTokenFile string          `koanf:"access_token_file" json:"access_token_file,omitempty"`
	// AppKey is sent as `source` by the v1 API.
	AppKey       string          `koanf:"app_key" json:"app_key"`
	Username     string          `koanf:"username" json:"username"`
	Password     platform.Secret `koanf:"password" json:"password"`
	PasswordFile string          `koanf:"password_file" json:"password_file,omitempty"`
	// WithoutMention asks Weibo not to prefix replies with "回复@name:"
	// (without_mention=1): the whole 140 characters go to the text.
	WithoutMention bool `koanf:"without_mention" json:"without_mention"`
	// RIP is the acting user's IP, sent as `rip` by the v2 API when set.
	RIP string `koanf:"rip" json:"rip,omitempty"`
}

// NewResponderSection returns a section with every default.
func NewResponderSection() *ResponderSection {
	return &ResponderSection{
		ResponderBase: platform.NewResponderBase(DefaultBaseURL, DefaultRate),
		API:           APIV2,
	}
}

// Check implements platform.ResponderSection.
func (s *ResponderSection) Check(key string, p platform.Problems) {
	if platform.CheckOneOf(p, key+".api", s.API, APIV1, APIV2) && s.API == APIV1 {
		platform.CheckRequired(p, key+".app_key", s.AppKey)
		platform.CheckRequired(p, key+".username", s.Username)
	}
}

// Secrets implements platform.ResponderSection: only the chosen API's
// credentials are required; the other's are still resolved, so a switch of
// `api` needs no other edit.
func (s *ResponderSection) Secrets() []platform.SecretRef {
	return []platform.SecretRef{
		{Key: "access_token", Value: &s.AccessToken, File: &s.AccessTokenFile, Required: s.API == APIV2},
		{Key: "password", Value: &s.Password, File: &s.PasswordFile, Required: s.API == APIV1},
	}
}

func newResponderFromSection(sec platform.ResponderSection, _ *platform.Env) (platform.Responder, error) {
	s := sec.(*ResponderSection)
	return NewResponder(ResponderConfig{
		API:            s.API,
		BaseURL:        s.BaseURL,
		AccessToken:    s.AccessToken.Value(),
		AppKey:         s.AppKey,
		Username:       s.Username,
		Password:       s.Password.Value(),
		WithoutMention: s.WithoutMention,
		RIP:            s.RIP,
		Timeout:        s.Timeout,
	})
}
