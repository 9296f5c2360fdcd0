//! The directory as files: the effective values (imported, with the local corrections applied)
//! in CSV or XLSX (spreadsheets), vCard 4.0 (address books) or a FHIR R4 Bundle (other health
//! information systems). Pure rendering, shared by the web (`/cpts/{id}/annuaire/export`, the
//! API) and `maillage export directory`.

use crate::app::csv_cell as cell;
use chrono::{DateTime, Utc};
use maillage_core::directory::fhir::directory_bundle;
use maillage_core::directory::model::{EffectiveProfessional, effective};
use maillage_store::DirectoryEntry;

/// The formats of the directory export.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Xlsx,
    Vcard,
    Fhir,
}

impl ExportFormat {
    pub const ALL: [Self; 4] = [Self::Csv, Self::Xlsx, Self::Vcard, Self::Fhir];

    /// `csv`, `xlsx`, `vcard` (also `vcf`) or `fhir` (also `json`), case ignored.
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "csv" => Some(Self::Csv),
            "xlsx" => Some(Self::Xlsx),
            "vcard" | "vcf" => Some(Self::Vcard),
            "fhir" | "json" => Some(Self::Fhir),
            _ => None,
        }
    }

    /// The name used in URLs and on the command line.
    pub fn key(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Xlsx => "xlsx",
            Self::Vcard => "vcard",
            Self::Fhir => "fhir",
        }
    }

    /// The file name's extension.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Xlsx => "xlsx",
            Self::Vcard => "vcf",
            Self::Fhir => "json",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Csv => "text/csv; charset=utf-8",
            Self::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Self::Vcard => "text/vcard; charset=utf-8",
            Self::Fhir => "application/fhir+json",
        }
    }

    /// How the pages name it.
    pub fn label_fr(self) -> &'static str {
        match self {
            Self::Csv => "CSV (tableur)",
            Self::Xlsx => "Excel (XLSX)",
            Self::Vcard => "vCard (carnet d'adresses)",
            Self::Fhir => "FHIR R4 (JSON)",
        }
    }
}

/// The effective professionals of a bulk read, each with whether they are an active member.
pub fn effective_list(entries: &[DirectoryEntry]) -> Vec<(EffectiveProfessional, bool)> {
    entries.iter().map(|e| (effective(&e.professional, &e.corrections), e.is_member())).collect()
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

/// One line per practice place (a professional without place: one line); UTF-8 with BOM,
/// formulas neutralised.
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
pub fn rows(list: &[(EffectiveProfessional, bool)]) -> Vec<Vec<String>> {
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

/// The FHIR R4 Bundle of the professionals, pretty-printed JSON with a final newline;
/// `base_url` prefixes the resources' `fullUrl`s.
pub fn to_fhir(
    list: &[(EffectiveProfessional, bool)],
    generated_at: DateTime<Utc>,
    base_url: &str,
) -> Result<String, ExportError> {
    let professionals: Vec<EffectiveProfessional> = list.iter().map(|(p, _)| p.clone()).collect();
    let bundle = directory_bundle(&professionals, generated_at, base_url)
        .map_err(|e| ExportError { en: e.en.clone(), fr: e.fr.clone() })?;
    let text =
        serde_json::to_string_pretty(&bundle).map_err(|e| ExportError { en: e.to_string(), fr: e.to_string() })?;
    Ok(text + "\n")
}

/// Why an export could not be written (a bad FHIR base URL, the XLSX writer failing).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{en}")]
pub struct ExportError {
    pub en: String,
    pub fr: String,
}

/// The file of `format`: its bytes.
pub fn render(
    format: ExportFormat,
    list: &[(EffectiveProfessional, bool)],
    generated_at: DateTime<Utc>,
    fhir_base: &str,
) -> Result<Vec<u8>, ExportError> {
    Ok(match format {
        ExportFormat::Csv => to_csv(list).into_bytes(),
        ExportFormat::Xlsx => to_xlsx(list).map_err(|e| ExportError { en: e.to_string(), fr: e.to_string() })?,
        ExportFormat::Vcard => to_vcard(list).into_bytes(),
        ExportFormat::Fhir => to_fhir(list, generated_at, fhir_base)?.into_bytes(),
    })
}

/// A file name for a download: `annuaire-<cpts>-<yyyy-mm-dd>.<ext>`, the CPTS's name in
/// lower-case ASCII words joined by hyphens.
pub fn file_name(cpts_name: &str, format: ExportFormat, on: chrono::NaiveDate) -> String {
    let folded = maillage_core::text::fold_for_search(cpts_name);
    let slug: Vec<String> =
        folded.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_owned).collect();
    let slug = if slug.is_empty() { "cpts".to_owned() } else { slug.join("-") };
    format!("annuaire-{slug}-{}.{}", on.format("%Y-%m-%d"), format.extension())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_file_names() {
        for f in ExportFormat::ALL {
            assert_eq!(ExportFormat::parse(f.key()), Some(f));
        }
        assert_eq!(ExportFormat::parse(" VCF "), Some(ExportFormat::Vcard));
        assert_eq!(ExportFormat::parse("pdf"), None);
        let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
        assert_eq!(file_name("CPTS du Vendômois", ExportFormat::Csv, day), "annuaire-cpts-du-vendomois-2026-11-24.csv");
        assert_eq!(file_name("  ", ExportFormat::Vcard, day), "annuaire-cpts-2026-11-24.vcf");
    }

    #[test]
    fn empty_directory() {
        assert_eq!(to_csv(&[]), format!("\u{feff}{}\r\n", COLUMNS.join(",")));
        assert_eq!(to_vcard(&[]), "");
        let now = chrono::DateTime::parse_from_rfc3339("2026-11-24T09:00:00Z").unwrap().with_timezone(&Utc);
        assert!(to_fhir(&[], now, "https://x.test/fhir").unwrap().contains("\"Bundle\""));
        assert!(to_fhir(&[], now, "not a url").is_err());
    }
}
