package main

import (
	"os"
	"strconv"
	"strings"
)

// clockTicks is the unit of /proc/PID/stat's CPU times (USER_HZ, 100 on
// every Linux the harness runs on).
const clockTicks = 100

// procCPU is the CPU time (user + system) process pid has used so far, in
// seconds, from /proc/PID/stat; false when it cannot be read. Wall times on
// a shared machine move with the other work on it; CPU times much less, so
// the report gives both.
func procCPU(pid int) (float64, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false
	}
	return statCPU(string(b))
}

// statCPU reads the CPU time of a /proc/PID/stat line.
func statCPU(s string) (float64, bool) {
	// The command name, in parentheses, may hold spaces and parentheses:
	// count from after its end.
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(s[i+1:])
	// Fields 14 and 15 (utime, stime); f[0] is field 3.
	if len(f) < 13 {
		return 0, false
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	k, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return float64(u+k) / clockTicks, true
}

// cpuMark is a reading of the daemon's and the harness's CPU times.
type cpuMark struct{ daemon, harness float64 }

func markCPU(daemonPID int) (cpuMark, bool) {
	d, ok1 := procCPU(daemonPID)
	h, ok2 := procCPU(os.Getpid())
	return cpuMark{d, h}, ok1 && ok2
}
