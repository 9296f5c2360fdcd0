//! `maillage import members` and `maillage export directory --format xlsx` as a coordinator
//! runs them: a directory imported from a fictitious extract, a member list in CSV then in XLSX
//! naming some of its professionals, broken lists refused whole with line and column, the
//! directory exported to XLSX and read back.

use calamine::Reader;
use maillage_core::directory::model::MembershipStatus;
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

fn url(data: &Path) -> String {
    format!("sqlite:{}", data.join("maillage.sqlite").display())
}

/// A data directory with a CPTS over Blois whose directory holds a synthetic extract; returns
/// the CPTS id and the national ids of the directory (name order).
async fn directory(name: &str) -> (PathBuf, String, Vec<String>) {
    let dir = std::env::temp_dir().join(format!("maillage-cli-members-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let data = dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    let store = maillage_store::connect(&url(&data)).await.unwrap();
    let communes = vec![maillage_core::ids::InseeCode::parse("41018").unwrap()];
    let cpts = store
        .create_cpts(&NewCpts { name: "CPTS de Blois".into(), communes }, chrono::DateTime::UNIX_EPOCH)
        .await
        .unwrap();
    let extract = dir.join("extract.txt");
    let out = maillage(&["directory", "synth", "--communes", "41018", "--lines", "300", "--out", &s(&extract)]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let id = cpts.id.to_string();
    let out = maillage(&["import", "annuaire", &s(&extract), "--cpts", &id, "--data-dir", &s(&data)]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (rows, _) =
        store.search_directory(&cpts.id, &DirectoryQuery { limit: 500, ..Default::default() }).await.unwrap();
    store.close().await;
    let ids: Vec<String> = rows.iter().map(|r| r.national_id.to_string()).collect();
    assert!(ids.len() > 20, "{ids:?}");
    (dir, id, ids)
}

/// The bare number as member lists carry it: RPPS without its `8`, ADELI without its `0`.
fn bare(national: &str) -> &str {
    &national[1..]
}

async fn membership(data: &Path, cpts: &str, national_id: &str) -> Option<maillage_core::directory::model::Membership> {
    let store = maillage_store::connect(&url(data)).await.unwrap();
    let id = maillage_core::access::CptsId::parse(cpts).unwrap();
    let entry = store.directory_entry(&id, national_id).await.unwrap();
    store.close().await;
    entry.membership
}

#[tokio::test]
async fn imports_a_csv_then_an_xlsx_member_list_atomically() {
    let (dir, cpts, ids) = directory("story").await;
    let data = s(&dir.join("data"));

    // CSV from a French spreadsheet: `;`, BOM, accents in headers.
    let csv = dir.join("adherents.csv");
    std::fs::write(
        &csv,
        format!(
            "\u{feff}Nom;N° RPPS;Date d'adhésion;Statut;Cotisation payée jusqu'au;Référent;Rôle au bureau\r\n\
             A;{};15/03/2023;actif;31/12/2026;oui;Présidente\r\n\
             B;{};2024-01-10;suspendu;;non;\r\n\
             C;{};;;;;\r\n",
            bare(&ids[0]),
            ids[1],
            bare(&ids[2]),
        ),
    )
    .unwrap();
    // A dry run writes nothing.
    let out = maillage(&["import", "members", &s(&csv), "--cpts", &cpts, "--data-dir", &data, "--dry-run"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(membership(&dir.join("data"), &cpts, &ids[0]).await, None);

    let out = maillage(&["import", "members", &s(&csv), "--cpts", &cpts, "--data-dir", &data, "--format", "json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["outcome"]["created"], 3, "{report}");
    assert_eq!(report["written"], true);
    let first = membership(&dir.join("data"), &cpts, &ids[0]).await.unwrap();
    assert_eq!(first.joined_on, chrono::NaiveDate::from_ymd_opt(2023, 3, 15).unwrap());
    assert!(first.profession_referent);
    assert_eq!(first.board_role.as_deref(), Some("Présidente"));
    assert_eq!(membership(&dir.join("data"), &cpts, &ids[1]).await.unwrap().status, MembershipStatus::Suspended);

    // XLSX with its own headers, a date cell, the RPPS as a number, mapped with --map.
    let xlsx = dir.join("adherents.xlsx");
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("Adhérents").unwrap();
    sheet.write_string(0, 0, "Numéro pro").unwrap();
    sheet.write_string(0, 1, "Entrée").unwrap();
    sheet.write_string(0, 2, "Statut").unwrap();
    sheet.write_string(1, 0, bare(&ids[0])).unwrap();
    let date = rust_xlsxwriter::ExcelDateTime::from_ymd(2022, 9, 1).unwrap();
    let fmt = rust_xlsxwriter::Format::new().set_num_format("dd/mm/yyyy");
    sheet.write_datetime_with_format(1, 1, &date, &fmt).unwrap();
    sheet.write_string(1, 2, "actif").unwrap();
    sheet.write_string(2, 0, bare(&ids[3])).unwrap();
    sheet.write_string(2, 1, "01/02/2025").unwrap();
    sheet.write_string(2, 2, "parti").unwrap();
    book.save(&xlsx).unwrap();
    let args = [
        "import",
        "members",
        &s(&xlsx),
        "--cpts",
        &cpts,
        "--data-dir",
        &data,
        "--sheet",
        "Adhérents",
        "--map",
        "national_id=Numéro pro",
        "--map",
        "joined_on=entree",
        "--format",
        "json",
    ];
    let out = maillage(&args);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((report["outcome"]["created"].as_u64(), report["outcome"]["updated"].as_u64()), (Some(1), Some(1)));
    let first = membership(&dir.join("data"), &cpts, &ids[0]).await.unwrap();
    assert_eq!(first.joined_on, chrono::NaiveDate::from_ymd_opt(2022, 9, 1).unwrap());
    assert!(!first.profession_referent, "a list without the column says no");
    let gone = membership(&dir.join("data"), &cpts, &ids[3]).await.unwrap();
    assert_eq!(gone.status, MembershipStatus::Left);

    // Broken lists: every bad cell reported, nothing written.
    let broken = dir.join("casse.csv");
    std::fs::write(
        &broken,
        format!("RPPS,Statut,Date d'adhésion\n{},actif,\n1234,peut-être,32/01/2024\n{},actif,\n", ids[4], ids[4]),
    )
    .unwrap();
    let out = maillage(&["import", "members", &s(&broken), "--cpts", &cpts, "--data-dir", &data, "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let got: Vec<(u64, &str)> = report["rejects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["line"].as_u64().unwrap(), r["column"].as_str().unwrap()))
        .collect();
    assert_eq!(got, [(3, "RPPS"), (3, "Date d'adhésion"), (3, "Statut"), (4, "RPPS")], "{report}");
    assert_eq!(membership(&dir.join("data"), &cpts, &ids[4]).await, None);

    // A professional outside the directory: refused whole, the line named.
    let unknown = dir.join("inconnu.csv");
    std::fs::write(&unknown, format!("RPPS\n{}\n99999999999\n", bare(&ids[5]))).unwrap();
    let out = maillage(&["import", "members", &s(&unknown), "--cpts", &cpts, "--data-dir", &data]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("899999999999") && err.contains("not in the directory"), "{err}");
    assert_eq!(membership(&dir.join("data"), &cpts, &ids[5]).await, None);

    // Not UTF-8: read as Windows-1252 (Excel's French default), accents kept in the report;
    // bytes that neither explains are refused, the line named.
    let latin1 = dir.join("latin1.csv");
    std::fs::write(&latin1, b"RPPS;Statut\n10001234567;r\xe9sili\xe9\n").unwrap();
    let out = maillage(&["import", "members", &s(&latin1), "--cpts", &cpts, "--data-dir", &data, "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["rejects"][0]["line"], 2, "{report}");
    assert!(report["rejects"][0]["raison"].as_str().unwrap().contains("« résilié »"), "{report}");
    let garbled = dir.join("garbled.csv");
    std::fs::write(&garbled, b"RPPS;Statut\n10001234567;r\x81\n").unwrap();
    let out = maillage(&["import", "members", &s(&garbled), "--cpts", &cpts, "--data-dir", &data]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 2"));

    // No column for the identifier.
    let out =
        maillage(&["import", "members", &s(&xlsx), "--cpts", &cpts, "--data-dir", &data, "--map", "bogus=Statut"]);
    assert_eq!(out.status.code(), Some(2));
    let out = maillage(&["import", "members", &s(&xlsx), "--cpts", &cpts, "--data-dir", &data]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--map national_id"));

    // Export to XLSX and read it back.
    let out = maillage(&["export", "directory", "--cpts", &cpts, "--data-dir", &data, "--format", "xlsx"]);
    assert_eq!(out.status.code(), Some(2), "xlsx needs --out");
    let exported = dir.join("annuaire.xlsx");
    let out = maillage(&[
        "export",
        "directory",
        "--cpts",
        &cpts,
        "--data-dir",
        &data,
        "--format",
        "xlsx",
        "--out",
        &s(&exported),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut book: calamine::Xlsx<_> = calamine::open_workbook(&exported).unwrap();
    let range = book.worksheet_range("Annuaire").unwrap();
    let rows: Vec<Vec<String>> = range.rows().map(|r| r.iter().map(|c| c.to_string()).collect()).collect();
    assert_eq!(rows[0][0], "identifiant_national");
    assert_eq!(rows[0][7], "adherent");
    let exported_ids: std::collections::BTreeSet<&str> = rows[1..].iter().map(|r| r[0].as_str()).collect();
    assert_eq!(exported_ids.len(), ids.len());
    let member_row = rows.iter().find(|r| r[0] == ids[0]).unwrap();
    assert_eq!(member_row[7], "oui");
    let csv_out = maillage(&["export", "directory", "--cpts", &cpts, "--data-dir", &data, "--format", "csv"]);
    let csv_lines = String::from_utf8_lossy(&csv_out.stdout).lines().count();
    assert_eq!(csv_lines, rows.len(), "the same rows as the CSV");
    let _ = std::fs::remove_dir_all(&dir);
}
