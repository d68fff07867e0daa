package main

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// clockTicks is USER_HZ, the unit of the CPU times in /proc/<pid>/stat.
// It is 100 on every Linux architecture Go supports.
const clockTicks = 100

// procCPU returns the user+system CPU seconds process pid has used, from
// /proc/<pid>/stat. With children, the CPU of its children already waited
// for (cutime, cstime) is added.
func procCPU(pid int, children bool) (float64, error) {
	fields, err := procStat(pid)
	if err != nil {
		return 0, err
	}
	return statCPU(pid, fields, children)
}

// statCPU sums the CPU times of procStat's fields, in seconds: utime and
// stime (fields 14 and 15 of stat), and with children cutime and cstime
// (16 and 17).
func statCPU(pid int, fields []string, children bool) (float64, error) {
	last := 15
	if children {
		last = 17
	}
	var ticks float64
	for i := 14; i <= last; i++ {
		v, err := strconv.ParseInt(fields[i-3], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/%d/stat field %d: %w", pid, i, err)
		}
		ticks += float64(v)
	}
	return ticks / clockTicks, nil
}

// procStat returns the fields of /proc/<pid>/stat after the command name
// (which may hold spaces), starting with field 3, the state.
func procStat(pid int) ([]string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil, err
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return nil, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	fields := strings.Fields(string(b[i+1:]))
	if len(fields) < 20 {
		return nil, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(fields))
	}
	return fields, nil
}

// procMem returns the resident set size and its peak (VmRSS, VmHWM) of
// process pid in bytes.
func procMem(pid int) (rss, peak int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		name, val, ok := strings.Cut(line, ":")
		if !ok || (name != "VmRSS" && name != "VmHWM") {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(val), " kB"), 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("/proc/%d/status %s: %w", pid, name, err)
		}
		if name == "VmRSS" {
			rss = kb << 10
		} else {
			peak = kb << 10
		}
	}
	return rss, peak, nil
}
