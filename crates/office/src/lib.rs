//! Office files for Maillage: reading a table (a header line and rows of text cells) from CSV
//! or XLSX, and writing an XLSX from a header and rows.
//!
//! Kept apart from `maillage-core` so that the domain stays free of the spreadsheet crates
//! (`calamine`, `rust_xlsxwriter`, `csv`). Cells are read as text: numbers in their shortest
//! form (`10001234567`, not `1.0001234567e10`), dates of XLSX files as their Excel serial
//! number (`45292`), which the member-list mapping understands.

// Library code returns errors; tests may unwrap.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use calamine::{Data, Reader};
use std::io::Cursor;
use std::path::Path;

/// A table read from a file: the header (first non-empty line) and the rows after it, each
/// with its line (CSV) or row (XLSX) number in the file, counted from 1.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<(u64, Vec<String>)>,
    /// How a CSV file's bytes were decoded (XLSX files: always `Utf8`, their text is Unicode).
    pub encoding: TextEncoding,
}

/// The character encoding a CSV file was read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TextEncoding {
    #[default]
    Utf8,
    /// Not valid UTF-8, read as Windows-1252 (what Excel writes by default in French for
    /// "CSV (séparateur : point-virgule)").
    Windows1252,
}

/// Why a file could not be read as a table.
#[derive(Debug, thiserror::Error)]
pub enum OfficeError {
    #[error("cannot read {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("line {line} is neither UTF-8 nor Windows-1252: save the file as \"CSV UTF-8\" and try again")]
    NotUtf8 { line: u64 },
    #[error("CSV line {line}: {message}")]
    Csv { line: u64, message: String },
    #[error("cannot read the spreadsheet: {0}")]
    Xlsx(String),
    #[error("no sheet named {name:?}; the workbook has: {available}")]
    NoSuchSheet { name: String, available: String },
    #[error("the file is empty (no header line)")]
    Empty,
    #[error("unsupported file type {0:?}: use .csv or .xlsx")]
    UnsupportedType(String),
    #[error("cannot write the spreadsheet: {0}")]
    Write(String),
}

/// Reads `path` as CSV or XLSX, by extension (`.csv`, `.txt`, `.xlsx`, `.xlsm`). `sheet`
/// names the XLSX sheet (default: the first); CSV files ignore it.
pub fn read_table(path: &Path, sheet: Option<&str>) -> Result<Table, OfficeError> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    let bytes = std::fs::read(path).map_err(|source| OfficeError::Io { path: path.display().to_string(), source })?;
    match ext.as_str() {
        "csv" | "txt" => read_csv(&bytes),
        "xlsx" | "xlsm" => read_xlsx(&bytes, sheet),
        other => Err(OfficeError::UnsupportedType(other.to_owned())),
    }
}

/// Reads CSV bytes: UTF-8 with or without BOM, or else Windows-1252 (Excel's default for
/// French CSV files; [`Table::encoding`] says which); bytes that neither explains (the five
/// Windows-1252 leaves undefined, a UTF-16 byte-order mark) are refused, naming their line.
/// `;` or `,` separator (whichever the header line has more of, outside quotes), RFC 4180
/// quoting. Blank lines are skipped; short rows are padded.
pub fn read_csv(bytes: &[u8]) -> Result<Table, OfficeError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        return Err(OfficeError::NotUtf8 { line: 1 });
    }
    let (text, encoding) = match std::str::from_utf8(bytes) {
        Ok(text) => (std::borrow::Cow::Borrowed(text), TextEncoding::Utf8),
        Err(_) => match decode_windows_1252(bytes) {
            Ok(text) => (std::borrow::Cow::Owned(text), TextEncoding::Windows1252),
            Err(at) => {
                let line = 1 + bytes[..at].iter().filter(|b| **b == b'\n').count() as u64;
                return Err(OfficeError::NotUtf8 { line });
            }
        },
    };
    let mut table = read_csv_text(text.as_bytes())?;
    table.encoding = encoding;
    Ok(table)
}

/// The characters of bytes 0x80–0x9F in Windows-1252; `None`: undefined there.
const WINDOWS_1252_80_9F: [Option<char>; 32] = [
    Some('\u{20AC}'),
    None,
    Some('\u{201A}'),
    Some('\u{0192}'),
    Some('\u{201E}'),
    Some('\u{2026}'),
    Some('\u{2020}'),
    Some('\u{2021}'),
    Some('\u{02C6}'),
    Some('\u{2030}'),
    Some('\u{0160}'),
    Some('\u{2039}'),
    Some('\u{0152}'),
    None,
    Some('\u{017D}'),
    None,
    None,
    Some('\u{2018}'),
    Some('\u{2019}'),
    Some('\u{201C}'),
    Some('\u{201D}'),
    Some('\u{2022}'),
    Some('\u{2013}'),
    Some('\u{2014}'),
    Some('\u{02DC}'),
    Some('\u{2122}'),
    Some('\u{0161}'),
    Some('\u{203A}'),
    Some('\u{0153}'),
    None,
    Some('\u{017E}'),
    Some('\u{0178}'),
];

/// Decodes Windows-1252: ASCII as is, 0x80–0x9F by the table, 0xA0–0xFF to U+00A0–U+00FF.
/// `Err(offset)` of the first byte the code page leaves undefined (0x81, 0x8D, 0x8F, 0x90,
/// 0x9D): such a file is in another encoding.
pub fn decode_windows_1252(bytes: &[u8]) -> Result<String, usize> {
    let mut out = String::with_capacity(bytes.len() + bytes.len() / 8);
    for (i, &b) in bytes.iter().enumerate() {
        let c = match b {
            0x80..=0x9F => WINDOWS_1252_80_9F[usize::from(b - 0x80)].ok_or(i)?,
            _ => char::from(b),
        };
        out.push(c);
    }
    Ok(out)
}

/// Reads UTF-8 CSV bytes (BOM already removed).
fn read_csv_text(bytes: &[u8]) -> Result<Table, OfficeError> {
    let first_line = bytes.split(|b| *b == b'\n').find(|l| !l.iter().all(u8::is_ascii_whitespace)).unwrap_or(&[]);
    let delimiter = separator(first_line);
    let mut reader =
        csv::ReaderBuilder::new().delimiter(delimiter).has_headers(false).flexible(true).from_reader(bytes);
    let mut table = Table::default();
    let mut header_seen = false;
    // The line where a record starting at this byte offset begins, counted from 1 (a quoted
    // field may span lines; the reader reports a record from the end of the previous one, before
    // the `\n` of a `\r\n` and any blank line).
    let line_at = |byte: u64| {
        let mut end = usize::try_from(byte).unwrap_or(usize::MAX).min(bytes.len());
        while bytes.get(end).is_some_and(|b| matches!(b, b'\r' | b'\n')) {
            end += 1;
        }
        1 + bytes[..end].iter().filter(|b| **b == b'\n').count() as u64
    };
    for record in reader.records() {
        let record = record.map_err(|e| OfficeError::Csv {
            line: e.position().map_or(0, |p| line_at(p.byte())),
            message: e.to_string(),
        })?;
        let line = record.position().map_or(0, |p| line_at(p.byte()));
        let cells: Vec<String> = record.iter().map(|c| c.trim().to_owned()).collect();
        if cells.iter().all(String::is_empty) {
            continue;
        }
        if header_seen {
            table.rows.push((line, cells));
        } else {
            table.header = cells;
            header_seen = true;
        }
    }
    if !header_seen {
        return Err(OfficeError::Empty);
    }
    pad(&mut table);
    Ok(table)
}

/// `;` (French spreadsheets) or `,`: whichever appears more often outside quotes.
fn separator(line: &[u8]) -> u8 {
    let (mut semi, mut comma, mut quoted) = (0, 0, false);
    for b in line {
        match b {
            b'"' => quoted = !quoted,
            b';' if !quoted => semi += 1,
            b',' if !quoted => comma += 1,
            _ => {}
        }
    }
    if semi >= comma && semi > 0 { b';' } else { b',' }
}

fn pad(table: &mut Table) {
    let width = table.header.len();
    for (_, row) in &mut table.rows {
        if row.len() < width {
            row.resize(width, String::new());
        }
    }
}

/// Reads XLSX bytes: the sheet named `sheet`, or the first one.
pub fn read_xlsx(bytes: &[u8], sheet: Option<&str>) -> Result<Table, OfficeError> {
    let mut book: calamine::Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes))
        .map_err(|e: calamine::XlsxError| OfficeError::Xlsx(e.to_string()))?;
    let names = book.sheet_names();
    let name = match sheet {
        Some(wanted) => names
            .iter()
            .find(|n| n.eq_ignore_ascii_case(wanted.trim()))
            .cloned()
            .ok_or_else(|| OfficeError::NoSuchSheet { name: wanted.to_owned(), available: names.join(", ") })?,
        None => names.first().cloned().ok_or(OfficeError::Empty)?,
    };
    let range = book.worksheet_range(&name).map_err(|e| OfficeError::Xlsx(e.to_string()))?;
    let first_row = u64::from(range.start().map_or(0, |(r, _)| r));
    let mut table = Table::default();
    let mut header_seen = false;
    for (i, row) in range.rows().enumerate() {
        let cells: Vec<String> = row.iter().map(cell_text).collect();
        if cells.iter().all(String::is_empty) {
            continue;
        }
        let number = first_row + i as u64 + 1;
        if header_seen {
            table.rows.push((number, cells));
        } else {
            table.header = cells;
            header_seen = true;
        }
    }
    if !header_seen {
        return Err(OfficeError::Empty);
    }
    pad(&mut table);
    Ok(table)
}

/// A cell as text: integers without a decimal point, dates as their Excel serial number.
fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty | Data::Error(_) => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.trim().to_owned(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => number_text(*f),
        Data::Bool(b) => if *b { "oui" } else { "non" }.to_owned(),
        Data::DateTime(d) => number_text(d.as_f64()),
    }
}

fn number_text(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 { format!("{f:.0}") } else { f.to_string() }
}

/// Writes an XLSX workbook with one sheet: a bold header, the first row frozen, an
/// autofilter, column widths fitted to the content (bounded). Every cell is written as text
/// (identifiers keep their leading zeros).
pub fn write_xlsx(sheet_name: &str, header: &[&str], rows: &[Vec<String>]) -> Result<Vec<u8>, OfficeError> {
    let err = |e: rust_xlsxwriter::XlsxError| OfficeError::Write(e.to_string());
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name(sheet_name).map_err(err)?;
    let bold = rust_xlsxwriter::Format::new().set_bold();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for (c, h) in header.iter().enumerate() {
        sheet.write_string_with_format(0, col(c)?, *h, &bold).map_err(err)?;
    }
    for (r, row) in rows.iter().enumerate() {
        let r = u32::try_from(r + 1).map_err(|_| OfficeError::Write("too many rows".into()))?;
        for (c, value) in row.iter().enumerate() {
            if !value.is_empty() {
                sheet.write_string(r, col(c)?, value).map_err(err)?;
            }
            if let Some(w) = widths.get_mut(c) {
                *w = (*w).max(value.chars().count());
            }
        }
    }
    for (c, w) in widths.iter().enumerate() {
        sheet.set_column_width(col(c)?, (*w).clamp(6, 60) as f64 + 2.0).map_err(err)?;
    }
    sheet.set_freeze_panes(1, 0).map_err(err)?;
    if !header.is_empty() {
        sheet.autofilter(0, 0, u32::try_from(rows.len()).unwrap_or(u32::MAX), col(header.len() - 1)?).map_err(err)?;
    }
    book.save_to_buffer().map_err(err)
}

fn col(c: usize) -> Result<u16, OfficeError> {
    u16::try_from(c).map_err(|_| OfficeError::Write("too many columns".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_semicolon_bom_quotes_and_line_numbers() {
        let text = "\u{feff}N° RPPS;Statut;Rôle\r\n10001234567;actif;\"présidente; fondatrice\"\r\n\r\n\"1000\r\n2\";parti\r\n";
        let t = read_csv(text.as_bytes()).unwrap();
        assert_eq!(t.header, ["N° RPPS", "Statut", "Rôle"]);
        assert_eq!(t.rows[0], (2, vec!["10001234567".into(), "actif".into(), "présidente; fondatrice".into()]));
        assert_eq!(t.rows[1].0, 4);
        assert_eq!(t.rows[1].1[1], "parti");
        assert_eq!(t.rows[1].1[2], "", "short rows are padded");
    }

    #[test]
    fn csv_comma_when_the_header_has_more_commas() {
        let t = read_csv(b"a,b;c,d\n1,2,3\n").unwrap();
        assert_eq!(t.header, ["a", "b;c", "d"]);
    }

    #[test]
    fn csv_windows_1252_is_decoded() {
        // "Référent" in the header, "résilié", "Œuvre", an apostrophe (0x92) and the euro sign.
        let bytes = b"RPPS;Statut;R\xe9f\xe9rent\r\n1;r\xe9sili\xe9;\x8cuvre l\x92\xe9t\xe9 \x80\r\n";
        let t = read_csv(bytes).unwrap();
        assert_eq!(t.encoding, TextEncoding::Windows1252);
        assert_eq!(t.header, ["RPPS", "Statut", "Référent"]);
        assert_eq!(t.rows, vec![(2, vec!["1".into(), "résilié".into(), "Œuvre l\u{2019}été €".into()])]);
        assert_eq!(read_csv("RPPS;Statut\n1;résilié\n".as_bytes()).unwrap().encoding, TextEncoding::Utf8);
    }

    #[test]
    fn windows_1252_table() {
        let all: Vec<u8> = (0x20..=0xFF).filter(|b| ![0x7F, 0x81, 0x8D, 0x8F, 0x90, 0x9D].contains(b)).collect();
        let text = decode_windows_1252(&all).unwrap();
        assert_eq!(text.chars().count(), all.len());
        assert!(text.starts_with(" !\"#"));
        assert!(text.contains("€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ"), "{text}");
        assert!(text.ends_with(
            "\u{a0}¡¢£¤¥¦§¨©ª«¬\u{ad}®¯°±²³´µ¶·¸¹º»¼½¾¿ÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÐÑÒÓÔÕÖ×ØÙÚÛÜÝÞßàáâãäåæçèéêëìíîïðñòóôõö÷øùúûüýþÿ"
        ));
        for undefined in [0x81u8, 0x8D, 0x8F, 0x90, 0x9D] {
            assert_eq!(decode_windows_1252(&[b'a', undefined]), Err(1));
        }
    }

    #[test]
    fn csv_neither_utf8_nor_windows_1252_names_the_line() {
        let bytes = b"RPPS;Statut\n1;actif\n2;r\xe9sili\x81\n";
        let e = read_csv(bytes).unwrap_err();
        assert!(matches!(e, OfficeError::NotUtf8 { line: 3 }), "{e}");
        assert!(e.to_string().contains("line 3"));
        // UTF-16 (Excel's "Texte Unicode"): refused at once.
        assert!(matches!(read_csv(b"\xFF\xFER\x00P\x00"), Err(OfficeError::NotUtf8 { line: 1 })));
    }

    #[test]
    fn csv_empty_is_refused() {
        assert!(matches!(read_csv(b"\n \n"), Err(OfficeError::Empty)));
    }

    #[test]
    fn xlsx_round_trip_and_sheet_choice() {
        let rows = vec![vec!["0012345678".to_owned(), "=1+1".to_owned()], vec![String::new(), "x".to_owned()]];
        let bytes = write_xlsx("Annuaire", &["id", "formule"], &rows).unwrap();
        let t = read_xlsx(&bytes, None).unwrap();
        assert_eq!(t.header, ["id", "formule"]);
        assert_eq!(t.rows, vec![(2, rows[0].clone()), (3, rows[1].clone())]);
        assert_eq!(read_xlsx(&bytes, Some("annuaire")).unwrap(), t);
        let e = read_xlsx(&bytes, Some("Autre")).unwrap_err();
        assert!(e.to_string().contains("Annuaire"), "{e}");
    }

    #[test]
    fn xlsx_numbers_and_dates_as_text() {
        let mut book = rust_xlsxwriter::Workbook::new();
        let s = book.add_worksheet();
        s.write_string(2, 0, "RPPS").unwrap();
        s.write_string(2, 1, "Date").unwrap();
        s.write_number(3, 0, 10001234567.0).unwrap();
        let date = rust_xlsxwriter::ExcelDateTime::from_ymd(2024, 1, 1).unwrap();
        let fmt = rust_xlsxwriter::Format::new().set_num_format("dd/mm/yyyy");
        s.write_datetime_with_format(3, 1, &date, &fmt).unwrap();
        s.write_number(4, 0, 1.5).unwrap();
        let t = read_xlsx(&book.save_to_buffer().unwrap(), None).unwrap();
        assert_eq!(t.header, ["RPPS", "Date"]);
        assert_eq!(t.rows[0], (4, vec!["10001234567".into(), "45292".into()]));
        assert_eq!(t.rows[1], (5, vec!["1.5".into(), String::new()]));
    }

    #[test]
    fn unsupported_extension() {
        let dir = std::env::temp_dir().join(format!("maillage-office-{}.ods", std::process::id()));
        std::fs::write(&dir, b"x").unwrap();
        assert!(matches!(read_table(&dir, None), Err(OfficeError::UnsupportedType(_))));
        let _ = std::fs::remove_file(&dir);
    }
}
