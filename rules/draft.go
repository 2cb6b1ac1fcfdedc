package rules

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm"
	"go.yaml.in/yaml/v3"

	"github.com/autoreplyd/autoreplyd/internal/regfile"
	"github.com/autoreplyd/autoreplyd/model"
)

// draftKeys are the keys of a rule's draft: mapping, in documented order.
var draftKeys = []string{"llm", "system", "context_file", "prompt", "max_length"}

// maxContextFile bounds a draft's context_file: it goes into every request
// of the rule, and a model's context (and the bill) is counted in tokens.
const maxContextFile = 64 << 10

// maxDraftLength bounds max_length: no platform takes a longer comment.
const maxDraftLength = 2000

// systemNames are the names of the environment a draft's system template
// may use: none of them comes from a comment or its author. The system
// message is what the model obeys; a commenter's words there would be
// instructions (see llm.Messages).
var systemNames = []string{"platform", "thread", "post", "labels", "now"}

// Draft is a drafting rule's request for one comment, rendered.
type Draft struct {
	LLM       string
	System    string // rendered system template ("" when none)
	Context   string // the context_file's text ("" when none)
	Prompt    string // rendered prompt
	MaxLength int    // 0: none beyond the platform's
}

// DraftInfo describes a drafting rule's draft: key.
type DraftInfo struct {
	LLM         string
	ContextFile string // as resolved against the rule file's directory; "" when none
	MaxLength   int
}

// draftSpec is a rule's draft: as written, its context file read.
type draftSpec struct {
	llm         string
	system      *yaml.Node // nil when not written
	prompt      *yaml.Node
	contextFile string // resolved
	context     string
	maxLength   int
}

// draftRule is a compiled draft: key.
type draftRule struct {
	info    DraftInfo
	context string
	system  []segment // nil when none
	prompt  []segment
}

// draftEnv is what reject_if sees: every usual name, and the draft.
type draftEnv struct {
	Env
	Draft string `expr:"draft"`
}

// parseDraft reads a rule's draft: mapping; it returns nil when it is no
// mapping. The context file is read here, at (re)load.
func (f *srcFile) parseDraft(r *ruleSpec, v *yaml.Node) *draftSpec {
	if v.Kind != yaml.MappingNode {
		f.errorf(v, r.name, "draft must be a mapping such as {llm: deepseek, prompt: '用户问：{{ text }}'}")
		return nil
	}
	d := &draftSpec{}
	text := func(k, v *yaml.Node, form string) (*yaml.Node, bool) {
		switch {
		case v.Kind == yaml.MappingNode:
			f.errorf(v, r.name, "draft.%s is a YAML mapping: quote a template that starts with {{, as in %s", k.Value, form)
		case v.Kind != yaml.ScalarNode || v.Tag == "!!null" || strings.TrimSpace(v.Value) == "":
			f.errorf(v, r.name, "draft.%s must be non-empty text, such as %s", k.Value, form)
		default:
			return v, true
		}
		return nil, false
	}
	f.eachKey(v, r.name, func(k, v *yaml.Node) {
		switch k.Value {
		case "llm":
			if n, good := text(k, v, "llm: deepseek (an llm endpoint of the config)"); good {
				d.llm = strings.TrimSpace(n.Value)
			}
		case "system":
			d.system, _ = text(k, v, "'你是{{ labels.shop }}的客服。'")
		case "prompt":
			d.prompt, _ = text(k, v, "'用户 {{ user.nickname }} 问：{{ text }}'")
		case "context_file":
			if n, good := text(k, v, "context_file: products.md"); good {
				f.readContext(r, k, n, d)
			}
		case "max_length":
			var x int
			if v.Kind != yaml.ScalarNode || v.Tag != "!!int" || v.Decode(&x) != nil || x < 1 || x > maxDraftLength {
				f.errorf(v, r.name, "draft.max_length: want a whole number of characters from 1 to %d, got %s", maxDraftLength, quote(v))
				return
			}
			d.maxLength = x
		default:
			f.errorf(k, r.name, "unknown key %q in draft%s", k.Value, suggest(k.Value, draftKeys))
		}
	})
	if !hasKey(v, "llm") {
		f.errorf(v, r.name, "draft: llm is missing (name an llm endpoint of the config, as in llm: deepseek)")
	}
	if !hasKey(v, "prompt") {
		f.errorf(v, r.name, "draft: prompt is missing (what the model is asked, as in prompt: '用户问：{{ text }}')")
	}
	// A draft with errors is still compiled, to report every error at
	// once; the load fails anyway.
	return d
}

// readContext reads a draft's context_file, relative to the rule file's
// directory: a regular file of UTF-8 text of at most maxContextFile bytes.
// Errors are placed at the key k and name the path.
func (f *srcFile) readContext(r *ruleSpec, k, v *yaml.Node, d *draftSpec) {
	p := strings.TrimSpace(v.Value)
	if !filepath.IsAbs(p) {
		p = filepath.Join(filepath.Dir(f.name), p)
	}
	data, err := regfile.Read(p, maxContextFile)
	switch {
	case errors.Is(err, regfile.ErrTooLarge):
		f.errorf(k, r.name, "draft.context_file %s: larger than the %d KiB a context file may have (it goes into every request)", p, maxContextFile>>10)
	case err != nil:
		f.errorf(k, r.name, "draft.context_file %s: %s", p, readProblem(err))
	case !utf8.Valid(data):
		f.errorf(k, r.name, "draft.context_file %s: not UTF-8 text", p)
	default:
		d.contextFile, d.context = p, string(data)
	}
}

// checkDraft refuses the combinations a drafting rule cannot have, and
// makes approve: true its default.
func (f *srcFile) checkDraft(r *ruleSpec) {
	if r.draftKey == nil {
		if r.rejectIfKey != nil {
			f.errorf(r.rejectIfKey, r.name, "reject_if without draft: reject_if checks a model's draft, and this rule asks for none")
		}
		return
	}
	if hasKey(r.node, "reply") {
		f.errorf(r.draftKey, r.name, "draft and reply: a rule answers with a fixed reply or asks a model for a draft, not both")
	}
	switch r.action {
	case ActionFlag:
		f.errorf(r.actionKey, r.name, "action flag with draft: a flagged comment goes to a person and nothing is drafted (remove draft, or keep it: a draft is held for approval by default)")
	case ActionSkip:
		f.errorf(r.actionKey, r.name, "action skip with draft: a skipping rule does not answer (remove draft or action)")
	}
	if r.approveKey == nil {
		// A model's words go out in the operator's name: a person reads
		// them first unless the rule says otherwise.
		r.approve = true
	}
}

// compileDraft compiles a rule's draft templates and reject_if into r.
func (c *compiler) compileDraft(f *srcFile, spec *ruleSpec, r *rule) bool {
	ok := true
	if d := spec.draft; d != nil {
		dr := &draftRule{info: DraftInfo{LLM: d.llm, ContextFile: d.contextFile, MaxLength: d.maxLength}, context: d.context}
		if d.system != nil {
			segs, good := c.template(f, spec.name, "draft.system", d.system)
			if good {
				good = f.checkSystem(spec.name, d.system, segs)
			}
			ok = ok && good
			dr.system = segs
		}
		if d.prompt != nil {
			segs, good := c.template(f, spec.name, "draft.prompt", d.prompt)
			ok = ok && good
			dr.prompt = segs
		}
		r.draft = dr
		r.info.Draft = &dr.info
	}
	if n := spec.rejectIf; n != nil {
		prog, err := compileBounded(n.Value, c.reject)
		if err != nil {
			f.exprError(n, 0, n.Value, spec.name, "reject_if", err)
			return false
		}
		r.rejectIf = prog
		r.info.RejectIf = n.Value
	}
	return ok
}

// checkSystem refuses a system template that uses a name coming from the
// comment or its author: whatever a commenter wrote would reach the model
// as the operator's instructions.
func (f *srcFile) checkSystem(rule string, n *yaml.Node, segs []segment) bool {
	ok := true
	for _, s := range segs {
		if s.prog == nil {
			continue
		}
		found := ast.Find(s.prog.Node(), func(node ast.Node) bool {
			id, isID := node.(*ast.IdentifierNode)
			return isID && commenterName(id.Value)
		})
		if found == nil {
			continue
		}
		name := found.(*ast.IdentifierNode).Value
		line, col := f.pos(n, s.off+found.Location().From)
		f.errorAt(line, col, rule, fmt.Sprintf("draft.system uses %s: what comes from a comment or its author goes only in draft.prompt, "+
			"which the model sees as quoted user content (the system template may use %s)", name, strings.Join(systemNames, ", ")))
		ok = false
	}
	return ok
}

// commenterName says whether a name in a template reaches the comment: a
// name of the environment other than systemNames, or $env, which reaches
// them all. Names of functions and of let variables are not the
// environment's.
func commenterName(name string) bool {
	if name == "$env" {
		return true
	}
	return slices.Contains(envNames, name) && !slices.Contains(systemNames, name)
}

// envNames are the top-level names of Env.
var envNames = envTags(reflect.TypeFor[Env]())

// readProblem words a failure to read a file without repeating its path.
func readProblem(err error) string {
	if errors.Is(err, fs.ErrNotExist) {
		return "does not exist"
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// renderDraft renders r's draft for env.
func (s *Set) renderDraft(m *vm.VM, r *rule, env any) (*Draft, error) {
	d := &Draft{LLM: r.draft.info.LLM, Context: r.draft.context, MaxLength: r.draft.info.MaxLength}
	if r.draft.system != nil {
		sys, err := render(r.draft.system, env, s.loc, m.Run)
		// The system text is optional: one that renders blank (a label
		// the thread lacks) is none.
		if err != nil && !errors.Is(err, errEmptyReply) {
			return nil, &exprError{part: "draft.system", err: err}
		}
		d.System = sys
	}
	prompt, err := render(r.draft.prompt, env, s.loc, m.Run)
	if err != nil {
		return nil, &exprError{part: "draft.prompt", err: err}
	}
	d.Prompt = prompt
	return d, nil
}

// RejectDraft evaluates rule's reject_if against comment c with draft as
// `draft`, at now. false, nil when the rule has no reject_if. An unknown
// rule is an error.
func (s *Set) RejectDraft(rule string, c model.Comment, draft string, now time.Time) (bool, error) {
	if s == nil {
		return false, fmt.Errorf("no rule named %q", rule)
	}
	r, ok := s.byName[rule]
	if !ok {
		return false, fmt.Errorf("no rule named %q", rule)
	}
	if r.rejectIf == nil {
		return false, nil
	}
	v, err := run(r.rejectIf, draftEnv{Env: NewEnv(c, now, s.loc), Draft: draft})
	if err != nil {
		return false, &exprError{part: "reject_if", err: err}
	}
	reject, _ := v.(bool)
	return reject, nil
}

// LLMNames lists the llm endpoints the set's rules name, each with the
// rules naming it in order, for the daemon to check against the config.
func (s *Set) LLMNames() map[string][]string {
	out := map[string][]string{}
	if s == nil {
		return out
	}
	for _, r := range s.rules {
		if r.draft != nil {
			out[r.draft.info.LLM] = append(out[r.draft.info.LLM], r.info.Name)
		}
	}
	return out
}

// Warnings are what `check` should point out in the set without refusing
// it, each as FILE:LINE:COL: rule "NAME": MESSAGE: one per drafting rule
// with approve: false.
func (s *Set) Warnings() []string {
	if s == nil {
		return nil
	}
	return slices.Clone(s.warnings)
}

// warnDraft records the warnings of a compiled drafting rule.
func (s *Set) warnDraft(f *srcFile, spec *ruleSpec) {
	if spec.draft == nil || spec.approve || spec.approveKey == nil {
		return
	}
	s.warnings = append(s.warnings, PosError{File: f.name, Line: spec.approveKey.Line, Col: spec.approveKey.Column, Rule: spec.name,
		Msg: "approve: false sends a model's drafts with no person reading them first"}.Error())
}

// DraftContext returns the context_file text of drafting rule name as
// loaded ("" when it has none); false when the set has no such rule or the
// rule does not draft. The drafting stage reads it when it asks a model, so
// that an edited context file applies from the next reload on.
func (s *Set) DraftContext(name string) (string, bool) {
	if s == nil {
		return "", false
	}
	r, ok := s.byName[name]
	if !ok || r.draft == nil {
		return "", false
	}
	return r.draft.context, true
}

// Reasons a drafting rule's own guardrails give for a draft they stop.
const (
	ReasonRejectIf     = "reject_if"      // the rule's reject_if is true for the draft
	ReasonDraftTooLong = "draft_too_long" // over the rule's max_length (or, in the daemon, the platform's limit)
)

// JudgeDraft runs drafting rule name's own guardrails on a draft for
// comment c: reject_if first (the more telling reason), then max_length
// (characters; 0: none). It returns the reason and why the draft is
// stopped, or "" when it passes; err when reject_if fails. The daemon's
// drafting stage (which adds the platform's limit), explain --draft, the
// console's playground and `autoreplyd test` all judge drafts with it.
func (s *Set) JudgeDraft(name string, c model.Comment, draft string, maxLength int, now time.Time) (reason, why string, err error) {
	reject, err := s.RejectDraft(name, c, draft, now)
	switch {
	case err != nil:
		return "", "", err
	case reject:
		return ReasonRejectIf, "the rule's reject_if is true for this draft", nil
	}
	if n := utf8.RuneCountInString(draft); maxLength > 0 && n > maxLength {
		return ReasonDraftTooLong, fmt.Sprintf("%d characters, over the rule's max_length %d", n, maxLength), nil
	}
	return "", "", nil
}
