//! `maillage import annuaire` as a coordinator's IT person runs it: a fictitious extract with the
//! real layout in, the territory's professionals stored once, re-import idempotent, a broken
//! file refused with its line and column and nothing written.

use maillage_store::{CptsStore, DirectoryQuery, DirectoryStore, NewCpts};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn maillage(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_maillage"))
        .args(args)
        .env_remove("MAILLAGE_DATA_DIR")
        .env_remove("MAILLAGE_DATABASE_URL")
        .output()
        .expect("maillage runs")
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("maillage-cli-import-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A data directory with the CPTS du Blaisois (Blois, Vineuil); returns its id.
async fn cpts_in(dir: &Path) -> String {
    std::fs::create_dir_all(dir).unwrap();
    let store = maillage_store::connect(&format!("sqlite:{}", dir.join("maillage.sqlite").display())).await.unwrap();
    let communes = ["41018", "41295"].iter().map(|c| maillage_core::ids::InseeCode::parse(c).unwrap()).collect();
    let cpts = store
        .create_cpts(&NewCpts { name: "CPTS du Blaisois".into(), communes }, chrono::DateTime::UNIX_EPOCH)
        .await
        .unwrap();
    store.close().await;
    cpts.id.to_string()
}

async fn directory_size(dir: &Path, cpts: &str) -> u64 {
    let store = maillage_store::connect(&format!("sqlite:{}", dir.join("maillage.sqlite").display())).await.unwrap();
    let id = maillage_core::access::CptsId::parse(cpts).unwrap();
    let (_, total) = store.search_directory(&id, &DirectoryQuery { limit: 1, ..Default::default() }).await.unwrap();
    store.close().await;
    total
}

#[tokio::test]
async fn imports_the_territory_once_and_refuses_a_broken_file_whole() {
    let dir = temp_dir("story");
    let data = dir.join("data");
    let id = cpts_in(&data).await;
    // 30,000 lines over Loir-et-Cher and a few other communes.
    let extract = dir.join("PS_LibreAcces_Personne_activite_202611240000.txt");
    let out = maillage(&[
        "directory",
        "synth",
        "--lines",
        "30000",
        "--seed",
        "7",
        "--out",
        &s(&extract),
        "--communes",
        "41018,41295,41269,41047,75056,69123,35238",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let args = ["import", "annuaire", &s(&extract), "--cpts", &id, "--data-dir", &s(&data), "--format", "json"];
    let out = maillage(&args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let first: Value = serde_json::from_slice(&out.stdout).unwrap();
    let professionals = first["professionals"].as_u64().unwrap();
    assert!(professionals > 300, "{first}");
    assert_eq!(first["lines_read"], 30_001);
    assert_eq!(first["rejected"], 0);
    assert_eq!(first["outcome"]["inserted"].as_u64(), Some(professionals));
    assert_eq!(directory_size(&data, &id).await, professionals);

    // The same file again: nothing changes.
    let again: Value = serde_json::from_slice(&maillage(&args).stdout).unwrap();
    assert_eq!(again["outcome"]["unchanged"].as_u64(), Some(professionals), "{again}");
    assert_eq!(again["outcome"]["inserted"], 0);

    // Exports: one CSV line per place, one vCard per professional, a FHIR Bundle that an
    // independent validator accepts.
    let csv = maillage(&["export", "directory", "--cpts", &id, "--data-dir", &s(&data), "--format", "csv"]);
    assert!(csv.status.success(), "{}", String::from_utf8_lossy(&csv.stderr));
    let csv = String::from_utf8(csv.stdout).unwrap();
    assert!(csv.starts_with("\u{feff}identifiant_national,"));
    assert!(csv.lines().count() as u64 > professionals, "a line per place");
    let vcard = maillage(&["export", "directory", "--cpts", &id, "--data-dir", &s(&data), "--format", "vcard"]);
    let vcard = String::from_utf8(vcard.stdout).unwrap();
    assert_eq!(vcard.matches("BEGIN:VCARD").count() as u64, professionals);
    let fhir = dir.join("directory.fhir.json");
    let out = maillage(&[
        "export",
        "directory",
        "--cpts",
        &id,
        "--data-dir",
        &s(&data),
        "--format",
        "fhir",
        "--out",
        &s(&fhir),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let bundle: Value = serde_json::from_str(&std::fs::read_to_string(&fhir).unwrap()).unwrap();
    assert_eq!(bundle["resourceType"], "Bundle");
    let practitioners =
        bundle["entry"].as_array().unwrap().iter().filter(|e| e["resource"]["resourceType"] == "Practitioner");
    assert_eq!(practitioners.count() as u64, professionals);
    validate_fhir(&fhir);
    let out = maillage(&["territory", "--communes", "41018", "--format", "csv"]);
    assert_eq!(out.status.code(), Some(2), "export formats belong to `maillage export`");

    // A broken line in the territory (an RPPS of 10 digits) and a line cut short: refused with
    // line and column, and nothing is written — not even the good lines.
    let text = std::fs::read_to_string(&extract).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let blois: Vec<usize> = (1..lines.len()).filter(|&i| lines[i].contains("|41018|")).take(2).collect();
    let fields: Vec<&str> = lines[blois[0]].split('|').collect();
    let mut broken = fields.clone();
    broken[1] = "1000123456";
    broken[2] = "81000123456";
    lines[blois[0]] = broken.join("|");
    let cut: Vec<&str> = lines[blois[1]].split('|').take(40).collect();
    lines[blois[1]] = cut.join("|");
    let bad = dir.join("broken.txt");
    std::fs::write(&bad, lines.join("\n") + "\n").unwrap();
    let other = temp_dir("broken-data");
    let other_id = cpts_in(&other).await;
    let out =
        maillage(&["import", "annuaire", &s(&bad), "--cpts", &other_id, "--data-dir", &s(&other), "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["written"], false);
    let rejects = report["rejects"].as_array().unwrap();
    assert_eq!(rejects.len(), 2, "{report}");
    assert_eq!(rejects[0]["line"].as_u64(), Some(blois[0] as u64 + 1), "1-based line numbers, header = 1");
    assert_eq!(rejects[0]["column"], "Identifiant PP");
    assert_eq!(rejects[1]["line"].as_u64(), Some(blois[1] as u64 + 1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing was imported"));
    assert_eq!(directory_size(&other, &other_id).await, 0, "an import is atomic");

    // A header without the commune column names it.
    let headless = dir.join("no-commune.txt");
    std::fs::write(&headless, text.replacen("Code commune (coord. structure)", "Commune", 1)).unwrap();
    let out = maillage(&["import", "annuaire", &s(&headless), "--cpts", &id, "--data-dir", &s(&data)]);
    assert_ne!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Code commune"), "{}", String::from_utf8_lossy(&out.stderr));

    // An unknown CPTS.
    let out = maillage(&[
        "import",
        "annuaire",
        &s(&extract),
        "--cpts",
        "00000000-0000-4000-8000-000000000000",
        "--data-dir",
        &s(&data),
    ]);
    assert_eq!(out.status.code(), Some(1));
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::remove_dir_all(&other).unwrap();
}

/// Runs the independent FHIR validator (tools/fhir-validate, installed by scripts/test). Without
/// it the check is skipped locally and fails under CI.
fn validate_fhir(file: &Path) {
    let tool = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tools/fhir-validate");
    if !tool.join("node_modules").exists() {
        assert!(std::env::var_os("CI").is_none(), "CI must install the FHIR validator (scripts/test does)");
        eprintln!("skipping FHIR validation: run scripts/test (or npm ci in tools/fhir-validate)");
        return;
    }
    let out = Command::new("node").arg(tool.join("validate.js")).arg(file).output().expect("node runs");
    assert!(
        out.status.success(),
        "FHIR validation failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
