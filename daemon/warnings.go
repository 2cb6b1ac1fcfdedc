package daemon

import (
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/autoreplyd/autoreplyd/config"
	"github.com/autoreplyd/autoreplyd/poller"
)

// Warnings are the problems of a valid configuration that let the daemon
// run but not as the operator meant: a listener others can reach, secrets
// inline in a config file others can read, a source without self_uids, a
// max_interval too short to defer anything, a rate limit too low for the
// threads watched. The daemon logs them at start and `check` prints them,
// one a line, each naming the keys to change.
func Warnings(cfg *config.Config, bindings []poller.Binding) []string {
	var period time.Duration
	if sched, err := config.ParseSchedule(cfg.Schedule); err == nil {
		period = schedulePeriod(sched, time.Now().In(cfg.Location))
	}
	var ws []string
	for _, w := range []string{listenWarning(cfg.Listen), consoleWarning(cfg), inlineSecretsWarning(cfg)} {
		if w != "" {
			ws = append(ws, w)
		}
	}
	for _, b := range bindings {
		for _, w := range []string{SelfUIDsWarning(b), adaptiveWarning(b, period)} {
			if w != "" {
				ws = append(ws, w)
			}
		}
		ws = append(ws, capacityWarnings(b, period)...)
	}
	return ws
}

// consoleWarning warns of a console served without TLS off loopback: its
// passwords and session cookies would cross the network as sent.
func consoleWarning(cfg *config.Config) string {
	if cfg.Console == nil || cfg.Console.TLS() || cfg.Listen == "" || isLoopbackHost(hostOnly(cfg.Listen)) {
		return ""
	}
	return fmt.Sprintf("console: served on %s without TLS: passwords and session cookies cross the network in clear; "+
		"set console.tls_cert_file and console.tls_key_file, or listen on loopback behind SSH or a TLS proxy", cfg.Listen)
}

// listenWarning warns of a listen address that is not a loopback one: the
// listener has no authentication, and off loopback only POST /-/reload keeps
// a Host check (see guardHost).
func listenWarning(listen string) string {
	if listen == "" {
		return ""
	}
	host := hostOnly(listen)
	if isLoopbackHost(host) {
		return ""
	}
	where := "is not a loopback address"
	if host == "" || host == "0.0.0.0" || host == "::" {
		where = "listens on every interface"
	}
	return fmt.Sprintf("listen: %s %s: /metrics, /-/healthy, /-/ready (which names file paths and pause reasons) and POST /-/reload "+
		"have no authentication, so whoever can reach it can read them and reload the rules; "+
		"use 127.0.0.1:PORT or [::1]:PORT (a local Prometheus or reverse proxy can still reach it), or firewall the port", listen, where)
}

// worldReadable is the "others may read" permission bit.
const worldReadable = 0o004

// inlineSecretsWarning warns of secrets written in the config file itself
// when every user of the machine may read that file. It names the keys,
// never the values.
func inlineSecretsWarning(cfg *config.Config) string {
	if len(cfg.InlineSecrets) == 0 || cfg.File == "" {
		return ""
	}
	fi, err := os.Stat(cfg.File)
	if err != nil || fi.Mode().Perm()&worldReadable == 0 {
		return ""
	}
	return fmt.Sprintf("%s is readable by every user (mode %04o) and holds secrets inline: %s; "+
		"give them as *_file (systemd LoadCredential=) or AUTOREPLYD_* environment variables instead, or chmod o-r the file",
		cfg.File, fi.Mode().Perm(), strings.Join(cfg.InlineSecrets, ", "))
}

// capacityWarnings compares the listing calls a source's threads need with
// what its rate limit allows, at one call per poll (the least: a busy
// thread takes a call a page):
//
//   - without adaptive polling every thread is polled every cycle, so a
//     cycle needs a call per thread within the period, or it runs over and
//     the next ones are skipped;
//   - with it a quiet thread needs a call every max_interval, from the
//     share of each cycle quiet polls get (poller.QuietBudget),
//     or it waits longer than max_interval;
//   - and until they go quiet (their first quiet_polls polls, on the first
//     start or when added) threads are all polled every cycle, which then
//     runs over as in the first case.
func capacityWarnings(b poller.Binding, period time.Duration) []string {
	n := len(b.Source.Threads())
	r := float64(b.Rate)
	if n == 0 || period <= 0 || r <= 0 || math.IsInf(r, 1) {
		return nil
	}
	key := "sources." + b.SourceName()
	perCycle := r*period.Seconds() + float64(max(b.Burst, 1))
	every := seconds(float64(n) / r)
	var ws []string
	if float64(n) > perCycle {
		if b.MaxInterval <= 0 {
			return []string{fmt.Sprintf("%s: %d threads polled every cycle need at least %d calls a cycle, but rate %s allows %d in the %s between cycles: "+
				"each cycle takes at least %s and the ones due meanwhile are skipped; raise %s.rate, set %s.max_interval (adaptive polling) or watch fewer threads",
				key, n, n, rateString(b.Rate), int(perCycle), period, every, key, key)}
		}
		quiet := max(b.QuietPolls, 1)
		ws = append(ws, fmt.Sprintf("%s: until they go quiet (%d polls that find nothing new), all %d threads are polled every cycle: at rate %s each of those cycles "+
			"takes at least %s, more than the %s between cycles (on the first start, and when many threads are added)",
			key, quiet, n, rateString(b.Rate), every, period))
	}
	if b.MaxInterval <= 0 {
		return ws
	}
	need := float64(n) / b.MaxInterval.Seconds()
	if have := r * poller.QuietBudget(period).Seconds() / period.Seconds(); need > have {
		ws = append(ws, fmt.Sprintf("%s: %d quiet threads polled once every max_interval %s need %s calls a second, more than the %s that rate %s leaves them "+
			"(three quarters of each cycle): each quiet thread will wait about %s between polls; raise %s.rate or %s.max_interval, or watch fewer threads",
			key, n, b.MaxInterval, strconv.FormatFloat(need, 'g', 3, 64), strconv.FormatFloat(have, 'g', 3, 64), rateString(b.Rate),
			seconds(float64(n)/have), key, key))
	}
	return ws
}

// seconds is s seconds as a duration, to the second.
func seconds(s float64) time.Duration {
	return time.Duration(s * float64(time.Second)).Round(time.Second)
}

// rateString writes a rate limit as config's N/s, N/m or N/h: in the first
// of these units that gives a whole count.
func rateString(l rate.Limit) string {
	perSecond := float64(l)
	for _, u := range []struct {
		name string
		secs float64
	}{{"s", 1}, {"m", 60}, {"h", 3600}} {
		v := perSecond * u.secs
		if math.Abs(v-math.Round(v)) < 1e-9*math.Max(1, v) {
			return strconv.FormatFloat(math.Round(v), 'f', -1, 64) + "/" + u.name
		}
	}
	return strconv.FormatFloat(perSecond*3600, 'g', 4, 64) + "/h"
}
