//! The matching engine's optimum against an independent one: Google OR-tools' min-cost flow
//! (`tools/bench/matching_ortools.py`, pinned in `tools/bench/requirements.txt`), on 22
//! deterministic random instances (a few patients to tens of thousands; every doctor setting;
//! one to four classes), a CPTS-size one and a small national one.
//!
//! Both sides read the same integral distances (`maillage_core::matching::exchange`); the
//! peer builds its own network at the individual-doctor level and its own lexicographic
//! penalties. The matched counts per class and the total distance must be equal.
//!
//! Without Python and OR-tools the test is skipped with a message, unless
//! `MAILLAGE_REQUIRE_ORTOOLS=1` (CI), where it fails.

use maillage_core::matching::synth::{self, RandomSpec};
use maillage_core::matching::{Instance, exchange, network};
use maillage_core::refdata::Reference;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tools/bench/matching_ortools.py")
}

/// Whether the peer can run; panics when it must (MAILLAGE_REQUIRE_ORTOOLS=1).
fn peer_available() -> bool {
    let probe = Command::new("python3").args(["-c", "import numpy, ortools.graph.python.min_cost_flow"]).output();
    let ok = probe.as_ref().is_ok_and(|o| o.status.success());
    if !ok {
        let why = match &probe {
            Ok(o) => String::from_utf8_lossy(&o.stderr).trim().to_owned(),
            Err(e) => format!("python3: {e}"),
        };
        let advice = "install it with `python3 -m pip install -r tools/bench/requirements.txt`";
        if std::env::var("MAILLAGE_REQUIRE_ORTOOLS").is_ok_and(|v| v == "1") {
            panic!("OR-tools is required (MAILLAGE_REQUIRE_ORTOOLS=1) but unavailable: {why}; {advice}");
        }
        eprintln!("skipped: OR-tools unavailable ({why}); {advice}");
    }
    ok
}

fn instances() -> Vec<(String, Instance)> {
    let mut out = Vec::new();
    let shapes = [
        // (communes, groups, doctors, max_count, max_capacity, classes, km, spread, settings)
        (3, 4, 2, 3, 3, 1, 20, 0.3, false),
        (5, 8, 4, 5, 4, 2, 15, 0.4, true),
        (10, 20, 8, 10, 6, 3, 25, 0.6, true),
        (20, 60, 25, 20, 10, 2, 30, 1.0, false),
        (40, 150, 60, 40, 30, 2, 30, 1.2, true),
        (80, 400, 150, 60, 40, 3, 25, 2.0, true),
        (150, 1000, 400, 50, 60, 2, 30, 3.0, false),
        (300, 2000, 600, 40, 60, 4, 40, 4.0, true),
        (30, 300, 200, 100, 20, 2, 50, 0.5, true),
        (500, 3000, 1500, 30, 60, 2, 20, 6.0, true),
        (60, 200, 5, 100, 200, 3, 60, 1.0, false),
    ];
    for (i, &(communes, groups, doctors, max_count, max_capacity, classes, max_km, spread_deg, settings)) in
        shapes.iter().enumerate()
    {
        for seed in [1u64, 2] {
            let spec = RandomSpec {
                communes,
                groups,
                doctors,
                max_count,
                max_capacity,
                classes,
                max_km,
                spread_deg,
                settings,
            };
            out.push((format!("random-{i}-{seed}"), synth::random(seed * 7919 + i as u64, &spec)));
        }
    }
    let reference = Reference::embedded();
    let spec = synth::NationalSpec { patients: 200_000, doctors: 3_000, max_km: 30.0, seed: 11 };
    out.push(("national-200k".into(), synth::national(reference, &spec)));
    out
}

#[test]
fn same_optimum_as_ortools() {
    if !peer_available() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("maillage-matching-ortools-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cases = instances();
    let mut headers = Vec::new();
    let mut ours = Vec::new();
    for (name, instance) in &cases {
        let header = dir.join(format!("{name}.json"));
        let arcs_name = format!("{name}.arcs");
        let summary = exchange::write(
            instance,
            std::fs::File::create(&header).unwrap(),
            std::io::BufWriter::new(std::fs::File::create(dir.join(&arcs_name)).unwrap()),
            &arcs_name,
        )
        .unwrap();
        assert_eq!(summary.groups, instance.groups.len());
        headers.push(header);
        ours.push(network::solve(instance).unwrap());
    }
    let output = Command::new("python3").arg(script()).args(&headers).output().expect("python3 runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "peer failed: {}\n{stdout}", String::from_utf8_lossy(&output.stderr));
    let answers: Vec<Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(answers.len(), cases.len());

    let mut nontrivial = 0;
    for (((name, instance), s), peer) in cases.iter().zip(&ours).zip(&answers) {
        assert_eq!(peer["status"], "OPTIMAL", "{name}");
        let mut expected = serde_json::Map::new();
        for (class, n) in &s.matched_by_class {
            if s.patients_by_class[class] > 0 {
                expected.insert(class.to_string(), Value::from(*n));
            }
        }
        assert_eq!(peer["matched_by_class"], Value::Object(expected), "{name}: matched patients by class");
        assert_eq!(peer["total_m"].as_u64(), Some(s.total_m), "{name}: total distance");
        let matched: u64 = s.matched_by_class.values().sum();
        let waiting: u64 = s.patients_by_class.values().sum();
        if matched > 0 && matched < waiting && s.total_m > 0 {
            nontrivial += 1;
        }
        eprintln!(
            "{name}: {} groups, {} doctors, {} arcs here / {} there; matched {matched} of {waiting}, {} m",
            instance.groups.len(),
            instance.doctors.len(),
            s.stats.arcs,
            peer["arcs"],
            s.total_m
        );
    }
    // The instances are not degenerate: most leave some patients waiting and some matched.
    assert!(nontrivial >= cases.len() / 2, "only {nontrivial} non-trivial instances");
    std::fs::remove_dir_all(&dir).unwrap();
}
