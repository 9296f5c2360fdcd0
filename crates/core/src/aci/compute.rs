//! What a contract year is worth, envelope by envelope, each figure with its explanation.
//!
//! - operating funding: the rule set's amount for the size class, every year;
//! - a mission's fixed part: the yearly amount, prorated by days when the mission starts during
//!   the contract year (`days from start to the closing anniversary / days of the contract
//!   year`, rounded half up to the cent) if the rule set says so;
//! - a mission's variable part: the variable envelope × the weighted achievement of its
//!   indicators (each indicator's ratio capped at 100 %), rounded half up to the cent;
//! - the crisis mission: the plan in the year the mission starts, its update in later years,
//!   and the crisis-occurrence amount in a year with a serious health crisis.
//!
//! [`year_funding`] computes a year of a [`Contract`]; [`projection`] the whole contract;
//! [`simulate`] a what-if year from a size class alone.

use super::MissionId;
use super::contract::{Contract, CrisisDeclaration, EngagedMission, Indicator, IndicatorKind};
use super::money::{Cents, Rate};
use super::rules::{MissionFunding, MissionRule, PopulationPolicy, RuleSet, SizedFigures};
use crate::territory::SizeClass;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// Which part of an envelope an explanation is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Part {
    Fixed,
    Variable,
}

/// One step of a computation: which rule (key path in the rule-set file), its source, whether it
/// is UNVERIFIED, and what it did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Explanation {
    pub rule: String,
    pub part: Option<Part>,
    pub source: Option<String>,
    pub unverified: Option<String>,
    #[serde(flatten)]
    pub step: Step,
}

/// What a computation step did, with its inputs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Step {
    /// The size class of the year, from the population in force.
    SizeClass {
        size: SizeClass,
        population: u64,
        known_on: NaiveDate,
        policy: PopulationPolicy,
    },
    /// The size class was given (simulation).
    SizeGiven {
        size: SizeClass,
    },
    /// An amount read from the rule set's table.
    Amount {
        size: SizeClass,
        amount: Cents,
    },
    /// The mission is not funded by this rule set.
    NotInRuleSet,
    /// The mission has not started by the end of the year (`starts_on` when it starts later).
    NotStarted {
        starts_on: Option<NaiveDate>,
    },
    /// Prorated by days: `full × days_active / days_in_year`.
    Prorata {
        from: NaiveDate,
        to: NaiveDate,
        days_active: u64,
        days_in_year: u64,
        full: Cents,
        amount: Cents,
    },
    /// Started during the year, but the rule set does not prorate this part.
    NoProrata {
        from: NaiveDate,
    },
    CrisisPlanFirstYear {
        amount: Cents,
    },
    CrisisPlanUpdate {
        amount: Cents,
    },
    CrisisOccurred {
        crises: Vec<String>,
        amount: Cents,
    },
    CrisisAssumed {
        amount: Cents,
    },
    NoCrisis,
    AssumedAchievement {
        rate: Rate,
    },
    Indicator {
        name: String,
        kind: IndicatorKind,
        weight: u32,
        baseline: i64,
        target: i64,
        achieved: Option<i64>,
        ratio: Rate,
        evidence: Vec<String>,
    },
    IndicatorWithoutTarget {
        name: String,
    },
    NoIndicators,
    WeightedAchievement {
        rate: Rate,
        envelope: Cents,
        amount: Cents,
    },
}

impl Explanation {
    fn new(rule: impl Into<String>, part: Option<Part>, step: Step) -> Self {
        Self { rule: rule.into(), part, source: None, unverified: None, step }
    }

    fn sourced(mut self, source: &str, unverified: &Option<String>) -> Self {
        self.source = Some(source.to_owned());
        self.unverified = unverified.clone();
        self
    }

    fn from_figures(f: &SizedFigures, part: Option<Part>, step: Step) -> Self {
        Self::new(f.rule.clone(), part, step).sourced(&f.source, &f.unverified)
    }

    /// The step in English.
    pub fn en(&self) -> String {
        let text = match &self.step {
            Step::SizeClass { size, population, known_on, policy } => {
                let p = match policy {
                    PopulationPolicy::FixedAtSignature => "class fixed at signature",
                    PopulationPolicy::ReclassifyAtAnniversary => "class revised at each anniversary",
                };
                format!("{size}: population {population} known on {known_on} ({p})")
            }
            Step::SizeGiven { size } => format!("{size} (given)"),
            Step::Amount { size, amount } => format!("{size} amount of `{}`: {amount}", self.rule),
            Step::NotInRuleSet => "not funded by this rule set".into(),
            Step::NotStarted { starts_on: Some(d) } => {
                format!("the mission starts on {d}, after this year: nothing due")
            }
            Step::NotStarted { starts_on: None } => "the mission has not started: nothing due".into(),
            Step::Prorata { from, to, days_active, days_in_year, full, amount } => format!(
                "started during the year: {full} × {days_active}/{days_in_year} days ({from} to {to}) = {amount}, \
                 rounded half up to the cent"
            ),
            Step::NoProrata { from } => format!("started on {from}; this part is not prorated under this rule set"),
            Step::CrisisPlanFirstYear { amount } => {
                format!("first year of the mission, writing the crisis plan: {amount}")
            }
            Step::CrisisPlanUpdate { amount } => format!("later year, updating the crisis plan: {amount}"),
            Step::CrisisOccurred { crises, amount } => {
                format!("serious health crisis during the year ({}): {amount}", crises.join(", "))
            }
            Step::CrisisAssumed { amount } => format!("a serious health crisis is assumed this year: {amount}"),
            Step::NoCrisis => "no serious health crisis this year: nothing due".into(),
            Step::AssumedAchievement { rate } => format!("achievement assumed at {rate}"),
            Step::Indicator { name, kind, weight, baseline, target, achieved, ratio, evidence } => {
                let kind = match kind {
                    IndicatorKind::Action => "action",
                    IndicatorKind::Result => "result",
                };
                let achieved = achieved.map_or("no value reported".to_owned(), |a| format!("achieved {a}"));
                format!(
                    "indicator \"{name}\" ({kind}, weight {weight}): baseline {baseline}, target {target}, {achieved} \
                     → {ratio} (capped at 100%), {} evidence item(s)",
                    evidence.len()
                )
            }
            Step::IndicatorWithoutTarget { name } => {
                format!("indicator \"{name}\" has no target this year: not counted")
            }
            Step::NoIndicators => "no weighted indicator with a target this year: achievement 0.00%".into(),
            Step::WeightedAchievement { rate, envelope, amount } => {
                format!("{envelope} × weighted achievement {rate} = {amount}, rounded half up to the cent")
            }
        };
        if self.unverified.is_some() { format!("{text} [UNVERIFIED rule]") } else { text }
    }

    /// The step in French.
    pub fn fr(&self) -> String {
        let taille = |s: &SizeClass| format!("taille {}", s.number());
        let text = match &self.step {
            Step::SizeClass { size, population, known_on, policy } => {
                let p = match policy {
                    PopulationPolicy::FixedAtSignature => "taille fixée à la signature",
                    PopulationPolicy::ReclassifyAtAnniversary => "taille revue à chaque date anniversaire",
                };
                format!("{} : population {population} connue le {known_on} ({p})", taille(size))
            }
            Step::SizeGiven { size } => format!("{} (indiquée)", taille(size)),
            Step::Amount { size, amount } => format!("montant {} de « {} » : {}", taille(size), self.rule, amount.fr()),
            Step::NotInRuleSet => "non financée par ce texte".into(),
            Step::NotStarted { starts_on: Some(d) } => {
                format!("la mission démarre le {d}, après cette année : rien n'est dû")
            }
            Step::NotStarted { starts_on: None } => "la mission n'a pas démarré : rien n'est dû".into(),
            Step::Prorata { from, to, days_active, days_in_year, full, amount } => format!(
                "démarrage en cours d'année : {} × {days_active}/{days_in_year} jours (du {from} au {to}) = {}, \
                 arrondi au centime le plus proche",
                full.fr(),
                amount.fr()
            ),
            Step::NoProrata { from } => format!("démarrage le {from} ; cette part n'est pas proratisée par ce texte"),
            Step::CrisisPlanFirstYear { amount } => {
                format!("première année de la mission, rédaction du plan de crise : {}", amount.fr())
            }
            Step::CrisisPlanUpdate { amount } => format!("année suivante, mise à jour du plan : {}", amount.fr()),
            Step::CrisisOccurred { crises, amount } => {
                format!("crise sanitaire grave dans l'année ({}) : {}", crises.join(", "), amount.fr())
            }
            Step::CrisisAssumed { amount } => {
                format!("hypothèse d'une crise sanitaire grave cette année : {}", amount.fr())
            }
            Step::NoCrisis => "pas de crise sanitaire grave cette année : rien n'est dû".into(),
            Step::AssumedAchievement { rate } => format!("taux d'atteinte supposé : {rate}"),
            Step::Indicator { name, kind, weight, baseline, target, achieved, ratio, evidence } => {
                let kind = match kind {
                    IndicatorKind::Action => "action",
                    IndicatorKind::Result => "résultat",
                };
                let achieved = achieved.map_or("aucune valeur déclarée".to_owned(), |a| format!("atteint {a}"));
                format!(
                    "indicateur « {name} » ({kind}, poids {weight}) : départ {baseline}, cible {target}, {achieved} \
                     → {ratio} (plafonné à 100 %), {} justificatif(s)",
                    evidence.len()
                )
            }
            Step::IndicatorWithoutTarget { name } => {
                format!("l'indicateur « {name} » n'a pas de cible cette année : non compté")
            }
            Step::NoIndicators => "aucun indicateur pondéré avec une cible cette année : atteinte 0,00 %".into(),
            Step::WeightedAchievement { rate, envelope, amount } => {
                format!(
                    "{} × atteinte pondérée {rate} = {}, arrondi au centime le plus proche",
                    envelope.fr(),
                    amount.fr()
                )
            }
        };
        if self.unverified.is_some() { format!("{text} [règle NON VÉRIFIÉE]") } else { text }
    }
}

/// What an envelope brings in a year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnvelopeFunding {
    pub mission: MissionId,
    pub label: String,
    pub fixed: Cents,
    pub variable: Cents,
    pub total: Cents,
    /// The envelope's yearly maximum at this size class.
    pub maximum: Cents,
    /// Weighted achievement used for the variable part.
    pub achievement: Option<Rate>,
    pub explanations: Vec<Explanation>,
}

/// A contract year, from its opening anniversary (inclusive) to the next (exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Period {
    pub start: NaiveDate,
    pub end: NaiveDate,
}

/// What a contract year brings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct YearFunding {
    pub rule_set: String,
    pub contract_year: u8,
    pub size: SizeClass,
    /// `None` in a simulation without dates.
    pub period: Option<Period>,
    /// Operating funding first, then the engaged missions in [`MissionId`] order.
    pub envelopes: Vec<EnvelopeFunding>,
    pub total: Cents,
    /// The rule set's maximum for the year's size class.
    pub maximum: Cents,
    /// How the size class was set.
    pub explanations: Vec<Explanation>,
}

impl YearFunding {
    pub fn envelope(&self, mission: MissionId) -> Option<&EnvelopeFunding> {
        self.envelopes.iter().find(|e| e.mission == mission)
    }
}

/// What-if overrides for a contract computation. `None` uses the contract's own data.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assumptions {
    /// Replace every mission's indicator achievement by this rate.
    pub achievement: Option<Rate>,
    /// Assume a serious health crisis occurs (or not) in every year computed.
    pub crisis: Option<bool>,
}

/// A what-if year without a contract: a size class, the missions engaged for the whole year,
/// one achievement rate, with or without a crisis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Scenario {
    pub size: SizeClass,
    pub contract_year: u8,
    /// Missions engaged (`fonctionnement` is always included and may be omitted).
    pub missions: BTreeSet<MissionId>,
    pub achievement: Rate,
    pub crisis: bool,
}

impl Scenario {
    /// Every mission, full achievement, no crisis.
    pub fn all_missions(size: SizeClass, contract_year: u8) -> Self {
        Self {
            size,
            contract_year,
            missions: MissionId::ALL.into_iter().collect(),
            achievement: Rate::ONE,
            crisis: false,
        }
    }
}

/// The five (or so) years of a contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Projection {
    pub rule_set: String,
    pub years: Vec<YearFunding>,
    pub total: Cents,
    /// Total per envelope over the contract, in [`MissionId`] order.
    pub by_mission: Vec<MissionTotal>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MissionTotal {
    pub mission: MissionId,
    pub total: Cents,
}

/// Why a computation cannot be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ComputeError {
    RuleSetMismatch {
        contract: String,
        rules: String,
    },
    YearOutOfRange {
        year: u8,
        years: u8,
    },
    /// A contract date beyond the calendar's range.
    DateOutOfRange,
}

impl fmt::Display for ComputeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::RuleSetMismatch { contract, rules } => {
                write!(f, "the contract is under rule set `{contract}`, not `{rules}`")
            }
            Self::YearOutOfRange { year, years } => {
                write!(f, "contract year {year} does not exist: a contract lasts {years} years (1..={years})")
            }
            Self::DateOutOfRange => f.write_str("contract dates are out of the calendar's range"),
        }
    }
}

impl std::error::Error for ComputeError {}

fn check_year(rules: &RuleSet, year: u8) -> Result<(), ComputeError> {
    if (1..=rules.contract_years).contains(&year) {
        Ok(())
    } else {
        Err(ComputeError::YearOutOfRange { year, years: rules.contract_years })
    }
}

// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy)]
enum Activity {
    NotStarted(Option<NaiveDate>),
    Full,
    Partial { from: NaiveDate, to: NaiveDate, days: u64, of: u64 },
}

enum AchievementInput<'a> {
    Assumed(Rate),
    Indicators(&'a [Indicator], u8),
}

enum CrisisInput<'a> {
    Assumed(bool),
    Declared(Vec<&'a CrisisDeclaration>),
}

struct MissionYear<'a> {
    activity: Activity,
    /// The crisis plan is written this year (the year the mission starts).
    first_year: bool,
    achievement: AchievementInput<'a>,
    crisis: CrisisInput<'a>,
}

fn operating_envelope(rules: &RuleSet, size: SizeClass) -> EnvelopeFunding {
    let f = &rules.operating.figures;
    let amount = f.amount(size);
    EnvelopeFunding {
        mission: MissionId::Fonctionnement,
        label: rules.operating.label.clone(),
        fixed: amount,
        variable: Cents::ZERO,
        total: amount,
        maximum: amount,
        achievement: None,
        explanations: vec![Explanation::from_figures(f, Some(Part::Fixed), Step::Amount { size, amount })],
    }
}

fn not_in_rule_set(mission: MissionId) -> EnvelopeFunding {
    EnvelopeFunding {
        mission,
        label: mission.en().to_owned(),
        fixed: Cents::ZERO,
        variable: Cents::ZERO,
        total: Cents::ZERO,
        maximum: Cents::ZERO,
        achievement: None,
        explanations: vec![Explanation::new(format!("missions.{mission}"), None, Step::NotInRuleSet)],
    }
}

/// Applies the prorata rule to a yearly amount.
fn prorate(
    rules: &RuleSet,
    rule: &str,
    full: Cents,
    activity: Activity,
    prorate: bool,
    part: Part,
    out: &mut Vec<Explanation>,
) -> Cents {
    match activity {
        Activity::NotStarted(starts_on) => {
            out.push(Explanation::new(rule, Some(part), Step::NotStarted { starts_on }));
            Cents::ZERO
        }
        Activity::Full => full,
        Activity::Partial { from, to, days, of } => {
            let p = &rules.prorata;
            if prorate {
                let amount = full.mul_div(days, of);
                out.push(
                    Explanation::new(
                        "prorata",
                        Some(part),
                        Step::Prorata { from, to, days_active: days, days_in_year: of, full, amount },
                    )
                    .sourced(&p.source, &p.unverified),
                );
                amount
            } else {
                out.push(
                    Explanation::new("prorata", Some(part), Step::NoProrata { from }).sourced(&p.source, &p.unverified),
                );
                full
            }
        }
    }
}

/// Weighted achievement of a mission's indicators for `year`, with one explanation per
/// indicator. Each ratio is capped at 100 % and truncated to the billionth; the weighted mean is
/// truncated too, so achievement never rounds up.
fn weighted_achievement(rule: &str, indicators: &[Indicator], year: u8, out: &mut Vec<Explanation>) -> Rate {
    let mut weighted: i128 = 0;
    let mut weights: i128 = 0;
    for ind in indicators {
        match ind.ratio(year) {
            None => out.push(Explanation::new(
                rule,
                Some(Part::Variable),
                Step::IndicatorWithoutTarget { name: ind.name.clone() },
            )),
            Some(ratio) => {
                let result = ind.results.get(&year);
                out.push(Explanation::new(
                    rule,
                    Some(Part::Variable),
                    Step::Indicator {
                        name: ind.name.clone(),
                        kind: ind.kind,
                        weight: ind.weight,
                        baseline: ind.baseline,
                        target: ind.targets.get(&year).copied().unwrap_or(ind.baseline),
                        achieved: result.map(|r| r.achieved),
                        ratio,
                        evidence: result.map(|r| r.evidence.clone()).unwrap_or_default(),
                    },
                ));
                weighted += i128::from(ind.weight) * i128::from(ratio.billionths());
                weights += i128::from(ind.weight);
            }
        }
    }
    if weights == 0 {
        out.push(Explanation::new(rule, Some(Part::Variable), Step::NoIndicators));
        return Rate::ZERO;
    }
    Rate::ratio(weighted, weights * i128::from(Rate::ONE.billionths()))
}

fn mission_envelope(rules: &RuleSet, size: SizeClass, rule: &MissionRule, input: &MissionYear<'_>) -> EnvelopeFunding {
    let mut ex = Vec::new();
    let mut achievement = None;
    let (fixed, variable) = match &rule.funding {
        MissionFunding::FixedVariable { fixed: ff, variable: vf } => {
            let full = ff.amount(size);
            ex.push(Explanation::from_figures(ff, Some(Part::Fixed), Step::Amount { size, amount: full }));
            let fixed = prorate(rules, &ff.rule, full, input.activity, rules.prorata.fixed, Part::Fixed, &mut ex);

            let full_env = vf.amount(size);
            ex.push(Explanation::from_figures(vf, Some(Part::Variable), Step::Amount { size, amount: full_env }));
            let variable = if let Activity::NotStarted(_) = input.activity {
                Cents::ZERO
            } else {
                let envelope = match input.activity {
                    Activity::Partial { .. } if rules.prorata.variable => {
                        prorate(rules, &vf.rule, full_env, input.activity, true, Part::Variable, &mut ex)
                    }
                    _ => full_env,
                };
                let rate = match &input.achievement {
                    AchievementInput::Assumed(rate) => {
                        ex.push(Explanation::new(
                            &vf.rule,
                            Some(Part::Variable),
                            Step::AssumedAchievement { rate: *rate },
                        ));
                        *rate
                    }
                    AchievementInput::Indicators(inds, year) => weighted_achievement(&vf.rule, inds, *year, &mut ex),
                };
                let amount = envelope.times(rate);
                ex.push(Explanation::from_figures(
                    vf,
                    Some(Part::Variable),
                    Step::WeightedAchievement { rate, envelope, amount },
                ));
                achievement = Some(rate);
                amount
            };
            (fixed, variable)
        }
        MissionFunding::CrisisPlan { plan_first_year, plan_update, crisis_occurrence } => {
            let (row, full) = if input.first_year {
                (plan_first_year, plan_first_year.amount(size))
            } else {
                (plan_update, plan_update.amount(size))
            };
            let fixed = if let Activity::NotStarted(starts_on) = input.activity {
                ex.push(Explanation::from_figures(row, Some(Part::Fixed), Step::NotStarted { starts_on }));
                Cents::ZERO
            } else {
                let step = if input.first_year {
                    Step::CrisisPlanFirstYear { amount: full }
                } else {
                    Step::CrisisPlanUpdate { amount: full }
                };
                ex.push(Explanation::from_figures(row, Some(Part::Fixed), step));
                prorate(rules, &row.rule, full, input.activity, rules.prorata.crisis_plan, Part::Fixed, &mut ex)
            };
            let occurrence = crisis_occurrence.amount(size);
            let variable = match (&input.activity, &input.crisis) {
                (Activity::NotStarted(_), _) => Cents::ZERO,
                (_, CrisisInput::Assumed(true)) => {
                    ex.push(Explanation::from_figures(
                        crisis_occurrence,
                        Some(Part::Variable),
                        Step::CrisisAssumed { amount: occurrence },
                    ));
                    occurrence
                }
                (_, CrisisInput::Declared(list)) if !list.is_empty() => {
                    ex.push(Explanation::from_figures(
                        crisis_occurrence,
                        Some(Part::Variable),
                        Step::CrisisOccurred {
                            crises: list.iter().map(|c| format!("{} ({})", c.name, c.declared_on)).collect(),
                            amount: occurrence,
                        },
                    ));
                    occurrence
                }
                _ => {
                    ex.push(Explanation::from_figures(crisis_occurrence, Some(Part::Variable), Step::NoCrisis));
                    Cents::ZERO
                }
            };
            (fixed, variable)
        }
    };
    EnvelopeFunding {
        mission: rule.mission,
        label: rule.label.clone(),
        fixed,
        variable,
        total: fixed + variable,
        maximum: rule.maximum(size),
        achievement,
        explanations: ex,
    }
}

fn assemble(
    rules: &RuleSet,
    size: SizeClass,
    contract_year: u8,
    period: Option<Period>,
    envelopes: Vec<EnvelopeFunding>,
    explanations: Vec<Explanation>,
) -> YearFunding {
    YearFunding {
        rule_set: rules.id.clone(),
        contract_year,
        size,
        period,
        total: envelopes.iter().map(|e| e.total).sum(),
        maximum: rules.maximum(size),
        envelopes,
        explanations,
    }
}

/// A what-if year: every mission of the scenario engaged for the whole year (the crisis plan is
/// written in year 1, updated later), the same achievement for every variable part.
pub fn simulate(rules: &RuleSet, scenario: &Scenario) -> Result<YearFunding, ComputeError> {
    check_year(rules, scenario.contract_year)?;
    let size = scenario.size;
    let mut envelopes = vec![operating_envelope(rules, size)];
    for mission in scenario.missions.iter().copied().filter(|m| m.is_mission()) {
        let Some(rule) = rules.mission(mission) else {
            envelopes.push(not_in_rule_set(mission));
            continue;
        };
        let input = MissionYear {
            activity: Activity::Full,
            first_year: scenario.contract_year == 1,
            achievement: AchievementInput::Assumed(scenario.achievement),
            crisis: CrisisInput::Assumed(scenario.crisis),
        };
        envelopes.push(mission_envelope(rules, size, rule, &input));
    }
    let explanation =
        Explanation::new("size_classes", None, Step::SizeGiven { size }).sourced(&rules.size_thresholds_source, &None);
    Ok(assemble(rules, size, scenario.contract_year, None, envelopes, vec![explanation]))
}

fn mission_year<'a>(
    contract: &Contract,
    m: &'a EngagedMission,
    year: u8,
    (start, end): (NaiveDate, NaiveDate),
    assumptions: &Assumptions,
) -> MissionYear<'a> {
    let began = m.started_on.map(|s| s.max(contract.signed_on));
    let activity = match began {
        None => Activity::NotStarted(None),
        Some(b) if b >= end => Activity::NotStarted(Some(b)),
        Some(b) if b <= start => Activity::Full,
        Some(b) => Activity::Partial {
            from: b,
            to: end,
            days: u64::try_from((end - b).num_days()).unwrap_or(0),
            of: u64::try_from((end - start).num_days()).unwrap_or(0),
        },
    };
    let first_year = began.is_some_and(|b| start <= b && b < end);
    let achievement = match assumptions.achievement {
        Some(rate) => AchievementInput::Assumed(rate),
        None => AchievementInput::Indicators(&m.indicators, year),
    };
    let crisis = match assumptions.crisis {
        Some(b) => CrisisInput::Assumed(b),
        None => {
            let from = began.map_or(end, |b| b.max(start));
            CrisisInput::Declared(m.crises.iter().filter(|c| from <= c.declared_on && c.declared_on < end).collect())
        }
    };
    MissionYear { activity, first_year, achievement, crisis }
}

/// Contract year `year` of `contract` (1-based), with what-if `assumptions`.
pub fn year_funding(
    rules: &RuleSet,
    contract: &Contract,
    year: u8,
    assumptions: &Assumptions,
) -> Result<YearFunding, ComputeError> {
    if contract.rule_set != rules.id {
        return Err(ComputeError::RuleSetMismatch { contract: contract.rule_set.clone(), rules: rules.id.clone() });
    }
    check_year(rules, year)?;
    let (start, end) = contract.period(year).ok_or(ComputeError::DateOutOfRange)?;
    let (population, known_on) = contract.population_for_year(rules, year);
    let size = rules.size_class(population);
    let pc = &rules.population_change;
    let size_explanation =
        Explanation::new("size_classes", None, Step::SizeClass { size, population, known_on, policy: pc.policy })
            .sourced(&pc.source, &pc.unverified);

    let mut envelopes = vec![operating_envelope(rules, size)];
    for mission in MissionId::ALL.into_iter().filter(|m| m.is_mission()) {
        let Some(engaged) = contract.engaged(mission) else { continue };
        let Some(rule) = rules.mission(mission) else {
            envelopes.push(not_in_rule_set(mission));
            continue;
        };
        let input = mission_year(contract, engaged, year, (start, end), assumptions);
        envelopes.push(mission_envelope(rules, size, rule, &input));
    }
    Ok(assemble(rules, size, year, Some(Period { start, end }), envelopes, vec![size_explanation]))
}

/// Every year of the contract, with totals per envelope.
pub fn projection(rules: &RuleSet, contract: &Contract, assumptions: &Assumptions) -> Result<Projection, ComputeError> {
    let years = (1..=rules.contract_years)
        .map(|y| year_funding(rules, contract, y, assumptions))
        .collect::<Result<Vec<_>, _>>()?;
    let mut by: BTreeMap<MissionId, Cents> = BTreeMap::new();
    for e in years.iter().flat_map(|y| &y.envelopes) {
        *by.entry(e.mission).or_default() += e.total;
    }
    Ok(Projection {
        rule_set: rules.id.clone(),
        total: years.iter().map(|y| y.total).sum(),
        by_mission: by.into_iter().map(|(mission, total)| MissionTotal { mission, total }).collect(),
        years,
    })
}
