//! One CPTS's ACI contract: signature, rule set, population, missions engaged with their dates
//! and the indicators negotiated locally, and the checks that warn about it.

use super::Category;
use super::MissionId;
use super::money::Rate;
use super::rules::{MissionFunding, PopulationPolicy, RuleSet};
use crate::territory::SizeClass;
use chrono::{Months, NaiveDate};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// A signed contract (or a draft of one). Serializable so that it can be stored as a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contract {
    /// Name or identifier of the CPTS.
    pub cpts: String,
    pub signed_on: NaiveDate,
    /// Id of the rule set the contract was signed under (`avenant-2`).
    pub rule_set: String,
    /// Official population of the territory's communes at signature: sets the size class.
    pub population_at_signature: u64,
    /// Later official populations, with the date they became known.
    #[serde(default)]
    pub population_updates: Vec<PopulationUpdate>,
    /// The missions engaged. The operating funding is always part of the contract and is not
    /// listed here.
    #[serde(default)]
    pub missions: Vec<EngagedMission>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PopulationUpdate {
    pub known_on: NaiveDate,
    pub population: u64,
}

/// A mission engaged by the contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngagedMission {
    pub mission: MissionId,
    /// When the mission started (`None`: not yet). The fixed part runs from this date.
    pub started_on: Option<NaiveDate>,
    /// When the mission was fully deployed (`None`: not yet).
    #[serde(default)]
    pub deployed_on: Option<NaiveDate>,
    /// Indicators negotiated locally for the variable part.
    #[serde(default)]
    pub indicators: Vec<Indicator>,
    /// Serious health crises declared during the contract (crisis mission only).
    #[serde(default)]
    pub crises: Vec<CrisisDeclaration>,
}

impl EngagedMission {
    /// A mission started on `started_on`, without indicators yet.
    pub fn started(mission: MissionId, started_on: NaiveDate) -> Self {
        Self { mission, started_on: Some(started_on), deployed_on: None, indicators: Vec::new(), crises: Vec::new() }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrisisDeclaration {
    pub declared_on: NaiveDate,
    pub name: String,
}

/// Action indicators measure what was done (meetings held, plan written); result indicators
/// measure an effect (patients who found a *médecin traitant*). Both are computed the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IndicatorKind {
    Action,
    Result,
}

/// An indicator negotiated for a mission. Values are integers in the indicator's own unit
/// (use a finer unit, e.g. per mille, for fractions).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Indicator {
    pub name: String,
    pub kind: IndicatorKind,
    /// Value at signature.
    pub baseline: i64,
    /// Target per contract year (1-based). A target below the baseline means "lower is better".
    pub targets: BTreeMap<u8, i64>,
    /// Relative weight within the mission.
    pub weight: u32,
    /// Value achieved per contract year, with its evidence.
    #[serde(default)]
    pub results: BTreeMap<u8, IndicatorResult>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndicatorResult {
    pub achieved: i64,
    /// References of the evidence (documents, exports, minutes).
    #[serde(default)]
    pub evidence: Vec<String>,
}

impl Indicator {
    /// Achievement in `year`: the way travelled from the baseline to the target, capped at 100 %
    /// and floored at 0 %; `None` without a target for that year; 0 % without a result. When the
    /// target equals the baseline, reaching the target (or passing it upwards) counts as 100 %.
    pub fn ratio(&self, year: u8) -> Option<Rate> {
        let target = *self.targets.get(&year)?;
        let Some(result) = self.results.get(&year) else {
            return Some(Rate::ZERO);
        };
        let (num, den) =
            (i128::from(result.achieved) - i128::from(self.baseline), i128::from(target) - i128::from(self.baseline));
        Some(match den.signum() {
            0 => {
                if result.achieved >= target {
                    Rate::ONE
                } else {
                    Rate::ZERO
                }
            }
            1 => Rate::ratio(num, den),
            _ => Rate::ratio(-num, -den),
        })
    }
}

/// What a contract check found. Warnings never block a computation: they tell the coordinator
/// what to fix or expect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WarningCode {
    RuleSetMismatch,
    SignedBeforeRuleSet,
    SocleMissionMissing,
    MissionNotInRuleSet,
    DuplicateMission,
    OperatingIsNotAMission,
    StartBeforeSignature,
    LateStart,
    StartOverdue,
    DeployedBeforeStart,
    LateDeployment,
    DeploymentOverdue,
    SizeClassChange,
    NoIndicators,
    ZeroWeight,
    TargetEqualsBaseline,
    ResultWithoutTarget,
    YearOutsideContract,
    CrisisOutsideMission,
    CrisesOnOtherMission,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContractWarning {
    pub code: WarningCode,
    pub mission: Option<MissionId>,
    pub en: String,
    pub fr: String,
}

fn warn(code: WarningCode, mission: Option<MissionId>, en: String, fr: String) -> ContractWarning {
    ContractWarning { code, mission, en, fr }
}

impl Contract {
    /// A contract signed on `signed_on` under `rules` for a territory of `population`, with no
    /// mission engaged yet.
    pub fn new(cpts: impl Into<String>, signed_on: NaiveDate, rules: &RuleSet, population: u64) -> Self {
        Self {
            cpts: cpts.into(),
            signed_on,
            rule_set: rules.id.clone(),
            population_at_signature: population,
            population_updates: Vec::new(),
            missions: Vec::new(),
        }
    }

    /// The `n`-th anniversary (0 = the signature date). A contract signed on 29 February has its
    /// anniversaries on 28 February.
    pub fn anniversary(&self, n: u8) -> Option<NaiveDate> {
        self.signed_on.checked_add_months(Months::new(12 * u32::from(n)))
    }

    /// Contract year `year` (1-based): from its opening anniversary (inclusive) to the next
    /// (exclusive).
    pub fn period(&self, year: u8) -> Option<(NaiveDate, NaiveDate)> {
        if year == 0 {
            return None;
        }
        Some((self.anniversary(year - 1)?, self.anniversary(year)?))
    }

    /// The contract year that contains `date`, if within `years` years.
    pub fn year_of(&self, date: NaiveDate, years: u8) -> Option<u8> {
        (1..=years).find(|&y| self.period(y).is_some_and(|(s, e)| s <= date && date < e))
    }

    /// The mission as engaged (the first entry if listed twice).
    pub fn engaged(&self, mission: MissionId) -> Option<&EngagedMission> {
        self.missions.iter().find(|m| m.mission == mission)
    }

    /// Size class at signature.
    pub fn size_at_signature(&self, rules: &RuleSet) -> SizeClass {
        rules.size_class(self.population_at_signature)
    }

    /// The population that sets the size class of contract year `year`, following the rule set's
    /// population-change policy, and the date it became known.
    pub fn population_for_year(&self, rules: &RuleSet, year: u8) -> (u64, NaiveDate) {
        let at_signature = (self.population_at_signature, self.signed_on);
        if year <= 1 || rules.population_change.policy == PopulationPolicy::FixedAtSignature {
            return at_signature;
        }
        let Some((start, _)) = self.period(year) else {
            return at_signature;
        };
        self.population_updates
            .iter()
            .filter(|u| u.known_on <= start)
            .max_by_key(|u| u.known_on)
            .map_or(at_signature, |u| (u.population, u.known_on))
    }

    /// Size class of contract year `year`.
    pub fn size_for_year(&self, rules: &RuleSet, year: u8) -> SizeClass {
        rules.size_class(self.population_for_year(rules, year).0)
    }

    /// Deadlines of a mission under `rules`: (start by, fully deployed by).
    pub fn deadlines(&self, rules: &RuleSet, mission: MissionId) -> (Option<NaiveDate>, Option<NaiveDate>) {
        let Some(rule) = rules.mission(mission) else {
            return (None, None);
        };
        let add = |m: Option<u32>| m.and_then(|m| self.signed_on.checked_add_months(Months::new(m)));
        (add(rule.start_within_months), add(rule.deploy_within_months))
    }

    /// Everything worth a warning, as of `today`: missing socle missions, deadlines missed or
    /// overdue, a population crossing a size threshold (with the rule set's policy), indicators
    /// that cannot be computed.
    pub fn check(&self, rules: &RuleSet, today: NaiveDate) -> Vec<ContractWarning> {
        use WarningCode as W;
        let mut out = Vec::new();
        if self.rule_set != rules.id {
            out.push(warn(
                W::RuleSetMismatch,
                None,
                format!("the contract was signed under `{}`, not `{}`", self.rule_set, rules.id),
                format!("le contrat relève de « {} », pas de « {} »", self.rule_set, rules.id),
            ));
        }
        if self.signed_on < rules.effective_from {
            out.push(warn(
                W::SignedBeforeRuleSet,
                None,
                format!("signed on {}, before {} took effect on {}", self.signed_on, rules.title, rules.effective_from),
                format!(
                    "signé le {}, avant l'entrée en vigueur de {} le {}",
                    fr_date(self.signed_on),
                    rules.title,
                    fr_date(rules.effective_from)
                ),
            ));
        }

        // Missions: duplicates, unknown to the rule set, socle missing.
        let mut seen = BTreeSet::new();
        for m in &self.missions {
            if m.mission == MissionId::Fonctionnement {
                out.push(warn(
                    W::OperatingIsNotAMission,
                    Some(m.mission),
                    "the operating funding is always part of the contract; it is not engaged as a mission".into(),
                    "le financement du fonctionnement fait toujours partie du contrat ; ce n'est pas une mission"
                        .into(),
                ));
                continue;
            }
            if !seen.insert(m.mission) {
                out.push(warn(
                    W::DuplicateMission,
                    Some(m.mission),
                    format!("mission `{}` is listed twice; only the first entry counts", m.mission),
                    format!("la mission « {} » figure deux fois ; seule la première compte", m.mission.fr()),
                ));
                continue;
            }
            if rules.mission(m.mission).is_none() {
                out.push(warn(
                    W::MissionNotInRuleSet,
                    Some(m.mission),
                    format!("mission `{}` is not funded by {}", m.mission, rules.title),
                    format!("la mission « {} » n'est pas financée par {}", m.mission.fr(), rules.title),
                ));
            }
        }
        for rule in rules.missions.values().filter(|r| r.category == Category::Socle) {
            if !seen.contains(&rule.mission) {
                out.push(warn(
                    W::SocleMissionMissing,
                    Some(rule.mission),
                    format!("socle mission `{}` is mandatory and not engaged", rule.mission),
                    format!("la mission socle « {} » est obligatoire et n'est pas engagée", rule.mission.fr()),
                ));
            }
        }

        // Deadlines.
        for m in self.missions.iter().filter(|m| m.mission.is_mission()) {
            if self.engaged(m.mission).is_some_and(|first| !std::ptr::eq(first, m)) {
                continue;
            }
            out.extend(self.check_deadlines(rules, m, today));
            out.extend(self.check_indicators(rules, m));
        }

        // Population crossing a threshold.
        let mut previous = (self.population_at_signature, self.size_at_signature(rules));
        let mut updates: Vec<&PopulationUpdate> = self.population_updates.iter().collect();
        updates.sort_by_key(|u| u.known_on);
        for u in updates {
            let class = rules.size_class(u.population);
            if class != previous.1 {
                let from_year = self
                    .year_of(u.known_on, rules.contract_years)
                    .map(|y| y + 1)
                    .filter(|y| *y <= rules.contract_years);
                let (en_when, fr_when) = match (rules.population_change.policy, from_year) {
                    (PopulationPolicy::FixedAtSignature, _) => {
                        ("the contract keeps its size class".to_owned(), "le contrat garde sa taille".to_owned())
                    }
                    (PopulationPolicy::ReclassifyAtAnniversary, Some(y)) => (
                        format!("the new class applies from contract year {y}"),
                        format!("la nouvelle taille s'applique à partir de l'année {y} du contrat"),
                    ),
                    (PopulationPolicy::ReclassifyAtAnniversary, None) => (
                        "no contract year of this contract is affected".to_owned(),
                        "aucune année de ce contrat n'est concernée".to_owned(),
                    ),
                };
                let unverified = if rules.population_change.unverified.is_some() { " (UNVERIFIED rule)" } else { "" };
                out.push(warn(
                    W::SizeClassChange,
                    None,
                    format!(
                        "population {} known on {} moves the territory from {} to {}: {en_when}{unverified}. Rule: {}",
                        u.population, u.known_on, previous.1, class, rules.population_change.description
                    ),
                    format!(
                        "la population {} connue le {} fait passer le territoire de la {} à la {} : {fr_when}{}",
                        u.population,
                        fr_date(u.known_on),
                        previous.1,
                        class,
                        if unverified.is_empty() { "" } else { " (règle NON VÉRIFIÉE)" }
                    ),
                ));
            }
            previous = (u.population, class);
        }
        out
    }

    fn check_deadlines(&self, rules: &RuleSet, m: &EngagedMission, today: NaiveDate) -> Vec<ContractWarning> {
        use WarningCode as W;
        let mut out = Vec::new();
        let id = Some(m.mission);
        let (start_by, deploy_by) = self.deadlines(rules, m.mission);
        if let Some(s) = m.started_on
            && s < self.signed_on
        {
            out.push(warn(
                W::StartBeforeSignature,
                id,
                format!("`{}` is dated {s}, before signature; it counts from the signature", m.mission),
                format!(
                    "« {} » démarre le {}, avant la signature ; elle compte à partir de la signature",
                    m.mission.fr(),
                    fr_date(s)
                ),
            ));
        }
        match (m.started_on, start_by) {
            (Some(s), Some(by)) if s > by => out.push(warn(
                W::LateStart,
                id,
                format!("`{}` started on {s}, after its deadline of {by}", m.mission),
                format!(
                    "« {} » a démarré le {s}, après l'échéance du {by}",
                    m.mission.fr(),
                    s = fr_date(s),
                    by = fr_date(by)
                ),
            )),
            (None, Some(by)) if today > by => out.push(warn(
                W::StartOverdue,
                id,
                format!("`{}` should have started by {by}", m.mission),
                format!("« {} » aurait dû démarrer au plus tard le {by}", m.mission.fr(), by = fr_date(by)),
            )),
            _ => {}
        }
        if let (Some(s), Some(d)) = (m.started_on, m.deployed_on)
            && d < s
        {
            out.push(warn(
                W::DeployedBeforeStart,
                id,
                format!("`{}` is deployed on {d}, before it started on {s}", m.mission),
                format!(
                    "« {} » est déployée le {d}, avant son démarrage le {s}",
                    m.mission.fr(),
                    s = fr_date(s),
                    d = fr_date(d)
                ),
            ));
        }
        match (m.deployed_on, deploy_by) {
            (Some(d), Some(by)) if d > by => out.push(warn(
                W::LateDeployment,
                id,
                format!("`{}` was fully deployed on {d}, after its deadline of {by}", m.mission),
                format!(
                    "« {} » a été déployée le {d}, après l'échéance du {by}",
                    m.mission.fr(),
                    d = fr_date(d),
                    by = fr_date(by)
                ),
            )),
            (None, Some(by)) if today > by => out.push(warn(
                W::DeploymentOverdue,
                id,
                format!("`{}` should have been fully deployed by {by}", m.mission),
                format!(
                    "« {} » aurait dû être pleinement déployée au plus tard le {by}",
                    m.mission.fr(),
                    by = fr_date(by)
                ),
            )),
            _ => {}
        }
        out
    }

    fn check_indicators(&self, rules: &RuleSet, m: &EngagedMission) -> Vec<ContractWarning> {
        use WarningCode as W;
        let mut out = Vec::new();
        let id = Some(m.mission);
        let rule = rules.mission(m.mission);
        let is_crisis = matches!(rule.map(|r| &r.funding), Some(MissionFunding::CrisisPlan { .. }));
        if !m.crises.is_empty() && !is_crisis {
            out.push(warn(
                W::CrisesOnOtherMission,
                id,
                format!("crises are recorded on `{}`; only the crisis mission is paid for them", m.mission),
                format!(
                    "des crises sont saisies sur « {} » ; seule la mission crise est financée pour elles",
                    m.mission.fr()
                ),
            ));
        }
        for c in &m.crises {
            if m.started_on.is_none_or(|s| c.declared_on < s.max(self.signed_on)) {
                out.push(warn(
                    W::CrisisOutsideMission,
                    id,
                    format!(
                        "crisis \"{}\" of {} precedes the start of the mission: it is not paid",
                        c.name, c.declared_on
                    ),
                    format!(
                        "la crise « {} » du {} précède le démarrage de la mission : elle n'est pas financée",
                        c.name,
                        fr_date(c.declared_on)
                    ),
                ));
            }
        }
        if matches!(rule.map(|r| &r.funding), Some(MissionFunding::FixedVariable { .. })) && m.indicators.is_empty() {
            out.push(warn(
                W::NoIndicators,
                id,
                format!("`{}` has no indicator: its variable part is zero", m.mission),
                format!("« {} » n'a aucun indicateur : sa part variable est nulle", m.mission.fr()),
            ));
        }
        let years = 1..=rules.contract_years;
        for ind in &m.indicators {
            let name = &ind.name;
            if ind.weight == 0 {
                out.push(warn(
                    W::ZeroWeight,
                    id,
                    format!("indicator \"{name}\" has weight 0 and does not count"),
                    format!("l'indicateur « {name} » a un poids nul et ne compte pas"),
                ));
            }
            for (y, t) in &ind.targets {
                if !years.contains(y) {
                    out.push(warn(
                        W::YearOutsideContract,
                        id,
                        format!("indicator \"{name}\" has a target for year {y}, outside the contract"),
                        format!("l'indicateur « {name} » a une cible pour l'année {y}, hors contrat"),
                    ));
                } else if *t == ind.baseline {
                    out.push(warn(
                        W::TargetEqualsBaseline,
                        id,
                        format!("indicator \"{name}\": the year-{y} target equals the baseline; reaching it counts as 100 %"),
                        format!("indicateur « {name} » : la cible de l'année {y} égale la valeur de départ ; l'atteindre vaut 100 %"),
                    ));
                }
            }
            for y in ind.results.keys() {
                if !years.contains(y) {
                    out.push(warn(
                        W::YearOutsideContract,
                        id,
                        format!("indicator \"{name}\" has a result for year {y}, outside the contract"),
                        format!("l'indicateur « {name} » a un résultat pour l'année {y}, hors contrat"),
                    ));
                } else if !ind.targets.contains_key(y) {
                    out.push(warn(
                        W::ResultWithoutTarget,
                        id,
                        format!("indicator \"{name}\" has a result but no target for year {y}: it is not counted"),
                        format!("l'indicateur « {name} » a un résultat mais pas de cible pour l'année {y} : il ne compte pas"),
                    ));
                }
            }
        }
        out
    }
}

/// A contract that cannot be stored as it is: each error names the faulty entry (`path`) and
/// says why, in English and in French. Unlike warnings, these block the write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContractError {
    /// Stable code: `date_out_of_range`, `rule_set_mismatch`, `population_out_of_range`,
    /// `duplicate`, `operating_is_not_a_mission`, `mission_not_funded`, `deployed_before_start`,
    /// `deployed_without_start`, `name_required`, `too_long`, `weight_out_of_range`,
    /// `year_out_of_range`, `too_many`, `crisis_on_other_mission`.
    pub code: &'static str,
    /// Where: `signed_on`, `missions.acces.indicators[2].targets.6`…
    pub path: String,
    pub en: String,
    pub fr: String,
}

/// Dates a contract may carry: the ACI CPTS exists since 2019; nothing is planned past 2100.
pub const EARLIEST_DATE: (i32, u32, u32) = (2019, 1, 1);
pub const LATEST_DATE: (i32, u32, u32) = (2100, 12, 31);
/// Whole population of France, rounded up: no territory is larger.
pub const MAX_POPULATION: u64 = 70_000_000;
pub const MAX_WEIGHT: u32 = 1_000;
pub const MAX_NAME: usize = 200;
pub const MAX_EVIDENCE: usize = 20;
pub const MAX_EVIDENCE_LEN: usize = 300;
pub const MAX_INDICATORS: usize = 30;
pub const MAX_CRISES: usize = 50;

impl Contract {
    /// Every reason this contract cannot be stored under `rules`, all at once.
    pub fn validate(&self, rules: &RuleSet) -> Result<(), Vec<ContractError>> {
        let mut errors = Vec::new();
        let mut err = |code, path: String, en: String, fr: String| errors.push(ContractError { code, path, en, fr });
        let date_ok = |d: NaiveDate| {
            let (y0, m0, d0) = EARLIEST_DATE;
            let (y1, m1, d1) = LATEST_DATE;
            NaiveDate::from_ymd_opt(y0, m0, d0).is_some_and(|lo| d >= lo)
                && NaiveDate::from_ymd_opt(y1, m1, d1).is_some_and(|hi| d <= hi)
        };
        let check_date = |err: &mut dyn FnMut(&'static str, String, String, String), path: String, d: NaiveDate| {
            if !date_ok(d) {
                err(
                    "date_out_of_range",
                    path,
                    format!("{d} is outside 2019-01-01 – 2100-12-31"),
                    format!("le {} est hors de la période possible (1er janvier 2019 – 31 décembre 2100)", fr_date(d)),
                );
            }
        };
        check_date(&mut err, "signed_on".into(), self.signed_on);
        if self.rule_set != rules.id {
            err(
                "rule_set_mismatch",
                "rule_set".into(),
                format!("the contract names rule set `{}`, checked against `{}`", self.rule_set, rules.id),
                format!("le contrat relève de « {} », pas de « {} »", self.rule_set, rules.id),
            );
        }
        if self.population_at_signature > MAX_POPULATION {
            err(
                "population_out_of_range",
                "population_at_signature".into(),
                format!("{} inhabitants is more than France", self.population_at_signature),
                format!("{} habitants, c'est plus que la France entière", self.population_at_signature),
            );
        }
        let mut known = BTreeSet::new();
        for (i, u) in self.population_updates.iter().enumerate() {
            let path = format!("population_updates[{i}]");
            check_date(&mut err, format!("{path}.known_on"), u.known_on);
            if u.population > MAX_POPULATION {
                err(
                    "population_out_of_range",
                    format!("{path}.population"),
                    format!("{} inhabitants is more than France", u.population),
                    format!("{} habitants, c'est plus que la France entière", u.population),
                );
            }
            if !known.insert(u.known_on) {
                err(
                    "duplicate",
                    format!("{path}.known_on"),
                    format!("two populations known on {}", u.known_on),
                    format!("deux populations connues le {}", fr_date(u.known_on)),
                );
            }
        }
        let years = 1..=rules.contract_years;
        let mut seen = BTreeSet::new();
        for m in &self.missions {
            let path = format!("missions.{}", m.mission);
            if m.mission == MissionId::Fonctionnement {
                err(
                    "operating_is_not_a_mission",
                    path.clone(),
                    "the operating funding is always part of the contract; it is not engaged".into(),
                    "le fonctionnement fait toujours partie du contrat ; il ne s'engage pas comme une mission".into(),
                );
            } else if rules.mission(m.mission).is_none() {
                err(
                    "mission_not_funded",
                    path.clone(),
                    format!("{} does not fund mission `{}`", rules.title, m.mission),
                    format!("{} ne finance pas la mission « {} »", rules.title, m.mission.fr()),
                );
            }
            if !seen.insert(m.mission) {
                err(
                    "duplicate",
                    path.clone(),
                    format!("mission `{}` is engaged twice", m.mission),
                    format!("la mission « {} » est engagée deux fois", m.mission.fr()),
                );
            }
            if let Some(d) = m.started_on {
                check_date(&mut err, format!("{path}.started_on"), d);
            }
            if let Some(d) = m.deployed_on {
                check_date(&mut err, format!("{path}.deployed_on"), d);
                match m.started_on {
                    None => err(
                        "deployed_without_start",
                        format!("{path}.deployed_on"),
                        "a mission cannot be deployed before it starts: give its start date".into(),
                        "une mission ne peut pas être déployée sans avoir démarré : indiquez sa date de démarrage"
                            .into(),
                    ),
                    Some(s) if d < s => err(
                        "deployed_before_start",
                        format!("{path}.deployed_on"),
                        format!("deployed on {d}, before it started on {s}"),
                        format!("déployée le {}, avant son démarrage le {}", fr_date(d), fr_date(s)),
                    ),
                    Some(_) => {}
                }
            }
            if m.indicators.len() > MAX_INDICATORS {
                err(
                    "too_many",
                    format!("{path}.indicators"),
                    format!("at most {MAX_INDICATORS} indicators per mission"),
                    format!("{MAX_INDICATORS} indicateurs au plus par mission"),
                );
            }
            let mut names = BTreeSet::new();
            for (n, ind) in m.indicators.iter().enumerate() {
                let ipath = format!("{path}.indicators[{n}]");
                let name = ind.name.trim();
                if name.is_empty() {
                    err(
                        "name_required",
                        format!("{ipath}.name"),
                        "an indicator needs a name".into(),
                        "un indicateur doit avoir un nom".into(),
                    );
                } else if name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
                    err(
                        "too_long",
                        format!("{ipath}.name"),
                        format!("a name has at most {MAX_NAME} characters, on one line"),
                        format!("un nom tient en {MAX_NAME} caractères au plus, sur une ligne"),
                    );
                } else if !names.insert(name.to_lowercase()) {
                    err(
                        "duplicate",
                        format!("{ipath}.name"),
                        format!("two indicators of mission `{}` are named “{name}”", m.mission),
                        format!("deux indicateurs de la mission « {} » s'appellent « {name} »", m.mission.fr()),
                    );
                }
                if ind.weight > MAX_WEIGHT {
                    err(
                        "weight_out_of_range",
                        format!("{ipath}.weight"),
                        format!("a weight is between 0 and {MAX_WEIGHT}"),
                        format!("un poids est compris entre 0 et {MAX_WEIGHT}"),
                    );
                }
                let bad_years =
                    ind.targets.keys().map(|y| ("targets", *y)).chain(ind.results.keys().map(|y| ("results", *y)));
                for (what, y) in bad_years.filter(|(_, y)| !years.contains(y)) {
                    err(
                        "year_out_of_range",
                        format!("{ipath}.{what}.{y}"),
                        format!(
                            "contract year {y} does not exist: the contract has years 1 to {}",
                            rules.contract_years
                        ),
                        format!("l'année {y} n'existe pas : le contrat compte les années 1 à {}", rules.contract_years),
                    );
                }
                for (y, r) in &ind.results {
                    if r.evidence.len() > MAX_EVIDENCE {
                        err(
                            "too_many",
                            format!("{ipath}.results.{y}.evidence"),
                            format!("at most {MAX_EVIDENCE} pieces of evidence per result"),
                            format!("{MAX_EVIDENCE} justificatifs au plus par résultat"),
                        );
                    }
                    for (k, e) in r.evidence.iter().enumerate() {
                        if e.trim().is_empty()
                            || e.chars().count() > MAX_EVIDENCE_LEN
                            || e.chars().any(char::is_control)
                        {
                            err(
                                "too_long",
                                format!("{ipath}.results.{y}.evidence[{k}]"),
                                format!("a piece of evidence is one line of 1 to {MAX_EVIDENCE_LEN} characters"),
                                format!("un justificatif tient sur une ligne de 1 à {MAX_EVIDENCE_LEN} caractères"),
                            );
                        }
                    }
                }
            }
            if !m.crises.is_empty() && m.mission != MissionId::Crise {
                err(
                    "crisis_on_other_mission",
                    format!("{path}.crises"),
                    "crises are declared on the crisis mission".into(),
                    "les crises se déclarent sur la mission « crises sanitaires graves »".into(),
                );
            }
            if m.crises.len() > MAX_CRISES {
                err(
                    "too_many",
                    format!("{path}.crises"),
                    format!("at most {MAX_CRISES} crises"),
                    format!("{MAX_CRISES} crises au plus"),
                );
            }
            for (k, c) in m.crises.iter().enumerate() {
                check_date(&mut err, format!("{path}.crises[{k}].declared_on"), c.declared_on);
                let name = c.name.trim();
                if name.is_empty() || name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
                    err(
                        "name_required",
                        format!("{path}.crises[{k}].name"),
                        format!("a crisis needs a name of at most {MAX_NAME} characters"),
                        format!("une crise doit avoir un nom de {MAX_NAME} caractères au plus"),
                    );
                }
            }
        }
        if errors.is_empty() { Ok(()) } else { Err(errors) }
    }
}

/// `15/03/2024`.
fn fr_date(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}
