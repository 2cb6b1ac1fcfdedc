package rules

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// ruleKeys are the keys a rule may have, in the order they are documented.
var ruleKeys = []string{"name", "when", "reply", "draft", "reject_if", "action", "approve", "notify", "via", "continue", "description", "cooldown", "limit", "active"}

// Actions are what a matching rule does with a comment.
const (
	// ActionReply answers (the default with reply).
	ActionReply = "reply"
	// ActionFlag hands the comment to a person: status flagged, nothing
	// sent.
	ActionFlag = "flag"
	// ActionSkip records the comment skipped (the default without reply).
	ActionSkip = "skip"
)

// Actions lists the actions in the order they are documented.
var Actions = []string{ActionReply, ActionFlag, ActionSkip}

// unsupportedKeys are part of the rule language but not implemented yet:
// refused loudly, since ignoring a cooldown would answer people too often.
var unsupportedKeys = []string{}

// srcFile is one rule file being loaded.
type srcFile struct {
	name  string
	lines []string
	errs  []PosError
}

// ruleSpec is one rule as written, before compilation.
type ruleSpec struct {
	name        string
	node        *yaml.Node // the rule's mapping
	nameNode    *yaml.Node
	when        *yaml.Node
	replies     []*yaml.Node
	cont        bool
	description string
	via         string     // the responder that answers instead of the source's
	viaKey      *yaml.Node // the via key, when written
	pacing      Pacing
	pacingKeys  []*yaml.Node // the cooldown, limit and active keys written
	action      string       // as written; "" when not
	actionKey   *yaml.Node
	approve     bool
	approveKey  *yaml.Node
	notify      []string
	draft       *draftSpec // nil without draft:
	draftKey    *yaml.Node
	rejectIf    *yaml.Node // the reject_if scalar, when written
	rejectIfKey *yaml.Node
}

func (f *srcFile) errorf(n *yaml.Node, rule, format string, args ...any) {
	line, col := 0, 0
	if n != nil {
		line, col = n.Line, n.Column
	}
	f.errs = append(f.errs, PosError{File: f.name, Line: line, Col: col, Rule: rule, Msg: fmt.Sprintf(format, args...)})
}

func (f *srcFile) errorAt(line, col int, rule, msg string) {
	f.errs = append(f.errs, PosError{File: f.name, Line: line, Col: col, Rule: rule, Msg: msg})
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// maxRuleFile bounds a rule file. Rules are a few KB; loading costs about a
// second per MiB, and a live reload must not stall on a stray huge file.
const maxRuleFile = 1 << 20

// maxExpanded bounds a rule file's YAML with its aliases expanded: every
// alias repeats its target's work (a rule or a template compiled again), so
// a few bytes of *a could otherwise cost minutes (a "billion laughs").
const maxExpanded = 2 << 20

// parse decodes data into rule specs, recording every problem in f.errs.
func (f *srcFile) parse(data []byte) []*ruleSpec {
	if len(data) > maxRuleFile {
		f.errorAt(1, 1, "", fmt.Sprintf("file is %d bytes, more than the 1 MiB a rule file may have", len(data)))
		return nil
	}
	f.lines = strings.Split(string(data), "\n")
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			f.errorAt(1, 1, "", "file is empty: want a top-level rules: list")
			return nil
		}
		f.yamlError(err)
		return nil
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		f.errorf(&extra, "", "more than one YAML document in a rule file")
	} else if !errors.Is(err, io.EOF) {
		f.yamlError(err)
	}
	if a := aliasBomb(&doc); a != nil {
		f.errorf(a, "", "YAML aliases expand the file to more than %d MiB", maxExpanded>>20)
		return nil
	}
	root := deref(&doc)
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			f.errorAt(1, 1, "", "file is empty: want a top-level rules: list")
			return nil
		}
		root = deref(root.Content[0])
	}
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		f.errorAt(1, 1, "", "file is empty: want a top-level rules: list")
		return nil
	}
	if root.Kind != yaml.MappingNode {
		f.errorf(root, "", "want a mapping with a rules: list at the top")
		return nil
	}
	var list *yaml.Node
	unknown := false
	f.eachKey(root, "", func(k, v *yaml.Node) {
		if k.Value == "rules" {
			list = v
			return
		}
		f.errorf(k, "", "unknown top-level key %q%s", k.Value, suggest(k.Value, []string{"rules"}))
		unknown = true
	})
	if list == nil {
		if !unknown {
			f.errorf(root, "", "missing top-level rules: list")
		}
		return nil
	}
	if list.Kind != yaml.SequenceNode {
		if list.Kind == yaml.ScalarNode && list.Tag == "!!null" {
			f.errorf(list, "", "no rules")
		} else {
			f.errorf(list, "", "rules: want a list of rules")
		}
		return nil
	}
	if len(list.Content) == 0 {
		f.errorf(list, "", "no rules")
		return nil
	}
	var specs []*ruleSpec
	for i, item := range list.Content {
		if r := f.parseRule(i+1, deref(item)); r != nil {
			specs = append(specs, r)
		}
	}
	return specs
}

// yamlError records a YAML syntax error; the parser gives a line only.
func (f *srcFile) yamlError(err error) {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		for _, msg := range te.Errors {
			f.yamlError(errors.New(msg))
		}
		return
	}
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[1])
		line = f.yamlProblemLine(m[2], line)
		msg := "YAML: " + m[2]
		if strings.Contains(f.line(line), "{{") {
			// Unquoted, {{ starts a YAML flow mapping.
			msg += " (quote a reply that contains {{ }})"
		}
		f.errorAt(line, 1, "", msg)
		return
	}
	f.errorAt(1, 1, "", err.Error())
}

// maxYAMLProbeLines and maxYAMLProbeBytes bound the re-parsing done to
// locate a syntax error: every prefix of the file up to the faulty line is
// parsed again, so the work grows with the square of the file's size
// (BENCHMARKS.md, "Figures behind the code's limits"). Past the budget, the
// parser's line is used.
const (
	maxYAMLProbeLines = 5000
	maxYAMLProbeBytes = 8 << 20
)

// yamlProblemLine finds where a YAML syntax error is.
func (f *srcFile) yamlProblemLine(problem string, reported int) int {
	return YAMLProblemLine(f.lines, problem, reported)
}

// YAMLProblemLine finds the line of a YAML syntax error in a file of lines.
// The parser names the line where the enclosing construct starts (often
// line 1); the first prefix of the file that fails with the same problem
// ends on the faulty line. Bounded by maxYAMLProbeLines/maxYAMLProbeBytes:
// past them, the parser's reported line is returned. Shared with the rule
// test loader.
func YAMLProblemLine(lines []string, problem string, reported int) int {
	if len(lines) > maxYAMLProbeLines {
		return reported
	}
	work := 0
	for n := 1; n <= len(lines); n++ {
		prefix := strings.Join(lines[:n], "\n")
		if work += len(prefix); work > maxYAMLProbeBytes {
			return reported
		}
		var node yaml.Node
		err := yaml.Unmarshal([]byte(prefix), &node)
		if err == nil {
			continue
		}
		if m := yamlLine.FindStringSubmatch(err.Error()); m != nil && m[2] == problem {
			return n
		}
	}
	return reported
}

// aliasBomb returns the alias at which doc, aliases expanded, grows past
// maxExpanded (counting each node and its value's bytes), or nil. Expanded
// sizes are memoized, so the walk is linear in the file; a recursive alias
// (&a [*a]) counts as nothing, since the loader never follows it twice.
func aliasBomb(doc *yaml.Node) *yaml.Node {
	sizes := map[*yaml.Node]int{} // alias targets; -1 while being measured
	var size func(n *yaml.Node) int
	size = func(n *yaml.Node) int {
		if n.Kind == yaml.AliasNode {
			if n.Alias == nil {
				return 1
			}
			s, ok := sizes[n.Alias]
			if !ok {
				sizes[n.Alias] = -1
				s = size(n.Alias)
				sizes[n.Alias] = s
			}
			return max(s, 0)
		}
		s := 1 + len(n.Value)
		for _, c := range n.Content {
			if s += size(c); s > maxExpanded {
				return s
			}
		}
		return s
	}
	total := 0
	var culprit *yaml.Node
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if culprit != nil {
			return
		}
		if n.Kind == yaml.AliasNode {
			total += size(n)
		} else {
			total += 1 + len(n.Value)
		}
		if total > maxExpanded {
			culprit = n
			return
		}
		if n.Kind != yaml.AliasNode {
			for _, c := range n.Content {
				walk(c)
			}
		}
	}
	walk(doc)
	return culprit
}

// eachKey calls fn for every key of mapping m, refusing duplicates.
func (f *srcFile) eachKey(m *yaml.Node, rule string, fn func(k, v *yaml.Node)) {
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], deref(m.Content[i+1])
		if prev, dup := seen[k.Value]; dup {
			f.errorf(k, rule, "duplicate key %q (first at line %d)", k.Value, prev.Line)
			continue
		}
		seen[k.Value] = k
		fn(k, v)
	}
}

// parseRule checks one item of the rules: list; it returns nil when the
// rule cannot be compiled.
func (f *srcFile) parseRule(index int, n *yaml.Node) *ruleSpec {
	if n.Kind != yaml.MappingNode {
		f.errorf(n, "", "rule #%d: want a mapping with name: and when:", index)
		return nil
	}
	r := &ruleSpec{node: n}
	// The name first, so that every other message can carry it.
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k, v := n.Content[i], deref(n.Content[i+1]); k.Value == "name" && v.Kind == yaml.ScalarNode {
			r.name = strings.TrimSpace(v.Value)
			r.nameNode = v
			break
		}
	}
	f.eachKey(n, r.name, func(k, v *yaml.Node) {
		switch k.Value {
		case "name":
			if v.Kind != yaml.ScalarNode || v.Tag == "!!null" || strings.TrimSpace(v.Value) == "" {
				f.errorf(v, "", "rule #%d: name must be a non-empty string", index)
				r.name, r.nameNode = "", nil
			}
		case "when":
			if v.Kind != yaml.ScalarNode || v.Tag == "!!null" || strings.TrimSpace(v.Value) == "" {
				f.errorf(v, r.name, "when must be a non-empty expression")
				return
			}
			r.when = v
		case "reply":
			f.parseReply(r, v)
		case "draft":
			r.draftKey = k
			r.draft = f.parseDraft(r, v)
		case "reject_if":
			r.rejectIfKey = k
			if v.Kind != yaml.ScalarNode || v.Tag == "!!null" || strings.TrimSpace(v.Value) == "" {
				f.errorf(v, r.name, "reject_if must be a non-empty expression over draft, such as 'containsAny(draft, [\"微信\", \"http\"])'")
				return
			}
			r.rejectIf = v
		case "continue":
			if v.Kind != yaml.ScalarNode || v.Tag != "!!bool" {
				f.errorf(v, r.name, "continue must be true or false")
				return
			}
			r.cont = v.Value == "true" || v.Value == "True" || v.Value == "TRUE"
		case "via":
			r.viaKey = k
			if v.Kind != yaml.ScalarNode || v.Tag == "!!null" || strings.TrimSpace(v.Value) == "" {
				f.errorf(v, r.name, "via must name a responder, e.g. via: kitkot")
				return
			}
			r.via = strings.TrimSpace(v.Value)
		case "action":
			r.actionKey = k
			a := strings.TrimSpace(v.Value)
			if v.Kind != yaml.ScalarNode || !contains(Actions, a) {
				f.errorf(v, r.name, "action must be one of %s%s", strings.Join(Actions, ", "), suggest(a, Actions))
				return
			}
			r.action = a
		case "approve":
			r.approveKey = k
			if v.Kind != yaml.ScalarNode || v.Tag != "!!bool" {
				f.errorf(v, r.name, "approve must be true or false")
				return
			}
			r.approve = v.Value == "true" || v.Value == "True" || v.Value == "TRUE"
		case "notify":
			f.parseNotify(r, v)
		case "description":
			if v.Kind != yaml.ScalarNode {
				f.errorf(v, r.name, "description must be text")
				return
			}
			r.description = v.Value
		case "cooldown":
			r.pacingKeys = append(r.pacingKeys, k)
			f.parseCooldown(r, v)
		case "limit":
			r.pacingKeys = append(r.pacingKeys, k)
			f.parseLimit(r, v)
		case "active":
			r.pacingKeys = append(r.pacingKeys, k)
			f.parseActive(r, v)
		default:
			if contains(unsupportedKeys, k.Value) {
				f.errorf(k, r.name, "%s is not supported yet", k.Value)
			} else {
				f.errorf(k, r.name, "unknown key %q%s", k.Value, suggest(k.Value, append(ruleKeys, unsupportedKeys...)))
			}
		}
	})
	if !hasKey(n, "name") {
		f.errorf(n, "", "rule #%d: name is missing", index)
	}
	if r.when == nil && !hasKey(n, "when") {
		f.errorf(n, r.name, "when is missing")
	}
	f.checkDraft(r)
	switch {
	case r.draftKey != nil:
		// A drafting rule answers (with the model's draft), so pacing,
		// via and approve apply as with reply; checkDraft said the rest.
	case !hasKey(n, "reply"):
		// Pacing holds answers back; a rule without reply only skips or
		// flags.
		if r.viaKey != nil {
			f.errorf(r.viaKey, r.name, "via without reply: a rule without reply does not answer")
		}
		for _, k := range r.pacingKeys {
			f.errorf(k, r.name, "%s without reply: pacing applies to answers, and a rule without reply does not answer", k.Value)
		}
		if r.approveKey != nil && r.approve {
			f.errorf(r.approveKey, r.name, "approve without reply: approval holds an answer, and this rule has none")
		}
		if r.action == ActionReply {
			f.errorf(r.actionKey, r.name, "action reply without reply: give the answer in reply")
		}
	default:
		switch r.action {
		case ActionFlag:
			f.errorf(r.actionKey, r.name, "action flag with reply: a flagged comment goes to a person and nothing is sent (remove reply, or keep it with approve: true to hold the answer for approval)")
		case ActionSkip:
			f.errorf(r.actionKey, r.name, "action skip with reply: a skipping rule does not answer (remove reply or action)")
		}
	}
	// A rule with errors is still compiled when it can be, to report every
	// error at once; the load fails anyway.
	if r.name == "" || r.when == nil {
		return nil
	}
	return r
}

// parseNotify accepts a channel name or a list of distinct channel names.
// Whether each is configured is checked against the config (notify:).
func (f *srcFile) parseNotify(r *ruleSpec, v *yaml.Node) {
	items := []*yaml.Node{v}
	if v.Kind == yaml.SequenceNode {
		items = v.Content
		if len(items) == 0 {
			f.errorf(v, r.name, "notify is an empty list (leave notify out, or name channels: notify: [ops])")
			return
		}
	}
	for _, n := range items {
		n = deref(n)
		name := strings.TrimSpace(n.Value)
		switch {
		case n.Kind != yaml.ScalarNode || n.Tag == "!!null" || name == "":
			f.errorf(n, r.name, "notify must name channels of the config's notify section, as in notify: [ops]")
		case contains(r.notify, name):
			f.errorf(n, r.name, "notify names channel %q twice", name)
		default:
			r.notify = append(r.notify, name)
		}
	}
}

// parseReply accepts a string or a non-empty list of strings.
func (f *srcFile) parseReply(r *ruleSpec, v *yaml.Node) bool {
	text := func(n *yaml.Node, what string) bool {
		n = deref(n)
		switch {
		case n.Kind == yaml.MappingNode:
			f.errorf(n, r.name, "%s is a YAML mapping: quote a template that starts with {{, as in '{{ user.nickname }} ...'", what)
		case n.Kind != yaml.ScalarNode:
			f.errorf(n, r.name, "%s must be text", what)
		case n.Tag == "!!null" || strings.TrimSpace(n.Value) == "":
			f.errorf(n, r.name, "%s is empty (leave reply out for a rule that does not answer)", what)
		default:
			r.replies = append(r.replies, n)
			return true
		}
		return false
	}
	if v.Kind != yaml.SequenceNode {
		return text(v, "reply")
	}
	if len(v.Content) == 0 {
		f.errorf(v, r.name, "reply is an empty list (leave reply out for a rule that does not answer)")
		return false
	}
	ok := true
	for i, item := range v.Content {
		if !text(item, fmt.Sprintf("reply[%d]", i+1)) {
			ok = false
		}
	}
	return ok
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

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// suggest returns ` (did you mean "when"?)` for a near miss of a known key.
func suggest(key string, known []string) string { return Suggest(key, known) }

// Suggest returns ` (did you mean "X"?)` when word is a near miss of one of
// known (edit distance at most 2, or 1 for a word of up to 3 characters:
// foo is 2 edits from now but no typo of it), or the only one it starts, else
// "". Shared by the rule
// loader and the rule test loader, so both help a typo the same way.
func Suggest(word string, known []string) string {
	bestD := 3
	if utf8.RuneCountInString(word) <= 3 {
		bestD = 2
	}
	best := ""
	for _, k := range known {
		if d := editDistance(word, k); d < bestD {
			best, bestD = k, d
		}
	}
	if best == "" {
		// A word cut short (nick for nickname) is no near miss, but the
		// one known word it starts is what was meant.
		for _, k := range known {
			if utf8.RuneCountInString(word) >= 3 && strings.HasPrefix(k, word) {
				if best != "" {
					return ""
				}
				best = k
			}
		}
	}
	if best == "" || best == word {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// pos maps a rune offset inside scalar n's value to its place in the file.
func (f *srcFile) pos(n *yaml.Node, off int) (line, col int) {
	switch {
	case n.Style&yaml.LiteralStyle != 0:
		// The value's lines are the file's lines after the | indicator.
		l, c := lineCol(n.Value, off)
		return n.Line + 1 + l, f.blockIndent(n) + 1 + c
	case n.Style&yaml.FoldedStyle != 0:
		return f.walkFolded(n.Line+1, f.blockIndent(n)+1, off)
	default:
		col := n.Column
		if n.Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle) != 0 {
			col++ // the opening quote
		}
		return f.walkFolded(n.Line, col, off)
	}
}

func (f *srcFile) line(n int) string {
	if n < 1 || n > len(f.lines) {
		return ""
	}
	return strings.TrimRight(f.lines[n-1], "\r")
}

// blockIndent is the indentation of a block scalar's content.
func (f *srcFile) blockIndent(n *yaml.Node) int {
	for l := n.Line + 1; l <= len(f.lines); l++ {
		if s := f.line(l); strings.TrimSpace(s) != "" {
			return len(s) - len(strings.TrimLeft(s, " "))
		}
	}
	return n.Column
}

// walkFolded maps a rune offset in a value whose source lines were folded
// (joined by one space, or by k newlines where k blank lines intervene),
// starting at line:col, to a file position.
func (f *srcFile) walkFolded(line, col, off int) (int, int) {
	for {
		rest := f.line(line)
		if col-1 <= len(rest) {
			rest = strings.TrimRight(string([]rune(rest)[min(col-1, utf8.RuneCountInString(rest)):]), " \t")
		}
		n := utf8.RuneCountInString(rest)
		if off <= n {
			return line, col + off
		}
		off -= n
		next, blanks := line+1, 0
		for next <= len(f.lines) && strings.TrimSpace(f.line(next)) == "" {
			next++
			blanks++
		}
		if next > len(f.lines) || off < max(1, blanks) {
			return line, col + n
		}
		off -= max(1, blanks)
		s := f.line(next)
		line, col = next, len(s)-len(strings.TrimLeft(s, " \t"))+1
	}
}

// lineCol converts a rune offset in s to a 0-based line and rune column.
func lineCol(s string, off int) (line, col int) {
	for _, r := range s {
		if off == 0 {
			break
		}
		off--
		if r == '\n' {
			line++
			col = 0
		} else {
			col++
		}
	}
	return line, col
}

// runeOffset converts expr's 1-based line and 0-based column in s to a rune
// offset.
func runeOffset(s string, line, col int) int {
	off := 0
	for l := 1; l < line; l++ {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			break
		}
		off += utf8.RuneCountInString(s[:i]) + 1
		s = s[i+1:]
	}
	return off + col
}
