package platform

import (
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/autoreplyd/autoreplyd/model"
)

// This file is the configuration side of the contract: what a platform
// declares (its section types, with their defaults, checks and secrets) and
// the registry the config and the daemon find platforms in.

// Redacted is what a Secret prints instead of its value.
const Redacted = "[redacted]"

// Secret is a credential. Every way of printing it (fmt verbs, JSON, text
// marshalling, slog) gives Redacted; Value returns the real string.
type Secret string

// Value returns the secret itself; use it only where the platform needs it.
func (s Secret) Value() string { return string(s) }

// String implements fmt.Stringer.
func (s Secret) String() string { return Redacted }

// GoString implements fmt.GoStringer, for %#v.
func (s Secret) GoString() string { return `"` + Redacted + `"` }

// Format keeps every verb (%s, %v, %q, %x, ...) away from the value.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		_, _ = io.WriteString(f, s.GoString())
		return
	}
	_, _ = io.WriteString(f, Redacted)
}

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(Redacted) }

// MarshalText implements encoding.TextMarshaler.
func (s Secret) MarshalText() ([]byte, error) { return []byte(Redacted), nil }

// MarshalJSON implements json.Marshaler.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + Redacted + `"`), nil }

// SecretRef is one secret key of a section: the inline value, its *_file
// sibling, and whether one of them must be given. Key is relative to the
// section ("token"); the file key is Key + "_file".
type SecretRef struct {
	Key      string
	Value    *Secret
	File     *string
	Required bool
}

// Problems collects the problems of a configuration, each naming its full
// key path ("sources.douyin.threads[2].comment_id").
type Problems interface {
	Addf(key, format string, args ...any)
}

// Backlog policies: what to do with the comments already present when a
// thread is first seen.
const (
	BacklogSkip   = "skip"
	BacklogAnswer = "answer"
)

// Defaults of the keys every source or responder section has. A platform's
// own defaults are set by its section constructor.
const (
	DefaultSourceRate        = "5/s" // every platform bills or throttles calls; see docs/operator.md
	DefaultSourceBurst       = 1     // calls spread evenly
	DefaultSourceConcurrency = 1     // threads polled one at a time
	// DefaultQuietPolls: three empty polls in a row tell a quiet thread
	// from one between two replies of a conversation.
	DefaultQuietPolls = 3
	// DefaultSourceStopPause is how long a source stopped by a credentials
	// or balance answer stays paused in the store, so that a crash or
	// restart loop does not resume paying for refused calls; the running
	// process keeps it stopped until restart.
	DefaultSourceStopPause = time.Hour

	DefaultResponderRate  = "20/m"
	DefaultResponderBurst = 1
	DefaultDailyCap       = 500
	DefaultAvoidRepeat    = 10
	// DefaultBreakerFailures is how many permanent account-level failures
	// in a row trip a responder's breaker (refusals of one reply's content
	// or target never count): one may be a passing fluke; five in a row
	// mean the account or its session is refused, and every further send
	// only adds to a platform's risk score.
	DefaultBreakerFailures = 5
	// DefaultBreakerPause is how long a tripped responder stays paused: long
	// enough for a risk-control block or an expired session to be noticed
	// and fixed, short enough that answers held meanwhile are still timely.
	DefaultBreakerPause     = 30 * time.Minute
	DefaultResponderTimeout = 30 * time.Second
)

// Polling is how hard a source may press its platform.
type Polling struct {
	// Rate bounds the source's API calls (every page of every thread):
	// N/s, N/m or N/h.
	Rate string `koanf:"rate" json:"rate"`
	// RateLimit is Rate parsed (by the config).
	RateLimit rate.Limit `koanf:"-" json:"rate_limit"`
	// Burst is the token bucket size of Rate.
	Burst int `koanf:"burst" json:"burst"`
	// Concurrency bounds the threads polled at once (the rate limit
	// still applies to every call).
	Concurrency int `koanf:"concurrency" json:"concurrency"`
}

// Adaptive is a source's adaptive polling: a thread whose last QuietPolls
// polls found nothing new is polled less and less often (each interval twice
// the last), down to once every MaxInterval, and every cycle again once a
// poll finds something.
type Adaptive struct {
	// MaxInterval is the longest time between two polls of a quiet thread;
	// 0 turns adaptive polling off (every thread is polled every cycle).
	MaxInterval time.Duration `koanf:"max_interval" json:"max_interval"`
	// QuietPolls is how many polls in a row must find nothing new before a
	// thread backs off; at least 1.
	QuietPolls int `koanf:"quiet_polls" json:"quiet_polls"`
}

// SourceBase holds the keys every source section has; a platform's section
// type embeds it (with `koanf:",squash"`).
type SourceBase struct {
	// Type is the platform type; empty when the section's name is its type.
	Type    string `koanf:"type" json:"type,omitempty"`
	BaseURL string `koanf:"base_url" json:"base_url"`
	// Responder names the responders section that answers this source's
	// threads (a thread may name another); empty picks the default (see
	// SourceSpec.DefaultResponder).
	Responder string        `koanf:"responder" json:"responder"`
	Backlog   string        `koanf:"backlog" json:"backlog"`
	Timeout   time.Duration `koanf:"timeout" json:"timeout"`
	Polling   `koanf:",squash"`
	Adaptive  `koanf:",squash"`
}

// Base returns b: every section type has the method through embedding.
func (b *SourceBase) Base() *SourceBase { return b }

// NewSourceBase returns the common defaults with the platform's base URL and
// call timeout.
func NewSourceBase(baseURL string, timeout time.Duration) SourceBase {
	return SourceBase{
		BaseURL: baseURL,
		Backlog: BacklogSkip,
		Timeout: timeout,
		Polling: Polling{Rate: DefaultSourceRate, Burst: DefaultSourceBurst, Concurrency: DefaultSourceConcurrency},
		Adaptive: Adaptive{
			QuietPolls: DefaultQuietPolls,
		},
	}
}

// Pacing is the rate limiting every responder section has.
type Pacing struct {
	// Rate is the token bucket refill as written: N/s, N/m or N/h.
	Rate string `koanf:"rate" json:"rate"`
	// RateLimit is Rate parsed (by the config).
	RateLimit rate.Limit `koanf:"-" json:"rate_limit"`
	// Burst is the token bucket size.
	Burst int `koanf:"burst" json:"burst"`
	// DailyCap is the most answers per day; 0 means no cap.
	DailyCap int `koanf:"daily_cap" json:"daily_cap"`
	// AvoidRepeat: a reply with variants avoids the texts this responder
	// account posted in its last AvoidRepeat answers; 0 turns it off.
	AvoidRepeat int `koanf:"avoid_repeat" json:"avoid_repeat"`
	// BreakerFailures permanent refusals in a row pause the responder for
	// BreakerPause; 0 turns the breaker off.
	BreakerFailures int           `koanf:"breaker_failures" json:"breaker_failures"`
	BreakerPause    time.Duration `koanf:"breaker_pause" json:"breaker_pause"`
}

// ResponderBase holds the keys every responder section has.
type ResponderBase struct {
	// Type is the responder type; empty when the section's name is its type.
	Type    string        `koanf:"type" json:"type,omitempty"`
	BaseURL string        `koanf:"base_url" json:"base_url"`
	Timeout time.Duration `koanf:"timeout" json:"timeout"`
	Pacing  `koanf:",squash"`
}

// Base returns b: every section type has the method through embedding.
func (b *ResponderBase) Base() *ResponderBase { return b }

// NewResponderBase returns the common defaults with the platform's base URL
// and send rate.
func NewResponderBase(baseURL, sendRate string) ResponderBase {
	return ResponderBase{
		BaseURL: baseURL,
		Timeout: DefaultResponderTimeout,
		Pacing: Pacing{Rate: sendRate, Burst: DefaultResponderBurst, DailyCap: DefaultDailyCap, AvoidRepeat: DefaultAvoidRepeat,
			BreakerFailures: DefaultBreakerFailures, BreakerPause: DefaultBreakerPause},
	}
}

// Watched is one watched thread as a section lists it.
type Watched struct {
	// Key is the entry's path inside the section, for errors ("threads[2]").
	Key string
	// ThreadID is the thread's id as the source reports it (model.Thread.ID).
	ThreadID string
	// Responder is the responders section the entry routes its answers to;
	// empty: the section's.
	Responder string
	// VideoID is set instead of ThreadID by an entry that watches a whole
	// video (Douyin's `videos`): two sections watching one video would list
	// it, and answer its top-level comments, twice per cycle.
	VideoID string
}

// CommentThread is one watched comment thread of a video platform (Douyin,
// TikTok): a top-level comment whose replies are polled.
type CommentThread struct {
	// CommentID is the top-level comment's id, all digits.
	CommentID string `koanf:"comment_id" json:"comment_id"`
	// AwemeID is the video's id, all digits; optional.
	AwemeID string            `koanf:"aweme_id" json:"aweme_id,omitempty"`
	Labels  map[string]string `koanf:"labels" json:"labels,omitempty"`
	// Responder routes this thread's answers to another responders section.
	Responder string `koanf:"responder" json:"responder,omitempty"`
}

// CheckCommentThreads checks a section's threads: ids, labels, routes, no
// thread listed twice (in the YAML list or its file), at least one. from
// says where each was written (nil: all in the YAML).
func CheckCommentThreads(p Problems, section string, ts []CommentThread, from *ListFrom) {
	if len(ts) == 0 {
		p.Addf(section+".threads", "no threads to watch: list at least one {comment_id, aweme_id} in threads or threads_file")
	}
	seen := make(map[string]int, len(ts))
	for i, t := range ts {
		// The keys are made only for a thread with a problem: a list of
		// 100,000 threads is checked on every start and every `check`.
		if !commentThreadOK(t) {
			k := section + "." + from.Key("threads", i)
			CheckID(p, k+".comment_id", t.CommentID, false)
			CheckID(p, k+".aweme_id", t.AwemeID, true)
			CheckLabels(p, k+".labels", t.Labels)
			CheckRoute(p, k+".responder", t.Responder)
		}
		if t.CommentID == "" {
			continue
		}
		if j, dup := seen[t.CommentID]; dup {
			p.Addf(section+"."+from.Key("threads", i)+".comment_id", "duplicate comment_id %s: also at %s.%s",
				t.CommentID, section, from.Key("threads", j))
			continue
		}
		seen[t.CommentID] = i
	}
}

// commentThreadOK reports whether CheckCommentThreads finds nothing wrong
// with t itself (duplicates aside).
func commentThreadOK(t CommentThread) bool {
	if !IsDigits(t.CommentID) || (t.AwemeID != "" && !IsDigits(t.AwemeID)) {
		return false
	}
	for k := range t.Labels {
		if strings.TrimSpace(k) == "" {
			return false
		}
	}
	return t.Responder == "" // routes are rare: check them fully

}

// CommentThreadsWatched lists comment threads as Watched; from as for
// CheckCommentThreads.
func CommentThreadsWatched(ts []CommentThread, from *ListFrom) []Watched {
	out := make([]Watched, len(ts))
	for i, t := range ts {
		out[i] = Watched{Key: from.Key("threads", i), ThreadID: t.CommentID, Responder: t.Responder}
	}
	return out
}

// CommentThreadsModel converts comment threads to the model's.
func CommentThreadsModel(ts []CommentThread) []model.Thread {
	out := make([]model.Thread, len(ts))
	for i, t := range ts {
		out[i] = model.Thread{ID: t.CommentID, PostID: t.AwemeID, Labels: t.Labels}
	}
	return out
}

// SourceSection is a source section's decoded configuration.
type SourceSection interface {
	Base() *SourceBase
	// Check validates the platform's own keys (the config checks the
	// SourceBase ones); key is the section's path ("sources.douyin").
	Check(key string, p Problems)
	// Secrets are the section's secret keys, resolved before Check.
	Secrets() []SecretRef
	// Watched lists the watched threads in the order configured.
	Watched() []Watched
	// SelfUIDs are the ids of our own accounts on the platform, whose
	// comments are never answered (nil where the platform has none).
	SelfUIDs() []string
}

// ResponderSection is a responder section's decoded configuration.
type ResponderSection interface {
	Base() *ResponderBase
	Check(key string, p Problems)
	Secrets() []SecretRef
}

// Env is what the factories of one build share.
type Env struct {
	// Location is the configured time zone.
	Location *time.Location

	mu     sync.Mutex
	shared map[string]any
}

// Shared returns the value stored under key, making it with mk on first
// use: a platform uses it for what its sections must share (one WeChat
// access token refresher per app, whichever sections name the app).
func (e *Env) Shared(key string, mk func() (any, error)) (any, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if v, ok := e.shared[key]; ok {
		return v, nil
	}
	v, err := mk()
	if err != nil {
		return nil, err
	}
	if e.shared == nil {
		e.shared = map[string]any{}
	}
	e.shared[key] = v
	return v, nil
}

// SourceSpec declares a source type.
type SourceSpec struct {
	// Platform is the model.Platform* of the comments the source lists.
	Platform string
	// DefaultResponder is the responder type that answers the platform by
	// default ("kitkot" for Douyin).
	DefaultResponder string
	// NewSection returns a section with every default set.
	NewSection func() SourceSection
	// New builds the source from a checked section.
	New func(sec SourceSection, env *Env) (Source, error)
}

// ResponderSpec declares a responder type.
type ResponderSpec struct {
	// Answers are the platforms whose comments the responder can answer.
	Answers []string
	// NewSection returns a section with every default set.
	NewSection func() ResponderSection
	// New builds the responder from a checked section.
	New func(sec ResponderSection, env *Env) (Responder, error)
}

// Spec registers one section type: a source, a responder, or both.
type Spec struct {
	// Type is the section type, as `type:` names it, and the section name
	// that needs no `type:` ("douyin", "kitkot").
	Type      string
	Source    *SourceSpec
	Responder *ResponderSpec
}

var (
	regMu sync.RWMutex
	specs = map[string]Spec{}
)

// TypePattern is what a type or section name may be.
var TypePattern = regexp.MustCompile(`^[a-z0-9_-]{1,64}$`)

// Register adds spec to the registry. Registering a type twice, or a spec
// without a type, a source or a responder, is a programming error: it
// panics.
func Register(spec Spec) {
	regMu.Lock()
	defer regMu.Unlock()
	switch {
	case !TypePattern.MatchString(spec.Type):
		panic(fmt.Sprintf("platform: Register: bad type %q", spec.Type))
	case spec.Source == nil && spec.Responder == nil:
		panic(fmt.Sprintf("platform: Register(%q): neither a source nor a responder", spec.Type))
	case spec.Source != nil && (spec.Source.NewSection == nil || spec.Source.New == nil || spec.Source.Platform == ""):
		panic(fmt.Sprintf("platform: Register(%q): incomplete SourceSpec", spec.Type))
	case spec.Responder != nil && (spec.Responder.NewSection == nil || spec.Responder.New == nil || len(spec.Responder.Answers) == 0):
		panic(fmt.Sprintf("platform: Register(%q): incomplete ResponderSpec", spec.Type))
	}
	if _, dup := specs[spec.Type]; dup {
		panic(fmt.Sprintf("platform: Register(%q) twice", spec.Type))
	}
	specs[spec.Type] = spec
}

// Lookup returns the spec of a type.
func Lookup(typ string) (Spec, bool) {
	regMu.RLock()
	defer regMu.RUnlock()
	s, ok := specs[typ]
	return s, ok
}

// SourceTypes returns the registered source types, sorted.
func SourceTypes() []string { return types(func(s Spec) bool { return s.Source != nil }) }

// ResponderTypes returns the registered responder types, sorted.
func ResponderTypes() []string { return types(func(s Spec) bool { return s.Responder != nil }) }

func types(keep func(Spec) bool) []string {
	regMu.RLock()
	defer regMu.RUnlock()
	var out []string
	for t, s := range specs {
		if keep(s) {
			out = append(out, t)
		}
	}
	sort.Strings(out)
	return out
}

// Platforms returns the platforms the registered sources list, sorted.
func Platforms() []string {
	regMu.RLock()
	defer regMu.RUnlock()
	var out []string
	for _, s := range specs {
		if s.Source != nil && !slices.Contains(out, s.Source.Platform) {
			out = append(out, s.Source.Platform)
		}
	}
	sort.Strings(out)
	return out
}

// CanAnswer reports whether the responder type answers comments of platform.
func CanAnswer(responderType, platform string) bool {
	s, ok := Lookup(responderType)
	return ok && s.Responder != nil && slices.Contains(s.Responder.Answers, platform)
}

// Check helpers: the words of every section's problems.

// CheckOneOf reports whether v is one of allowed, adding a problem when not.
func CheckOneOf(p Problems, key, v string, allowed ...string) bool {
	if slices.Contains(allowed, v) {
		return true
	}
	p.Addf(key, "%q is not one of %s", v, strings.Join(allowed, ", "))
	return false
}

// CheckRequired adds a problem when v is empty.
func CheckRequired(p Problems, key, v string) {
	if strings.TrimSpace(v) == "" {
		p.Addf(key, "missing")
	}
}

// CheckPositive adds a problem when d is not a positive duration.
func CheckPositive(p Problems, key string, d time.Duration) {
	if d <= 0 {
		p.Addf(key, "must be a positive duration, e.g. 30s")
	}
}

// IsDigits reports whether s is a non-empty run of ASCII digits.
func IsDigits(s string) bool {
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

// CheckID checks a required (or, with optional, possibly empty) id: decimal
// digits only, as the platforms write them. Unquoted, YAML would have read
// 0x10 as 16 and 0123 as 83; the text written reaches the config and is
// refused here rather than silently watching another thread.
func CheckID(p Problems, key, v string, optional bool) {
	switch {
	case v == "" && optional:
	case v == "":
		p.Addf(key, "missing")
	case !IsDigits(v):
		p.Addf(key, "%q is not a numeric id: ids are decimal digits only; write the id in quotes as the platform shows it, e.g. \"7251524159191958327\"", v)
	}
}

// CheckLabels refuses an empty label name.
func CheckLabels(p Problems, key string, l map[string]string) {
	for k := range l {
		if strings.TrimSpace(k) == "" {
			p.Addf(key, "empty label name")
		}
	}
}

// CheckSelfUIDs checks a section's self_uids: numeric ids.
func CheckSelfUIDs(p Problems, section string, uids []string) {
	for i, u := range uids {
		key := fmt.Sprintf("%s.self_uids[%d]", section, i)
		if strings.TrimSpace(u) == "" {
			p.Addf(key, "empty")
			continue
		}
		CheckID(p, key, u, false)
	}
}

// CheckPaging checks max_pages and full_rescan_every.
func CheckPaging(p Problems, section string, maxPages, rescan int) {
	if maxPages < 1 {
		p.Addf(section+".max_pages", "must be at least 1")
	}
	if rescan < 0 {
		p.Addf(section+".full_rescan_every", "must not be negative (0 turns full rescans off)")
	}
}

// RescanEvery is a section's full_rescan_every as the sources take it: the
// config's 0 turns periodic full rescans off, which a source's own config
// spells as a negative number (its 0 means "the default").
func RescanEvery(n int) int {
	if n == 0 {
		return -1
	}
	return n
}

// CheckMaxLength checks a responder's max_length.
func CheckMaxLength(p Problems, section string, n int) {
	if n < 1 {
		p.Addf(section+".max_length", "must be at least 1")
	}
}

// CheckRoute checks a watched entry's own `responder` key: a section name
// (whether that section exists and can answer is the config's check).
func CheckRoute(p Problems, key, name string) {
	if name != "" && !TypePattern.MatchString(name) {
		p.Addf(key, "%q is not a section name (lower case letters, digits, _ and -)", name)
	}
}
