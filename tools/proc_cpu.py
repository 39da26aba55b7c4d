"""CPU time of a local Rain cluster's processes, read from /proc, for per-task figures.

Wall rates on a shared 2-core machine say little; CPU time per task (user + system of each
process) does not depend on what else runs. `ClusterCpu(logdir)` finds the server and governors
that `rain start --logdir=LOGDIR` started (their command lines name LOGDIR) and `snapshot()` sums,
per role, the CPU seconds of:
- "server", "governor": the process itself;
- "programs": children the governors reaped (`buildin/run` programs: cutime + cstime);
- "executors": processes living under the governors (fork servers, executors) and what they reaped;
- "client": this process (`time.process_time`).
`per_task(before, after, n)` gives microseconds per task for each role and their total.
"""
from __future__ import annotations

import os
import time

_TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[int, float, float] | None:
    """(ppid, own cpu s, reaped children's cpu s), or None if the process is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()  # the name may hold spaces
    ppid = int(fields[1])
    utime, stime, cutime, cstime = (int(x) for x in fields[11:15])
    return ppid, (utime + stime) / _TICK, (cutime + cstime) / _TICK


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


class ClusterCpu:
    def __init__(self, logdir: str) -> None:
        self.server: list[int] = []
        self.governors: list[int] = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            line = _cmdline(int(entry))
            if logdir not in line or " run " not in line:
                continue
            if " server " in line:
                self.server.append(int(entry))
            elif " governor " in line:
                self.governors.append(int(entry))

    def snapshot(self) -> dict[str, float]:
        stats: dict[int, tuple[int, float, float]] = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                s = _stat(int(entry))
                if s is not None:
                    stats[int(entry)] = s
        out = {"server": 0.0, "governor": 0.0, "programs": 0.0, "executors": 0.0,
               "client": time.process_time()}
        for pid in self.server:
            if pid in stats:
                out["server"] += stats[pid][1]
        governors = set(self.governors)
        for pid in governors:
            if pid in stats:
                out["governor"] += stats[pid][1]
                out["programs"] += stats[pid][2]
        for pid, (ppid, own, reaped) in stats.items():
            # A process under a governor (fork server, executor, the executors it forked).
            ancestor, hops = ppid, 0
            while ancestor not in governors and ancestor in stats and hops < 8:
                ancestor, hops = stats[ancestor][0], hops + 1
            if ancestor in governors and pid not in governors:
                out["executors"] += own + reaped
        return out


def per_task(before: dict[str, float], after: dict[str, float], n: int) -> str:
    """'server 12 µs, governor 80 µs, ... total 300 µs' per task."""
    parts = []
    total = 0.0
    for role in ("client", "server", "governor", "executors", "programs"):
        us = (after[role] - before[role]) / n * 1e6
        total += us
        if us:
            parts.append(f"{role} {us:,.0f}")
    return "cpu per task (µs): " + ", ".join(parts) + f"; total {total:,.0f}"
