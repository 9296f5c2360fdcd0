//! The member list of the association, as CPTS keep it in a spreadsheet: which column holds
//! what ([`ColumnMapping`], found by header name with French defaults, overridable), and the
//! parsing of every row into a [`Membership`] ([`parse_members`]), reporting every bad cell at
//! once so that a file is fixed in one go. Reading the file itself (CSV, XLSX) is the
//! `maillage-office` crate's business; this module sees rows of text cells.

use super::model::{Membership, MembershipStatus, NationalId};
use crate::ids::{Adeli, Rpps};
use crate::text::fold_for_search;
use chrono::{Duration, NaiveDate};
use serde::Serialize;
use std::collections::HashMap;
use std::fmt;

/// A field of the member list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MemberField {
    NationalId,
    JoinedOn,
    LeftOn,
    Status,
    DuesPaidUntil,
    ProfessionReferent,
    BoardRole,
}

impl MemberField {
    pub const ALL: [Self; 7] = [
        Self::NationalId,
        Self::JoinedOn,
        Self::LeftOn,
        Self::Status,
        Self::DuesPaidUntil,
        Self::ProfessionReferent,
        Self::BoardRole,
    ];

    /// The name used by `--map FIELD=Header`.
    pub fn key(self) -> &'static str {
        match self {
            Self::NationalId => "national_id",
            Self::JoinedOn => "joined_on",
            Self::LeftOn => "left_on",
            Self::Status => "status",
            Self::DuesPaidUntil => "dues_paid_until",
            Self::ProfessionReferent => "profession_referent",
            Self::BoardRole => "board_role",
        }
    }

    /// The headers looked for when no override names the column, in order of preference.
    pub fn default_headers(self) -> &'static [&'static str] {
        match self {
            Self::NationalId => &[
                "Identifiant national",
                "Identifiant",
                "N° RPPS",
                "Numéro RPPS",
                "RPPS",
                "RPPS / ADELI",
                "RPPS ou ADELI",
                "N° ADELI",
                "Numéro ADELI",
                "ADELI",
                "IDNPS",
            ],
            Self::JoinedOn => &["Date d'adhésion", "Adhésion", "Adhérent depuis", "Date adhésion"],
            Self::LeftOn => &["Date de départ", "Date de sortie", "Date de fin", "Fin d'adhésion"],
            Self::Status => &["Statut", "Statut adhésion", "Statut d'adhésion", "État"],
            Self::DuesPaidUntil => {
                &["Cotisation payée jusqu'au", "Cotisation jusqu'au", "Cotisation payée", "Cotisation"]
            }
            Self::ProfessionReferent => {
                &["Référent", "Référent métier", "Référent de profession", "Référent profession"]
            }
            Self::BoardRole => &["Rôle au bureau", "Bureau", "Fonction au bureau", "Rôle"],
        }
    }

    pub fn parse(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.key() == key.trim())
    }
}

impl fmt::Display for MemberField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// One column of the file: its position and its header as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Column {
    pub index: usize,
    pub header: String,
}

/// Which column holds which field. Only the national identifier is required.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ColumnMapping {
    pub national_id: Column,
    pub joined_on: Option<Column>,
    pub left_on: Option<Column>,
    pub status: Option<Column>,
    pub dues_paid_until: Option<Column>,
    pub profession_referent: Option<Column>,
    pub board_role: Option<Column>,
}

/// Why the columns could not be mapped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{en}")]
pub struct MappingError {
    pub en: String,
    pub fr: String,
}

/// A header as compared: folded (case, accents), only letters, digits and single spaces.
fn header_key(s: &str) -> String {
    let folded: String = fold_for_search(s).chars().map(|c| if c.is_alphanumeric() { c } else { ' ' }).collect();
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl ColumnMapping {
    /// Finds the columns in `header`: `overrides` first (`field` → header, `Conflict` if the
    /// header is absent), then the [`MemberField::default_headers`]. A column serves one field.
    pub fn resolve(header: &[String], overrides: &[(MemberField, String)]) -> Result<Self, MappingError> {
        let keys: Vec<String> = header.iter().map(|h| header_key(h)).collect();
        let find = |name: &str| {
            let k = header_key(name);
            keys.iter().position(|h| !h.is_empty() && *h == k)
        };
        let mut found: HashMap<MemberField, usize> = HashMap::new();
        for (field, name) in overrides {
            let Some(i) = find(name) else {
                return Err(MappingError {
                    en: format!("--map {field}: no column {name:?}; the columns are: {}", header.join(", ")),
                    fr: format!(
                        "--map {field} : pas de colonne « {name} » ; les colonnes sont : {}",
                        header.join(", ")
                    ),
                });
            };
            found.insert(*field, i);
        }
        for field in MemberField::ALL {
            if found.contains_key(&field) {
                continue;
            }
            let taken: Vec<usize> = found.values().copied().collect();
            if let Some(i) = field.default_headers().iter().filter_map(|d| find(d)).find(|i| !taken.contains(i)) {
                found.insert(field, i);
            }
        }
        let mut seen: HashMap<usize, MemberField> = HashMap::new();
        for field in MemberField::ALL {
            if let Some(i) = found.get(&field)
                && let Some(other) = seen.insert(*i, field)
            {
                return Err(MappingError {
                    en: format!("column {:?} is mapped to both {other} and {field}", header[*i]),
                    fr: format!("la colonne « {} » est associée à {other} et à {field}", header[*i]),
                });
            }
        }
        let column = |f: MemberField| found.get(&f).map(|i| Column { index: *i, header: header[*i].clone() });
        let Some(national_id) = column(MemberField::NationalId) else {
            return Err(MappingError {
                en: format!(
                    "no column for the national identifier (RPPS or ADELI); name it with --map national_id=HEADER. \
                     The columns are: {}",
                    header.join(", ")
                ),
                fr: format!(
                    "aucune colonne pour l'identifiant national (RPPS ou ADELI) ; indiquez-la avec \
                     --map national_id=EN-TÊTE. Les colonnes sont : {}",
                    header.join(", ")
                ),
            });
        };
        Ok(Self {
            national_id,
            joined_on: column(MemberField::JoinedOn),
            left_on: column(MemberField::LeftOn),
            status: column(MemberField::Status),
            dues_paid_until: column(MemberField::DuesPaidUntil),
            profession_referent: column(MemberField::ProfessionReferent),
            board_role: column(MemberField::BoardRole),
        })
    }
}

/// A bad cell (or row): its line in the file, the column's header, the reason in two languages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MemberReject {
    pub line: u64,
    pub column: Option<String>,
    pub reason_en: String,
    pub reason_fr: String,
}

/// A national identifier as found in member lists: the bare 11-digit RPPS (becomes `8` +
/// RPPS), the bare 9-character ADELI (`0` + ADELI), or the national form itself.
pub fn parse_member_id(cell: &str) -> Result<NationalId, (String, String)> {
    let compact: String = cell.chars().filter(|c| !c.is_whitespace()).collect();
    let id_err = |e: crate::ids::IdError| (e.en, e.fr);
    match compact.chars().count() {
        0 => Err(("missing national identifier".into(), "identifiant national manquant".into())),
        11 => Rpps::parse(&compact).map(NationalId::Rpps).map_err(id_err),
        9 => Adeli::parse(&compact).map(NationalId::Adeli).map_err(id_err),
        10 | 12 => NationalId::parse(&compact).map_err(id_err),
        n => Err((
            format!("{cell:?} is neither an RPPS (11 digits) nor an ADELI (9 characters) number ({n} characters)"),
            format!("« {cell} » n'est ni un RPPS (11 chiffres) ni un ADELI (9 caractères) ({n} caractères)"),
        )),
    }
}

/// A date as spreadsheets give it: `dd/mm/yyyy` (also `-` or `.` separated, one-digit day or
/// month), `yyyy-mm-dd`, or an Excel serial day number (1900 date system, as read from XLSX).
pub fn parse_member_date(cell: &str) -> Option<NaiveDate> {
    let t = cell.trim();
    if let Ok(serial) = t.parse::<f64>() {
        // Serial 60 is Excel's fictitious 29 February 1900; from 61 on, day 0 is 30/12/1899.
        if !(1.0..=2_958_465.0).contains(&serial) || (60.0..61.0).contains(&serial) {
            return None;
        }
        let days = serial.floor() as i64;
        let epoch = NaiveDate::from_ymd_opt(1899, 12, if days >= 61 { 30 } else { 31 })?;
        return epoch.checked_add_signed(Duration::days(days));
    }
    // A date-time ("2024-01-31 00:00:00", "31/01/2024 10:00"): the date part.
    let t = t.split([' ', 'T']).next().unwrap_or(t);
    let parts: Vec<&str> = t.split(['/', '-', '.']).collect();
    let [a, b, c] = parts.as_slice() else { return None };
    let num = |s: &str| s.parse::<u32>().ok().filter(|_| s.chars().all(|c| c.is_ascii_digit()));
    let (y, m, d) = if a.len() == 4 {
        (num(a)?, num(b)?, num(c)?)
    } else if c.len() == 4 && a.len() <= 2 && b.len() <= 2 {
        (num(c)?, num(b)?, num(a)?)
    } else {
        return None;
    };
    NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, m, d)
}

fn parse_status(cell: &str) -> Option<MembershipStatus> {
    match header_key(cell).as_str() {
        "actif" | "active" | "adherent" | "adherente" => Some(MembershipStatus::Active),
        "suspendu" | "suspendue" | "suspended" => Some(MembershipStatus::Suspended),
        "parti" | "partie" | "radie" | "radiee" | "demissionnaire" | "ancien adherent" | "left" => {
            Some(MembershipStatus::Left)
        }
        _ => None,
    }
}

fn parse_bool(cell: &str) -> Option<bool> {
    match header_key(cell).as_str() {
        "" | "non" | "n" | "no" | "0" | "faux" | "false" => Some(false),
        "oui" | "o" | "yes" | "y" | "1" | "x" | "vrai" | "true" => Some(true),
        _ => None,
    }
}

/// Turns the rows (line number, cells) into memberships. Defaults: no joining date → `today`;
/// no status → active, or left when a leaving date is given; a member who left without a
/// leaving date left `today`. Every bad cell is reported (all of them, not the first), as is
/// a professional listed twice; with any reject there is no result.
pub fn parse_members(
    rows: &[(u64, Vec<String>)],
    mapping: &ColumnMapping,
    today: NaiveDate,
) -> Result<Vec<(NationalId, Membership)>, Vec<MemberReject>> {
    let mut out = Vec::with_capacity(rows.len());
    let mut rejects = Vec::new();
    let mut first_line: HashMap<NationalId, u64> = HashMap::new();
    for (line, cells) in rows {
        let line = *line;
        let before = rejects.len();
        let get = |c: &Option<Column>| c.as_ref().map(|c| cells.get(c.index).map_or("", |s| s.trim())).unwrap_or("");
        let mut bad = |column: &Column, en: String, fr: String| {
            rejects.push(MemberReject { line, column: Some(column.header.clone()), reason_en: en, reason_fr: fr });
        };

        let id_cell = cells.get(mapping.national_id.index).map_or("", |s| s.trim());
        let id = match parse_member_id(id_cell) {
            Ok(id) => match first_line.get(&id) {
                Some(first) => {
                    bad(
                        &mapping.national_id,
                        format!("professional {id} is already listed on line {first}"),
                        format!("le professionnel {id} figure déjà ligne {first}"),
                    );
                    None
                }
                None => {
                    first_line.insert(id, line);
                    Some(id)
                }
            },
            Err((en, fr)) => {
                bad(&mapping.national_id, en, fr);
                None
            }
        };

        let mut date = |col: &Option<Column>, what_en: &str, what_fr: &str| -> Option<NaiveDate> {
            let cell = get(col);
            let column = col.as_ref()?;
            if cell.is_empty() {
                return None;
            }
            let parsed = parse_member_date(cell);
            if parsed.is_none() {
                bad(
                    column,
                    format!("{what_en} {cell:?} is not a date (dd/mm/yyyy or yyyy-mm-dd)"),
                    format!("{what_fr} « {cell} » n'est pas une date (jj/mm/aaaa ou aaaa-mm-jj)"),
                );
            }
            parsed
        };
        let joined = date(&mapping.joined_on, "joining date", "date d'adhésion");
        let left = date(&mapping.left_on, "leaving date", "date de départ");
        let dues = date(&mapping.dues_paid_until, "dues date", "date de cotisation");
        if let (Some(j), Some(col)) = (joined, &mapping.joined_on)
            && j > today
        {
            bad(
                col,
                format!("joining date {} is in the future", j.format("%d/%m/%Y")),
                format!("la date d'adhésion {} est dans le futur", j.format("%d/%m/%Y")),
            );
        }

        let status_cell = get(&mapping.status);
        let status = match (status_cell.is_empty(), &mapping.status) {
            (false, Some(col)) => match parse_status(status_cell) {
                Some(s) => Some(s),
                None => {
                    bad(
                        col,
                        format!("unknown status {status_cell:?} (actif, suspendu or parti)"),
                        format!("statut « {status_cell} » inconnu (actif, suspendu ou parti)"),
                    );
                    None
                }
            },
            _ => Some(if left.is_some() { MembershipStatus::Left } else { MembershipStatus::Active }),
        };

        let referent = match &mapping.profession_referent {
            Some(col) => {
                let cell = get(&mapping.profession_referent);
                parse_bool(cell).unwrap_or_else(|| {
                    bad(col, format!("{cell:?} is not oui or non"), format!("« {cell} » n'est ni oui ni non"));
                    false
                })
            }
            None => false,
        };
        let board_role = Some(get(&mapping.board_role)).filter(|s| !s.is_empty()).map(str::to_owned);

        if rejects.len() > before {
            continue;
        }
        let (Some(id), Some(status)) = (id, status) else { continue };
        let joined_on = joined.unwrap_or(today);
        let left_on = match status {
            MembershipStatus::Left => Some(left.unwrap_or(today).max(joined_on)),
            _ => left,
        };
        let membership =
            Membership { joined_on, left_on, status, dues_paid_until: dues, profession_referent: referent, board_role };
        if let Err(e) = membership.check() {
            let column = if left.is_some() { mapping.left_on.as_ref() } else { mapping.status.as_ref() };
            rejects.push(MemberReject {
                line,
                column: column.map(|c| c.header.clone()),
                reason_en: e.en,
                reason_fr: e.fr,
            });
            continue;
        }
        out.push((id, membership));
    }
    if rejects.is_empty() { Ok(out) } else { Err(rejects) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn header(cols: &[&str]) -> Vec<String> {
        cols.iter().map(|s| (*s).to_owned()).collect()
    }

    fn rows(lines: &[&[&str]]) -> Vec<(u64, Vec<String>)> {
        lines.iter().enumerate().map(|(i, l)| (i as u64 + 2, l.iter().map(|s| (*s).to_owned()).collect())).collect()
    }

    fn valid_rpps() -> String {
        // Find the check digit that makes the Luhn sum right.
        (0..10)
            .map(|c| format!("1000123456{c}"))
            .find(|s| Rpps::parse(s).is_ok_and(|r| r.warnings().is_empty()))
            .unwrap()
    }

    #[test]
    fn default_headers_are_found_whatever_the_case_and_accents() {
        let h = header(&[
            "Nom",
            "n° rpps",
            "DATE D'ADHESION",
            "statut",
            "Cotisation payee jusqu'au",
            "REFERENT",
            "Rôle au bureau",
        ]);
        let m = ColumnMapping::resolve(&h, &[]).unwrap();
        assert_eq!(m.national_id.index, 1);
        assert_eq!(m.joined_on.as_ref().unwrap().index, 2);
        assert_eq!(m.status.as_ref().unwrap().index, 3);
        assert_eq!(m.dues_paid_until.as_ref().unwrap().index, 4);
        assert_eq!(m.profession_referent.as_ref().unwrap().index, 5);
        assert_eq!(m.board_role.as_ref().unwrap().index, 6);
        assert!(m.left_on.is_none());
    }

    #[test]
    fn overrides_win_and_missing_columns_are_explained() {
        let h = header(&["Numéro pro", "Entrée"]);
        let e = ColumnMapping::resolve(&h, &[]).unwrap_err();
        assert!(e.en.contains("--map national_id") && e.en.contains("Numéro pro"), "{}", e.en);
        let m = ColumnMapping::resolve(
            &h,
            &[(MemberField::NationalId, "numero PRO".into()), (MemberField::JoinedOn, "Entrée".into())],
        )
        .unwrap();
        assert_eq!((m.national_id.index, m.joined_on.unwrap().index), (0, 1));
        let e = ColumnMapping::resolve(&h, &[(MemberField::Status, "Nope".into())]).unwrap_err();
        assert!(e.en.contains("no column \"Nope\""), "{}", e.en);
        let e = ColumnMapping::resolve(
            &h,
            &[(MemberField::NationalId, "Entrée".into()), (MemberField::JoinedOn, "Entrée".into())],
        )
        .unwrap_err();
        assert!(e.en.contains("both"), "{}", e.en);
        assert_eq!(MemberField::parse("board_role"), Some(MemberField::BoardRole));
        assert_eq!(MemberField::parse("nope"), None);
    }

    #[test]
    fn ids_dates_statuses_and_booleans() {
        let rpps = valid_rpps();
        assert_eq!(parse_member_id(&rpps).unwrap().to_string(), format!("8{rpps}"));
        assert_eq!(parse_member_id(&format!("8{rpps}")).unwrap().to_string(), format!("8{rpps}"));
        assert!(parse_member_id("").is_err());
        assert!(parse_member_id("12345").unwrap_err().0.contains("5 characters"));
        assert_eq!(parse_member_date("31/01/2024"), Some(d(2024, 1, 31)));
        assert_eq!(parse_member_date("1/2/2024"), Some(d(2024, 2, 1)));
        assert_eq!(parse_member_date("2024-01-31"), Some(d(2024, 1, 31)));
        assert_eq!(parse_member_date("2024-01-31 00:00:00"), Some(d(2024, 1, 31)));
        assert_eq!(parse_member_date("45292"), Some(d(2024, 1, 1)));
        assert_eq!(parse_member_date("45292.75"), Some(d(2024, 1, 1)));
        assert_eq!(parse_member_date("1"), Some(d(1900, 1, 1)));
        assert_eq!(parse_member_date("31/02/2024"), None);
        assert_eq!(parse_member_date("janvier"), None);
        assert_eq!(parse_member_date("60"), None);
        assert_eq!(parse_status(" Suspendue "), Some(MembershipStatus::Suspended));
        assert_eq!(parse_status("radié"), Some(MembershipStatus::Left));
        assert_eq!(parse_status("peut-être"), None);
        assert_eq!(parse_bool("OUI"), Some(true));
        assert_eq!(parse_bool(""), Some(false));
        assert_eq!(parse_bool("bof"), None);
    }

    #[test]
    fn parses_a_good_list_with_defaults() {
        let rpps = valid_rpps();
        let h = header(&[
            "RPPS",
            "Date d'adhésion",
            "Statut",
            "Cotisation payée jusqu'au",
            "Référent",
            "Rôle au bureau",
            "Date de départ",
        ]);
        let m = ColumnMapping::resolve(&h, &[]).unwrap();
        let today = d(2025, 6, 1);
        let list = parse_members(
            &rows(&[
                &[&rpps, "15/03/2023", "actif", "31/12/2025", "oui", "Présidente", ""],
                &["123456789", "", "", "", "", "", ""],
            ]),
            &m,
            today,
        )
        .unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].0.to_string(), format!("8{rpps}"));
        assert_eq!(
            list[0].1,
            Membership {
                joined_on: d(2023, 3, 15),
                left_on: None,
                status: MembershipStatus::Active,
                dues_paid_until: Some(d(2025, 12, 31)),
                profession_referent: true,
                board_role: Some("Présidente".into()),
            }
        );
        assert_eq!(list[1].0.to_string(), "0123456789");
        assert_eq!(list[1].1.joined_on, today);
        assert_eq!(list[1].1.status, MembershipStatus::Active);

        // A leaving date alone means "left"; "parti" without a date left today.
        let left = parse_members(
            &rows(&[
                &[&rpps, "01/01/2020", "", "", "", "", "2024-06-30"],
                &["123456789", "01/01/2020", "parti", "", "non", "", ""],
            ]),
            &m,
            today,
        )
        .unwrap();
        assert_eq!((left[0].1.status, left[0].1.left_on), (MembershipStatus::Left, Some(d(2024, 6, 30))));
        assert_eq!((left[1].1.status, left[1].1.left_on), (MembershipStatus::Left, Some(today)));
    }

    #[test]
    fn reports_every_bad_cell_at_once() {
        let rpps = valid_rpps();
        let h = header(&["N° RPPS", "Date d'adhésion", "Statut", "Référent", "Date de départ"]);
        let m = ColumnMapping::resolve(&h, &[]).unwrap();
        let today = d(2025, 6, 1);
        let e = parse_members(
            &rows(&[
                &[&rpps, "15/03/2023", "actif", "oui", ""],
                &["1234", "32/01/2023", "peut-être", "bof", ""],
                &[&rpps, "01/01/2030", "actif", "", ""],
                &["123456789", "01/01/2024", "actif", "", "01/01/2025"],
                &["", "", "", "", ""],
            ]),
            &m,
            today,
        )
        .unwrap_err();
        let got: Vec<(u64, Option<&str>)> = e.iter().map(|r| (r.line, r.column.as_deref())).collect();
        assert_eq!(
            got,
            vec![
                (3, Some("N° RPPS")),
                (3, Some("Date d'adhésion")),
                (3, Some("Statut")),
                (3, Some("Référent")),
                (4, Some("N° RPPS")),
                (4, Some("Date d'adhésion")),
                (5, Some("Date de départ")),
                (6, Some("N° RPPS")),
            ]
        );
        assert!(e[4].reason_en.contains("already listed on line 2"), "{}", e[4].reason_en);
        assert!(e[4].reason_fr.contains("ligne 2"));
        assert!(e[5].reason_en.contains("future"));
        assert!(e[6].reason_en.contains("only a member who left"), "{}", e[6].reason_en);
        assert!(e[7].reason_en.contains("missing"));
    }
}
