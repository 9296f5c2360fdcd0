//! NIR ("numéro de sécurité sociale", INSEE registration number), also the matricule of the
//! INS (identité nationale de santé), which is a NIR or a NIA (provisional number).
//!
//! 15 characters: 13 (décret n° 82-103 du 22 janvier 1982, art. 4: sex, year, month and place
//! of birth, order number) + a 2-digit key = 97 − (the 13 digits mod 97). For the key, Corsican
//! départements are replaced: `2A` → `19`, `2B` → `18`.
//!
//! What is accepted (sources disagree on the margins; each choice is documented in
//! `docs/identifiers.md`):
//! - 1st digit: `1` (man), `2` (woman); also `3`/`4` (foreign-born people being registered)
//!   and `7`/`8` (provisional numbers: NIA, former NNP), which follow the same key rule.
//!   `0`, `5`, `6`, `9` are rejected.
//! - year: any 2 digits (the century is not in the number).
//! - month: `01`–`12`; `20`–`42` and `50`–`99` are fictitious months given to people whose
//!   civil-status record lacks the month. `00`, `13`–`19` and `43`–`49` are rejected.
//! - département: 2 digits but `00` (including `20`, Corsica before 1976; `91`–`96` for Algeria,
//!   Morocco and Tunisia before independence; `97`/`98` overseas, whose commune part then
//!   starts with the 3rd digit of the département; `99` born abroad), or `2A`/`2B`.
//! - commune/country, order number: any 3 digits each (not checked against any list).
//!
//! A NIR is personal data: `Debug` and `Display` mask all but the 2 key digits, errors mask
//! the input; [`Nir::as_str`] and serialization give the full value, for storage only.

use super::IdError;
use super::common::{Naming, Unit, ascii_identifier, compact};
use std::fmt;

const NIR: Naming = Naming { kind: "nir", fr: "un NIR", en: "a NIR", sensitive: true };

/// A NIR / INS matricule with a correct key. `Debug` and `Display` are masked.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Nir([u8; 15]);

ascii_identifier!(Nir);

fn month_ok(m: u8) -> bool {
    matches!(m, 1..=12 | 20..=42 | 50..=99)
}

impl Nir {
    /// Parses 15 characters; spaces are ignored (`"1 84 12 76 451 089 46"`), `2a` is `2A`.
    pub fn parse(input: &str) -> Result<Self, IdError> {
        let chars = compact(input);
        if chars.len() != 15 {
            let mut e = NIR.wrong_length(input, 15, chars.len(), Unit::Characters);
            if chars.len() == 13 {
                e.fr.push_str(" ; 13 caractères : il manque la clé à 2 chiffres");
                e.en.push_str("; 13 characters: the 2-digit key is missing");
            }
            return Err(e);
        }
        // Character classes first: digits everywhere but the département (characters 6–7).
        for (i, &ch) in chars.iter().enumerate() {
            if (i == 5 || i == 6) && ch.c.is_ascii_alphanumeric() {
                continue;
            }
            if !ch.c.is_ascii_digit() {
                return Err(NIR.not_digit(input, ch));
            }
        }
        let d = |i: usize| chars[i].digit().unwrap_or(0);

        let first = d(0);
        if !matches!(first, 1 | 2 | 3 | 4 | 7 | 8) {
            return Err(NIR.err(
                input,
                format!(
                    "le premier chiffre {first} n'est pas valide : 1 (homme) ou 2 (femme), \
                     ou 3, 4, 7, 8 pour les numéros provisoires ou en cours d'immatriculation"
                ),
                format!(
                    "first digit {first} is not valid: 1 (man) or 2 (woman), \
                     or 3, 4, 7, 8 for provisional or pending registrations"
                ),
            ));
        }
        let month = d(3) * 10 + d(4);
        if !month_ok(month) {
            return Err(NIR.err(
                input,
                format!(
                    "le mois de naissance {month:02} n'est pas valide : 01 à 12, \
                     ou 20 à 42 et 50 à 99 (mois fictifs des actes d'état civil incomplets)"
                ),
                format!(
                    "birth month {month:02} is not valid: 01 to 12, \
                     or 20 to 42 and 50 to 99 (fictitious months of incomplete civil-status records)"
                ),
            ));
        }
        let (a, b) = (chars[5].c, chars[6].c);
        let corsica = match (a, b) {
            ('2', 'A') => Some(19),
            ('2', 'B') => Some(18),
            ('0', '0') => {
                return Err(NIR.err(
                    input,
                    "le département de naissance 00 n'existe pas",
                    "birth département 00 does not exist",
                ));
            }
            (x, y) if x.is_ascii_digit() && y.is_ascii_digit() => None,
            (x, y) => {
                return Err(NIR.err(
                    input,
                    format!("le département de naissance « {x}{y} » n'est pas valide : 2 chiffres, 2A ou 2B"),
                    format!("birth département \"{x}{y}\" is not valid: 2 digits, 2A or 2B"),
                ));
            }
        };

        let mut n: u64 = 0;
        for i in 0..13 {
            let v = match (i, corsica) {
                (5, Some(c)) => c / 10,
                (6, Some(c)) => c % 10,
                _ => d(i),
            };
            n = n * 10 + u64::from(v);
        }
        let expected = 97 - n % 97;
        let got = u64::from(d(13) * 10 + d(14));
        if expected != got {
            let (rule_fr, rule_en) = match corsica {
                Some(_) => (
                    "97 − (13 premiers caractères mod 97), avec 2A → 19 et 2B → 18",
                    "97 − (first 13 characters mod 97), with 2A → 19 and 2B → 18",
                ),
                None => ("97 − (13 premiers chiffres mod 97)", "97 − (first 13 digits mod 97)"),
            };
            return Err(NIR.key_mismatch(input, &format!("{expected:02}"), &format!("{got:02}"), rule_fr, rule_en));
        }

        let mut out = [0u8; 15];
        for (slot, ch) in out.iter_mut().zip(&chars) {
            // Only ASCII digits and 2A/2B remain at this point.
            *slot = u8::try_from(ch.c).unwrap_or(b'?');
        }
        Ok(Self(out))
    }

    /// The 2-digit key.
    pub fn key(&self) -> u8 {
        (self.0[13] - b'0') * 10 + (self.0[14] - b'0')
    }

    /// First digit 3, 4, 7 or 8: a provisional number (NIA, former NNP) or a pending
    /// registration, not a definitive NIR.
    pub fn is_provisional(&self) -> bool {
        matches!(self.0[0], b'3' | b'4' | b'7' | b'8')
    }

    /// `*************46`: what logs may show.
    pub fn masked(&self) -> String {
        let mut s = "*".repeat(13);
        s.push_str(&self.as_str()[13..]);
        s
    }
}

impl fmt::Debug for Nir {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Nir({})", self.masked())
    }
}

/// Masked like `Debug`: use [`Nir::as_str`] for the full value.
impl fmt::Display for Nir {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_published_examples() {
        // The classic example of the NIR documentation, with spaces.
        let n = Nir::parse("1 84 12 76 451 089 46").unwrap();
        assert_eq!(n.as_str(), "184127645108946");
        assert_eq!(n.key(), 46);
        assert!(!n.is_provisional());
        // python-stdnum's examples: born abroad (99), and born in Corsica (2A, 2B).
        Nir::parse("2 95 10 99 126 111 93").unwrap();
        assert_eq!(Nir::parse("253072B07300470").unwrap().as_str(), "253072B07300470");
        assert_eq!(Nir::parse("253072a07300443").unwrap().as_str(), "253072A07300443");
    }

    fn with_key(body13: &str) -> String {
        let n: u64 = body13.replace("2A", "19").replace("2B", "18").parse().unwrap();
        format!("{body13}{:02}", 97 - n % 97)
    }

    #[test]
    fn accepts_pre_1976_corsica_provisional_and_fictitious_months() {
        // Corsica before 1976 was département 20.
        Nir::parse(&with_key("2600720123456")).unwrap();
        // NIA / provisional numbers start with 7 or 8 and use the same key.
        let p = Nir::parse(&with_key("7851099123456")).unwrap();
        assert!(p.is_provisional());
        for m in ["20", "35", "42", "50", "99"] {
            Nir::parse(&with_key(&format!("185{m}99123456"))).unwrap();
        }
    }

    #[test]
    fn rejects_with_exact_reason() {
        let e = Nir::parse("1 84 12 76 451 089 47").unwrap_err();
        assert_eq!(e.kind, "nir");
        assert_eq!(e.en, "check digit mismatch: expected 46, got 47 (97 − (first 13 digits mod 97))");
        assert_eq!(e.fr, "clé de contrôle incorrecte : attendue 46, trouvée 47 (97 − (13 premiers chiffres mod 97))");
        let e = Nir::parse("253072A07300444").unwrap_err();
        assert_eq!(
            e.en,
            "check digit mismatch: expected 43, got 44 (97 − (first 13 characters mod 97), with 2A → 19 and 2B → 18)"
        );
        let e = Nir::parse("1841276451089").unwrap_err();
        assert_eq!(e.en, "A NIR has 15 characters, not 13 (spaces ignored); 13 characters: the 2-digit key is missing");
        let e = Nir::parse(&with_key("1841376451089")).unwrap_err();
        assert_eq!(
            e.en,
            "birth month 13 is not valid: 01 to 12, or 20 to 42 and 50 to 99 (fictitious months of incomplete civil-status records)"
        );
        assert!(Nir::parse(&with_key("1840076451089")).unwrap_err().en.starts_with("birth month 00"));
        assert!(Nir::parse(&with_key("1844576451089")).unwrap_err().en.starts_with("birth month 45"));
        let e = Nir::parse(&with_key("5841276451089")).unwrap_err();
        assert!(e.en.starts_with("first digit 5 is not valid"), "{}", e.en);
        let e = Nir::parse(&with_key("1841200451089")).unwrap_err();
        assert_eq!(e.en, "birth département 00 does not exist");
        let e = Nir::parse("184122C45108946").unwrap_err();
        assert_eq!(e.en, "birth département \"2C\" is not valid: 2 digits, 2A or 2B");
        let e = Nir::parse("1 84 1A 76 451 089 46").unwrap_err();
        assert_eq!(e.en, "character 'A' at position 7 is not a digit");
    }

    #[test]
    fn never_shows_the_full_number() {
        let n = Nir::parse("1 84 12 76 451 089 46").unwrap();
        assert_eq!(format!("{n:?}"), "Nir(*************46)");
        assert_eq!(n.to_string(), "*************46");
        assert_eq!(format!("{:?}", Some(n)), "Some(Nir(*************46))");
        let e = Nir::parse("1 84 12 76 451 089 47").unwrap_err();
        assert_eq!(e.input, "* ** ** ** *** *** 47");
        for shown in [e.to_string(), format!("{e:?}")] {
            assert!(!shown.contains("8412") && !shown.contains("451"), "{shown}");
        }
        // Storage gets the full value.
        assert_eq!(serde_json::to_string(&n).unwrap(), "\"184127645108946\"");
        let back: Nir = serde_json::from_str("\"1 84 12 76 451 089 46\"").unwrap();
        assert_eq!(back, n);
    }

    fn valid_nir() -> impl Strategy<Value = String> {
        (
            prop_oneof![Just(1u8), Just(2), Just(3), Just(4), Just(7), Just(8)],
            0u8..100,
            prop_oneof![1u8..=12, 20u8..=42, 50u8..=99],
            prop_oneof![(1u8..100).prop_map(|d| format!("{d:02}")), Just("2A".to_owned()), Just("2B".to_owned())],
            0u32..1_000_000,
        )
            .prop_map(|(s, y, m, dept, rest)| with_key(&format!("{s}{y:02}{m:02}{dept}{rest:06}")))
    }

    proptest! {
        #[test]
        fn every_generated_nir_parses_and_round_trips(s in valid_nir()) {
            let n = Nir::parse(&s).unwrap();
            prop_assert_eq!(n.as_str(), s.as_str());
            prop_assert_eq!(Nir::parse(n.as_str()).unwrap(), n);
            let shown = format!("{:?}", n);
            prop_assert!(!shown.contains(&s[..13]));
        }

        #[test]
        fn any_single_digit_change_breaks_a_nir(s in valid_nir(), i in 0usize..15, delta in 1u8..10) {
            let mut chars: Vec<char> = s.chars().collect();
            prop_assume!(chars[i].is_ascii_digit());
            let v = chars[i].to_digit(10).unwrap_or(0) as u8;
            chars[i] = char::from(b'0' + (v + delta) % 10);
            let changed: String = chars.into_iter().collect();
            prop_assert!(Nir::parse(&changed).is_err());
        }
    }
}
