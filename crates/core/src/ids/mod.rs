//! National identifiers that can only be built valid.
//!
//! Each type exposes `parse(&str) -> Result<Self, IdError>`, `as_str()`, `Display`, `FromStr`,
//! and serializes as its string (deserialization goes through `parse`); an invalid value cannot
//! exist. Errors carry a machine-readable kind and a precise reason in French and in English.
//! Where a rule is common but not official (RPPS and ADELI check digits), breaking it is an
//! [`IdWarning`], not an error. Whitespace is ignored everywhere; letters are upper-cased.
//!
//! The rules, their sources and what could not be verified are in `docs/identifiers.md`.
//!
//! [`Nir`] is personal data: its `Debug` and `Display` are masked, and so is the input echoed
//! in its errors.

mod adeli;
mod common;
pub(crate) use common::luhn_check_digit;
mod error;
mod finess;
mod insee;
mod nir;
mod rpps;
mod siren;

pub use adeli::Adeli;
pub use error::{IdError, IdWarning};
pub use finess::{Finess, IDNST_SYSTEM};
pub use insee::InseeCode;
pub use nir::Nir;
pub use rpps::{IDNPS_SYSTEM, Rpps};
pub use siren::{LA_POSTE_HEAD_OFFICE_SIRET, LA_POSTE_SIREN, Siren, Siret};

use serde::Serialize;
use std::fmt;
use std::str::FromStr;

/// The kinds of identifier [`check`] knows, named in lower case on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum IdKind {
    Rpps,
    Adeli,
    Finess,
    Siren,
    Siret,
    Nir,
    Commune,
}

impl IdKind {
    pub const ALL: [IdKind; 7] =
        [IdKind::Rpps, IdKind::Adeli, IdKind::Finess, IdKind::Siren, IdKind::Siret, IdKind::Nir, IdKind::Commune];

    /// The lower-case name: "rpps", "adeli", "finess", "siren", "siret", "nir", "commune".
    pub fn as_str(self) -> &'static str {
        match self {
            IdKind::Rpps => "rpps",
            IdKind::Adeli => "adeli",
            IdKind::Finess => "finess",
            IdKind::Siren => "siren",
            IdKind::Siret => "siret",
            IdKind::Nir => "nir",
            IdKind::Commune => "commune",
        }
    }
}

impl fmt::Display for IdKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An identifier kind name that is not one of [`IdKind::ALL`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownIdKind(pub String);

impl fmt::Display for UnknownIdKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = IdKind::ALL.iter().map(|k| k.as_str()).collect();
        write!(f, "unknown identifier kind {:?} (expected one of: {})", self.0, names.join(", "))
    }
}

impl std::error::Error for UnknownIdKind {}

impl FromStr for IdKind {
    type Err = UnknownIdKind;
    /// Accepts the lower-case names (ASCII case is ignored, surrounding spaces too).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim();
        IdKind::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(wanted))
            .ok_or_else(|| UnknownIdKind(s.to_owned()))
    }
}

/// The outcome of a successful [`check`].
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct Checked {
    pub kind: IdKind,
    /// The value as stored: no spaces, letters upper-case (the full value, even for a NIR).
    pub normalized: String,
    /// Doubts about an accepted value (e.g. an RPPS whose last digit is not the Luhn key).
    pub warnings: Vec<IdWarning>,
    /// FHIR `Identifier` (system, value) where the identifier has a national form:
    /// RPPS and ADELI (IDNPS), FINESS (IDNST).
    pub fhir: Option<(String, String)>,
}

/// Masks `normalized` for a NIR, like [`Nir`]'s own `Debug`.
impl fmt::Debug for Checked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = match self.kind {
            IdKind::Nir => Nir::parse(&self.normalized).map(|n| n.masked()).unwrap_or_else(|_| "***".to_owned()),
            _ => self.normalized.clone(),
        };
        f.debug_struct("Checked")
            .field("kind", &self.kind)
            .field("normalized", &shown)
            .field("warnings", &self.warnings)
            .field("fhir", &self.fhir)
            .finish()
    }
}

fn fhir(pair: (&str, String)) -> Option<(String, String)> {
    Some((pair.0.to_owned(), pair.1))
}

fn significant_len(value: &str) -> usize {
    value.chars().filter(|c| !c.is_whitespace()).count()
}

/// Uniform entry point (for the CLI): parse `value` as `kind`, and report the normalized form,
/// warnings and FHIR identifier.
///
/// RPPS, ADELI and FINESS also accept their national form (`8` + RPPS, `0` + ADELI,
/// `1` + FINESS), told apart by length. For `Commune` this checks the syntax only: whether the
/// code names a current commune is the caller's business (reference data).
pub fn check(kind: IdKind, value: &str) -> Result<Checked, IdError> {
    let (normalized, warnings, fhir) = match kind {
        IdKind::Rpps => {
            let r = if significant_len(value) == 12 { Rpps::parse_national_id(value)? } else { Rpps::parse(value)? };
            (r.as_str().to_owned(), r.warnings(), fhir(r.fhir_identifier()))
        }
        IdKind::Adeli => {
            let a = if significant_len(value) == 10 { Adeli::parse_national_id(value)? } else { Adeli::parse(value)? };
            (a.as_str().to_owned(), a.warnings(), fhir(a.fhir_identifier()))
        }
        IdKind::Finess => {
            let f =
                if significant_len(value) == 10 { Finess::parse_national_id(value)? } else { Finess::parse(value)? };
            (f.as_str().to_owned(), Vec::new(), fhir(f.fhir_identifier()))
        }
        IdKind::Siren => (Siren::parse(value)?.as_str().to_owned(), Vec::new(), None),
        IdKind::Siret => (Siret::parse(value)?.as_str().to_owned(), Vec::new(), None),
        IdKind::Nir => (Nir::parse(value)?.as_str().to_owned(), Vec::new(), None),
        IdKind::Commune => (InseeCode::parse(value)?.as_str().to_owned(), Vec::new(), None),
    };
    Ok(Checked { kind, normalized, warnings, fhir })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_parse_from_their_names() {
        for k in IdKind::ALL {
            assert_eq!(k.as_str().parse::<IdKind>().unwrap(), k);
            assert_eq!(k.to_string(), k.as_str());
        }
        assert_eq!(" SIRET ".parse::<IdKind>().unwrap(), IdKind::Siret);
        let e = "iban".parse::<IdKind>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown identifier kind \"iban\" (expected one of: rpps, adeli, finess, siren, siret, nir, commune)"
        );
    }

    #[test]
    fn check_reports_normalized_warnings_and_fhir() {
        let c = check(IdKind::Rpps, "100 0345 6789").unwrap();
        assert_eq!(c.normalized, "10003456789");
        assert_eq!(c.warnings.len(), 1);
        assert_eq!(c.fhir, Some(("urn:oid:1.2.250.1.71.4.2.1".to_owned(), "810003456789".to_owned())));
        let c = check(IdKind::Rpps, "810002909371").unwrap();
        assert_eq!(c.normalized, "10002909371");
        assert!(c.warnings.is_empty());

        let c = check(IdKind::Finess, "2a0000022").unwrap();
        assert_eq!(c.normalized, "2A0000022");
        assert_eq!(c.fhir, Some(("urn:oid:1.2.250.1.71.4.2.2".to_owned(), "12A0000022".to_owned())));
        assert_eq!(check(IdKind::Finess, "1060016219").unwrap().normalized, "060016219");

        let c = check(IdKind::Adeli, "0789310596").unwrap();
        assert_eq!(c.normalized, "789310596");
        assert_eq!(c.fhir, Some(("urn:oid:1.2.250.1.71.4.2.1".to_owned(), "0789310596".to_owned())));

        let c = check(IdKind::Siret, "356 000 000 00048").unwrap();
        assert_eq!((c.normalized.as_str(), c.fhir), ("35600000000048", None));
        assert_eq!(check(IdKind::Siren, "441639465").unwrap().normalized, "441639465");
        assert_eq!(check(IdKind::Commune, "2b033").unwrap().normalized, "2B033");

        let e = check(IdKind::Siren, "441639466").unwrap_err();
        assert_eq!(e.kind, "siren");
    }

    #[test]
    fn check_keeps_the_full_nir_but_debug_masks_it() {
        let c = check(IdKind::Nir, "1 84 12 76 451 089 46").unwrap();
        assert_eq!(c.normalized, "184127645108946");
        let shown = format!("{c:?}");
        assert!(shown.contains("*************46") && !shown.contains("1841276"), "{shown}");
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(json, r#"{"kind":"nir","normalized":"184127645108946","warnings":[],"fhir":null}"#);
        let e = check(IdKind::Nir, "1 84 12 76 451 089 47").unwrap_err();
        assert_eq!(e.en, "check digit mismatch: expected 46, got 47 (97 − (first 13 digits mod 97))");
    }
}
