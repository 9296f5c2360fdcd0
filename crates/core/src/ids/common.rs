//! Helpers shared by the identifier parsers: input normalisation, error wording, check digits.

use super::IdError;

/// One significant character of an input, with its 1-based position in the input as typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ch {
    pub pos: usize,
    pub c: char,
}

impl Ch {
    pub fn digit(self) -> Option<u8> {
        self.c.to_digit(10).and_then(|d| u8::try_from(d).ok())
    }
}

/// The input without whitespace (spaces, tabs, no-break spaces…), ASCII letters upper-cased.
/// Positions still refer to the input as typed, so errors point where the user looks.
pub(crate) fn compact(input: &str) -> Vec<Ch> {
    input
        .chars()
        .enumerate()
        .filter(|(_, c)| !c.is_whitespace())
        .map(|(i, c)| Ch { pos: i + 1, c: c.to_ascii_uppercase() })
        .collect()
}

/// `*` for every non-whitespace character but the last two: what a NIR error may show.
pub(crate) fn mask_all_but_last_two(input: &str) -> String {
    let significant = input.chars().filter(|c| !c.is_whitespace()).count();
    let mut seen = 0;
    input
        .chars()
        .map(|c| {
            if c.is_whitespace() {
                c
            } else {
                seen += 1;
                if seen + 2 > significant { c } else { '*' }
            }
        })
        .collect()
}

/// How a kind of identifier is named in messages.
pub(crate) struct Naming {
    pub kind: &'static str,
    /// With its article: "un SIRET", "un numéro RPPS".
    pub fr: &'static str,
    /// With its article: "a SIRET", "an RPPS number".
    pub en: &'static str,
    /// Whether the input is personal data that must not be echoed in errors.
    pub sensitive: bool,
}

impl Naming {
    pub fn err(&self, input: &str, fr: impl Into<String>, en: impl Into<String>) -> IdError {
        let shown = if self.sensitive { mask_all_but_last_two(input) } else { input.to_owned() };
        IdError { kind: self.kind, input: shown, fr: fr.into(), en: en.into() }
    }

    /// "a SIRET has 14 digits, not 13".
    pub fn wrong_length(&self, input: &str, expected: usize, got: usize, unit: Unit) -> IdError {
        let (fr_unit, en_unit) = unit.names();
        let fr = format!("{} comporte {expected} {fr_unit}, et non {got} (espaces ignorés)", self.fr);
        let en = format!("{} has {expected} {en_unit}, not {got} (spaces ignored)", self.en);
        self.err(input, capitalize(&fr), capitalize(&en))
    }

    /// "character 'O' at position 4 is not a digit".
    pub fn not_digit(&self, input: &str, ch: Ch) -> IdError {
        self.err(
            input,
            format!("le caractère « {} » en position {} n'est pas un chiffre", ch.c, ch.pos),
            format!("character '{}' at position {} is not a digit", ch.c, ch.pos),
        )
    }

    /// The values of characters that must all be digits.
    pub fn digits(&self, input: &str, chars: &[Ch]) -> Result<Vec<u8>, IdError> {
        chars.iter().map(|&ch| ch.digit().ok_or_else(|| self.not_digit(input, ch))).collect()
    }

    /// "check digit mismatch: expected 4, got 7 (Luhn key)".
    pub fn key_mismatch(&self, input: &str, expected: &str, got: &str, rule_fr: &str, rule_en: &str) -> IdError {
        self.err(
            input,
            format!("clé de contrôle incorrecte : attendue {expected}, trouvée {got} ({rule_fr})"),
            format!("check digit mismatch: expected {expected}, got {got} ({rule_en})"),
        )
    }
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum Unit {
    Digits,
    Characters,
}

impl Unit {
    fn names(self) -> (&'static str, &'static str) {
        match self {
            Unit::Digits => ("chiffres", "digits"),
            Unit::Characters => ("caractères", "characters"),
        }
    }
}

fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The Luhn check digit to append to `payload` (digit values 0–9).
///
/// From the right, the digit next to the (future) check digit is doubled, then every other
/// one; a doubled value above 9 counts for its digit sum (value − 9).
pub(crate) fn luhn_check_digit(payload: &[u8]) -> u8 {
    let sum: u32 = payload
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            if i % 2 == 0 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum();
    // `(10 - sum % 10) % 10` is at most 9.
    u8::try_from((10 - sum % 10) % 10).unwrap_or(0)
}

/// Whether `digits` (check digit last) satisfies the Luhn rule.
pub(crate) fn luhn_valid(digits: &[u8]) -> bool {
    match digits.split_last() {
        Some((&last, payload)) => luhn_check_digit(payload) == last,
        None => false,
    }
}

/// ASCII digit values to a `[u8; N]` of ASCII characters.
pub(crate) fn ascii_digits<const N: usize>(values: &[u8]) -> Option<[u8; N]> {
    let bytes: Vec<u8> = values.iter().map(|d| b'0' + d).collect();
    bytes.try_into().ok()
}

/// Implements `as_str`, `FromStr`, `Serialize` (as a string) and `Deserialize` (through
/// `parse`, so an invalid value cannot be deserialized either) for a `[u8; N]` ASCII newtype.
macro_rules! ascii_identifier {
    ($ty:ident) => {
        impl $ty {
            /// The normalized value (no spaces, letters upper-case).
            pub fn as_str(&self) -> &str {
                // Only ASCII bytes are ever stored.
                std::str::from_utf8(&self.0).unwrap_or_default()
            }
        }

        impl std::str::FromStr for $ty {
            type Err = $crate::ids::IdError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let s = String::deserialize(deserializer)?;
                Self::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

/// `Display` as the normalized value (not for `Nir`, which masks).
macro_rules! display_as_str {
    ($ty:ident) => {
        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub(crate) use ascii_identifier;
pub(crate) use display_as_str;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_matches_known_values() {
        // 7992739871 + 3 is the classic Luhn example.
        assert_eq!(luhn_check_digit(&[7, 9, 9, 2, 7, 3, 9, 8, 7, 1]), 3);
        assert!(luhn_valid(&[7, 9, 9, 2, 7, 3, 9, 8, 7, 1, 3]));
        assert!(!luhn_valid(&[7, 9, 9, 2, 7, 3, 9, 8, 7, 1, 4]));
        assert!(!luhn_valid(&[]));
    }

    #[test]
    fn compact_keeps_original_positions() {
        let c = compact(" 1 a\u{a0}2");
        assert_eq!(c, vec![Ch { pos: 2, c: '1' }, Ch { pos: 4, c: 'A' }, Ch { pos: 6, c: '2' }]);
    }

    #[test]
    fn masking_keeps_last_two_and_spaces() {
        assert_eq!(mask_all_but_last_two("1 84 12 76 451 089 46"), "* ** ** ** *** *** 46");
        assert_eq!(mask_all_but_last_two("12"), "12");
        assert_eq!(mask_all_but_last_two(""), "");
    }
}
