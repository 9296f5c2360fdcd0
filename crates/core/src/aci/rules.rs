//! Rule sets: one text version of the ACI as data.
//!
//! A rule set is a TOML file under `data/aci/` (format documented in `data/aci/README.md`). It
//! holds the yearly amounts by size class with the source of each figure, the population
//! thresholds of the size classes, what happens when the population crosses one, the mission
//! deadlines, the prorata and payment rules and the published maximum. Loading validates
//! everything and reports the exact faulty entry: file, line and column, key path, reason.
//!
//! A new text version is a new file: [`RuleSet::from_toml`] loads any file, and adding it to
//! [`EMBEDDED_FILES`] ships it inside the binary.

use super::money::Cents;
use super::{Category, MissionId};
use crate::territory::{SizeClass, SizeThresholds};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::Range;
use std::sync::OnceLock;
use toml::Spanned;
use toml::value::Datetime;

/// The rule sets shipped in the binary: (path in the repository, contents).
pub const EMBEDDED_FILES: [(&str, &str); 2] = [
    ("data/aci/aci-2019.toml", include_str!("../../../../data/aci/aci-2019.toml")),
    ("data/aci/avenant-2.toml", include_str!("../../../../data/aci/avenant-2.toml")),
];

/// The one file format version this code reads.
pub const FORMAT: i64 = 1;

/// The size classes, in the order of the `amounts` arrays.
pub const SIZES: [SizeClass; 4] = [SizeClass::T1, SizeClass::T2, SizeClass::T3, SizeClass::T4];

/// Upper bound of any single amount in a file (sanity check against misplaced digits).
const MAX_AMOUNT_EUROS: i64 = 100_000_000;

/// Where a figure comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Source {
    pub key: String,
    pub title: String,
    /// URL or reference where the text can be read.
    #[serde(rename = "where")]
    pub location: String,
}

/// One row of the table: an amount per size class, its source, and why it is UNVERIFIED if so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SizedFigures {
    /// Key path of the row in the file, e.g. `missions.acces.fixed`: the rule named in
    /// explanations.
    pub rule: String,
    /// Amounts for taille 1 to taille 4.
    pub amounts: [Cents; 4],
    /// Key of [`RuleSet::sources`].
    pub source: String,
    /// Set when the source does not state the figure exactly: the reason.
    pub unverified: Option<String>,
}

impl SizedFigures {
    pub fn amount(&self, size: SizeClass) -> Cents {
        self.amounts[usize::from(size.number().saturating_sub(1)).min(3)]
    }
}

/// How a mission is funded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "model", rename_all = "snake_case")]
pub enum MissionFunding {
    /// A fixed part (means) and a variable part (actions and results, paid on the indicators).
    FixedVariable { fixed: SizedFigures, variable: SizedFigures },
    /// The crisis mission of avenant 2: writing the plan (first year), updating it (later years),
    /// and an amount when a serious health crisis occurs (for CPTS that wrote their plan).
    CrisisPlan { plan_first_year: SizedFigures, plan_update: SizedFigures, crisis_occurrence: SizedFigures },
}

/// What a rule set says about one mission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MissionRule {
    pub mission: MissionId,
    pub label: String,
    pub category: Category,
    /// Months after signature by which the mission must have started.
    pub start_within_months: Option<u32>,
    /// Months after signature by which the mission must be fully deployed.
    pub deploy_within_months: Option<u32>,
    pub deadlines_source: Option<String>,
    pub funding: MissionFunding,
}

impl MissionRule {
    /// The largest yearly amount of the mission: both parts at full achievement, or the
    /// first-year plan plus a crisis.
    pub fn maximum(&self, size: SizeClass) -> Cents {
        match &self.funding {
            MissionFunding::FixedVariable { fixed, variable } => fixed.amount(size) + variable.amount(size),
            MissionFunding::CrisisPlan { plan_first_year, plan_update, crisis_occurrence } => {
                plan_first_year.amount(size).max(plan_update.amount(size)) + crisis_occurrence.amount(size)
            }
        }
    }
}

/// What happens to the size class when the population crosses a threshold during the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PopulationPolicy {
    /// The class of the signature date holds for the whole contract.
    FixedAtSignature,
    /// The latest official population known at each anniversary sets the class of the year
    /// that begins.
    ReclassifyAtAnniversary,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PopulationChangeRule {
    pub policy: PopulationPolicy,
    /// The rule in words, as shown to users.
    pub description: String,
    pub source: String,
    pub unverified: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OperatingRule {
    pub label: String,
    pub figures: SizedFigures,
}

/// Which parts are prorated when a mission starts during a contract year (days-based, over the
/// days of that contract year, rounded half up to the cent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProrataRules {
    pub fixed: bool,
    pub variable: bool,
    pub crisis_plan: bool,
    pub source: String,
    pub unverified: Option<String>,
}

/// When money is paid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PaymentRules {
    /// Share of the first year's operating funding paid at signature (the rest at the first
    /// anniversary).
    pub operating_at_signature_percent: u8,
    /// Share of a later year's operating funding paid at the anniversary that opens it (the rest
    /// at the anniversary that closes it).
    pub operating_advance_percent: u8,
    /// Share of a year's (prorated) fixed part paid when the year opens or the mission starts;
    /// the balance is paid at the anniversary that closes the year.
    pub fixed_advance_percent: u8,
    pub source: String,
    pub unverified: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Maximum {
    /// The published maximum per year.
    pub published: SizedFigures,
    /// What the published maximum covers.
    pub basis: String,
    /// Whether loading checks that the published maximum equals the sum of the table.
    pub must_equal_sum: bool,
}

/// A published figure of the text that the yearly computation does not use (one-off payments…).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OtherFigure {
    pub key: String,
    pub label: String,
    pub figures: SizedFigures,
}

/// One text version of the ACI, validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleSet {
    /// Identifier, equal to the file name without `.toml`: `avenant-2`, `aci-2019`.
    pub id: String,
    pub title: String,
    /// The legal text.
    pub text: String,
    /// The file it was loaded from.
    pub file: String,
    pub signed_on: NaiveDate,
    /// First day on which the rule set applies.
    pub effective_from: NaiveDate,
    pub dates_source: String,
    pub dates_unverified: Option<String>,
    /// Length of a contract, in years.
    pub contract_years: u8,
    pub contract_years_source: String,
    pub sources: BTreeMap<String, Source>,
    pub size_thresholds: SizeThresholds,
    pub size_thresholds_source: String,
    pub population_change: PopulationChangeRule,
    pub operating: OperatingRule,
    pub missions: BTreeMap<MissionId, MissionRule>,
    pub prorata: ProrataRules,
    pub payment: PaymentRules,
    pub maximum: Maximum,
    pub other_figures: Vec<OtherFigure>,
}

impl RuleSet {
    /// Size class of a territory of `population` inhabitants under this text.
    pub fn size_class(&self, population: u64) -> SizeClass {
        self.size_thresholds.classify(population)
    }

    pub fn mission(&self, id: MissionId) -> Option<&MissionRule> {
        self.missions.get(&id)
    }

    /// The largest amount a year can bring: operating funding plus every mission at its
    /// maximum (full achievement; crisis mission in its first year with a crisis). No computed
    /// year exceeds it.
    pub fn maximum(&self, size: SizeClass) -> Cents {
        self.operating.figures.amount(size) + self.missions.values().map(|m| m.maximum(size)).sum::<Cents>()
    }

    /// The maximum per year as published with the text.
    pub fn published_maximum(&self, size: SizeClass) -> Cents {
        self.maximum.published.amount(size)
    }

    /// Every UNVERIFIED entry of the file: (key path, reason).
    pub fn unverified(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut push = |rule: &str, reason: &Option<String>| {
            if let Some(r) = reason {
                out.push((rule.to_owned(), r.clone()));
            }
        };
        push("effective_from", &self.dates_unverified);
        push("population_change", &self.population_change.unverified);
        push(&self.operating.figures.rule, &self.operating.figures.unverified);
        for m in self.missions.values() {
            for f in m.figures() {
                push(&f.rule, &f.unverified);
            }
        }
        push("prorata", &self.prorata.unverified);
        push("payment", &self.payment.unverified);
        push(&self.maximum.published.rule, &self.maximum.published.unverified);
        for o in &self.other_figures {
            push(&o.figures.rule, &o.figures.unverified);
        }
        out
    }

    /// Loads and validates a rule set. `file` names the file in error messages; when it ends
    /// with `.toml`, the `id` must equal its stem.
    pub fn from_toml(file: &str, text: &str) -> Result<RuleSet, RuleSetError> {
        let raw: RawRuleSet = toml::from_str(text).map_err(|e| {
            let (line, column) = e.span().map(|s| line_col(text, s.start)).unzip();
            RuleSetError { file: file.to_owned(), line, column, key: None, reason: e.message().trim().to_owned() }
        })?;
        Loader { file, text }.build(raw)
    }
}

impl MissionRule {
    /// The rows of the mission, in file order.
    pub fn figures(&self) -> Vec<&SizedFigures> {
        match &self.funding {
            MissionFunding::FixedVariable { fixed, variable } => vec![fixed, variable],
            MissionFunding::CrisisPlan { plan_first_year, plan_update, crisis_occurrence } => {
                vec![plan_first_year, plan_update, crisis_occurrence]
            }
        }
    }
}

/// A faulty rule-set file: where and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSetError {
    pub file: String,
    /// 1-based line and column (in characters) of the faulty entry, when known.
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// Key path of the faulty entry, e.g. `missions.acces.fixed.amounts[2]`.
    pub key: Option<String>,
    pub reason: String,
}

impl fmt::Display for RuleSetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let (Some(l), Some(c)) = (self.line, self.column) {
            write!(f, ":{l}:{c}")?;
        }
        if let Some(k) = &self.key {
            write!(f, ": {k}")?;
        }
        write!(f, ": {}", self.reason)
    }
}

impl std::error::Error for RuleSetError {}

/// Why no rule set was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleSetLookupError {
    Unknown {
        id: String,
        known: Vec<String>,
    },
    /// An embedded file does not validate (a build defect; the tests catch it).
    Invalid(RuleSetError),
}

impl fmt::Display for RuleSetLookupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unknown { id, known } => {
                write!(f, "unknown rule set `{id}` (known: {})", known.join(", "))
            }
            Self::Invalid(e) => write!(f, "embedded rule set is invalid: {e}"),
        }
    }
}

impl std::error::Error for RuleSetLookupError {}

/// Every embedded rule set, ordered by effective date, validated once.
pub fn embedded_all() -> Result<&'static [RuleSet], RuleSetError> {
    static CELL: OnceLock<Result<Vec<RuleSet>, RuleSetError>> = OnceLock::new();
    let loaded = CELL.get_or_init(|| {
        let mut all =
            EMBEDDED_FILES.iter().map(|(file, text)| RuleSet::from_toml(file, text)).collect::<Result<Vec<_>, _>>()?;
        all.sort_by(|a, b| (a.effective_from, &a.id).cmp(&(b.effective_from, &b.id)));
        let mut seen = BTreeSet::new();
        for r in &all {
            if !seen.insert(r.id.clone()) {
                return Err(RuleSetError {
                    file: r.file.clone(),
                    line: None,
                    column: None,
                    key: Some("id".into()),
                    reason: format!("two embedded rule sets are named `{}`", r.id),
                });
            }
        }
        Ok(all)
    });
    loaded.as_ref().map(Vec::as_slice).map_err(Clone::clone)
}

/// The embedded rule set named `id`.
pub fn embedded(id: &str) -> Result<&'static RuleSet, RuleSetLookupError> {
    let all = embedded_all().map_err(RuleSetLookupError::Invalid)?;
    all.iter().find(|r| r.id == id).ok_or_else(|| RuleSetLookupError::Unknown {
        id: id.to_owned(),
        known: all.iter().map(|r| r.id.clone()).collect(),
    })
}

/// The embedded rule set in force on `date`: the latest whose effective date is not after it.
pub fn in_force_on(date: NaiveDate) -> Result<Option<&'static RuleSet>, RuleSetError> {
    Ok(embedded_all()?.iter().rev().find(|r| r.effective_from <= date))
}

// ---------------------------------------------------------------------------------------------
// Loading

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRuleSet {
    format: Spanned<i64>,
    id: Spanned<String>,
    title: String,
    text: String,
    signed_on: Spanned<Datetime>,
    effective_from: Spanned<Datetime>,
    dates_source: Spanned<String>,
    dates_unverified: Option<String>,
    contract_years: Spanned<i64>,
    contract_years_source: Spanned<String>,
    sources: BTreeMap<Spanned<String>, RawSource>,
    size_classes: RawSizeClasses,
    population_change: RawPopulationChange,
    operating: RawOperating,
    missions: BTreeMap<Spanned<String>, Spanned<RawMission>>,
    prorata: RawProrata,
    payment: RawPayment,
    maximum: RawMaximum,
    #[serde(default)]
    other_figures: Vec<RawOther>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    title: String,
    #[serde(rename = "where")]
    location: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSizeClasses {
    t2_from: Spanned<i64>,
    t3_from: Spanned<i64>,
    t4_from: Spanned<i64>,
    source: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPopulationChange {
    policy: PopulationPolicy,
    description: String,
    source: Spanned<String>,
    unverified: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOperating {
    label: String,
    amounts: Spanned<Vec<Spanned<RawAmount>>>,
    source: Spanned<String>,
    unverified: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRow {
    amounts: Spanned<Vec<Spanned<RawAmount>>>,
    source: Spanned<String>,
    unverified: Option<String>,
}

/// Whole euros (`17_500`) or euros and cents as text (`"17500.50"`).
#[derive(Deserialize)]
#[serde(untagged)]
enum RawAmount {
    Euros(i64),
    Text(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMission {
    label: String,
    category: Category,
    start_within_months: Option<Spanned<i64>>,
    deploy_within_months: Option<Spanned<i64>>,
    deadlines_source: Option<Spanned<String>>,
    fixed: Option<RawRow>,
    variable: Option<RawRow>,
    plan_first_year: Option<RawRow>,
    plan_update: Option<RawRow>,
    crisis_occurrence: Option<RawRow>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProrata {
    fixed: bool,
    variable: bool,
    crisis_plan: bool,
    source: Spanned<String>,
    unverified: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPayment {
    operating_at_signature_percent: Spanned<i64>,
    operating_advance_percent: Spanned<i64>,
    fixed_advance_percent: Spanned<i64>,
    source: Spanned<String>,
    unverified: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMaximum {
    amounts: Spanned<Vec<Spanned<RawAmount>>>,
    source: Spanned<String>,
    basis: String,
    must_equal_sum: bool,
    unverified: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOther {
    key: Spanned<String>,
    label: String,
    amounts: Spanned<Vec<Spanned<RawAmount>>>,
    source: Spanned<String>,
    unverified: Option<String>,
}

/// 1-based line and column (in characters) of a byte offset.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut end = offset.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let before = &text[..end];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

struct Loader<'a> {
    file: &'a str,
    text: &'a str,
}

impl Loader<'_> {
    fn err(&self, span: Range<usize>, key: impl Into<String>, reason: impl Into<String>) -> RuleSetError {
        let (line, column) = line_col(self.text, span.start);
        RuleSetError {
            file: self.file.to_owned(),
            line: Some(line),
            column: Some(column),
            key: Some(key.into()),
            reason: reason.into(),
        }
    }

    fn date(&self, d: &Spanned<Datetime>, key: &str) -> Result<NaiveDate, RuleSetError> {
        let v = d.get_ref();
        match (&v.date, &v.time, &v.offset) {
            (Some(date), None, None) => {
                NaiveDate::from_ymd_opt(i32::from(date.year), u32::from(date.month), u32::from(date.day))
                    .ok_or_else(|| self.err(d.span(), key, "not a calendar date"))
            }
            _ => Err(self.err(d.span(), key, "expected a date without time, e.g. 2021-12-20")),
        }
    }

    fn source(
        &self,
        s: &Spanned<String>,
        key: &str,
        sources: &BTreeMap<String, Source>,
    ) -> Result<String, RuleSetError> {
        if sources.contains_key(s.get_ref()) {
            Ok(s.get_ref().clone())
        } else {
            let known: Vec<&str> = sources.keys().map(String::as_str).collect();
            Err(self.err(
                s.span(),
                key,
                format!("source `{}` is not declared under [sources] (declared: {})", s.get_ref(), known.join(", ")),
            ))
        }
    }

    fn amounts(&self, a: &Spanned<Vec<Spanned<RawAmount>>>, key: &str) -> Result<[Cents; 4], RuleSetError> {
        let items = a.get_ref();
        if items.len() != SIZES.len() {
            return Err(self.err(
                a.span(),
                key,
                format!("expected {} amounts (taille 1 to taille 4), found {}", SIZES.len(), items.len()),
            ));
        }
        let mut out = [Cents::ZERO; 4];
        for (i, (slot, item)) in out.iter_mut().zip(items).enumerate() {
            let k = format!("{key}[{i}]");
            let cents = match item.get_ref() {
                RawAmount::Euros(e) => {
                    if !(0..=MAX_AMOUNT_EUROS).contains(e) {
                        return Err(self.err(
                            item.span(),
                            k,
                            format!("amount {e} is outside 0..={MAX_AMOUNT_EUROS} euros"),
                        ));
                    }
                    Cents::from_euros(*e)
                }
                RawAmount::Text(t) => parse_euros(t).filter(|c| c.0 <= MAX_AMOUNT_EUROS * 100).ok_or_else(|| {
                    self.err(
                        item.span(),
                        k.clone(),
                        format!("`{t}` is not an amount: whole euros (17_500) or text with cents (\"17500.50\")"),
                    )
                })?,
            };
            *slot = cents;
        }
        Ok(out)
    }

    fn row(
        &self,
        amounts: &Spanned<Vec<Spanned<RawAmount>>>,
        source: &Spanned<String>,
        unverified: &Option<String>,
        key: &str,
        sources: &BTreeMap<String, Source>,
    ) -> Result<SizedFigures, RuleSetError> {
        Ok(SizedFigures {
            rule: key.to_owned(),
            amounts: self.amounts(amounts, &format!("{key}.amounts"))?,
            source: self.source(source, &format!("{key}.source"), sources)?,
            unverified: unverified.clone(),
        })
    }

    fn raw_row(&self, r: &RawRow, key: &str, sources: &BTreeMap<String, Source>) -> Result<SizedFigures, RuleSetError> {
        self.row(&r.amounts, &r.source, &r.unverified, key, sources)
    }

    fn percent(&self, p: &Spanned<i64>, key: &str) -> Result<u8, RuleSetError> {
        u8::try_from(*p.get_ref())
            .ok()
            .filter(|v| *v <= 100)
            .ok_or_else(|| self.err(p.span(), key, format!("{} is not a percentage between 0 and 100", p.get_ref())))
    }

    fn months(&self, m: &Option<Spanned<i64>>, key: &str) -> Result<Option<u32>, RuleSetError> {
        m.as_ref()
            .map(|m| {
                u32::try_from(*m.get_ref()).ok().filter(|v| (1..=120).contains(v)).ok_or_else(|| {
                    self.err(m.span(), key, format!("{} is not a number of months in 1..=120", m.get_ref()))
                })
            })
            .transpose()
    }

    fn build(&self, raw: RawRuleSet) -> Result<RuleSet, RuleSetError> {
        if *raw.format.get_ref() != FORMAT {
            return Err(self.err(
                raw.format.span(),
                "format",
                format!("format {} is not supported (this program reads format {FORMAT})", raw.format.get_ref()),
            ));
        }
        let id = raw.id.get_ref().clone();
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
            return Err(self.err(raw.id.span(), "id", "an id is made of lowercase letters, digits and dashes"));
        }
        let stem =
            std::path::Path::new(self.file).file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_suffix(".toml"));
        if let Some(stem) = stem
            && stem != id
        {
            return Err(self.err(raw.id.span(), "id", format!("id `{id}` must equal the file name `{stem}.toml`")));
        }

        let mut sources = BTreeMap::new();
        for (key, s) in &raw.sources {
            sources.insert(
                key.get_ref().clone(),
                Source { key: key.get_ref().clone(), title: s.title.clone(), location: s.location.clone() },
            );
        }
        if sources.is_empty() {
            return Err(RuleSetError {
                file: self.file.to_owned(),
                line: None,
                column: None,
                key: Some("sources".into()),
                reason: "at least one source must be declared".into(),
            });
        }

        let signed_on = self.date(&raw.signed_on, "signed_on")?;
        let effective_from = self.date(&raw.effective_from, "effective_from")?;
        let dates_source = self.source(&raw.dates_source, "dates_source", &sources)?;

        let contract_years =
            u8::try_from(*raw.contract_years.get_ref()).ok().filter(|y| (1..=10).contains(y)).ok_or_else(|| {
                self.err(raw.contract_years.span(), "contract_years", "expected a number of years in 1..=10")
            })?;
        let contract_years_source = self.source(&raw.contract_years_source, "contract_years_source", &sources)?;

        let sc = &raw.size_classes;
        let threshold = |v: &Spanned<i64>, key: &str| {
            u64::try_from(*v.get_ref())
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(|| self.err(v.span(), key, "a population threshold is a positive number of inhabitants"))
        };
        let size_thresholds = SizeThresholds {
            t2_from: threshold(&sc.t2_from, "size_classes.t2_from")?,
            t3_from: threshold(&sc.t3_from, "size_classes.t3_from")?,
            t4_from: threshold(&sc.t4_from, "size_classes.t4_from")?,
        };
        if size_thresholds.t3_from <= size_thresholds.t2_from {
            return Err(self.err(sc.t3_from.span(), "size_classes.t3_from", "must be greater than t2_from"));
        }
        if size_thresholds.t4_from <= size_thresholds.t3_from {
            return Err(self.err(sc.t4_from.span(), "size_classes.t4_from", "must be greater than t3_from"));
        }
        let size_thresholds_source = self.source(&sc.source, "size_classes.source", &sources)?;

        let pc = &raw.population_change;
        let population_change = PopulationChangeRule {
            policy: pc.policy,
            description: pc.description.clone(),
            source: self.source(&pc.source, "population_change.source", &sources)?,
            unverified: pc.unverified.clone(),
        };

        let op = &raw.operating;
        let operating = OperatingRule {
            label: op.label.clone(),
            figures: self.row(&op.amounts, &op.source, &op.unverified, "operating", &sources)?,
        };

        let mut missions = BTreeMap::new();
        for (key, m) in &raw.missions {
            let name = key.get_ref();
            let path = format!("missions.{name}");
            let id: MissionId =
                name.parse().map_err(|e: super::UnknownMission| self.err(key.span(), path.clone(), e.to_string()))?;
            if id == MissionId::Fonctionnement {
                return Err(self.err(
                    key.span(),
                    path,
                    "the operating funding is described under [operating], not as a mission",
                ));
            }
            let span = m.span();
            let m = m.get_ref();
            let start_within_months = self.months(&m.start_within_months, &format!("{path}.start_within_months"))?;
            let deploy_within_months = self.months(&m.deploy_within_months, &format!("{path}.deploy_within_months"))?;
            if let (Some(s), Some(d), Some(dm)) = (start_within_months, deploy_within_months, &m.deploy_within_months)
                && d < s
            {
                return Err(self.err(
                    dm.span(),
                    format!("{path}.deploy_within_months"),
                    "full deployment cannot be due before the start",
                ));
            }
            if (start_within_months.is_some() || deploy_within_months.is_some()) && m.deadlines_source.is_none() {
                return Err(self.err(span.clone(), path.clone(), "deadlines need a `deadlines_source`"));
            }
            let deadlines_source = m
                .deadlines_source
                .as_ref()
                .map(|s| self.source(s, &format!("{path}.deadlines_source"), &sources))
                .transpose()?;
            let funding = match (&m.fixed, &m.variable, &m.plan_first_year, &m.plan_update, &m.crisis_occurrence) {
                (Some(f), Some(v), None, None, None) => MissionFunding::FixedVariable {
                    fixed: self.raw_row(f, &format!("{path}.fixed"), &sources)?,
                    variable: self.raw_row(v, &format!("{path}.variable"), &sources)?,
                },
                (None, None, Some(p), Some(u), Some(c)) => MissionFunding::CrisisPlan {
                    plan_first_year: self.raw_row(p, &format!("{path}.plan_first_year"), &sources)?,
                    plan_update: self.raw_row(u, &format!("{path}.plan_update"), &sources)?,
                    crisis_occurrence: self.raw_row(c, &format!("{path}.crisis_occurrence"), &sources)?,
                },
                _ => {
                    return Err(self.err(
                        span,
                        path,
                        "a mission has either `fixed` and `variable`, or `plan_first_year`, `plan_update` and \
                         `crisis_occurrence`",
                    ));
                }
            };
            missions.insert(
                id,
                MissionRule {
                    mission: id,
                    label: m.label.clone(),
                    category: m.category,
                    start_within_months,
                    deploy_within_months,
                    deadlines_source,
                    funding,
                },
            );
        }

        let pr = &raw.prorata;
        let prorata = ProrataRules {
            fixed: pr.fixed,
            variable: pr.variable,
            crisis_plan: pr.crisis_plan,
            source: self.source(&pr.source, "prorata.source", &sources)?,
            unverified: pr.unverified.clone(),
        };

        let pay = &raw.payment;
        let payment = PaymentRules {
            operating_at_signature_percent: self
                .percent(&pay.operating_at_signature_percent, "payment.operating_at_signature_percent")?,
            operating_advance_percent: self
                .percent(&pay.operating_advance_percent, "payment.operating_advance_percent")?,
            fixed_advance_percent: self.percent(&pay.fixed_advance_percent, "payment.fixed_advance_percent")?,
            source: self.source(&pay.source, "payment.source", &sources)?,
            unverified: pay.unverified.clone(),
        };

        let mx = &raw.maximum;
        let maximum = Maximum {
            published: self.row(&mx.amounts, &mx.source, &mx.unverified, "maximum", &sources)?,
            basis: mx.basis.clone(),
            must_equal_sum: mx.must_equal_sum,
        };

        let mut other_figures = Vec::new();
        let mut other_keys = BTreeSet::new();
        for (i, o) in raw.other_figures.iter().enumerate() {
            let path = format!("other_figures[{i}]");
            if !other_keys.insert(o.key.get_ref().clone()) {
                return Err(self.err(
                    o.key.span(),
                    format!("{path}.key"),
                    format!("key `{}` is used twice", o.key.get_ref()),
                ));
            }
            other_figures.push(OtherFigure {
                key: o.key.get_ref().clone(),
                label: o.label.clone(),
                figures: self.row(&o.amounts, &o.source, &o.unverified, &path, &sources)?,
            });
        }

        let rules = RuleSet {
            id,
            title: raw.title,
            text: raw.text,
            file: self.file.to_owned(),
            signed_on,
            effective_from,
            dates_source,
            dates_unverified: raw.dates_unverified,
            contract_years,
            contract_years_source,
            sources,
            size_thresholds,
            size_thresholds_source,
            population_change,
            operating,
            missions,
            prorata,
            payment,
            maximum,
            other_figures,
        };

        if rules.maximum.must_equal_sum {
            for (i, size) in SIZES.into_iter().enumerate() {
                let computed = rules.maximum(size);
                let published = rules.published_maximum(size);
                if computed != published {
                    let span = mx.amounts.get_ref().get(i).map_or(mx.amounts.span(), Spanned::span);
                    return Err(self.err(
                        span,
                        format!("maximum.amounts[{i}]"),
                        format!(
                            "the published maximum for {size} is {} but the table adds up to {}",
                            published.euros_decimal(),
                            computed.euros_decimal()
                        ),
                    ));
                }
            }
        }
        Ok(rules)
    }
}

/// `"17500"`, `"17500.5"`, `"17500.50"` → cents.
fn parse_euros(t: &str) -> Option<Cents> {
    let t = t.trim();
    let (int, frac) = t.split_once('.').unwrap_or((t, ""));
    if int.is_empty() || int.len() > 12 || frac.len() > 2 {
        return None;
    }
    if !int.chars().all(|c| c.is_ascii_digit()) || !frac.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let euros: i64 = int.parse().ok()?;
    let cents: i64 = match frac.len() {
        0 => 0,
        1 => frac.parse::<i64>().ok()? * 10,
        _ => frac.parse().ok()?,
    };
    Some(Cents(euros * 100 + cents))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters() {
        let t = "a = 1\nbé = 2\n";
        assert_eq!(line_col(t, 0), (1, 1));
        assert_eq!(line_col(t, 6), (2, 1));
        assert_eq!(line_col(t, 9), (2, 3));
    }

    #[test]
    fn euros_text() {
        assert_eq!(parse_euros("17500"), Some(Cents(1_750_000)));
        assert_eq!(parse_euros("17500.5"), Some(Cents(1_750_050)));
        assert_eq!(parse_euros("0.05"), Some(Cents(5)));
        for bad in ["", ".5", "1.234", "-3", "1,5", "abc"] {
            assert_eq!(parse_euros(bad), None, "{bad}");
        }
    }
}
