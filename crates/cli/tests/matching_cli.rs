//! `maillage match` as a user runs it: two CSV files in, JSON or a table out.

use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Output};

fn maillage(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_maillage")).args(args).output().expect("maillage runs")
}

/// Writes files in a fresh directory of this test.
fn files(test: &str, contents: &[(&str, &str)]) -> Vec<PathBuf> {
    let dir = std::env::temp_dir().join(format!("maillage-match-{test}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    contents
        .iter()
        .map(|(name, text)| {
            let path = dir.join(name);
            std::fs::write(&path, text).unwrap();
            path
        })
        .collect()
}

// Blois, Vineuil (next to it), Vendôme (~30 km), Romorantin (~40 km).
const PATIENTS: &str = "id,commune,priority\n\
P1,41018,2\n\
P2,41018,1\n\
P3,41295,1\n\
P4,41269,2\n\
P5,41194,1\n\
P6,41018,2\n";
const DOCTORS: &str = "id,commune,capacity\nD1,41018,2\nD2,41295,1\nD3,41269,0\n";

#[test]
fn json_has_the_documented_shape() {
    let paths = files("json", &[("p.csv", PATIENTS), ("d.csv", DOCTORS)]);
    let (p, d) = (paths[0].to_str().unwrap(), paths[1].to_str().unwrap());
    let out = maillage(&["match", "--patients", p, "--doctors", d, "--max-km", "25", "--format", "json"]);
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    // 3 places for P2 and P3 (class 1; P5 is 40 km away) and one class-2 patient of Blois.
    assert_eq!(v["matched_by_class"], serde_json::json!({"1": 2, "2": 1}));
    assert_eq!(v["patients_by_class"], serde_json::json!({"1": 3, "2": 3}));
    let assignments = v["assignments"].as_array().unwrap();
    assert_eq!(assignments.len(), 3);
    let mut sum = 0.0;
    for a in assignments {
        for field in ["patient", "doctor", "km"] {
            assert!(!a[field].is_null(), "{field} missing in {a}");
        }
        let km = a["km"].as_f64().unwrap();
        assert!((0.0..=25.0).contains(&km));
        sum += km;
    }
    let total = v["total_km"].as_f64().unwrap();
    assert!((total - sum).abs() < 1e-6, "{total} vs {sum}");
    let pairs: Vec<(&str, &str)> =
        assignments.iter().map(|a| (a["patient"].as_str().unwrap(), a["doctor"].as_str().unwrap())).collect();
    // Everyone at 0 km: P2 and P1 (smaller id first among Blois' class 2) with D1, P3 with D2.
    assert_eq!(pairs, vec![("P1", "D1"), ("P2", "D1"), ("P3", "D2")]);
    assert_eq!(total, 0.0);
    let waiting = v["waiting"].as_array().unwrap();
    let why: Vec<(&str, &str)> =
        waiting.iter().map(|w| (w["patient"].as_str().unwrap(), w["reason"].as_str().unwrap())).collect();
    assert_eq!(why, vec![("P4", "no_doctor_in_range"), ("P5", "no_doctor_in_range"), ("P6", "no_capacity_left")]);
}

#[test]
fn table_is_readable() {
    let paths = files("table", &[("p.csv", PATIENTS), ("d.csv", DOCTORS)]);
    let (p, d) = (paths[0].to_str().unwrap(), paths[1].to_str().unwrap());
    let out = maillage(&["match", "--patients", p, "--doctors", d, "--max-km", "25"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("class 1    2 of 3 matched") && text.contains("P3"), "{text}");
}

#[test]
fn bad_csv_names_line_column_and_reason() {
    let bad_patients = "id,commune,priority\nP1,41018,1\nP2,99999,1\n";
    let paths = files(
        "bad",
        &[("p.csv", bad_patients), ("d.csv", DOCTORS), ("d2.csv", "id,commune,capacity\nD1,41018,lots\n")],
    );
    let (p, d, d2) = (paths[0].to_str().unwrap(), paths[1].to_str().unwrap(), paths[2].to_str().unwrap());
    let out = maillage(&["match", "--patients", p, "--doctors", d, "--max-km", "30", "--format", "json"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("p.csv: line 3, column commune: ") && err.contains("99999"), "{err}");
    assert!(out.stdout.is_empty());

    let ok_patients = files("bad2", &[("p.csv", PATIENTS)]);
    let out = maillage(&["match", "--patients", ok_patients[0].to_str().unwrap(), "--doctors", d2, "--max-km", "30"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("d2.csv: line 2, column capacity: \"lots\" is not a whole number"), "{err}");

    let out = maillage(&["match", "--patients", p, "--doctors", d, "--max-km", "0"]);
    assert_eq!(out.status.code(), Some(2));
    let missing = maillage(&["match", "--patients", "/nonexistent/p.csv", "--doctors", d, "--max-km", "30"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("/nonexistent/p.csv"));
}
