package notify

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/autoreplyd/autoreplyd/rules"
)

// TemplateEnv is what a channel's template sees of one event: the names it
// may use are the expr tags. The stranger's words in it (comment_text,
// user, reply_text) are already bounded and disarmed, as in the default
// text.
type TemplateEnv struct {
	Event       string    `expr:"event"` // the kind: flagged, held, answered, skipped, test
	ID          int64     `expr:"id"`    // the claim id `autoreplyd approve` takes
	Status      string    `expr:"status"`
	Platform    string    `expr:"platform"`
	ThreadID    string    `expr:"thread_id"`
	CommentID   string    `expr:"comment_id"`
	CommentText string    `expr:"comment_text"`
	User        string    `expr:"user"`
	UserUID     string    `expr:"user_uid"`
	Rule        string    `expr:"rule"`
	ReplyText   string    `expr:"reply_text"`
	CreatedAt   time.Time `expr:"created_at"` // in the channel's timezone
	// Command is the command (or the two, joined by " / ") that acts on
	// the event; empty for information.
	Command string `expr:"command"`
}

// timeLayout is how messages write times.
const timeLayout = "2006-01-02 15:04"

// Bounds of one entry of a digest: a digest lists several events in one
// message of the same size as a single one.
const (
	digestCommentRunes = 60
	digestReplyRunes   = 40
	digestNameRunes    = 20
	// digestShown is how many events a digest lists; the rest are counted.
	digestShown = 10
	// digestEntryBytes bounds one templated entry of a digest.
	digestEntryBytes = 400
)

// limits bound the stranger's words of one event in a message.
type limits struct{ comment, reply, name int }

// singleLimits are tried in turn until a message fits its channel's size.
var singleLimits = []limits{
	{maxCommentRunes, maxReplyRunes, maxNameRunes},
	{150, 150, maxNameRunes},
	{digestCommentRunes, digestReplyRunes, digestNameRunes},
}

// platformNames are the platforms as Chinese readers know them.
var platformNames = map[string]string{
	"douyin": "抖音",
	"tiktok": "TikTok",
	"wechat": "微信公众号",
	"weibo":  "微博",
}

// kindNames say what an event is, in a message.
var kindNames = map[string]string{
	KindFlagged:  "需人工处理",
	KindHeld:     "待审核",
	KindAnswered: "已自动回复",
	KindSkipped:  "已跳过",
	KindTest:     "测试",
}

// renderer writes a channel's message text.
type renderer struct {
	channel string
	tmpl    *rules.Template // nil: the default text
	loc     *time.Location
	budget  int // the most bytes of text the channel's platform takes
}

// text is the message about events: one event's, or a digest of several.
// It never exceeds the renderer's budget.
func (r *renderer) text(events []Event) string {
	if len(events) == 1 {
		return r.single(events[0])
	}
	return r.digest(events)
}

// env is the template environment of e, its stranger's words within lim.
func (r *renderer) env(e Event, lim limits) TemplateEnv {
	return TemplateEnv{
		Event:       disarm(e.Kind, maxIDRunes),
		ID:          e.ID,
		Status:      disarm(e.Status, maxIDRunes),
		Platform:    disarm(e.Platform, maxIDRunes),
		ThreadID:    disarm(e.ThreadID, maxIDRunes),
		CommentID:   disarm(e.CommentID, maxIDRunes),
		CommentText: disarm(e.CommentText, lim.comment),
		User:        disarm(e.User, lim.name),
		UserUID:     disarm(e.UserUID, maxIDRunes),
		Rule:        disarm(e.Rule, maxIDRunes),
		ReplyText:   disarm(e.ReplyText, lim.reply),
		CreatedAt:   e.CreatedAt.In(r.loc),
		Command:     strings.Join(e.Commands(), " / "),
	}
}

// templated renders the channel's template for e, or "" without a template
// or when it fails (the default text is sent instead: a person told in the
// default words is better than one not told).
func (r *renderer) templated(e Event, lim limits) string {
	if r.tmpl == nil {
		return ""
	}
	out, err := r.tmpl.Render(r.env(e, lim))
	if err != nil {
		return ""
	}
	return strings.ToValidUTF8(out, "")
}

// single is the message about one event.
func (r *renderer) single(e Event) string {
	if out := r.templated(e, singleLimits[0]); out != "" {
		return cutBytes(out, r.budget)
	}
	var out string
	for _, lim := range singleLimits {
		out = r.defaultSingle(r.env(e, lim))
		if len(out) <= r.budget {
			return out
		}
	}
	return cutBytes(out, r.budget)
}

// defaultSingle is the default text of one event, in Chinese.
func (r *renderer) defaultSingle(v TemplateEnv) string {
	var b strings.Builder
	line := func(format string, args ...any) {
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, format, args...)
	}
	id := strconv.FormatInt(v.ID, 10)
	switch v.Event {
	case KindTest:
		line("【autoreplyd】测试消息：通知渠道 %s 已连通", r.channel)
		line("看到这条消息，说明 autoreplyd 能向这里发送通知。")
		line("时间：%s", v.CreatedAt.Format(timeLayout))
		return b.String()
	case KindFlagged:
		line("【autoreplyd】评论需要人工处理 #%s", id)
	case KindHeld:
		line("【autoreplyd】回复待审核 #%s", id)
	case KindAnswered:
		line("【autoreplyd】已自动回复 #%s", id)
	case KindSkipped:
		line("【autoreplyd】评论已跳过 #%s", id)
	default:
		line("【autoreplyd】评论通知 #%s（%s）", id, v.Event)
	}
	line("平台：%s　线程：%s", platformName(v.Platform), v.ThreadID)
	who := v.User
	if v.UserUID != "" {
		who += "（UID " + v.UserUID + "）"
	}
	line("评论者：%s", who)
	line("评论：%s", v.CommentText)
	if v.Rule != "" {
		line("规则：%s", v.Rule)
	}
	if v.ReplyText != "" {
		if v.Event == KindHeld {
			line("拟回复：%s", v.ReplyText)
		} else {
			line("回复：%s", v.ReplyText)
		}
	}
	if !v.CreatedAt.IsZero() {
		line("时间：%s", v.CreatedAt.Format(timeLayout))
	}
	switch v.Event {
	case KindHeld:
		line("批准：autoreplyd approve %s", id)
		line("拒绝：autoreplyd reject %s", id)
	case KindFlagged:
		line("处理完后：autoreplyd done %s", id)
	}
	return b.String()
}

// digest is one message about several events: a count, the first few, and
// how to see the rest.
func (r *renderer) digest(events []Event) string {
	var b strings.Builder
	b.WriteString(r.digestHeader(events))
	lim := limits{digestCommentRunes, digestReplyRunes, digestNameRunes}
	shown := 0
	for _, e := range events[:min(len(events), digestShown)] {
		entry := r.templated(e, lim)
		if entry != "" {
			entry = cutBytes(entry, digestEntryBytes)
		} else {
			entry = r.digestEntry(r.env(e, lim))
		}
		// Room for this entry and the trailer that counts the rest.
		if b.Len()+1+len(entry)+len(digestTrailer(len(events)-shown)) > r.budget {
			break
		}
		b.WriteByte('\n')
		b.WriteString(entry)
		shown++
	}
	if rest := len(events) - shown; rest > 0 {
		b.WriteString(digestTrailer(rest))
	}
	return cutBytes(b.String(), r.budget)
}

// digestHeader is "【autoreplyd】12-01 10:30–10:33 有 12 条评论需要处理（待审核 3
// 条，需人工处理 9 条）": when the events were recorded, how many, of which
// kinds.
func (r *renderer) digestHeader(events []Event) string {
	counts := map[string]int{}
	var kinds []string
	actionable := false
	var first, last time.Time
	for _, e := range events {
		if counts[e.Kind] == 0 {
			kinds = append(kinds, e.Kind)
		}
		counts[e.Kind]++
		actionable = actionable || e.actionable()
		if e.CreatedAt.IsZero() {
			continue
		}
		if first.IsZero() || e.CreatedAt.Before(first) {
			first = e.CreatedAt
		}
		if last.IsZero() || e.CreatedAt.After(last) {
			last = e.CreatedAt
		}
	}
	s := "【autoreplyd】"
	if !first.IsZero() {
		s += r.period(first, last) + " "
	}
	s += "有 " + strconv.Itoa(len(events)) + " 条评论"
	if actionable {
		s += "需要处理"
	} else {
		s += "通知"
	}
	var parts []string
	for _, k := range kinds {
		parts = append(parts, kindName(k)+" "+strconv.Itoa(counts[k])+" 条")
	}
	return s + "（" + strings.Join(parts, "，") + "）"
}

// period writes the minutes from first to last: "12-01 10:30", "12-01
// 10:30–10:45", or "12-01 10:30 至 12-03 09:00".
func (r *renderer) period(first, last time.Time) string {
	first, last = first.In(r.loc), last.In(r.loc)
	from := first.Format("01-02 15:04")
	switch {
	case first.Truncate(time.Minute).Equal(last.Truncate(time.Minute)):
		return from
	case first.YearDay() == last.YearDay() && first.Year() == last.Year():
		return from + "–" + last.Format("15:04")
	}
	return from + " 至 " + last.Format("01-02 15:04")
}

// digestEntry is one event in a digest: two lines, what and the command.
func (r *renderer) digestEntry(v TemplateEnv) string {
	s := "#" + strconv.FormatInt(v.ID, 10) + " " + kindName(v.Event) + "｜" + platformName(v.Platform) + "｜" + v.User + "：" + v.CommentText
	if v.ReplyText != "" {
		if v.Event == KindHeld {
			s += " ⇒ 拟回复：" + v.ReplyText
		} else {
			s += " ⇒ 回复：" + v.ReplyText
		}
	}
	if v.Command != "" {
		s += "\n　→ " + v.Command
	}
	return s
}

// digestTrailer counts the events a digest does not list.
func digestTrailer(rest int) string {
	if rest <= 0 {
		return ""
	}
	return "\n另有 " + strconv.Itoa(rest) + " 条未列出：autoreplyd inbox 查看全部"
}

func platformName(p string) string {
	if n, ok := platformNames[p]; ok {
		return n
	}
	return p
}

func kindName(k string) string {
	if n, ok := kindNames[k]; ok {
		return n
	}
	return disarm(k, maxIDRunes)
}
