//! `maillage aci` as a user runs it: the simulator's JSON, the seed 004 maxima, exit statuses.

use serde_json::Value;
use std::process::{Command, Output};

fn maillage(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_maillage")).args(args).output().expect("maillage runs")
}

fn json(args: &[&str]) -> Value {
    let out = maillage(args);
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

fn fails_with(args: &[&str], needle: &str) {
    let out = maillage(args);
    assert_eq!(out.status.code(), Some(2), "{args:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(needle), "{args:?}: {err}");
    assert!(out.stdout.is_empty(), "{args:?}");
}

fn euros(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

#[test]
fn simulate_json_reproduces_the_seed_004_maxima() {
    for (size, max) in [("1", 287_500.0), ("2", 382_500.0), ("3", 487_500.0), ("4", 580_000.0)] {
        let v = json(&[
            "aci",
            "simulate",
            "--rules",
            "avenant-2",
            "--size",
            size,
            "--contract-year",
            "1",
            "--missions",
            "all",
            "--crisis",
            "--format",
            "json",
        ]);
        assert_eq!(euros(&v["total_eur"]), max, "size {size}");
        assert_eq!(euros(&v["maximum_eur"]), max);
        let envelopes = v["envelopes"].as_array().unwrap();
        let names: Vec<&str> = envelopes.iter().map(|e| e["mission"].as_str().unwrap()).collect();
        assert_eq!(names, ["fonctionnement", "acces", "parcours", "prevention", "crise", "qualite", "accompagnement"]);
        let mut sum = 0.0;
        for e in envelopes {
            for field in ["mission", "fixed_eur", "variable_eur", "total_eur"] {
                assert!(!e[field].is_null(), "{field} missing in {e}");
            }
            assert_eq!(euros(&e["fixed_eur"]) + euros(&e["variable_eur"]), euros(&e["total_eur"]));
            assert_eq!(e["total_cents"].as_i64().unwrap(), (euros(&e["total_eur"]) * 100.0) as i64);
            assert!(!e["explanations"].as_array().unwrap().is_empty());
            sum += euros(&e["total_eur"]);
        }
        assert_eq!(sum, max);
    }
}

#[test]
fn simulate_json_envelopes_by_mission() {
    let v = json(&[
        "aci",
        "simulate",
        "--size",
        "2",
        "--contract-year",
        "3",
        "--missions",
        "acces,crise",
        "--achievement",
        "0.5",
        "--format",
        "json",
    ]);
    let env = |m: &str| v["envelopes"].as_array().unwrap().iter().find(|e| e["mission"] == m).cloned().unwrap();
    assert_eq!(v["envelopes"].as_array().unwrap().len(), 3, "operating funding + the two missions");
    assert_eq!(
        (euros(&env("fonctionnement")["fixed_eur"]), euros(&env("fonctionnement")["variable_eur"])),
        (60_000.0, 0.0)
    );
    assert_eq!((euros(&env("acces")["fixed_eur"]), euros(&env("acces")["variable_eur"])), (70_000.0, 15_000.0));
    // Year 3: the crisis plan is updated, no crisis.
    assert_eq!((euros(&env("crise")["fixed_eur"]), euros(&env("crise")["variable_eur"])), (17_500.0, 0.0));
    assert_eq!(euros(&v["total_eur"]), 60_000.0 + 85_000.0 + 17_500.0);
    assert_eq!(v["contract_year"], 3);
    assert_eq!(v["size"], 2);
    assert_eq!(v["rule_set"], "avenant-2");
    assert!(v["population_change_rule"]["description"].as_str().unwrap().contains("threshold"));
}

#[test]
fn simulate_every_contract_year() {
    for year in 1..=5 {
        let y = year.to_string();
        let v = json(&["aci", "simulate", "--size", "1", "--contract-year", &y, "--format", "json"]);
        let expected = if year == 1 { 250_000.0 } else { 237_500.0 }; // plan (25,000) or update (12,500), no crisis
        assert_eq!(euros(&v["total_eur"]), expected, "year {year}");
    }
    fails_with(&["aci", "simulate", "--size", "1", "--contract-year", "0"], "contract year 0");
    fails_with(&["aci", "simulate", "--size", "1", "--contract-year", "6"], "1..=5");
}

#[test]
fn simulate_by_population_uses_the_rule_set_thresholds() {
    let v = json(&["aci", "simulate", "--population", "80000", "--format", "json"]);
    assert_eq!(v["size"], 3);
    let v = json(&["aci", "simulate", "--population", "39999", "--format", "json"]);
    assert_eq!(v["size"], 1);
}

#[test]
fn simulate_the_2019_text() {
    let v = json(&["aci", "simulate", "--rules", "aci-2019", "--size", "4", "--format", "json"]);
    assert_eq!(euros(&v["total_eur"]), 380_000.0);
    assert_eq!(euros(&v["published_maximum_eur"]), 450_000.0);
    assert!(!v["unverified"].as_array().unwrap().is_empty());
    let crise = v["envelopes"].as_array().unwrap().iter().find(|e| e["mission"] == "crise").cloned().unwrap();
    assert_eq!(euros(&crise["total_eur"]), 0.0, "no crisis mission in 2019");
}

#[test]
fn bad_arguments_exit_2_with_a_clear_message() {
    fails_with(&["aci", "simulate", "--rules", "avenant-9", "--size", "1"], "unknown rule set `avenant-9`");
    fails_with(&["aci", "simulate", "--size", "1", "--missions", "acces,urgences"], "unknown mission `urgences`");
    fails_with(&["aci", "simulate", "--size", "5"], "--size");
    fails_with(&["aci", "simulate", "--size", "0"], "--size");
    fails_with(&["aci", "simulate", "--size", "1", "--achievement", "120%"], "achievement");
    fails_with(&["aci", "simulate", "--size", "1", "--missions", ""], "--missions");
    fails_with(&["aci", "simulate"], "--size");
    fails_with(&["aci", "rules", "nope"], "unknown rule set");
}

#[test]
fn a_rule_set_file_is_validated_with_its_position() {
    let src = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/aci/avenant-2.toml");
    let text = std::fs::read_to_string(src).unwrap();
    let dir = std::env::temp_dir().join(format!("maillage-aci-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // A new text version is a new file: it loads without code.
    let new = dir.join("avenant-3.toml");
    std::fs::write(&new, text.replace("id = \"avenant-2\"", "id = \"avenant-3\"")).unwrap();
    let v = json(&["aci", "simulate", "--rules", new.to_str().unwrap(), "--size", "4", "--crisis", "--format", "json"]);
    assert_eq!(euros(&v["total_eur"]), 580_000.0);
    assert_eq!(v["rule_set"], "avenant-3");
    // A faulty one is refused with file:line:column, key and reason.
    let bad = dir.join("avenant-2.toml");
    std::fs::write(&bad, text.replace("[10_000, 15_000, 17_500, 20_000]", "[10_000, 15_000, 17_500]")).unwrap();
    let line = text.lines().position(|l| l.contains("[10_000, 15_000, 17_500, 20_000]")).unwrap() + 1;
    fails_with(&["aci", "rules", bad.to_str().unwrap()], &format!("avenant-2.toml:{line}:"));
    fails_with(&["aci", "rules", bad.to_str().unwrap()], "missions.prevention.fixed.amounts: expected 4 amounts");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn tables_are_readable() {
    let out = maillage(&["aci", "simulate", "--size", "3", "--crisis"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("taille 3") && text.contains("487\u{202f}500.00"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("acces") && l.contains("90\u{202f}000.00") && l.contains("35\u{202f}000.00")),
        "{text}"
    );
    let out = maillage(&["aci", "rules", "avenant-2"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("crise plan, year 1") && text.contains("580\u{202f}000.00") && text.contains("seed-004"),
        "{text}"
    );
    let out = maillage(&["aci", "rules", "--format", "json"]);
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 2);
}
