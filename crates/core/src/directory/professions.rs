//! The professions of the Annuaire Santé: ANS nomenclature TRE_G15 "ProfessionSante", plus the
//! few codes of other ANS nomenclatures that the extract's "Code profession" column also carries
//! (TRE_R95 "UsagerTitre": ostéopathes, psychologues…; TRE_R94 "ProfessionSocial": assistants de
//! service social).
//!
//! The table is data (`data/directory/tre_g15_professions.tsv`, sources and version in
//! `data/directory/PROVENANCE.md`), embedded in the binary and parsed once on first use.

use serde::Serialize;
use std::sync::OnceLock;

static TSV: &str = include_str!("../../../../data/directory/tre_g15_professions.tsv");

/// Which ANS nomenclature a profession code belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Nomenclature {
    /// TRE_G15 ProfessionSante: professions of the code de la santé publique.
    #[serde(rename = "TRE_G15")]
    TreG15,
    /// TRE_R95 UsagerTitre: protected titles (ostéopathe, psychologue, psychothérapeute…).
    #[serde(rename = "TRE_R95")]
    TreR95,
    /// TRE_R94 ProfessionSocial: assistant de service social.
    #[serde(rename = "TRE_R94")]
    TreR94,
}

/// A profession code and its labels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Profession {
    /// Two digits, as in the extract's "Code profession" (`10`, `60`, `93`…).
    pub code: String,
    /// The ANS label ("Médecin", "Masseur-Kinésithérapeute").
    pub label: String,
    /// Plural for lists and counts ("Médecins"); ours, not ANS's.
    pub label_plural: String,
    pub nomenclature: Nomenclature,
    /// `false` for codes the ANS has deprecated (no longer given to anyone, but old data has them).
    pub active: bool,
    /// Year the profession moved to the RPPS (before it: ADELI), when known.
    pub rpps_since: Option<u16>,
}

/// The embedded table is malformed (a bug in the data file; the tests load it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("data/directory/tre_g15_professions.tsv, line {line}: {message}")]
pub struct ProfessionTableError {
    pub line: usize,
    pub message: String,
}

static TABLE: OnceLock<Result<Vec<Profession>, ProfessionTableError>> = OnceLock::new();

/// Every profession of the table, in code order. Empty if the embedded table is malformed
/// (see [`try_professions`]), which the crate's tests rule out.
pub fn professions() -> &'static [Profession] {
    try_professions().unwrap_or(&[])
}

/// Like [`professions`], but reports a malformed table.
pub fn try_professions() -> Result<&'static [Profession], &'static ProfessionTableError> {
    TABLE.get_or_init(|| parse_table(TSV)).as_ref().map(Vec::as_slice)
}

/// The profession with this code (`"10"` → Médecin), if the table has it.
pub fn profession(code: &str) -> Option<&'static Profession> {
    let all = professions();
    let code = code.trim();
    all.binary_search_by(|p| p.code.as_str().cmp(code)).ok().map(|i| &all[i])
}

fn parse_table(text: &str) -> Result<Vec<Profession>, ProfessionTableError> {
    let mut out: Vec<Profession> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let err = |message: String| ProfessionTableError { line: n, message };
        let cols: Vec<&str> = line.split('\t').collect();
        let [code, label, plural, nomenclature, status, since] = cols[..] else {
            return Err(err(format!("expected 6 tab-separated columns, found {}", cols.len())));
        };
        if code.len() != 2 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err(format!("profession code {code:?} is not 2 digits")));
        }
        if label.is_empty() || plural.is_empty() {
            return Err(err("empty label".into()));
        }
        let nomenclature = match nomenclature {
            "TRE_G15" => Nomenclature::TreG15,
            "TRE_R95" => Nomenclature::TreR95,
            "TRE_R94" => Nomenclature::TreR94,
            other => return Err(err(format!("unknown nomenclature {other:?}"))),
        };
        let active = match status {
            "active" => true,
            "deprecated" => false,
            other => return Err(err(format!("unknown status {other:?}"))),
        };
        let rpps_since = match since {
            "" => None,
            y => Some(y.parse::<u16>().map_err(|_| err(format!("bad year {y:?}")))?),
        };
        if out.last().is_some_and(|p| p.code.as_str() >= code) {
            return Err(err(format!("code {code} is not in ascending order")));
        }
        out.push(Profession {
            code: code.to_owned(),
            label: label.to_owned(),
            label_plural: plural.to_owned(),
            nomenclature,
            active,
            rpps_since,
        });
    }
    if out.is_empty() {
        return Err(ProfessionTableError { line: 0, message: "no profession".into() });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_table_loads_with_the_known_codes() {
        let all = try_professions().expect("embedded table");
        assert_eq!(all.len(), 35);
        for (code, label) in [
            ("10", "Médecin"),
            ("21", "Pharmacien"),
            ("40", "Chirurgien-Dentiste"),
            ("50", "Sage-Femme"),
            ("60", "Infirmier"),
            ("70", "Masseur-Kinésithérapeute"),
            ("80", "Pédicure-Podologue"),
            ("81", "Orthoprothésiste"),
            ("91", "Orthophoniste"),
            ("92", "Orthoptiste"),
            ("93", "Psychologue"),
            ("94", "Ergothérapeute"),
            ("95", "Diététicien"),
            ("96", "Psychomotricien"),
            ("98", "Manipulateur ERM"),
        ] {
            assert_eq!(profession(code).map(|p| p.label.as_str()), Some(label), "{code}");
        }
        assert_eq!(profession(" 60 ").map(|p| p.label_plural.as_str()), Some("Infirmiers"));
        assert!(!profession("35").unwrap().active);
        assert_eq!(profession("93").unwrap().nomenclature, Nomenclature::TreR95);
        assert_eq!(profession("41").unwrap().nomenclature, Nomenclature::TreR94);
        assert_eq!(profession("10").unwrap().rpps_since, Some(2012));
        assert!(profession("99").is_none());
        assert!(profession("").is_none());
    }

    #[test]
    fn malformed_tables_name_the_line() {
        let e =
            parse_table("#h\n10\tMédecin\tMédecins\tTRE_G15\tactive\t2012\n2\tX\tX\tTRE_G15\tactive\t\n").unwrap_err();
        assert_eq!(e.line, 3);
        let e = parse_table("21\tA\tA\tTRE_G15\tactive\t\n10\tB\tB\tTRE_G15\tactive\t\n").unwrap_err();
        assert!(e.message.contains("ascending"), "{e}");
        let e = parse_table("10\tA\tA\tTRE_X\tactive\t\n").unwrap_err();
        assert!(e.message.contains("nomenclature"), "{e}");
        let e = parse_table("10\tA\tA\tTRE_G15\tactive\n").unwrap_err();
        assert!(e.message.contains("6 tab-separated"), "{e}");
        assert!(parse_table("#only comments\n").is_err());
    }
}
