//! `maillage export directory`: the territory's directory as users see it (imported values with
//! local corrections applied), in CSV or XLSX (spreadsheets), vCard 4.0 (address books) or a FHIR R4
//! Bundle (other health information systems).

use super::serve::Args as ServerArgs;
use crate::commands::import::cpts_or_exit;
use maillage_core::directory::fhir::directory_bundle;
use maillage_core::directory::model::{EffectiveProfessional, effective};
use maillage_store::{DirectoryQuery, DirectoryStore, Store};
use maillage_web::app::csv_cell as cell;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Xlsx,
    Vcard,
    Fhir,
}

#[derive(clap::Subcommand, Debug)]
pub enum ExportCommand {
    /// The directory of a CPTS (with `--format csv`, `xlsx`, `vcard` or `fhir`).
    Directory {
        /// CPTS id.
        #[arg(long)]
        cpts: String,
        /// Output file (default: standard output; required with `--format xlsx`).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Also export the professionals who left the national extract.
        #[arg(long)]
        include_left: bool,
        /// Base URL of the FHIR resources (`fullUrl`s).
        #[arg(long, default_value = "https://maillage.invalid/fhir")]
        fhir_base: String,
        #[command(flatten)]
        server: ServerArgs,
    },
}

/// Every professional of the directory, effective values, in name order.
async fn effective_directory(
    store: &Store,
    cpts: &maillage_core::access::CptsId,
    include_left: bool,
) -> Result<Vec<(EffectiveProfessional, bool)>, Box<dyn std::error::Error>> {
    let mut out = Vec::new();
    let mut offset = 0;
    loop {
        let q = DirectoryQuery { include_left, offset, limit: 500, ..Default::default() };
        let (rows, total) = store.search_directory(cpts, &q).await?;
        for row in &rows {
            let entry = store.directory_entry(cpts, &row.national_id).await?;
            out.push((effective(&entry.professional, &entry.corrections), row.member));
        }
        offset += rows.len() as u32;
        if rows.is_empty() || u64::from(offset) >= total {
            return Ok(out);
        }
    }
}

fn opt(s: &Option<String>) -> &str {
    s.as_deref().unwrap_or("")
}

fn yes_no(v: Option<bool>) -> &'static str {
    match v {
        Some(true) => "oui",
        Some(false) => "non",
        None => "",
    }
}

/// The columns of the CSV and XLSX exports.
pub const COLUMNS: [&str; 20] = [
    "identifiant_national",
    "civilite",
    "nom",
    "prenom",
    "code_profession",
    "profession",
    "specialites",
    "adherent",
    "mssante",
    "soins_non_programmes",
    "lieu",
    "structure",
    "adresse",
    "complement",
    "code_postal",
    "code_commune",
    "commune",
    "telephone",
    "courriel",
    "mode_exercice",
];

/// One line per practice place (a professional without place: one line); UTF-8 with BOM.
pub fn to_csv(list: &[(EffectiveProfessional, bool)]) -> String {
    let mut out = format!("\u{feff}{}\r\n", COLUMNS.join(","));
    for row in rows(list) {
        let row: Vec<String> = row.iter().map(|c| cell(c)).collect();
        out.push_str(&row.join(","));
        out.push_str("\r\n");
    }
    out
}

/// The same rows as the CSV, in an XLSX workbook (text cells, bold frozen header).
pub fn to_xlsx(list: &[(EffectiveProfessional, bool)]) -> Result<Vec<u8>, maillage_office::OfficeError> {
    maillage_office::write_xlsx("Annuaire", &COLUMNS, &rows(list))
}

/// The [`COLUMNS`] of every professional, one row per practice place.
fn rows(list: &[(EffectiveProfessional, bool)]) -> Vec<Vec<String>> {
    let mut out = Vec::with_capacity(list.len());
    for (p, member) in list {
        let head = [
            p.national_id.to_string(),
            p.civility.clone().unwrap_or_default(),
            p.family_name.clone(),
            p.given_name.clone(),
            p.profession_code.clone(),
            p.profession_label.clone().unwrap_or_default(),
            p.specialties.iter().map(|s| s.label.as_str()).collect::<Vec<_>>().join(" ; "),
            if *member { "oui" } else { "non" }.to_owned(),
            opt(&p.mssante.value).to_owned(),
            yes_no(p.snp_participant.value).to_owned(),
        ];
        let places: Vec<[String; 10]> = if p.places.is_empty() {
            vec![Default::default()]
        } else {
            p.places
                .iter()
                .map(|pl| {
                    [
                        pl.key.clone(),
                        pl.structure.name.clone().unwrap_or_default(),
                        opt(&pl.address_line1.value).to_owned(),
                        opt(&pl.address_line2.value).to_owned(),
                        opt(&pl.postal_code.value).to_owned(),
                        pl.commune_code.value.map(|c| c.as_str().to_owned()).unwrap_or_default(),
                        pl.commune_label.clone().unwrap_or_default(),
                        opt(&pl.phone.value).to_owned(),
                        opt(&pl.email.value).to_owned(),
                        pl.exercise_mode.value.fr().to_owned(),
                    ]
                })
                .collect()
        };
        for place in places {
            out.push(head.iter().chain(place.iter()).cloned().collect());
        }
    }
    out
}

/// vCard text value escaping (RFC 6350 §3.4).
fn v(s: &str) -> String {
    s.replace('\\', "\\\\").replace(',', "\\,").replace(';', "\\;").replace('\n', "\\n")
}

/// One vCard 4.0 per professional.
pub fn to_vcard(list: &[(EffectiveProfessional, bool)]) -> String {
    let mut out = String::new();
    for (p, _) in list {
        let fn_ = format!("{} {}", p.given_name, p.family_name);
        out.push_str("BEGIN:VCARD\r\nVERSION:4.0\r\n");
        out.push_str(&format!("FN:{}\r\n", v(fn_.trim())));
        out.push_str(&format!("N:{};{};;{};\r\n", v(&p.family_name), v(&p.given_name), v(opt(&p.civility))));
        if let Some(label) = &p.profession_label {
            out.push_str(&format!("TITLE:{}\r\n", v(label)));
        }
        out.push_str(&format!("UID:urn:oid:1.2.250.1.71.4.2.1:{}\r\n", p.national_id));
        if let Some(m) = &p.mssante.value {
            out.push_str(&format!("EMAIL;TYPE=work;PREF=1:{}\r\n", v(m)));
        }
        for pl in &p.places {
            if let Some(name) = &pl.structure.name {
                out.push_str(&format!("ORG:{}\r\n", v(name)));
            }
            let street = [opt(&pl.address_line1.value), opt(&pl.address_line2.value)]
                .iter()
                .filter(|s| !s.is_empty())
                .copied()
                .collect::<Vec<_>>()
                .join(", ");
            out.push_str(&format!(
                "ADR;TYPE=work:;;{};{};;{};France\r\n",
                v(&street),
                v(pl.commune_label.as_deref().unwrap_or("")),
                v(opt(&pl.postal_code.value))
            ));
            if let Some(t) = &pl.phone.value {
                out.push_str(&format!("TEL;TYPE=work,voice;VALUE=uri:tel:{}\r\n", v(t)));
            }
            if let Some(e) = &pl.email.value {
                out.push_str(&format!("EMAIL;TYPE=work:{}\r\n", v(e)));
            }
        }
        out.push_str("END:VCARD\r\n");
    }
    out
}

pub fn run(command: &ExportCommand, format: Option<ExportFormat>) -> crate::CliResult {
    let ExportCommand::Directory { cpts, out, include_left, fhir_base, server } = command;
    let Some(format) = format else {
        eprintln!("error: choose the export format: --format csv, xlsx, vcard or fhir");
        return Ok(ExitCode::from(2));
    };
    if format == ExportFormat::Xlsx && out.as_ref().is_none_or(|p| p.as_os_str() == "-") {
        eprintln!("error: --format xlsx writes a file: name it with --out FILE.xlsx");
        return Ok(ExitCode::from(2));
    }
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let store = maillage_store::connect(&server.database_url()).await?;
        let Some(record) = cpts_or_exit(&store, cpts).await? else { return Ok(ExitCode::from(1)) };
        let list = effective_directory(&store, &record.id, *include_left).await?;
        store.close().await;
        let text: Vec<u8> = match format {
            ExportFormat::Csv => to_csv(&list).into_bytes(),
            ExportFormat::Xlsx => to_xlsx(&list)?,
            ExportFormat::Vcard => to_vcard(&list).into_bytes(),
            ExportFormat::Fhir => {
                #[allow(clippy::disallowed_methods)] // the CLI is the edge where time enters
                let now = chrono::Utc::now();
                let professionals: Vec<EffectiveProfessional> = list.into_iter().map(|(p, _)| p).collect();
                let bundle = directory_bundle(&professionals, now, fhir_base).map_err(|e| e.to_string())?;
                (serde_json::to_string_pretty(&bundle)? + "\n").into_bytes()
            }
        };
        match out {
            Some(path) => std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?,
            // A reader that stops early (`| head`) is not an error.
            None => match std::io::stdout().lock().write_all(&text) {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
                other => other?,
            },
        }
        Ok(ExitCode::SUCCESS)
    })
}
