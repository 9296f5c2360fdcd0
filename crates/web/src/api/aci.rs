//! The ACI rule sets and the funding simulator, public (no token needed): the same checks and the
//! same computation as the page `/aci/simulateur` (`pages::aci_simulator`).
//!
//! Money is given twice: exact integer cents (`*_cents`) and decimal euros as strings with two
//! decimals (`*_eur`, e.g. `"287500.00"`), so that no client parses money as a float.

use crate::error::{ApiError, Failure, Problem};
use crate::pages::aci_simulator::{self, Basis, FieldError, Rejection, Simulation, SimulatorParams};
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use chrono::NaiveDate;
use maillage_core::aci::rules::{self, MissionFunding, RuleSetLookupError, SIZES, SizedFigures};
use maillage_core::aci::{Category, Cents, EnvelopeFunding, Explanation, MissionId, Part, RuleSet};
use serde::Serialize;
use utoipa::ToSchema;

/// An amount for one size class.
#[derive(Serialize, ToSchema)]
pub struct AciSizedAmount {
    /// Size class ("taille"), 1 to 4.
    #[schema(minimum = 1, maximum = 4)]
    size: u8,
    cents: i64,
    /// Decimal euros, two decimals: `"287500.00"`.
    eur: String,
}

fn sized(f: impl Fn(maillage_core::territory::SizeClass) -> Cents) -> Vec<AciSizedAmount> {
    SIZES
        .iter()
        .map(|s| AciSizedAmount { size: s.number(), cents: f(*s).cents(), eur: f(*s).euros_decimal() })
        .collect()
}

/// Where figures come from.
#[derive(Serialize, ToSchema)]
pub struct AciSource {
    key: String,
    title: String,
    /// URL or reference where the text can be read.
    #[serde(rename = "where")]
    location: String,
}

/// A rule the sources at hand do not state exactly.
#[derive(Serialize, ToSchema)]
pub struct AciUnverifiedRule {
    /// Key path of the rule in the rule-set file, e.g. `missions.qualite.fixed`.
    rule: String,
    /// Why (in English, as in the file).
    reason: String,
}

/// Population thresholds of the size classes.
#[derive(Serialize, ToSchema)]
pub struct AciSizeThresholds {
    t2_from: u64,
    t3_from: u64,
    t4_from: u64,
}

/// One text version of the ACI, in short.
#[derive(Serialize, ToSchema)]
pub struct AciRuleSetSummary {
    /// Identifier, used as `rules=` by the simulator: `avenant-2`, `aci-2019`.
    name: String,
    title: String,
    /// The legal text.
    text: String,
    signed_on: NaiveDate,
    /// First day on which the rule set applies.
    effective_from: NaiveDate,
    /// Length of a contract, in years.
    contract_years: u8,
    size_thresholds: AciSizeThresholds,
    /// The largest yearly amount per size class: the sum of the table (every mission, full
    /// achievement, first-year crisis plan and a crisis). No simulation exceeds it.
    maximum: Vec<AciSizedAmount>,
    /// The maximum per year as published with the text (may differ from the table's sum: see
    /// `unverified`).
    published_maximum: Vec<AciSizedAmount>,
    sources: Vec<AciSource>,
    unverified: Vec<AciUnverifiedRule>,
}

impl AciRuleSetSummary {
    fn new(r: &RuleSet) -> Self {
        let t = &r.size_thresholds;
        Self {
            name: r.id.clone(),
            title: r.title.clone(),
            text: r.text.clone(),
            signed_on: r.signed_on,
            effective_from: r.effective_from,
            contract_years: r.contract_years,
            size_thresholds: AciSizeThresholds { t2_from: t.t2_from, t3_from: t.t3_from, t4_from: t.t4_from },
            maximum: sized(|s| r.maximum(s)),
            published_maximum: sized(|s| r.published_maximum(s)),
            sources: r
                .sources
                .values()
                .map(|s| AciSource { key: s.key.clone(), title: s.title.clone(), location: s.location.clone() })
                .collect(),
            unverified: r.unverified().into_iter().map(|(rule, reason)| AciUnverifiedRule { rule, reason }).collect(),
        }
    }
}

/// One row of the table: yearly amounts per size class.
#[derive(Serialize, ToSchema)]
pub struct AciRuleRow {
    /// Key path in the rule-set file, e.g. `missions.acces.fixed`: the rule that explanations name.
    rule: String,
    /// `fonctionnement`, `acces`, `parcours`, `prevention`, `crise`, `qualite`, `accompagnement`.
    mission: String,
    /// `operating`, `fixed`, `variable`, `plan_first_year`, `plan_update` or `crisis_occurrence`.
    part: String,
    amounts: Vec<AciSizedAmount>,
    /// Key of `sources`.
    source: String,
    unverified: Option<String>,
}

fn amounts(f: &SizedFigures) -> Vec<AciSizedAmount> {
    sized(|s| f.amount(s))
}

fn row(mission: MissionId, part: &str, f: &SizedFigures) -> AciRuleRow {
    AciRuleRow {
        rule: f.rule.clone(),
        mission: mission.as_str().to_owned(),
        part: part.to_owned(),
        amounts: amounts(f),
        source: f.source.clone(),
        unverified: f.unverified.clone(),
    }
}

/// What the text says about one mission.
#[derive(Serialize, ToSchema)]
pub struct AciMissionRule {
    mission: String,
    /// The text's wording.
    label: String,
    /// Short French name.
    label_fr: String,
    /// `socle` (mandatory) or `optional`.
    category: String,
    /// `fixed_variable`, or `crisis_plan` (plan the first year, update later, amount when a crisis
    /// occurs).
    funding_model: String,
    /// Months after signature by which the mission must have started.
    start_within_months: Option<u32>,
    /// Months after signature by which the mission must be fully deployed.
    deploy_within_months: Option<u32>,
}

/// What happens when the population crosses a threshold during the contract.
#[derive(Serialize, ToSchema)]
pub struct AciPopulationChange {
    /// `fixed_at_signature` or `reclassify_at_anniversary`.
    policy: String,
    description: String,
    source: String,
    unverified: Option<String>,
}

/// Which parts are prorated (by days) when a mission starts during a contract year.
#[derive(Serialize, ToSchema)]
pub struct AciProrata {
    fixed: bool,
    variable: bool,
    crisis_plan: bool,
    source: String,
    unverified: Option<String>,
}

/// When money is paid.
#[derive(Serialize, ToSchema)]
pub struct AciPayment {
    operating_at_signature_percent: u8,
    operating_advance_percent: u8,
    fixed_advance_percent: u8,
    source: String,
    unverified: Option<String>,
}

/// A published figure outside the yearly computation (one-off payments…).
#[derive(Serialize, ToSchema)]
pub struct AciOtherFigure {
    key: String,
    label: String,
    amounts: Vec<AciSizedAmount>,
    source: String,
    unverified: Option<String>,
}

/// A rule set in full: the table of yearly amounts and every rule of the computation.
#[derive(Serialize, ToSchema)]
pub struct AciRuleSetTable {
    #[serde(flatten)]
    summary: AciRuleSetSummary,
    /// Operating funding first, then each mission's rows.
    rows: Vec<AciRuleRow>,
    missions: Vec<AciMissionRule>,
    population_change: AciPopulationChange,
    prorata: AciProrata,
    payment: AciPayment,
    /// What the published maximum covers.
    maximum_basis: String,
    other_figures: Vec<AciOtherFigure>,
}

fn snake<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

impl AciRuleSetTable {
    fn new(r: &RuleSet) -> Self {
        let mut rows = vec![row(MissionId::Fonctionnement, "operating", &r.operating.figures)];
        for m in r.missions.values() {
            match &m.funding {
                MissionFunding::FixedVariable { fixed, variable } => {
                    rows.push(row(m.mission, "fixed", fixed));
                    rows.push(row(m.mission, "variable", variable));
                }
                MissionFunding::CrisisPlan { plan_first_year, plan_update, crisis_occurrence } => {
                    rows.push(row(m.mission, "plan_first_year", plan_first_year));
                    rows.push(row(m.mission, "plan_update", plan_update));
                    rows.push(row(m.mission, "crisis_occurrence", crisis_occurrence));
                }
            }
        }
        let pc = &r.population_change;
        let (p, pay) = (&r.prorata, &r.payment);
        Self {
            summary: AciRuleSetSummary::new(r),
            rows,
            missions: r
                .missions
                .values()
                .map(|m| AciMissionRule {
                    mission: m.mission.as_str().to_owned(),
                    label: m.label.clone(),
                    label_fr: aci_simulator::mission_label(m.mission),
                    category: match m.category {
                        Category::Socle => "socle".into(),
                        Category::Optional => "optional".into(),
                    },
                    funding_model: match m.funding {
                        MissionFunding::FixedVariable { .. } => "fixed_variable".into(),
                        MissionFunding::CrisisPlan { .. } => "crisis_plan".into(),
                    },
                    start_within_months: m.start_within_months,
                    deploy_within_months: m.deploy_within_months,
                })
                .collect(),
            population_change: AciPopulationChange {
                policy: snake(&pc.policy),
                description: pc.description.clone(),
                source: pc.source.clone(),
                unverified: pc.unverified.clone(),
            },
            prorata: AciProrata {
                fixed: p.fixed,
                variable: p.variable,
                crisis_plan: p.crisis_plan,
                source: p.source.clone(),
                unverified: p.unverified.clone(),
            },
            payment: AciPayment {
                operating_at_signature_percent: pay.operating_at_signature_percent,
                operating_advance_percent: pay.operating_advance_percent,
                fixed_advance_percent: pay.fixed_advance_percent,
                source: pay.source.clone(),
                unverified: pay.unverified.clone(),
            },
            maximum_basis: r.maximum.basis.clone(),
            other_figures: r
                .other_figures
                .iter()
                .map(|o| AciOtherFigure {
                    key: o.key.clone(),
                    label: o.label.clone(),
                    amounts: amounts(&o.figures),
                    source: o.figures.source.clone(),
                    unverified: o.figures.unverified.clone(),
                })
                .collect(),
        }
    }
}

fn all_rule_sets() -> Result<&'static [RuleSet], ApiError> {
    rules::embedded_all().map_err(|e| Failure::Internal(e.to_string()).into())
}

/// The ACI rule sets (one per text version), oldest first.
#[utoipa::path(get, path = "/api/v1/aci/rule-sets", tag = "aci",
    responses((status = 200, body = [AciRuleSetSummary])))]
pub async fn rule_sets() -> Result<Json<Vec<AciRuleSetSummary>>, ApiError> {
    Ok(Json(all_rule_sets()?.iter().map(AciRuleSetSummary::new).collect()))
}

/// One rule set in full: amounts per size class with their sources, mission deadlines, prorata
/// and payment rules, UNVERIFIED entries.
#[utoipa::path(get, path = "/api/v1/aci/rule-sets/{name}", tag = "aci",
    params(("name" = String, Path, description = "rule-set identifier, e.g. `avenant-2`")),
    responses((status = 200, body = AciRuleSetTable), (status = 404, body = ApiError)))]
pub async fn rule_set(Path(name): Path<String>) -> Result<Json<AciRuleSetTable>, ApiError> {
    match rules::embedded(&name) {
        Ok(r) => Ok(Json(AciRuleSetTable::new(r))),
        Err(RuleSetLookupError::Unknown { known, .. }) => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_rule_set",
            format!("unknown rule set `{name}` (known: {})", known.join(", ")),
            format!("Texte inconnu : « {name} » (textes disponibles : {}).", known.join(", ")),
        )),
        Err(RuleSetLookupError::Invalid(e)) => Err(Failure::Internal(e.to_string()).into()),
    }
}

/// One step of a computation, in French and in English.
#[derive(Serialize, ToSchema)]
pub struct AciExplanation {
    /// The rule applied: key path in the rule-set file.
    rule: String,
    /// `fixed` or `variable`, when the step is about one part.
    part: Option<String>,
    /// Key of the rule set's `sources`.
    source: Option<String>,
    /// Set when the rule is UNVERIFIED: why.
    unverified: Option<String>,
    fr: String,
    en: String,
}

impl From<&Explanation> for AciExplanation {
    fn from(x: &Explanation) -> Self {
        Self {
            rule: x.rule.clone(),
            part: x.part.map(|p| match p {
                Part::Fixed => "fixed".to_owned(),
                Part::Variable => "variable".to_owned(),
            }),
            source: x.source.clone(),
            unverified: x.unverified.clone(),
            fr: x.fr(),
            en: x.en(),
        }
    }
}

/// What an envelope brings in the year.
#[derive(Serialize, ToSchema)]
pub struct AciEnvelope {
    /// `fonctionnement`, `acces`, `parcours`, `prevention`, `crise`, `qualite`, `accompagnement`.
    mission: String,
    /// The rule set's wording (English when the text does not fund the mission).
    label: String,
    /// Short French name.
    label_fr: String,
    fixed_cents: i64,
    variable_cents: i64,
    total_cents: i64,
    /// The envelope's yearly maximum at this size class.
    maximum_cents: i64,
    fixed_eur: String,
    variable_eur: String,
    total_eur: String,
    maximum_eur: String,
    /// Achievement applied to the variable part: `"80.00%"`.
    achievement: Option<String>,
    explanations: Vec<AciExplanation>,
}

impl From<&EnvelopeFunding> for AciEnvelope {
    fn from(e: &EnvelopeFunding) -> Self {
        Self {
            mission: e.mission.as_str().to_owned(),
            label: e.label.clone(),
            label_fr: aci_simulator::mission_label(e.mission),
            fixed_cents: e.fixed.cents(),
            variable_cents: e.variable.cents(),
            total_cents: e.total.cents(),
            maximum_cents: e.maximum.cents(),
            fixed_eur: e.fixed.euros_decimal(),
            variable_eur: e.variable.euros_decimal(),
            total_eur: e.total.euros_decimal(),
            maximum_eur: e.maximum.euros_decimal(),
            achievement: e.achievement.map(|r| r.percent_string()),
            explanations: e.explanations.iter().map(AciExplanation::from).collect(),
        }
    }
}

/// The total of one contract year of the same scenario.
#[derive(Serialize, ToSchema)]
pub struct AciYearTotal {
    contract_year: u8,
    total_cents: i64,
    total_eur: String,
}

/// One simulated contract year, envelope by envelope.
#[derive(Serialize, ToSchema)]
pub struct AciSimulation {
    rule_set: String,
    rule_set_title: String,
    /// Size class, 1 to 4 (given, or derived from `population`).
    #[schema(minimum = 1, maximum = 4)]
    size: u8,
    /// The population the size class was derived from, when given.
    population: Option<u64>,
    contract_year: u8,
    /// The missions engaged (always with `fonctionnement`).
    missions: Vec<String>,
    /// Achievement applied to every variable part: `"100.00%"`.
    achievement: String,
    crisis: bool,
    /// Operating funding first, then the missions.
    envelopes: Vec<AciEnvelope>,
    total_cents: i64,
    total_eur: String,
    /// The rule set's maximum for the size class (sum of its table).
    maximum_cents: i64,
    maximum_eur: String,
    /// The maximum published with the text.
    published_maximum_cents: i64,
    published_maximum_eur: String,
    /// How the size class was set.
    explanations: Vec<AciExplanation>,
    /// Every year of the contract for the same scenario (crisis plan in year 1, updates later).
    years: Vec<AciYearTotal>,
    contract_total_cents: i64,
    contract_total_eur: String,
    /// The rule set's UNVERIFIED entries.
    unverified: Vec<AciUnverifiedRule>,
}

impl From<&Simulation> for AciSimulation {
    fn from(s: &Simulation) -> Self {
        let (r, y) = (s.rules, &s.year);
        let published = r.published_maximum(s.scenario.size);
        let contract_total: Cents = s.years.iter().map(|y| y.total).sum();
        Self {
            rule_set: r.id.clone(),
            rule_set_title: r.title.clone(),
            size: s.scenario.size.number(),
            population: if s.basis == Basis::Population { s.population } else { None },
            contract_year: y.contract_year,
            missions: s.scenario.missions.iter().map(|m| m.as_str().to_owned()).collect(),
            achievement: s.scenario.achievement.percent_string(),
            crisis: s.scenario.crisis,
            envelopes: y.envelopes.iter().map(AciEnvelope::from).collect(),
            total_cents: y.total.cents(),
            total_eur: y.total.euros_decimal(),
            maximum_cents: y.maximum.cents(),
            maximum_eur: y.maximum.euros_decimal(),
            published_maximum_cents: published.cents(),
            published_maximum_eur: published.euros_decimal(),
            explanations: y.explanations.iter().map(AciExplanation::from).collect(),
            years: s
                .years
                .iter()
                .map(|y| AciYearTotal {
                    contract_year: y.contract_year,
                    total_cents: y.total.cents(),
                    total_eur: y.total.euros_decimal(),
                })
                .collect(),
            contract_total_cents: contract_total.cents(),
            contract_total_eur: contract_total.euros_decimal(),
            unverified: r.unverified().into_iter().map(|(rule, reason)| AciUnverifiedRule { rule, reason }).collect(),
        }
    }
}

/// Faulty parameters: 422, the first one's code, every one in `problems` (each message starts
/// with the parameter's name).
fn rejected(r: Rejection) -> ApiError {
    let errors: Vec<FieldError> = match r {
        Rejection::Fields(errors) => errors,
        Rejection::Internal(detail) => return Failure::Internal(detail).into(),
    };
    let code = errors.first().map_or("invalid_parameters", |e| e.code);
    let en: Vec<&str> = errors.iter().map(|e| e.en.as_str()).collect();
    let fr: Vec<&str> = errors.iter().map(|e| e.fr.as_str()).collect();
    let mut error = ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, en.join("; "), fr.join(" "));
    error.problems = errors.iter().map(|e| Problem { message: e.en.clone(), message_fr: e.fr.clone() }).collect();
    error
}

/// What one contract year of the ACI brings, envelope by envelope, each figure explained; and
/// the totals of every year of the contract for the same scenario. Give `size` or `population`.
#[utoipa::path(get, path = "/api/v1/aci/simulate", tag = "aci",
    params(
        ("rules" = Option<String>, Query, description = "rule set (`GET /api/v1/aci/rule-sets`); default `avenant-2`"),
        ("size" = Option<u8>, Query, minimum = 1, maximum = 4, description = "size class 1 to 4; or give `population`"),
        ("population" = Option<u64>, Query, description = "population of the territory: the size class follows from the rule set's thresholds"),
        ("contract_year" = Option<u8>, Query, minimum = 1, maximum = 5, description = "contract year, 1 to the contract's length (5); default 1"),
        ("missions" = Option<String>, Query, description = "`all` (default) or a comma-separated list of: acces, parcours, prevention, crise, qualite, accompagnement (`fonctionnement` is always included); the key may repeat"),
        ("achievement" = Option<String>, Query, description = "achievement of the indicators for every variable part, a percentage 0 to 100 (`80`, `87.5`); default 100"),
        ("crisis" = Option<bool>, Query, description = "a serious health crisis occurs during the year; default false"),
    ),
    responses((status = 200, body = AciSimulation), (status = 422, body = ApiError, description = "a faulty parameter: `code` names it (`invalid_size`, `unknown_mission`…), `problems` lists them all")))]
pub async fn simulate(
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Json<AciSimulation>, ApiError> {
    let pairs = query.map(|Query(q)| q).unwrap_or_default();
    let params = SimulatorParams::from_pairs(&pairs);
    let simulation = aci_simulator::run(&params, &MissionId::ALL).map_err(rejected)?;
    Ok(Json(AciSimulation::from(&simulation)))
}
