package daemon

import (
	"fmt"
	"time"

	sd "github.com/coreos/go-systemd/v22/daemon"

	"github.com/autoreplyd/autoreplyd/poller"
)

// The service manager protocol (sd_notify(3)) for systemd/autoreplyd.service,
// Type=notify: READY=1 once Run starts (New has opened the database and
// compiled the rules, the health listener is bound), RELOADING=1 then READY=1
// around every reload, STOPPING=1 on cancellation, WATCHDOG=1 pings when the
// unit sets WatchdogSec=, and a STATUS= line for `systemctl status`. Every
// function is a silent no-op when NOTIFY_SOCKET is unset (not under systemd,
// or in tests).

// sdNotify sends state to the service manager. A failure is logged, not
// returned: the daemon works without a manager; the manager notices what
// it did not hear (a start timeout, a missed watchdog ping).
func (d *Daemon) sdNotify(state string) {
	if _, err := sd.SdNotify(false, state); err != nil {
		d.log.Warn("cannot notify the service manager", "state", firstLine(state), "err", err)
	}
}

// notifyReady says that startup or a reload is finished.
func (d *Daemon) notifyReady(status string) {
	// One line: a newline would start another assignment of the protocol.
	d.sdNotify(sd.SdNotifyReady + "\nSTATUS=" + d.display(status))
}

// notifyReloading says that a reload starts; READY=1 must follow. The
// MONOTONIC_USEC timestamp is what Type=notify-reload (systemd 253+) expects
// with RELOADING=1; Type=notify ignores it.
func (d *Daemon) notifyReloading(trigger string) {
	d.sdNotify(sd.SdNotifyReloading + "\n" + sd.SdNotifyMonotonicUsec() + "STATUS=reloading rules (" + trigger + ")")
}

// notifyStopping says that shutdown has begun.
func (d *Daemon) notifyStopping() {
	d.sdNotify(sd.SdNotifyStopping + "\nSTATUS=stopping: waiting for the running cycle to settle")
}

// notifyCycle puts the last cycle's summary in the status line.
func (d *Daemon) notifyCycle(st poller.Stats) {
	d.sdNotify("STATUS=" + d.cycleStatus(st))
}

// cycleStatus is the status line after a cycle.
func (d *Daemon) cycleStatus(st poller.Stats) string {
	return fmt.Sprintf("%s; last cycle %s: %d threads, %d new, %d sent, %d retrying, %d failed, %d errors",
		d.runningStatus(), time.Now().In(d.cfg.Location).Format("15:04:05"),
		st.Polled, st.New, st.Sent, st.Retrying, st.Failed, st.Errors)
}

// runningStatus is the status line while running, before any cycle.
func (d *Daemon) runningStatus() string {
	mode := ""
	if d.dryRun {
		mode = " (dry run)"
	}
	return fmt.Sprintf("running%s, %d rules", mode, d.rules.Load().Len())
}

// watchdogTicker returns a channel that ticks at half the watchdog interval
// when the unit sets WatchdogSec= (WATCHDOG_USEC for this process), and a
// nil channel (never ready) and a no-op stop otherwise.
func (d *Daemon) watchdogTicker() (<-chan time.Time, func()) {
	interval, err := sd.SdWatchdogEnabled(false)
	if err != nil {
		d.log.Warn("ignoring the service manager's watchdog settings", "err", err)
		return nil, func() {}
	}
	if interval <= 0 {
		return nil, func() {}
	}
	d.log.Info("service manager watchdog enabled", "interval", interval.String())
	t := time.NewTicker(interval / 2)
	return t.C, t.Stop
}

// notifyWatchdog pings the service manager's watchdog. Run sends it from its
// own select loop, so a ping proves the process is alive and that loop (the
// one that takes reload requests and stopping) is not wedged, e.g. on a
// reload stuck reading a hung rules mount. It does not prove that cycles
// succeed (a paused source is for /-/ready to report) nor that a cycle is
// not stuck: a cycle may legitimately take long (slow APIs, rate limits),
// and the next tick is skipped while it runs.
func (d *Daemon) notifyWatchdog() {
	d.sdNotify(sd.SdNotifyWatchdog)
}
