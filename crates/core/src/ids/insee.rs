use super::IdError;
use super::common::{Naming, Unit, compact};
use std::fmt;

const COMMUNE: Naming =
    Naming { kind: "commune", fr: "un code commune INSEE", en: "an INSEE commune code", sensitive: false };

/// The syntax of an INSEE (COG) commune code: 5 characters, département first.
///
/// Accepted: 2 digits (`01`–`99`, not `00`) or `2A`/`2B` (Corsica), then 3 digits. Overseas
/// codes (`971xx`…`989xx`) are 5 digits too; their département is the first 3. `20xxx`
/// (Corsica before 1976) is kept syntactically valid. Whether the code names a current commune
/// is a question for [`crate::refdata::Reference`], not for the syntax.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InseeCode([u8; 5]);

impl InseeCode {
    /// Parses 5 characters (surrounding and inner spaces ignored, `2a` accepted as `2A`).
    pub fn parse(input: &str) -> Result<Self, IdError> {
        let chars = compact(input);
        if chars.len() != 5 {
            return Err(COMMUNE.wrong_length(input, 5, chars.len(), Unit::Characters));
        }
        let dept_ok = match (chars[0].c, chars[1].c) {
            ('2', 'A' | 'B') => true,
            (a, b) if a.is_ascii_digit() && b.is_ascii_digit() => !(a == '0' && b == '0'),
            _ => false,
        };
        if !dept_ok {
            let (a, b) = (chars[0].c, chars[1].c);
            return Err(COMMUNE.err(
                input,
                format!("les 2 premiers caractères « {a}{b} » ne sont pas un département (01–95, 2A, 2B, 97x)"),
                format!("the first 2 characters \"{a}{b}\" are not a département (01–95, 2A, 2B, 97x)"),
            ));
        }
        COMMUNE.digits(input, &chars[2..])?;
        let mut out = [0u8; 5];
        for (slot, ch) in out.iter_mut().zip(&chars) {
            // Only ASCII digits and 2A/2B remain at this point.
            *slot = u8::try_from(ch.c).unwrap_or(b'?');
        }
        Ok(Self(out))
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII bytes are ever stored.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// Département code: 3 characters overseas (97x, 98x), 2 elsewhere.
    pub fn departement(&self) -> &str {
        if self.0[0] == b'9' && (self.0[1] == b'7' || self.0[1] == b'8') {
            &self.as_str()[..3]
        } else {
            &self.as_str()[..2]
        }
    }
}

impl fmt::Display for InseeCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for InseeCode {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Serialized as its 5-character string (`"41018"`), not as bytes.
impl serde::Serialize for InseeCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// Deserialized through [`InseeCode::parse`]: an invalid code cannot be deserialized either.
impl<'de> serde::Deserialize<'de> for InseeCode {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_metropolitan_corsican_and_overseas() {
        for (code, dept) in [("41018", "41"), ("2a004", "2A"), ("2B033", "2B"), ("97101", "971"), ("97611", "976")] {
            let c = InseeCode::parse(code).expect(code);
            assert_eq!(c.departement(), dept);
        }
        assert_eq!(InseeCode::parse(" 41 018 ").unwrap().as_str(), "41018");
    }

    #[test]
    fn rejects_with_reason() {
        for bad in ["4101", "410188", "2C004", "00123", "41O18", ""] {
            let e = InseeCode::parse(bad).expect_err(bad);
            assert!(!e.fr.is_empty() && !e.en.is_empty());
        }
        assert_eq!(
            InseeCode::parse("4101").unwrap_err().en,
            "An INSEE commune code has 5 characters, not 4 (spaces ignored)"
        );
        assert_eq!(InseeCode::parse("41O18").unwrap_err().en, "character 'O' at position 3 is not a digit");
        assert_eq!(
            InseeCode::parse("2C004").unwrap_err().en,
            "the first 2 characters \"2C\" are not a département (01–95, 2A, 2B, 97x)"
        );
    }

    #[test]
    fn serializes_as_a_string() {
        let c = InseeCode::parse("2A004").unwrap();
        assert_eq!(serde_json::to_string(&c).unwrap(), "\"2A004\"");
        assert_eq!(serde_json::from_str::<InseeCode>("\"2A004\"").unwrap(), c);
        assert!(serde_json::from_str::<InseeCode>("\"2C004\"").is_err());
    }

    proptest! {
        #[test]
        fn round_trips(dept in prop_oneof![
            (1u8..100).prop_map(|d| format!("{d:02}")), Just("2A".to_owned()), Just("2B".to_owned())
        ], n in 0u16..1000) {
            let s = format!("{dept}{n:03}");
            let c = InseeCode::parse(&s).unwrap();
            prop_assert_eq!(c.as_str(), s.as_str());
            prop_assert_eq!(InseeCode::parse(&c.to_string()).unwrap(), c);
        }
    }
}
