"""What a process and the machine spent, read from /proc (Linux), for the benchmarks."""

from __future__ import annotations

import os
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def memory_mb(pid: int, field_name: str) -> float:
    """A memory line (VmRSS, VmHWM, ...) of /proc/<pid>/status, in MB (10^6 bytes)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field_name}:"):
            return int(line.split()[1]) * 1024 / 1e6
    raise RuntimeError(f"/proc/{pid}/status has no {field_name} line")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds the process has used so far."""
    # The command name in field 2 may hold spaces; the fields after its ")" do not.
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


def machine_busy_seconds() -> float:
    """CPU seconds all cores have spent not idle since boot (the browsers included)."""
    ticks = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle, iowait = ticks[3], ticks[4]
    # Fields after the eighth (guest time) are already counted in user and nice.
    return (sum(ticks[:8]) - idle - iowait) / CLOCK_TICKS
