package ruletest

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/pacing"
	"github.com/autoreplyd/autoreplyd/platform"
	_ "github.com/autoreplyd/autoreplyd/platform/all" // the platforms a test may name
	"github.com/autoreplyd/autoreplyd/rules"
)

// Keys of each mapping of a test file, in the order they are documented.
var (
	fileKeys    = []string{"rule_files", "timezone", "now", "tests"}
	caseKeys    = []string{"name", "comment", "now", "history", "draft", "expect"}
	commentKeys = []string{"text", "user", "thread", "post", "id", "labels", "time", "likes", "level",
		"reply_to", "reply_to_user", "author_liked", "platform"}
	userKeys    = []string{"nickname", "uid", "unique_id", "region", "verified"}
	historyKeys = []string{"rule", "user", "thread", "platform", "ago", "at", "count"}
	expectKeys  = []string{"rule", "reply", "replies", "skipped", "flagged", "held", "drafting", "no_match"}
)

// flagReasons are the reasons `flagged:` may name besides true: why a
// model's draft (the case's draft:) was not used.
var flagReasons = []string{ReasonRejectIf, ReasonDraftTooLong}

// skipReasons are the reasons `skipped:` may name.
var skipReasons = []string{model.ReasonNoReplyRule, pacing.ReasonCooldown, pacing.ReasonLimit, pacing.ReasonInactive}

// maxHistoryCount bounds `count:` of one made-up history entry.
const maxHistoryCount = 10000

// decoder walks a test file's yaml.Node tree, collecting every problem with
// its position.
type decoder struct {
	file string
	errs []error
}

func (d *decoder) errorf(n *yaml.Node, format string, args ...any) {
	line, col := 0, 0
	if n != nil {
		line, col = n.Line, n.Column
	}
	d.errs = append(d.errs, rules.PosError{File: d.file, Line: line, Col: col, Msg: fmt.Sprintf(format, args...)})
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// Parse decodes a test file; name is used in positions and to resolve
// rule_files. Every problem is returned, each a rules.PosError with the
// file, line and column, joined.
func Parse(name string, data []byte) (*File, error) {
	d := &decoder{file: name}
	f := d.parse(data)
	if len(d.errs) > 0 {
		return nil, errors.Join(d.errs...)
	}
	f.Path = name
	return f, nil
}

func (d *decoder) parse(data []byte) *File {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			d.errs = append(d.errs, rules.PosError{File: d.file, Line: 1, Col: 1, Msg: "file is empty: want a tests: list"})
			return nil
		}
		d.yamlError(data, err)
		return nil
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		d.errorf(&extra, "more than one YAML document in a test file")
	} else if !errors.Is(err, io.EOF) {
		d.yamlError(data, err)
	}
	root := deref(&doc)
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = deref(root.Content[0])
	}
	if root.Kind != yaml.MappingNode {
		d.errorf(root, "want a mapping with a tests: list at the top")
		return nil
	}
	f := &File{}
	var tests *yaml.Node
	d.eachKey(root, fileKeys, func(k, v *yaml.Node) {
		switch k.Value {
		case "rule_files":
			d.ruleFiles(f, v)
		case "timezone":
			if s, ok := d.text(v, "timezone"); ok && s != "" {
				loc, err := time.LoadLocation(s)
				if err != nil {
					d.errorf(v, "timezone: unknown time zone %q (want an IANA name such as Asia/Shanghai)", s)
					return
				}
				f.Location = loc
			}
		case "now":
			f.Now = d.time(v, "now")
		case "tests":
			tests = v
		}
	})
	if tests == nil {
		if !hasKey(root, "tests") {
			d.errorf(root, "missing tests: list")
		}
		return f
	}
	if tests.Kind != yaml.SequenceNode || len(tests.Content) == 0 {
		d.errorf(tests, "tests: want a non-empty list of cases")
		return f
	}
	for i, n := range tests.Content {
		if c := d.testCase(i+1, deref(n)); c != nil {
			f.Cases = append(f.Cases, *c)
		}
	}
	return f
}

// yamlError records a YAML syntax error. The parser names the line where
// the enclosing construct starts (often line 1); the first prefix of the
// file that fails with the same problem ends on the faulty line.
func (d *decoder) yamlError(data []byte, err error) {
	m := yamlLine.FindStringSubmatch(err.Error())
	if m == nil {
		d.errs = append(d.errs, rules.PosError{File: d.file, Line: 1, Col: 1, Msg: err.Error()})
		return
	}
	line, _ := strconv.Atoi(m[1])
	line = rules.YAMLProblemLine(strings.Split(string(data), "\n"), m[2], line)
	msg := "YAML: " + m[2]
	if strings.HasPrefix(m[2], "did not find expected ',' or") {
		msg += " (inside [...] or {...}, quote a text that holds [ ] { } or a comma, as in '谢谢[比心]')"
	}
	d.errs = append(d.errs, rules.PosError{File: d.file, Line: line, Col: 1, Msg: msg})
}

func (d *decoder) ruleFiles(f *File, v *yaml.Node) {
	items := []*yaml.Node{v}
	if v.Kind == yaml.SequenceNode {
		items = v.Content
		if len(items) == 0 {
			d.errorf(v, "rule_files: empty list (leave it out to use the config's rules)")
			return
		}
	}
	for _, n := range items {
		n = deref(n)
		s, ok := d.text(n, "rule_files")
		if !ok {
			continue
		}
		if strings.TrimSpace(s) == "" {
			d.errorf(n, "rule_files: want a file or directory name")
			continue
		}
		f.RuleFiles = append(f.RuleFiles, s)
	}
}

func (d *decoder) testCase(index int, n *yaml.Node) *Case {
	if n.Kind != yaml.MappingNode {
		d.errorf(n, "test #%d: want a mapping with name:, comment: and expect:", index)
		return nil
	}
	c := &Case{Line: n.Line, Index: index}
	errs := len(d.errs)
	var hasComment, hasExpect bool
	d.eachKey(n, caseKeys, func(k, v *yaml.Node) {
		switch k.Value {
		case "name":
			c.Name, _ = d.text(v, "name")
		case "comment":
			hasComment = true
			d.comment(c, v)
		case "now":
			c.Now = d.time(v, "now")
		case "history":
			d.history(c, v)
		case "draft":
			s, ok := d.text(v, "draft")
			if ok && strings.TrimSpace(s) == "" {
				d.errorf(v, "draft: want the text a model answered, such as draft: 您好，这款是纯棉的 (leave draft out to test that a rule asks for one)")
				return
			}
			c.Draft, c.HasDraft = s, ok
		case "expect":
			hasExpect = true
			d.expect(c, v)
		}
	})
	if strings.TrimSpace(c.Name) == "" {
		c.Name = fmt.Sprintf("test #%d", index)
	}
	if !hasComment {
		d.errorf(n, "%s: comment is missing", c.Name)
	}
	if !hasExpect {
		d.errorf(n, "%s: expect is missing (write expect: {no_match: true} for a comment no rule answers)", c.Name)
	}
	if len(d.errs) > errs {
		return nil
	}
	return c
}

func (d *decoder) comment(c *Case, v *yaml.Node) {
	c.Comment = model.Comment{Platform: model.PlatformDouyin, ID: fmt.Sprintf("test-%d", c.Index), ReplyToID: "0"}
	if v.Kind == yaml.ScalarNode {
		// comment: 哈哈哈 is the text alone.
		c.Comment.Text, _ = d.text(v, "comment")
		return
	}
	if v.Kind != yaml.MappingNode {
		d.text(v, "comment") // the message for a list
		return
	}
	cm := &c.Comment
	d.eachKey(v, commentKeys, func(k, v *yaml.Node) {
		switch k.Value {
		case "text":
			cm.Text, _ = d.text(v, "text")
		case "user":
			d.user(cm, v)
		case "thread":
			cm.ThreadID, _ = d.text(v, "thread")
		case "post":
			cm.PostID, _ = d.text(v, "post")
		case "id":
			cm.ID, _ = d.text(v, "id")
		case "labels":
			cm.Labels = d.labels(v)
		case "time":
			c.Time = d.time(v, "time")
		case "likes":
			cm.Likes = int64(d.integer(v, "likes"))
		case "level":
			cm.Level = int64(d.integer(v, "level"))
		case "reply_to":
			cm.ReplyToID, _ = d.text(v, "reply_to")
		case "reply_to_user":
			cm.ReplyToUser, _ = d.text(v, "reply_to_user")
		case "author_liked":
			cm.AuthorLiked = d.boolean(v, "author_liked")
		case "platform":
			cm.Platform = d.platform(v)
		}
	})
}

func (d *decoder) user(cm *model.Comment, v *yaml.Node) {
	if v.Kind == yaml.ScalarNode {
		// user: 小明 is the nickname alone.
		cm.User.Nickname, _ = d.text(v, "user")
		return
	}
	if v.Kind != yaml.MappingNode {
		d.errorf(v, "user: want a nickname or a mapping such as {nickname: 小明, uid: \"1001\"}")
		return
	}
	d.eachKey(v, userKeys, func(k, v *yaml.Node) {
		switch k.Value {
		case "nickname":
			cm.User.Nickname, _ = d.text(v, "nickname")
		case "uid":
			cm.User.UID, _ = d.text(v, "uid")
		case "unique_id":
			cm.User.UniqueID, _ = d.text(v, "unique_id")
		case "region":
			cm.User.Region, _ = d.text(v, "region")
		case "verified":
			cm.User.Verified = d.boolean(v, "verified")
		}
	})
}

func (d *decoder) labels(v *yaml.Node) map[string]string {
	if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
		return nil
	}
	if v.Kind != yaml.MappingNode {
		d.errorf(v, "labels: want a mapping such as {campaign: spring}")
		return nil
	}
	out := map[string]string{}
	d.eachKey(v, nil, func(k, v *yaml.Node) {
		if s, ok := d.text(v, "labels."+k.Value); ok {
			out[k.Value] = s
		}
	})
	return out
}

func (d *decoder) history(c *Case, v *yaml.Node) {
	if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
		return
	}
	if v.Kind != yaml.SequenceNode {
		d.errorf(v, "history: want a list of past answers such as - {rule: price, user: \"1001\", ago: 2h}")
		return
	}
	for _, n := range v.Content {
		n = deref(n)
		if n.Kind != yaml.MappingNode {
			d.errorf(n, "history: want a mapping such as {rule: price, user: \"1001\", ago: 2h}")
			continue
		}
		h := History{Line: n.Line, Col: n.Column, Count: 1}
		var when *yaml.Node
		d.eachKey(n, historyKeys, func(k, v *yaml.Node) {
			switch k.Value {
			case "rule":
				h.Rule, _ = d.text(v, "rule")
			case "user":
				h.User, _ = d.text(v, "user")
			case "thread":
				h.Thread, _ = d.text(v, "thread")
				h.HasThread = true
			case "platform":
				h.Platform = d.platform(v)
			case "ago":
				if when != nil {
					d.errorf(k, "history: give ago: or at:, not both")
				}
				when = k
				h.Ago = d.duration(v, "ago")
				h.When = v.Value + " ago"
			case "at":
				if when != nil {
					d.errorf(k, "history: give ago: or at:, not both")
				}
				when = k
				h.At = d.time(v, "at")
				h.When = "at " + v.Value
			case "count":
				h.Count = d.integer(v, "count")
				if h.Count < 1 || h.Count > maxHistoryCount {
					d.errorf(v, "count: want 1 to %d", maxHistoryCount)
				}
			}
		})
		if strings.TrimSpace(h.Rule) == "" {
			d.errorf(n, "history: rule is missing")
		}
		if when == nil {
			d.errorf(n, "history: say when with ago: (such as 2h) or at: (such as \"2026-11-22 08:00\")")
		}
		c.History = append(c.History, h)
	}
}

func (d *decoder) expect(c *Case, v *yaml.Node) {
	items := []*yaml.Node{v}
	if v.Kind == yaml.SequenceNode {
		items = v.Content
		if len(items) == 0 {
			d.errorf(v, "expect: empty list (write expect: {no_match: true} for a comment no rule answers)")
			return
		}
	}
	for _, n := range items {
		n = deref(n)
		if n.Kind != yaml.MappingNode {
			d.errorf(n, "expect: want a mapping such as {rule: price, reply: ...} or {no_match: true}")
			continue
		}
		e := Expect{Line: n.Line}
		var noMatch, rule, reply, replies, skipped, flagged, held, drafting *yaml.Node
		d.eachKey(n, expectKeys, func(k, v *yaml.Node) {
			switch k.Value {
			case "rule":
				rule = k
				e.Rule, _ = d.text(v, "rule")
			case "reply":
				reply = k
				if s, ok := d.text(v, "reply"); ok {
					e.Replies, e.HasReplies, e.Single = []string{s}, true, true
				}
			case "replies":
				replies = k
				e.Replies, e.HasReplies = d.replies(v)
			case "skipped":
				skipped = k
				e.Skipped, _ = d.text(v, "skipped")
				if !slices.Contains(skipReasons, e.Skipped) {
					d.errorf(v, "skipped: want one of %s%s", strings.Join(skipReasons, ", "), suggest(e.Skipped, skipReasons))
				}
			case "flagged":
				flagged = k
				if v.Kind == yaml.ScalarNode && v.Tag == "!!str" {
					// flagged: reject_if says why a draft was flagged.
					e.Flagged, e.FlagReason = true, v.Value
					if !slices.Contains(flagReasons, v.Value) {
						d.errorf(v, "flagged: want true (action: flag) or the reason a draft is flagged: %s%s",
							strings.Join(flagReasons, ", "), suggest(v.Value, flagReasons))
					}
					return
				}
				e.Flagged = d.boolean(v, "flagged")
				if !e.Flagged && v.Tag == "!!bool" {
					d.errorf(v, "flagged: only true makes sense; leave it out for a rule that answers or skips")
				}
			case "held":
				held = k
				e.Held = d.boolean(v, "held")
				if !e.Held && v.Tag == "!!bool" {
					d.errorf(v, "held: only true makes sense; leave it out for an answer sent at once")
				}
			case "drafting":
				drafting = k
				e.Drafting = d.boolean(v, "drafting")
				if !e.Drafting && v.Tag == "!!bool" {
					d.errorf(v, "drafting: only true makes sense; give the case a draft: to test what follows the model's answer")
				}
			case "no_match":
				noMatch = k
				e.NoMatch = d.boolean(v, "no_match")
				if !e.NoMatch {
					d.errorf(v, "no_match: only true makes sense; say which rule matches with rule:")
				}
			}
		})
		switch {
		case noMatch != nil:
			for _, other := range []*yaml.Node{rule, reply, replies, skipped, flagged, held, drafting} {
				if other != nil {
					d.errorf(other, "expect: no_match: true goes alone (%s: says a rule matches)", other.Value)
				}
			}
			if len(items) > 1 {
				d.errorf(n, "expect: no_match: true goes alone, not in a list")
			}
		case rule == nil:
			d.errorf(n, "expect: rule is missing (or write no_match: true)")
		}
		if reply != nil && replies != nil {
			d.errorf(replies, "expect: give reply: (one text) or replies: (every variant), not both")
		}
		if e.Skipped == model.ReasonNoReplyRule && (reply != nil || replies != nil) {
			d.errorf(skipped, "expect: a rule skipped with no_reply_rule has no reply to compare")
		}
		d.contradictions(flagged, held, skipped, cmp.Or(reply, replies))
		if drafting != nil {
			for _, other := range []*yaml.Node{cmp.Or(reply, replies), skipped, flagged, held} {
				if other != nil {
					d.errorf(other, "expect: drafting and %s: a rule drafting has asked a model and nothing more happened yet (give the case a draft: to test the rest)", other.Value)
				}
			}
		}
		c.Expect = append(c.Expect, e)
	}
}

// contradictions refuses expectations no rule can meet at once: a flagged
// comment gets no answer (action flag has no reply), and an answer held back
// by pacing is recorded skipped, never held for approval. Each key is nil
// when not written.
func (d *decoder) contradictions(flagged, held, skipped, reply *yaml.Node) {
	if flagged != nil {
		if reply != nil {
			d.errorf(reply, "expect: a flagged comment has no reply to compare: nothing is sent (for an answer held for approval, write held: true)")
		}
		if held != nil {
			d.errorf(held, "expect: flagged and held: a rule flags the comment (action: flag) or holds its answer (approve: true), not both")
		}
		if skipped != nil {
			d.errorf(skipped, "expect: flagged and skipped: a rule flags the comment or skips it, not both")
		}
	}
	if held != nil && skipped != nil {
		d.errorf(skipped, "expect: held and skipped: an answer held back by pacing is recorded skipped, not held for approval")
	}
}

func (d *decoder) replies(v *yaml.Node) ([]string, bool) {
	if v.Kind != yaml.SequenceNode || len(v.Content) == 0 {
		d.errorf(v, "replies: want a list of every reply variant (for one text, use reply:)")
		return nil, false
	}
	var out []string
	ok := true
	for _, n := range v.Content {
		s, good := d.text(deref(n), "replies")
		ok = ok && good
		out = append(out, s)
	}
	return out, ok
}

// eachKey calls fn for every key of mapping m, refusing duplicates and, when
// known is not nil, keys not in it.
func (d *decoder) eachKey(m *yaml.Node, known []string, fn func(k, v *yaml.Node)) {
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], deref(m.Content[i+1])
		if prev, dup := seen[k.Value]; dup {
			d.errorf(k, "duplicate key %q (first at line %d)", k.Value, prev.Line)
			continue
		}
		seen[k.Value] = k
		if known != nil && !slices.Contains(known, k.Value) {
			d.errorf(k, "unknown key %q%s", k.Value, suggest(k.Value, known))
			continue
		}
		fn(k, v)
	}
}

// text is a scalar as written: uid: 1001 is the text "1001".
func (d *decoder) text(n *yaml.Node, what string) (string, bool) {
	switch {
	case n.Kind == yaml.ScalarNode && n.Tag == "!!null":
		return "", true
	case n.Kind == yaml.ScalarNode:
		return n.Value, true
	case n.Kind == yaml.SequenceNode:
		// text: [赞] is a YAML list holding 赞.
		d.errorf(n, "%s is a YAML list: quote text that starts with [, as in '[赞][赞]'", what)
	case n.Kind == yaml.MappingNode:
		d.errorf(n, "%s is a YAML mapping: quote text that starts with { or contains \": \", as in '{{ x }}'", what)
	default:
		d.errorf(n, "%s must be text", what)
	}
	return "", false
}

func (d *decoder) boolean(n *yaml.Node, what string) bool {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		d.errorf(n, "%s must be true or false", what)
		return false
	}
	b, _ := strconv.ParseBool(strings.ToLower(n.Value))
	return b
}

func (d *decoder) integer(n *yaml.Node, what string) int {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!int" {
		if i, err := strconv.Atoi(n.Value); err == nil {
			return i
		}
	}
	d.errorf(n, "%s must be a whole number", what)
	return 0
}

func (d *decoder) duration(n *yaml.Node, what string) time.Duration {
	s, _ := d.text(n, what)
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n >= 0 {
			return time.Duration(n) * 24 * time.Hour
		}
	}
	dur, err := time.ParseDuration(s)
	if err != nil || dur < 0 {
		d.errorf(n, "%s: want a duration such as 90s, 10m, 2h or 3d, got %q", what, s)
	}
	return dur
}

func (d *decoder) time(n *yaml.Node, what string) *clock {
	s, ok := d.text(n, what)
	if !ok {
		return nil
	}
	if _, err := ParseTime(s, time.UTC); err != nil {
		d.errorf(n, "%s: %v", what, err)
		return nil
	}
	return &clock{s}
}

func (d *decoder) platform(n *yaml.Node) string {
	s, _ := d.text(n, "platform")
	if platforms := platform.Platforms(); !slices.Contains(platforms, s) {
		d.errorf(n, "platform: want one of %s%s", strings.Join(platforms, ", "), suggest(s, platforms))
	}
	return s
}

// timeLayouts are the forms a time may be written in; without an offset it
// is local time in the test file's timezone.
var timeLayouts = []string{"2006-01-02 15:04", "2006-01-02 15:04:05", "2006-01-02T15:04", "2006-01-02T15:04:05"}

// ParseTime reads a time written as "2026-11-22 10:00" (seconds optional)
// in loc, or as RFC 3339 with its own offset.
func ParseTime(s string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, l := range timeLayouts {
		if t, err := time.ParseInLocation(l, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("want a time such as \"2026-11-22 10:00\", got %q", s)
}

// clock is a time as written, read in the timezone once it is known.
type clock struct{ s string }

func (c *clock) in(loc *time.Location) time.Time {
	t, _ := ParseTime(c.s, loc) // checked when parsed
	return t.In(loc)
}

func deref(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func hasKey(m *yaml.Node, key string) bool {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return true
		}
	}
	return false
}

// suggest returns ` (did you mean "rule"?)` for a near miss of a known word.
func suggest(s string, known []string) string { return rules.Suggest(s, known) }
