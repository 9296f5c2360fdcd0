//! One CPTS's ACI contract and its spending, as JSON: the use cases of the pages
//! `/cpts/{id}/contrat` and `/cpts/{id}/depenses` (`app::aci`), so the same access rules. The
//! coordinator and board of the CPTS, the ARS and CPAM of its région and platform admins read
//! (`Action::ViewContract`); its coordinator and board write (`Action::EditCpts`). Another
//! CPTS's contract is "not found".
//!
//! Money is integer cents: `*_cents`, and the `amount` of an expense. The funding envelopes also
//! give decimal euros as strings (`*_eur`), like the simulator. Shares are percentages with two
//! decimals, as strings (`"75.00%"`). Dates are ISO 8601 (`2024-03-15`).

use super::aci::{AciEnvelope, AciExplanation};
use crate::app::Ctx;
use crate::app::aci as uc;
use crate::auth::Principal;
use crate::error::ApiError;
use crate::middleware::request_id;
use crate::state::AppState;
use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use chrono::{DateTime, NaiveDate, Utc};
use maillage_core::aci::spending::{self, CategoryAmount, EnvelopeBalance, EnvelopeBalances, Expense};
use maillage_core::aci::{Contract, Payment, Period, RuleSet, YearFunding};
use maillage_store::{DateRange, StoredContract};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

fn ctx<'a>(state: &'a AppState, principal: &'a Principal, headers: &HeaderMap) -> Ctx<'a> {
    Ctx { state, principal, request_id: request_id(headers) }
}

/// The serialized name of a domain enum (`late_start`, `acces`…).
fn ident<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

fn no_contract() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "no_contract",
        "this CPTS has no ACI contract yet (create it with PUT and `revision: null`)",
        "Cette CPTS n'a pas encore de contrat ACI.",
    )
}

/// A body that is not the JSON expected: the rejection's status (400 when it is not JSON, 415
/// without the JSON content type, 422 when a field is missing or of the wrong type).
fn bad_body(r: JsonRejection) -> ApiError {
    let text = r.body_text();
    ApiError::new(r.status(), "invalid_body", text.clone(), format!("Le document envoyé n'est pas valide : {text}"))
}

fn invalid(code: &'static str, en: String, fr: String) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, en, fr)
}

/// The stored contract and its rule set, or 404 `no_contract`.
async fn open_contract(c: &Ctx<'_>, id: &str) -> Result<(StoredContract, &'static RuleSet), ApiError> {
    let file = uc::open(c, id).await?;
    let rules = file.rules()?;
    match (file.stored, rules) {
        (Some(stored), Some(rules)) => Ok((stored, rules)),
        _ => Err(no_contract()),
    }
}

// ---------------------------------------------------------------------------------------------
// The contract document

/// The JSON of a contract, as read and written (documentation of the domain type
/// `maillage_core::aci::Contract`; a unit test keeps both in step).
mod doc {
    #![allow(dead_code)]

    use chrono::NaiveDate;
    use std::collections::BTreeMap;
    use utoipa::ToSchema;

    /// A funding envelope: the operating funding (`fonctionnement`) or a mission.
    #[derive(ToSchema)]
    #[serde(rename_all = "lowercase")]
    pub enum AciMissionName {
        Fonctionnement,
        Acces,
        Parcours,
        Prevention,
        Crise,
        Qualite,
        Accompagnement,
    }

    /// `action` (what was done) or `result` (an effect); both are computed the same way.
    #[derive(ToSchema)]
    #[serde(rename_all = "lowercase")]
    pub enum AciIndicatorKind {
        Action,
        Result,
    }

    /// An ACI contract. Missions come back in envelope order, population updates by date.
    #[derive(ToSchema)]
    pub struct AciContract {
        /// Identifier of the CPTS. On `PUT` it may be left out: it is always set to the CPTS of
        /// the path.
        #[serde(default)]
        pub cpts: String,
        /// Date of signature: contract year n runs from the (n-1)th anniversary (inclusive) to
        /// the nth (exclusive).
        pub signed_on: NaiveDate,
        /// The text version signed: `avenant-2`, `aci-2019` (`GET /api/v1/aci/rule-sets`).
        pub rule_set: String,
        /// Official population of the territory at signature: sets the size class of year 1.
        pub population_at_signature: u64,
        /// Later official populations, with the date each became known.
        #[serde(default)]
        pub population_updates: Vec<AciPopulationUpdate>,
        /// The missions engaged (the operating funding is always part of the contract and is not
        /// listed).
        #[serde(default)]
        pub missions: Vec<AciEngagedMission>,
    }

    /// A population published during the contract.
    #[derive(ToSchema)]
    pub struct AciPopulationUpdate {
        pub known_on: NaiveDate,
        pub population: u64,
    }

    /// A mission engaged by the contract.
    #[derive(ToSchema)]
    pub struct AciEngagedMission {
        /// Not `fonctionnement`.
        pub mission: AciMissionName,
        /// When the mission started (`null`: not yet); its fixed part runs from this date.
        #[serde(default)]
        pub started_on: Option<NaiveDate>,
        /// When it was fully deployed (`null`: not yet); not before `started_on`.
        #[serde(default)]
        pub deployed_on: Option<NaiveDate>,
        /// The indicators negotiated for the variable part (30 at most).
        #[serde(default)]
        pub indicators: Vec<AciIndicator>,
        /// Serious health crises declared (mission `crise` only).
        #[serde(default)]
        pub crises: Vec<AciCrisis>,
    }

    /// An indicator of a mission. Values are integers in the indicator's own unit.
    #[derive(ToSchema)]
    pub struct AciIndicator {
        /// Required, at most 200 characters, unique within the mission.
        pub name: String,
        pub kind: AciIndicatorKind,
        /// Value at signature.
        pub baseline: i64,
        /// Target per contract year, keyed by the year (`"1"` to `"5"`). A target below the
        /// baseline means "lower is better".
        pub targets: BTreeMap<String, i64>,
        /// Relative weight within the mission, 0 to 1000.
        pub weight: u32,
        /// Value achieved per contract year, keyed by the year.
        #[serde(default)]
        pub results: BTreeMap<String, AciIndicatorResult>,
    }

    /// What an indicator reached in one contract year.
    #[derive(ToSchema)]
    pub struct AciIndicatorResult {
        pub achieved: i64,
        /// References of the evidence (documents, exports, minutes), 20 at most.
        #[serde(default)]
        pub evidence: Vec<String>,
    }

    /// A serious health crisis declared during the contract.
    #[derive(ToSchema)]
    pub struct AciCrisis {
        pub declared_on: NaiveDate,
        pub name: String,
    }
}

pub use doc::AciContract;

/// The text version a contract was signed under.
#[derive(Serialize, ToSchema)]
pub struct AciContractRuleSet {
    /// Identifier (`GET /api/v1/aci/rule-sets/{name}` gives the whole table).
    name: String,
    title: String,
    /// Length of the contract, in years.
    contract_years: u8,
}

/// A point of attention about the contract (`Contract::check`). Warnings never block a write.
#[derive(Serialize, ToSchema)]
pub struct AciContractWarning {
    /// Stable code: `socle_mission_missing`, `late_start`, `start_overdue`, `size_class_change`,
    /// `no_indicators`…
    code: String,
    /// The envelope concerned, if any.
    mission: Option<String>,
    fr: String,
    en: String,
}

/// A CPTS's ACI contract with what follows from it today.
#[derive(Serialize, ToSchema)]
pub struct AciContractDocument {
    /// Starts at 1, one more at each write. Give it back to `PUT` to replace the contract: the
    /// write is refused (409) if someone wrote in between.
    revision: i64,
    updated_at: DateTime<Utc>,
    #[schema(value_type = AciContract)]
    contract: Contract,
    rule_set: AciContractRuleSet,
    /// Size class ("taille") of the population at signature, 1 to 4.
    #[schema(minimum = 1, maximum = 4)]
    size_class_at_signature: u8,
    /// Points of attention on today's date (deadlines, missing socle missions, thresholds…).
    warnings: Vec<AciContractWarning>,
    /// The contract year containing today; `null` before signature and after the last year.
    current_year: Option<u8>,
}

fn document(stored: StoredContract, rules: &RuleSet, today: NaiveDate) -> AciContractDocument {
    let contract = stored.contract;
    AciContractDocument {
        revision: stored.revision,
        updated_at: stored.updated_at,
        rule_set: AciContractRuleSet {
            name: rules.id.clone(),
            title: rules.title.clone(),
            contract_years: rules.contract_years,
        },
        size_class_at_signature: contract.size_at_signature(rules).number(),
        warnings: contract
            .check(rules, today)
            .into_iter()
            .map(|w| AciContractWarning {
                code: ident(&w.code),
                mission: w.mission.map(|m| m.as_str().to_owned()),
                fr: w.fr,
                en: w.en,
            })
            .collect(),
        current_year: contract.year_of(today, rules.contract_years),
        contract,
    }
}

/// A CPTS's ACI contract, its points of attention and the current contract year.
#[utoipa::path(get, path = "/api/v1/cpts/{id}/contract", tag = "aci", security(("bearer" = [])),
    params(("id" = String, Path, description = "CPTS identifier")),
    responses(
        (status = 200, body = AciContractDocument),
        (status = 401, body = ApiError),
        (status = 403, body = ApiError, description = "a role that may not read contracts (member professional, national observer)"),
        (status = 404, body = ApiError, description = "unknown CPTS, another tenant's, or `no_contract` when it has none yet"),
    ))]
pub async fn show_contract(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<AciContractDocument>, ApiError> {
    let c = ctx(&state, &principal, &headers);
    let (stored, rules) = open_contract(&c, &id).await?;
    Ok(Json(document(stored, rules, uc::today(&c))))
}

/// A contract to write.
#[derive(Deserialize, ToSchema)]
pub struct AciContractBody {
    /// `null` to create the contract; to replace it, the `revision` read.
    revision: Option<i64>,
    #[schema(value_type = AciContract)]
    contract: serde_json::Value,
}

/// Creates (`revision: null`) or replaces a CPTS's contract, all of it, if nobody wrote since
/// `revision` (coordinator and board of the CPTS). Refused with every reason at once when the
/// contract is invalid; warnings never block. Answers the contract as `GET` does.
#[utoipa::path(put, path = "/api/v1/cpts/{id}/contract", tag = "aci", security(("bearer" = [])),
    params(("id" = String, Path, description = "CPTS identifier")),
    request_body = AciContractBody,
    responses(
        (status = 201, body = AciContractDocument, description = "created (revision 1)"),
        (status = 200, body = AciContractDocument, description = "replaced"),
        (status = 401, body = ApiError),
        (status = 403, body = ApiError, description = "a role that may read but not write (ARS, CPAM, member…)"),
        (status = 404, body = ApiError, description = "unknown CPTS, another tenant's, or no contract to replace"),
        (status = 409, body = ApiError, description = "`revision` is stale (someone wrote since), or `null` while the CPTS has a contract"),
        (status = 422, body = ApiError, description = "`invalid_contract` with each problem in `details` (`code`, `path`, `en`, `fr`); `unknown_rule_set`; `invalid_body` when the JSON does not have the expected shape"),
    ))]
pub async fn put_contract(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Json<AciContractBody>, JsonRejection>,
) -> Result<(StatusCode, Json<AciContractDocument>), ApiError> {
    let Json(body) = body.map_err(bad_body)?;
    let c = ctx(&state, &principal, &headers);
    let mut value = body.contract;
    if let Some(fields) = value.as_object_mut() {
        fields.entry("cpts").or_insert_with(|| serde_json::Value::String(id.clone()));
    }
    let contract: Contract = serde_json::from_value(value).map_err(|e| {
        invalid("invalid_body", format!("contract: {e}"), format!("Le contrat envoyé n'est pas valide : {e}"))
    })?;
    let (status, detail) = match body.revision {
        None => (StatusCode::CREATED, "contrat saisi (API)"),
        Some(_) => (StatusCode::OK, "contrat remplacé (API)"),
    };
    uc::save_contract(&c, &id, contract, body.revision, detail).await?;
    let (stored, rules) = open_contract(&c, &id).await?;
    Ok((status, Json(document(stored, rules, uc::today(&c)))))
}

// ---------------------------------------------------------------------------------------------
// A contract year, the schedule

/// From the anniversary that opens a contract year (inclusive) to the one that closes it
/// (exclusive).
#[derive(Serialize, ToSchema)]
pub struct AciPeriod {
    start: NaiveDate,
    /// Exclusive.
    end: NaiveDate,
}

fn period(p: Option<Period>) -> Option<AciPeriod> {
    p.map(|p| AciPeriod { start: p.start, end: p.end })
}

/// What one contract year brings, envelope by envelope, each figure explained.
#[derive(Serialize, ToSchema)]
pub struct AciYearFunding {
    rule_set: String,
    contract_year: u8,
    /// Size class of the year, 1 to 4.
    #[schema(minimum = 1, maximum = 4)]
    size: u8,
    period: Option<AciPeriod>,
    /// Operating funding first, then the engaged missions.
    envelopes: Vec<AciEnvelope>,
    total_cents: i64,
    total_eur: String,
    /// The rule set's maximum for the year's size class.
    maximum_cents: i64,
    maximum_eur: String,
    /// How the size class was set.
    explanations: Vec<AciExplanation>,
}

impl From<&YearFunding> for AciYearFunding {
    fn from(y: &YearFunding) -> Self {
        Self {
            rule_set: y.rule_set.clone(),
            contract_year: y.contract_year,
            size: y.size.number(),
            period: period(y.period),
            envelopes: y.envelopes.iter().map(AciEnvelope::from).collect(),
            total_cents: y.total.cents(),
            total_eur: y.total.euros_decimal(),
            maximum_cents: y.maximum.cents(),
            maximum_eur: y.maximum.euros_decimal(),
            explanations: y.explanations.iter().map(AciExplanation::from).collect(),
        }
    }
}

/// A dated payment of the contract.
#[derive(Serialize, ToSchema)]
pub struct AciContractPayment {
    date: NaiveDate,
    /// The contract year the money is for.
    contract_year: u8,
    /// The envelope.
    mission: String,
    /// `at_signature`, `advance`, `balance`, `variable` or `crisis_occurrence`.
    kind: String,
    amount_cents: i64,
    /// The rule applied: key path in the rule-set file.
    rule: String,
    /// The date is today or past.
    due: bool,
}

fn payment(p: &Payment, today: NaiveDate) -> AciContractPayment {
    AciContractPayment {
        date: p.date,
        contract_year: p.contract_year,
        mission: p.mission.as_str().to_owned(),
        kind: ident(&p.kind),
        amount_cents: p.amount.cents(),
        rule: p.rule.clone(),
        due: p.date <= today,
    }
}

/// Spending in one expense category.
#[derive(Serialize, ToSchema)]
pub struct AciCategoryAmount {
    /// `coordination`, `indemnisation`, `prestation`, `fonctionnement`, `systeme_information`,
    /// `communication`, `formation`, `deplacement`, `evenement`, `autre`.
    category: String,
    amount_cents: i64,
}

fn by_category(amounts: &[CategoryAmount]) -> Vec<AciCategoryAmount> {
    amounts
        .iter()
        .map(|a| AciCategoryAmount { category: a.category.as_str().to_owned(), amount_cents: a.amount.cents() })
        .collect()
}

/// One envelope's entitlement for the year against what was spent.
#[derive(Serialize, ToSchema)]
pub struct AciEnvelopeBalance {
    mission: String,
    /// What the contract computes for the envelope this year (0 for spending on an envelope
    /// without funding).
    entitlement_cents: i64,
    spent_cents: i64,
    /// `entitlement − spent`; negative when overspent.
    left_cents: i64,
    /// `spent / entitlement`, at most `"100.00%"`; `null` when the entitlement is zero.
    consumed: Option<String>,
    /// More spent than the entitlement.
    over: bool,
    /// Number of expenses.
    expenses: usize,
    by_category: Vec<AciCategoryAmount>,
}

impl From<&EnvelopeBalance> for AciEnvelopeBalance {
    fn from(b: &EnvelopeBalance) -> Self {
        Self {
            mission: b.mission.as_str().to_owned(),
            entitlement_cents: b.entitlement.cents(),
            spent_cents: b.spent.cents(),
            left_cents: b.left.cents(),
            consumed: b.consumed.map(|r| r.percent_string()),
            over: b.over,
            expenses: b.expenses,
            by_category: by_category(&b.by_category),
        }
    }
}

/// Budget against actual for a contract year: each envelope, then the totals.
#[derive(Serialize, ToSchema)]
pub struct AciBalances {
    envelopes: Vec<AciEnvelopeBalance>,
    entitlement_cents: i64,
    spent_cents: i64,
    left_cents: i64,
    consumed: Option<String>,
    over: bool,
    /// Spending by category over all envelopes.
    by_category: Vec<AciCategoryAmount>,
}

impl From<&EnvelopeBalances> for AciBalances {
    fn from(b: &EnvelopeBalances) -> Self {
        Self {
            envelopes: b.envelopes.iter().map(AciEnvelopeBalance::from).collect(),
            entitlement_cents: b.entitlement.cents(),
            spent_cents: b.spent.cents(),
            left_cents: b.left.cents(),
            consumed: b.consumed.map(|r| r.percent_string()),
            over: b.over,
            by_category: by_category(&b.by_category),
        }
    }
}

/// One contract year: its funding, its payments, and what was spent against it.
#[derive(Serialize, ToSchema)]
pub struct AciContractYear {
    contract_year: u8,
    /// The contract year containing today, if the contract runs.
    current_year: Option<u8>,
    funding: AciYearFunding,
    /// The payments of the year's funding, by date (some fall in the next year).
    payments: Vec<AciContractPayment>,
    balances: AciBalances,
    /// The expenses dated within the year, by date.
    expenses: Vec<Expense>,
}

fn parse_year(text: &str, rules: &RuleSet) -> Result<u8, ApiError> {
    text.trim().parse::<u8>().ok().filter(|y| (1..=rules.contract_years).contains(y)).ok_or_else(|| {
        invalid(
            "year_out_of_range",
            format!("contract year `{text}` does not exist (1 to {})", rules.contract_years),
            format!("L'année « {text} » n'existe pas : le contrat compte les années 1 à {}.", rules.contract_years),
        )
    })
}

/// One contract year: the funding of each envelope with the explanation of every figure, the
/// payments of that funding, the balance per envelope (entitlement, spent, left) and the
/// expenses of the year.
#[utoipa::path(get, path = "/api/v1/cpts/{id}/contract/years/{year}", tag = "aci", security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "CPTS identifier"),
        ("year" = u8, Path, minimum = 1, maximum = 5, description = "contract year, 1 to the contract's length"),
    ),
    responses(
        (status = 200, body = AciContractYear),
        (status = 401, body = ApiError),
        (status = 403, body = ApiError),
        (status = 404, body = ApiError, description = "unknown CPTS, another tenant's, or `no_contract`"),
        (status = 422, body = ApiError, description = "`year_out_of_range`"),
    ))]
pub async fn contract_year(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path((id, year)): Path<(String, String)>,
) -> Result<Json<AciContractYear>, ApiError> {
    let c = ctx(&state, &principal, &headers);
    let (stored, rules) = open_contract(&c, &id).await?;
    let year = parse_year(&year, rules)?;
    let expenses = uc::expenses(&c, &id, DateRange::default()).await?;
    let today = uc::today(&c);
    let report = uc::report(rules, &stored.contract, &expenses, today, Some(year))?;
    Ok(Json(AciContractYear {
        contract_year: report.year,
        current_year: report.current_year,
        funding: AciYearFunding::from(&report.funding),
        payments: report.payments.iter().map(|p| payment(p, today)).collect(),
        balances: AciBalances::from(&report.balances),
        expenses: report.expenses,
    }))
}

/// The total of one contract year.
#[derive(Serialize, ToSchema)]
pub struct AciProjectionYear {
    contract_year: u8,
    period: Option<AciPeriod>,
    #[schema(minimum = 1, maximum = 4)]
    size: u8,
    total_cents: i64,
}

/// What one envelope brings over the whole contract.
#[derive(Serialize, ToSchema)]
pub struct AciMissionTotal {
    mission: String,
    total_cents: i64,
}

/// Every year of the contract with the indicators' results as recorded (a year without results
/// counts 0 % on its variable parts).
#[derive(Serialize, ToSchema)]
pub struct AciProjection {
    years: Vec<AciProjectionYear>,
    total_cents: i64,
    by_mission: Vec<AciMissionTotal>,
}

/// The payment calendar of the whole contract and its projection.
#[derive(Serialize, ToSchema)]
pub struct AciContractSchedule {
    /// By date: advances when a year opens or a mission starts, balances and variable parts at
    /// the anniversary that closes the year.
    payments: Vec<AciContractPayment>,
    /// Σ of the payments.
    total_cents: i64,
    projection: AciProjection,
}

/// The payment calendar of the whole contract (each payment dated, `due` when today or past)
/// and the projection of its years.
#[utoipa::path(get, path = "/api/v1/cpts/{id}/contract/schedule", tag = "aci", security(("bearer" = [])),
    params(("id" = String, Path, description = "CPTS identifier")),
    responses(
        (status = 200, body = AciContractSchedule),
        (status = 401, body = ApiError),
        (status = 403, body = ApiError),
        (status = 404, body = ApiError, description = "unknown CPTS, another tenant's, or `no_contract`"),
    ))]
pub async fn contract_schedule(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<AciContractSchedule>, ApiError> {
    let c = ctx(&state, &principal, &headers);
    let (stored, rules) = open_contract(&c, &id).await?;
    let today = uc::today(&c);
    // The schedule and the projection do not depend on the spending.
    let report = uc::report(rules, &stored.contract, &[], today, None)?;
    let p = &report.projection;
    Ok(Json(AciContractSchedule {
        payments: report.schedule.payments.iter().map(|x| payment(x, today)).collect(),
        total_cents: report.schedule.total.cents(),
        projection: AciProjection {
            years: p
                .years
                .iter()
                .map(|y| AciProjectionYear {
                    contract_year: y.contract_year,
                    period: period(y.period),
                    size: y.size.number(),
                    total_cents: y.total.cents(),
                })
                .collect(),
            total_cents: p.total.cents(),
            by_mission: p
                .by_mission
                .iter()
                .map(|m| AciMissionTotal { mission: m.mission.as_str().to_owned(), total_cents: m.total.cents() })
                .collect(),
        },
    }))
}

// ---------------------------------------------------------------------------------------------
// Spending

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExpenseRange {
    /// First day, inclusive (`YYYY-MM-DD`).
    #[param(format = Date)]
    from: Option<String>,
    /// Last day, exclusive (`YYYY-MM-DD`): a contract year is `from` = its start, `until` = its
    /// end.
    #[param(format = Date)]
    until: Option<String>,
}

fn query_date(name: &str, text: Option<&str>) -> Result<Option<NaiveDate>, ApiError> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => NaiveDate::parse_from_str(t, "%Y-%m-%d").map(Some).map_err(|_| {
            invalid(
                "invalid_date",
                format!("{name}: `{t}` is not a date (YYYY-MM-DD)"),
                format!("{name} : « {t} » n'est pas une date (AAAA-MM-JJ)."),
            )
        }),
    }
}

/// The expenses of a CPTS, by date: all of them, or those from `from` (inclusive) until `until`
/// (exclusive).
#[utoipa::path(get, path = "/api/v1/cpts/{id}/expenses", tag = "aci", security(("bearer" = [])),
    params(("id" = String, Path, description = "CPTS identifier"), ExpenseRange),
    responses(
        (status = 200, body = [Expense]),
        (status = 401, body = ApiError),
        (status = 403, body = ApiError),
        (status = 404, body = ApiError),
        (status = 422, body = ApiError, description = "`invalid_date`"),
    ))]
pub async fn list_expenses(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
    query: Result<Query<ExpenseRange>, QueryRejection>,
) -> Result<Json<Vec<Expense>>, ApiError> {
    let Query(q) =
        query.map_err(|e| invalid("invalid_parameters", e.body_text(), format!("Paramètres invalides : {e}")))?;
    let range =
        DateRange { from: query_date("from", q.from.as_deref())?, until: query_date("until", q.until.as_deref())? };
    let c = ctx(&state, &principal, &headers);
    Ok(Json(uc::expenses(&c, &id, range).await?))
}

/// Records an expense (coordinator and board of the CPTS). `id` is ignored: the answer gives the
/// new one.
#[utoipa::path(post, path = "/api/v1/cpts/{id}/expenses", tag = "aci", security(("bearer" = [])),
    params(("id" = String, Path, description = "CPTS identifier")),
    request_body = Expense,
    responses(
        (status = 201, body = Expense),
        (status = 401, body = ApiError),
        (status = 403, body = ApiError),
        (status = 404, body = ApiError),
        (status = 422, body = ApiError, description = "`invalid_expense` with each problem in `details` (`path` names the field); `invalid_body` when the JSON does not have the expected shape"),
    ))]
pub async fn create_expense(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Json<Expense>, JsonRejection>,
) -> Result<(StatusCode, Json<Expense>), ApiError> {
    let Json(mut expense) = body.map_err(bad_body)?;
    expense.id = String::new();
    let c = ctx(&state, &principal, &headers);
    Ok((StatusCode::CREATED, Json(uc::add_expense(&c, &id, expense).await?)))
}

/// Corrects an expense (coordinator and board of the CPTS); the `id` of the path wins over the
/// body's.
#[utoipa::path(put, path = "/api/v1/cpts/{id}/expenses/{expense_id}", tag = "aci", security(("bearer" = [])),
    params(("id" = String, Path, description = "CPTS identifier"), ("expense_id" = String, Path)),
    request_body = Expense,
    responses(
        (status = 200, body = Expense),
        (status = 401, body = ApiError),
        (status = 403, body = ApiError),
        (status = 404, body = ApiError, description = "unknown CPTS or expense"),
        (status = 422, body = ApiError, description = "`invalid_expense` with `details`; `invalid_body`"),
    ))]
pub async fn update_expense(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path((id, expense_id)): Path<(String, String)>,
    body: Result<Json<Expense>, JsonRejection>,
) -> Result<Json<Expense>, ApiError> {
    let Json(mut expense) = body.map_err(bad_body)?;
    expense.id = expense_id;
    let c = ctx(&state, &principal, &headers);
    uc::update_expense(&c, &id, expense.clone()).await?;
    Ok(Json(expense))
}

/// Deletes an expense (coordinator and board of the CPTS).
#[utoipa::path(delete, path = "/api/v1/cpts/{id}/expenses/{expense_id}", tag = "aci", security(("bearer" = [])),
    params(("id" = String, Path, description = "CPTS identifier"), ("expense_id" = String, Path)),
    responses(
        (status = 204, description = "deleted"),
        (status = 401, body = ApiError),
        (status = 403, body = ApiError),
        (status = 404, body = ApiError, description = "unknown CPTS or expense"),
    ))]
pub async fn delete_expense(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path((id, expense_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    uc::delete_expense(&ctx(&state, &principal, &headers), &id, &expense_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// What one member professional received in one calendar year, against that year's PASS.
#[derive(Serialize, ToSchema)]
pub struct AciAllowance {
    /// Calendar year of the payments.
    year: i32,
    /// As written on the latest expense of the year.
    payee: String,
    /// The RPPS number when the expenses give one (the key that merges spellings of a name).
    payee_rpps: Option<String>,
    total_cents: i64,
    /// The PASS of the year; `null` when the table does not know the year.
    cap_cents: Option<i64>,
    /// `total / cap`, at most `"100.00%"`.
    share_of_cap: Option<String>,
    /// What is left before the cap.
    remaining_cents: Option<i64>,
    /// What exceeds the cap (0 when within it; exactly the cap is allowed).
    over_cents: i64,
    over: bool,
    expense_ids: Vec<String>,
}

/// A member professional paid more than the PASS in a year, or in a year the table does not
/// know.
#[derive(Serialize, ToSchema)]
pub struct AciPassAlert {
    /// `pass_exceeded` or `pass_unknown_year`.
    code: String,
    year: i32,
    payee: String,
    payee_rpps: Option<String>,
    total_cents: i64,
    cap_cents: Option<i64>,
    over_cents: i64,
    expense_ids: Vec<String>,
    fr: String,
    en: String,
}

/// Allowances to member professionals against the yearly cap.
#[derive(Serialize, ToSchema)]
pub struct AciPassReport {
    /// The rule (décret n° 2022-375, art. D. 1434-44 CSP), in French.
    rule: String,
    rule_source: String,
    /// Per calendar year, then payee.
    allowances: Vec<AciAllowance>,
    alerts: Vec<AciPassAlert>,
}

/// Allowances (`indemnisation` to a `professionnel_membre`) per member professional and calendar
/// year, against the *plafond annuel de la sécurité sociale*, and the alerts.
#[utoipa::path(get, path = "/api/v1/cpts/{id}/expenses/pass", tag = "aci", security(("bearer" = [])),
    params(("id" = String, Path, description = "CPTS identifier")),
    responses(
        (status = 200, body = AciPassReport),
        (status = 401, body = ApiError),
        (status = 403, body = ApiError),
        (status = 404, body = ApiError),
    ))]
pub async fn pass(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<AciPassReport>, ApiError> {
    let c = ctx(&state, &principal, &headers);
    let expenses = uc::expenses(&c, &id, DateRange::default()).await?;
    let table = uc::pass_table()?;
    let cents = |x: Option<maillage_core::aci::Cents>| x.map(|x| x.cents());
    Ok(Json(AciPassReport {
        rule: table.rule.clone(),
        rule_source: table.rule_source.clone(),
        allowances: spending::allowances_by_professional(&expenses, table)
            .into_iter()
            .map(|a| AciAllowance {
                over: a.is_over(),
                year: a.year,
                payee: a.payee,
                payee_rpps: a.payee_rpps,
                total_cents: a.total.cents(),
                cap_cents: cents(a.cap),
                share_of_cap: a.share_of_cap.map(|r| r.percent_string()),
                remaining_cents: cents(a.remaining),
                over_cents: a.over.cents(),
                expense_ids: a.expense_ids,
            })
            .collect(),
        alerts: spending::pass_alerts(&expenses, table)
            .into_iter()
            .map(|a| AciPassAlert {
                code: a.code().to_owned(),
                fr: a.fr(),
                en: a.en(),
                year: a.year,
                payee: a.payee,
                payee_rpps: a.payee_rpps,
                total_cents: a.total.cents(),
                cap_cents: cents(a.cap),
                over_cents: a.over.cents(),
                expense_ids: a.expense_ids,
            })
            .collect(),
    }))
}

#[cfg(test)]
mod tests {
    use super::doc::*;
    use super::*;
    use maillage_core::aci::{CrisisDeclaration, EngagedMission, Indicator, IndicatorKind, IndicatorResult, MissionId};
    use serde_json::json;
    use std::collections::{BTreeMap, BTreeSet};
    use utoipa::PartialSchema;

    fn properties<S: PartialSchema>() -> BTreeSet<String> {
        let schema = serde_json::to_value(S::schema()).unwrap();
        schema["properties"].as_object().unwrap().keys().cloned().collect()
    }

    fn keys(v: &serde_json::Value) -> BTreeSet<String> {
        v.as_object().unwrap().keys().cloned().collect()
    }

    /// The documented contract has exactly the fields the domain type reads and writes.
    #[test]
    fn contract_documentation_matches_its_json() {
        let day = |d| NaiveDate::from_ymd_opt(2024, 3, d).unwrap();
        let rules = maillage_core::aci::rules::embedded("avenant-2").unwrap();
        let mut contract = Contract::new("x", day(15), rules, 52_000);
        contract.population_updates.push(maillage_core::aci::PopulationUpdate { known_on: day(20), population: 1 });
        contract.missions.push(EngagedMission {
            mission: MissionId::Crise,
            started_on: Some(day(16)),
            deployed_on: None,
            indicators: vec![Indicator {
                name: "n".into(),
                kind: IndicatorKind::Action,
                baseline: 0,
                targets: BTreeMap::from([(1, 1)]),
                weight: 1,
                results: BTreeMap::from([(1, IndicatorResult { achieved: 1, evidence: vec!["e".into()] })]),
            }],
            crises: vec![CrisisDeclaration { declared_on: day(17), name: "c".into() }],
        });
        let json = serde_json::to_value(&contract).unwrap();
        let mission = &json["missions"][0];
        let indicator = &mission["indicators"][0];
        assert_eq!(keys(&json), properties::<AciContract>());
        assert_eq!(keys(&json["population_updates"][0]), properties::<AciPopulationUpdate>());
        assert_eq!(keys(mission), properties::<AciEngagedMission>());
        assert_eq!(keys(indicator), properties::<AciIndicator>());
        assert_eq!(keys(&indicator["results"]["1"]), properties::<AciIndicatorResult>());
        assert_eq!(keys(&mission["crises"][0]), properties::<AciCrisis>());
        let names = serde_json::to_value(AciMissionName::schema()).unwrap()["enum"].clone();
        assert_eq!(names, serde_json::to_value(MissionId::ALL).unwrap());
        let kinds = serde_json::to_value(AciIndicatorKind::schema()).unwrap()["enum"].clone();
        assert_eq!(kinds, json!([IndicatorKind::Action, IndicatorKind::Result]));
    }
}
