"""Planar geometry on quantised coordinates, standard library only.

Coordinates are integer pairs ``(x, y)`` in units of 1e-5 degree (x = longitude,
y = latitude). Integer coordinates make vertex identity, edge cancellation and
orientation tests exact. Rings are closed lists (first point repeated last).
A polygon is a list of rings (exterior first, CCW; holes after, CW) and a
multipolygon is a list of polygons.
"""

from __future__ import annotations

import math
import struct
from collections import defaultdict

SCALE = 100_000  # units per degree

Point = tuple[int, int]
Ring = list[Point]
Polygon = list[Ring]
MultiPolygon = list[Polygon]


# --------------------------------------------------------------------------- WKB


def parse_wkb_hex(hex_text: str):
    """Decode little- or big-endian WKB (Point, Polygon, MultiPolygon) from hex.

    Returns ``(lon, lat)`` for a point, a list of rings of ``(lon, lat)`` floats
    for a polygon and a list of those for a multipolygon.
    """
    data = bytes.fromhex(hex_text)
    pos = 0

    def read(fmt: str):
        nonlocal pos
        values = struct.unpack_from(fmt, data, pos)
        pos += struct.calcsize(fmt)
        return values

    def geometry():
        (order,) = read("B")
        e = "<" if order == 1 else ">"
        (kind,) = read(e + "I")
        if kind == 1:
            return read(e + "2d")
        if kind == 3:
            (n_rings,) = read(e + "I")
            rings = []
            for _ in range(n_rings):
                (n,) = read(e + "I")
                flat = read(e + f"{2 * n}d")
                rings.append(list(zip(flat[0::2], flat[1::2])))
            return rings
        if kind == 6:
            (n,) = read(e + "I")
            return [geometry() for _ in range(n)]
        raise ValueError(f"unsupported WKB geometry type {kind}")

    return geometry()


def quantise_value(v: float) -> int:
    return int(math.floor(v * SCALE + 0.5))


def quantise_point(p) -> Point:
    return (quantise_value(p[0]), quantise_value(p[1]))


# --------------------------------------------------------------------------- rings


def signed_area2(ring: Ring) -> int:
    """Twice the signed area (positive when counter-clockwise)."""
    return sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(ring, ring[1:]))


def clean_ring(ring: Ring) -> Ring | None:
    """Remove consecutive duplicates and back-and-forth spikes; None if degenerate."""
    pts = [p for i, p in enumerate(ring[:-1]) if i == 0 or p != ring[i - 1]]
    if len(pts) > 1 and pts[-1] == pts[0]:
        pts.pop()
    changed = True
    while changed and len(pts) >= 3:
        changed = False
        n = len(pts)
        for i in range(n):
            if pts[(i - 1) % n] == pts[(i + 1) % n]:
                # a -> b -> a spike: drop b and one copy of a
                j = (i + 1) % n
                for k in sorted({i, j}, reverse=True):
                    pts.pop(k)
                changed = True
                break
            if pts[i] == pts[(i + 1) % n]:
                pts.pop(i)
                changed = True
                break
    if len(pts) < 3 or signed_area2(pts + [pts[0]]) == 0:
        return None
    return pts + [pts[0]]


def oriented(ring: Ring, ccw: bool) -> Ring:
    return ring if (signed_area2(ring) > 0) == ccw else ring[::-1]


def normalise(mp: MultiPolygon) -> MultiPolygon:
    """Clean rings and orient exteriors CCW, holes CW; drop degenerate parts."""
    out = []
    for poly in mp:
        ext = clean_ring(poly[0])
        if ext is None:
            continue
        rings = [oriented(ext, True)]
        for hole in poly[1:]:
            h = clean_ring(hole)
            if h is not None:
                rings.append(oriented(h, False))
        out.append(rings)
    return out


def point_in_ring(x: float, y: float, ring) -> bool:
    """Even-odd crossing test with the half-open rule; same formula as the Rust side."""
    inside = False
    for (x1, y1), (x2, y2) in zip(ring, ring[1:]):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def point_in_multipolygon(x: float, y: float, mp) -> bool:
    inside = False
    for poly in mp:
        for ring in poly:
            if point_in_ring(x, y, ring):
                inside = not inside
    return inside


def polygon_area2(poly: Polygon) -> int:
    return sum(signed_area2(r) for r in poly)


def bbox(rings):
    xs = [p[0] for r in rings for p in r]
    ys = [p[1] for r in rings for p in r]
    return min(xs), min(ys), max(xs), max(ys)


# --------------------------------------------------------------------------- dissolve


def directed_edges(mp: MultiPolygon):
    for poly in mp:
        for ring in poly:
            for p, q in zip(ring, ring[1:]):
                if p != q:
                    yield p, q


def boundary_edges(edges) -> list[tuple[Point, Point]]:
    """Keep the directed edges that are not cancelled by an opposite edge."""
    count: dict[tuple[Point, Point], int] = defaultdict(int)
    for e in edges:
        count[e] += 1
    out = []
    for (p, q), c in count.items():
        n = c - count.get((q, p), 0)
        out.extend([(p, q)] * max(0, n))
    return out


def chain_loops(edges) -> list[Ring]:
    """Chain directed edges into closed loops (deterministic order)."""
    nxt: dict[Point, list[Point]] = defaultdict(list)
    for p, q in edges:
        nxt[p].append(q)
    for p in nxt:
        nxt[p].sort(reverse=True)
    loops = []
    for start in sorted(nxt):
        while nxt[start]:
            ring = [start]
            cur = start
            while True:
                q = nxt[cur].pop()
                ring.append(q)
                cur = q
                if cur == start:
                    break
                if not nxt[cur]:
                    raise ValueError("open chain while dissolving polygons")
            loops.append(ring)
    return loops


def assemble(loops: list[Ring]) -> MultiPolygon:
    """Group CCW loops (exteriors) with the CW loops (holes) they contain."""
    exteriors = []
    holes = []
    for loop in loops:
        ring = clean_ring(loop)
        if ring is None:
            continue
        (exteriors if signed_area2(ring) > 0 else holes).append(ring)
    polys = [[e] for e in sorted(exteriors, key=lambda r: (-signed_area2(r), r[0]))]
    for h in holes:
        px, py = interior_point_of_rings([oriented(h, True)])
        best = None
        for poly in polys:
            if point_in_ring(px, py, poly[0]):
                if best is None or signed_area2(poly[0]) < signed_area2(best[0]):
                    best = poly
        if best is None:
            raise ValueError("hole outside every exterior while dissolving")
        best.append(h)
    return polys


def dissolve(mps: list[MultiPolygon]) -> MultiPolygon:
    """Union of polygons that meet along exactly identical edges."""
    edges = [e for mp in mps for e in directed_edges(normalise(mp))]
    return assemble(chain_loops(boundary_edges(edges)))


# --------------------------------------------------------------------------- interior point


def centroid(mp: MultiPolygon):
    """Area-weighted centroid (planar, in coordinate units) or None if area is 0."""
    a = cx = cy = 0.0
    for poly in mp:
        for ring in poly:
            for (x1, y1), (x2, y2) in zip(ring, ring[1:]):
                c = x1 * y2 - x2 * y1
                a += c
                cx += (x1 + x2) * c
                cy += (y1 + y2) * c
    if a == 0:
        return None
    return cx / (3 * a), cy / (3 * a)


def scanline_segments(rings, y: int):
    xs = []
    for ring in rings:
        for (x1, y1), (x2, y2) in zip(ring, ring[1:]):
            if (y1 > y) != (y2 > y):
                xs.append(x1 + (y - y1) * (x2 - x1) / (y2 - y1))
    xs.sort()
    return [(xs[i], xs[i + 1]) for i in range(0, len(xs) - 1, 2)]


def widest_point(rings, y: int):
    """Midpoint (integer units) of the widest inside segment on scanline y."""
    segs = scanline_segments(rings, y)
    if not segs:
        return None
    a, b = max(segs, key=lambda s: (s[1] - s[0], -s[0]))
    return (int(math.floor((a + b) / 2 + 0.5)), y), b - a


def interior_point_of_rings(rings):
    """A point strictly inside the region bounded by rings (even-odd), in units."""
    c = centroid([rings])
    y0 = int(math.floor(c[1] + 0.5)) if c else (bbox(rings)[1] + bbox(rings)[3]) // 2
    _, ymin, _, ymax = bbox(rings)
    candidates = [y0] + [ymin + (ymax - ymin) * k // 16 for k in range(1, 16)]
    best = None
    for y in candidates:
        r = widest_point(rings, y)
        if r and point_in_multipolygon(r[0][0], r[0][1], [rings]):
            if best is None or r[1] > best[1]:
                best = r
            if y == y0:
                break
    if best is None:
        raise ValueError("no interior point found")
    return best[0]


def inside_float(pt: Point, mp: MultiPolygon) -> bool:
    """Point-in-multipolygon in degrees exactly as the Rust loader computes it."""
    x, y = pt[0] / SCALE, pt[1] / SCALE
    deg = [[[(a / SCALE, b / SCALE) for a, b in ring] for ring in poly] for poly in mp]
    return point_in_multipolygon(x, y, deg)


def interior_point(mp: MultiPolygon) -> tuple[Point, str]:
    """Centre of a commune: the centroid if inside, else a scanline midpoint.

    Returns the point (integer units) and the method used ("centroid" or
    "scanline"). The result is checked with the degree-based test used in Rust.
    """
    c = centroid(mp)
    if c is not None:
        p = (int(math.floor(c[0] + 0.5)), int(math.floor(c[1] + 0.5)))
        if inside_float(p, mp):
            return p, "centroid"
    largest = max(mp, key=lambda poly: (polygon_area2(poly), poly[0][0]))
    _, ymin, _, ymax = bbox(largest)
    ys = []
    if c is not None:
        ys.append(int(math.floor(c[1] + 0.5)))
    lc = centroid([largest])
    if lc is not None:
        ys.append(int(math.floor(lc[1] + 0.5)))
    ys += [ymin + (ymax - ymin) * k // 32 for k in range(1, 32)]
    for y in ys:
        if not ymin < y < ymax:
            continue
        r = widest_point(largest, y)
        if r and inside_float(r[0], mp):
            return r[0], "scanline"
    raise ValueError("no interior point found")


# --------------------------------------------------------------------------- simplification


def douglas_peucker(ring: Ring, tolerance: float) -> Ring:
    """Douglas–Peucker on a closed ring (the closing point is an anchor), iterative."""
    keep = [False] * len(ring)
    keep[0] = keep[-1] = True
    far = max(range(len(ring)), key=lambda i: (ring[i][0] - ring[0][0]) ** 2 + (ring[i][1] - ring[0][1]) ** 2)
    keep[far] = True
    stack = [(0, far), (far, len(ring) - 1)]
    while stack:
        a, b = stack.pop()
        (ax, ay), (bx, by) = ring[a], ring[b]
        dx, dy = bx - ax, by - ay
        norm = math.hypot(dx, dy)
        best, best_i = -1.0, -1
        for i in range(a + 1, b):
            px, py = ring[i]
            d = abs(dy * (px - ax) - dx * (py - ay)) / norm if norm else math.hypot(px - ax, py - ay)
            if d > best:
                best, best_i = d, i
        if best > tolerance:
            keep[best_i] = True
            stack += [(a, best_i), (best_i, b)]
    return [p for p, k in zip(ring, keep) if k]


# --------------------------------------------------------------------------- distances


def segment_distance_m(px, py, ax, ay, bx, by) -> float:
    """Approximate distance in metres from point p to segment ab (units of 1e-5 deg)."""
    k = math.cos(math.radians(py / SCALE))
    ax, bx, px_ = (ax - px) * k, (bx - px) * k, 0.0
    ay, by = ay - py, by - py
    dx, dy = bx - ax, by - ay
    ll = dx * dx + dy * dy
    t = 0.0 if ll == 0 else max(0.0, min(1.0, -(ax * dx + ay * dy) / ll))
    x, y = ax + t * dx - px_, ay + t * dy
    return math.hypot(x, y) * (111_320 / SCALE)
