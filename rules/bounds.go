package rules

import (
	"fmt"
	"strings"
)

// Bounds on one condition or template expression, checked by a linear scan
// of its text before expr parses it. expr's parser recurses once per
// nesting level (an opening bracket, a prefix operator, a right-associative
// operator) and counts its nodes only on the way back up, so a deep enough
// expression under the file size cap overflowed the stack and killed the
// daemon on reload (520,000 nested parentheses in a 1 MB file), and 400,000
// were accepted at ~870 MB. The scan is O(length), allocates nothing, and
// stops at the first excess, so a hostile edit is refused cheaply in check,
// test, explain and reload alike.
const (
	// maxExprDepth bounds bracket nesting ((), [], {}). Real conditions nest
	// a handful of levels; 64 is far beyond any rule a person writes.
	maxExprDepth = 64
	// maxExprTokens bounds the tokens of one expression, each operator
	// character counted alone. A condition within maxExprNodes (500) needs
	// at most about three tokens a node (a literal, an operator, a comma or
	// bracket); with this bound the parser's recursion, which is at most one
	// level a token, stays shallow whatever the operators.
	maxExprTokens = 4 * maxExprNodes
	// maxExprBytes bounds the text of one expression: room for a long
	// keyword regex (several thousand Chinese words), far below the 1 MiB a
	// file may have.
	maxExprBytes = 64 << 10
)

// boundsError is an expression over a bound, at a byte offset of its text.
type boundsError struct {
	off int
	msg string
}

func (e *boundsError) Error() string { return e.msg }

// checkBounds scans src (an expression) and reports the first bound it
// exceeds: nesting and tokens first, where the scan stops early, then size. Brackets and operators inside string literals and comments do not
// count; a string or comment left open ends the scan (the parser reports it).
func checkBounds(src string) *boundsError {
	depth, tokens := 0, 0
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			continue
		case c == '"' || c == '\'' || c == '`':
			for i++; i < len(src) && src[i] != c; i++ {
				if src[i] == '\\' && c != '`' {
					i++
				}
			}
		case c == '/' && i+1 < len(src) && src[i+1] == '/':
			for i < len(src) && src[i] != '\n' {
				i++
			}
			continue
		case c == '/' && i+1 < len(src) && src[i+1] == '*':
			end := strings.Index(src[i+2:], "*/")
			if end < 0 {
				return nil
			}
			i += 2 + end + 1
			continue
		case c == '(' || c == '[' || c == '{':
			depth++
			if depth > maxExprDepth {
				return &boundsError{i, fmt.Sprintf("expression nests brackets more than %d deep", maxExprDepth)}
			}
		case c == ')' || c == ']' || c == '}':
			if depth > 0 {
				depth--
			}
		case isWordByte(c):
			for i+1 < len(src) && isWordByte(src[i+1]) {
				i++
			}
		}
		tokens++
		if tokens > maxExprTokens {
			return &boundsError{i, fmt.Sprintf("expression has more than %d tokens (%d nodes at most are allowed)", maxExprTokens, maxExprNodes)}
		}
	}
	if len(src) > maxExprBytes {
		return &boundsError{0, fmt.Sprintf("expression is %d bytes, more than the %d KiB one expression may have", len(src), maxExprBytes>>10)}
	}
	return nil
}

// isWordByte reports whether c continues an identifier or a number: ASCII
// letters, digits, '_', '$', '.', and every byte of a multi-byte character
// (identifiers and numbers are one token however long).
func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '$' || c >= 0x80
}
