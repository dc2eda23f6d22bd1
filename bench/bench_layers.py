"""One Navigator layer per ATT&CK group of Enterprise 18.1: our layer code against
mitreattack-python's `UsageLayerGenerator` for the same groups, in one run.

    python bench/bench_layers.py [--mirror DIR] [--groups N]

Both sides start from a loaded release (our graph; the generator's own start-up, which
loads the release through stix2, is timed separately). `--groups N` limits the
comparison to the first N groups (the reference takes about a second per group).
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import io
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def compare(mirror: str, groups: int = 0) -> dict:
    """Group layers of Enterprise 18.1: ours against UsageLayerGenerator (first `groups`, 0: all)."""
    from pipeline.graph.build import build_graph
    from pipeline.graph.coverage import coverage_by_technique
    from pipeline.ingest.attack import read_attack_release
    from pipeline.render.navigator.layer import TechniqueIndex
    from pipeline.render.navigator.sets import group_layers

    gz = Path(mirror) / "attack" / "enterprise-attack-18.1.json.gz"
    t0 = time.perf_counter()
    g = build_graph([read_attack_release(gz, domain="enterprise", version="18.1")])
    load_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    index = TechniqueIndex.of(g)
    cov = coverage_by_technique(g, "enterprise")
    layers = [(rel, layer.to_dict(g, index)) for rel, layer in group_layers(g, "enterprise", "18.1", "", cov)]
    ours_all_s = time.perf_counter() - t0
    ids = [rel.removeprefix("groups/").removesuffix(".json") for rel, _ in layers]
    chosen = ids[:groups] if groups else ids

    from mitreattack.navlayers import UsageLayerGenerator

    with tempfile.TemporaryDirectory() as tmp:
        plain = Path(tmp) / "enterprise-attack.json"
        plain.write_bytes(gzip.decompress(gz.read_bytes()))
        t0 = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            gen = UsageLayerGenerator(source="local", domain="enterprise", resource=str(plain))
        ref_start_s = time.perf_counter() - t0
        per_layer = []
        for gid in chosen:
            t0 = time.perf_counter()
            with contextlib.redirect_stdout(io.StringIO()):
                gen.generate_layer(match=gid)
            per_layer.append(time.perf_counter() - t0)
    ref_s = sum(per_layer)
    ours_s = ours_all_s * len(chosen) / len(ids)
    return {
        "groups_compared": len(chosen),
        "group_layers_written_by_us": len(ids),
        "ours": {"load_and_graph_s": load_s, "layers_s": ours_s, "per_layer_ms": 1000 * ours_s / len(chosen)},
        "mitreattack_python": {"start_s": ref_start_s, "layers_s": ref_s, "per_layer_median_s": statistics.median(per_layer)},
        "speedup_layers": ref_s / ours_s,
        "speedup_with_start": (ref_start_s + ref_s) / (load_s + ours_s),
        "load_average": os.getloadavg(),
    }


def summary(result: dict) -> str:
    ours, ref, n = result["ours"], result["mitreattack_python"], result["groups_compared"]
    return (
        f"{n} group layers\n"
        f"  attack-pipeline:     {ours['layers_s']:.3f} s ({ours['per_layer_ms']:.2f} ms a layer; graph load {ours['load_and_graph_s']:.2f} s)\n"
        f"  UsageLayerGenerator: {ref['layers_s']:.1f} s ({ref['per_layer_median_s']:.2f} s a layer; start {ref['start_s']:.1f} s)\n"
        f"  speed-up: {result['speedup_layers']:.0f}x on layers, {result['speedup_with_start']:.0f}x with start-up"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mirror", default=os.environ.get("ATTACK_PIPELINE_MIRROR", str(ROOT.parent / "shared" / "data")))
    ap.add_argument("--groups", type=int, default=0, help="compare on the first N groups only (0: all)")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "layers.json"))
    args = ap.parse_args()
    result = compare(args.mirror, args.groups)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(summary(result))


if __name__ == "__main__":
    main()
