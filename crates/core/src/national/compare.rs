//! Harmonised indicators across the CPTS that use Maillage: the same few figures computed the
//! same way for every CPTS, from its ACI contract and its mission modules, so that a national
//! or regional observer can compare them in one table.
//!
//! Only aggregates leave a CPTS, and small counts are masked as in public health statistics:
//! a count from 1 to [`SMALL_COUNT_MAX`] is published as "1 à 10", and a share or a median is
//! published only when every count behind it is either 0 or above that threshold (a share with a
//! published denominator would otherwise give its numerator back). The CPTS's own pages keep
//! their exact figures; masking is for the comparison.
//!
//! Definitions:
//! - **contract**: the rule set, the signature date, the contract year containing the day of
//!   observation (`None` before the first or after the last), the missions engaged and started,
//!   the financing of that year and the rule set's maximum for it, and the **mean achievement**:
//!   the unweighted mean of the achievements of the envelopes that have a variable part that
//!   year (each achievement being the weighted achievement of the mission's indicators);
//! - **registry** (access to a médecin traitant, [`crate::patients::indicators`]): requests
//!   registered, matched (received a proposal), declared, still open, the share declared, the
//!   share of ALD requests still open, the median days from registration to declaration.

use crate::aci::compute::{Assumptions, ComputeError, year_funding};
use crate::aci::contract::Contract;
use crate::aci::rules::RuleSet;
use crate::aci::{Cents, Rate};
use crate::patients::indicators::RegistryIndicators;
use chrono::NaiveDate;
use serde::Serialize;

/// The largest count masked in a comparison.
pub const SMALL_COUNT_MAX: u32 = 10;

/// A figure as published in a comparison.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Published<T> {
    Value(T),
    /// Hidden: too few people behind it.
    Masked,
    /// Nothing to compute (no request, no declaration…).
    None,
}

impl<T> Published<T> {
    pub fn value(self) -> Option<T> {
        match self {
            Published::Value(v) => Some(v),
            _ => None,
        }
    }
}

fn small(count: u32) -> bool {
    (1..=SMALL_COUNT_MAX).contains(&count)
}

/// A count, masked from 1 to [`SMALL_COUNT_MAX`].
pub fn count(n: u32) -> Published<u32> {
    if small(n) { Published::Masked } else { Published::Value(n) }
}

/// `part / whole`, masked when either count is small; `None` when `whole` is 0.
pub fn share(part: u32, whole: u32) -> Published<Rate> {
    if whole == 0 {
        Published::None
    } else if small(part) || small(whole) {
        Published::Masked
    } else {
        Published::Value(Rate::ratio(i128::from(part), i128::from(whole)))
    }
}

/// A median over `over` values, masked when they are few.
pub fn median(value: Option<f64>, over: u32) -> Published<f64> {
    match value {
        None => Published::None,
        Some(_) if small(over) => Published::Masked,
        Some(v) => Published::Value(v),
    }
}

/// What a CPTS's contract says on a day.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContractFigures {
    pub rule_set: String,
    pub signed_on: NaiveDate,
    /// The contract year containing the day (1-based), if the contract runs then.
    pub year: Option<u8>,
    pub missions_engaged: usize,
    /// Missions started by the day.
    pub missions_started: usize,
    /// Financing of `year` and the rule set's maximum for its size class.
    pub funding: Option<(Cents, Cents)>,
    /// Mean achievement of the envelopes with a variable part in `year`.
    pub achievement: Option<Rate>,
}

impl ContractFigures {
    pub fn of(rules: &RuleSet, contract: &Contract, on: NaiveDate) -> Result<Self, ComputeError> {
        let year = contract.year_of(on, rules.contract_years);
        let (funding, achievement) = match year {
            None => (None, None),
            Some(y) => {
                let f = year_funding(rules, contract, y, &Assumptions::default())?;
                let rates: Vec<u64> =
                    f.envelopes.iter().filter_map(|e| e.achievement).map(|r| u64::from(r.billionths())).collect();
                let mean = (!rates.is_empty()).then(|| {
                    let n = rates.len() as u64;
                    // The mean of values in [0, 1e9] stays in range.
                    Rate::from_billionths(u32::try_from(rates.iter().sum::<u64>() / n).unwrap_or(u32::MAX))
                });
                (Some((f.total, f.maximum)), mean)
            }
        };
        Ok(ContractFigures {
            rule_set: contract.rule_set.clone(),
            signed_on: contract.signed_on,
            year,
            missions_engaged: contract.missions.len(),
            missions_started: contract.missions.iter().filter(|m| m.started_on.is_some_and(|d| d <= on)).count(),
            funding,
            achievement,
        })
    }
}

/// Exact registry counts of one CPTS (or of several, summed).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct RegistryCounts {
    pub registered: u32,
    pub matched: u32,
    pub declared: u32,
    pub open: u32,
    pub ald_registered: u32,
    pub ald_open: u32,
}

impl RegistryCounts {
    pub fn of(indicators: &RegistryIndicators) -> Self {
        let o = &indicators.overall;
        RegistryCounts {
            registered: o.registered,
            matched: o.matched,
            declared: o.declared,
            open: o.open(),
            ald_registered: indicators.ald_registered,
            ald_open: indicators.ald_open,
        }
    }

    pub fn add(&mut self, other: &RegistryCounts) {
        self.registered += other.registered;
        self.matched += other.matched;
        self.declared += other.declared;
        self.open += other.open;
        self.ald_registered += other.ald_registered;
        self.ald_open += other.ald_open;
    }

    /// The counts as published, without the median (which only one CPTS's data gives).
    pub fn published(&self) -> PublishedRegistry {
        PublishedRegistry {
            registered: count(self.registered),
            matched: count(self.matched),
            declared: count(self.declared),
            open: count(self.open),
            declared_share: share(self.declared, self.registered),
            ald_open_share: share(self.ald_open, self.ald_registered),
            median_days_to_declaration: Published::None,
        }
    }
}

/// The registry's figures as a comparison publishes them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PublishedRegistry {
    pub registered: Published<u32>,
    pub matched: Published<u32>,
    pub declared: Published<u32>,
    pub open: Published<u32>,
    pub declared_share: Published<Rate>,
    pub ald_open_share: Published<Rate>,
    pub median_days_to_declaration: Published<f64>,
}

impl PublishedRegistry {
    pub fn of(indicators: &RegistryIndicators) -> Self {
        let counts = RegistryCounts::of(indicators);
        PublishedRegistry {
            median_days_to_declaration: median(indicators.median_days_to_declaration, counts.declared),
            ..counts.published()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_counts_are_masked_but_zero_is_not() {
        assert_eq!(count(0), Published::Value(0));
        assert_eq!(count(1), Published::Masked);
        assert_eq!(count(10), Published::Masked);
        assert_eq!(count(11), Published::Value(11));
    }

    #[test]
    fn a_share_is_masked_when_either_count_is_small() {
        assert_eq!(share(0, 0), Published::None);
        assert_eq!(share(0, 40), Published::Value(Rate::ZERO));
        assert_eq!(share(3, 40), Published::Masked);
        assert_eq!(share(30, 8), Published::Masked);
        assert_eq!(share(20, 40).value().map(Rate::billionths), Some(500_000_000));
    }

    #[test]
    fn a_median_over_few_values_is_masked() {
        assert_eq!(median(None, 0), Published::None);
        assert_eq!(median(Some(12.0), 4), Published::Masked);
        assert_eq!(median(Some(12.0), 11), Published::Value(12.0));
    }

    #[test]
    fn counts_add_up() {
        let a = RegistryCounts { registered: 30, matched: 20, declared: 12, open: 15, ald_registered: 9, ald_open: 4 };
        let mut total = a;
        total.add(&a);
        assert_eq!(total.registered, 60);
        assert_eq!(total.ald_open, 8);
        let p = total.published();
        assert_eq!(p.ald_open_share, share(8, 18));
        assert_eq!(p.ald_open_share, Published::Masked);
        assert_eq!(p.declared_share.value().map(Rate::billionths), Some(400_000_000));
    }

    #[test]
    fn contract_figures_follow_the_contract_year() {
        let rules = crate::aci::rules::embedded_all().unwrap().last().unwrap();
        let signed = NaiveDate::from_ymd_opt(2024, 3, 1).unwrap();
        let contract = Contract::new("CPTS", signed, rules, 60_000);
        let before = ContractFigures::of(rules, &contract, signed.pred_opt().unwrap()).unwrap();
        assert_eq!((before.year, before.funding), (None, None));
        let during = ContractFigures::of(rules, &contract, NaiveDate::from_ymd_opt(2025, 6, 1).unwrap()).unwrap();
        assert_eq!(during.year, Some(2));
        let (total, maximum) = during.funding.unwrap();
        assert!(total.0 > 0 && total <= maximum, "{total:?} of {maximum:?}");
        assert_eq!(during.missions_engaged, contract.missions.len());
    }
}
