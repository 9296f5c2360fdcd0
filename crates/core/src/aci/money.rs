//! Exact amounts and rates: money is an integer number of cents, a rate an integer number of
//! billionths. No floating point anywhere.
//!
//! Rounding rule (the only one): a product `amount × n / d` is rounded **half up to the cent**
//! (amounts are never negative). Rates are truncated (rounded down) to the billionth, so that a
//! rate never exceeds what was achieved and full achievement is exactly [`Rate::ONE`].

use serde::{Deserialize, Serialize};
use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Sub};

/// An amount of money in euro cents. Serialized as the integer number of cents.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Cents(pub i64);

impl Cents {
    pub const ZERO: Cents = Cents(0);

    /// Whole euros.
    pub const fn from_euros(euros: i64) -> Self {
        Cents(euros * 100)
    }

    pub const fn cents(self) -> i64 {
        self.0
    }

    /// `self × num / den`, rounded half up to the cent. `den == 0` gives zero.
    pub fn mul_div(self, num: u64, den: u64) -> Cents {
        if den == 0 {
            return Cents::ZERO;
        }
        let n = i128::from(self.0) * i128::from(num);
        let d = i128::from(den);
        // Half up for non-negative amounts; for negative ones, half away from zero.
        let q = if n >= 0 { (2 * n + d) / (2 * d) } else { -((2 * -n + d) / (2 * d)) };
        Cents(i64::try_from(q).unwrap_or(if q > 0 { i64::MAX } else { i64::MIN }))
    }

    /// `self × percent / 100`, rounded half up to the cent.
    pub fn percent(self, percent: u8) -> Cents {
        self.mul_div(u64::from(percent), 100)
    }

    /// `self × rate`, rounded half up to the cent.
    pub fn times(self, rate: Rate) -> Cents {
        self.mul_div(u64::from(rate.0), u64::from(Rate::ONE.0))
    }

    /// Plain decimal euros, dot separator, always two decimals: `287500.00`.
    pub fn euros_decimal(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        format!("{sign}{}.{:02}", abs / 100, abs % 100)
    }

    /// English display: `€287,500.00`.
    pub fn en(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        format!("{sign}€{}.{:02}", group(abs / 100, ","), abs % 100)
    }

    /// French display: `287 500,00 €` (narrow no-break space between thousands).
    pub fn fr(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        format!("{sign}{},{:02}\u{a0}€", group(abs / 100, "\u{202f}"), abs % 100)
    }

    /// French display rounded to the euro: `287 500 €`.
    pub fn fr_whole(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        format!("{sign}{}\u{a0}€", group((abs + 50) / 100, "\u{202f}"))
    }

    /// Parses an amount in euros as people type it: `1200`, `1 200,50`, `1200.5`, `1 200,50 €`.
    /// Spaces (also no-break ones) group thousands; comma or dot separates at most two decimals.
    /// Negative amounts are refused.
    pub fn parse_euros(text: &str) -> Result<Cents, AmountError> {
        let t: String =
            text.trim().trim_end_matches('€').chars().filter(|c| !matches!(c, ' ' | '\u{a0}' | '\u{202f}')).collect();
        if t.is_empty() {
            return Err(AmountError::Empty);
        }
        if t.starts_with('-') {
            return Err(AmountError::Negative);
        }
        let (whole, fraction) = match t.split_once([',', '.']) {
            Some((w, f)) => (w, f),
            None => (t.as_str(), ""),
        };
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(whole) || (!fraction.is_empty() && !digits(fraction)) {
            return Err(AmountError::NotANumber(text.trim().to_owned()));
        }
        if fraction.len() > 2 {
            return Err(AmountError::TooPrecise);
        }
        let euros: i64 = whole.parse().map_err(|_| AmountError::TooLarge)?;
        let cents: i64 = format!("{fraction:0<2}").parse().map_err(|_| AmountError::NotANumber(text.to_owned()))?;
        euros.checked_mul(100).and_then(|e| e.checked_add(cents)).map(Cents).ok_or(AmountError::TooLarge)
    }
}

/// Why an amount typed by a person was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("no amount given")]
    Empty,
    #[error("amounts are positive")]
    Negative,
    #[error("{0:?} is not an amount in euros")]
    NotANumber(String),
    #[error("at most two decimals (cents)")]
    TooPrecise,
    #[error("amount too large")]
    TooLarge,
}

impl AmountError {
    pub fn fr(&self) -> String {
        match self {
            Self::Empty => "montant manquant".into(),
            Self::Negative => "un montant est positif".into(),
            Self::NotANumber(t) => format!("« {t} » n'est pas un montant en euros (exemple : 1 200,50)"),
            Self::TooPrecise => "deux décimales au plus (les centimes)".into(),
            Self::TooLarge => "montant trop grand".into(),
        }
    }
}

fn group(n: u64, sep: &str) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 * sep.len());
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push_str(sep);
        }
        out.push(ch);
    }
    out
}

impl fmt::Display for Cents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.en())
    }
}

impl Add for Cents {
    type Output = Cents;
    fn add(self, rhs: Cents) -> Cents {
        Cents(self.0.saturating_add(rhs.0))
    }
}

impl AddAssign for Cents {
    fn add_assign(&mut self, rhs: Cents) {
        *self = *self + rhs;
    }
}

impl Sub for Cents {
    type Output = Cents;
    fn sub(self, rhs: Cents) -> Cents {
        Cents(self.0.saturating_sub(rhs.0))
    }
}

impl Sum for Cents {
    fn sum<I: Iterator<Item = Cents>>(iter: I) -> Cents {
        iter.fold(Cents::ZERO, Add::add)
    }
}

/// A rate between 0 and 1 inclusive, in billionths (`Rate::ONE` = 100 %). Serialized as the
/// integer number of billionths; deserializing a value above `ONE` fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(into = "u32", try_from = "u32")]
pub struct Rate(u32);

impl From<Rate> for u32 {
    fn from(r: Rate) -> u32 {
        r.0
    }
}

impl TryFrom<u32> for Rate {
    type Error = String;
    fn try_from(b: u32) -> Result<Rate, String> {
        if b <= Rate::ONE.0 {
            Ok(Rate(b))
        } else {
            Err(format!("a rate is at most {} billionths, not {b}", Rate::ONE.0))
        }
    }
}

/// Why a text is not a rate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateParseError(pub String);

impl fmt::Display for RateParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` is not an achievement rate: write a decimal between 0 and 1 (0.8) or a percentage (80%)",
            self.0
        )
    }
}

impl std::error::Error for RateParseError {}

impl Rate {
    pub const ZERO: Rate = Rate(0);
    pub const ONE: Rate = Rate(1_000_000_000);

    /// Billionths, clamped to `0..=ONE`.
    pub fn from_billionths(b: u32) -> Rate {
        Rate(b.min(Self::ONE.0))
    }

    pub fn billionths(self) -> u32 {
        self.0
    }

    /// `num / den` truncated to the billionth and clamped to `0..=1`; `den <= 0` gives zero.
    pub fn ratio(num: i128, den: i128) -> Rate {
        if den <= 0 || num <= 0 {
            return Rate::ZERO;
        }
        if num >= den {
            return Rate::ONE;
        }
        let b = num.saturating_mul(i128::from(Self::ONE.0)) / den;
        Rate(u32::try_from(b).unwrap_or(Self::ONE.0).min(Self::ONE.0))
    }

    /// Parses `0.8`, `1`, `0`, `80%`, `87.5 %` exactly (at most 9 decimals for a fraction, 7 for
    /// a percentage). Values above 1 (100 %) are refused.
    pub fn parse(text: &str) -> Result<Rate, RateParseError> {
        let err = || RateParseError(text.to_owned());
        let t = text.trim();
        let (number, scale_digits) = match t.strip_suffix('%') {
            Some(p) => (p.trim_end(), 2u32),
            None => (t, 0u32),
        };
        let (int_part, frac_part) = match number.split_once('.') {
            Some((i, f)) => (i, f),
            None => (number, ""),
        };
        if int_part.is_empty() && frac_part.is_empty() {
            return Err(err());
        }
        let all_digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
        if !all_digits(int_part) || !all_digits(frac_part) || int_part.len() > 3 {
            return Err(err());
        }
        // value = int.frac / 10^scale_digits; billionths = value × 10^9.
        let max_frac = 9 - scale_digits as usize;
        if frac_part.len() > max_frac {
            return Err(err());
        }
        let int: u64 = if int_part.is_empty() { 0 } else { int_part.parse().map_err(|_| err())? };
        let mut frac: u64 = if frac_part.is_empty() { 0 } else { frac_part.parse().map_err(|_| err())? };
        for _ in frac_part.len()..max_frac {
            frac *= 10;
        }
        let unit = 10u64.pow(max_frac as u32);
        let billionths = int * unit + frac;
        if billionths > u64::from(Self::ONE.0) {
            return Err(err());
        }
        Ok(Rate(u32::try_from(billionths).map_err(|_| err())?))
    }

    /// Percentage with two decimals, truncated: `87.50%`.
    pub fn percent_string(self) -> String {
        let hundredths = u64::from(self.0) / 100_000; // 10^9 / 10^4
        format!("{}.{:02}%", hundredths / 100, hundredths % 100)
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.percent_string())
    }
}

impl std::str::FromStr for Rate {
    type Err = RateParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Rate::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn euros_parse_as_typed() {
        for (text, cents) in [
            ("1200", 120_000),
            ("1 200,50", 120_050),
            ("1\u{202f}200,5 €", 120_050),
            ("0.07", 7),
            ("12,", 1_200),
            (" 3 ", 300),
        ] {
            assert_eq!(Cents::parse_euros(text), Ok(Cents(cents)), "{text}");
        }
        assert_eq!(Cents::parse_euros(" "), Err(AmountError::Empty));
        assert_eq!(Cents::parse_euros("-5"), Err(AmountError::Negative));
        assert_eq!(Cents::parse_euros("1,234"), Err(AmountError::TooPrecise));
        assert!(matches!(Cents::parse_euros("12a"), Err(AmountError::NotANumber(_))));
        assert!(matches!(Cents::parse_euros("1,2,3"), Err(AmountError::NotANumber(_))));
        assert_eq!(Cents::parse_euros("99999999999999999999"), Err(AmountError::TooLarge));
        assert_eq!(Cents(28_750_000).fr_whole(), "287\u{202f}500\u{a0}€");
        assert_eq!(Cents(149).fr_whole(), "1\u{a0}€");
    }

    #[test]
    fn mul_div_rounds_half_up() {
        assert_eq!(Cents(1).mul_div(1, 2), Cents(1));
        assert_eq!(Cents(3).mul_div(1, 2), Cents(2));
        assert_eq!(Cents(1).mul_div(1, 3), Cents(0));
        assert_eq!(Cents(2).mul_div(1, 3), Cents(1));
        assert_eq!(Cents::from_euros(55_000).mul_div(184, 365), Cents(2_772_603));
        assert_eq!(Cents(5).mul_div(1, 0), Cents::ZERO);
    }

    #[test]
    fn percent_and_rate() {
        assert_eq!(Cents(1_001).percent(75), Cents(751));
        assert_eq!(Cents::from_euros(25_000).times(Rate::ONE), Cents::from_euros(25_000));
        assert_eq!(Cents::from_euros(25_000).times(Rate::parse("0.5").unwrap()), Cents::from_euros(12_500));
    }

    #[test]
    fn displays() {
        let c = Cents(28_750_000);
        assert_eq!(c.euros_decimal(), "287500.00");
        assert_eq!(c.en(), "€287,500.00");
        assert_eq!(c.fr(), "287\u{202f}500,00\u{a0}€");
        assert_eq!(Cents(5).euros_decimal(), "0.05");
    }

    #[test]
    fn rate_parsing() {
        assert_eq!(Rate::parse("1").unwrap(), Rate::ONE);
        assert_eq!(Rate::parse("0").unwrap(), Rate::ZERO);
        assert_eq!(Rate::parse("0.8").unwrap().billionths(), 800_000_000);
        assert_eq!(Rate::parse(".25").unwrap().billionths(), 250_000_000);
        assert_eq!(Rate::parse("80%").unwrap().billionths(), 800_000_000);
        assert_eq!(Rate::parse("87.5 %").unwrap().billionths(), 875_000_000);
        assert_eq!(Rate::parse("100%").unwrap(), Rate::ONE);
        for bad in ["", "%", "1.1", "101%", "-0.5", "abc", "0.1234567891", "1e-3", "0,5"] {
            assert!(Rate::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Rate::parse("0.875").unwrap().percent_string(), "87.50%");
    }

    #[test]
    fn rate_serde_refuses_more_than_one() {
        let r: Rate = serde_json::from_str("800000000").unwrap();
        assert_eq!(r, Rate::parse("0.8").unwrap());
        assert_eq!(serde_json::to_string(&r).unwrap(), "800000000");
        assert!(serde_json::from_str::<Rate>("1000000001").is_err());
    }

    #[test]
    fn ratio_is_clamped_and_truncated() {
        assert_eq!(Rate::ratio(1, 3).billionths(), 333_333_333);
        assert_eq!(Rate::ratio(5, 3), Rate::ONE);
        assert_eq!(Rate::ratio(-1, 3), Rate::ZERO);
        assert_eq!(Rate::ratio(1, 0), Rate::ZERO);
    }
}
