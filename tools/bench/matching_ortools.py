#!/usr/bin/env python3
"""Independent optimum of a médecin-traitant matching instance: Google OR-tools' min-cost flow
(`ortools.graph.python.min_cost_flow.SimpleMinCostFlow`), for the tests and the benchmark of
`maillage_core::matching` (see docs/matching.md).

Reads the instance written by `maillage_core::matching::exchange::write`: a JSON header
(`group_class`, `group_count`, `doctor_capacity`, `max_m`, `arcs_file`) and the arcs file
(little-endian u32 triples: group, doctor, metres; every allowed pair of a patient group and
an individual doctor). Builds, on its own, the network

    group (supply = count) --metres, cap = count--> doctor --0, cap = capacity--> T
    group --W(class), cap = count--> T           (the patients left waiting)

with T demanding every patient, and the lexicographic penalties W (rank r of K classes present,
r = 1 for the smallest class number): W(r) = (K + 1 - r) * (L * M + 1), L = min(groups, doctors),
M = the largest arc cost. A simple residual cycle changes the matched counts by at most one
patient in and one out, and its distance part is at most L * M, so a min-cost flow maximises
class 1, then class 2, ..., then minimises the total distance.

Prints one JSON object per instance, one per line: status, matched_by_class, total_m,
objective, nodes, arcs, the seconds spent reading, building and solving, and the OR-tools
version. Exit status 0 when every instance was solved to optimality.
Usage: matching_ortools.py HEADER.json [HEADER.json ...]
"""

import json
import os
import resource
import sys
import time


def solve(header_path):
    import numpy as np
    import ortools
    from ortools.graph.python import min_cost_flow

    started = time.perf_counter()

    with open(header_path, encoding="utf-8") as f:
        header = json.load(f)
    if header.get("format") != "maillage-matching/1":
        sys.exit(f"{header_path}: unknown format {header.get('format')!r}")
    arcs_path = os.path.join(os.path.dirname(os.path.abspath(header_path)), header["arcs_file"])
    raw = np.fromfile(arcs_path, dtype="<u4")
    if raw.size != 3 * header["arcs"]:
        sys.exit(f"{arcs_path}: {raw.size // 3} arcs, the header says {header['arcs']}")
    raw = raw.reshape(-1, 3).astype(np.int64)
    arc_group, arc_doctor, arc_metres = raw[:, 0], raw[:, 1], raw[:, 2]
    group_class = np.asarray(header["group_class"], dtype=np.int64)
    group_count = np.asarray(header["group_count"], dtype=np.int64)
    capacity = np.asarray(header["doctor_capacity"], dtype=np.int64)
    groups, doctors = group_count.size, capacity.size
    loaded = time.perf_counter()

    # Nodes: groups 0..G-1, doctors G..G+D-1, T = G+D.
    sink = groups + doctors
    classes = sorted({int(c) for c, n in zip(group_class, group_count) if n > 0})
    rank = {c: r for r, c in enumerate(classes, start=1)}
    k = len(classes)
    l = min(groups, doctors)
    m = int(arc_metres.max()) if arc_metres.size else 0
    unit = l * m + 1
    weight = np.zeros(256, dtype=np.int64)
    for c in classes:
        weight[c] = (k + 1 - rank[c]) * unit

    smcf = min_cost_flow.SimpleMinCostFlow()
    all_groups = np.arange(groups, dtype=np.int64)
    tails = np.concatenate([arc_group, all_groups, groups + np.arange(doctors, dtype=np.int64)])
    heads = np.concatenate([groups + arc_doctor, np.full(groups, sink), np.full(doctors, sink)])
    caps = np.concatenate([group_count[arc_group], group_count, capacity])
    costs = np.concatenate([arc_metres, weight[group_class], np.zeros(doctors, dtype=np.int64)])
    smcf.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    supplies = np.concatenate([group_count, np.zeros(doctors, dtype=np.int64), [-int(group_count.sum())]])
    smcf.set_nodes_supplies(np.arange(sink + 1, dtype=np.int64), supplies)
    built = time.perf_counter()

    status = smcf.solve()
    solved = time.perf_counter()

    out = {
        "ortools_version": ortools.__version__,
        "status": str(status).rsplit(".", 1)[-1],
        "nodes": int(sink + 1),
        "arcs": int(smcf.num_arcs()),
        "instance_arcs": int(arc_group.size),
        "read_s": loaded - started,
        "build_s": built - loaded,
        "solve_s": solved - built,
    }
    if status == smcf.OPTIMAL:
        flows = smcf.flows(np.arange(arc_group.size, dtype=np.int64))
        matched = np.bincount(group_class[arc_group], weights=flows, minlength=256)
        out["matched_by_class"] = {str(c): int(round(matched[c])) for c in classes}
        out["total_m"] = int(np.dot(flows.astype(np.int64), arc_metres))
        out["objective"] = int(smcf.optimal_cost())
    # Peak resident memory of the process so far (Linux: kB).
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return out


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: matching_ortools.py HEADER.json [HEADER.json ...]")
    ok = True
    for path in sys.argv[1:]:
        out = solve(path)
        ok = ok and out["status"] == "OPTIMAL"
        print(json.dumps(out), flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
