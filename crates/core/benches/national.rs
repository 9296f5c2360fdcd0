//! National coverage, overlaps and zones blanches (issue 8: all communes and 1,000 CPTS in under
//! 20 ms).
//! Run: `cargo bench -p maillage-core --bench national` (see docs/national.md).

use chrono::NaiveDate;
use criterion::{Criterion, criterion_group, criterion_main};
use maillage_core::national::{NationalIndex, RegisteredCpts, SynthParams, generate};
use maillage_core::refdata::Reference;
use maillage_core::territory::{SizeClass, SizeThresholds};
use std::hint::black_box;

fn national(c: &mut Criterion) {
    let reference = Reference::embedded();
    let thresholds = SizeThresholds::default();
    let on = NaiveDate::from_ymd_opt(2026, 6, 30).expect("date");

    let mut group = c.benchmark_group("national");
    group.sample_size(30);
    group.bench_function("index: units, départements, adjacency of 34,920 rows", |b| {
        b.iter(|| black_box(NationalIndex::new(reference).units().len()))
    });
    let index = NationalIndex::new(reference);
    group.bench_function("synthetic registry: generate 800 CPTS", |b| {
        b.iter(|| black_box(generate(&index, &SynthParams::default()).len()))
    });
    // The default registry (about 800 CPTS) and one of at least 1,000 (asking for 1,010 gives
    // 1,003 with the default seed).
    for cpts in [800, 1010] {
        let registry = generate(&index, &SynthParams { cpts, ..SynthParams::default() });
        let n = registry.len();
        assert!(cpts == 800 || n >= 1000, "{n} CPTS");
        for day in [on, NaiveDate::from_ymd_opt(2023, 10, 30).expect("date")] {
            report(&index, cpts, &registry, day, &thresholds);
        }
        let prepared = index.prepare(&registry);
        group.bench_function(format!("{n} CPTS: resolve codes + coverage + overlaps + zones blanches"), |b| {
            b.iter(|| {
                let cov = index.coverage(&registry, on, &thresholds);
                black_box((cov.nation.covered, cov.overlaps.len(), cov.zones.len()))
            })
        });
        group.bench_function(format!("{n} CPTS: coverage + overlaps + zones blanches (prepared)"), |b| {
            b.iter(|| {
                let cov = index.compute(&prepared, on, &thresholds);
                black_box((cov.nation.covered, cov.overlaps.len(), cov.zones.len()))
            })
        });
    }
    group.finish();
}

/// Prints the figures of the synthetic registries quoted in `docs/national.md`.
fn report(index: &NationalIndex, asked: usize, registry: &[RegisteredCpts], on: NaiveDate, t: &SizeThresholds) {
    let cov = index.coverage(registry, on, t);
    let sizes: Vec<usize> = [SizeClass::T1, SizeClass::T2, SizeClass::T3, SizeClass::T4]
        .iter()
        .map(|&s| cov.cpts.iter().filter(|c| c.state.is_some() && c.size == s).count())
        .collect();
    let counted = cov.states.total().max(1) as u64;
    let average = cov.cpts.iter().filter(|c| c.state.is_some()).map(|c| c.population).sum::<u64>() / counted;
    eprintln!(
        "{asked} asked, {} generated, on {on}: {:?}; covered {} (signed {}); sizes {sizes:?}; average {average}; \
         {} overlaps; {} zones blanches, largest {:?}",
        registry.len(),
        cov.states.stages,
        cov.nation.covered_share(),
        cov.nation.signed_share(),
        cov.overlaps.len(),
        cov.zones.len(),
        cov.zones.iter().take(3).map(|z| (z.key.to_string(), z.population, z.communes.len())).collect::<Vec<_>>(),
    );
}

criterion_group!(benches, national);
criterion_main!(benches);
