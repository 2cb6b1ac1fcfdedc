package daemon

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/autoreplyd/autoreplyd/config"
	"github.com/autoreplyd/autoreplyd/internal/testutil"
	"github.com/autoreplyd/autoreplyd/model"
	"github.com/autoreplyd/autoreplyd/poller"
)

// consoleDaemon is a daemon with a console section, serving its listener
// on a fresh loopback port; it returns the daemon and the address.
func consoleDaemon(t *testing.T) (*Daemon, string) {
	t.Helper()
	dir := t.TempDir()
	path := writeConfig(t, dir, closedURL(t), "@every 1h", rulesV1, `console:
  users:
    - {name: ops, password_file: console-ops}
  allowed_hosts: ["autoreplyd.internal:9464"]
`)
	testutil.WriteFile(t, filepath.Join(dir, "console-ops"), "PASSWORD-s3cr3t-daemon-console\n")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	testutil.WriteFile(t, path, strings.Replace(string(b), `listen: ""`, `listen: "127.0.0.1:0"`, 1))
	cfg := load(t, path)
	d, err := New(t.Context(), cfg, Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { testutil.Close(t, d) })
	addr := d.listener.Addr().String()
	stop, err := d.serveHealth(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return d, addr
}

func TestConsoleMounted(t *testing.T) {
	t.Parallel()
	d, addr := consoleDaemon(t)
	for _, tc := range []struct {
		method, path, host string
		code               int
		want               string
	}{
		{"GET", "/ui/login", "", http.StatusOK, `<form id="login"`},
		{"GET", "/ui/login", "localhost" + addr[strings.LastIndexByte(addr, ':'):], http.StatusOK, `<form id="login"`},
		{"GET", "/ui/login", "autoreplyd.internal:9464", http.StatusOK, `<form id="login"`},
		{"GET", "/ui/login", "evil.example:9464", http.StatusForbidden, "console.allowed_hosts"},
		{"POST", "/ui/login", "evil.example:9464", http.StatusForbidden, "console.allowed_hosts"},
		{"GET", "/ui/inbox", "", http.StatusOK, `<form id="login"`}, // redirected to the login page
		{"POST", "/-/reload", "evil.example:9464", http.StatusForbidden, "console.allowed_hosts"},
		{"POST", "/-/reload", "autoreplyd.internal:9464", http.StatusOK, "unchanged"},
		{"POST", "/-/reload", "", http.StatusOK, "unchanged"},
		{"GET", "/metrics", "", http.StatusOK, "autoreplyd_build_info"},
		{"GET", "/metrics", "evil.example:9464", http.StatusMisdirectedRequest, "misdirected"},
	} {
		code, body := request(t, addr, tc.method, tc.path, tc.host, nil)
		if code != tc.code || !strings.Contains(body, tc.want) {
			t.Errorf("%s %s Host %q: %d, want %d with %q:\n%.300s", tc.method, tc.path, tc.host, code, tc.code, tc.want, body)
		}
	}
	// Decisions reach the live page without blocking the poller.
	if d.console == nil {
		t.Fatal("no console")
	}
	on := d.onEvent(nil)
	for range 1000 {
		on(poller.Event{Comment: model.Comment{Platform: model.PlatformDouyin, Text: "多少钱"}, Rule: "price", Status: model.StatusSent})
	}
	st := d.consoleStatus(t.Context(), []string{"douyin"}, []string{"kitkot"})
	if len(st.Sources) != 1 || st.Reload.At.IsZero() || st.Reload.Err != "" {
		t.Errorf("console status = %+v", st)
	}
}

// With console.tls_*, the whole listener speaks HTTPS and the console's
// cookies are Secure.
func TestConsoleTLS(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	certPEM, keyPEM, pool := selfSigned(t)
	testutil.WriteFile(t, filepath.Join(dir, "console.crt"), string(certPEM))
	testutil.WriteFile(t, filepath.Join(dir, "console.key"), string(keyPEM))
	testutil.WriteFile(t, filepath.Join(dir, "console-ops"), "PASSWORD-s3cr3t-daemon-console\n")
	path := writeConfig(t, dir, closedURL(t), "@every 1h", rulesV1, `console:
  users:
    - {name: ops, password_file: console-ops}
  tls_cert_file: console.crt
  tls_key_file: console.key
`)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	testutil.WriteFile(t, path, strings.Replace(string(b), `listen: ""`, `listen: "127.0.0.1:0"`, 1))
	d, err := New(t.Context(), load(t, path), Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { testutil.Close(t, d) })
	addr := d.listener.Addr().String()
	stop, err := d.serveHealth(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	for _, p := range []string{"/ui/login", "/metrics"} {
		res, err := client.Get("https://" + addr + p)
		if err != nil {
			t.Fatalf("GET %s over TLS: %v", p, err)
		}
		_ = res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Errorf("GET %s over TLS: %d", p, res.StatusCode)
		}
		if ck := res.Header.Get("Set-Cookie"); p == "/ui/login" && !strings.Contains(ck, "Secure") {
			t.Errorf("pre-session cookie %q is not Secure under TLS", ck)
		}
	}
	if code, _ := request(t, addr, http.MethodGet, "/metrics", "", nil); code != http.StatusBadRequest {
		t.Errorf("plain HTTP to the TLS listener: %d, want 400", code)
	}
}

// selfSigned is a certificate for 127.0.0.1, its key, and a pool trusting it.
func selfSigned(t *testing.T) (certPEM, keyPEM []byte, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "autoreplyd test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), pool
}

func TestConsoleWarning(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		listen string
		tls    bool
		warn   bool
	}{
		{"127.0.0.1:9464", false, false}, {"[::1]:9464", false, false}, {"localhost:9464", false, false},
		{"0.0.0.0:9464", false, true}, {"10.0.0.5:9464", false, true}, {"0.0.0.0:9464", true, false},
	} {
		cfg := &config.Config{Listen: tc.listen, Console: &config.Console{}}
		if tc.tls {
			cfg.Console.TLSCertFile, cfg.Console.TLSKeyFile = "c.crt", "c.key"
		}
		if got := consoleWarning(cfg); (got != "") != tc.warn || (tc.warn && !strings.Contains(got, "without TLS")) {
			t.Errorf("listen %s, tls %v: %q", tc.listen, tc.tls, got)
		}
	}
	if consoleWarning(&config.Config{Listen: "0.0.0.0:9464"}) != "" {
		t.Error("a warning without a console")
	}
}
