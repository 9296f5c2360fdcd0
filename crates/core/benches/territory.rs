//! Reference-data loading and territory computation.
//! Run: `cargo bench -p maillage-core --bench territory` (see docs/benchmarks.md).

use criterion::{Criterion, criterion_group, criterion_main};
use maillage_core::refdata::Reference;
use maillage_core::territory::{SizeThresholds, Territory, communes_within};
use std::hint::black_box;

fn load_reference(c: &mut Criterion) {
    let mut group = c.benchmark_group("reference data");
    group.sample_size(20);
    group.bench_function("decode embedded communes, former communes, départements, régions, EPCI", |b| {
        b.iter(|| black_box(Reference::decode_embedded().expect("embedded data decodes").communes().len()))
    });
    group.finish();
}

fn territory_of_100(c: &mut Criterion) {
    let reference = Reference::embedded();
    // 100 communes around Blois: the nearest 100 to 41018, a realistic large CPTS.
    let blois = reference.commune("41018").expect("Blois in reference");
    let codes: Vec<String> =
        communes_within(reference, blois, 60.0).iter().take(100).map(|n| n.commune.code.to_string()).collect();
    assert_eq!(codes.len(), 100);
    let thresholds = SizeThresholds::default();
    c.bench_function("territory/100 communes: build + population + size + départements + neighbours", |b| {
        b.iter(|| {
            let t = Territory::new(reference, codes.iter().map(String::as_str)).expect("valid");
            black_box((t.population(), t.size_class(&thresholds), t.by_departement(), t.neighbours().len()))
        })
    });
    c.bench_function("communes within 30 km of Blois", |b| {
        b.iter(|| black_box(communes_within(reference, blois, 30.0).len()))
    });
}

criterion_group!(benches, load_reference, territory_of_100);
criterion_main!(benches);
