//! The médecin-traitant matching engine on a CPTS-size and on the national instance, the
//! latter against Google OR-tools' min-cost flow on the same instance in the same run (see
//! docs/benchmarks.md and docs/matching.md).
//!
//! `cargo bench -p maillage-cli --bench matching` (append `-- cpts` for the CPTS part only):
//!
//! - CPTS: 20,000 patients (facts classified by the default rule) and 300 doctors (some with
//!   their own limit, accepted communes or declined patients) around Blois, 30 km; the whole
//!   `match_patients` call (ids, grouping, solve, explanations), median of 15 runs.
//! - National: 6,000,000 patients on every commune, aggregated by (commune, class), 100,000
//!   doctors drawn where people live, capacities 0–60, 30 km (`synth::national`). Ours: build
//!   the aggregated network, then solve it (network simplex) and spread the flow over the
//!   doctors, three runs. Then the instance is written for the peer (patient groups × individual
//!   doctors, as the issue states it) to `target/bench-data/`, and `tools/bench/
//!   matching_ortools.py` builds and solves it with `SimpleMinCostFlow` once. The optima must be
//!   equal (matched patients per class, total metres); the bench says so loudly, and exits with
//!   status 1 if they differ.

use maillage_core::matching::network::Aggregated;
use maillage_core::matching::{Params, PriorityRule, exchange, match_patients, synth};
use maillage_core::refdata::Reference;
use serde_json::Value;
use std::path::Path;
use std::time::Instant;

const CPTS_RUNS: usize = 15;
const NATIONAL_RUNS: usize = 3;

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn fmt(v: &[f64], unit: f64, digits: usize) -> String {
    v.iter().map(|s| format!("{:.digits$}", s * unit)).collect::<Vec<_>>().join(", ")
}

fn cpts(reference: &Reference) {
    let spec = synth::CptsSpec::default();
    let (patients, doctors) = synth::cpts(reference, &spec, &PriorityRule::default());
    let params = Params { max_km: 30.0 };
    let mut times = Vec::new();
    let mut result = None;
    for _ in 0..CPTS_RUNS {
        let start = Instant::now();
        let m = match_patients(reference, &patients, &doctors, &params).unwrap();
        times.push(start.elapsed().as_secs_f64());
        result = Some(m);
    }
    let m = result.unwrap();
    let settings = doctors
        .iter()
        .filter(|d| d.max_km.is_some() || d.accepted_communes.is_some() || !d.excluded_patients.is_empty())
        .count();
    let communes: std::collections::BTreeSet<_> = patients.iter().map(|p| p.commune).collect();
    println!("## CPTS-size instance");
    println!();
    println!(
        "{} patients, {} doctors ({settings} with their own settings), {} communes within {} km of {}, limit 30 km; \
         network: {} patient groups, {} hubs, {} doctor types, {} arcs; matched {:?} of {:?}; total {:.1} km",
        patients.len(),
        doctors.len(),
        communes.len(),
        spec.radius_km,
        spec.centre,
        m.stats.groups,
        m.stats.hubs,
        m.stats.doctor_types,
        m.stats.arcs,
        m.matched_by_class,
        m.patients_by_class,
        m.total_km()
    );
    println!();
    println!("| what | runs (ms) | median (ms) | target |");
    println!("|---|---|---:|---|");
    println!(
        "| `match_patients` (group, solve, explain) | {} | {:.1} | < 100 ms |",
        fmt(&times, 1e3, 1),
        median(&times) * 1e3
    );
    println!();
}

fn national(reference: &Reference) -> bool {
    let spec = synth::NationalSpec::default();
    let start = Instant::now();
    let instance = synth::national(reference, &spec);
    let generate = start.elapsed().as_secs_f64();
    let mut build = Vec::new();
    let mut solve = Vec::new();
    let mut solution = None;
    let mut arcs = 0;
    for _ in 0..NATIONAL_RUNS {
        let start = Instant::now();
        let network = Aggregated::build(&instance).unwrap();
        build.push(start.elapsed().as_secs_f64());
        arcs = network.arc_count();
        let start = Instant::now();
        let s = network.solve().unwrap();
        solve.push(start.elapsed().as_secs_f64());
        solution = Some(s);
    }
    let ours = solution.unwrap();
    let rss = peak_rss_mb();
    let total: Vec<f64> = build.iter().zip(&solve).map(|(b, s)| b + s).collect();

    // The same instance for the peer.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-data");
    std::fs::create_dir_all(&dir).unwrap();
    let header = dir.join("matching-national.json");
    let arcs_path = dir.join("matching-national.arcs");
    let start = Instant::now();
    let written = exchange::write(
        &instance,
        std::fs::File::create(&header).unwrap(),
        std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&arcs_path).unwrap()),
        "matching-national.arcs",
    )
    .unwrap();
    let write_s = start.elapsed().as_secs_f64();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tools/bench/matching_ortools.py");
    let output = std::process::Command::new("python3").arg(&script).arg(&header).output().expect("python3 runs");
    // The arcs file is large (12 bytes an arc); it is rewritten in seconds when needed.
    let _ = std::fs::remove_file(&arcs_path);
    let peer: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|_| {
        panic!("peer: {}", String::from_utf8_lossy(&output.stderr));
    });

    let patients: u64 = instance.groups.iter().map(|g| u64::from(g.count)).sum();
    let capacity: u64 = instance.doctors.iter().map(|d| u64::from(d.capacity)).sum();
    println!("## National instance");
    println!();
    println!(
        "{patients} patients in {} groups (commune × class), {} doctors (capacity {capacity} in all), 30 km; \
         generated in {generate:.2} s. Ours: {} hubs, {} doctor types, {} nodes, {arcs} arcs, {} pivots; peak RSS \
         {rss:.0} MB. Peer: {} nodes, {} arcs ({} group–doctor arcs, written in {write_s:.1} s), peak RSS {} MB.",
        instance.groups.len(),
        instance.doctors.len(),
        ours.stats.hubs,
        ours.stats.doctor_types,
        ours.stats.nodes,
        ours.stats.pivots,
        peer["nodes"],
        peer["arcs"],
        written.arcs,
        peer["peak_rss_mb"],
    );
    println!();
    let peer_solve = peer["solve_s"].as_f64().unwrap_or(f64::NAN);
    println!("| what | runs (s) | median (s) | ÷ OR-tools solve |");
    println!("|---|---|---:|---:|");
    println!("| maillage: build (aggregate, distances) | {} | {:.2} | — |", fmt(&build, 1.0, 2), median(&build));
    println!(
        "| maillage: solve (network simplex + doctors) | {} | {:.2} | {:.3} |",
        fmt(&solve, 1.0, 2),
        median(&solve),
        median(&solve) / peer_solve
    );
    println!(
        "| maillage: build + solve | {} | {:.2} | {:.3} |",
        fmt(&total, 1.0, 2),
        median(&total),
        median(&total) / peer_solve
    );
    let version = peer["ortools_version"].as_str().unwrap_or("?");
    println!(
        "| OR-tools {version}: build (`add_arcs_with_capacity_and_unit_cost`) | {:.2} | {:.2} | — |",
        peer["build_s"].as_f64().unwrap_or(f64::NAN),
        peer["build_s"].as_f64().unwrap_or(f64::NAN)
    );
    println!("| OR-tools {version}: `SimpleMinCostFlow.solve` | {peer_solve:.2} | {peer_solve:.2} | 1.000 |");
    println!();

    let mut expected = serde_json::Map::new();
    for (class, n) in &ours.matched_by_class {
        if ours.patients_by_class[class] > 0 {
            expected.insert(class.to_string(), Value::from(*n));
        }
    }
    let same = peer["status"] == "OPTIMAL"
        && peer["matched_by_class"] == Value::Object(expected)
        && peer["total_m"].as_u64() == Some(ours.total_m);
    println!(
        "optimum: maillage matched {:?}, {} m; OR-tools {} matched {}, {} m",
        ours.matched_by_class, ours.total_m, peer["status"], peer["matched_by_class"], peer["total_m"]
    );
    if same {
        println!("SAME OPTIMUM");
    } else {
        println!();
        println!("!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!");
        println!("!!! THE OPTIMA DIFFER: maillage and OR-tools disagree on this instance !!!");
        println!("!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!");
    }
    same
}

fn main() {
    let only_cpts = std::env::args().skip(1).any(|a| a == "cpts");
    let reference = Reference::embedded();
    cpts(reference);
    if !only_cpts && !national(reference) {
        std::process::exit(1);
    }
}
