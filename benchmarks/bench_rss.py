"""Peak memory of a whole ``exsim run`` at 10,000 orders a day, counted over its process tree.

    python benchmarks/bench_rss.py [--days 36.5] [--reps 1]

``exsim run`` simulates in a worker process and reads the summary in the parent, so one
process's peak (``ru_maxrss``) no longer says what the command needs: here the command is
started from a small launcher that samples every process of its tree every :data:`SAMPLE_S`
seconds (``/proc/PID/smaps_rollup``, Linux; the tree itself is listed every tenth sample) and
keeps the peak of the *sum* over the processes alive at the same moment, both as RSS (pages
shared by a forked worker and its parent counted in each: an upper bound) and as PSS (shared
pages split between their sharers: what the tree takes from the machine). ``ru_maxrss`` of the
command, which the kernel gives as the largest peak of any one process of the tree, is printed
beside them: the summed peaks can never be below it.
Sampling can miss a spike shorter than a sample; the runs measured here last seconds to minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: Seconds between two samples of the process tree.
SAMPLE_S = 0.1

# Run in a small process of its own (the launcher), so that the command's ``ru_maxrss`` does not
# inherit the peak of a large forking process (Linux keeps it across exec), and the sampler's own
# memory is not part of the tree.
_LAUNCHER = r"""
import json, os, subprocess, sys, time

def children():
    kids = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            kids.setdefault(ppid, []).append(int(name))
    return kids

def tree(root):
    kids, out, todo = children(), [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo += kids.get(pid, [])
    return out

def memory(pid):
    rss = pss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Rss:"):
                    rss = int(line.split()[1]) * 1024
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1]) * 1024
    except OSError:
        pass
    return rss, pss

interval = float(sys.argv[1])
t0 = time.perf_counter()
proc = subprocess.Popen(sys.argv[2:], stdout=subprocess.DEVNULL)
peak_rss = peak_pss = 0
most, pids, n = 1, [proc.pid], 0
while True:
    if n % 10 == 0:  # listing /proc costs more than sampling: the tree is looked up every 10th
        pids = tree(proc.pid)
    n += 1
    rss = pss = 0
    for pid in pids:
        r, p = memory(pid)
        rss, pss = rss + r, pss + p
    peak_rss, peak_pss = max(peak_rss, rss), max(peak_pss, pss)
    most = max(most, len(pids))
    try:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
    except ChildProcessError:
        break
    if pid:
        break
    time.sleep(interval)
print(json.dumps({
    "code": os.waitstatus_to_exitcode(status),
    "wall_s": time.perf_counter() - t0,
    "cpu_s": usage.ru_utime + usage.ru_stime,
    "maxrss": usage.ru_maxrss * 1024,
    "tree_rss": peak_rss,
    "tree_pss": peak_pss,
    "processes": most,
}))
"""


def env(root: Path = ROOT) -> dict[str, str]:
    out = dict(os.environ)
    out["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), out.get("PYTHONPATH")]))
    return out


def tree_peak(args: list[str], interval: float = SAMPLE_S, root: Path = ROOT) -> dict:
    """Run ``python args`` from the launcher; its wall and CPU seconds (the tree's, reaped
    children included), ``maxrss`` (largest single-process peak), ``tree_rss`` and ``tree_pss``
    (peak sums over the processes alive together, bytes) and the most processes seen at once."""
    with tempfile.TemporaryFile() as err:
        done = subprocess.run(
            [sys.executable, "-c", _LAUNCHER, str(interval), sys.executable, *args],
            env=env(root),
            cwd=root,  # `python -m` puts the working directory ahead of PYTHONPATH
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
        )
        out = json.loads(done.stdout.strip().splitlines()[-1]) if done.stdout.strip() else {}
        if done.returncode != 0 or out.get("code") != 0:
            err.seek(0)
            raise SystemExit(f"failed: python {' '.join(args)}\n{err.read().decode()}")
    return out


def exsim_run(tmp: Path, days: float, reps: int = 1, root: Path = ROOT) -> dict:
    """:func:`tree_peak` of ``exsim run`` of the reference world (bench_operations) for ``days``
    with ``reps`` replications on one worker, the summary included (``root``: the checkout
    whose exsim runs, e.g. a baseline's)."""
    sys.path.insert(0, str(Path(__file__).parent))
    import yaml
    from bench_operations import desk, reference

    scen, pol = tmp / "scenario.yaml", tmp / "policy.yaml"
    scen.write_text(yaml.safe_dump(reference(days).model_dump(mode="json"), sort_keys=False))
    pol.write_text(yaml.safe_dump(desk().model_dump(mode="json"), sort_keys=False))
    out = tmp / f"run-{days:g}-{reps}"
    return tree_peak(
        ["-m", "sim", "run", str(scen), "--policy", str(pol), "--out", str(out), "--json"]
        + ["--reps", str(reps), "--workers", "1"],
        root=root,
    )


def describe(m: dict) -> str:
    mib = 2**20
    return (
        f"tree RSS {m['tree_rss'] / mib:,.0f} MiB (PSS {m['tree_pss'] / mib:,.0f}; largest one "
        f"process {m['maxrss'] / mib:,.0f}; {m['processes']} processes), "
        f"{m['wall_s']:,.0f} s wall, {m['cpu_s']:,.0f} s CPU"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=36.5)
    parser.add_argument("--reps", type=int, default=1)
    parser.add_argument("--root", type=Path, default=ROOT, help="checkout to run (a baseline)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        m = exsim_run(Path(tmp), args.days, args.reps, args.root)
    print(f"exsim run {args.days:g} d, --reps {args.reps}: {describe(m)}")
    print(json.dumps(m))


if __name__ == "__main__":
    main()
