//! SNP slot search (issue: "with 1 million future slots over a département, the best 10 free
//! slots near a commune in under 5 ms p99").
//! Run: `cargo bench -p maillage-core --bench snp` (see docs/snp.md).
//!
//! About 1,000,000 slots of Loir-et-Cher (41): professionals spread over its real communes in
//! proportion to population, four weeks of weekday ranges across the October 2026 clock change,
//! half of the slots already booked. Besides criterion's means, the binary times 10,000
//! searches one by one and prints the nearest-rank p50/p99/max.

use chrono::{DateTime, Duration, NaiveTime, Utc, Weekday};
use criterion::{Criterion, criterion_group, criterion_main};
use maillage_core::geo::LatLon;
use maillage_core::refdata::Reference;
use maillage_core::snp::search::{Offer, ProfessionCode, SlotIndex, SlotQuery};
use maillage_core::snp::{Audience, AudienceSet, Availability, Place, ProfessionalId, WeeklyRange, expand};
use std::hint::black_box;
use std::time::Instant;

const DEPARTEMENT: &str = "41";
const PROFESSIONALS: u64 = 1_400;
const SEARCHES: usize = 10_000;

/// splitmix64: a deterministic stream without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).expect("instant").with_timezone(&Utc)
}

fn hm(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).expect("time")
}

fn code(s: &str) -> ProfessionCode {
    s.parse().expect("profession code")
}

/// The communes of the département with their centres and populations.
fn communes() -> Vec<(String, LatLon, u32)> {
    Reference::embedded()
        .communes()
        .iter()
        .filter(|c| c.departement == DEPARTEMENT)
        .map(|c| (c.code.to_string(), c.centre, c.population))
        .collect()
}

/// One professional's publication: mornings and afternoons on weekdays, some Saturday
/// mornings, with the profession's usual place and slot length.
fn publication(pro: u64, profession: &str, rng: &mut Rng) -> Availability {
    let (place, minutes) = match profession {
        "60" => (Place::Domicile, 15),
        "10" if rng.below(5) == 0 => (Place::Teleconsultation, 15),
        _ => (Place::Cabinet, 15),
    };
    let audiences = match rng.below(4) {
        0 => AudienceSet::of(&[Audience::Snp, Audience::Cpts, Audience::Public]),
        1 => AudienceSet::of(&[Audience::Pro, Audience::Cpts]),
        _ => AudienceSet::of(&[Audience::Snp, Audience::Cpts]),
    };
    let range = |weekday, start, end| WeeklyRange {
        weekday,
        start,
        end,
        slot_minutes: minutes,
        capacity: 1,
        place,
        audiences,
        valid_from: chrono::NaiveDate::from_ymd_opt(2026, 1, 1).expect("date"),
        valid_until: None,
    };
    let mut weekly = Vec::new();
    for weekday in [Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri] {
        weekly.push(range(weekday, hm(8, 0), hm(12, 0)));
        weekly.push(range(weekday, hm(14, 0), hm(19, 0)));
    }
    if rng.below(3) == 0 {
        weekly.push(range(Weekday::Sat, hm(9, 0), hm(12, 0)));
    }
    Availability { professional: ProfessionalId(pro), weekly, one_off: vec![], closures: vec![], cancellations: vec![] }
}

/// About a million slots over four weeks, half of them booked.
fn offers(communes: &[(String, LatLon, u32)], from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Offer> {
    let mut rng = Rng(41);
    let total: u64 = communes.iter().map(|c| u64::from(c.2)).sum();
    let mut out = Vec::new();
    for pro in 0..PROFESSIONALS {
        // A commune drawn in proportion to population: practices sit in towns.
        let mut pick = rng.below(total);
        let commune = communes
            .iter()
            .find(|c| {
                let p = u64::from(c.2);
                if pick < p {
                    true
                } else {
                    pick -= p;
                    false
                }
            })
            .unwrap_or(&communes[0]);
        let profession = ["10", "10", "10", "10", "60", "60", "60", "70", "70", "21"][rng.below(10) as usize];
        let availability = publication(pro, profession, &mut rng);
        for slot in expand(&availability, from, to).expect("expansion") {
            let booked = u8::from(rng.below(2) == 0);
            out.push(Offer { slot, profession: code(profession), position: commune.1, booked });
        }
    }
    out
}

/// The queries: several communes (towns and villages), times of day, and filters.
fn queries(communes: &[(String, LatLon, u32)], from: DateTime<Utc>) -> Vec<SlotQuery> {
    let position = |insee: &str| communes.iter().find(|c| c.0 == insee).map(|c| c.1).expect("commune of 41");
    // Blois, Vendôme, Romorantin-Lanthenay, Mondoubleau, Salbris, Montrichard Val de Cher.
    let places = ["41018", "41269", "41194", "41143", "41232", "41151"].map(position);
    let mut out = Vec::new();
    for (i, p) in places.into_iter().enumerate() {
        for hours in [0i64, 7, 30, 55, 100, 170, 200, 300] {
            let now = from + Duration::hours(hours) + Duration::minutes(17 * i as i64);
            let base = SlotQuery::near(p, now);
            out.push(base.clone());
            out.push(SlotQuery { profession: Some(code("60")), ..base.clone() });
            out.push(SlotQuery { profession: Some(code("21")), max_km: Some(15.0), ..base.clone() });
            out.push(SlotQuery { audience: Audience::Public, ..base.clone() });
            out.push(SlotQuery { places: vec![Place::Teleconsultation], ..base.clone() });
            out.push(SlotQuery { places: Place::ALL.to_vec(), profession: Some(code("10")), ..base });
        }
    }
    out
}

fn nearest_rank(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn snp(c: &mut Criterion) {
    let communes = communes();
    let (from, to) = (at("2026-10-12T00:00:00Z"), at("2026-11-09T00:00:00Z"));
    let offers = offers(&communes, from, to);
    let started = Instant::now();
    let index = SlotIndex::new(offers.iter().copied());
    let build = started.elapsed();
    let queries = queries(&communes, from);
    eprintln!(
        "{} communes in {DEPARTEMENT}, {} slots ({} free), {} sites; index built in {build:.2?}",
        communes.len(),
        index.len(),
        offers.iter().filter(|o| o.booked < o.slot.capacity).count(),
        index.sites(),
    );

    // 10,000 searches timed one by one: nearest-rank percentiles.
    let mut micros: Vec<f64> = Vec::with_capacity(SEARCHES);
    let mut found = 0usize;
    for i in 0..SEARCHES {
        let q = &queries[i % queries.len()];
        let t = Instant::now();
        let hits = index.search(q);
        micros.push(t.elapsed().as_secs_f64() * 1e6);
        found += hits.len();
    }
    micros.sort_by(f64::total_cmp);
    eprintln!(
        "{SEARCHES} searches ({} distinct queries, {:.1} hits on average): p50 {:.1} µs, p99 {:.1} µs, max {:.1} µs",
        queries.len(),
        found as f64 / SEARCHES as f64,
        nearest_rank(&micros, 0.50),
        nearest_rank(&micros, 0.99),
        micros[micros.len() - 1],
    );

    let mut group = c.benchmark_group("snp");
    group.bench_function("best 10 near Blois, next 24 h, SNP audience", |b| {
        b.iter(|| black_box(index.search(&queries[0])))
    });
    group.bench_function("best 10 nurses near Mondoubleau (rural)", |b| {
        b.iter(|| black_box(index.search(&queries[3 * 48 + 1])))
    });
    group.bench_function("pharmacists within 15 km (sparse)", |b| b.iter(|| black_box(index.search(&queries[2]))));
    group.bench_function("cycle through all queries", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) % queries.len();
            black_box(index.search(&queries[i]))
        })
    });
    group.sample_size(10);
    group.bench_function("build the index of ~1,000,000 slots", |b| {
        b.iter(|| black_box(SlotIndex::new(offers.iter().copied()).len()))
    });
    group.finish();
}

criterion_group!(benches, snp);
criterion_main!(benches);
