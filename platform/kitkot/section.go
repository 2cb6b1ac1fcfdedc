package kitkot

import (
	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/platform"
)

// Section types of this package.
const (
	// SourceType is the TikTok source's section type.
	SourceType = "tiktok"
	// ResponderType is the responder's section type (also Name).
	ResponderType = Name
)

// DefaultBaseURL is kitkot's API root.
const DefaultBaseURL = "https://kitkot.xyz/api"

func init() {
	platform.Register(platform.Spec{Type: SourceType, Source: &platform.SourceSpec{
		Platform:         model.PlatformTikTok,
		DefaultResponder: ResponderType,
		NewSection:       func() platform.SourceSection { return NewSourceSection() },
		New:              newSourceFromSection,
	}})
	platform.Register(platform.Spec{Type: ResponderType, Responder: &platform.ResponderSpec{
		Answers:    []string{model.PlatformDouyin, model.PlatformTikTok},
		NewSection: func() platform.ResponderSection { return NewResponderSection() },
		New:        newResponderFromSection,
	}})
}

// SourceSection is a `sources.<name>` section of type tiktok.
type SourceSection struct {
	platform.SourceBase `koanf:",squash"`
	APIKey              platform.Secret          `koanf:"api_key" json:"api_key"`
	APIKeyFile          string                   `koanf:"api_key_file" json:"api_key_file,omitempty"`
	SelfUIDList         []string                 `koanf:"self_uids" json:"self_uids"`
	MaxPages            int                      `koanf:"max_pages" json:"max_pages"`
	FullRescanEvery     int                      `koanf:"full_rescan_every" json:"full_rescan_every"`
	Threads             []platform.CommentThread `koanf:"threads" json:"threads"`
	// ThreadsFile holds more threads, one JSON object a line (see
	// platform.ListOf), watched after those of Threads.
	ThreadsFile string `koanf:"threads_file" json:"threads_file,omitempty"`

	threadsFrom platform.ListFrom
}

// NewSourceSection returns a section with every default.
func NewSourceSection() *SourceSection {
	return &SourceSection{
		SourceBase:      platform.NewSourceBase(DefaultBaseURL, DefaultSourceTimeout),
		MaxPages:        DefaultMaxPages,
		FullRescanEvery: DefaultFullRescanEvery,
	}
}

// Check implements platform.SourceSection.
func (s *SourceSection) Check(key string, p platform.Problems) {
	platform.CheckSelfUIDs(p, key, s.SelfUIDList)
	platform.CheckPaging(p, key, s.MaxPages, s.FullRescanEvery)
	platform.CheckCommentThreads(p, key, s.Threads, &s.threadsFrom)
}

// ListFiles implements platform.ListFiler: threads_file.
func (s *SourceSection) ListFiles() []platform.ListFile {
	return []platform.ListFile{platform.ListOf("threads", &s.ThreadsFile, &s.Threads, &s.threadsFrom)}
}

// Secrets implements platform.SourceSection.
func (s *SourceSection) Secrets() []platform.SecretRef {
	return []platform.SecretRef{{Key: "api_key", Value: &s.APIKey, File: &s.APIKeyFile, Required: true}}
}

// Watched implements platform.SourceSection.
func (s *SourceSection) Watched() []platform.Watched {
	return platform.CommentThreadsWatched(s.Threads, &s.threadsFrom)
}

// SelfUIDs implements platform.SourceSection.
func (s *SourceSection) SelfUIDs() []string { return s.SelfUIDList }

func newSourceFromSection(sec platform.SourceSection, _ *platform.Env) (platform.Source, error) {
	s := sec.(*SourceSection)
	return NewSource(SourceConfig{
		BaseURL:         s.BaseURL,
		APIKey:          s.APIKey.Value(),
		Timeout:         s.Timeout,
		MaxPages:        s.MaxPages,
		FullRescanEvery: platform.RescanEvery(s.FullRescanEvery),
		Threads:         platform.CommentThreadsModel(s.Threads),
		Rate:            s.RateLimit,
		Burst:           s.Burst,
	})
}

// ResponderSection is a `responders.<name>` section of type kitkot.
type ResponderSection struct {
	platform.ResponderBase `koanf:",squash"`
	APIKey                 platform.Secret `koanf:"api_key" json:"api_key"`
	APIKeyFile             string          `koanf:"api_key_file" json:"api_key_file,omitempty"`
	SessionKey             platform.Secret `koanf:"session_key" json:"session_key"`
	SessionKeyFile         string          `koanf:"session_key_file" json:"session_key_file,omitempty"`
	// MaxLength is the longest reply sent, in runes; longer ones fail
	// (too_long) without a request.
	MaxLength int `koanf:"max_length" json:"max_length"`
}

// NewResponderSection returns a section with every default.
func NewResponderSection() *ResponderSection {
	return &ResponderSection{
		ResponderBase: platform.NewResponderBase(DefaultBaseURL, platform.DefaultResponderRate),
		MaxLength:     DefaultMaxLength,
	}
}

// Check implements platform.ResponderSection.
func (s *ResponderSection) Check(key string, p platform.Problems) {
	platform.CheckMaxLength(p, key, s.MaxLength)
}

// Secrets implements platform.ResponderSection.
func (s *ResponderSection) Secrets() []platform.SecretRef {
	return []platform.SecretRef{
		{Key: "api_key", Value: &s.APIKey, File: &s.APIKeyFile, Required: true},
		{Key: "session_key", Value: &s.SessionKey, File: &s.SessionKeyFile, Required: true},
	}
}

func newResponderFromSection(sec platform.ResponderSection, _ *platform.Env) (platform.Responder, error) {
	s := sec.(*ResponderSection)
	return NewResponder(ResponderConfig{
		BaseURL:    s.BaseURL,
		APIKey:     s.APIKey.Value(),
		SessionKey: s.SessionKey.Value(),
		Timeout:    s.Timeout,
		MaxLength:  s.MaxLength,
	})
}
