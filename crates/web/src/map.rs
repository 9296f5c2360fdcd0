//! SVG maps of a territory: pure functions, no I/O.
//!
//! [`territory_svg`] draws the communes of a territory (filled with one colour, or coloured by a
//! value per commune: a choropleth) over their neighbours outside it (light grey), from the
//! contours of the reference data. A commune without a contour is drawn as a small circle at its
//! centre. The outer boundary of the territory (the member edges no other member shares) is drawn
//! on top, so the territory stands out in choropleth mode too.
//!
//! The SVG is meant to be inlined in a page: no width or height (the stylesheet sizes it, see
//! `.carte svg` in `static/maillage.css`), `role="img"` labelled by its `<title>` and `<desc>`, and
//! a `<title>` per commune (a tooltip: "Blois (41018) — 45 871 habitants"). Colours are given as
//! SVG presentation attributes, which a content security policy does not block (unlike `style`
//! attributes) and which the stylesheet overrides with the same values ([`PALETTE`] and the other
//! colour constants are repeated in `maillage.css`; a test keeps them in sync), so the same SVG is
//! also correct on its own (downloaded, embedded in a report).
//!
//! Projection: equirectangular, longitudes scaled by the cosine of the mean latitude, fitted to a
//! viewBox whose longer side is [`MapOptions::size`] units, north up. The frame is the members'
//! extent plus a margin; neighbours are clipped to it. Coordinates are rounded to 0.1 unit and
//! written relative to the previous point, which keeps a map of a few dozen communes around 10 kB.
//!
//! Choropleths ([`Fill::ByValue`]) colour the members in up to five classes of a sequential palette
//! (light = low); [`legend_html`] renders the matching legend as HTML, to put next to the map (real
//! text, readable at any zoom and by screen readers, unlike text inside a `role="img"` SVG).

use maillage_core::geo::LatLon;
use maillage_core::refdata::{Commune, Contour, Reference};
use maillage_core::territory::Territory;
use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

/// Fill of the territory's communes in uniform mode (5.3:1 against white).
pub const MEMBER_FILL: &str = "#3a6ea5";
/// Borders between the territory's communes in uniform mode (5.3:1 against [`MEMBER_FILL`]).
pub const MEMBER_STROKE: &str = "#ffffff";
/// Fill of the neighbouring communes outside the territory.
pub const CONTEXT_FILL: &str = "#eeeeee";
/// Borders of the neighbouring communes (3.9:1 against [`CONTEXT_FILL`]).
pub const CONTEXT_STROKE: &str = "#767676";
/// The territory's outer boundary.
pub const OUTLINE_STROKE: &str = "#1e1e1e";
/// Choropleth: members without a value.
pub const NO_VALUE_FILL: &str = "#ffffff";
/// Choropleth: borders of members without a value (4.5:1 against white).
pub const NO_VALUE_STROKE: &str = "#767676";

/// The choropleth palette, light (low values) to dark (high values): `(fill, stroke)` pairs. Each
/// stroke contrasts at least 3:1 with its fill (WCAG 2.1 non-text contrast), so two neighbouring
/// communes of the same class stay distinguishable: dark borders on the three light classes,
/// white borders on the two dark ones.
pub const PALETTE: [(&str, &str); 5] = [
    ("#e1f1ff", "#1e2a3a"),
    ("#a7c3dc", "#1e2a3a"),
    ("#6f97b9", "#1e2a3a"),
    ("#376c97", "#ffffff"),
    ("#004375", "#ffffff"),
];

/// Stroke widths in viewBox units (the stylesheet replaces them with non-scaling pixel widths).
const MEMBER_STROKE_WIDTH: &str = "1";
const CONTEXT_STROKE_WIDTH: &str = "0.5";
const OUTLINE_STROKE_WIDTH: &str = "2";
/// Radius of the circle drawn for a commune without a contour, in viewBox units.
const POINT_RADIUS: f64 = 4.0;
/// Blank space around the members' extent, in viewBox units (keeps their strokes visible).
const MARGIN: f64 = 8.0;
/// Extra space around the members when neighbours are drawn, as a share of the larger extent.
const CONTEXT_PAD: f64 = 0.08;
/// Smallest extent drawn, in degrees (a territory of one commune without a contour is a point).
const MIN_EXTENT_DEG: f64 = 0.02;

/// How to draw a map.
#[derive(Debug, Clone, PartialEq)]
pub struct MapOptions {
    /// The accessible name of the map (its `<title>`), e.g. the CPTS name.
    pub title: String,
    /// Prefix of the ids of the `<title>` and `<desc>` elements: give each map of a page its own.
    /// Characters other than ASCII letters, digits, `-` and `_` are replaced by `-`.
    pub id: String,
    pub fill: Fill,
    /// Length of the longer side of the viewBox, in user units (the other follows the territory's
    /// shape). Coordinates are rounded to 0.1 unit.
    pub size: u32,
}

impl Default for MapOptions {
    fn default() -> Self {
        Self { title: "Territoire".into(), id: "carte".into(), fill: Fill::Uniform, size: 800 }
    }
}

/// How the territory's communes are filled. Neighbours are always light grey.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Fill {
    /// One colour ([`MEMBER_FILL`]).
    #[default]
    Uniform,
    /// A colour per class of a value, e.g. population density.
    ByValue(Choropleth),
    /// A colour per category, e.g. the coverage state of each commune.
    ByCategory(Categories),
}

/// A category per commune, each with its own colours and CSS class (repeated in `maillage.css`).
#[derive(Debug, Clone, PartialEq)]
pub struct Categories {
    /// Index into `classes` by INSEE code; members without one are drawn as "non renseigné".
    pub of: HashMap<String, usize>,
    pub classes: Vec<Category>,
    /// What the categories are, for the legend and the tooltips: "Couverture".
    pub label: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Category {
    /// CSS class of the members in this category (`categorie-…`).
    pub class: &'static str,
    pub label: &'static str,
    pub fill: &'static str,
    pub stroke: &'static str,
}

/// A value per commune, shown in classes of the sequential [`PALETTE`].
#[derive(Debug, Clone, PartialEq)]
pub struct Choropleth {
    /// Values by INSEE code; members without a (finite) value are drawn as "non renseigné".
    pub values: HashMap<String, f64>,
    pub classes: Classes,
    /// What the value is, for the legend and the tooltips: "Densité de population".
    pub label: String,
    /// Unit after the numbers, may be empty: "hab./km²".
    pub unit: String,
    /// Decimals shown; class limits are rounded to them, so the legend is exact.
    pub decimals: usize,
}

/// How values are split into classes (at most 5).
#[derive(Debug, Clone, PartialEq)]
pub enum Classes {
    /// This many classes (1 to 5) with about as many members in each. Equal values never straddle
    /// a limit, so there can be fewer classes.
    Quantiles(usize),
    /// Explicit limits, ascending: `[50.0, 200.0]` makes three classes (below 50, from 50 to below
    /// 200, 200 or more). Use fixed limits to compare several maps. At most four are used.
    Breaks(Vec<f64>),
}

/// One entry of a choropleth legend.
#[derive(Debug, Clone, PartialEq)]
pub struct LegendClass {
    pub fill: &'static str,
    pub stroke: &'static str,
    /// "moins de 50 hab./km²", "de 50 à moins de 200 hab./km²", "200 hab./km² ou plus",
    /// "non renseigné".
    pub label: String,
    /// Members in this class.
    pub communes: usize,
}

impl Choropleth {
    fn value(&self, commune: &Commune) -> Option<f64> {
        self.values.get(commune.code.as_str()).copied().filter(|v| v.is_finite())
    }

    fn round(&self, v: f64) -> f64 {
        let f = 10f64.powi(i32::try_from(self.decimals.min(9)).unwrap_or(9));
        (v * f).round() / f
    }

    /// The class limits used for these members: ascending, distinct, at most four.
    pub fn breaks(&self, members: &[&Commune]) -> Vec<f64> {
        let mut breaks: Vec<f64> = match &self.classes {
            Classes::Breaks(b) => b.iter().copied().filter(|v| v.is_finite()).map(|v| self.round(v)).collect(),
            Classes::Quantiles(k) => {
                let mut values: Vec<f64> = members.iter().filter_map(|c| self.value(c)).collect();
                values.sort_by(f64::total_cmp);
                let k = (*k).clamp(1, PALETTE.len());
                let n = values.len();
                let min = values.first().copied().unwrap_or(0.0);
                (1..k).filter_map(|i| values.get(i * n / k).map(|&v| self.round(v))).filter(|&b| b > min).collect()
            }
        };
        breaks.sort_by(f64::total_cmp);
        breaks.dedup();
        breaks.truncate(PALETTE.len() - 1);
        breaks
    }

    /// The class of a value (0 = lowest): how many limits its rounded value (as shown) reaches.
    fn class_of(&self, breaks: &[f64], value: f64) -> usize {
        let shown = self.round(value);
        breaks.iter().take_while(|&&b| shown >= b).count()
    }

    /// The legend: one entry per class, lowest first, then "non renseigné" if a member has no
    /// value.
    pub fn legend(&self, members: &[&Commune]) -> Vec<LegendClass> {
        let breaks = self.breaks(members);
        let k = breaks.len() + 1;
        let mut counts = vec![0usize; k];
        let mut missing = 0;
        let mut range: Option<(f64, f64)> = None;
        for c in members {
            match self.value(c) {
                Some(v) => {
                    counts[self.class_of(&breaks, v)] += 1;
                    range = Some(range.map_or((v, v), |(lo, hi)| (lo.min(v), hi.max(v))));
                }
                None => missing += 1,
            }
        }
        let num = |v: f64| with_unit(&format_decimal_fr(v, self.decimals), &self.unit);
        let mut out: Vec<LegendClass> = (0..k)
            .map(|i| {
                let label = if k == 1 {
                    match range {
                        Some((lo, hi)) if self.round(lo) != self.round(hi) => {
                            format!("de {} à {}", format_decimal_fr(lo, self.decimals), num(hi))
                        }
                        Some((lo, _)) => num(lo),
                        None => "aucune valeur".into(),
                    }
                } else if i == 0 {
                    format!("moins de {}", num(breaks[0]))
                } else if i == k - 1 {
                    format!("{} ou plus", num(breaks[i - 1]))
                } else {
                    format!("de {} à moins de {}", format_decimal_fr(breaks[i - 1], self.decimals), num(breaks[i]))
                };
                let (fill, stroke) = PALETTE[palette_index(i, k)];
                LegendClass { fill, stroke, label, communes: counts[i] }
            })
            .collect();
        if missing > 0 {
            out.push(LegendClass {
                fill: NO_VALUE_FILL,
                stroke: NO_VALUE_STROKE,
                label: "non renseigné".into(),
                communes: missing,
            });
        }
        out
    }
}

/// Spreads `k` classes over the palette (3 classes use the lightest, middle and darkest colours).
fn palette_index(class: usize, k: usize) -> usize {
    let last = PALETTE.len() - 1;
    if k <= 1 { last / 2 } else { (class * last + (k - 1) / 2) / (k - 1) }
}

fn with_unit(number: &str, unit: &str) -> String {
    if unit.is_empty() { number.to_owned() } else { format!("{number}\u{a0}{unit}") }
}

/// An integer in French style: `74782` → `74 782`, with a narrow no-break space (U+202F) between
/// groups of three digits.
pub fn format_int_fr(n: u64) -> String {
    group_digits(&n.to_string())
}

fn group_digits(digits: &str) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 * 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('\u{202f}');
        }
        out.push(ch);
    }
    out
}

/// A number in French style with `decimals` decimals: `1234.5` → `1 234,5` (U+202F between groups,
/// decimal comma).
pub fn format_decimal_fr(v: f64, decimals: usize) -> String {
    if !v.is_finite() {
        return "—".into();
    }
    let s = format!("{:.*}", decimals.min(9), v.abs());
    let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
    let negative = v < 0.0 && s.bytes().any(|b| b.is_ascii_digit() && b != b'0');
    let mut out = String::new();
    if negative {
        out.push('−');
    }
    out.push_str(&group_digits(int));
    if !frac.is_empty() {
        out.push(',');
        out.push_str(frac);
    }
    out
}

/// "1 habitant", "0 habitant", "2 habitants" (French: singular below 2).
fn count_fr(n: u64, singular: &str, plural: &str) -> String {
    format!("{} {}", format_int_fr(n), if n < 2 { singular } else { plural })
}

/// Escapes text for XML/HTML text and double- or single-quoted attributes.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn sanitize_id(id: &str) -> String {
    let s: String =
        id.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '-' }).collect();
    if s.starts_with(|c: char| c.is_ascii_alphabetic()) { s } else { format!("carte-{s}") }
}

/// A commune and its contour (decoded once per map).
struct Shape<'a> {
    commune: &'a Commune,
    contour: Option<Contour>,
}

impl<'a> Shape<'a> {
    fn load(reference: &Reference, commune: &'a Commune) -> Self {
        let contour = if commune.has_contour { reference.contour(commune.code.as_str()) } else { None };
        Self { commune, contour }
    }

    fn points(&self) -> Box<dyn Iterator<Item = LatLon> + '_> {
        match &self.contour {
            Some(c) => Box::new(c.iter().flatten().flatten().copied()),
            None => Box::new(std::iter::once(self.commune.centre)),
        }
    }
}

/// Longitude/latitude to viewBox units.
#[derive(Debug, Clone, Copy)]
struct Projection {
    lon0: f64,
    lat0: f64,
    /// Units per degree of latitude.
    scale: f64,
    /// cos(mean latitude).
    kx: f64,
    offset_x: f64,
    offset_y: f64,
    width: f64,
    height: f64,
}

impl Projection {
    /// Fits the extent of `points` (plus the context pad if `pad`) into a viewBox whose longer
    /// side is `size`.
    fn fit(points: impl Iterator<Item = LatLon>, size: f64, pad: bool) -> Self {
        let (mut lo, mut hi) = (LatLon::new(f64::INFINITY, f64::INFINITY), LatLon::new(-f64::INFINITY, -f64::INFINITY));
        for p in points.filter(|p| p.lat.is_finite() && p.lon.is_finite()) {
            lo = LatLon::new(lo.lat.min(p.lat), lo.lon.min(p.lon));
            hi = LatLon::new(hi.lat.max(p.lat), hi.lon.max(p.lon));
        }
        if !lo.lat.is_finite() {
            // Nothing to draw: an empty landscape frame.
            return Self {
                lon0: 0.0,
                lat0: 0.0,
                scale: 1.0,
                kx: 1.0,
                offset_x: 0.0,
                offset_y: 0.0,
                width: size,
                height: (size / 2.0).round(),
            };
        }
        let kx = ((lo.lat + hi.lat) / 2.0).to_radians().cos().max(0.01);
        // Extents in "degrees of latitude".
        let mut w = ((hi.lon - lo.lon) * kx).max(MIN_EXTENT_DEG);
        let mut h = (hi.lat - lo.lat).max(MIN_EXTENT_DEG);
        if pad {
            let p = w.max(h) * CONTEXT_PAD;
            w += 2.0 * p;
            h += 2.0 * p;
        }
        let inner = (size - 2.0 * MARGIN).max(1.0);
        let scale = inner / w.max(h);
        let width = (w * scale + 2.0 * MARGIN).ceil();
        let height = (h * scale + 2.0 * MARGIN).ceil();
        Self {
            lon0: (lo.lon + hi.lon) / 2.0,
            lat0: (lo.lat + hi.lat) / 2.0,
            scale,
            kx,
            offset_x: width / 2.0,
            offset_y: height / 2.0,
            width,
            height,
        }
    }

    fn project(&self, p: LatLon) -> (f64, f64) {
        (self.offset_x + (p.lon - self.lon0) * self.kx * self.scale, self.offset_y - (p.lat - self.lat0) * self.scale)
    }

    fn contains(&self, (x, y): (f64, f64)) -> bool {
        (0.0..=self.width).contains(&x) && (0.0..=self.height).contains(&y)
    }
}

/// Tenths of a unit: the precision of the SVG's coordinates.
fn tenths(v: f64) -> i64 {
    // Coordinates are within a few thousand units: the cast cannot overflow.
    (v * 10.0).round() as i64
}

/// Writes `n` tenths as a short decimal: `-4` → `-.4`, `120` → `12`, `1234` → `123.4`.
fn push_tenths(out: &mut String, n: i64) {
    if n < 0 {
        out.push('-');
    }
    let (int, frac) = (n.unsigned_abs() / 10, n.unsigned_abs() % 10);
    match (int, frac) {
        (i, 0) => {
            let _ = write!(out, "{i}");
        }
        (0, f) => {
            let _ = write!(out, ".{f}");
        }
        (i, f) => {
            let _ = write!(out, "{i}.{f}");
        }
    }
}

/// Appends a number to path data, separated from the previous one when needed.
fn push_coord(out: &mut String, n: i64, after_number: bool) {
    if after_number && n >= 0 {
        out.push(' ');
    }
    push_tenths(out, n);
}

/// Appends one closed ring or open polyline (`M x y l dx dy …`), coordinates in tenths.
fn push_subpath(d: &mut String, points: &[(i64, i64)], close: bool) {
    let Some(&(x0, y0)) = points.first() else { return };
    d.push('M');
    push_coord(d, x0, false);
    push_coord(d, y0, true);
    d.push('l');
    let mut first = true;
    let (mut px, mut py) = (x0, y0);
    for &(x, y) in &points[1..] {
        push_coord(d, x - px, !first);
        push_coord(d, y - py, true);
        first = false;
        (px, py) = (x, y);
    }
    if close {
        d.push('z');
    }
}

/// Rounds projected points to tenths and drops repeated points (and the closing point).
fn round_ring(points: impl Iterator<Item = (f64, f64)>) -> Vec<(i64, i64)> {
    let mut out: Vec<(i64, i64)> = Vec::new();
    for (x, y) in points {
        let p = (tenths(x), tenths(y));
        if out.last() != Some(&p) {
            out.push(p);
        }
    }
    while out.len() > 1 && out.first() == out.last() {
        out.pop();
    }
    out
}

/// Twice the signed area, in tenths².
fn doubled_area(ring: &[(i64, i64)]) -> i64 {
    let n = ring.len();
    (0..n).map(|i| ring[i].0 * ring[(i + 1) % n].1 - ring[(i + 1) % n].0 * ring[i].1).sum()
}

/// Sutherland–Hodgman clipping of a ring to the rectangle [0, w] × [0, h]. Clipping each ring of
/// a polygon on its own is exact under the even-odd rule, the rectangle being convex.
fn clip_ring(ring: &[(f64, f64)], w: f64, h: f64) -> Vec<(f64, f64)> {
    // Each edge: is a point inside, and where does a segment cross the edge.
    type Inside = fn((f64, f64), f64) -> bool;
    type Cross = fn((f64, f64), (f64, f64), f64) -> (f64, f64);
    fn at_x(a: (f64, f64), b: (f64, f64), x: f64) -> (f64, f64) {
        (x, a.1 + (b.1 - a.1) * (x - a.0) / (b.0 - a.0))
    }
    fn at_y(a: (f64, f64), b: (f64, f64), y: f64) -> (f64, f64) {
        (a.0 + (b.0 - a.0) * (y - a.1) / (b.1 - a.1), y)
    }
    let edges: [(Inside, Cross, f64); 4] = [
        (|p, v| p.0 >= v, at_x, 0.0),
        (|p, v| p.0 <= v, at_x, w),
        (|p, v| p.1 >= v, at_y, 0.0),
        (|p, v| p.1 <= v, at_y, h),
    ];
    let mut current: Vec<(f64, f64)> = ring.to_vec();
    for (inside, cross, v) in edges {
        let Some(&last) = current.last() else { break };
        let mut next = Vec::with_capacity(current.len() + 4);
        let mut prev = last;
        for &p in &current {
            match (inside(prev, v), inside(p, v)) {
                (true, true) => next.push(p),
                (true, false) => next.push(cross(prev, p, v)),
                (false, true) => {
                    next.push(cross(prev, p, v));
                    next.push(p);
                }
                (false, false) => {}
            }
            prev = p;
        }
        current = next;
    }
    current
}

/// The path data of a contour, or an empty string if nothing of it is in the frame.
fn contour_path(contour: &Contour, proj: &Projection, clip: bool) -> String {
    let mut d = String::new();
    for polygon in contour {
        for (i, ring) in polygon.iter().enumerate() {
            let projected: Vec<(f64, f64)> = ring.iter().map(|&p| proj.project(p)).collect();
            let inside = !clip || projected.iter().all(|&p| proj.contains(p));
            let points = if inside {
                round_ring(projected.into_iter())
            } else {
                round_ring(clip_ring(&projected, proj.width, proj.height).into_iter())
            };
            if points.len() < 3 || doubled_area(&points) == 0 {
                if i == 0 {
                    break; // no exterior: skip the holes too
                }
                continue;
            }
            push_subpath(&mut d, &points, true);
        }
    }
    d
}

/// The outer boundary of the members: directed edges (in 1e-5 degree) that no other member ring
/// runs the other way, chained into lines. Borders are shared vertex for vertex in the reference
/// data, so interior borders cancel out.
/// The outer boundary of a group of communes (the edges no other member shares), chained into
/// rings of projected points in tenths, each with whether it closes.
fn outline_rings(shapes: &[Shape<'_>], proj: &Projection) -> Vec<(Vec<(i64, i64)>, bool)> {
    type P = (i64, i64);
    let key = |p: LatLon| -> P { ((p.lon * 1e5).round() as i64, (p.lat * 1e5).round() as i64) };
    let mut edges: Vec<(P, P)> = Vec::new();
    for ring in shapes.iter().filter_map(|s| s.contour.as_ref()).flatten().flatten() {
        for w in ring.windows(2) {
            let (a, b) = (key(w[0]), key(w[1]));
            if a != b {
                edges.push((a, b));
            }
        }
    }
    let all: HashSet<(P, P)> = edges.iter().copied().collect();
    let mut from: HashMap<P, Vec<P>> = HashMap::new();
    let mut boundary: Vec<(P, P)> = Vec::new();
    for &(a, b) in &edges {
        if !all.contains(&(b, a)) {
            from.entry(a).or_default().push(b);
            boundary.push((a, b));
        }
    }
    let unkey = |p: P| LatLon::new(p.1 as f64 / 1e5, p.0 as f64 / 1e5);
    let mut rings = Vec::new();
    for &(start, _) in &boundary {
        let mut chain = vec![start];
        let mut at = start;
        while let Some(next) = from.get_mut(&at).and_then(Vec::pop) {
            chain.push(next);
            at = next;
            if at == start {
                break;
            }
        }
        if chain.len() < 2 {
            continue;
        }
        let closed = chain.len() > 3 && chain.first() == chain.last();
        let points = round_ring(chain.iter().map(|&p| proj.project(unkey(p))));
        if points.len() >= 2 {
            rings.push((points, closed));
        }
    }
    rings
}

/// [`outline_rings`] as path data.
fn outline_path(shapes: &[Shape<'_>], proj: &Projection) -> String {
    let mut d = String::new();
    for (points, closed) in outline_rings(shapes, proj) {
        push_subpath(&mut d, &points, closed);
    }
    d
}

/// Writes one commune: a `<path>` (or a `<circle>` without contour) with its class, code, colours
/// and tooltip. Returns false if nothing of it is in the frame.
fn write_commune(
    out: &mut String,
    shape: &Shape<'_>,
    proj: &Projection,
    class: &str,
    colours: Option<(&str, &str)>,
    tooltip: &str,
    clip: bool,
) -> bool {
    let c = shape.commune;
    let attrs = |out: &mut String| {
        let _ = write!(out, " class=\"{class}\" data-code=\"{}\"", escape(c.code.as_str()));
        if let Some((fill, stroke)) = colours {
            let _ = write!(out, " fill=\"{fill}\" stroke=\"{stroke}\"");
        }
    };
    match &shape.contour {
        Some(contour) => {
            let d = contour_path(contour, proj, clip);
            if d.is_empty() {
                return false;
            }
            out.push_str("<path");
            attrs(out);
            let _ = writeln!(out, " d=\"{d}\"><title>{}</title></path>", escape(tooltip));
        }
        None => {
            let (x, y) = proj.project(c.centre);
            if !proj.contains((x, y)) {
                return false;
            }
            let (x, y) = (tenths(x).clamp(0, tenths(proj.width)), tenths(y).clamp(0, tenths(proj.height)));
            out.push_str("<circle");
            attrs(out);
            out.push_str(" cx=\"");
            push_tenths(out, x);
            out.push_str("\" cy=\"");
            push_tenths(out, y);
            let _ = writeln!(out, "\" r=\"{POINT_RADIUS}\"><title>{}</title></circle>", escape(tooltip));
        }
    }
    true
}

fn tooltip(c: &Commune) -> String {
    format!("{} ({}) — {}", c.name, c.code.as_str(), count_fr(u64::from(c.population), "habitant", "habitants"))
}

/// The SVG map of a territory.
///
/// `members` are the territory's communes (see `Territory::communes`), `context` the communes
/// around it, drawn in grey and clipped to the frame (usually `Territory::neighbours`; may be
/// empty). Members that are also in `context` are drawn once, as members. Each commune is a
/// `<path class="commune membre">` (or `commune voisine`) with a `data-code` attribute and a
/// `<title>` tooltip; in choropleth mode the members also have the class `classe-N` (N = 1 to 5,
/// the palette index) or `sans-valeur`.
pub fn territory_svg(
    reference: &Reference,
    members: &[&Commune],
    context: &[&Commune],
    options: &MapOptions,
) -> String {
    let member_codes: HashSet<&str> = members.iter().map(|c| c.code.as_str()).collect();
    let members: Vec<Shape<'_>> = members.iter().map(|c| Shape::load(reference, c)).collect();
    let context: Vec<Shape<'_>> =
        context.iter().filter(|c| !member_codes.contains(c.code.as_str())).map(|c| Shape::load(reference, c)).collect();
    let framed = if members.is_empty() { &context } else { &members };
    let proj = Projection::fit(
        framed.iter().flat_map(Shape::points),
        f64::from(options.size.max(50)),
        !context.is_empty() && !members.is_empty(),
    );

    let id = sanitize_id(&options.id);
    let mut out = String::with_capacity(16 * 1024);
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"carte-territoire\" viewBox=\"0 0 {} {}\" \
         preserveAspectRatio=\"xMidYMid meet\" role=\"img\" aria-labelledby=\"{id}-titre {id}-desc\" \
         fill-rule=\"evenodd\" stroke-linejoin=\"round\">",
        proj.width, proj.height
    );

    // Body first: the description counts the neighbours actually in the frame.
    let mut body = String::with_capacity(16 * 1024);
    body.push_str(&format!(
        "<g class=\"voisines\" fill=\"{CONTEXT_FILL}\" stroke=\"{CONTEXT_STROKE}\" stroke-width=\"{CONTEXT_STROKE_WIDTH}\">\n"
    ));
    let mut drawn_context = 0u64;
    for s in &context {
        if write_commune(&mut body, s, &proj, "commune voisine", None, &tooltip(s.commune), true) {
            drawn_context += 1;
        }
    }
    body.push_str("</g>\n");

    let choropleth = match &options.fill {
        Fill::Uniform | Fill::ByCategory(_) => None,
        Fill::ByValue(ch) => {
            let refs: Vec<&Commune> = members.iter().map(|s| s.commune).collect();
            Some((ch, ch.breaks(&refs)))
        }
    };
    let categories = match &options.fill {
        Fill::ByCategory(c) => Some(c),
        _ => None,
    };
    body.push_str(&format!(
        "<g class=\"membres\" fill=\"{MEMBER_FILL}\" stroke=\"{MEMBER_STROKE}\" stroke-width=\"{MEMBER_STROKE_WIDTH}\">\n"
    ));
    for s in &members {
        let mut text = tooltip(s.commune);
        let (class, colours) = match (&choropleth, categories) {
            (None, Some(cat)) => {
                let _ = write!(text, " — {}\u{a0}: ", cat.label);
                match cat.of.get(s.commune.code.as_str()).and_then(|&i| cat.classes.get(i)) {
                    Some(c) => {
                        text.push_str(c.label);
                        (format!("commune membre {}", c.class), Some((c.fill, c.stroke)))
                    }
                    None => {
                        text.push_str("non renseigné");
                        ("commune membre sans-valeur".to_owned(), Some((NO_VALUE_FILL, NO_VALUE_STROKE)))
                    }
                }
            }
            (None, None) => ("commune membre".to_owned(), None),
            (Some((ch, breaks)), _) => {
                let _ = write!(text, " — {}\u{a0}: ", ch.label);
                match ch.value(s.commune) {
                    Some(v) => {
                        text.push_str(&with_unit(&format_decimal_fr(v, ch.decimals), &ch.unit));
                        let i = palette_index(ch.class_of(breaks, v), breaks.len() + 1);
                        (format!("commune membre classe-{}", i + 1), Some(PALETTE[i]))
                    }
                    None => {
                        text.push_str("non renseigné");
                        ("commune membre sans-valeur".to_owned(), Some((NO_VALUE_FILL, NO_VALUE_STROKE)))
                    }
                }
            }
        };
        write_commune(&mut body, s, &proj, &class, colours, &text, false);
    }
    body.push_str("</g>\n");

    let outline = outline_path(&members, &proj);
    if !outline.is_empty() {
        let _ = writeln!(
            body,
            "<path class=\"limite-territoire\" fill=\"none\" stroke=\"{OUTLINE_STROKE}\" \
             stroke-width=\"{OUTLINE_STROKE_WIDTH}\" pointer-events=\"none\" d=\"{outline}\"/>"
        );
    }

    let population: u64 = members.iter().map(|s| u64::from(s.commune.population)).sum();
    let mut desc = format!(
        "Carte du territoire\u{a0}: {}, {}.",
        count_fr(members.len() as u64, "commune", "communes"),
        count_fr(population, "habitant", "habitants")
    );
    if drawn_context > 0 {
        let _ = write!(
            desc,
            " En gris, {} hors du territoire.",
            count_fr(drawn_context, "commune voisine", "communes voisines")
        );
    }
    if let Some((ch, breaks)) = &choropleth {
        let unit = if ch.unit.is_empty() { String::new() } else { format!(" ({})", ch.unit) };
        let _ = write!(
            desc,
            " Couleur des communes selon\u{a0}: {}{unit}, en {}.",
            ch.label,
            count_fr(breaks.len() as u64 + 1, "classe", "classes")
        );
    }
    if let Some(cat) = categories {
        let _ = write!(
            desc,
            " Couleur des communes selon\u{a0}: {}, en {}.",
            cat.label,
            count_fr(cat.classes.len() as u64, "catégorie", "catégories")
        );
    }
    let _ = writeln!(out, "<title id=\"{id}-titre\">{}</title>", escape(&options.title));
    let _ = writeln!(out, "<desc id=\"{id}-desc\">{}</desc>", escape(&desc));
    out.push_str(&body);
    out.push_str("</svg>\n");
    out
}

/// The usual map of a CPTS: its communes over the communes that border it.
pub fn territory_map(territory: &Territory<'_>, options: &MapOptions) -> String {
    let members: Vec<&Commune> = territory.communes().collect();
    territory_svg(territory.reference(), &members, &territory.neighbours(), options)
}

/// The legend of a choropleth as an HTML fragment (`<div class="legende-carte">`): a title and a
/// list of classes, each with a colour swatch (a small inline SVG, hidden from screen readers),
/// its limits and its number of communes.
pub fn legend_html(members: &[&Commune], choropleth: &Choropleth) -> String {
    let mut out = String::from("<div class=\"legende-carte\">\n");
    let unit = if choropleth.unit.is_empty() { String::new() } else { format!(" ({})", choropleth.unit) };
    let _ = writeln!(out, "<p class=\"legende-titre\">{}{}</p>\n<ul>", escape(&choropleth.label), escape(&unit));
    for class in choropleth.legend(members) {
        let _ = writeln!(
            out,
            "<li><svg class=\"case\" viewBox=\"0 0 16 16\" aria-hidden=\"true\" focusable=\"false\">\
             <rect x=\"1\" y=\"1\" width=\"14\" height=\"14\" fill=\"{}\" stroke=\"{}\" stroke-width=\"2\"/></svg> \
             {} <span class=\"effectif\">({})</span></li>",
            class.fill,
            class.stroke,
            escape(&class.label),
            count_fr(class.communes as u64, "commune", "communes")
        );
    }
    out.push_str("</ul>\n</div>\n");
    out
}

/// The départements of metropolitan France as outlines, projected once per process: what the
/// national map draws (overseas départements are listed in tables, not drawn: a single frame
/// for both would shrink the metropolis to a corner).
pub struct DepartementOutlines {
    width: f64,
    height: f64,
    /// (code, name, path data), by code.
    paths: Vec<(String, String, String)>,
}

/// Smallest step kept between two outline points, in tenths of a unit: at the scale of the
/// nation, finer detail is invisible and would make the page megabytes long.
const NATIONAL_STEP_TENTHS: i64 = 12;

/// The outlines of the metropolitan départements (built on first use, about a second).
pub fn departement_outlines(reference: &'static Reference) -> &'static DepartementOutlines {
    static OUTLINES: std::sync::OnceLock<DepartementOutlines> = std::sync::OnceLock::new();
    OUTLINES.get_or_init(|| {
        let metropolitan =
            |c: &&Commune| !c.departement.starts_with("97") && !matches!(c.code.as_str(), "75056" | "69123" | "13055");
        let mut groups: HashMap<&str, Vec<Shape<'_>>> = HashMap::new();
        for c in reference.communes().iter().filter(metropolitan) {
            groups.entry(c.departement.as_str()).or_default().push(Shape::load(reference, c));
        }
        let proj = Projection::fit(groups.values().flatten().flat_map(Shape::points), 1000.0, false);
        let mut paths: Vec<(String, String, String)> = groups
            .iter()
            .map(|(code, group)| {
                let name = reference.departement(code).map(|d| d.name.clone()).unwrap_or_else(|| (*code).to_owned());
                ((*code).to_owned(), name, thin_path(group, &proj))
            })
            .collect();
        paths.sort();
        DepartementOutlines { width: proj.width, height: proj.height, paths }
    })
}

/// The outline of a group of communes with points closer than [`NATIONAL_STEP_TENTHS`] dropped.
fn thin_path(shapes: &[Shape<'_>], proj: &Projection) -> String {
    let mut d = String::new();
    for (ring, closed) in outline_rings(shapes, proj) {
        let mut points: Vec<(i64, i64)> = Vec::with_capacity(ring.len() / 4);
        for (x, y) in ring {
            match points.last() {
                Some(&(lx, ly)) if (x - lx).abs() + (y - ly).abs() < NATIONAL_STEP_TENTHS => {}
                _ => points.push((x, y)),
            }
        }
        if points.len() >= 3 {
            push_subpath(&mut d, &points, closed);
        }
    }
    d
}

/// The national map: one path per metropolitan département, coloured by `fills` (code → fill,
/// stroke, tooltip), each a link to `href(code)` when given.
pub fn departements_svg(
    outlines: &DepartementOutlines,
    fills: &HashMap<String, (&'static str, &'static str, String)>,
    href: impl Fn(&str) -> Option<String>,
    title: &str,
    id: &str,
) -> String {
    let id = sanitize_id(id);
    let mut out = String::with_capacity(200 * 1024);
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"carte-territoire carte-nationale\" viewBox=\"0 0 {} {}\" \
         preserveAspectRatio=\"xMidYMid meet\" role=\"img\" aria-labelledby=\"{id}-titre {id}-desc\" \
         fill-rule=\"evenodd\" stroke-linejoin=\"round\">",
        outlines.width, outlines.height
    );
    let _ = writeln!(out, "<title id=\"{id}-titre\">{}</title>", escape(title));
    let _ = writeln!(
        out,
        "<desc id=\"{id}-desc\">Carte des {} départements de France métropolitaine ; les mêmes chiffres sont dans le tableau.</desc>",
        outlines.paths.len()
    );
    for (code, name, d) in &outlines.paths {
        let (fill, stroke, text) =
            fills.get(code).map_or((NO_VALUE_FILL, NO_VALUE_STROKE, String::new()), |(f, s, t)| (*f, *s, t.clone()));
        let path = format!(
            "<path class=\"departement\" data-code=\"{code}\" fill=\"{fill}\" stroke=\"{stroke}\" d=\"{d}\"><title>{} ({code}){}{}</title></path>",
            escape(name),
            if text.is_empty() { "" } else { " — " },
            escape(&text)
        );
        match href(code) {
            Some(h) => {
                let _ = writeln!(out, "<a href=\"{}\">{path}</a>", escape(&h));
            }
            None => {
                let _ = writeln!(out, "{path}");
            }
        }
    }
    out.push_str("</svg>\n");
    out
}

/// The legend of a categorical map, like [`legend_html`]: every category with its number of
/// members, in the categories' order.
pub fn categories_legend_html(members: &[&Commune], categories: &Categories) -> String {
    let mut counts = vec![0u64; categories.classes.len()];
    for m in members {
        if let Some(&i) = categories.of.get(m.code.as_str())
            && let Some(n) = counts.get_mut(i)
        {
            *n += 1;
        }
    }
    let mut out = String::from("<div class=\"legende-carte\">\n");
    let _ = writeln!(out, "<p class=\"legende-titre\">{}</p>\n<ul>", escape(&categories.label));
    for (c, n) in categories.classes.iter().zip(counts) {
        let _ = writeln!(
            out,
            "<li><svg class=\"case\" viewBox=\"0 0 16 16\" aria-hidden=\"true\" focusable=\"false\">\
             <rect x=\"1\" y=\"1\" width=\"14\" height=\"14\" fill=\"{}\" stroke=\"{}\" stroke-width=\"2\"/></svg> \
             {} <span class=\"effectif\">({})</span></li>",
            c.fill,
            c.stroke,
            escape(c.label),
            count_fr(n, "commune", "communes")
        );
    }
    out.push_str("</ul>\n</div>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    // ----- A minimal XML well-formedness check, enough for what this module writes. -----

    #[derive(Debug, Default)]
    struct Element {
        name: String,
        attrs: Vec<(String, String)>,
        parent: Option<usize>,
        text: String,
    }

    impl Element {
        fn attr(&self, name: &str) -> Option<&str> {
            self.attrs.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
        }
    }

    fn unescape(s: &str) -> Result<String, String> {
        let mut out = String::new();
        let mut rest = s;
        while let Some(i) = rest.find(['&', '<']) {
            out.push_str(&rest[..i]);
            if rest[i..].starts_with('<') {
                return Err(format!("raw < in {s:?}"));
            }
            let end = rest[i..].find(';').ok_or_else(|| format!("unterminated entity in {s:?}"))? + i;
            let entity = &rest[i + 1..end];
            out.push(match entity {
                "amp" => '&',
                "lt" => '<',
                "gt" => '>',
                "quot" => '"',
                "apos" => '\'',
                _ => {
                    let code = if let Some(hex) = entity.strip_prefix("#x") {
                        u32::from_str_radix(hex, 16).ok()
                    } else if let Some(dec) = entity.strip_prefix('#') {
                        dec.parse().ok()
                    } else {
                        None
                    };
                    code.and_then(char::from_u32).ok_or_else(|| format!("bad entity &{entity};"))?
                }
            });
            rest = &rest[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    fn is_name(s: &str) -> bool {
        s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.'))
    }

    /// Parses a document made of elements, attributes and text (no comments, CDATA or
    /// processing instructions): checks that tags nest, names are valid, attributes are quoted
    /// and unique, and entities are known. Returns the elements in document order.
    fn parse_xml(doc: &str) -> Result<Vec<Element>, String> {
        let mut elements: Vec<Element> = Vec::new();
        let mut stack: Vec<usize> = Vec::new();
        let mut roots = 0;
        let mut rest = doc;
        loop {
            let lt = rest.find('<').unwrap_or(rest.len());
            let text = unescape(&rest[..lt])?;
            match stack.last() {
                Some(&top) => elements[top].text.push_str(&text),
                None if text.trim().is_empty() => {}
                None => return Err(format!("text outside the root: {text:?}")),
            }
            rest = &rest[lt..];
            if rest.is_empty() {
                break;
            }
            let gt = rest.find('>').ok_or("unterminated tag")?;
            let tag = &rest[1..gt];
            rest = &rest[gt + 1..];
            if let Some(name) = tag.strip_prefix('/') {
                let top = stack.pop().ok_or_else(|| format!("</{name}> without an open element"))?;
                if elements[top].name != name.trim_end() {
                    return Err(format!("</{name}> closes <{}>", elements[top].name));
                }
                continue;
            }
            let (tag, empty) = match tag.strip_suffix('/') {
                Some(t) => (t, true),
                None => (tag, false),
            };
            let name_end = tag.find(char::is_whitespace).unwrap_or(tag.len());
            let name = &tag[..name_end];
            if !is_name(name) {
                return Err(format!("bad element name {name:?}"));
            }
            let mut attrs: Vec<(String, String)> = Vec::new();
            let mut a = tag[name_end..].trim_start();
            while !a.is_empty() {
                let eq = a.find('=').ok_or_else(|| format!("attribute without value in <{name} {a}"))?;
                let attr = a[..eq].trim();
                if !is_name(attr) || attrs.iter().any(|(n, _)| n == attr) {
                    return Err(format!("bad or repeated attribute {attr:?} in <{name}>"));
                }
                let v = a[eq + 1..].trim_start();
                let quote = v.chars().next().filter(|&q| q == '"' || q == '\'').ok_or("unquoted attribute")?;
                let close = v[1..].find(quote).ok_or("unterminated attribute")? + 1;
                attrs.push((attr.to_owned(), unescape(&v[1..close])?));
                let after = &v[close + 1..];
                if !after.is_empty() && !after.starts_with(char::is_whitespace) {
                    return Err(format!("no space between attributes of <{name}>"));
                }
                a = after.trim_start();
            }
            if stack.is_empty() {
                roots += 1;
            }
            elements.push(Element { name: name.to_owned(), attrs, parent: stack.last().copied(), text: String::new() });
            if !empty {
                stack.push(elements.len() - 1);
            }
        }
        if let Some(&open) = stack.last() {
            return Err(format!("<{}> not closed", elements[open].name));
        }
        if roots != 1 {
            return Err(format!("{roots} root elements"));
        }
        Ok(elements)
    }

    #[test]
    fn xml_check_catches_errors() {
        assert!(parse_xml("<a><b x=\"1\"/>t &amp; u</a>").is_ok());
        for bad in
            ["<a><b></a>", "<a x=1/>", "<a>&nbsp;</a>", "<a>x & y</a>", "<a/><b/>", "<a x=\"1\" x=\"2\"/>", "<a>"]
        {
            assert!(parse_xml(bad).is_err(), "{bad} accepted");
        }
    }

    // ----- Path data: every point, in tenths of a unit. -----

    fn path_points(d: &str) -> Vec<(i64, i64)> {
        let mut tokens: Vec<Result<i64, char>> = Vec::new();
        let mut chars = d.chars().peekable();
        while let Some(&c) = chars.peek() {
            if c.is_ascii_alphabetic() {
                tokens.push(Err(c));
                chars.next();
            } else if c == ' ' || c == ',' {
                chars.next();
            } else {
                let mut s = String::new();
                if c == '-' {
                    s.push(c);
                    chars.next();
                }
                while let Some(&c) = chars.peek().filter(|c| c.is_ascii_digit() || (**c == '.' && !s.contains('.'))) {
                    s.push(c);
                    chars.next();
                }
                let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
                assert!(frac.len() <= 1, "more than one decimal: {s}");
                let neg = int.starts_with('-');
                let int = int.trim_start_matches('-');
                let v = int.parse::<i64>().unwrap_or(0) * 10 + frac.parse::<i64>().unwrap_or(0);
                assert!(!int.is_empty() || !frac.is_empty(), "bad number {s:?} in {d}");
                tokens.push(Ok(if neg { -v } else { v }));
            }
        }
        let mut points = Vec::new();
        let (mut cmd, mut cur, mut start) = ('M', (0, 0), (0, 0));
        let mut it = tokens.into_iter().peekable();
        while let Some(t) = it.next() {
            let x = match t {
                Err(c) => {
                    cmd = c;
                    if c == 'z' || c == 'Z' {
                        cur = start;
                    }
                    continue;
                }
                Ok(x) => x,
            };
            let y = it.next().and_then(Result::ok).expect("pair");
            cur = match cmd {
                'M' | 'L' => (x, y),
                'm' | 'l' => (cur.0 + x, cur.1 + y),
                other => panic!("unexpected command {other}"),
            };
            if cmd == 'M' || cmd == 'm' {
                start = cur;
                cmd = if cmd == 'M' { 'L' } else { 'l' };
            }
            points.push(cur);
        }
        points
    }

    fn view_box(root: &Element) -> (i64, i64) {
        let vb: Vec<f64> = root.attr("viewBox").unwrap().split(' ').map(|v| v.parse().unwrap()).collect();
        assert_eq!(&vb[..2], &[0.0, 0.0]);
        ((vb[2] * 10.0) as i64, (vb[3] * 10.0) as i64)
    }

    /// Checks everything that does not depend on the territory; returns the parsed elements.
    fn check_svg(svg: &str, members: usize) -> Vec<Element> {
        let elements = parse_xml(svg).unwrap_or_else(|e| panic!("not well-formed: {e}\n{svg}"));
        let root = &elements[0];
        assert_eq!(root.name, "svg");
        assert_eq!(root.attr("role"), Some("img"));
        assert_eq!(root.attr("preserveAspectRatio"), Some("xMidYMid meet"));
        assert_eq!(root.attr("fill-rule"), Some("evenodd"));
        assert!(root.attr("width").is_none() && root.attr("height").is_none());
        for id in root.attr("aria-labelledby").unwrap().split(' ') {
            let target = elements.iter().find(|e| e.attr("id") == Some(id)).unwrap_or_else(|| panic!("no #{id}"));
            assert!(target.name == "title" || target.name == "desc");
            assert_eq!(target.parent, Some(0));
        }
        let (w, h) = view_box(root);
        let mut n = 0;
        for (i, e) in elements.iter().enumerate() {
            match e.name.as_str() {
                "path" => {
                    let points = path_points(e.attr("d").unwrap());
                    assert!(!points.is_empty());
                    for (x, y) in points {
                        assert!((0..=w).contains(&x) && (0..=h).contains(&y), "({x}, {y}) outside 0 0 {w} {h}");
                    }
                }
                "circle" => {
                    let cx = (e.attr("cx").unwrap().parse::<f64>().unwrap() * 10.0).round() as i64;
                    let cy = (e.attr("cy").unwrap().parse::<f64>().unwrap() * 10.0).round() as i64;
                    assert!((0..=w).contains(&cx) && (0..=h).contains(&cy));
                }
                _ => continue,
            }
            let class = e.attr("class").unwrap();
            if class == "limite-territoire" {
                continue;
            }
            assert!(class.starts_with("commune membre") || class == "commune voisine", "{class}");
            assert!(e.attr("data-code").is_some_and(|c| c.len() == 5));
            let title = elements.iter().find(|t| t.parent == Some(i) && t.name == "title").expect("tooltip");
            assert!(title.text.contains(" habitant"), "{}", title.text);
            if class.starts_with("commune membre") {
                n += 1;
            }
        }
        assert_eq!(n, members, "member shapes");
        elements
    }

    fn title_of<'e>(elements: &'e [Element], code: &str) -> &'e str {
        let i = elements.iter().position(|e| e.attr("data-code") == Some(code)).unwrap_or_else(|| panic!("{code}"));
        &elements.iter().find(|t| t.parent == Some(i) && t.name == "title").unwrap().text
    }

    fn territory<'r>(reference: &'r Reference, codes: &[&str]) -> Territory<'r> {
        Territory::new(reference, codes.iter().copied()).unwrap()
    }

    const BLOIS: [&str; 9] = ["41018", "41032", "41047", "41055", "41142", "41212", "41230", "41276", "41295"];

    #[test]
    fn blois_and_its_neighbours() {
        let reference = Reference::embedded();
        let t = territory(reference, &BLOIS);
        let members: Vec<&Commune> = t.communes().collect();
        let context = t.neighbours();
        let options = MapOptions { title: "CPTS du Blaisois".into(), ..MapOptions::default() };
        let svg = territory_svg(reference, &members, &context, &options);
        assert_eq!(territory_map(&t, &options), svg);
        let elements = check_svg(&svg, 9);
        eprintln!(
            "Blois map: {} bytes, {} neighbours, viewBox {:?}",
            svg.len(),
            context.len(),
            elements[0].attr("viewBox")
        );
        assert!(svg.len() < 40_000, "{} bytes", svg.len());

        let blois = reference.commune("41018").unwrap();
        let expected = format!("Blois (41018) — {} habitants", format_int_fr(u64::from(blois.population)));
        assert_eq!(title_of(&elements, "41018"), expected);
        assert!(expected.contains('\u{202f}'));
        for code in BLOIS {
            let c = reference.commune(code).unwrap();
            assert!(title_of(&elements, code).starts_with(&format!("{} ({code}) — ", c.name)));
        }
        let title = elements.iter().find(|e| e.attr("id") == Some("carte-titre")).unwrap();
        assert_eq!(title.text, "CPTS du Blaisois");
        let desc = elements.iter().find(|e| e.attr("id") == Some("carte-desc")).unwrap();
        let population = format_int_fr(t.population());
        assert!(
            desc.text.starts_with(&format!("Carte du territoire\u{a0}: 9 communes, {population} habitants.")),
            "{}",
            desc.text
        );
        // Neighbours are drawn, in grey, behind the members.
        let voisines: Vec<&Element> = elements.iter().filter(|e| e.attr("class") == Some("commune voisine")).collect();
        assert!(voisines.len() >= 10, "{}", voisines.len());
        assert!(voisines.iter().all(|e| !BLOIS.contains(&e.attr("data-code").unwrap())));
        let first_member = elements.iter().position(|e| e.attr("class") == Some("commune membre")).unwrap();
        let last_neighbour = elements.iter().rposition(|e| e.attr("class") == Some("commune voisine")).unwrap();
        assert!(last_neighbour < first_member);
        // The territory's boundary is one closed line.
        let outline = elements.iter().find(|e| e.attr("class") == Some("limite-territoire")).expect("outline");
        let d = outline.attr("d").unwrap();
        assert_eq!(d.matches('M').count(), 1, "{d}");
        assert!(d.ends_with('z'));
        // Landscape or portrait, the longer side is the requested size.
        let (w, h) = view_box(&elements[0]);
        assert_eq!(w.max(h), 8000);
    }

    #[test]
    fn paris_arrondissements() {
        let reference = Reference::embedded();
        let codes: Vec<String> = (1..=20).map(|i| format!("751{i:02}")).collect();
        let t = Territory::new(reference, codes.iter().map(String::as_str)).unwrap();
        let members: Vec<&Commune> = t.communes().collect();
        let context = t.neighbours();
        let svg = territory_svg(reference, &members, &context, &MapOptions::default());
        let elements = check_svg(&svg, 20);
        eprintln!("Paris map: {} bytes, {} neighbours", svg.len(), context.len());
        assert!(svg.len() < 60_000, "{} bytes", svg.len());
        assert!(title_of(&elements, "75101").starts_with("Paris 1er Arrondissement (75101) — "));
        // Paris is wider than tall; the city itself (75056) is not drawn over its arrondissements.
        let (w, h) = view_box(&elements[0]);
        assert!(w > h, "{w} × {h}");
        assert!(!svg.contains("data-code=\"75056\""));
        assert!(svg.contains("data-code=\"92012\""), "Boulogne-Billancourt is a neighbour");
        let outline = elements.iter().find(|e| e.attr("class") == Some("limite-territoire")).unwrap();
        assert!(outline.attr("d").unwrap().ends_with('z'));
    }

    #[test]
    fn names_are_escaped() {
        let reference = Reference::embedded();
        let lhay = reference.commune("94038").unwrap();
        assert_eq!(lhay.name, "L'Haÿ-les-Roses");
        let t = territory(reference, &["94038"]);
        let options = MapOptions { title: "<CPTS> \"Val\" & 'Bièvre'".into(), ..MapOptions::default() };
        let svg = territory_svg(reference, &[lhay], &t.neighbours(), &options);
        let elements = check_svg(&svg, 1);
        assert!(svg.contains("<title>L&#39;Haÿ-les-Roses (94038) — "), "{svg}");
        assert!(!svg.contains('\''));
        assert_eq!(title_of(&elements, "94038").split(" (").next(), Some("L'Haÿ-les-Roses"));
        assert!(svg.contains("&lt;CPTS&gt; &quot;Val&quot; &amp; &#39;Bièvre&#39;"));
        assert_eq!(escape("<a href=\"x\">'&'</a>"), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
        // Ids are sanitised.
        let svg = territory_svg(reference, &[lhay], &[], &MapOptions { id: "1 \"x\"".into(), ..MapOptions::default() });
        assert!(svg.contains("aria-labelledby=\"carte-1--x--titre carte-1--x--desc\""), "{svg}");
    }

    #[test]
    fn commune_without_contour_is_a_circle() {
        let reference = Reference::embedded();
        let Some(point) = reference.communes().iter().find(|c| !c.has_contour) else { return };
        let svg = territory_svg(reference, &[point], &[], &MapOptions::default());
        let elements = check_svg(&svg, 1);
        let circle = elements.iter().find(|e| e.name == "circle").unwrap();
        assert_eq!(circle.attr("data-code"), Some(point.code.as_str()));
        assert!(!svg.contains("limite-territoire"));
        // With its neighbours as context.
        let context: Vec<&Commune> = point.neighbours.iter().map(|&i| &reference.communes()[i as usize]).collect();
        check_svg(&territory_svg(reference, &[point], &context, &MapOptions::default()), 1);
    }

    #[test]
    fn empty_map() {
        let svg = territory_svg(Reference::embedded(), &[], &[], &MapOptions::default());
        let elements = check_svg(&svg, 0);
        assert!(elements.iter().any(|e| e.text.contains("0 commune, 0 habitant.")), "{svg}");
    }

    #[test]
    fn choropleth_of_paris() {
        let reference = Reference::embedded();
        let codes: Vec<String> = (1..=20).map(|i| format!("751{i:02}")).collect();
        let members: Vec<&Commune> = codes.iter().map(|c| reference.commune(c).unwrap()).collect();
        // Population in thousands; 75120 has no value.
        let values: HashMap<String, f64> = members
            .iter()
            .filter(|c| c.code.as_str() != "75120")
            .map(|c| (c.code.as_str().to_owned(), f64::from(c.population) / 1000.0))
            .collect();
        let ch = Choropleth {
            values,
            classes: Classes::Quantiles(5),
            label: "Population".into(),
            unit: "milliers d'hab.".into(),
            decimals: 0,
        };
        let options = MapOptions { fill: Fill::ByValue(ch.clone()), id: "densite".into(), ..MapOptions::default() };
        let svg = territory_svg(reference, &members, &[], &options);
        let elements = check_svg(&svg, 20);
        assert_eq!(ch.breaks(&members).len(), 4);
        let legend = ch.legend(&members);
        assert_eq!(legend.len(), 6);
        assert_eq!(legend.iter().map(|l| l.communes).sum::<usize>(), 20);
        assert_eq!(legend[5].label, "non renseigné");
        assert!(legend[0].label.starts_with("moins de "));
        assert!(legend[4].label.ends_with(" ou plus"));
        for (i, class) in legend[..5].iter().enumerate() {
            assert_eq!((class.fill, class.stroke), PALETTE[i]);
            let n = elements
                .iter()
                .filter(|e| e.attr("class") == Some(&format!("commune membre classe-{}", i + 1)))
                .count();
            assert_eq!(n, class.communes, "class {}", i + 1);
        }
        let e = elements.iter().find(|e| e.attr("data-code") == Some("75120")).unwrap();
        assert_eq!(e.attr("class"), Some("commune membre sans-valeur"));
        assert!(title_of(&elements, "75120").ends_with(" — Population\u{a0}: non renseigné"));
        let p15 = format_decimal_fr(f64::from(reference.commune("75115").unwrap().population) / 1000.0, 0);
        assert!(title_of(&elements, "75115").ends_with(&format!(" — Population\u{a0}: {p15}\u{a0}milliers d'hab.")));
        assert!(svg.contains("en 5 classes."));

        let html = legend_html(&members, &ch);
        parse_xml(&html).unwrap();
        assert_eq!(html.matches("<li>").count(), 6);
        assert!(html.contains("milliers d&#39;hab."));
        assert!(!html.contains("style="));
    }

    #[test]
    fn explicit_breaks_and_few_classes() {
        let reference = Reference::embedded();
        let members: Vec<&Commune> = BLOIS.iter().map(|c| reference.commune(c).unwrap()).collect();
        let values: HashMap<String, f64> = BLOIS
            .iter()
            .map(|&c| {
                (
                    c.to_string(),
                    if c == "41018" {
                        2.0
                    } else if c == "41295" {
                        0.6
                    } else {
                        0.0
                    },
                )
            })
            .collect();
        let ch = Choropleth {
            values,
            classes: Classes::Breaks(vec![2.0, 1.0, f64::NAN, 1.0]),
            label: "État".into(),
            unit: String::new(),
            decimals: 0,
        };
        assert_eq!(ch.breaks(&members), vec![1.0, 2.0]);
        let legend = ch.legend(&members);
        let labels: Vec<&str> = legend.iter().map(|l| l.label.as_str()).collect();
        assert_eq!(labels, ["moins de 1", "de 1 à moins de 2", "2 ou plus"]);
        // 0.6 is shown as "1": it is counted in the class that starts at 1.
        assert_eq!(legend.iter().map(|l| l.communes).collect::<Vec<_>>(), [7, 1, 1]);
        assert_eq!(legend.iter().map(|l| l.fill).collect::<Vec<_>>(), [PALETTE[0].0, PALETTE[2].0, PALETTE[4].0]);
        // All values equal: one class.
        let same = Choropleth { classes: Classes::Quantiles(5), values: HashMap::from([("41018".into(), 3.0)]), ..ch };
        let legend = same.legend(&members[..1]);
        assert_eq!(legend.len(), 1);
        assert_eq!(legend[0].label, "3");
        assert_eq!(legend[0].fill, PALETTE[2].0);
        let svg = territory_svg(
            reference,
            &members[..1],
            &[],
            &MapOptions { fill: Fill::ByValue(same), ..MapOptions::default() },
        );
        check_svg(&svg, 1);
        assert!(svg.contains("class=\"commune membre classe-3\""));
    }

    #[test]
    fn french_numbers() {
        assert_eq!(format_int_fr(0), "0");
        assert_eq!(format_int_fr(999), "999");
        assert_eq!(format_int_fr(74_782), "74\u{202f}782");
        assert_eq!(format_int_fr(2_133_111), "2\u{202f}133\u{202f}111");
        assert_eq!(format_decimal_fr(1234.56, 1), "1\u{202f}234,6");
        assert_eq!(format_decimal_fr(-0.04, 1), "0,0");
        assert_eq!(format_decimal_fr(-12.5, 0), "−12");
        assert_eq!(format_decimal_fr(f64::NAN, 1), "—");
        assert_eq!(count_fr(1, "habitant", "habitants"), "1 habitant");
        assert_eq!(count_fr(1500, "habitant", "habitants"), "1\u{202f}500 habitants");
        let mut s = String::new();
        for n in [0, 5, -5, 10, -10, 1234, -1234] {
            push_tenths(&mut s, n);
            s.push(' ');
        }
        assert_eq!(s, "0 .5 -.5 1 -1 123.4 -123.4 ");
    }

    fn luminance(hex: &str) -> f64 {
        let channel = |i: usize| {
            let c = f64::from(u8::from_str_radix(&hex[i..i + 2], 16).unwrap()) / 255.0;
            if c <= 0.040_45 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
        };
        0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5)
    }

    fn contrast(a: &str, b: &str) -> f64 {
        let (la, lb) = (luminance(a), luminance(b));
        (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
    }

    #[test]
    fn colours_meet_wcag_non_text_contrast() {
        for (fill, stroke) in PALETTE.iter().copied().chain([
            (MEMBER_FILL, MEMBER_STROKE),
            (CONTEXT_FILL, CONTEXT_STROKE),
            (NO_VALUE_FILL, NO_VALUE_STROKE),
            (MEMBER_FILL, "#ffffff"),
            (CONTEXT_FILL, OUTLINE_STROKE),
        ]) {
            assert!(contrast(fill, stroke) >= 3.0, "{fill} / {stroke}: {:.2}", contrast(fill, stroke));
        }
        // Sequential: each class darker than the previous.
        assert!(PALETTE.windows(2).all(|w| luminance(w[0].0) > luminance(w[1].0)));
    }

    #[test]
    fn stylesheet_uses_the_same_colours() {
        let css = include_str!("../static/maillage.css").to_ascii_lowercase();
        for colour in PALETTE.iter().flat_map(|(f, s)| [*f, *s]).chain([
            MEMBER_FILL,
            MEMBER_STROKE,
            CONTEXT_FILL,
            CONTEXT_STROKE,
            OUTLINE_STROKE,
            NO_VALUE_FILL,
            NO_VALUE_STROKE,
        ]) {
            assert!(css.contains(colour), "{colour} missing from maillage.css");
        }
        for i in 1..=PALETTE.len() {
            assert!(css.contains(&format!(".classe-{i}")), "no rule for .classe-{i}");
        }
    }
}
