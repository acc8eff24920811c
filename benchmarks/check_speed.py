"""Checker speed: batch throughput, per-draft latency, start-up and peak memory.

Targets (issues 2 and 11, this 2-core machine): >= 1,000 drafts/s in-process, p99 < 5 ms for a
280-character draft, < 0.25 s of CPU for a `postgate check` of one draft (the whole process),
RSS < 200 MB.

    uv run python benchmarks/check_speed.py [--drafts 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from drafts import drafts

from bot.config import load_config
from workflows.checks import Checker, DraftToCheck, Platform
from workflows.xtext import weighted_length

REPO = Path(__file__).resolve().parents[1]
AT = datetime(2026, 11, 20, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
POSTGATE_CHECK = (sys.executable, "-m", "bot.cli", "--config", str(REPO / "app.yaml"), "check")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def in_process(texts: list[str]) -> None:
    config = load_config(REPO / "app.yaml")
    checker = Checker(config.checks, config.calendar())
    platforms = (Platform.X, Platform.FACEBOOK)
    for text in texts[:50]:  # warm caches (compiled patterns, data files)
        checker.check(DraftToCheck(text, AT, platforms))
    latencies: list[float] = []
    started = time.perf_counter()
    for text in texts:
        t0 = time.perf_counter()
        checker.check(DraftToCheck(text, AT, platforms))
        latencies.append((time.perf_counter() - t0) * 1000)
    elapsed = time.perf_counter() - started
    weights = [weighted_length(t) for t in texts]
    print(
        f"in-process: {len(texts)} drafts in {elapsed:.3f} s = {len(texts) / elapsed:,.0f} drafts/s"
    )
    print(
        f"  per draft: p50 {statistics.median(latencies):.2f} ms, "
        f"p99 {percentile(latencies, 0.99):.2f} ms, max {max(latencies):.2f} ms "
        f"(X weighted length {min(weights)}-{max(weights)}, "
        f"median {statistics.median(weights):.0f})"
    )
    long_280 = [t for t, w in zip(texts, weights, strict=True) if 260 <= w <= 300]
    lat_280 = []
    for text in long_280:
        t0 = time.perf_counter()
        checker.check(DraftToCheck(text, AT, platforms))
        lat_280.append((time.perf_counter() - t0) * 1000)
    if lat_280:
        print(
            f"  ~280-weighted drafts ({len(lat_280)}): p50 {statistics.median(lat_280):.2f} ms, "
            f"p99 {percentile(lat_280, 0.99):.2f} ms"
        )


def batch(texts: list[str]) -> None:
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False, encoding="utf-8") as f:
        for i, text in enumerate(texts):
            line = {"id": i, "text": text, "platforms": ["x"], "at": AT.isoformat()}
            f.write(json.dumps(line, ensure_ascii=False) + "\n")
        path = f.name
    try:
        t0 = time.perf_counter()
        done = subprocess.run(
            [*POSTGATE_CHECK, "--batch", path],
            capture_output=True,
            cwd=REPO,
            check=False,
        )
        elapsed = time.perf_counter() - t0
    finally:
        os.unlink(path)
    lines = done.stdout.decode().splitlines()
    assert len(lines) == len(texts), done.stderr.decode()[-500:]
    rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        f"batch (postgate check --batch, whole process): {len(texts)} drafts in {elapsed:.2f} s "
        f"= {len(texts) / elapsed:,.0f} drafts/s; peak RSS {rss_mb:.0f} MB"
    )


# What `postgate check` is timed on: a one-line draft, and an ordinary notice, whose date, time,
# phone number and URL take the checker through the rules a one-liner never reaches.
ONE_LINE = "講座を開きます。"
ORDINARY = (
    "【おはなし会】12月25日(金)10時からみどり市民会館でおはなし会を開催します。"
    "定員は先着30人です。お早めにお申し込みください。"
    "問い合わせ：シティ・プロモーション課 電話0277-12-3411 "
    "詳しくは https://www.city.midori.lg.jp/event/2144.html"
)


def one_check(env: dict[str, str], text: str) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one `postgate check` of ``text``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run(
        [*POSTGATE_CHECK, "--at", AT.isoformat()],
        input=text.encode(),
        capture_output=True,
        cwd=REPO,
        env=env,
        check=False,
    )
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert done.returncode in (0, 1), done.stderr.decode()[-500:]  # 1: an error finding
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def startup(runs: int = 11) -> None:
    """CPU (user + system) of one `postgate check` process of one draft, as after an install:
    bytecode compiled, the rule-data cache filled by a first run (whose cost is shown too);
    the median of ``runs``, with the load average, as the machine is shared."""
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "bot", "workflows", "handlers"],
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "POSTGATE_CACHE_DIR": cache}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        cold_wall, cold_cpu = one_check(env, ONE_LINE)
        print(
            f"start-up (postgate check of one draft, bytecode compiled): the first run, empty "
            f"rule-data cache: {cold_cpu:.3f} s CPU / {cold_wall:.3f} s wall"
        )
        for name, text in (("one-line draft", ONE_LINE), ("ordinary notice", ORDINARY)):
            warm = [one_check(env, text) for _ in range(runs)]
            cpu = sorted(c for _, c in warm)
            print(
                f"  {name} ({len(text)} characters): CPU median {statistics.median(cpu):.3f} s "
                f"(min {cpu[0]:.3f}, max {cpu[-1]:.3f}); wall median "
                f"{statistics.median(w for w, _ in warm):.3f} s; {runs} runs"
            )
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"  load average (1, 5, 15 min) after: {load} on {os.cpu_count()} cores")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--drafts", type=int, default=1000)
    parser.add_argument("--startup-only", action="store_true")
    args = parser.parse_args()
    if args.startup_only:
        startup()
        return
    texts = drafts(args.drafts)
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    in_process(texts)
    batch(texts)
    startup()


if __name__ == "__main__":
    main()
