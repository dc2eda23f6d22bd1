"""Mutation fuzzing of every parser, seeded from real files, beyond the hypothesis tests.

    ATTACK_PIPELINE_MIRROR=../shared/data .venv/bin/python bench/fuzz_parsers.py \\
        [--seconds 30] [--max-inputs 100000] [--target sigma-yaml ...] [--engine random|atheris]

Each parser of `tests/fuzz/fuzz_targets.py` runs in its own process for `--seconds`
(or `--max-inputs`), on inputs made by mutating its real seed files (random byte-level
edits and format tokens; an xlsx is unzipped and one member mutated). With
`--engine atheris` (`pip install -e '.[fuzz]'`), libFuzzer's coverage-guided mutator
drives the same targets instead, starting from the same seeds.

Every input must give records or the project's own one-line error naming the file. A
failure is anything else: another exception, a message that spans lines or names no
file, an input that takes longer than `--input-timeout` seconds, memory beyond
`--memory-mb` (the worker's address space is capped), or a crash of the interpreter.
Failing inputs are saved under bench/results/fuzz-failures/<target>/ for replay.
Writes bench/results/fuzz_parsers.json: inputs tried, outcomes, failures and peak RSS
per parser. The worker processes run one after another (the machine is shared).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests" / "fuzz")]

import fuzz_targets as ft  # noqa: E402

RESULTS = REPO / "bench" / "results"
INSTRUMENTED = [
    "pipeline.core.limits", "pipeline.core.config", "pipeline.ingest.bundle", "pipeline.ingest.attack", "pipeline.ingest.mappings",
    "pipeline.ingest.detections.cards", "pipeline.ingest.detections.sigma", "pipeline.ingest.detections.elastic",
    "pipeline.ingest.detections.splunk", "pipeline.model.detections", "pipeline.graph",
]


class _InputTimeout(Exception):
    pass


def _on_alarm(signum, frame):
    raise _InputTimeout()


def _record_failure(stats: dict, target: ft.Target, data: bytes, kind: str, message: str, out_dir: Path) -> None:
    key = f"{kind}: {message.splitlines()[0][:200] if message else ''}"
    entry = stats["failures"].setdefault(key, {"count": 0, "example": None})
    entry["count"] += 1
    if entry["example"] is None:
        out_dir.mkdir(parents=True, exist_ok=True)
        name = hashlib.sha256(data).hexdigest()[:16] + target.suffix
        (out_dir / name).write_bytes(data)
        entry["example"] = str((out_dir / name).relative_to(REPO))


def _one(target: ft.Target, data: bytes, folder: Path, stats: dict, out_dir: Path, input_timeout: float) -> None:
    stats["inputs"] += 1
    signal.setitimer(signal.ITIMER_REAL, input_timeout)
    try:
        kind, _n = ft.outcome(target, data, folder)
        stats["outcomes"][kind] = stats["outcomes"].get(kind, 0) + 1
    except _InputTimeout:
        _record_failure(stats, target, data, "timeout", f"over {input_timeout:g} s", out_dir)
    except ft.ContractViolation as exc:
        _record_failure(stats, target, data, "contract", str(exc), out_dir)
    except MemoryError:
        _record_failure(stats, target, data, "memory", "MemoryError (address space cap)", out_dir)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def worker(args) -> None:
    """One target in this process; prints its statistics as JSON on the last line."""
    target = ft.TARGETS[args.worker]
    cap = args.memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    signal.signal(signal.SIGALRM, _on_alarm)
    mirror = ft.mirror_or_none()
    seeds = ft.seed_bytes(target, mirror)
    if not seeds:
        print(json.dumps({"skipped": "no seed files (set ATTACK_PIPELINE_MIRROR)"}))
        return
    out_dir = Path(args.failures) / target.name
    stats = {"inputs": 0, "outcomes": {}, "failures": {}, "seeds": len(seeds), "engine": args.engine}
    folder = Path(tempfile.mkdtemp(prefix=f"fuzz-{target.name}-"))
    (folder.parent / f"{folder.name}.current").write_text(str(folder))
    started = time.perf_counter()
    deadline = started + args.seconds

    def report() -> None:
        stats["seconds"] = round(time.perf_counter() - started, 2)
        stats["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        print(json.dumps(stats), flush=True)

    if args.engine == "atheris":
        import importlib

        import atheris

        # Coverage feedback needs the parsers' bytecode instrumented: import them here,
        # before anything (the seeds' own parse) imports them uninstrumented.
        with atheris.instrument_imports(include=["pipeline"]):
            for module in INSTRUMENTED:
                importlib.import_module(module)
    for data in seeds:  # the seeds themselves first (they must parse)
        _one(target, data, folder, stats, out_dir, args.input_timeout)
    if args.engine == "atheris":

        mutate = ft.mutator(target)

        def test_one(data: bytes) -> None:
            if time.perf_counter() > deadline or stats["inputs"] >= args.max_inputs:
                report()
                os._exit(0)
            _one(target, data, folder, stats, out_dir, args.input_timeout)

        def custom_mutator(data: bytes, max_size: int, seed: int) -> bytes:
            # libFuzzer's own byte mutations, and now and then a structured one from a real seed.
            rng = random.Random(seed)
            if rng.random() < 0.3:
                return mutate(rng.choice(seeds), rng)[: max(max_size, 1)]
            return atheris.Mutate(data, max_size)  # never more than libFuzzer's buffer holds

        corpus = folder.parent / f"{folder.name}-corpus"
        corpus.mkdir()
        for n, data in enumerate(seeds):
            (corpus / f"seed{n}").write_bytes(data)
        atheris.Setup(
            [sys.argv[0], str(corpus), f"-max_len={max(len(s) for s in seeds) * 2}", "-rss_limit_mb=0", "-timeout=0"],
            test_one,
            custom_mutator=custom_mutator,
        )
        atheris.Fuzz()
        return
    rng = random.Random(args.seed)
    mutate = ft.mutator(target)
    while time.perf_counter() < deadline and stats["inputs"] < args.max_inputs:
        _one(target, mutate(rng.choice(seeds), rng), folder, stats, out_dir, args.input_timeout)
    report()


def run_target(name: str, args) -> dict:
    cmd = [sys.executable, __file__, "--worker", name, "--seconds", str(args.seconds), "--max-inputs", str(args.max_inputs),
           "--seed", str(args.seed), "--memory-mb", str(args.memory_mb), "--input-timeout", str(args.input_timeout),
           "--engine", args.engine, "--failures", str(args.failures)]
    before = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=args.seconds * 3 + 120)
    except subprocess.TimeoutExpired as exc:  # the worker hung past every per-input alarm (killed by run)
        returncode, stdout, stderr = "hung", exc.stdout or "", exc.stderr or ""
    else:
        returncode, stdout, stderr = proc.returncode, proc.stdout, proc.stderr
    stdout = stdout.decode() if isinstance(stdout, bytes) else stdout
    stderr = stderr.decode(errors="replace") if isinstance(stderr, bytes) else stderr
    lines = [line for line in stdout.splitlines() if line.startswith("{")]
    if returncode == 0 and lines:
        return json.loads(lines[-1])
    # The interpreter died or hung (a crash in C code, a deadlock): the input it was
    # parsing is the file left in its working folder.
    crash = {"crashed": True, "returncode": returncode, "stderr": stderr[-2000:], "seconds": round(time.perf_counter() - before, 2)}
    for marker in Path(tempfile.gettempdir()).glob(f"fuzz-{name}-*.current"):
        folder = Path(marker.read_text())
        for f in folder.glob("fuzz*"):
            out = Path(args.failures) / name
            out.mkdir(parents=True, exist_ok=True)
            dest = out / ("crash-" + hashlib.sha256(f.read_bytes()).hexdigest()[:16] + f.suffix)
            dest.write_bytes(f.read_bytes())
            crash["example"] = str(dest)
    return crash


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="per parser (default 30)")
    parser.add_argument("--max-inputs", type=int, default=1_000_000, help="per parser")
    parser.add_argument("--target", action="append", choices=sorted(ft.TARGETS), help="only these parsers (repeatable)")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the mutations")
    parser.add_argument("--memory-mb", type=int, default=1024, help="address-space cap of a worker (default 1024)")
    parser.add_argument("--input-timeout", type=float, default=5.0, help="seconds one input may take (default 5)")
    parser.add_argument("--engine", choices=["random", "atheris"], default="random")
    parser.add_argument("--failures", default=str(RESULTS / "fuzz-failures"), help=argparse.SUPPRESS)
    parser.add_argument("--out", default=str(RESULTS / "fuzz_parsers.json"))
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    for stale in Path(tempfile.gettempdir()).glob("fuzz-*.current"):
        stale.unlink(missing_ok=True)
    names = args.target or sorted(ft.TARGETS)
    report = {
        "engine": args.engine,
        "seconds_per_parser": args.seconds,
        "seed": args.seed,
        "memory_cap_mb": args.memory_mb,
        "input_timeout_s": args.input_timeout,
        "python": platform.python_version(),
        "parsers": {},
    }
    print(f"{'parser':22} {'inputs':>9} {'records':>9} {'errors':>9} {'failures':>9} {'peak MB':>8}")
    for name in names:
        stats = run_target(name, args)
        report["parsers"][name] = stats
        failures = sum(f["count"] for f in stats.get("failures", {}).values()) + (1 if stats.get("crashed") else 0)
        outcomes = stats.get("outcomes", {})
        print(f"{name:22} {stats.get('inputs', 0):>9} {outcomes.get('records', 0):>9} {outcomes.get('error', 0):>9} "
              f"{failures:>9} {stats.get('peak_rss_mb', 0):>8}" + ("  CRASHED" if stats.get("crashed") else ""), flush=True)
        for key, entry in stats.get("failures", {}).items():
            print(f"    {entry['count']:>6} × {key}  ({entry['example']})")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
