package platform

import (
	"errors"
	"strings"
	"testing"

	"github.com/autoreplyd/autoreplyd/model"
)

func TestCheckRunes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		text, reason, msg string
	}{
		{"价格请看🛒", "", ""},
		{strings.Repeat("😀", 5), "", ""}, // characters, not bytes
		{"", "empty_text", "reply text is empty"},
		{" \t\n", "empty_text", "reply text is empty"},
		{strings.Repeat("长", 6), "too_long", "reply is 6 characters, more than responders.x.max_length (5)"},
	} {
		se := CheckRunes(tc.text, 5, "responders.x.max_length")
		if tc.reason == "" {
			if se != nil {
				t.Errorf("CheckRunes(%q) = %v", tc.text, se)
			}
			continue
		}
		if se == nil || se.Reason != tc.reason || se.Msg != tc.msg || se.Kind != model.Permanent || !se.ReplyOnly {
			t.Errorf("CheckRunes(%q) = %#v, want %s %q", tc.text, se, tc.reason, tc.msg)
		}
	}
}

func TestErrorOf(t *testing.T) {
	t.Parallel()
	if err := ErrorOf(nil); err != nil {
		t.Errorf("ErrorOf(nil) = %#v, want a nil error", err)
	}
	se := EmptyText("")
	var got *model.SendError
	if err := ErrorOf(se); !errors.As(err, &got) || got != se {
		t.Errorf("ErrorOf(se) = %v", err)
	}
}
