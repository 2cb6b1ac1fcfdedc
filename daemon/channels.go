package daemon

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/autoreplyd/autoreplyd/config"
	"github.com/autoreplyd/autoreplyd/notify"
	"github.com/autoreplyd/autoreplyd/rules"
	"github.com/autoreplyd/autoreplyd/store"
)

// CheckNotify refuses a rule whose notify names a channel that is not
// configured under notify.
func CheckNotify(set *rules.Set, cfg *config.Config) error {
	if set == nil {
		return nil
	}
	var names []string
	for _, n := range cfg.Notify {
		names = append(names, n.Name)
	}
	for _, r := range set.Rules() {
		for _, ch := range r.Notify {
			if slices.Contains(names, ch) {
				continue
			}
			configured := "none: add a notify section to the config"
			if len(names) > 0 {
				configured = strings.Join(names, ", ")
			}
			return fmt.Errorf("%s:%d: rule %q: notify %q is not a configured channel (configured: %s)%s",
				r.File, r.Line, r.Name, ch, configured, rules.Suggest(ch, names))
		}
	}
	return nil
}

// CheckLLM checks that every model endpoint a drafting rule names is one of
// cfg's llm sections: a rule's draft would otherwise fail at every match.
func CheckLLM(set *rules.Set, cfg *config.Config) error {
	if set == nil {
		return nil
	}
	var names []string
	for _, e := range cfg.LLM {
		names = append(names, e.Name)
	}
	for _, r := range set.Rules() {
		if r.Draft == nil || slices.Contains(names, r.Draft.LLM) {
			continue
		}
		configured := "none: add an llm section to the config"
		if len(names) > 0 {
			configured = strings.Join(names, ", ")
		}
		return fmt.Errorf("%s:%d: rule %q: draft.llm %q is not a configured endpoint (configured: %s)%s",
			r.File, r.Line, r.Name, r.Draft.LLM, configured, rules.Suggest(r.Draft.LLM, names))
	}
	return nil
}

// BuildChannels builds the config's notification channels, in config
// (name) order, times in their messages shown in the config's time zone.
func BuildChannels(cfg *config.Config) ([]notify.Channel, error) {
	out := make([]notify.Channel, 0, len(cfg.Notify))
	for _, n := range cfg.Notify {
		spec, err := n.Spec(cfg.Location)
		if err != nil {
			return nil, fmt.Errorf("%s.rate: %w", n.Key(), err)
		}
		ch, err := notify.New(spec, nil)
		if err != nil {
			return nil, err
		}
		out = append(out, ch)
	}
	return out, nil
}

// outbox is the store's notifications table as the dispatcher reads it.
// outbox is the store's notification outbox. Its deliveries are made by
// one daemon at a time: the holder of the job's lease (holds); to the
// others nothing is due.
type outbox struct {
	st    *store.Store
	holds func() bool
}

var _ notify.Outbox = outbox{}

func (o outbox) Due(ctx context.Context, channel string, now time.Time, limit int) ([]notify.Pending, error) {
	if o.holds != nil && !o.holds() {
		return nil, nil
	}
	ns, err := o.st.DueNotifications(ctx, channel, now, limit)
	if err != nil {
		return nil, err
	}
	out := make([]notify.Pending, len(ns))
	for i, n := range ns {
		out[i] = notify.Pending{ID: n.ID, Channel: n.Channel, Attempts: n.Attempts, CreatedAt: n.CreatedAt, Event: eventOf(n)}
	}
	return out, nil
}

// eventOf is the event a notification tells of: its claim as it is now.
func eventOf(n store.Notification) notify.Event {
	c := n.Claim
	return notify.Event{ID: c.ID, Kind: n.Event, Status: c.Status, Platform: c.Platform, ThreadID: c.ThreadID,
		CommentID: c.CommentID, CommentText: c.CommentText, User: c.UserNickname, UserUID: c.UserUID,
		Rule: c.Rule, ReplyText: c.ReplyText, CreatedAt: c.CreatedAt}
}

func (o outbox) Delivered(ctx context.Context, ids []int64, now time.Time) error {
	return o.st.NotificationsDelivered(ctx, ids, now)
}

func (o outbox) Retry(ctx context.Context, ids []int64, errText string, next, now time.Time) error {
	return o.st.NotificationsRetry(ctx, ids, errText, next, now)
}

func (o outbox) Abandon(ctx context.Context, ids []int64, errText string, now time.Time) error {
	return o.st.NotificationsAbandon(ctx, ids, errText, now)
}

func (o outbox) Queued(ctx context.Context) (map[string]int, error) {
	return o.st.NotificationsQueued(ctx)
}

// newDispatcher builds the dispatcher of the config's channels over st
// (nil without channels).
func (d *Daemon) newDispatcher(st *store.Store) (*notify.Dispatcher, error) {
	if len(d.cfg.Notify) == 0 {
		return nil, nil
	}
	chs, err := BuildChannels(d.cfg)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(chs))
	for i, ch := range chs {
		names[i] = ch.Name()
	}
	d.metrics.DeclareChannels(names)
	holds := func() bool { return d.leases.holds(store.JobOutbox) }
	return notify.NewDispatcher(chs, outbox{st: st, holds: holds}, notify.Options{
		Logger: d.log.With("component", "notify"),
		Count:  d.metrics.Notification,
	}), nil
}

// FlushNotifications delivers the notifications due now, once, waiting
// for the deliveries (`run --once`). Without channels it does nothing.
func (d *Daemon) FlushNotifications(ctx context.Context) error {
	if d.notifier == nil {
		return nil
	}
	return d.notifier.Flush(ctx)
}

// channelHealth describes the channels that are failing, a line each, for
// /-/ready's detail (a failing channel does not make the daemon unready).
func (d *Daemon) channelHealth() []string {
	if d.notifier == nil {
		return nil
	}
	var out []string
	for _, s := range d.notifier.State() {
		if s.Healthy {
			continue
		}
		line := fmt.Sprintf("notify.%s (%s) failing", s.Name, s.Type)
		if s.FixConfig {
			line += " (fix its config or the robot's settings)"
		}
		if s.LastError != "" {
			line += ": " + s.LastError
		}
		if s.Queued > 0 {
			line += fmt.Sprintf("; %d waiting", s.Queued)
		}
		if !s.RetryAt.IsZero() {
			line += "; next try " + s.RetryAt.In(d.cfg.Location).Format(time.RFC3339)
		}
		out = append(out, line)
	}
	return out
}
