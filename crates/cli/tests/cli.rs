//! The `maillage` binary as a user runs it: arguments in, exit status and output out.

use serde_json::Value;
use std::process::{Command, Output};

fn maillage(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_maillage")).args(args).output().expect("maillage runs")
}

fn json(out: &Output) -> Value {
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

#[test]
fn territory_json_has_the_documented_fields() {
    let v = json(&maillage(&["territory", "--communes", "41018,41269", "--format", "json"]));
    let communes = v["communes"].as_array().unwrap();
    assert_eq!(communes.len(), 2);
    for c in communes {
        for field in ["code", "name", "departement", "population", "lat", "lon"] {
            assert!(!c[field].is_null(), "{field} missing in {c}");
        }
    }
    let sum: u64 = communes.iter().map(|c| c["population"].as_u64().unwrap()).sum();
    assert_eq!(v["population"].as_u64().unwrap(), sum);
    assert!((1..=4).contains(&v["size_class"].as_u64().unwrap()));
}

#[test]
fn territory_unknown_code_exits_2_and_names_it() {
    let out = maillage(&["territory", "--communes", "41018,99999"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("99999"));
}

#[test]
fn territory_table_is_readable() {
    let out = maillage(&["territory", "--communes", "41018"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Blois") && text.contains("size class   2"), "{text}");
}

#[test]
fn ids_check_exit_codes() {
    // SIREN of La Poste (Luhn exception only concerns its SIRETs).
    assert_eq!(maillage(&["ids", "check", "siren", "356000000"]).status.code(), Some(0));
    let bad = maillage(&["ids", "check", "siren", "356000001"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(!bad.stderr.is_empty(), "a reason is given");
    assert_eq!(maillage(&["ids", "check", "commune", "41018"]).status.code(), Some(0));
    let unknown = maillage(&["ids", "check", "commune", "99999"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("99999"));
    // Not a kind: clap's usage error.
    assert_eq!(maillage(&["ids", "check", "passport", "1"]).status.code(), Some(2));
}

#[test]
fn communes_near_json() {
    let v = json(&maillage(&["communes", "near", "41018", "--km", "8", "--format", "json"]));
    let near = v.as_array().unwrap();
    assert_eq!(near[0]["code"], "41018");
    assert!(near.iter().all(|n| n["km"].as_f64().unwrap() <= 8.0));
    assert!(near.iter().any(|n| n["code"] == "41295"), "Vineuil is next to Blois");
    assert_eq!(maillage(&["communes", "near", "41018", "--km", "abc"]).status.code(), Some(2));
}
