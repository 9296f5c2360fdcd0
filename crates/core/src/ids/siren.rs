//! SIREN (legal unit) and SIRET (establishment) numbers of the INSEE SIRENE register.
//!
//! Rules (INSEE, <https://xml.insee.fr/schema/siret.html#controles>: "Les numéros SIREN, NIC
//! et SIRET intègrent le mécanisme de contrôle de parité connu sous le nom de formule (ou clé)
//! de Luhn"):
//! - SIREN: 9 digits, Luhn key on the 9th.
//! - SIRET: SIREN + NIC (4-digit order number + 1 check digit) = 14 digits; the SIREN part
//!   keeps its own key and the 14 digits satisfy Luhn.
//! - La Poste exception: all its establishments share SIREN 356000000 (itself Luhn-valid).
//!   Only the head office SIRET 356 000 000 00048 satisfies Luhn; for every other SIRET of that
//!   SIREN the sum of the 14 digits must be a multiple of 5 (French Wikipedia, "Système
//!   d'identification du répertoire des établissements", section on La Poste, citing INSEE;
//!   python-stdnum implements the same rule).

use super::IdError;
use super::common::{Naming, Unit, ascii_digits, ascii_identifier, compact, display_as_str, luhn_check_digit};

const SIREN: Naming = Naming { kind: "siren", fr: "un SIREN", en: "a SIREN", sensitive: false };
const SIRET: Naming = Naming { kind: "siret", fr: "un SIRET", en: "a SIRET", sensitive: false };

/// The SIREN shared by every establishment of La Poste.
pub const LA_POSTE_SIREN: &str = "356000000";
/// La Poste's head office: the only SIRET of [`LA_POSTE_SIREN`] that follows Luhn.
pub const LA_POSTE_HEAD_OFFICE_SIRET: &str = "35600000000048";

/// A SIREN number: 9 digits, Luhn key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Siren([u8; 9]);

/// A SIRET number: SIREN + NIC, 14 digits (Luhn, or La Poste's digit-sum rule).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Siret([u8; 14]);

ascii_identifier!(Siren);
display_as_str!(Siren);
ascii_identifier!(Siret);
display_as_str!(Siret);

impl Siren {
    /// Parses 9 digits; spaces are ignored (`"732 829 320"`).
    pub fn parse(input: &str) -> Result<Self, IdError> {
        let chars = compact(input);
        if chars.len() != 9 {
            return Err(SIREN.wrong_length(input, 9, chars.len(), Unit::Digits));
        }
        let d = SIREN.digits(input, &chars)?;
        let expected = luhn_check_digit(&d[..8]);
        if expected != d[8] {
            return Err(SIREN.key_mismatch(input, &expected.to_string(), &d[8].to_string(), "clé de Luhn", "Luhn key"));
        }
        ascii_digits(&d).map(Self).ok_or_else(|| SIREN.wrong_length(input, 9, d.len(), Unit::Digits))
    }
}

impl Siret {
    /// Parses 14 digits; spaces are ignored (`"732 829 320 00074"`).
    pub fn parse(input: &str) -> Result<Self, IdError> {
        let chars = compact(input);
        if chars.len() != 14 {
            let mut e = SIRET.wrong_length(input, 14, chars.len(), Unit::Digits);
            if chars.len() == 9 {
                e.fr.push_str(" ; 9 chiffres : est-ce un SIREN ?");
                e.en.push_str("; 9 digits: is this a SIREN?");
            }
            return Err(e);
        }
        let d = SIRET.digits(input, &chars)?;
        let siren_expected = luhn_check_digit(&d[..8]);
        if siren_expected != d[8] {
            return Err(SIRET.err(
                input,
                format!(
                    "la partie SIREN (9 premiers chiffres) a une clé incorrecte : attendue {siren_expected}, trouvée {} (clé de Luhn)",
                    d[8]
                ),
                format!(
                    "the SIREN part (first 9 digits) has a wrong check digit: expected {siren_expected}, got {} (Luhn key)",
                    d[8]
                ),
            ));
        }
        let value: String = d.iter().map(|v| char::from(b'0' + v)).collect();
        if value.starts_with(LA_POSTE_SIREN) && value != LA_POSTE_HEAD_OFFICE_SIRET {
            let sum: u32 = d.iter().map(|&v| u32::from(v)).sum();
            if !sum.is_multiple_of(5) {
                return Err(SIRET.err(
                    input,
                    format!(
                        "SIRET de La Poste (SIREN 356000000) : la somme des 14 chiffres doit être un multiple de 5, elle vaut {sum}"
                    ),
                    format!(
                        "La Poste SIRET (SIREN 356000000): the sum of the 14 digits must be a multiple of 5, it is {sum}"
                    ),
                ));
            }
        } else {
            let expected = luhn_check_digit(&d[..13]);
            if expected != d[13] {
                return Err(SIRET.key_mismatch(
                    input,
                    &expected.to_string(),
                    &d[13].to_string(),
                    "clé de Luhn sur les 14 chiffres",
                    "Luhn key over the 14 digits",
                ));
            }
        }
        ascii_digits(&d).map(Self).ok_or_else(|| SIRET.wrong_length(input, 14, d.len(), Unit::Digits))
    }

    /// The legal unit this establishment belongs to (first 9 digits).
    pub fn siren(&self) -> Siren {
        let mut s = [0u8; 9];
        s.copy_from_slice(&self.0[..9]);
        Siren(s)
    }

    /// The NIC: establishment order number (4 digits) and check digit.
    pub fn nic(&self) -> &str {
        &self.as_str()[9..]
    }

    /// Whether this is a La Poste establishment (digit-sum rule instead of Luhn).
    pub fn is_la_poste(&self) -> bool {
        self.as_str().starts_with(LA_POSTE_SIREN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_sirens_of_well_known_companies() {
        // Published on the companies' legal notices and in the SIRENE register.
        for (siren, who) in [
            ("441639465", "Renault SA"),
            ("542051180", "TotalEnergies SE"),
            ("552032534", "Danone"),
            ("632012100", "L'Oréal"),
            ("380129866", "Orange SA"),
            ("552081317", "EDF"),
            ("662042449", "BNP Paribas"),
            ("552120222", "Société Générale"),
            ("356000000", "La Poste"),
            ("732829320", "INSEE's own example"),
        ] {
            let s = Siren::parse(siren).unwrap_or_else(|e| panic!("{who}: {e}"));
            assert_eq!(s.as_str(), siren);
        }
        assert_eq!(Siren::parse(" 441 639\u{a0}465 ").unwrap().as_str(), "441639465");
    }

    #[test]
    fn rejects_sirens_with_exact_reason() {
        let e = Siren::parse("441639466").unwrap_err();
        assert_eq!(e.kind, "siren");
        assert_eq!(e.en, "check digit mismatch: expected 5, got 6 (Luhn key)");
        assert_eq!(e.fr, "clé de contrôle incorrecte : attendue 5, trouvée 6 (clé de Luhn)");
        let e = Siren::parse("44163946").unwrap_err();
        assert_eq!(e.en, "A SIREN has 9 digits, not 8 (spaces ignored)");
        let e = Siren::parse("441 6O9 465").unwrap_err();
        assert_eq!(e.en, "character 'O' at position 6 is not a digit");
        assert_eq!(e.fr, "le caractère « O » en position 6 n'est pas un chiffre");
        assert_eq!(e.input, "441 6O9 465");
    }

    #[test]
    fn accepts_real_sirets_including_la_poste() {
        let s = Siret::parse("732 829 320 00074").unwrap();
        assert_eq!(s.siren().as_str(), "732829320");
        assert_eq!(s.nic(), "00074");
        // La Poste head office: Luhn-valid, digit sum 26.
        let hq = Siret::parse("35600000000048").unwrap();
        assert!(hq.is_la_poste());
        assert_eq!(hq.siren(), Siren::parse("356000000").unwrap());
        // A La Poste establishment: not Luhn-valid, digit sum 35 (python-stdnum issue #291).
        assert!(!crate::ids::common::luhn_valid(&[3, 5, 6, 0, 0, 0, 0, 0, 0, 0, 9, 0, 7, 5]));
        Siret::parse("35600000009075").unwrap();
        // An establishment of a public body (GIP CAD), as published in an HL7 interface spec.
        Siret::parse("13003057000027").unwrap();
    }

    #[test]
    fn rejects_sirets_with_exact_reason() {
        let e = Siret::parse("73282932000075").unwrap_err();
        assert_eq!(e.en, "check digit mismatch: expected 4, got 5 (Luhn key over the 14 digits)");
        let e = Siret::parse("73282932100074").unwrap_err();
        assert_eq!(e.en, "the SIREN part (first 9 digits) has a wrong check digit: expected 0, got 1 (Luhn key)");
        // Luhn-valid but La Poste's rule applies (digit sum 33).
        let e = Siret::parse("35600000000055").unwrap_err();
        assert!(crate::ids::common::luhn_valid(&[3, 5, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 5]));
        assert_eq!(
            e.en,
            "La Poste SIRET (SIREN 356000000): the sum of the 14 digits must be a multiple of 5, it is 24"
        );
        let e = Siret::parse("732829320").unwrap_err();
        assert_eq!(e.en, "A SIRET has 14 digits, not 9 (spaces ignored); 9 digits: is this a SIREN?");
    }

    #[test]
    fn serializes_as_string_and_deserializes_through_parse() {
        let s = Siret::parse("73282932000074").unwrap();
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"73282932000074\"");
        let back: Siret = serde_json::from_str("\"732 829 320 00074\"").unwrap();
        assert_eq!(back, s);
        assert!(serde_json::from_str::<Siret>("\"73282932000075\"").is_err());
        assert_eq!(s.to_string(), "73282932000074");
        assert_eq!("441639465".parse::<Siren>().unwrap().to_string(), "441639465");
    }

    fn with_luhn(payload: &[u8]) -> Vec<u8> {
        let mut v = payload.to_vec();
        v.push(luhn_check_digit(payload));
        v
    }

    fn text(d: &[u8]) -> String {
        d.iter().map(|v| char::from(b'0' + v)).collect()
    }

    proptest! {
        #[test]
        fn every_generated_siren_parses_and_round_trips(p in proptest::collection::vec(0u8..10, 8)) {
            let s = text(&with_luhn(&p));
            let parsed = Siren::parse(&s).unwrap();
            prop_assert_eq!(parsed.as_str(), s.as_str());
            prop_assert_eq!(Siren::parse(parsed.as_str()).unwrap(), parsed);
        }

        #[test]
        fn any_single_digit_change_breaks_a_siren(
            p in proptest::collection::vec(0u8..10, 8), i in 0usize..9, delta in 1u8..10,
        ) {
            let mut d = with_luhn(&p);
            d[i] = (d[i] + delta) % 10;
            prop_assert!(Siren::parse(&text(&d)).is_err());
        }

        #[test]
        fn every_generated_siret_parses_and_round_trips(
            p in proptest::collection::vec(0u8..10, 8), nic in proptest::collection::vec(0u8..10, 4),
        ) {
            let mut d = with_luhn(&p);
            d.extend_from_slice(&nic);
            let d = with_luhn(&d);
            let s = text(&d);
            prop_assume!(!s.starts_with(LA_POSTE_SIREN));
            let parsed = Siret::parse(&s).unwrap();
            prop_assert_eq!(parsed.as_str(), s.as_str());
            let siren = parsed.siren();
            prop_assert_eq!(siren.as_str(), &s[..9]);
            prop_assert_eq!(Siret::parse(&parsed.to_string()).unwrap(), parsed);
        }

        #[test]
        fn any_single_digit_change_breaks_a_luhn_siret(
            p in proptest::collection::vec(0u8..10, 8), nic in proptest::collection::vec(0u8..10, 4),
            i in 0usize..14, delta in 1u8..10,
        ) {
            let mut d = with_luhn(&p);
            d.extend_from_slice(&nic);
            let mut d = with_luhn(&d);
            prop_assume!(!text(&d).starts_with(LA_POSTE_SIREN));
            d[i] = (d[i] + delta) % 10;
            // Either the SIREN part or the whole number now fails Luhn, unless the change
            // made it a La Poste number (then the digit-sum rule decides; skip that case).
            prop_assume!(!text(&d).starts_with(LA_POSTE_SIREN));
            prop_assert!(Siret::parse(&text(&d)).is_err());
        }

        #[test]
        fn la_poste_sirets_follow_the_digit_sum(nic in proptest::collection::vec(0u8..10, 5)) {
            let mut d = vec![3, 5, 6, 0, 0, 0, 0, 0, 0];
            d.extend_from_slice(&nic);
            let s = text(&d);
            let sum: u32 = d.iter().map(|&v| u32::from(v)).sum();
            let ok = Siret::parse(&s).is_ok();
            if s == LA_POSTE_HEAD_OFFICE_SIRET {
                prop_assert!(ok);
            } else {
                prop_assert_eq!(ok, sum.is_multiple_of(5));
            }
        }
    }
}
