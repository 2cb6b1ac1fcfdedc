package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The config of 100,000 Douyin threads (issue 22), written inline in the
// YAML and in a threads_file: BENCHMARKS.md has the figures.

const benchThreads = 100_000

// benchConfig writes config.yaml (and threads.jsonl when inline is false)
// in dir and returns the config's path.
func benchConfig(b *testing.B, dir string, inline bool) string {
	b.Helper()
	var cfg, list strings.Builder
	cfg.WriteString("responders: {kitkot: {api_key: a, session_key: s}}\nsources:\n  douyin:\n    token: t\n")
	if inline {
		cfg.WriteString("    threads:\n")
	} else {
		cfg.WriteString("    threads_file: threads.jsonl\n")
	}
	for i := range benchThreads {
		comment, aweme := 7251524159100000000+i, 7251517975300000000+i/10
		if inline {
			fmt.Fprintf(&cfg, "      - {comment_id: \"%d\", aweme_id: \"%d\"}\n", comment, aweme)
		} else {
			fmt.Fprintf(&list, "{\"comment_id\": \"%d\", \"aweme_id\": \"%d\"}\n", comment, aweme)
		}
	}
	if !inline {
		if err := os.WriteFile(filepath.Join(dir, "threads.jsonl"), []byte(list.String()), 0o600); err != nil {
			b.Fatal(err)
		}
	}
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(cfg.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	return path
}

func benchLoad(b *testing.B, inline bool) {
	path := benchConfig(b, b.TempDir(), inline)
	b.ReportAllocs()
	for b.Loop() {
		cfg, err := Load(path, nil)
		if err != nil {
			b.Fatal(err)
		}
		if n := len(srcs(cfg).Douyin.Threads); n != benchThreads {
			b.Fatalf("%d threads", n)
		}
	}
}

func BenchmarkLoad100kThreadsInline(b *testing.B) { benchLoad(b, true) }

func BenchmarkLoad100kThreadsFile(b *testing.B) { benchLoad(b, false) }
