//! The public ACI simulator (`GET /aci/simulateur`): what one contract year of the ACI brings to a
//! CPTS of a given size, envelope by envelope, every figure explained and sourced. No login is
//! needed (any CPTS project may try its size and missions); a logged-in person gets her usual
//! header and navigation.
//!
//! The form is a GET form, so every result is a shareable URL and the page works without
//! JavaScript. With htmx, changing an input asks for the result only (`HX-Request`): the fragment
//! replaces `#resultat`, and the messages next to the fields and the screen-reader announcement
//! are updated by out-of-band swaps. htmx does not swap 4xx answers, so an invalid input answers
//! the fragment with 200 (the full page answers 422).
//!
//! The parameters ([`SimulatorParams`]) and their checks ([`run`]) are shared with the JSON API
//! (`GET /api/v1/aci/simulate`, `api/aci.rs`): both give the same answer and the same messages.

use super::{Chrome, fr_int, is_htmx, render};
use crate::auth::MaybePrincipal;
use crate::error::{Failure, PageError};
use askama::Template;
use axum::extract::Query;
use axum::extract::rejection::QueryRejection;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use maillage_core::aci::rules::{self, RuleSetLookupError};
use maillage_core::aci::{Category, Cents, MissionId, Rate, RuleSet, Scenario, YearFunding, simulate};
use maillage_core::territory::SizeClass;
use std::collections::BTreeSet;
use std::fmt::Write as _;

/// Where the simulator lives (also its navigation entry).
pub const PATH: &str = "/aci/simulateur";
/// The rule set used when none is named.
pub const DEFAULT_RULES: &str = "avenant-2";
/// Largest population accepted (France has about 68 million inhabitants).
const MAX_POPULATION: u64 = 100_000_000;
/// Contract years offered when the rule set is unknown (every text so far: 5).
const DEFAULT_CONTRACT_YEARS: u8 = 5;

// ---------------------------------------------------------------------------------------------
// Parameters, shared with the API

/// One parameter of the simulator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Rules,
    Basis,
    Size,
    Population,
    ContractYear,
    Missions,
    Achievement,
    Crisis,
}

impl Field {
    pub const ALL: [Field; 8] = [
        Field::Rules,
        Field::Basis,
        Field::Size,
        Field::Population,
        Field::ContractYear,
        Field::Missions,
        Field::Achievement,
        Field::Crisis,
    ];

    /// The query parameter (page and API).
    pub fn param(self) -> &'static str {
        match self {
            Field::Rules => "rules",
            Field::Basis => "basis",
            Field::Size => "size",
            Field::Population => "population",
            Field::ContractYear => "contract_year",
            Field::Missions => "missions",
            Field::Achievement => "achievement",
            Field::Crisis => "crisis",
        }
    }

    /// The id of the form control an error message links to.
    fn control_id(self) -> &'static str {
        match self {
            Field::Basis => "basis-size",
            Field::Missions => "mission-acces",
            other => other.param(),
        }
    }
}

/// A faulty parameter: which, a stable code, and what to fix in French and English.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: Field,
    pub code: &'static str,
    pub fr: String,
    pub en: String,
}

impl FieldError {
    fn new(field: Field, code: &'static str, fr: impl Into<String>, en: impl Into<String>) -> Self {
        Self { field, code, fr: fr.into(), en: en.into() }
    }
}

/// How the size class is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basis {
    Size,
    Population,
}

/// The parameters as received (page form or API query), not yet checked. `None`: not given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SimulatorParams {
    pub rules: Option<String>,
    /// `size` or `population`; without it, whichever of the two is given.
    pub basis: Option<String>,
    pub size: Option<String>,
    pub population: Option<String>,
    pub contract_year: Option<String>,
    /// Every `missions` value, split at commas (`missions=acces,parcours` or repeated keys).
    pub missions: Option<Vec<String>>,
    /// A percentage, 0 to 100 (`87.5`, `87,5`, `87.5%`).
    pub achievement: Option<String>,
    pub crisis: Option<String>,
}

impl SimulatorParams {
    /// From the query's pairs; unknown keys are ignored, a repeated key keeps its last value
    /// (`missions` keeps them all).
    pub fn from_pairs(pairs: &[(String, String)]) -> Self {
        let mut p = Self::default();
        for (key, value) in pairs {
            let slot = match key.as_str() {
                "rules" => &mut p.rules,
                "basis" => &mut p.basis,
                "size" => &mut p.size,
                "population" => &mut p.population,
                "contract_year" => &mut p.contract_year,
                "achievement" => &mut p.achievement,
                "crisis" => &mut p.crisis,
                "missions" => {
                    let names = value.split(',').map(str::trim).filter(|n| !n.is_empty()).map(str::to_owned);
                    p.missions.get_or_insert_with(Vec::new).extend(names);
                    continue;
                }
                _ => continue,
            };
            *slot = Some(value.clone());
        }
        p
    }

    /// What the page shows on a first visit.
    fn page_defaults() -> Self {
        Self {
            rules: Some(DEFAULT_RULES.into()),
            basis: Some("size".into()),
            size: Some("1".into()),
            contract_year: Some("1".into()),
            achievement: Some("100".into()),
            ..Self::default()
        }
    }
}

/// A checked scenario and its computation.
#[derive(Debug, Clone)]
pub struct Simulation {
    pub rules: &'static RuleSet,
    pub basis: Basis,
    /// The population the size class was derived from, when given that way.
    pub population: Option<u64>,
    pub scenario: Scenario,
    pub year: YearFunding,
    /// Every contract year of the same scenario: the crisis plan is written in year 1 and
    /// updated in the years after.
    pub years: Vec<YearFunding>,
}

/// Why no simulation was computed.
#[derive(Debug, Clone)]
pub enum Rejection {
    /// Faulty parameters, in form order: each is reported.
    Fields(Vec<FieldError>),
    /// An embedded rule set does not load (a build defect, caught by the tests).
    Internal(String),
}

fn given(o: &Option<String>) -> Option<&str> {
    o.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// The socle missions of the default rule set: checked on the page's first visit.
pub fn socle_missions() -> Vec<MissionId> {
    let categories = rules::embedded(DEFAULT_RULES).ok();
    MissionId::ALL
        .into_iter()
        .filter(|m| categories.and_then(|r| r.mission(*m)).is_some_and(|rule| matches!(rule.category, Category::Socle)))
        .collect()
}

fn parse_size(text: &str) -> Result<SizeClass, FieldError> {
    text.parse::<u8>().ok().and_then(SizeClass::from_number).ok_or_else(|| {
        FieldError::new(
            Field::Size,
            "invalid_size",
            format!("La taille doit être 1, 2, 3 ou 4 (reçu : « {text} »)."),
            format!("size: must be 1, 2, 3 or 4, got `{text}`"),
        )
    })
}

fn parse_population(text: &str) -> Result<u64, FieldError> {
    // People write "50 000": spaces (and no-break spaces) between thousands are fine.
    let digits: String = text.chars().filter(|c| !c.is_whitespace() && *c != '\u{202f}').collect();
    digits.parse::<u64>().ok().filter(|p| *p <= MAX_POPULATION).ok_or_else(|| {
        FieldError::new(
            Field::Population,
            "invalid_population",
            format!(
                "La population doit être un nombre entier d'habitants, de 0 à {} (reçu : « {text} »).",
                fr_int(&MAX_POPULATION)
            ),
            format!("population: must be a whole number of inhabitants, 0 to {MAX_POPULATION}, got `{text}`"),
        )
    })
}

fn parse_contract_year(text: &str, years: u8) -> Result<u8, FieldError> {
    text.parse::<u8>().ok().filter(|y| (1..=years).contains(y)).ok_or_else(|| {
        FieldError::new(
            Field::ContractYear,
            "invalid_contract_year",
            format!("L'année du contrat doit être comprise entre 1 et {years} (reçu : « {text} »)."),
            format!("contract_year: must be 1 to {years}, got `{text}`"),
        )
    })
}

/// A percentage between 0 and 100: `80`, `87.5`, `87,5`, `87.5 %`.
fn parse_achievement(text: &str) -> Result<Rate, FieldError> {
    let number = text.trim();
    let number = number.strip_suffix('%').unwrap_or(number).trim_end().replace(',', ".");
    let ok = !number.is_empty() && !number.contains('%');
    ok.then(|| Rate::parse(&format!("{number}%")).ok()).flatten().ok_or_else(|| {
        FieldError::new(
            Field::Achievement,
            "invalid_achievement",
            format!("Le taux d'atteinte est un pourcentage compris entre 0 et 100 (reçu : « {text} »)."),
            format!("achievement: must be a percentage between 0 and 100, got `{text}`"),
        )
    })
}

fn parse_crisis(text: &str) -> Result<bool, FieldError> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "1" | "on" | "yes" | "oui" => Ok(true),
        "false" | "0" | "off" | "no" | "non" => Ok(false),
        _ => Err(FieldError::new(
            Field::Crisis,
            "invalid_crisis",
            format!("La survenue d'une crise se coche ou non : oui ou non (reçu : « {text} »)."),
            format!("crisis: must be true or false, got `{text}`"),
        )),
    }
}

fn parse_missions(names: &[String]) -> Result<BTreeSet<MissionId>, FieldError> {
    let mut out = BTreeSet::from([MissionId::Fonctionnement]);
    let mut unknown = Vec::new();
    for name in names {
        if name == "all" {
            out.extend(MissionId::ALL);
        } else {
            match name.parse::<MissionId>() {
                Ok(m) => {
                    out.insert(m);
                }
                Err(_) => unknown.push(name.as_str()),
            }
        }
    }
    if unknown.is_empty() {
        return Ok(out);
    }
    let known: Vec<&str> = MissionId::ALL.iter().map(|m| m.as_str()).collect();
    let quoted: Vec<String> = unknown.iter().map(|u| format!("« {u} »")).collect();
    Err(FieldError::new(
        Field::Missions,
        "unknown_mission",
        format!("Mission inconnue : {} (missions possibles : {}).", quoted.join(", "), known.join(", ")),
        format!(
            "missions: unknown mission `{}` (expected `all` or some of: {})",
            unknown.join("`, `"),
            known.join(", ")
        ),
    ))
}

/// Checks the parameters and computes the year asked for and every year of the contract.
/// `default_missions` applies when `missions` is not given; the operating funding is always
/// included.
pub fn run(p: &SimulatorParams, default_missions: &[MissionId]) -> Result<Simulation, Rejection> {
    let mut errors = Vec::new();
    let name = given(&p.rules).unwrap_or(DEFAULT_RULES);
    let rules = match rules::embedded(name) {
        Ok(r) => Some(r),
        Err(RuleSetLookupError::Unknown { known, .. }) => {
            errors.push(FieldError::new(
                Field::Rules,
                "unknown_rule_set",
                format!("Texte inconnu : « {name} » (textes disponibles : {}).", known.join(", ")),
                format!("rules: unknown rule set `{name}` (known: {})", known.join(", ")),
            ));
            None
        }
        Err(RuleSetLookupError::Invalid(e)) => return Err(Rejection::Internal(e.to_string())),
    };

    let (size_text, population_text) = (given(&p.size), given(&p.population));
    let basis = match given(&p.basis) {
        Some("size") => Basis::Size,
        Some("population") => Basis::Population,
        other => {
            if let Some(other) = other {
                errors.push(FieldError::new(
                    Field::Basis,
                    "invalid_basis",
                    format!("Choisissez « par la taille » ou « par la population » (reçu : « {other} »)."),
                    format!("basis: must be `size` or `population`, got `{other}`"),
                ));
            }
            match (size_text, population_text) {
                (Some(_), Some(_)) if other.is_none() => {
                    errors.push(FieldError::new(
                        Field::Size,
                        "size_and_population",
                        "Indiquez soit la taille, soit la population du territoire, pas les deux.",
                        "size, population: give one of them, not both",
                    ));
                    Basis::Size
                }
                (None, Some(_)) => Basis::Population,
                _ => Basis::Size,
            }
        }
    };
    let mut population = None;
    let size = match basis {
        Basis::Size => match size_text {
            Some(t) => parse_size(t).map_err(|e| errors.push(e)).ok(),
            None => {
                errors.push(FieldError::new(
                    Field::Size,
                    "missing_size",
                    "Choisissez une taille de 1 à 4, ou indiquez la population du territoire.",
                    "size: required (1 to 4), or give population instead",
                ));
                None
            }
        },
        Basis::Population => match population_text {
            Some(t) => {
                population = parse_population(t).map_err(|e| errors.push(e)).ok();
                population.zip(rules).map(|(n, r)| r.size_class(n))
            }
            None => {
                errors.push(FieldError::new(
                    Field::Population,
                    "missing_population",
                    "Indiquez la population du territoire (nombre d'habitants).",
                    "population: required (number of inhabitants), or give size instead",
                ));
                None
            }
        },
    };

    let years = rules.map_or(DEFAULT_CONTRACT_YEARS, |r| r.contract_years);
    let contract_year = parse_contract_year(given(&p.contract_year).unwrap_or("1"), years);
    let contract_year = contract_year.map_err(|e| errors.push(e)).ok();
    let missions = match &p.missions {
        Some(names) => parse_missions(names),
        None => Ok(default_missions.iter().copied().chain([MissionId::Fonctionnement]).collect()),
    };
    let missions = missions.map_err(|e| errors.push(e)).ok();
    let achievement = parse_achievement(given(&p.achievement).unwrap_or("100")).map_err(|e| errors.push(e)).ok();
    let crisis = given(&p.crisis).map_or(Ok(false), parse_crisis).map_err(|e| errors.push(e)).ok();

    let (Some(rules), Some(size), Some(contract_year), Some(missions), Some(achievement), Some(crisis), true) =
        (rules, size, contract_year, missions, achievement, crisis, errors.is_empty())
    else {
        errors.sort_by_key(|e| Field::ALL.iter().position(|f| *f == e.field));
        return Err(Rejection::Fields(errors));
    };
    let scenario = Scenario { size, contract_year, missions, achievement, crisis };
    let compute = |year: u8| {
        simulate(rules, &Scenario { contract_year: year, ..scenario.clone() }).map_err(|e| {
            Rejection::Fields(vec![FieldError::new(
                Field::ContractYear,
                "invalid_contract_year",
                format!("L'année du contrat doit être comprise entre 1 et {years}."),
                format!("contract_year: {e}"),
            )])
        })
    };
    let year = compute(contract_year)?;
    let years = (1..=rules.contract_years).map(compute).collect::<Result<Vec<_>, _>>()?;
    Ok(Simulation { rules, basis, population, scenario, year, years })
}

// ---------------------------------------------------------------------------------------------
// French display

/// French amount: whole euros without decimals (`287 500 €`), otherwise with cents
/// (`12 345,67 €`); narrow no-break spaces between thousands, a no-break space before `€`.
pub fn euros_fr(c: Cents) -> String {
    match u64::try_from(c.cents()) {
        Ok(cents) if cents % 100 == 0 => format!("{}\u{a0}€", fr_int(&(cents / 100))),
        _ => c.fr(),
    }
}

/// French percentage: `100 %`, `87,5 %` (no-break space before `%`).
fn percent_fr(rate: Rate) -> String {
    // Hundredths of a percent, truncated like `Rate::percent_string`.
    let hundredths = u64::from(rate.billionths()) / 100_000;
    let (whole, frac) = (hundredths / 100, hundredths % 100);
    match frac {
        0 => format!("{whole}\u{a0}%"),
        f if f % 10 == 0 => format!("{whole},{}\u{a0}%", f / 10),
        f => format!("{whole},{f:02}\u{a0}%"),
    }
}

/// A rate as the exact percentage the `achievement` parameter takes back: `80`, `87.5`.
fn percent_param(rate: Rate) -> String {
    // 1 % = 10^7 billionths.
    let b = rate.billionths();
    let (whole, frac) = (b / 10_000_000, b % 10_000_000);
    if frac == 0 { whole.to_string() } else { format!("{whole}.{}", format!("{frac:07}").trim_end_matches('0')) }
}

/// `Accès aux soins` from `accès aux soins`.
fn capitalized(s: &str) -> String {
    let mut chars = s.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// French name of an envelope, capitalized.
pub fn mission_label(m: MissionId) -> String {
    capitalized(m.fr())
}

/// Size classes as the form offers them, with the text's thresholds.
fn size_choices(r: &RuleSet) -> Vec<(u8, String)> {
    let t = &r.size_thresholds;
    let n = |v: u64| fr_int(&v);
    vec![
        (1, format!("Taille 1 — moins de {} hab.", n(t.t2_from))),
        (2, format!("Taille 2 — {} à {} hab.", n(t.t2_from), n(t.t3_from.saturating_sub(1)))),
        (3, format!("Taille 3 — {} à {} hab.", n(t.t3_from), n(t.t4_from.saturating_sub(1)))),
        (4, format!("Taille 4 — dès {} hab.", n(t.t4_from))),
    ]
}

fn thresholds_fr(r: &RuleSet) -> String {
    let t = &r.size_thresholds;
    format!(
        "taille 2 à partir de {}, taille 3 à partir de {}, taille 4 à partir de {} habitants",
        fr_int(&t.t2_from),
        fr_int(&t.t3_from),
        fr_int(&t.t4_from)
    )
}

// ---------------------------------------------------------------------------------------------
// The form

pub struct RuleSetChoice {
    pub id: String,
    pub title: String,
}

pub struct MissionChoice {
    pub id: &'static str,
    pub label: String,
    /// "socle" or "optionnelle"; `None` when the selected text does not fund the mission.
    pub category: Option<&'static str>,
    pub checked: bool,
}

/// What the form shows: the values as typed (so a mistake can be corrected) and the messages.
pub struct FormView {
    pub rule_sets: Vec<RuleSetChoice>,
    pub rules: String,
    pub by_population: bool,
    pub sizes: Vec<(u8, String)>,
    pub size: String,
    pub population: String,
    pub years: Vec<u8>,
    pub contract_year: String,
    pub missions: Vec<MissionChoice>,
    pub achievement: String,
    pub crisis: bool,
    pub errors: Vec<FieldError>,
}

impl FormView {
    fn new(p: &SimulatorParams, default_missions: &[MissionId], errors: Vec<FieldError>) -> Result<Self, Failure> {
        let all = rules::embedded_all().map_err(|e| Failure::Internal(e.to_string()))?;
        let selected = given(&p.rules).unwrap_or(DEFAULT_RULES);
        let current = all
            .iter()
            .find(|r| r.id == selected)
            .or_else(|| all.iter().find(|r| r.id == DEFAULT_RULES))
            .or_else(|| all.last())
            .ok_or_else(|| Failure::Internal("no embedded ACI rule set".into()))?;
        let checked: BTreeSet<MissionId> = match &p.missions {
            Some(names) => names.iter().filter_map(|n| n.parse().ok()).collect(),
            None => default_missions.iter().copied().collect(),
        };
        let all_checked = p.missions.as_ref().is_some_and(|n| n.iter().any(|n| n == "all"));
        let by_population = match given(&p.basis) {
            Some(b) => b == "population",
            None => given(&p.size).is_none() && given(&p.population).is_some(),
        };
        Ok(Self {
            rule_sets: all.iter().map(|r| RuleSetChoice { id: r.id.clone(), title: r.title.clone() }).collect(),
            rules: selected.to_owned(),
            by_population,
            sizes: size_choices(current),
            size: given(&p.size).unwrap_or("").to_owned(),
            population: p.population.clone().unwrap_or_default(),
            years: (1..=all.iter().map(|r| r.contract_years).max().unwrap_or(DEFAULT_CONTRACT_YEARS)).collect(),
            contract_year: given(&p.contract_year).unwrap_or("1").to_owned(),
            missions: MissionId::ALL
                .into_iter()
                .filter(|m| m.is_mission())
                .map(|m| MissionChoice {
                    id: m.as_str(),
                    label: mission_label(m),
                    category: current.mission(m).map(|r| match r.category {
                        Category::Socle => "socle",
                        Category::Optional => "optionnelle",
                    }),
                    checked: all_checked || checked.contains(&m),
                })
                .collect(),
            achievement: p.achievement.clone().unwrap_or_else(|| "100".into()),
            crisis: given(&p.crisis).and_then(|t| parse_crisis(t).ok()).unwrap_or(false),
            errors,
        })
    }

    /// The message about `param`, if any (several: the first).
    pub fn error(&self, param: &str) -> Option<&str> {
        self.errors.iter().find(|e| e.field.param() == param).map(|e| e.fr.as_str())
    }

    /// Every field's message slot, for the out-of-band updates of an htmx answer.
    pub fn slots(&self) -> Vec<(&'static str, Option<&str>)> {
        Field::ALL.iter().map(|f| (f.param(), self.error(f.param()))).collect()
    }

    /// (control id, message) of each error, for the summary's links.
    pub fn summary(&self) -> Vec<(&'static str, &str)> {
        self.errors.iter().map(|e| (e.field.control_id(), e.fr.as_str())).collect()
    }
}

// ---------------------------------------------------------------------------------------------
// The result

pub struct ExplanationRow {
    pub text: String,
    /// Title of the source.
    pub source: Option<String>,
}

pub struct EnvelopeRow {
    pub id: &'static str,
    pub label: String,
    /// The rule set's own wording of the envelope.
    pub rule_label: String,
    pub fixed: String,
    pub variable: String,
    pub total: String,
    pub maximum: String,
    /// The text does not fund this mission.
    pub not_funded: bool,
    /// One of its figures rests on an UNVERIFIED rule.
    pub unverified: bool,
    pub explanations: Vec<ExplanationRow>,
}

pub struct YearRow {
    pub year: u8,
    pub total: String,
    pub maximum: String,
    pub current: bool,
}

pub struct SourceRow {
    pub key: String,
    pub title: String,
    pub location: String,
    pub is_link: bool,
}

pub struct ResultView {
    pub rules_id: String,
    pub rules_title: String,
    pub effective_from: String,
    pub size: u8,
    /// How the size class was set, in words.
    pub size_origin: String,
    /// A population typed but not used (the size was chosen).
    pub population_ignored: bool,
    pub contract_year: u8,
    pub achievement: String,
    pub crisis: bool,
    pub crisis_engaged: bool,
    pub rows: Vec<EnvelopeRow>,
    pub fixed: String,
    pub variable: String,
    pub total: String,
    pub maximum: String,
    pub published_maximum: Option<String>,
    pub share_of_maximum: String,
    pub chart: String,
    pub years: Vec<YearRow>,
    pub contract_years: u8,
    pub contract_total: String,
    pub sources: Vec<SourceRow>,
    pub unverified: Vec<(String, String)>,
    pub share_url: String,
    /// The same computation from the JSON API.
    pub api_url: String,
}

impl ResultView {
    fn new(s: &Simulation, p: &SimulatorParams) -> Self {
        let r = s.rules;
        let y = &s.year;
        let size = s.scenario.size;
        let source_title = |key: &str| r.sources.get(key).map_or_else(|| key.to_owned(), |src| src.title.clone());
        let rows: Vec<EnvelopeRow> = y
            .envelopes
            .iter()
            .map(|e| EnvelopeRow {
                id: e.mission.as_str(),
                label: mission_label(e.mission),
                rule_label: if e.mission == MissionId::Fonctionnement {
                    r.operating.label.clone()
                } else {
                    r.mission(e.mission).map(|m| m.label.clone()).unwrap_or_default()
                },
                fixed: euros_fr(e.fixed),
                variable: euros_fr(e.variable),
                total: euros_fr(e.total),
                maximum: euros_fr(e.maximum),
                not_funded: e.mission.is_mission() && r.mission(e.mission).is_none(),
                unverified: e.explanations.iter().any(|x| x.unverified.is_some()),
                explanations: e
                    .explanations
                    .iter()
                    .map(|x| ExplanationRow { text: x.fr(), source: x.source.as_deref().map(source_title) })
                    .collect(),
            })
            .collect();
        let fixed: Cents = y.envelopes.iter().map(|e| e.fixed).sum();
        let variable: Cents = y.envelopes.iter().map(|e| e.variable).sum();
        let published = r.published_maximum(size);
        let share = if y.maximum.cents() > 0 {
            Rate::ratio(i128::from(y.total.cents()), i128::from(y.maximum.cents()))
        } else {
            Rate::ZERO
        };
        let size_origin = match (s.basis, s.population) {
            (Basis::Population, Some(n)) => {
                format!("d'après la population de {} habitants (seuils du texte : {})", fr_int(&n), thresholds_fr(r))
            }
            _ => "choisie".to_owned(),
        };
        ResultView {
            rules_id: r.id.clone(),
            rules_title: r.title.clone(),
            effective_from: r.effective_from.format("%d/%m/%Y").to_string(),
            size: size.number(),
            size_origin,
            population_ignored: s.basis == Basis::Size && given(&p.population).is_some(),
            contract_year: y.contract_year,
            achievement: percent_fr(s.scenario.achievement),
            crisis: s.scenario.crisis,
            crisis_engaged: s.scenario.missions.contains(&MissionId::Crise) && r.mission(MissionId::Crise).is_some(),
            chart: envelopes_svg(y),
            rows,
            fixed: euros_fr(fixed),
            variable: euros_fr(variable),
            total: euros_fr(y.total),
            maximum: euros_fr(y.maximum),
            published_maximum: (published != y.maximum).then(|| euros_fr(published)),
            share_of_maximum: percent_fr(share),
            years: s
                .years
                .iter()
                .map(|year| YearRow {
                    year: year.contract_year,
                    total: euros_fr(year.total),
                    maximum: euros_fr(year.maximum),
                    current: year.contract_year == y.contract_year,
                })
                .collect(),
            contract_years: r.contract_years,
            contract_total: euros_fr(s.years.iter().map(|year| year.total).sum()),
            sources: r
                .sources
                .values()
                .map(|src| SourceRow {
                    key: src.key.clone(),
                    title: src.title.clone(),
                    location: src.location.clone(),
                    is_link: src.location.starts_with("https://") || src.location.starts_with("http://"),
                })
                .collect(),
            unverified: r.unverified(),
            share_url: format!("{PATH}?{}", share_query(s)),
            api_url: format!("/api/v1/aci/simulate?{}", share_query(s)),
        }
    }

    /// One sentence for screen readers after an update.
    fn announcement(&self) -> String {
        format!(
            "Année {} du contrat, taille {} : {} sur un maximum de {}.",
            self.contract_year, self.size, self.total, self.maximum
        )
    }
}

/// The canonical query of a simulation, for the page and the API (the checked values only: safe
/// in a URL as they are).
fn share_query(s: &Simulation) -> String {
    let mut url = format!("rules={}", s.rules.id);
    match (s.basis, s.population) {
        (Basis::Population, Some(n)) => {
            let _ = write!(url, "&basis=population&population={n}");
        }
        _ => {
            let _ = write!(url, "&basis=size&size={}", s.scenario.size.number());
        }
    }
    let _ = write!(url, "&contract_year={}", s.scenario.contract_year);
    for m in &s.scenario.missions {
        let _ = write!(url, "&missions={m}");
    }
    let _ = write!(url, "&achievement={}", percent_param(s.scenario.achievement));
    if s.scenario.crisis {
        url.push_str("&crisis=true");
    }
    url
}

// ---------------------------------------------------------------------------------------------
// The bar chart

/// Width of the chart's viewBox; bars span all of it.
const CHART_WIDTH: i64 = 480;
/// Height of one envelope: its label line and its bar.
const CHART_ROW: i64 = 40;
const CHART_BAR: i64 = 14;
/// Bar colours (presentation attributes: a content security policy does not block them);
/// `maillage.css` repeats them on `.graphique-enveloppes`.
pub const BAR_FILL: &str = "#1d4f91";
pub const BAR_MAX_FILL: &str = "#e8eef7";
pub const BAR_MAX_STROKE: &str = "#6a6f78";
const CHART_TEXT: &str = "#1e1e1e";

/// A horizontal bar per envelope, server-rendered: the year's amount over the envelope's
/// maximum (light bar), all on the scale of the largest maximum. Labelled by its `<title>` and
/// `<desc>` (which reads the figures); the table next to it gives the same figures as text.
pub fn envelopes_svg(y: &YearFunding) -> String {
    let scale = y.envelopes.iter().map(|e| e.maximum.max(e.total).cents()).max().unwrap_or(0).max(1);
    let width = |c: Cents| -> i64 {
        let w = i128::from(c.cents().max(0)) * i128::from(CHART_WIDTH - 1) / i128::from(scale);
        i64::try_from(w).unwrap_or(CHART_WIDTH - 1)
    };
    let count = i64::try_from(y.envelopes.len()).unwrap_or(0);
    let height = count * CHART_ROW + 4;
    let title = format!("Montants de l'année {} par enveloppe", y.contract_year);
    let desc: Vec<String> = y
        .envelopes
        .iter()
        .map(|e| format!("{} : {} sur {}", mission_label(e.mission), euros_fr(e.total), euros_fr(e.maximum)))
        .collect();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"graphique-enveloppes\" viewBox=\"0 0 {CHART_WIDTH} \
         {height}\" role=\"img\" aria-labelledby=\"graphique-titre graphique-desc\">"
    );
    let _ = writeln!(out, "<title id=\"graphique-titre\">{}</title>", crate::map::escape(&title));
    let _ = writeln!(
        out,
        "<desc id=\"graphique-desc\">En foncé, le montant de l'année ; en clair, le maximum de l'enveloppe. {}.</desc>",
        crate::map::escape(&desc.join(" ; "))
    );
    for (i, e) in (0..).zip(&y.envelopes) {
        let top = i * CHART_ROW + 2;
        let bar = top + 20;
        let label = format!("{} — {} / {}", mission_label(e.mission), euros_fr(e.total), euros_fr(e.maximum));
        let _ = writeln!(out, "<g class=\"enveloppe\" data-mission=\"{}\">", e.mission.as_str());
        let _ = writeln!(
            out,
            "<text x=\"0\" y=\"{}\" font-size=\"13\" font-family=\"system-ui, sans-serif\" fill=\"{CHART_TEXT}\">{}</text>",
            top + 13,
            crate::map::escape(&label)
        );
        let _ = writeln!(
            out,
            "<rect class=\"barre-maximum\" x=\"0.5\" y=\"{bar}.5\" width=\"{}\" height=\"{CHART_BAR}\" \
             fill=\"{BAR_MAX_FILL}\" stroke=\"{BAR_MAX_STROKE}\" stroke-width=\"1\"/>",
            width(e.maximum)
        );
        let total = width(e.total);
        if total > 0 {
            let _ = writeln!(
                out,
                "<rect class=\"barre-montant\" x=\"0.5\" y=\"{bar}.5\" width=\"{total}\" height=\"{CHART_BAR}\" \
                 fill=\"{BAR_FILL}\"/>"
            );
        }
        out.push_str("</g>\n");
    }
    out.push_str("</svg>");
    out
}

// ---------------------------------------------------------------------------------------------
// Page and fragment

#[derive(Template)]
#[template(path = "aci_simulator.html")]
pub struct SimulatorPage {
    pub chrome: Chrome,
    pub form: FormView,
    pub result: Option<ResultView>,
    pub announcement: String,
    /// Whether this is an htmx fragment (out-of-band updates included): never on the page.
    pub oob: bool,
}

#[derive(Template)]
#[template(path = "aci_simulator_result.html")]
pub struct SimulatorFragment {
    pub form: FormView,
    pub result: Option<ResultView>,
    pub announcement: String,
    pub oob: bool,
}

/// `GET /aci/simulateur`: the whole page, or the result fragment when htmx asks (not when it
/// restores a page from history: that needs the whole page).
pub async fn page(
    MaybePrincipal(principal): MaybePrincipal,
    headers: HeaderMap,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, PageError> {
    let pairs = query.map(|Query(q)| q).unwrap_or_default();
    let params = if pairs.is_empty() { SimulatorParams::page_defaults() } else { SimulatorParams::from_pairs(&pairs) };
    let defaults = socle_missions();
    let (result, errors) = match run(&params, &defaults) {
        Ok(sim) => (Some(ResultView::new(&sim, &params)), Vec::new()),
        Err(Rejection::Fields(errors)) => (None, errors),
        Err(Rejection::Internal(detail)) => return Err(PageError(Failure::Internal(detail))),
    };
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let form = FormView::new(&params, &defaults, errors)?;
    let announcement = match &result {
        Some(r) => r.announcement(),
        None => format!("Le calcul n'a pas pu être fait : {} champ(s) à corriger.", form.errors.len()),
    };
    let fragment = is_htmx(&headers) && !headers.contains_key("hx-history-restore-request");
    let mut response = if fragment {
        // htmx swaps 2xx answers only: the messages must reach the page.
        let body = render(&SimulatorFragment { form, result, announcement, oob: true });
        (StatusCode::OK, Html(body)).into_response()
    } else {
        let title = "Simulateur de financement ACI";
        let chrome = match &principal {
            Some(p) => Chrome::for_user(p, title, None, PATH),
            None => {
                let mut chrome = Chrome::anonymous(title);
                for item in &mut chrome.nav {
                    item.current = item.href.as_deref() == Some(PATH);
                }
                chrome
            }
        };
        (status, Html(render(&SimulatorPage { chrome, form, result, announcement, oob: false }))).into_response()
    };
    response.headers_mut().insert(header::VARY, HeaderValue::from_static("HX-Request"));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> SimulatorParams {
        let owned: Vec<(String, String)> = pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        SimulatorParams::from_pairs(&owned)
    }

    fn fields(r: Result<Simulation, Rejection>) -> Vec<(Field, &'static str)> {
        match r {
            Err(Rejection::Fields(errors)) => errors.iter().map(|e| (e.field, e.code)).collect(),
            other => panic!("expected field errors, got {other:?}"),
        }
    }

    #[test]
    fn amounts_in_french() {
        assert_eq!(euros_fr(Cents::from_euros(287_500)), "287\u{202f}500\u{a0}€");
        assert_eq!(euros_fr(Cents(1_234_567)), "12\u{202f}345,67\u{a0}€");
        assert_eq!(euros_fr(Cents::ZERO), "0\u{a0}€");
        assert_eq!(percent_fr(Rate::ONE), "100\u{a0}%");
        assert_eq!(percent_fr(Rate::parse("87.5%").unwrap()), "87,5\u{a0}%");
        assert_eq!(percent_fr(Rate::parse("0.3333").unwrap()), "33,33\u{a0}%");
    }

    #[test]
    fn full_scenario_and_defaults() {
        let all = [("size", "1"), ("missions", "all"), ("crisis", "true")];
        let s = run(&params(&all), &[]).unwrap();
        assert_eq!(s.year.total, Cents::from_euros(287_500));
        assert_eq!(s.years.len(), 5);
        assert!(s.years[1].total < s.years[0].total, "the crisis plan is updated after year 1");
        // Missions not given: the defaults, plus the operating funding.
        let s = run(&params(&[("size", "2")]), &socle_missions()).unwrap();
        let ids: Vec<&str> = s.year.envelopes.iter().map(|e| e.mission.as_str()).collect();
        assert_eq!(ids, ["fonctionnement", "acces", "parcours", "prevention", "crise"]);
        // Population, with spaces between thousands.
        let s = run(&params(&[("population", "50 000")]), &[]).unwrap();
        assert_eq!((s.scenario.size, s.population, s.basis), (SizeClass::T2, Some(50_000), Basis::Population));
        // The radio decides when both are given.
        let both = [("basis", "size"), ("size", "4"), ("population", "1000")];
        assert_eq!(run(&params(&both), &[]).unwrap().scenario.size, SizeClass::T4);
        let s = run(&params(&[("size", "1"), ("achievement", "87,5")]), &[]).unwrap();
        assert_eq!(s.scenario.achievement, Rate::parse("0.875").unwrap());
    }

    #[test]
    fn every_faulty_field_is_reported_in_form_order() {
        let bad = [
            ("rules", "avenant-9"),
            ("size", "7"),
            ("contract_year", "0"),
            ("missions", "acces,nope"),
            ("achievement", "150"),
            ("crisis", "peut-être"),
        ];
        assert_eq!(
            fields(run(&params(&bad), &[])),
            [
                (Field::Rules, "unknown_rule_set"),
                (Field::Size, "invalid_size"),
                (Field::ContractYear, "invalid_contract_year"),
                (Field::Missions, "unknown_mission"),
                (Field::Achievement, "invalid_achievement"),
                (Field::Crisis, "invalid_crisis"),
            ]
        );
        assert_eq!(fields(run(&params(&[]), &[])), [(Field::Size, "missing_size")]);
        assert_eq!(
            fields(run(&params(&[("size", "1"), ("population", "5")]), &[])),
            [(Field::Size, "size_and_population")]
        );
        let pop = [("basis", "population"), ("population", "-3")];
        assert_eq!(fields(run(&params(&pop), &[])), [(Field::Population, "invalid_population")]);
        for bad in ["-1", "100.5", "1e2", "abc", "%", "50%%"] {
            assert!(parse_achievement(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn share_url_round_trips() {
        let s = run(&params(&[("population", "120000"), ("missions", "acces"), ("achievement", "80.5")]), &[]).unwrap();
        let query = share_query(&s);
        assert_eq!(
            query,
            "rules=avenant-2&basis=population&population=120000&contract_year=1\
             &missions=fonctionnement&missions=acces&achievement=80.5"
        );
        let pairs: Vec<(&str, &str)> = query.split('&').map(|kv| kv.split_once('=').unwrap()).collect();
        let again = run(&params(&pairs), &[]).unwrap();
        assert_eq!(again.year, s.year);
        assert_eq!(percent_param(Rate::parse("0.1234567").unwrap()), "12.34567");
        assert_eq!(percent_param(Rate::ZERO), "0");
        assert_eq!(percent_param(Rate::ONE), "100");
    }

    #[test]
    fn chart_is_escaped_and_scaled() {
        let s = run(&params(&[("size", "4"), ("missions", "all"), ("crisis", "true")]), &[]).unwrap();
        let svg = envelopes_svg(&s.year);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert_eq!(svg.matches("<g class=\"enveloppe\"").count(), 7);
        assert!(svg.contains("Montants de l&#39;année 1 par enveloppe"));
        assert!(!svg.contains("style="), "no style attribute (CSP)");
        // Full achievement: every bar reaches its maximum.
        for g in svg.split("<g ").skip(1) {
            let widths: Vec<&str> =
                g.match_indices(" width=\"").map(|(i, _)| g[i + 8..].split('"').next().unwrap()).collect();
            assert_eq!(widths.len(), 2, "{g}");
            assert_eq!(widths[0], widths[1], "{g}");
        }
        assert_eq!(crate::map::escape("<a & \"b\">"), "&lt;a &amp; &quot;b&quot;&gt;");
    }
}
