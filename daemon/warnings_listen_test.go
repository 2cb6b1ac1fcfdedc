package daemon

import (
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/autoreplyd/autoreplyd/internal/testutil"
)

func TestListenWarning(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ listen, want string }{
		{"", ""},
		{"127.0.0.1:9464", ""},
		{"127.1.2.3:9464", ""},
		{"[::1]:9464", ""},
		{"localhost:9464", ""},
		{"0.0.0.0:9464", "listen: 0.0.0.0:9464 listens on every interface: /metrics, /-/healthy, /-/ready (which names file paths and pause reasons) and POST /-/reload have no authentication"},
		{"[::]:9464", "listen: [::]:9464 listens on every interface"},
		{":9464", "listen: :9464 listens on every interface"},
		{"10.1.2.3:9464", "listen: 10.1.2.3:9464 is not a loopback address"},
		{"[2001:db8::1]:9464", "listen: [2001:db8::1]:9464 is not a loopback address"},
		{"metrics.internal:9464", "listen: metrics.internal:9464 is not a loopback address"},
	} {
		got := listenWarning(tc.listen)
		if tc.want == "" && got != "" || !strings.HasPrefix(got, tc.want) {
			t.Errorf("listenWarning(%q) = %q, want %q…", tc.listen, got, tc.want)
		}
	}
}

// Secrets inline in a config file others can read are a warning naming the
// file and the keys, never the values; the daemon logs it at start, as it
// does a listener off loopback.
func TestInlineSecretsAndListenWarningsLogged(t *testing.T) {
	t.Parallel()
	path := writeConfig(t, t.TempDir(), closedURL(t), "@every 1h", rulesV1, "")
	for _, tc := range []struct {
		mode os.FileMode
		want bool
	}{{0o644, true}, {0o640, false}, {0o600, false}} {
		if err := os.Chmod(path, tc.mode); err != nil {
			t.Fatal(err)
		}
		cfg := load(t, path)
		cfg.Listen = "0.0.0.0:9464"
		var logs strings.Builder
		// NoListen: the warning is about the key; nothing need bind 0.0.0.0.
		d, err := New(t.Context(), cfg, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil)), NoListen: true})
		if err != nil {
			t.Fatal(err)
		}
		testutil.Close(t, d)
		want := path + " is readable by every user (mode 0644) and holds secrets inline: " +
			"sources.douyin.token, responders.kitkot.api_key, responders.kitkot.session_key;"
		if got := strings.Contains(logs.String(), want); got != tc.want {
			t.Errorf("mode %04o: inline-secrets warning logged %v, want %v:\n%s", tc.mode, got, tc.want, logs.String())
		}
		if !strings.Contains(logs.String(), `level=WARN msg="listen: 0.0.0.0:9464 listens on every interface`) {
			t.Errorf("no listen warning in the log:\n%s", logs.String())
		}
		for _, secret := range []string{token, apiKey, sessionKey} {
			if strings.Contains(logs.String(), secret) {
				t.Errorf("the log shows the secret %q", secret)
			}
		}
	}
}
