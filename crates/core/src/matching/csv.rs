//! The CSV files of `maillage match`.
//!
//! - patients: columns `id,commune,priority` (priority = class, 1 served first);
//! - doctors: columns `id,commune,capacity`, and optionally `max_km` (their own limit; empty for
//!   none), `communes` (accepted communes, separated by spaces or `|`; empty for all) and
//!   `excluded` (ids of patients they declined, separated by `|`).
//!
//! A header line names the columns (any order). Fields are separated by commas, or by
//! semicolons when the header has semicolons and no comma (spreadsheets set to French);
//! double quotes work as in RFC 4180; a UTF-8 byte-order mark, CRLF line ends and blank lines
//! are accepted. Every error gives the line (1 = header), the column and the reason.

use super::priority::Priority;
use super::{Doctor, Patient};
use crate::ids::InseeCode;
use crate::refdata::Reference;
use std::collections::{BTreeSet, HashSet};
use std::fmt;

/// A rejected line, cell or header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvError {
    /// 1-based; the header is line 1.
    pub line: usize,
    /// The column's name (or its number when the header is at fault).
    pub column: Option<String>,
    pub reason: String,
}

impl fmt::Display for CsvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.column {
            Some(c) => write!(f, "line {}, column {c}: {}", self.line, self.reason),
            None => write!(f, "line {}: {}", self.line, self.reason),
        }
    }
}

impl std::error::Error for CsvError {}

fn err(line: usize, column: Option<&str>, reason: impl Into<String>) -> CsvError {
    CsvError { line, column: column.map(str::to_owned), reason: reason.into() }
}

/// Splits one line into fields (RFC 4180 quotes, no line breaks inside fields).
fn split(line: &str, sep: char, number: usize) -> Result<Vec<String>, CsvError> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    let mut was_quoted = false;
    while let Some(c) = chars.next() {
        if quoted {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    field.push('"');
                    chars.next();
                } else {
                    quoted = false;
                }
            } else {
                field.push(c);
            }
        } else if c == '"' {
            if !field.trim().is_empty() || was_quoted {
                return Err(err(number, Some(&format!("{}", fields.len() + 1)), "a quote inside an unquoted field"));
            }
            field.clear();
            quoted = true;
            was_quoted = true;
        } else if c == sep {
            fields.push(if was_quoted { std::mem::take(&mut field) } else { field.trim().to_owned() });
            field.clear();
            was_quoted = false;
        } else if was_quoted {
            if !c.is_whitespace() {
                return Err(err(number, Some(&format!("{}", fields.len() + 1)), "text after a closing quote"));
            }
        } else {
            field.push(c);
        }
    }
    if quoted {
        return Err(err(number, Some(&format!("{}", fields.len() + 1)), "a quote is not closed"));
    }
    fields.push(if was_quoted { field } else { field.trim().to_owned() });
    Ok(fields)
}

/// The data lines of a file: (line number, fields by column name).
struct Table {
    columns: Vec<String>,
    rows: Vec<(usize, Vec<String>)>,
}

impl Table {
    fn parse(text: &str, required: &[&str], optional: &[&str]) -> Result<Self, CsvError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l.trim_end_matches('\r')));
        let Some((header_line, head)) = lines.by_ref().find(|(_, l)| !l.trim().is_empty()) else {
            return Err(err(1, None, format!("empty file: expected a header with {}", required.join(","))));
        };
        let sep = if !head.contains(',') && head.contains(';') { ';' } else { ',' };
        let columns: Vec<String> =
            split(head, sep, header_line)?.into_iter().map(|c| c.trim().to_ascii_lowercase()).collect();
        let mut seen = HashSet::new();
        for (i, c) in columns.iter().enumerate() {
            if !required.contains(&c.as_str()) && !optional.contains(&c.as_str()) {
                let known: Vec<&str> = required.iter().chain(optional).copied().collect();
                return Err(err(
                    header_line,
                    Some(&format!("{}", i + 1)),
                    format!("unknown column \"{c}\" (expected {})", known.join(", ")),
                ));
            }
            if !seen.insert(c.as_str()) {
                return Err(err(header_line, Some(&format!("{}", i + 1)), format!("column \"{c}\" appears twice")));
            }
        }
        for r in required {
            if !seen.contains(r) {
                return Err(err(
                    header_line,
                    None,
                    format!("missing column \"{r}\" (the header needs {})", required.join(",")),
                ));
            }
        }
        let mut rows = Vec::new();
        for (number, line) in lines {
            if line.trim().is_empty() {
                continue;
            }
            let fields = split(line, sep, number)?;
            if fields.len() != columns.len() {
                return Err(err(
                    number,
                    None,
                    format!("{} fields, the header has {} columns", fields.len(), columns.len()),
                ));
            }
            rows.push((number, fields));
        }
        Ok(Self { columns, rows })
    }

    fn get<'r>(&self, row: &'r [String], column: &str) -> Option<&'r str> {
        self.columns.iter().position(|c| c == column).map(|i| row[i].as_str())
    }
}

fn parse_commune(reference: &Reference, value: &str, line: usize, column: &str) -> Result<InseeCode, CsvError> {
    if value.is_empty() {
        return Err(err(line, Some(column), "empty; an INSEE commune code is expected"));
    }
    reference.resolve(value).map(|c| c.code).map_err(|e| err(line, Some(column), e.to_string()))
}

fn id(value: &str, line: usize, seen: &mut HashSet<String>) -> Result<String, CsvError> {
    if value.is_empty() {
        return Err(err(line, Some("id"), "empty"));
    }
    if !seen.insert(value.to_owned()) {
        return Err(err(line, Some("id"), format!("{value} appears on an earlier line")));
    }
    Ok(value.to_owned())
}

/// Reads the patients file.
pub fn parse_patients(text: &str, reference: &Reference) -> Result<Vec<Patient>, CsvError> {
    let table = Table::parse(text, &["id", "commune", "priority"], &[])?;
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(table.rows.len());
    for (line, row) in &table.rows {
        let line = *line;
        let id = id(table.get(row, "id").unwrap_or_default(), line, &mut seen)?;
        let commune = parse_commune(reference, table.get(row, "commune").unwrap_or_default(), line, "commune")?;
        let raw = table.get(row, "priority").unwrap_or_default();
        let class = raw
            .parse::<u8>()
            .ok()
            .filter(|&c| c >= 1)
            .ok_or_else(|| err(line, Some("priority"), format!("\"{raw}\" is not a class between 1 and 255")))?;
        out.push(Patient { id, commune, priority: Priority::given(class) });
    }
    Ok(out)
}

/// Reads the doctors file.
pub fn parse_doctors(text: &str, reference: &Reference) -> Result<Vec<Doctor>, CsvError> {
    let table = Table::parse(text, &["id", "commune", "capacity"], &["max_km", "communes", "excluded"])?;
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(table.rows.len());
    for (line, row) in &table.rows {
        let line = *line;
        let id = id(table.get(row, "id").unwrap_or_default(), line, &mut seen)?;
        let commune = parse_commune(reference, table.get(row, "commune").unwrap_or_default(), line, "commune")?;
        let raw = table.get(row, "capacity").unwrap_or_default();
        let capacity = raw
            .parse::<u32>()
            .map_err(|_| err(line, Some("capacity"), format!("\"{raw}\" is not a whole number ≥ 0")))?;
        let max_km = match table.get(row, "max_km").unwrap_or_default() {
            "" => None,
            raw => Some(
                raw.replace(',', ".")
                    .parse::<f64>()
                    .ok()
                    .filter(|k| k.is_finite() && (0.0..=1000.0).contains(k))
                    .ok_or_else(|| {
                        err(line, Some("max_km"), format!("\"{raw}\" is not a distance between 0 and 1000 km"))
                    })?,
            ),
        };
        let accepted_communes = match table.get(row, "communes").unwrap_or_default() {
            "" => None,
            raw => {
                let mut set = BTreeSet::new();
                for code in raw.split(|c: char| c == '|' || c.is_whitespace()).filter(|c| !c.is_empty()) {
                    set.insert(parse_commune(reference, code, line, "communes")?);
                }
                Some(set)
            }
        };
        let excluded_patients = table
            .get(row, "excluded")
            .unwrap_or_default()
            .split('|')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect();
        out.push(Doctor { id, commune, capacity, max_km, accepted_communes, excluded_patients });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference() -> &'static Reference {
        Reference::embedded()
    }

    #[test]
    fn patients_ok() {
        let text = "\u{feff}id,commune,priority\r\nP1,41018,1\r\n\r\n\"P,2\", 41269 ,2\r\n";
        let p = parse_patients(text, reference()).unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(p[1].id, "P,2");
        assert_eq!(p[1].commune.as_str(), "41269");
        assert_eq!(p[1].priority, Priority::given(2));
    }

    #[test]
    fn semicolons_and_any_column_order() {
        let text = "commune;priority;id\n41018;1;A\n";
        let p = parse_patients(text, reference()).unwrap();
        assert_eq!((p[0].id.as_str(), p[0].commune.as_str()), ("A", "41018"));
    }

    #[test]
    fn doctors_with_settings() {
        let text = "id,commune,capacity,max_km,communes,excluded\nD1,41018,12,,,\nD2,41269,0,12.5,41018|41269,P1|P7\n";
        let d = parse_doctors(text, reference()).unwrap();
        assert_eq!(d[0].capacity, 12);
        assert_eq!(d[0].max_km, None);
        assert_eq!(d[0].accepted_communes, None);
        assert_eq!(d[1].max_km, Some(12.5));
        assert_eq!(d[1].accepted_communes.as_ref().unwrap().len(), 2);
        assert_eq!(d[1].excluded_patients.len(), 2);
    }

    #[test]
    fn errors_name_line_column_and_reason() {
        let r = reference();
        let cases: &[(&str, &str)] = &[
            ("", "line 1: empty file: expected a header with id,commune,priority"),
            ("id,commune\nP1,41018\n", "line 1: missing column \"priority\" (the header needs id,commune,priority)"),
            ("id,commune,priority,age\n", "line 1, column 4: unknown column \"age\" (expected id, commune, priority)"),
            ("id,commune,priority\nP1,41018,1\nP2,41018\n", "line 3: 2 fields, the header has 3 columns"),
            ("id,commune,priority\nP1,41018,0\n", "line 2, column priority: \"0\" is not a class between 1 and 255"),
            ("id,commune,priority\nP1,41018,x\n", "line 2, column priority: \"x\" is not a class between 1 and 255"),
            (
                "id,commune,priority\nP1,99999,1\n",
                "line 2, column commune: no current commune has the INSEE code 99999",
            ),
            ("id,commune,priority\nP1,41018,1\nP1,41018,2\n", "line 3, column id: P1 appears on an earlier line"),
            ("id,commune,priority\n,41018,1\n", "line 2, column id: empty"),
            ("id,commune,priority\n\"P1,41018,1\n", "line 2, column 1: a quote is not closed"),
        ];
        for (text, expected) in cases {
            let e = parse_patients(text, r).unwrap_err();
            assert_eq!(&e.to_string(), expected, "{text:?}");
        }
        let e = parse_doctors("id,commune,capacity\nD1,41018,-3\n", r).unwrap_err();
        assert_eq!(e.to_string(), "line 2, column capacity: \"-3\" is not a whole number ≥ 0");
        let e = parse_doctors("id,commune,capacity,max_km\nD1,41018,3,far\n", r).unwrap_err();
        assert_eq!(e.to_string(), "line 2, column max_km: \"far\" is not a distance between 0 and 1000 km");
        let e = parse_doctors("id,commune,capacity,communes\nD1,41018,3,41018|4101\n", r).unwrap_err();
        assert!(e.to_string().starts_with("line 2, column communes: "), "{e}");
    }
}
