//! ADELI: the legacy 9-character number of health professionals registered by the ARS
//! (psychologists, nurses, physiotherapists… — doctors, pharmacists and the like moved to RPPS).
//!
//! What is publicly described (ARS and professional pages, no formal specification found):
//! 2 characters of département of registration (`75`, `2A`/`2B` for Corsica; overseas ones are
//! reported as `9A`… e.g. `9A` for Guadeloupe), 2 digits of profession (`93` psychologist),
//! a 4-digit order number and a final check digit. The check digit is commonly a Luhn key on
//! the 9 digits; the real numbers we could find published by their holders satisfy it
//! (`78 93 1059 6`), but the rule is not official, so a mismatch is a warning only. When the
//! département contains a letter, no rule is known for the key and it is not checked.
//!
//! National form ("identifiant national de PS"): `0` + ADELI, FHIR system
//! `urn:oid:1.2.250.1.71.4.2.1`.

use super::common::{Ch, Naming, Unit, ascii_identifier, compact, display_as_str, luhn_check_digit, luhn_valid};
use super::rpps::IDNPS_SYSTEM;
use super::{IdError, IdWarning};

const ADELI: Naming = Naming { kind: "adeli", fr: "un numéro ADELI", en: "an ADELI number", sensitive: false };
const ADELI_NATIONAL: Naming = Naming {
    kind: "adeli",
    fr: "un identifiant national ADELI (0 + ADELI)",
    en: "an ADELI national id (0 + ADELI)",
    sensitive: false,
};

/// An ADELI number: département (2 characters), then 7 digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Adeli([u8; 9]);

ascii_identifier!(Adeli);
display_as_str!(Adeli);

impl Adeli {
    /// Parses 9 characters (spaces ignored, letters upper-cased). Rejects only bad syntax.
    pub fn parse(input: &str) -> Result<Self, IdError> {
        let chars = compact(input);
        Self::from_chars(&ADELI, input, &chars)
    }

    /// Parses the 10-character national form `0` + ADELI.
    pub fn parse_national_id(input: &str) -> Result<Self, IdError> {
        let chars = compact(input);
        if chars.len() != 10 {
            return Err(ADELI_NATIONAL.wrong_length(input, 10, chars.len(), Unit::Characters));
        }
        if chars[0].c != '0' {
            return Err(ADELI_NATIONAL.err(
                input,
                format!("le premier caractère doit être 0 (type ADELI), trouvé « {} »", chars[0].c),
                format!("the first character must be 0 (ADELI type), found '{}'", chars[0].c),
            ));
        }
        Self::from_chars(&ADELI_NATIONAL, input, &chars[1..])
    }

    fn from_chars(naming: &Naming, input: &str, chars: &[Ch]) -> Result<Self, IdError> {
        if chars.len() != 9 {
            return Err(naming.wrong_length(input, 9, chars.len(), Unit::Characters));
        }
        let (d0, d1) = (chars[0], chars[1]);
        let dept_ok = match (d0.c, d1.c) {
            ('2', 'A' | 'B') | ('9', 'A'..='F') => true,
            (a, b) if a.is_ascii_digit() && b.is_ascii_digit() => !(a == '0' && b == '0'),
            _ => false,
        };
        if !dept_ok {
            return Err(naming.err(
                input,
                format!(
                    "les 2 premiers caractères « {}{} » ne sont pas un département ADELI (01–95, 2A, 2B, 97x, 9A–9F)",
                    d0.c, d1.c
                ),
                format!(
                    "the first 2 characters \"{}{}\" are not an ADELI département (01–95, 2A, 2B, 97x, 9A–9F)",
                    d0.c, d1.c
                ),
            ));
        }
        naming.digits(input, &chars[2..])?;
        let mut out = [0u8; 9];
        for (slot, ch) in out.iter_mut().zip(chars) {
            // Every character was checked to be an ASCII digit or letter above.
            *slot = u8::try_from(ch.c).unwrap_or(b'?');
        }
        Ok(Self(out))
    }

    /// Département of registration: the first 2 characters (`75`, `2A`, `9A`…).
    pub fn departement(&self) -> &str {
        &self.as_str()[..2]
    }

    /// Doubts about an accepted number: a last digit that is not the (unofficial) Luhn key.
    /// Numbers whose département has a letter are not checked (no known rule).
    pub fn warnings(&self) -> Vec<IdWarning> {
        if !self.0.iter().all(u8::is_ascii_digit) {
            return Vec::new();
        }
        let d: Vec<u8> = self.0.iter().map(|b| b - b'0').collect();
        if luhn_valid(&d) {
            return Vec::new();
        }
        let expected = luhn_check_digit(&d[..8]);
        let got = d[8];
        vec![IdWarning::new(
            "adeli",
            "luhn_mismatch",
            format!(
                "le dernier chiffre ({got}) n'est pas la clé de Luhn habituelle des numéros ADELI (attendue {expected}) ; \
                 cette règle n'est pas officielle : vérifiez le numéro auprès de l'ARS"
            ),
            format!(
                "the last digit ({got}) is not the Luhn key usually found on ADELI numbers (expected {expected}); \
                 the rule is not official: check the number with the ARS"
            ),
        )]
    }

    /// The national professional identifier: `0` + ADELI.
    pub fn national_id(&self) -> String {
        format!("0{}", self.as_str())
    }

    /// FHIR `Identifier` (system, value): `urn:oid:1.2.250.1.71.4.2.1`, `0` + ADELI.
    pub fn fhir_identifier(&self) -> (&'static str, String) {
        (IDNPS_SYSTEM, self.national_id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_published_numbers() {
        // A psychologist's number, published by its holder ("78 93 1059 6"): Luhn-valid.
        let a = Adeli::parse("78 93 1059 6").unwrap();
        assert_eq!(a.as_str(), "789310596");
        assert_eq!(a.departement(), "78");
        assert!(a.warnings().is_empty());
        assert_eq!(a.fhir_identifier(), ("urn:oid:1.2.250.1.71.4.2.1", "0789310596".to_owned()));
        assert_eq!(Adeli::parse_national_id("0789310596").unwrap(), a);
        // Corsica and overseas départements carry a letter; the key is then not checked.
        let c = Adeli::parse("2a9312345").unwrap();
        assert_eq!(c.departement(), "2A");
        assert!(c.warnings().is_empty());
        assert_eq!(Adeli::parse("9A9312345").unwrap().departement(), "9A");
    }

    #[test]
    fn a_wrong_key_is_a_warning() {
        let a = Adeli::parse("789310597").unwrap();
        let w = a.warnings();
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].code, "luhn_mismatch");
        assert!(
            w[0].en.starts_with("the last digit (7) is not the Luhn key usually found on ADELI numbers (expected 6)")
        );
    }

    #[test]
    fn rejects_bad_syntax_with_exact_reason() {
        let e = Adeli::parse("78931059").unwrap_err();
        assert_eq!(e.en, "An ADELI number has 9 characters, not 8 (spaces ignored)");
        let e = Adeli::parse("2C9310596").unwrap_err();
        assert_eq!(e.en, "the first 2 characters \"2C\" are not an ADELI département (01–95, 2A, 2B, 97x, 9A–9F)");
        let e = Adeli::parse("009310596").unwrap_err();
        assert!(e.en.starts_with("the first 2 characters \"00\""));
        let e = Adeli::parse("7893A0596").unwrap_err();
        assert_eq!(e.en, "character 'A' at position 5 is not a digit");
        let e = Adeli::parse_national_id("8789310596").unwrap_err();
        assert_eq!(e.en, "the first character must be 0 (ADELI type), found '8'");
    }

    proptest! {
        #[test]
        fn digit_numbers_parse_round_trip_and_luhn_decides_the_warning(
            p in proptest::collection::vec(0u8..10, 8), i in 0usize..9, delta in 1u8..10,
        ) {
            prop_assume!(!(p[0] == 0 && p[1] == 0));
            let mut d = p.clone();
            d.push(luhn_check_digit(&p));
            let s: String = d.iter().map(|v| char::from(b'0' + v)).collect();
            let a = Adeli::parse(&s).unwrap();
            prop_assert_eq!(Adeli::parse(a.as_str()).unwrap(), a);
            prop_assert!(a.warnings().is_empty());
            d[i] = (d[i] + delta) % 10;
            prop_assume!(!(d[0] == 0 && d[1] == 0));
            let changed: String = d.iter().map(|v| char::from(b'0' + v)).collect();
            prop_assert_eq!(Adeli::parse(&changed).unwrap().warnings().len(), 1);
        }
    }
}
