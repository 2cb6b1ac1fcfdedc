package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"time"
)

// With -pprof DIR the harness runs bench/pprofd, the daemon with a
// profiling listener, and writes into DIR the daemon's CPU profile of the
// measured cycles (cpu.pprof) and its allocation profiles at their start
// and end (allocs-start.pprof, allocs-end.pprof: cumulative, so
// `go tool pprof -base allocs-start.pprof allocs-end.pprof` is the
// measured cycles' allocations).

// buildProfiled builds ./bench/pprofd of the module the harness runs in.
func buildProfiled(ctx context.Context, out string) error {
	root, err := moduleRoot(ctx)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./bench/pprofd") //nolint:gosec // G204: out is the run directory's binary path
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./bench/pprofd: %w\n%s", err, b)
	}
	return nil
}

// profiler talks to bench/pprofd's profiling listener.
type profiler struct {
	base   string // http://127.0.0.1:PORT
	dir    string
	client *http.Client
	own    *os.File // the harness's CPU profile while it runs
}

// start starts the daemon's CPU profile and saves its allocation
// profile so far as allocs-start.pprof. The harness's own CPU profile
// (harness-cpu.pprof: the imitation, the new replies, the scrapes) covers
// the same window.
func (p *profiler) start(ctx context.Context) error {
	if err := p.save(ctx, http.MethodGet, "/debug/pprof/allocs", "allocs-start.pprof"); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(p.dir, "harness-cpu.pprof"))
	if err != nil {
		return err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return err
	}
	p.own = f
	return p.save(ctx, http.MethodPost, "/cpu/start", "")
}

// stop ends the CPU profiles, the daemon's saved as cpu.pprof, and saves
// the allocation profile as allocs-end.pprof.
func (p *profiler) stop(ctx context.Context) error {
	if p.own != nil {
		pprof.StopCPUProfile()
		if err := p.own.Close(); err != nil {
			return err
		}
		p.own = nil
	}
	if err := p.save(ctx, http.MethodPost, "/cpu/stop", "cpu.pprof"); err != nil {
		return err
	}
	return p.save(ctx, http.MethodGet, "/debug/pprof/allocs", "allocs-end.pprof")
}

// save requests path and writes the answer into name in p.dir (nowhere
// when name is "").
func (p *profiler) save(ctx context.Context, method, path, name string) error {
	req, err := http.NewRequestWithContext(ctx, method, p.base+path, nil)
	if err != nil {
		return err
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return fmt.Errorf("profile: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("profile: %s %s: %w", method, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("profile: %s %s: %s: %s", method, path, resp.Status, body)
	}
	if name == "" {
		return nil
	}
	return os.WriteFile(filepath.Join(p.dir, name), body, 0o600)
}

func newProfiler(dir, listen string) (*profiler, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	return &profiler{base: "http://" + listen, dir: dir, client: &http.Client{Timeout: time.Minute}}, nil
}
