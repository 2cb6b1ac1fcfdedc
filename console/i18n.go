package console

import (
	"fmt"
	"net/http"

	"golang.org/x/text/language"
)

// lang is one language of the console: its tag for <html lang> and its
// message catalogue.
type lang struct {
	tag string
	msg map[string]string
}

// Tag is the language's tag, for <html lang>.
func (l *lang) Tag() string { return l.tag }

// T is the message key in l, formatted with args (fmt verbs); a key
// missing from the catalogue shows as itself (a test keeps both complete).
func (l *lang) T(key string, args ...any) string {
	m, ok := l.msg[key]
	if !ok {
		m = key
	}
	if len(args) > 0 {
		return fmt.Sprintf(m, args...)
	}
	return m
}

var (
	langZH = &lang{tag: "zh-CN", msg: zhCN}
	langEN = &lang{tag: "en", msg: en}
	// Chinese first: the default when the browser asks for neither.
	langMatcher = language.NewMatcher([]language.Tag{language.SimplifiedChinese, language.English})
)

// lang is the language r asks for: English when Accept-Language prefers
// it, else Chinese.
func (c *Console) lang(r *http.Request) *lang {
	tags, _, err := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	if err != nil || len(tags) == 0 {
		return langZH
	}
	_, i, conf := langMatcher.Match(tags...)
	if i == 1 && conf != language.No {
		return langEN
	}
	return langZH
}

// zhCN and en are the catalogues; every key in one is in the other.
var zhCN = map[string]string{
	"app":                   "autoreplyd",
	"nav.inbox":             "收件箱",
	"nav.live":              "实时",
	"nav.rules":             "规则",
	"nav.playground":        "试验场",
	"nav.replay":            "回放",
	"nav.health":            "健康",
	"nav.logout":            "退出",
	"nav.user":              "当前用户：%s",
	"login.title":           "登录",
	"login.username":        "用户名",
	"login.password":        "密码",
	"login.submit":          "登录",
	"login.wrong":           "用户名或密码错误",
	"login.too_many":        "尝试次数过多，请稍后再试",
	"error.not_found":       "页面不存在",
	"error.store":           "读取数据库失败：%s",
	"inbox.title":           "收件箱",
	"inbox.empty":           "没有等待处理的评论。",
	"inbox.more":            "只列出最新的 %d 条，还有更多在等待。",
	"inbox.keys":            "快捷键：j/k 上下移动，a 通过，r 拒绝，d 完成。",
	"inbox.when":            "时间",
	"inbox.status":          "状态",
	"inbox.comment":         "评论",
	"inbox.answer":          "回复",
	"inbox.actions":         "操作",
	"inbox.flagged":         "待人工处理",
	"inbox.held":            "待审核",
	"inbox.rule":            "规则 %s",
	"inbox.expires":         "%s 过期",
	"inbox.approve":         "通过",
	"inbox.reject":          "拒绝",
	"inbox.done":            "完成",
	"inbox.reason":          "拒绝理由（可选）",
	"inbox.context":         "上下文",
	"inbox.parent":          "所回复的评论",
	"inbox.thread":          "我们在此线程中的回复",
	"inbox.user_history":    "该用户的历史",
	"inbox.none":            "无",
	"inbox.approved":        "评论 %d 已通过，守护进程将在下一轮发送。",
	"inbox.approved_edited": "评论 %d 已按修改后的文字通过，守护进程将在下一轮发送。",
	"inbox.rejected":        "评论 %d 的回复已拒绝，不会发送。",
	"inbox.handled":         "评论 %d 已标记为完成。",
	"inbox.expired":         "评论 %d 等待超过 approval.max_age，已记为过期，不会发送。",
	"inbox.invalid":         "修改后的回复无效，未作任何更改：%s",
	"inbox.not_decidable":   "无法处理：%s",
	"inbox.bad_action":      "未知操作",
	"live.title":            "实时决策",
	"live.all":              "全部",
	"live.platform":         "平台",
	"live.rule":             "规则",
	"live.status":           "状态",
	"live.time":             "时间",
	"live.user":             "用户",
	"live.comment":          "评论",
	"live.answer":           "回复",
	"live.verdict":          "在试验场里看每条规则的判定",
	"live.empty":            "启动以来还没有决策；新的决策会自动出现。",
	"rules.title":           "规则",
	"rules.rule":            "规则",
	"rules.where":           "位置",
	"rules.day":             "24 小时",
	"rules.week":            "7 天",
	"rules.chart":           "每日（7 天）",
	"rules.counts":          "命中 %d · 已回复 %d · 跳过 %d · 待审 %d · 人工 %d · 失败 %d",
	"rules.never":           "从未命中",
	"rules.errors":          "运行出错（启动以来）",
	"rules.reload_ok":       "最近一次重新加载（%s）成功。",
	"rules.reload_same":     "最近一次重新加载（%s）：规则文件未变。",
	"rules.reload_failed":   "最近一次重新加载（%s）被拒绝，仍在使用上一版规则：",
	"rules.reload_none":     "启动以来没有重新加载规则。",
	"playground.title":      "试验场",
	"play.text":             "评论内容",
	"play.nickname":         "昵称",
	"play.labels":           "线程标签（每行 key=value）",
	"play.time":             "评论时间（如 2026-11-22 09:58，留空为现在）",
	"play.platform":         "平台",
	"play.rules":            "规则（YAML，不会保存）",
	"play.submit":           "解释",
	"play.verdicts":         "每条规则的判定",
	"play.outcome":          "结果",
	"play.bad_label":        "标签应为 key=value：%s",
	"play.bad_time":         "时间无法识别：%s",
	"play.bad_rules":        "规则无法加载：",
	"replay.title":          "回放",
	"replay.since":          "起始（如 24h、7d 或 2026-11-22，最多 7 天）",
	"replay.rules":          "要回放的规则（YAML）",
	"replay.submit":         "回放",
	"replay.summary":        "回放了 %d 条评论，其中 %d 条结果会改变。",
	"replay.truncated":      "只列出前 %d 条变化。",
	"replay.comment":        "评论",
	"replay.old":            "原来",
	"replay.new":            "新规则",
	"replay.rule":           "规则",
	"replay.counts":         "原 %d · 新 %d · 增加 %d · 减少 %d · 改变 %d",
	"replay.bad_since":      "起始时间无法识别：%s",
	"replay.too_long":       "回放期最多 7 天",
	"replay.failed":         "回放失败：%s",
	"replay.nothing":        "（无）",
	"health.title":          "健康",
	"health.ready":          "运行正常。",
	"health.problems":       "未就绪：",
	"health.kind":           "类别",
	"health.name":           "名称",
	"health.state":          "状态",
	"health.detail":         "详情",
	"health.source":         "来源",
	"health.responder":      "回复器",
	"health.channel":        "通知渠道",
	"health.cycle":          "最近一轮",
	"health.ok":             "正常",
	"health.paused":         "暂停",
	"health.failing":        "失败",
	"health.fix_config":     "需要修改配置",
	"health.until":          "直到 %s",
	"health.no_cycle":       "启动以来还没有完成一轮",
	"health.cycle_detail":   "%s 结束：线程 %d，调用 %d，新评论 %d，已发送 %d，错误 %d",
	"health.calls_today":    "今日 API 调用",
	"health.queued":         "排队 %d",
}

var en = map[string]string{
	"app":                   "autoreplyd",
	"nav.inbox":             "Inbox",
	"nav.live":              "Live",
	"nav.rules":             "Rules",
	"nav.playground":        "Playground",
	"nav.replay":            "Replay",
	"nav.health":            "Health",
	"nav.logout":            "Sign out",
	"nav.user":              "Signed in as %s",
	"login.title":           "Sign in",
	"login.username":        "User name",
	"login.password":        "Password",
	"login.submit":          "Sign in",
	"login.wrong":           "wrong user name or password",
	"login.too_many":        "too many attempts: try again in a while",
	"error.not_found":       "no such page",
	"error.store":           "cannot read the database: %s",
	"inbox.title":           "Inbox",
	"inbox.empty":           "Nothing waits for a person.",
	"inbox.more":            "The newest %d are listed; more are waiting.",
	"inbox.keys":            "Keys: j/k move, a approves, r rejects, d marks done.",
	"inbox.when":            "When",
	"inbox.status":          "Status",
	"inbox.comment":         "Comment",
	"inbox.answer":          "Answer",
	"inbox.actions":         "Actions",
	"inbox.flagged":         "flagged",
	"inbox.held":            "held",
	"inbox.rule":            "rule %s",
	"inbox.expires":         "expires %s",
	"inbox.approve":         "Approve",
	"inbox.reject":          "Reject",
	"inbox.done":            "Done",
	"inbox.reason":          "reason (optional)",
	"inbox.context":         "Context",
	"inbox.parent":          "The comment it replies to",
	"inbox.thread":          "Our answers in the thread",
	"inbox.user_history":    "The user's history with us",
	"inbox.none":            "none",
	"inbox.approved":        "Claim %d approved: the daemon sends it on its next cycle.",
	"inbox.approved_edited": "Claim %d approved with the edited answer: the daemon sends it on its next cycle.",
	"inbox.rejected":        "Claim %d rejected: never sent.",
	"inbox.handled":         "Claim %d marked done.",
	"inbox.expired":         "Claim %d waited longer than approval.max_age: recorded expired, never sent.",
	"inbox.invalid":         "The edited answer is refused, nothing changed: %s",
	"inbox.not_decidable":   "Cannot do that: %s",
	"inbox.bad_action":      "unknown action",
	"live.title":            "Live decisions",
	"live.all":              "all",
	"live.platform":         "Platform",
	"live.rule":             "Rule",
	"live.status":           "Status",
	"live.time":             "Time",
	"live.user":             "User",
	"live.comment":          "Comment",
	"live.answer":           "Answer",
	"live.verdict":          "each rule's verdict, in the playground",
	"live.empty":            "No decision since the start; new ones appear here by themselves.",
	"rules.title":           "Rules",
	"rules.rule":            "Rule",
	"rules.where":           "Where",
	"rules.day":             "24 h",
	"rules.week":            "7 d",
	"rules.chart":           "Daily (7 d)",
	"rules.counts":          "hits %d · answered %d · skipped %d · held %d · flagged %d · failed %d",
	"rules.never":           "never matched",
	"rules.errors":          "errors (since start)",
	"rules.reload_ok":       "The last reload (%s) went through.",
	"rules.reload_same":     "The last reload (%s): the rule files were unchanged.",
	"rules.reload_failed":   "The last reload (%s) was refused; the last good rules keep running:",
	"rules.reload_none":     "No reload since the start.",
	"playground.title":      "Playground",
	"play.text":             "Comment text",
	"play.nickname":         "Nickname",
	"play.labels":           "Thread labels (key=value, one a line)",
	"play.time":             "Written at (e.g. 2026-11-22 09:58; empty: now)",
	"play.platform":         "Platform",
	"play.rules":            "Rules (YAML, never saved)",
	"play.submit":           "Explain",
	"play.verdicts":         "Each rule's verdict",
	"play.outcome":          "Outcome",
	"play.bad_label":        "a label is key=value: %s",
	"play.bad_time":         "cannot read the time: %s",
	"play.bad_rules":        "The rules do not load:",
	"replay.title":          "Replay",
	"replay.since":          "Since (24h, 7d or 2026-11-22; at most 7 days)",
	"replay.rules":          "Rules to replay (YAML)",
	"replay.submit":         "Replay",
	"replay.summary":        "%d comments replayed, %d of which change.",
	"replay.truncated":      "Only the first %d changes are listed.",
	"replay.comment":        "Comment",
	"replay.old":            "Before",
	"replay.new":            "With these rules",
	"replay.rule":           "Rule",
	"replay.counts":         "before %d · after %d · gained %d · lost %d · changed %d",
	"replay.bad_since":      "cannot read the start: %s",
	"replay.too_long":       "a replay covers at most 7 days",
	"replay.failed":         "the replay failed: %s",
	"replay.nothing":        "(nothing)",
	"health.title":          "Health",
	"health.ready":          "Running normally.",
	"health.problems":       "Not ready:",
	"health.kind":           "Kind",
	"health.name":           "Name",
	"health.state":          "State",
	"health.detail":         "Detail",
	"health.source":         "source",
	"health.responder":      "responder",
	"health.channel":        "channel",
	"health.cycle":          "Last cycle",
	"health.ok":             "ok",
	"health.paused":         "paused",
	"health.failing":        "failing",
	"health.fix_config":     "fix the config",
	"health.until":          "until %s",
	"health.no_cycle":       "no cycle finished since the start",
	"health.cycle_detail":   "ended %s: %d threads, %d calls, %d new comments, %d sent, %d errors",
	"health.calls_today":    "API calls today",
	"health.queued":         "%d queued",
}
