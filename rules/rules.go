// Package rules owns the rule language of autoreplyd: it loads rule files
// (YAML), compiles and type-checks their expr-lang conditions and reply
// templates once per load, and evaluates them against comments.
//
// Every problem of a load is reported at once, each with its file, line and
// column. A loaded Set is immutable and safe for concurrent use.
package rules

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/patcher"
	"github.com/expr-lang/expr/vm"
	"go.yaml.in/yaml/v3"
)

// maxExprNodes bounds the size of one condition or template expression. A
// rule is a short condition; this refuses pasted garbage and generated
// monsters, and keeps one evaluation well under a millisecond.
const maxExprNodes = 500

// Options tune a load.
type Options struct {
	// Location is the timezone of `now`, `created_at`, date() and of times
	// rendered in replies. Nil means UTC.
	Location *time.Location
}

// RuleInfo describes one loaded rule.
type RuleInfo struct {
	Name     string
	File     string
	Line     int // line of the rule's first key
	HasReply bool
	Continue bool
	Variants int // number of reply variants; 0 without reply
	// Description is the rule's free-text description.
	Description string
	// Pacing is the rule's cooldown, limit and active windows.
	Pacing Pacing
	// Via is the responder that answers this rule's matches instead of the
	// source's own; "" for the source's.
	Via string
	// Action is what the rule does when it matches: ActionReply,
	// ActionFlag or ActionSkip (never "": the default is filled in).
	Action string
	// Approve holds the rule's answers for a person's approval.
	Approve bool
	// Notify names the notification channels told of the rule's matches.
	Notify []string
	// Draft describes the rule's draft: key; nil unless the rule asks a
	// model for a draft (then HasReply is false and Action ActionReply).
	Draft *DraftInfo
	// RejectIf is the reject_if source, "" when none.
	RejectIf string
}

// Set is a loaded, compiled set of rules, in evaluation order.
type Set struct {
	rules    []*rule
	byName   map[string]*rule
	files    []string
	loc      *time.Location
	warnings []string
}

type rule struct {
	info     RuleInfo
	when     *vm.Program
	replies  [][]segment // one template per variant
	parts    []string    // "reply" or "reply[N]" for each variant, for errors
	draft    *draftRule  // nil unless the rule drafts
	rejectIf *vm.Program // nil without reject_if
}

// Rules describes the rules in evaluation order.
func (s *Set) Rules() []RuleInfo {
	out := make([]RuleInfo, len(s.rules))
	for i, r := range s.rules {
		out[i] = r.info
		out[i].Pacing.Active = slices.Clone(r.info.Pacing.Active)
		out[i].Notify = slices.Clone(r.info.Notify)
		if r.info.Draft != nil {
			d := *r.info.Draft
			out[i].Draft = &d
		}
	}
	return out
}

// Files lists the files the rules were loaded from, in load order.
func (s *Set) Files() []string { return slices.Clone(s.files) }

// Len is the number of rules.
func (s *Set) Len() int { return len(s.rules) }

// Load reads rules from path: a file, or a directory whose *.yaml and *.yml
// files (not recursive; dotfiles and editor temporaries skipped) are loaded
// in name order. Rule order is file order, then order in the file. Problems
// in the rules are returned together as a *LoadError.
func Load(path string, opts Options) (*Set, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, readError(path, err)
	}
	names := []string{path}
	if fi.IsDir() {
		if names, err = ruleFiles(path); err != nil {
			return nil, readError(path, err)
		}
		if len(names) == 0 {
			return nil, &ReadError{Path: path, Err: errNoRuleFiles}
		}
	}
	srcs := make([]source, len(names))
	for i, name := range names {
		data, err := ReadFile(name)
		if err != nil {
			return nil, err
		}
		srcs[i] = source{name, data}
	}
	return load(srcs, opts)
}

// LoadBytes loads one rule file's contents; name is used in positions.
func LoadBytes(name string, data []byte, opts Options) (*Set, error) {
	return load([]source{{name, data}}, opts)
}

// errNoRuleFiles is the ReadError of a rules directory without rule files.
var errNoRuleFiles = errors.New("a directory with no *.yaml or *.yml files")

// ruleFiles lists the rule files of dir in name order.
func ruleFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		n := e.Name()
		ext := filepath.Ext(n)
		if (ext != ".yaml" && ext != ".yml") || strings.HasPrefix(n, ".") || strings.HasPrefix(n, "#") {
			continue // editor temporaries (.#x.yaml, x.yaml~, x.yaml.swp) end up here too
		}
		p := filepath.Join(dir, n)
		if fi, err := os.Stat(p); err != nil || fi.IsDir() {
			continue
		}
		names = append(names, p)
	}
	slices.Sort(names)
	return names, nil
}

type source struct {
	name string
	data []byte
}

func load(srcs []source, opts Options) (*Set, error) {
	loc := opts.Location
	if loc == nil {
		loc = time.UTC
	}
	helpers := append(slices.Clone(helperOptions), timeHelpers(loc)...)
	c := &compiler{
		loc: loc,
		when: append([]expr.Option{expr.Env(Env{}), expr.AsBool(), expr.MaxNodes(maxExprNodes),
			expr.Patch(patcher.WithTimezone{Location: loc})}, helpers...),
		tmpl: append([]expr.Option{expr.Env(Env{}), expr.MaxNodes(maxExprNodes),
			expr.Patch(patcher.WithTimezone{Location: loc})}, helpers...),
		reject: append([]expr.Option{expr.Env(draftEnv{}), expr.AsBool(), expr.MaxNodes(maxExprNodes),
			expr.Patch(patcher.WithTimezone{Location: loc})}, helpers...),
	}
	set := &Set{loc: loc, byName: map[string]*rule{}}
	var errs []PosError
	type firstDef struct {
		file      string
		line, col int
	}
	seen := map[string]firstDef{}
	for _, src := range srcs {
		f := &srcFile{name: src.name}
		set.files = append(set.files, src.name)
		for _, spec := range f.parse(src.data) {
			if first, dup := seen[spec.name]; dup {
				f.errorf(spec.nameNode, spec.name, "duplicate name, first defined at %s:%d:%d", first.file, first.line, first.col)
			} else {
				seen[spec.name] = firstDef{f.name, spec.nameNode.Line, spec.nameNode.Column}
			}
			if r := c.compile(f, spec); r != nil {
				set.rules = append(set.rules, r)
				set.byName[r.info.Name] = r
				set.warnDraft(f, spec)
			}
		}
		// Within a file, report in reading order.
		slices.SortStableFunc(f.errs, func(a, b PosError) int {
			return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col))
		})
		errs = append(errs, f.errs...)
	}
	if len(errs) > 0 {
		return nil, &LoadError{Errors: errs}
	}
	return set, nil
}

type compiler struct {
	loc                *time.Location
	when, tmpl, reject []expr.Option
}

// compile compiles one rule's condition and replies; errors go to f.
func (c *compiler) compile(f *srcFile, spec *ruleSpec) *rule {
	r := &rule{info: RuleInfo{
		Name:        spec.name,
		File:        f.name,
		Line:        spec.node.Line,
		HasReply:    len(spec.replies) > 0,
		Continue:    spec.cont,
		Variants:    len(spec.replies),
		Description: spec.description,
		Pacing:      spec.pacing,
		Via:         spec.via,
		Action:      spec.action,
		Approve:     spec.approve,
		Notify:      spec.notify,
	}}
	if r.info.Action == "" {
		r.info.Action = ActionSkip
		if r.info.HasReply || spec.draft != nil {
			r.info.Action = ActionReply
		}
	}
	r.info.Pacing.Location = c.loc
	ok := true
	if prog, err := compileBounded(spec.when.Value, c.when); err != nil {
		f.exprError(spec.when, 0, spec.when.Value, spec.name, "when", err)
		ok = false
	} else {
		r.when = prog
	}
	for i, n := range spec.replies {
		part := "reply"
		if isList(spec.node) {
			part = fmt.Sprintf("reply[%d]", i+1)
		}
		r.parts = append(r.parts, part)
		segs, good := c.template(f, spec.name, part, n)
		if !good {
			ok = false
			continue
		}
		r.replies = append(r.replies, segs)
	}
	if !c.compileDraft(f, spec, r) {
		ok = false
	}
	if !ok {
		return nil
	}
	return r
}

// template compiles the template in scalar n, part of rule (reply[2],
// draft.prompt); errors go to f.
func (c *compiler) template(f *srcFile, rule, part string, n *yaml.Node) ([]segment, bool) {
	segs, err := splitTemplate(n.Value)
	if err != nil {
		var te *templateError
		errors.As(err, &te)
		line, col := f.pos(n, te.off)
		f.errorAt(line, col, rule, part+": "+te.msg)
		return nil, false
	}
	ok := true
	for j := range segs {
		s := &segs[j]
		if s.prog == nil && s.src == "" {
			continue
		}
		prog, err := compileBounded(s.src, c.tmpl)
		if err == nil {
			err = renderable(prog.Node().Type())
		}
		if err != nil {
			f.exprError(n, s.off, s.src, rule, part, err)
			ok = false
			continue
		}
		s.prog = prog
	}
	return segs, ok
}

// compileBounded compiles src after checking it against the bounds that
// keep expr's parser from recursing without limit (see checkBounds).
func compileBounded(src string, opts []expr.Option) (*vm.Program, error) {
	if be := checkBounds(src); be != nil {
		return nil, be
	}
	return expr.Compile(src, opts...)
}

// isList says whether the rule's reply was written as a YAML list.
func isList(ruleNode *yaml.Node) bool {
	for i := 0; i+1 < len(ruleNode.Content); i += 2 {
		if ruleNode.Content[i].Value == "reply" {
			return deref(ruleNode.Content[i+1]).Kind == yaml.SequenceNode
		}
	}
	return false
}

// exprError records an expr compile error of src, which starts at rune
// offset base of scalar n's value.
func (f *srcFile) exprError(n *yaml.Node, base int, src, rule, part string, err error) {
	var fe *file.Error
	var be *boundsError
	var off int
	msg := err.Error()
	switch {
	case errors.As(err, &be):
		off = utf8.RuneCountInString(src[:be.off])
	case errors.As(err, &fe):
		off = runeOffset(src, fe.Line, fe.Column)
		names := exprNames
		if part == "reject_if" {
			names = rejectIfNames
		}
		msg = explainMessage(strings.TrimSpace(fe.Message), names)
	default:
		// Errors without a position (a non-boolean `when`) point at the
		// expression's first character.
		off = len([]rune(src)) - len([]rune(strings.TrimLeft(src, " \t\r\n")))
	}
	line, col := f.pos(n, base+off)
	f.errorAt(line, col, rule, part+": "+msg)
}
