package platform

import (
	"fmt"
	"net/url"

	"github.com/autoreplyd/autoreplyd/model"
)

// ParseBaseURL checks a source's base URL: http or https with a host, and no
// query or fragment (paths and parameters are the source's to add).
func ParseBaseURL(platform, raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%s: base_url %q: want an http or https URL", platform, raw)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("%s: base_url %q: must not have a query or fragment", platform, u.Redacted())
	}
	return u, nil
}

// CheckThreads refuses a watched comment thread without an id, or listed
// twice (it would be polled twice per cycle).
func CheckThreads(platform string, threads []model.Thread) error {
	seen := make(map[string]bool, len(threads))
	for i, th := range threads {
		switch {
		case th.ID == "":
			return fmt.Errorf("%s: thread %d: comment_id is empty", platform, i)
		case seen[th.ID]:
			return fmt.Errorf("%s: thread %s is listed twice", platform, th.ID)
		}
		seen[th.ID] = true
	}
	return nil
}
