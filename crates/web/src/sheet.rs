//! A table offered for download as CSV or XLSX: one value, two encodings, so that every
//! exported table of the pages gives the same cells in both.

use crate::app::csv_cell;
use crate::error::Failure;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

/// The two spreadsheet formats of the exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SheetFormat {
    Csv,
    Xlsx,
}

impl SheetFormat {
    /// `name.csv` or `name.xlsx` → (`name`, format).
    pub fn split(file: &str) -> Option<(&str, SheetFormat)> {
        let (stem, ext) = file.rsplit_once('.')?;
        let format = match ext.to_ascii_lowercase().as_str() {
            "csv" => SheetFormat::Csv,
            "xlsx" => SheetFormat::Xlsx,
            _ => return None,
        };
        Some((stem, format))
    }
}

pub struct Sheet {
    /// The XLSX sheet's name (31 characters at most).
    pub name: &'static str,
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Sheet {
    /// `;`-separated (what spreadsheet software expects in French), UTF-8 with a BOM, CRLF,
    /// every cell quoted and formulas neutralised.
    pub fn csv(&self) -> String {
        let mut out = String::from("\u{feff}");
        let line = |cells: &mut dyn Iterator<Item = &str>| cells.map(csv_cell).collect::<Vec<_>>().join(";") + "\r\n";
        out.push_str(&line(&mut self.header.iter().map(String::as_str)));
        for row in &self.rows {
            out.push_str(&line(&mut row.iter().map(String::as_str)));
        }
        out
    }

    /// A sheet of a CSV text that Maillage wrote (the national registry file).
    pub fn from_csv(name: &'static str, text: &str) -> Result<Sheet, Failure> {
        let table = maillage_office::read_csv(text.as_bytes())
            .map_err(|e| Failure::Internal(format!("reading back the CSV of {name}: {e}")))?;
        Ok(Sheet { name, header: table.header, rows: table.rows.into_iter().map(|(_, row)| row).collect() })
    }

    pub fn xlsx(&self) -> Result<Vec<u8>, Failure> {
        let header: Vec<&str> = self.header.iter().map(String::as_str).collect();
        maillage_office::write_xlsx(self.name, &header, &self.rows)
            .map_err(|e| Failure::Internal(format!("XLSX of {}: {e}", self.name)))
    }

    /// The file as an attachment named `stem.csv` or `stem.xlsx`.
    pub fn download(&self, stem: &str, format: SheetFormat) -> Result<Response, Failure> {
        let (body, content_type, ext) = match format {
            SheetFormat::Csv => (self.csv().into_bytes(), "text/csv; charset=utf-8", "csv"),
            SheetFormat::Xlsx => {
                (self.xlsx()?, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx")
            }
        };
        let mut r = body.into_response();
        r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{stem}.{ext}\"")) {
            r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
        }
        Ok(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_cells_and_neutralises_formulas() {
        let sheet = Sheet {
            name: "Essai",
            header: vec!["nom".into(), "valeur".into()],
            rows: vec![vec!["=1+1".into(), "dit \"oui\"; non".into()]],
        };
        assert_eq!(sheet.csv(), "\u{feff}\"nom\";\"valeur\"\r\n\"'=1+1\";\"dit \"\"oui\"\"; non\"\r\n");
    }

    #[test]
    fn file_names_give_the_format() {
        assert_eq!(SheetFormat::split("couverture.xlsx"), Some(("couverture", SheetFormat::Xlsx)));
        assert_eq!(SheetFormat::split("indicateurs.CSV"), Some(("indicateurs", SheetFormat::Csv)));
        assert_eq!(SheetFormat::split("registre.pdf"), None);
        assert_eq!(SheetFormat::split("registre"), None);
    }
}
