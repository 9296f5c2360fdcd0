//! When the money of a contract is paid (rule set `[payment]`):
//!
//! - operating funding: the first year's at signature (`operating_at_signature_percent`), later
//!   years' at the anniversary that opens them (`operating_advance_percent`); any rest at the
//!   anniversary that closes the year;
//! - a mission's fixed part (and the crisis-plan amount): `fixed_advance_percent` (75 %) of the
//!   year's prorated amount when the year opens, or on the day the mission starts if later; the
//!   balance at the anniversary that closes the year — so each anniversary pays the balance of
//!   year n-1 and the advance of year n;
//! - the variable part and the crisis-occurrence amount: at the anniversary that closes the year.
//!
//! Advances are rounded half up to the cent and balances are the exact rest, so the payments of
//! a year always add up to the year's funding.

use super::MissionId;
use super::compute::{Assumptions, ComputeError, YearFunding, year_funding};
use super::contract::Contract;
use super::money::Cents;
use super::rules::{MissionFunding, RuleSet};
use chrono::NaiveDate;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentKind {
    /// First year's operating funding, at signature.
    AtSignature,
    /// Advance on a year's amount, when the year opens or the mission starts.
    Advance,
    /// Rest of a year's amount, at the anniversary that closes the year.
    Balance,
    /// Variable part, on the indicators, after the year.
    Variable,
    /// Amount for a serious health crisis during the year.
    CrisisOccurrence,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Payment {
    pub date: NaiveDate,
    /// The contract year the money is for.
    pub contract_year: u8,
    pub mission: MissionId,
    pub kind: PaymentKind,
    pub amount: Cents,
    /// The rule applied (key path in the rule-set file).
    pub rule: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Schedule {
    /// In date order.
    pub payments: Vec<Payment>,
    pub total: Cents,
    /// The years the payments come from.
    pub years: Vec<YearFunding>,
}

/// The payments of one computed year.
pub fn payments_for_year(rules: &RuleSet, contract: &Contract, year: &YearFunding) -> Vec<Payment> {
    let Some(period) = year.period else {
        return Vec::new();
    };
    let y = year.contract_year;
    let pay = &rules.payment;
    let mut out = Vec::new();
    let mut push = |date: NaiveDate, mission: MissionId, kind: PaymentKind, amount: Cents, rule: &str| {
        if amount > Cents::ZERO {
            out.push(Payment { date, contract_year: y, mission, kind, amount, rule: rule.to_owned() });
        }
    };
    for e in &year.envelopes {
        if e.mission == MissionId::Fonctionnement {
            let (percent, kind, rule) = if y == 1 {
                (pay.operating_at_signature_percent, PaymentKind::AtSignature, "payment.operating_at_signature_percent")
            } else {
                (pay.operating_advance_percent, PaymentKind::Advance, "payment.operating_advance_percent")
            };
            let first = e.total.percent(percent);
            push(period.start, e.mission, kind, first, rule);
            push(period.end, e.mission, PaymentKind::Balance, e.total - first, rule);
            continue;
        }
        let started = contract
            .engaged(e.mission)
            .and_then(|m| m.started_on)
            .map_or(period.start, |s| s.max(contract.signed_on).max(period.start));
        let advance = e.fixed.percent(pay.fixed_advance_percent);
        push(started, e.mission, PaymentKind::Advance, advance, "payment.fixed_advance_percent");
        push(period.end, e.mission, PaymentKind::Balance, e.fixed - advance, "payment.fixed_advance_percent");
        let crisis = matches!(rules.mission(e.mission).map(|r| &r.funding), Some(MissionFunding::CrisisPlan { .. }));
        let (kind, rule) = if crisis {
            (PaymentKind::CrisisOccurrence, format!("missions.{}.crisis_occurrence", e.mission))
        } else {
            (PaymentKind::Variable, format!("missions.{}.variable", e.mission))
        };
        push(period.end, e.mission, kind, e.variable, &rule);
    }
    out
}

/// Every payment of the contract, in date order.
pub fn payment_schedule(
    rules: &RuleSet,
    contract: &Contract,
    assumptions: &Assumptions,
) -> Result<Schedule, ComputeError> {
    let years = (1..=rules.contract_years)
        .map(|y| year_funding(rules, contract, y, assumptions))
        .collect::<Result<Vec<_>, _>>()?;
    let mut payments: Vec<Payment> = years.iter().flat_map(|y| payments_for_year(rules, contract, y)).collect();
    payments.sort_by_key(|a| (a.date, a.contract_year, a.mission, a.kind));
    Ok(Schedule { total: payments.iter().map(|p| p.amount).sum(), payments, years })
}
