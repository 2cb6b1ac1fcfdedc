package main

// The fetch+decode baseline in a process of its own. The daemon is a
// process apart from the harness's imitation; a baseline polling from inside
// the harness shares one Go runtime with the imitation serving its pages,
// and on a small machine that is an edge the daemon cannot have (one
// scheduler handing the CPU between client and server, no second runtime's
// threads and collections competing for the same cores). The baseline
// child is the harness binary itself, run with fetchChildArg: it polls what
// the harness tells it to over its stdin and stdout, one JSON line each way.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime/pprof"
	"time"
)

// fetchChildArg, as a process's only argument, makes the harness binary the
// baseline child.
const fetchChildArg = "-internal-fetch-child"

// childSetup is the child's first line: the imitation, the threads (by the
// harness's index) and the source's settings.
type childSetup struct {
	Base        string `json:"base"`
	Token       string `json:"token"`
	Threads     []int  `json:"threads"`
	Concurrency int    `json:"concurrency"`
	Rate        string `json:"rate"`
	Burst       int    `json:"burst"`
	// CPUProfile, when set, is where the child writes the CPU profile of
	// its measured rounds (with -pprof: fetch-cpu.pprof beside the
	// daemon's).
	CPUProfile string `json:"cpu_profile,omitempty"`
}

// childRound asks the child to poll these threads once (a measured cycle).
type childRound struct {
	Threads []int `json:"threads"`
}

// childResult is the child's answer to its setup (the first sight) and to
// each round: what the polls found, and the time and CPU they took in the
// child.
type childResult struct {
	Found      int     `json:"found"`
	Calls      int     `json:"calls"`
	Seconds    float64 `json:"seconds"`
	CPUSeconds float64 `json:"cpu_seconds"`
	Err        string  `json:"err,omitempty"`
}

// processFetcher is the harness's end of a baseline child.
type processFetcher struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *json.Decoder
	enc *json.Encoder
}

// startFetchChild starts the baseline child on the threads and has it poll
// each once (the untimed first sight).
func startFetchChild(ctx context.Context, setup childSetup) (*processFetcher, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("fetch baseline: the harness's own binary: %w", err)
	}
	cmd := exec.CommandContext(ctx, self, fetchChildArg) //nolint:gosec // G204: the harness runs itself
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("fetch baseline: start the child: %w", err)
	}
	f := &processFetcher{cmd: cmd, in: in, out: json.NewDecoder(bufio.NewReader(out)), enc: json.NewEncoder(in)}
	if _, err := f.exchange(setup); err != nil {
		_ = f.close()
		return nil, fmt.Errorf("fetch baseline: first sight: %w", err)
	}
	return f, nil
}

// exchange sends one line and reads the child's answer.
func (f *processFetcher) exchange(msg any) (childResult, error) {
	var res childResult
	if err := f.enc.Encode(msg); err != nil {
		return res, fmt.Errorf("to the child: %w", err)
	}
	if err := f.out.Decode(&res); err != nil {
		return res, fmt.Errorf("from the child: %w", err)
	}
	if res.Err != "" {
		return res, errors.New(res.Err)
	}
	return res, nil
}

// round has the child poll ts once.
func (f *processFetcher) round(ts []int) (childResult, error) {
	return f.exchange(childRound{Threads: ts})
}

// close ends the child (its stdin closed, it exits) and waits for it.
func (f *processFetcher) close() error {
	_ = f.in.Close()
	return f.cmd.Wait()
}

// fetchChild is the baseline child's main: the setup line, then one round a
// line until its stdin ends. It returns the process's exit code.
func fetchChild(r io.Reader, w io.Writer) int {
	dec, enc := json.NewDecoder(bufio.NewReader(r)), json.NewEncoder(w)
	fail := func(err error) int {
		_ = enc.Encode(childResult{Err: err.Error()})
		return 1
	}
	var setup childSetup
	if err := dec.Decode(&setup); err != nil {
		return fail(fmt.Errorf("setup: %w", err))
	}
	ctx := context.Background()
	b, err := newBaseline(setup.Base, setup.Token, setup.Threads, setup.Rate, setup.Burst)
	if err != nil {
		return fail(err)
	}
	if err := b.firstSight(ctx, setup.Concurrency); err != nil {
		return fail(err)
	}
	if err := enc.Encode(childResult{}); err != nil {
		return 1
	}
	if setup.CPUProfile != "" {
		f, err := os.Create(setup.CPUProfile)
		if err != nil {
			return fail(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return fail(err)
		}
		defer func() {
			pprof.StopCPUProfile()
			_ = f.Close()
		}()
	}
	for {
		var rd childRound
		if err := dec.Decode(&rd); err != nil {
			if errors.Is(err, io.EOF) {
				return 0 // the deferred profile is written
			}
			return fail(fmt.Errorf("round: %w", err))
		}
		start := time.Now()
		cpu0, ok0 := procCPU(os.Getpid())
		found, calls, err := b.round(ctx, rd.Threads, setup.Concurrency)
		res := childResult{Found: found, Calls: calls, Seconds: time.Since(start).Seconds()}
		if cpu1, ok1 := procCPU(os.Getpid()); ok0 && ok1 {
			res.CPUSeconds = cpu1 - cpu0
		}
		if err != nil {
			return fail(err)
		}
		if err := enc.Encode(res); err != nil {
			return 1
		}
	}
}
