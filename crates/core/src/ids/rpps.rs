//! RPPS: the 11-digit number of the Répertoire partagé des professionnels de santé.
//!
//! The last digit is commonly a Luhn key, but no official specification we could find says so,
//! and ANS's own published FHIR examples use RPPS numbers that fail Luhn (e.g. `10003456789`
//! in the MSSanté examples, `10002673899` in the SAS ones). A failed Luhn check is therefore a
//! [`IdWarning`], never a rejection: only the syntax (11 digits) is enforced.
//!
//! National form ("identifiant national de PS", IDNPS): `8` + RPPS, 12 characters, in the FHIR
//! identifier system `urn:oid:1.2.250.1.71.4.2.1` (ADELI-based professionals use `0` + ADELI).

use super::common::{
    Naming, Unit, ascii_digits, ascii_identifier, compact, display_as_str, luhn_check_digit, luhn_valid,
};
use super::{IdError, IdWarning};

const RPPS: Naming = Naming { kind: "rpps", fr: "un numéro RPPS", en: "an RPPS number", sensitive: false };
const RPPS_NATIONAL: Naming = Naming {
    kind: "rpps",
    fr: "un identifiant national RPPS (8 + RPPS)",
    en: "an RPPS national id (8 + RPPS)",
    sensitive: false,
};

/// OID system of the national professional identifier (IDNPS), for RPPS and ADELI alike.
pub const IDNPS_SYSTEM: &str = "urn:oid:1.2.250.1.71.4.2.1";

/// An RPPS number: 11 digits. Its check digit is only a warning, see [`Rpps::warnings`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Rpps([u8; 11]);

ascii_identifier!(Rpps);
display_as_str!(Rpps);

impl Rpps {
    /// Parses 11 digits (spaces ignored). Rejects only bad syntax.
    pub fn parse(input: &str) -> Result<Self, IdError> {
        let chars = compact(input);
        if chars.len() != 11 {
            let mut e = RPPS.wrong_length(input, 11, chars.len(), Unit::Digits);
            if chars.len() == 12 && chars.first().map(|c| c.c) == Some('8') {
                e.fr.push_str(" ; 12 caractères commençant par 8 : identifiant national (8 + RPPS) ?");
                e.en.push_str("; 12 characters starting with 8: a national id (8 + RPPS)?");
            }
            return Err(e);
        }
        let d = RPPS.digits(input, &chars)?;
        ascii_digits(&d).map(Self).ok_or_else(|| RPPS.wrong_length(input, 11, d.len(), Unit::Digits))
    }

    /// Parses the 12-character national form `8` + RPPS (e.g. `810002909371`).
    pub fn parse_national_id(input: &str) -> Result<Self, IdError> {
        let chars = compact(input);
        if chars.len() != 12 {
            return Err(RPPS_NATIONAL.wrong_length(input, 12, chars.len(), Unit::Characters));
        }
        match chars[0].c {
            '8' => {}
            '0' => {
                return Err(RPPS_NATIONAL.err(
                    input,
                    "le préfixe 0 désigne un identifiant national fondé sur un numéro ADELI (0 + ADELI), pas sur un RPPS",
                    "prefix 0 marks a national id based on an ADELI number (0 + ADELI), not on an RPPS",
                ));
            }
            c => {
                return Err(RPPS_NATIONAL.err(
                    input,
                    format!("le premier caractère doit être 8 (type RPPS), trouvé « {c} »"),
                    format!("the first character must be 8 (RPPS type), found '{c}'"),
                ));
            }
        }
        let d = RPPS_NATIONAL.digits(input, &chars[1..])?;
        ascii_digits(&d).map(Self).ok_or_else(|| RPPS_NATIONAL.wrong_length(input, 12, d.len() + 1, Unit::Characters))
    }

    /// Doubts about an accepted number: a last digit that is not the (unofficial) Luhn key.
    pub fn warnings(&self) -> Vec<IdWarning> {
        let d: Vec<u8> = self.0.iter().map(|b| b - b'0').collect();
        if luhn_valid(&d) {
            return Vec::new();
        }
        let expected = luhn_check_digit(&d[..10]);
        let got = d[10];
        vec![IdWarning::new(
            "rpps",
            "luhn_mismatch",
            format!(
                "le dernier chiffre ({got}) n'est pas la clé de Luhn habituelle des numéros RPPS (attendue {expected}) ; \
                 cette règle n'est pas officielle : vérifiez le numéro dans l'annuaire santé"
            ),
            format!(
                "the last digit ({got}) is not the Luhn key usually found on RPPS numbers (expected {expected}); \
                 the rule is not official: check the number against the directory"
            ),
        )]
    }

    /// The national professional identifier: `8` + RPPS.
    pub fn national_id(&self) -> String {
        format!("8{}", self.as_str())
    }

    /// FHIR `Identifier` (system, value): `urn:oid:1.2.250.1.71.4.2.1`, `8` + RPPS.
    pub fn fhir_identifier(&self) -> (&'static str, String) {
        (IDNPS_SYSTEM, self.national_id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_with_or_without_luhn_and_warns() {
        // Luhn-valid number used in ANS's SAS FHIR examples.
        let r = Rpps::parse("10002909371").unwrap();
        assert!(r.warnings().is_empty());
        assert_eq!(r.fhir_identifier(), ("urn:oid:1.2.250.1.71.4.2.1", "810002909371".to_owned()));
        // ANS's MSSanté examples use 10003456789, which fails Luhn: accepted, with a warning.
        let r = Rpps::parse("100 0345 6789").unwrap();
        assert_eq!(r.as_str(), "10003456789");
        let w = r.warnings();
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].kind, "rpps");
        assert_eq!(w[0].code, "luhn_mismatch");
        assert!(w[0].en.contains("last digit (9)") && w[0].en.contains("expected 6"), "{}", w[0].en);
    }

    #[test]
    fn national_form() {
        let r = Rpps::parse_national_id("810002909371").unwrap();
        assert_eq!(r.as_str(), "10002909371");
        assert_eq!(r.national_id(), "810002909371");
        let e = Rpps::parse_national_id("0789310596").unwrap_err();
        assert_eq!(e.en, "An RPPS national id (8 + RPPS) has 12 characters, not 10 (spaces ignored)");
        let e = Rpps::parse_national_id("010002909371").unwrap_err();
        assert!(e.en.starts_with("prefix 0 marks a national id based on an ADELI number"), "{}", e.en);
        let e = Rpps::parse_national_id("910002909371").unwrap_err();
        assert_eq!(e.en, "the first character must be 8 (RPPS type), found '9'");
    }

    #[test]
    fn rejects_bad_syntax_with_exact_reason() {
        let e = Rpps::parse("1000290937").unwrap_err();
        assert_eq!(e.en, "An RPPS number has 11 digits, not 10 (spaces ignored)");
        assert_eq!(e.fr, "Un numéro RPPS comporte 11 chiffres, et non 10 (espaces ignorés)");
        let e = Rpps::parse("810002909371").unwrap_err();
        assert!(e.en.ends_with("12 characters starting with 8: a national id (8 + RPPS)?"), "{}", e.en);
        let e = Rpps::parse("1000290937A").unwrap_err();
        assert_eq!(e.en, "character 'A' at position 11 is not a digit");
    }

    proptest! {
        #[test]
        fn any_11_digits_parse_and_round_trip(s in "[0-9]{11}") {
            let r = Rpps::parse(&s).unwrap();
            prop_assert_eq!(Rpps::parse(r.as_str()).unwrap(), r);
            prop_assert_eq!(Rpps::parse_national_id(&r.national_id()).unwrap(), r);
        }

        #[test]
        fn a_single_digit_change_of_a_luhn_rpps_warns(
            p in proptest::collection::vec(0u8..10, 10), i in 0usize..11, delta in 1u8..10,
        ) {
            let mut d = p.clone();
            d.push(luhn_check_digit(&p));
            let ok: String = d.iter().map(|v| char::from(b'0' + v)).collect();
            prop_assert!(Rpps::parse(&ok).unwrap().warnings().is_empty());
            d[i] = (d[i] + delta) % 10;
            let changed: String = d.iter().map(|v| char::from(b'0' + v)).collect();
            prop_assert_eq!(Rpps::parse(&changed).unwrap().warnings().len(), 1);
        }
    }
}
