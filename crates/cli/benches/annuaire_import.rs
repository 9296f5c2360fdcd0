//! Import of a national-size Annuaire Santé extract for one territory, against polars and
//! DuckDB reading and filtering the same file (see docs/benchmarks.md).
//!
//! `cargo bench -p maillage-cli --bench annuaire_import` — generates `target/bench-data/
//! annuaire-2M.txt` (2,000,000 lines, the real column layout, fictitious people) once, then:
//! ours = parse + filter + group + upsert into a fresh SQLite database (the `maillage import
//! annuaire` path), three runs, and a re-import of the same file; peers = `tools/bench/
//! annuaire_peers.py` (polars `scan_csv(...).filter(is_in).collect()`, DuckDB `read_csv ...
//! WHERE IN`), parse + filter only, three runs each. Prints a Markdown table with the ratios.

use maillage_core::directory::collect::collect_with_counts;
use maillage_core::directory::filter::TerritoryFilter;
use maillage_core::ids::InseeCode;
use maillage_core::refdata::Reference;
use maillage_core::territory::Territory;
use maillage_store::{AnnuaireImport, AuditEvent, CptsStore, DirectoryStore, NewCpts};
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Blois and its eight neighbours (the demo CPTS).
const TERRITORY: [&str; 9] = ["41018", "41032", "41047", "41055", "41142", "41212", "41230", "41276", "41295"];
const LINES: u64 = 2_000_000;
const RUNS: usize = 3;

fn data_file() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-data");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("annuaire-2M.txt");
    if !path.exists() {
        let reference = Reference::embedded();
        let communes = maillage_core::directory::synth::france_communes(reference);
        let tmp = path.with_extension("tmp");
        let f = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&tmp).unwrap());
        maillage_core::directory::synth::write_extract(f, LINES, 2026, &communes).unwrap();
        std::fs::rename(&tmp, &path).unwrap();
    }
    path
}

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn audit(cpts: &maillage_core::access::CptsId, n: usize) -> AuditEvent {
    AuditEvent {
        cpts_id: Some(cpts.clone()),
        id: format!("bench-{n}"),
        at: chrono::DateTime::UNIX_EPOCH,
        account_id: None,
        account_label: "bench".into(),
        role: "system".into(),
        action: "import".into(),
        object_type: "directory".into(),
        object_id: String::new(),
        request_id: "bench".into(),
        detail: String::new(),
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let path = data_file();
    let size_mb = std::fs::metadata(&path).unwrap().len() as f64 / 1e6;
    let reference = Reference::embedded();
    let territory = Territory::new(reference, TERRITORY).unwrap();
    let filter = TerritoryFilter::new(&territory, 0.0);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();

    let mut ours = Vec::new();
    let mut reimport = Vec::new();
    let mut kept = 0;
    let mut professionals = 0;
    for run in 0..RUNS {
        let dir = std::env::temp_dir().join(format!("maillage-bench-annuaire-{}-{run}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite:{}", dir.join("bench.sqlite").display());
        runtime.block_on(async {
            let store = maillage_store::connect(&url).await.unwrap();
            let codes = TERRITORY.iter().map(|c| InseeCode::parse(c).unwrap()).collect();
            let cpts = store
                .create_cpts(
                    &NewCpts { name: "CPTS du Blaisois".into(), communes: codes },
                    chrono::DateTime::UNIX_EPOCH,
                )
                .await
                .unwrap();
            for (i, times) in [&mut ours, &mut reimport].into_iter().enumerate() {
                let start = Instant::now();
                let file = std::fs::File::open(&path).unwrap();
                let reader = BufReader::with_capacity(1 << 20, file);
                let collected = collect_with_counts(reader, &filter, &["41".to_owned()], 0, |_| {}).unwrap();
                assert_eq!(collected.stats.rejected, 0);
                let import = AnnuaireImport {
                    id: format!("import-{i}"),
                    source: "annuaire",
                    file_name: "annuaire-2M.txt".into(),
                    lines_read: collected.lines_read,
                    professionals: &collected.professionals,
                    departement_counts: Some(&collected.departement_counts),
                };
                let outcome = store
                    .apply_import(&cpts.id, &import, chrono::DateTime::UNIX_EPOCH, &audit(&cpts.id, i))
                    .await
                    .unwrap();
                times.push(start.elapsed().as_secs_f64());
                if i == 1 {
                    assert_eq!(outcome.unchanged as usize, collected.professionals.len(), "re-import changes nothing");
                }
                kept = collected.stats.kept();
                professionals = collected.professionals.len();
            }
            store.close().await;
        });
        std::fs::remove_dir_all(&dir).unwrap();
    }
    let rss = peak_rss_mb();

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tools/bench/annuaire_peers.py");
    let output = std::process::Command::new("python3")
        .arg(&script)
        .arg(&path)
        .arg(TERRITORY.join(","))
        .args(["--repeat", &RUNS.to_string()])
        .output()
        .expect("python3 runs the peers");
    let peers: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|_| {
        panic!("peers: {}", String::from_utf8_lossy(&output.stderr));
    });

    let ours_median = median(&mut ours.clone());
    println!(
        "file: {LINES} lines, {size_mb:.0} MB; territory: {} communes; kept {kept} lines, {professionals} professionals; peak RSS {rss:.0} MB",
        TERRITORY.len()
    );
    println!();
    println!("| what | runs (s) | median (s) | rows kept | median ÷ ours |");
    println!("|---|---|---:|---:|---:|");
    let fmt = |v: &[f64]| v.iter().map(|s| format!("{s:.2}")).collect::<Vec<_>>().join(", ");
    println!("| maillage: parse + filter + upsert into SQLite | {} | {ours_median:.2} | {kept} | 1.00 |", fmt(&ours));
    println!(
        "| maillage: re-import, nothing changes | {} | {:.2} | {kept} | {:.2} |",
        fmt(&reimport),
        median(&mut reimport.clone()),
        median(&mut reimport.clone()) / ours_median
    );
    for name in ["polars", "duckdb"] {
        let p = &peers[name];
        match p["seconds"].as_array() {
            Some(runs) => {
                let mut secs: Vec<f64> = runs.iter().filter_map(serde_json::Value::as_f64).collect();
                let m = median(&mut secs);
                println!(
                    "| {name} {} (parse + filter only) | {} | {m:.2} | {} | {:.2} |",
                    p["version"].as_str().unwrap_or("?"),
                    fmt(&secs),
                    p["rows"],
                    m / ours_median
                );
            }
            None => println!("| {name} | — | — | — | {} |", p["error"]),
        }
    }
}
