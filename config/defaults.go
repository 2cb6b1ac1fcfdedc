package config

import (
	"time"

	"github.com/autoreplyd/autoreplyd/platform"
)

// Defaults of the top-level keys. A section's defaults are its platform's
// (each platform package's NewSection); the keys every section shares take
// the platform contract's, named here too for the daemon's checks.
const (
	// Retry policy: equal to poller.DefaultMaxAttempts, DefaultMaxRetryAge,
	// DefaultRetryInitial and DefaultRetryMax (see there for why).
	DefaultRetryMaxAttempts  = 5
	DefaultRetryMaxAge       = 24 * time.Hour
	DefaultRetryInitialDelay = time.Minute
	DefaultRetryMaxDelay     = time.Hour

	// DefaultApprovalMaxAge: a held answer not approved within a day is
	// not worth sending.
	DefaultApprovalMaxAge = 24 * time.Hour
	// DefaultNotifyRate: chat robots accept about 20 messages a minute.
	DefaultNotifyRate = "20/m"
	// DefaultNotifyTimeout bounds one delivery to a channel.
	DefaultNotifyTimeout = 10 * time.Second

	// DefaultSendJitter bounds the random pause before each send.
	DefaultSendJitter = 3 * time.Second

	DefaultQuietPolls      = platform.DefaultQuietPolls
	DefaultSourceBurst     = platform.DefaultSourceBurst
	DefaultSourceStopPause = platform.DefaultSourceStopPause
	DefaultAvoidRepeat     = platform.DefaultAvoidRepeat
	DefaultBreakerFailures = platform.DefaultBreakerFailures
	DefaultBreakerPause    = platform.DefaultBreakerPause
)

func defaultConfig() *Config {
	return &Config{
		Database:   DefaultDatabase,
		Rules:      DefaultRules,
		Schedule:   DefaultSchedule,
		Timezone:   DefaultTimezone,
		Listen:     DefaultListen,
		Log:        Log{Level: "info", Format: "text"},
		SendJitter: DefaultSendJitter,
		Approval:   Approval{MaxAge: DefaultApprovalMaxAge},
		Retry: Retry{
			MaxAttempts:  DefaultRetryMaxAttempts,
			MaxAge:       DefaultRetryMaxAge,
			InitialDelay: DefaultRetryInitialDelay,
			MaxDelay:     DefaultRetryMaxDelay,
		},
	}
}
