package platform

import (
	"strings"
	"testing"

	"github.com/autoreplyd/autoreplyd/model"
)

func TestParseBaseURL(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]string{
		"https://api.justoneapi.com":  "",
		"http://127.0.0.1:8080/api":   "",
		"ftp://x":                     "want an http or https URL",
		"api.justoneapi.com":          "want an http or https URL",
		"https://x/api?token=SECRET1": "must not have a query",
		"https://x/#frag":             "must not have a query or fragment",
	} {
		_, err := ParseBaseURL("douyin", raw)
		if want == "" && err != nil || want != "" && (err == nil || !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), "douyin: base_url")) {
			t.Errorf("ParseBaseURL(%q) = %v, want %q", raw, err, want)
		}
	}
}

func TestCheckThreads(t *testing.T) {
	t.Parallel()
	if err := CheckThreads("tiktok", []model.Thread{{ID: "1"}, {ID: "2"}}); err != nil {
		t.Fatal(err)
	}
	if err := CheckThreads("tiktok", []model.Thread{{ID: "1"}, {ID: ""}}); err == nil || !strings.Contains(err.Error(), "thread 1: comment_id is empty") {
		t.Fatalf("empty id: %v", err)
	}
	if err := CheckThreads("tiktok", []model.Thread{{ID: "7"}, {ID: "7"}}); err == nil || !strings.Contains(err.Error(), "thread 7 is listed twice") {
		t.Fatalf("twice: %v", err)
	}
}
