"""Shared by the benchmarks: the CPU description every benchmark prints, and a timed command with its peak memory."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import threading
import time
from pathlib import Path


def cpu_description() -> dict:
    """The CPU model, the cores this process may use, and the flags that matter for speed here (AVX2, AVX-512, AMX,
    bfloat16), from /proc/cpuinfo."""
    model, flags = platform.processor() or "unknown", set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
            elif line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    wanted = sorted(flag for flag in flags if flag.startswith(("avx512", "amx")) or "bf16" in flag or flag == "avx2")
    return {"model": model, "cores": len(os.sched_getaffinity(0)), "flags": wanted}


def print_cpu() -> dict:
    cpu = cpu_description()
    print(f"CPU: {cpu['model']}, {cpu['cores']} cores; flags: {' '.join(cpu['flags']) or 'none of note'}", flush=True)
    return cpu


def write_results(name: str, payload: dict) -> Path:
    """Write ``payload`` as benchmarks/results/<name>.json (the folder is not committed) and say where."""
    out = Path(__file__).resolve().parent / "results" / f"{name}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(payload, indent=1, default=str))
    print(f"\nwrote {out}")
    return out


def _tree_rss_bytes(root_pid: int) -> int:
    """Resident memory of ``root_pid`` and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            statm = (entry / "statm").read_text().split()
        except OSError:
            continue
        pid, parent = int(entry.name), int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(pid)
        rss[pid] = int(statm[1]) * os.sysconf("SC_PAGE_SIZE")
    total, stack = 0, [root_pid]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total


def timed_command(command: list[str]) -> dict:
    """Run ``command``; return {"wall_seconds", "peak_rss_mib" (its whole process tree, sampled every 0.2 s),
    "stdout"}. Raises SystemExit with the end of its stderr when it fails."""
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environment)
    peak = [0]

    def sample():
        while process.poll() is None:
            peak[0] = max(peak[0], _tree_rss_bytes(process.pid))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = process.communicate()
    wall = time.perf_counter() - start
    sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{stderr.decode()[-3000:]}")
    return {"wall_seconds": wall, "peak_rss_mib": peak[0] / 2**20, "stdout": stdout.decode()}
