"""What the resource limits cost in seconds (the tests bound their work, not their time).

    python bench/bench_limits.py [--mirror DIR] [--repeat 5]

hostile inputs, each refused (median of --repeat):
  billion laughs       a 10-level alias bomb through `yaml_load` (yaml_max_nodes)
  deep YAML            100,000 nested `- ` / `[` / mappings (yaml_max_depth)
  gzip bomb            50 MB of spaces in 50 kB of gzip, limit 1 MB (max_file_bytes)
  NIST pattern         the backtracking pattern of tests/fuzz/test_fuzz_regressions.py
real input:
  Enterprise 18.1      `loads_json` (json_max_depth) against plain `orjson.loads`, the ratio
                       measured in the same run (the reference is orjson itself).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.core import limits  # noqa: E402
from pipeline.core.errors import InputError  # noqa: E402

LAUGHS = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 10) + "]\n" for i in range(9)
)


def median_time(work, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def refused(work, *errors):
    def run() -> None:
        try:
            work()
        except errors:
            return
        raise SystemExit(f"{work} was not refused")

    return run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mirror", default=os.environ.get("ATTACK_PIPELINE_MIRROR", str(ROOT.parent / "shared" / "data")))
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "limits.json"))
    args = ap.parse_args()
    from pipeline.ingest.mappings import Universe

    result: dict[str, float] = {}
    result["billion_laughs_s"] = median_time(refused(lambda: limits.yaml_load(LAUGHS, limits=limits.DEFAULT), limits.YamlLimitError), args.repeat)
    for name, deep in (("deep_sequence_s", "- " * 100_000 + "x"), ("deep_flow_s", "[" * 100_000), ("deep_mapping_s", "a:\n" + "".join(" " * i + "b:\n" for i in range(1, 1200)))):
        result[name] = median_time(refused(lambda deep=deep: limits.yaml_load(deep, limits=limits.DEFAULT), limits.YamlLimitError), args.repeat)
    bomb = gzip.compress(b"[" + b" " * 50_000_000 + b"]")
    megabyte = limits.Limits(max_file_bytes=1_000_000)
    result["gzip_bomb_s"] = median_time(refused(lambda: limits.gunzip_limited(bomb, "bomb.json.gz", limits=megabyte), InputError), args.repeat)
    universe = Universe(["T1003", "T1003.001", "T1046", "AC-2"])
    hostile = "".join(f"({'|'.join([c] * 13)})" for c in "T1003.001") + "(X|Y)?"
    result["nist_pattern_s"] = median_time(lambda: Universe(list(universe.ids)).expand(hostile), args.repeat)

    bundle = Path(args.mirror) / "attack" / "enterprise-attack-18.1.json.gz"
    if bundle.is_file():
        import orjson

        from pipeline.ingest.bundle import read_json_bytes

        data = read_json_bytes(bundle)
        plain, limited = [], []
        for _ in range(args.repeat):  # interleaved: background load hits both alike
            start = time.perf_counter()
            orjson.loads(data)
            plain.append(time.perf_counter() - start)
            start = time.perf_counter()
            limits.loads_json(data, "enterprise", limits=limits.DEFAULT)
            limited.append(time.perf_counter() - start)
        result["enterprise_orjson_s"] = statistics.median(plain)
        result["enterprise_loads_json_s"] = statistics.median(limited)
        result["enterprise_ratio"] = result["enterprise_loads_json_s"] / result["enterprise_orjson_s"]
    result["load_average"] = os.getloadavg()[0]
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    for key, value in result.items():
        print(f"{key:28} {value * 1000:9.1f} ms" if key.endswith("_s") else f"{key:28} {value:9.2f}")


if __name__ == "__main__":
    main()
