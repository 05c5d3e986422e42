#!/usr/bin/env python3
"""Prints the benchmark table from criterion's results (stdlib only).

Reads <criterion dir>/**/new/estimates.json with the sibling benchmark.json
(for the id), and <criterion dir>/allocations.json written by the `allocs`
bench. The criterion dir is found as criterion finds it: $CRITERION_HOME,
else $CARGO_TARGET_DIR/criterion, else the target directory `cargo metadata`
names, else ./target/criterion.

    cargo bench -p jwtv-benches --bench verify --bench allocs && python3 benches/report.py
"""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

ALGS = ["hs256", "rs256", "ps256", "es256", "es384", "eddsa"]
GROUPS = ["jwtv", "floor_table", "floor_b64ct", "jsonwebtoken"]
# The targets, as ratios within one run: (group jwtv is compared with, highest ratio).
# HS256 is held to the table-decoder floor, the others to the crypto floor
# (ring + base64ct); HS256 must also be at least 3x faster than jsonwebtoken.
TARGETS = {
    "hs256": ("floor_table", 1.8),
    "rs256": ("floor_b64ct", 1.05),
    "ps256": ("floor_b64ct", 1.05),
    "es256": ("floor_b64ct", 1.05),
    "es384": ("floor_b64ct", 1.05),
    "eddsa": ("floor_b64ct", 1.05),
}
JSONWEBTOKEN_TARGETS = {"hs256": 3.0}


def criterion_dir() -> Path:
    if os.environ.get("CRITERION_HOME"):
        return Path(os.environ["CRITERION_HOME"])
    if os.environ.get("CARGO_TARGET_DIR"):
        return Path(os.environ["CARGO_TARGET_DIR"]) / "criterion"
    root = Path(__file__).resolve().parent.parent
    try:
        out = subprocess.run(
            ["cargo", "metadata", "--format-version", "1", "--no-deps"],
            cwd=root,
            capture_output=True,
            check=True,
            text=True,
        ).stdout
        return Path(json.loads(out)["target_directory"]) / "criterion"
    except (OSError, subprocess.CalledProcessError, ValueError, KeyError):
        return root / "target" / "criterion"


def load_results(base: Path) -> tuple[dict, dict]:
    """Maps each benchmark id (`jwtv/hs256`, `threads/hs256/2`) to its median
    and to its fastest sample (the mean time per iteration of the quickest of
    criterion's samples), both in ns."""
    medians, fastest = {}, {}
    for estimates in base.glob("**/new/estimates.json"):
        meta = estimates.with_name("benchmark.json")
        try:
            bench_id = json.loads(meta.read_text())["full_id"]
        except (OSError, ValueError, KeyError):
            bench_id = str(estimates.parent.parent.relative_to(base))
        medians[bench_id] = json.loads(estimates.read_text())["median"]["point_estimate"]
        try:
            sample = json.loads(estimates.with_name("sample.json").read_text())
            fastest[bench_id] = min(t / i for t, i in zip(sample["times"], sample["iters"]))
        except (OSError, ValueError, KeyError):
            pass
    return medians, fastest


def fmt_time(ns) -> str:
    if ns is None:
        return "–"
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.2f} µs"
    return f"{ns:.0f} ns"


def ratio(a, b) -> str:
    return "–" if a is None or b is None else f"{a / b:.2f}×"


def targets(alg, t) -> str:
    """The targets of one row, each marked met (✓) or missed (✗)."""
    out = []
    floor, limit = TARGETS[alg]
    if t["jwtv"] is not None and t[floor] is not None:
        mark = "✓" if t["jwtv"] / t[floor] <= limit else "✗"
        out.append(f"jwtv / {floor} ≤ {limit}× {mark}")
    if alg in JSONWEBTOKEN_TARGETS and t["jwtv"] is not None and t["jsonwebtoken"] is not None:
        want = JSONWEBTOKEN_TARGETS[alg]
        mark = "✓" if t["jsonwebtoken"] / t["jwtv"] >= want else "✗"
        out.append(f"jsonwebtoken / jwtv ≥ {want}× {mark}")
    return "; ".join(out)


def fmt_allocs(row) -> str:
    text = f"{row['allocs_per_verify']:g}"
    if row["reallocs_per_verify"]:
        text += f" (+{row['reallocs_per_verify']:g} realloc)"
    return text


def main() -> int:
    base = criterion_dir()
    medians, fastest = load_results(base)
    if not medians:
        print(f"no criterion results under {base}; run the benches first", file=sys.stderr)
        return 1

    print(f"Medians from `{base}` (one run of the `verify` bench binary).\n")
    print(
        "| alg | jwtv | floor_table | floor_b64ct | jsonwebtoken "
        "| jwtv / floor_table | jwtv / floor_b64ct | jsonwebtoken / jwtv | targets |"
    )
    print("|---|--:|--:|--:|--:|--:|--:|--:|--:|")
    for alg in ALGS:
        t = {g: medians.get(f"{g}/{alg}") for g in GROUPS}
        if all(v is None for v in t.values()):
            continue
        print(
            f"| {alg} | {fmt_time(t['jwtv'])} | {fmt_time(t['floor_table'])} | {fmt_time(t['floor_b64ct'])} "
            f"| {fmt_time(t['jsonwebtoken'])} | {ratio(t['jwtv'], t['floor_table'])} "
            f"| {ratio(t['jwtv'], t['floor_b64ct'])} | {ratio(t['jsonwebtoken'], t['jwtv'])} "
            f"| {targets(alg, t)} |"
        )

    print(
        "\nThe same ratios on each benchmark's fastest sample (of criterion's 50), which"
        " shrugs off the bursts of a shared machine:\n"
    )
    print("| alg | jwtv / floor_table | jwtv / floor_b64ct | jsonwebtoken / jwtv |")
    print("|---|--:|--:|--:|")
    for alg in ALGS:
        t = {g: fastest.get(f"{g}/{alg}") for g in GROUPS}
        if t["jwtv"] is None:
            continue
        print(
            f"| {alg} | {ratio(t['jwtv'], t['floor_table'])} | {ratio(t['jwtv'], t['floor_b64ct'])} "
            f"| {ratio(t['jsonwebtoken'], t['jwtv'])} |"
        )

    thread_rows = []
    for alg in ALGS:
        one, two = medians.get(f"threads/{alg}/1"), medians.get(f"threads/{alg}/2")
        if one is not None and two is not None:
            thread_rows.append((alg, one, two))
    if thread_rows:
        print("\nThroughput of one batch of jwtv verifications, on 1 thread and split over 2 (target ≥ 1.9×):\n")
        print("| alg | 1 thread | 2 threads | speed-up | speed-up, fastest samples |")
        print("|---|--:|--:|--:|--:|")
        for alg, one, two in thread_rows:
            best = ratio(fastest.get(f"threads/{alg}/1"), fastest.get(f"threads/{alg}/2"))
            print(f"| {alg} | {fmt_time(one)} | {fmt_time(two)} | {one / two:.2f}× | {best} |")

    allocs_file = base / "allocations.json"
    if allocs_file.exists():
        rows = json.loads(allocs_file.read_text())
        print("\nHeap use per verification (Rust global allocator; aws-lc's own C `malloc`s are not seen):\n")
        print("| alg | token bytes | jwtv allocs | jwtv bytes | jsonwebtoken allocs | jsonwebtoken bytes |")
        print("|---|--:|--:|--:|--:|--:|")
        by = {(r["alg"], r["verifier"]): r for r in rows}
        for alg in ALGS:
            j, o = by.get((alg, "jwtv")), by.get((alg, "jsonwebtoken"))
            if j is None or o is None:
                continue

            print(
                f"| {alg} | {j['token_bytes']} | {fmt_allocs(j)} | {j['bytes_per_verify']:g} "
                f"| {fmt_allocs(o)} | {o['bytes_per_verify']:g} |"
            )
    else:
        print(f"\n(no {allocs_file}: run `cargo bench -p jwtv-benches --bench allocs`)")
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # quiet when piped into `head`
    sys.exit(main())
