//! FINESS: the 9-character number of the Fichier national des établissements sanitaires et
//! sociaux.
//!
//! Structure: 2 characters of département (`01`…`95`, `2A`/`2B` for Corsica, `97`/`98`
//! overseas), 6 digits, then a Luhn check digit on the 9th character.
//!
//! Corsica: for the key, `2A` is read as `21` and `2B` as `22` (equivalently A = 10, B = 11
//! with the usual digit sum of doubled values). No document we could find states it; we
//! established it on real numbers: all 33 Corsican FINESS numbers (17 `2A…`, 16 `2B…`) in the
//! FINESS extract republished by Eurostat's healthcare-services dataset
//! (github.com/eurostat/healthcare-services, `data/healthcare/csv/FR.csv`, FINESS reference
//! date 2020-03-06) satisfy this rule and none satisfies `2A`/`2B` → `20`, `19`/`18` or `0`;
//! the 5,335 other numbers of that file all satisfy plain Luhn. A wrong key is an error.
//!
//! A FINESS number names either a legal entity ("entité juridique", EJ) or an establishment
//! ("établissement", ET/EG); nothing in the number tells which: this type does not pretend to.
//!
//! National form ("identifiant national de structure", IDNST): `1` + FINESS, FHIR system
//! `urn:oid:1.2.250.1.71.4.2.2`.

use super::IdError;
use super::common::{Ch, Naming, Unit, ascii_identifier, compact, display_as_str, luhn_check_digit};

const FINESS: Naming = Naming { kind: "finess", fr: "un numéro FINESS", en: "a FINESS number", sensitive: false };
const FINESS_NATIONAL: Naming = Naming {
    kind: "finess",
    fr: "un identifiant national de structure FINESS (1 + FINESS)",
    en: "a FINESS national structure id (1 + FINESS)",
    sensitive: false,
};

/// OID system of the national structure identifier (IDNST).
pub const IDNST_SYSTEM: &str = "urn:oid:1.2.250.1.71.4.2.2";

/// A FINESS number (legal entity or establishment: the number does not say which).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Finess([u8; 9]);

ascii_identifier!(Finess);
display_as_str!(Finess);

impl Finess {
    /// Parses 9 characters (spaces ignored, `2a` accepted as `2A`), Luhn key enforced.
    pub fn parse(input: &str) -> Result<Self, IdError> {
        let chars = compact(input);
        Self::from_chars(&FINESS, input, &chars)
    }

    /// Parses the 10-character national form `1` + FINESS (e.g. `1060016219`).
    pub fn parse_national_id(input: &str) -> Result<Self, IdError> {
        let chars = compact(input);
        if chars.len() != 10 {
            return Err(FINESS_NATIONAL.wrong_length(input, 10, chars.len(), Unit::Characters));
        }
        if chars[0].c != '1' {
            return Err(FINESS_NATIONAL.err(
                input,
                format!("le premier caractère doit être 1 (type FINESS), trouvé « {} »", chars[0].c),
                format!("the first character must be 1 (FINESS type), found '{}'", chars[0].c),
            ));
        }
        Self::from_chars(&FINESS_NATIONAL, input, &chars[1..])
    }

    fn from_chars(naming: &Naming, input: &str, chars: &[Ch]) -> Result<Self, IdError> {
        if chars.len() != 9 {
            return Err(naming.wrong_length(input, 9, chars.len(), Unit::Characters));
        }
        // Value of the 2nd character for the key: 2A → 21, 2B → 22 (see module docs).
        let second = match (chars[0].c, chars[1].c) {
            ('2', 'A') => 1,
            ('2', 'B') => 2,
            (a, b) if a.is_ascii_digit() && b.is_ascii_digit() => {
                if a == '0' && b == '0' {
                    return Err(naming.err(
                        input,
                        "les 2 premiers caractères « 00 » ne sont pas un département",
                        "the first 2 characters \"00\" are not a département",
                    ));
                }
                chars[1].digit().unwrap_or(0)
            }
            (a, b) => {
                return Err(naming.err(
                    input,
                    format!("les 2 premiers caractères « {a}{b} » ne sont pas un département (2 chiffres, 2A ou 2B)"),
                    format!("the first 2 characters \"{a}{b}\" are not a département (2 digits, 2A or 2B)"),
                ));
            }
        };
        let rest = naming.digits(input, &chars[2..])?;
        let first = chars[0].digit().unwrap_or(0);
        let mut values = vec![first, second];
        values.extend_from_slice(&rest);
        let expected = luhn_check_digit(&values[..8]);
        if expected != values[8] {
            return Err(naming.key_mismatch(
                input,
                &expected.to_string(),
                &values[8].to_string(),
                "clé de Luhn",
                "Luhn key",
            ));
        }
        let mut out = [0u8; 9];
        for (slot, ch) in out.iter_mut().zip(chars) {
            *slot = u8::try_from(ch.c).unwrap_or(b'?');
        }
        Ok(Self(out))
    }

    /// The national structure identifier: `1` + FINESS.
    pub fn national_id(&self) -> String {
        format!("1{}", self.as_str())
    }

    /// FHIR `Identifier` (system, value): `urn:oid:1.2.250.1.71.4.2.2`, `1` + FINESS.
    pub fn fhir_identifier(&self) -> (&'static str, String) {
        (IDNST_SYSTEM, self.national_id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Real FINESS numbers (FINESS extract of 2020-03-06 as republished by Eurostat,
    /// github.com/eurostat/healthcare-services `data/healthcare/csv/FR.csv`), every Corsican
    /// one of that file included.
    const REAL: &[(&str, &str)] = &[
        ("2A0000022", "CENTRE HOSPITALIER N D MISERICORDE AJACCIO"),
        ("2A0000030", "CENTRE DE READAPTATION FONCTIONNELLE ET MAISON DE REPOS"),
        ("2A0000139", "CLINISUD"),
        ("2A0000154", "CLINIQUE CHIRURGICALE DU SUD DE LA CORSE"),
        ("2A0000212", "HOPITAL LOCAL DE BONIFACIO"),
        ("2A0000261", "CENTRE DE REPOS ET DE CONVALESCENCE ILE DE BEAUTE"),
        ("2A0000287", "CENTRE HOSPITALIER SPECIALISE DEPARTEMENTAL DE CASTELLUCCIO"),
        ("2A0002051", "CENTRE READAPTATION FONCTIONNELLE MOLINI"),
        ("2A0002614", "CENTRE HOSPITALIER DE SARTENE"),
        ("2A0002622", "USLD DE SARTENE"),
        ("2A0003125", "ANTENNE DU SMUR SARTENE"),
        ("2A0003133", "ANTENNE DU SMUR PORTO VECCHIO"),
        ("2A0003141", "ANTENNE DU SMUR BONIFACIO"),
        ("2A0022554", "MAISON DE CONVALESCENCE ET DE REGIME VALICELLI"),
        ("2A0022778", "ANNEXE DU CENTRE HOSPITALIER D'AJACCIO"),
        ("2A0023271", "USLD D' AJACCIO"),
        ("2A0023289", "USLD DE BONIFACIO"),
        ("2B0000012", "CENTRE HOSPITALIER - FALCONAJA - BASTIA"),
        ("2B0000038", "HOPITAL LOCAL DE CORTE"),
        ("2B0000079", "CLINIQUE DU DOCTEUR PAUL LAURENT FILIPPI"),
        ("2B0000145", "POLYCLINIQUE MAYMARD LA RESIDENCE"),
        ("2B0000392", "POLYCLINIQUE DE FURIANI"),
        ("2B0000400", "MAISON DE CONVALESCENCE LA PALMOLA"),
        ("2B0003420", "SMUR DE CALVI"),
        ("2B0003446", "HOPITAL DE JOUR DE SANTE MENTALE"),
        ("2B0004089", "USLD CENTRE HOSPITALIER BASTIA"),
        ("2B0004907", "ANTENNE SMUR DE CORTE"),
        ("2B0005359", "CH CALVI"),
        ("2B0005409", "ANTENNE SMUR GHISONACCIA"),
        ("2B0005557", "USLD - CH CALVI"),
        ("2B0005573", "ECOLE DE FORMATION DES CADRES DE SANTE DE BASTIA"),
        ("2B0005664", "SSR CLINIQUE TOGA"),
        ("2B0005722", "USLD DE CORTE"),
        ("750100018", "GRP HOSP UNIVERSITAIRE PARIS CENTRE SITE HOTEL DIEU APHP"),
        ("750000341", "AGENCE CENTRALE DES EQUIPEMENTS ET DES PRODUITS DE SANTE"),
        ("690780143", "CENTRE HOSPITALIER SAINT JEAN DE DIEU - ARHM"),
        ("130780083", "CLINIQUE MADELEINE REMUZAT"),
        ("330780040", "NOUVELLE CLINIQUE BEL AIR"),
        ("590780060", "INSTITUT OPHTALMIQUE"),
        ("310000013", "LES HOPITAUX DE LUCHON"),
        ("010000024", "CENTRE HOSPITALIER DE BOURG-EN-BRESSE FLEYRIAT"),
        ("970100012", "POLYCLINIQUE DE GUADELOUPE"),
        ("980500011", "CENTRE HOSPITALIER DE MAYOTTE"),
    ];

    #[test]
    fn accepts_real_numbers_including_corsica() {
        for (finess, name) in REAL {
            let f = Finess::parse(finess).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(f.as_str(), *finess);
        }
        // Lower case and spaces are normalized.
        assert_eq!(Finess::parse("2b 000 001 2").unwrap().as_str(), "2B0000012");
    }

    #[test]
    fn fhir_and_national_form() {
        // ANS's annuaire santé example: FINESS 060016219, IDNST 1060016219.
        let f = Finess::parse("060016219").unwrap();
        assert_eq!(f.fhir_identifier(), ("urn:oid:1.2.250.1.71.4.2.2", "1060016219".to_owned()));
        assert_eq!(Finess::parse_national_id("1060016219").unwrap(), f);
        let e = Finess::parse_national_id("3060016219").unwrap_err();
        assert_eq!(e.en, "the first character must be 1 (FINESS type), found '3'");
    }

    #[test]
    fn corsican_keys_are_not_those_of_other_readings() {
        // With 2A read as 20 the key of 2A000002 would be 4; read as 19 (the NIR rule) or as
        // 0, it would be 6. Real numbers say 2 (2A0000022): the other readings are rejected.
        let e = Finess::parse("2A0000024").unwrap_err();
        assert_eq!(e.en, "check digit mismatch: expected 2, got 4 (Luhn key)");
        assert!(Finess::parse("2A0000026").is_err());
    }

    #[test]
    fn rejects_with_exact_reason() {
        let e = Finess::parse("750100019").unwrap_err();
        assert_eq!(e.en, "check digit mismatch: expected 8, got 9 (Luhn key)");
        assert_eq!(e.fr, "clé de contrôle incorrecte : attendue 8, trouvée 9 (clé de Luhn)");
        let e = Finess::parse("2C0000012").unwrap_err();
        assert_eq!(e.en, "the first 2 characters \"2C\" are not a département (2 digits, 2A or 2B)");
        let e = Finess::parse("75010001").unwrap_err();
        assert_eq!(e.en, "A FINESS number has 9 characters, not 8 (spaces ignored)");
        let e = Finess::parse("7501A0018").unwrap_err();
        assert_eq!(e.en, "character 'A' at position 5 is not a digit");
        let e = Finess::parse("000000000").unwrap_err();
        assert_eq!(e.en, "the first 2 characters \"00\" are not a département");
    }

    fn corsican(letter: char, body: &[u8]) -> String {
        let mut values = vec![2, if letter == 'A' { 1 } else { 2 }];
        values.extend_from_slice(body);
        let key = luhn_check_digit(&values);
        let body: String = body.iter().map(|v| char::from(b'0' + v)).collect();
        format!("2{letter}{body}{key}")
    }

    proptest! {
        #[test]
        fn generated_numbers_parse_round_trip_and_detect_any_digit_change(
            p in proptest::collection::vec(0u8..10, 8), i in 0usize..9, delta in 1u8..10,
        ) {
            prop_assume!(!(p[0] == 0 && p[1] == 0));
            let mut d = p.clone();
            d.push(luhn_check_digit(&p));
            let s: String = d.iter().map(|v| char::from(b'0' + v)).collect();
            let f = Finess::parse(&s).unwrap();
            prop_assert_eq!(Finess::parse(f.as_str()).unwrap(), f);
            prop_assert_eq!(Finess::parse_national_id(&f.national_id()).unwrap(), f);
            d[i] = (d[i] + delta) % 10;
            let changed: String = d.iter().map(|v| char::from(b'0' + v)).collect();
            prop_assert!(Finess::parse(&changed).is_err());
        }

        #[test]
        fn generated_corsican_numbers_parse_and_detect_any_digit_change(
            letter in prop_oneof![Just('A'), Just('B')],
            body in proptest::collection::vec(0u8..10, 6), i in 2usize..9, delta in 1u8..10,
        ) {
            let s = corsican(letter, &body);
            let f = Finess::parse(&s).unwrap();
            prop_assert_eq!(f.as_str(), s.as_str());
            let mut chars: Vec<char> = s.chars().collect();
            let v = chars[i].to_digit(10).unwrap_or(0) as u8;
            chars[i] = char::from(b'0' + (v + delta) % 10);
            let changed: String = chars.into_iter().collect();
            prop_assert!(Finess::parse(&changed).is_err());
        }
    }
}
