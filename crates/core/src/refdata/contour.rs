//! Lazy decoding of `data/contours.bin.gz`, one commune at a time.
//!
//! Layout (after gunzip, integers little-endian; also in `data/PROVENANCE.md`):
//!
//! ```text
//! magic "MLCT" | version u8 = 1 | 3 reserved bytes | count u32
//! index: count × (code: 5 ASCII bytes, offset: u32 from the start of the data section), sorted by code
//! data:  one record per commune, record i spans [offset_i, offset_{i+1})
//! ```
//!
//! A record is a sequence of LEB128 varints: `n_polygons`, then per polygon `n_rings`, then per
//! ring `n_points` followed by the points as zigzag deltas `(dx, dy)` from the previous point of the
//! record (the first from `(0, 0)`), with x = longitude and y = latitude in 1e-5 degree. The closing
//! point of a ring is not stored; the decoder repeats the first point at the end.

use crate::geo::LatLon;

/// A closed ring: the last point equals the first.
pub type Ring = Vec<LatLon>;
/// First ring = exterior (counter-clockwise), the others are holes (clockwise).
pub type Polygon = Vec<Ring>;
/// A commune's contour: one or more polygons.
pub type Contour = Vec<Polygon>;

const MAGIC: &[u8; 4] = b"MLCT";
const VERSION: u8 = 1;
const HEADER: usize = 12;
const ENTRY: usize = 9;
const UNITS_PER_DEGREE: f64 = 100_000.0;

/// A validated view of the contour file.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ContourFile<'a> {
    index: &'a [u8],
    data: &'a [u8],
    count: usize,
}

impl<'a> ContourFile<'a> {
    pub(crate) fn parse(buf: &'a [u8]) -> Option<Self> {
        if buf.len() < HEADER || &buf[..4] != MAGIC || buf[4] != VERSION {
            return None;
        }
        let count = usize::try_from(read_u32(buf, 8)?).ok()?;
        let index_end = count.checked_mul(ENTRY)?.checked_add(HEADER)?;
        let index = buf.get(HEADER..index_end)?;
        let data = buf.get(index_end..)?;
        Some(Self { index, data, count })
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.count
    }

    fn code(&self, i: usize) -> &'a [u8] {
        &self.index[i * ENTRY..i * ENTRY + 5]
    }

    fn offset(&self, i: usize) -> Option<usize> {
        usize::try_from(read_u32(self.index, i * ENTRY + 5)?).ok()
    }

    /// The raw record of `code` (case-insensitive), if present.
    fn record(&self, code: &str) -> Option<&'a [u8]> {
        let key: Vec<u8> = code.trim().bytes().map(|b| b.to_ascii_uppercase()).collect();
        let (mut lo, mut hi) = (0, self.count);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.code(mid).cmp(key.as_slice()) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => {
                    let start = self.offset(mid)?;
                    let end = if mid + 1 < self.count { self.offset(mid + 1)? } else { self.data.len() };
                    return self.data.get(start..end);
                }
            }
        }
        None
    }

    /// Decodes the contour of one commune; `None` if absent or malformed.
    pub(crate) fn contour(&self, code: &str) -> Option<Contour> {
        decode_record(self.record(code)?)
    }
}

fn read_u32(buf: &[u8], at: usize) -> Option<u32> {
    let b: [u8; 4] = buf.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_le_bytes(b))
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn varint(&mut self) -> Option<u64> {
        let mut v: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = *self.buf.get(self.pos)?;
            self.pos += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    }

    /// A count that cannot exceed what the remaining bytes could hold (`min_bytes` each).
    fn count(&mut self, min_bytes: usize) -> Option<usize> {
        let n = usize::try_from(self.varint()?).ok()?;
        (n.checked_mul(min_bytes)? <= self.buf.len() - self.pos).then_some(n)
    }

    fn delta(&mut self) -> Option<i64> {
        let v = self.varint()?;
        let half = i64::try_from(v >> 1).ok()?;
        Some(if v & 1 == 0 { half } else { -half - 1 })
    }
}

fn decode_record(buf: &[u8]) -> Option<Contour> {
    let mut r = Reader { buf, pos: 0 };
    let (mut x, mut y) = (0i64, 0i64);
    let n_polygons = r.count(1)?;
    let mut contour = Vec::with_capacity(n_polygons);
    for _ in 0..n_polygons {
        let n_rings = r.count(1)?;
        let mut polygon = Vec::with_capacity(n_rings);
        for _ in 0..n_rings {
            let n_points = r.count(2)?;
            if n_points < 3 {
                return None;
            }
            let mut ring = Vec::with_capacity(n_points + 1);
            for _ in 0..n_points {
                x = x.checked_add(r.delta()?)?;
                y = y.checked_add(r.delta()?)?;
                ring.push(LatLon::new(y as f64 / UNITS_PER_DEGREE, x as f64 / UNITS_PER_DEGREE));
            }
            ring.push(ring[0]);
            polygon.push(ring);
        }
        contour.push(polygon);
    }
    (r.pos == buf.len()).then_some(contour)
}

/// Even-odd point-in-polygon test over every ring of a contour (a point exactly on an edge may
/// go either way). Uses the same formula as `tools/refdata/generate.py`, which checks that every
/// commune's centre passes it.
pub fn contains(contour: &Contour, p: LatLon) -> bool {
    let mut inside = false;
    for ring in contour.iter().flatten() {
        for w in ring.windows(2) {
            let (a, b) = (w[0], w[1]);
            if (a.lat > p.lat) != (b.lat > p.lat) && p.lon < a.lon + (p.lat - a.lat) * (b.lon - a.lon) / (b.lat - a.lat)
            {
                inside = !inside;
            }
        }
    }
    inside
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    fn varint(mut v: u64, out: &mut Vec<u8>) {
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(b);
                return;
            }
            out.push(b | 0x80);
        }
    }

    fn zigzag(v: i64) -> u64 {
        ((v << 1) ^ (v >> 63)) as u64
    }

    /// A contour in integer units (x = lon, y = lat), rings not closed.
    type UnitContour = Vec<Vec<Vec<(i64, i64)>>>;

    /// Test-side encoder.
    pub(crate) fn encode(entries: &[(&str, UnitContour)]) -> Vec<u8> {
        let mut sorted: Vec<_> = entries.iter().collect();
        sorted.sort_by_key(|(code, _)| *code);
        let mut index = Vec::new();
        let mut data = Vec::new();
        for (code, polys) in sorted {
            index.extend_from_slice(code.as_bytes());
            index.extend_from_slice(&(data.len() as u32).to_le_bytes());
            let (mut px, mut py) = (0, 0);
            varint(polys.len() as u64, &mut data);
            for poly in polys {
                varint(poly.len() as u64, &mut data);
                for ring in poly {
                    varint(ring.len() as u64, &mut data);
                    for &(x, y) in ring {
                        varint(zigzag(x - px), &mut data);
                        varint(zigzag(y - py), &mut data);
                        (px, py) = (x, y);
                    }
                }
            }
        }
        let mut out = b"MLCT\x01\0\0\0".to_vec();
        out.extend_from_slice(&(entries.len() as u32).to_le_bytes());
        out.extend(index);
        out.extend(data);
        out
    }

    fn square(x: i64, y: i64, side: i64) -> Vec<(i64, i64)> {
        vec![(x, y), (x + side, y), (x + side, y + side), (x, y + side)]
    }

    #[test]
    fn decodes_one_record_among_several() {
        let buf = encode(&[
            ("41018", vec![vec![square(130_000, 4_750_000, 1_000), square(130_200, 4_750_200, 100)]]),
            ("2A004", vec![vec![square(870_000, 4_190_000, 500)], vec![square(-100, -100, 50)]]),
            ("01001", vec![vec![square(490_000, 4_610_000, 10)]]),
        ]);
        let file = ContourFile::parse(&buf).expect("valid header");
        assert_eq!(file.len(), 3);
        let blois = file.contour("41018").expect("present");
        assert_eq!(blois.len(), 1);
        assert_eq!(blois[0].len(), 2);
        assert_eq!(blois[0][0].len(), 5);
        assert_eq!(blois[0][0][0], blois[0][0][4]);
        assert_eq!(blois[0][0][1], LatLon::new(47.5, 1.31));
        assert!(contains(&blois, LatLon::new(47.505, 1.305)));
        assert!(!contains(&blois, LatLon::new(47.5025, 1.3025)), "inside the hole");
        let ajaccio = file.contour("2a004").expect("case-insensitive");
        assert_eq!(ajaccio.len(), 2);
        assert_eq!(ajaccio[1][0][0], LatLon::new(-0.001, -0.001));
        assert!(file.contour("99999").is_none());
    }

    #[test]
    fn rejects_malformed_input() {
        assert!(ContourFile::parse(b"MLCT").is_none());
        assert!(ContourFile::parse(b"XXXX\x01\0\0\0\0\0\0\0").is_none());
        let mut buf = encode(&[("41018", vec![vec![square(0, 0, 10)]])]);
        // a huge declared index
        let mut bad = buf.clone();
        bad[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(ContourFile::parse(&bad).is_none());
        // truncated record
        buf.pop();
        let file = ContourFile::parse(&buf).expect("header still valid");
        assert!(file.contour("41018").is_none());
    }

    proptest! {
        #[test]
        fn round_trips(rings in prop::collection::vec(
            prop::collection::vec((-20_000_000i64..20_000_000, -9_000_000i64..9_000_000), 3..40), 1..5)) {
            let buf = encode(&[("75056", vec![rings.clone()])]);
            let c = ContourFile::parse(&buf).and_then(|f| f.contour("75056")).expect("decodes");
            prop_assert_eq!(c.len(), 1);
            prop_assert_eq!(c[0].len(), rings.len());
            for (ring, src) in c[0].iter().zip(&rings) {
                prop_assert_eq!(ring.len(), src.len() + 1);
                prop_assert_eq!(ring[0], *ring.last().expect("closed"));
                for (p, &(x, y)) in ring.iter().zip(src) {
                    prop_assert_eq!(p.lon, x as f64 / 1e5);
                    prop_assert_eq!(p.lat, y as f64 / 1e5);
                }
            }
        }
    }
}
