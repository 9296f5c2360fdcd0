"""Binary contour file with a per-commune index (layout documented in data/PROVENANCE.md).

Layout, all integers little-endian, before gzip:

    magic      4 bytes  b"MLCT"
    version    u8       1
    reserved   3 bytes  0
    count      u32      number of communes N
    index      N x 9 bytes, sorted by code: code (5 ASCII bytes), offset (u32,
               relative to the start of the data section)
    data       N records; record i spans [offset_i, offset_{i+1}) (the last one
               ends at the end of the file)

A record is a sequence of unsigned LEB128 varints:

    n_polygons
    for each polygon: n_rings, then for each ring: n_points (distinct points,
        the closing point is not stored), then the ring's points
    each point is (dx, dy) as zigzag varints: x = longitude and y = latitude in
    units of 1e-5 degree, delta from the previous point of the record (the first
    point of a record is relative to (0, 0)).

Exterior rings are counter-clockwise, holes clockwise; the first ring of a
polygon is its exterior.
"""

from __future__ import annotations

import struct

MAGIC = b"MLCT"
VERSION = 1


def zigzag(v: int) -> int:
    return (v << 1) if v >= 0 else ((-v << 1) - 1)


def varint(v: int, out: bytearray) -> None:
    if v < 0:
        raise ValueError("varint of a negative number")
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return


def encode_record(mp) -> bytes:
    out = bytearray()
    varint(len(mp), out)
    px = py = 0
    for poly in mp:
        varint(len(poly), out)
        for ring in poly:
            pts = ring[:-1]
            if len(pts) < 3:
                raise ValueError("ring with fewer than 3 distinct points")
            varint(len(pts), out)
            for x, y in pts:
                varint(zigzag(x - px), out)
                varint(zigzag(y - py), out)
                px, py = x, y
    return bytes(out)


def encode_file(contours: dict[str, list]) -> bytes:
    codes = sorted(contours)
    data = bytearray()
    index = bytearray()
    for code in codes:
        raw = code.encode("ascii")
        if len(raw) != 5:
            raise ValueError(f"bad code {code!r}")
        index += raw + struct.pack("<I", len(data))
        data += encode_record(contours[code])
    return MAGIC + bytes([VERSION, 0, 0, 0]) + struct.pack("<I", len(codes)) + bytes(index) + bytes(data)


def decode_record(buf: bytes, pos: int = 0):
    """Inverse of encode_record (used by the generator's self-check)."""

    def read():
        nonlocal pos
        shift = v = 0
        while True:
            b = buf[pos]
            pos += 1
            v |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return v

    def unzig(v):
        return (v >> 1) ^ -(v & 1)

    px = py = 0
    mp = []
    for _ in range(read()):
        poly = []
        for _ in range(read()):
            ring = []
            for _ in range(read()):
                px += unzig(read())
                py += unzig(read())
                ring.append((px, py))
            poly.append(ring + [ring[0]])
        mp.append(poly)
    return mp
