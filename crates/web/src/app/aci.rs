//! The ACI contract of a CPTS and its spending: read by its coordinator and board and by the
//! ARS and CPAM of its région (who signed it); changed by its coordinator and board. Every
//! change is validated by the domain and committed together with its audit event.

use super::{Ctx, Need, load_cpts, regions_of, territory_of};
use crate::error::{ErrorDetail, Failure};
use chrono::NaiveDate;
use maillage_core::access::{Action, CptsScope};
use maillage_core::aci::contract::ContractError;
use maillage_core::aci::spending::{self, EnvelopeBalances, Expense, PassAlert, PassTable};
use maillage_core::aci::{
    self, Assumptions, Contract, ContractWarning, Payment, Projection, RuleSet, Schedule, YearFunding,
};
use maillage_store::{AciStore, Cpts, DateRange, StoredContract};

/// An embedded rule set by id, or a French "unknown" listing the known ones.
pub fn rule_set(id: &str) -> Result<&'static RuleSet, Failure> {
    aci::rules::embedded(id).map_err(|e| {
        let known = rule_sets().map(|all| all.iter().map(|r| r.id.as_str()).collect::<Vec<_>>().join(", "));
        Failure::invalid(
            "unknown_rule_set",
            format!("Texte conventionnel inconnu : « {id} » (textes connus : {}).", known.unwrap_or_default()),
            e.to_string(),
        )
    })
}

pub fn rule_sets() -> Result<&'static [RuleSet], Failure> {
    aci::rules::embedded_all().map_err(|e| Failure::Internal(format!("embedded rule sets: {e}")))
}

pub fn pass_table() -> Result<&'static PassTable, Failure> {
    PassTable::embedded().map_err(|e| Failure::Internal(format!("embedded PASS table: {e}")))
}

/// One CPTS's contract as its reader may see it.
pub struct ContractFile {
    pub cpts: Cpts,
    /// Population of the territory today (reference data): the default at signature.
    pub population_now: u64,
    pub stored: Option<StoredContract>,
    pub can_edit: bool,
}

impl ContractFile {
    pub fn rules(&self) -> Result<Option<&'static RuleSet>, Failure> {
        self.stored.as_ref().map(|s| rule_set(&s.contract.rule_set)).transpose()
    }
}

pub async fn open(ctx: &Ctx<'_>, id: &str) -> Result<ContractFile, Failure> {
    let cpts = load_cpts(ctx, id, Need::Contract).await?;
    let regions = regions_of(ctx.state, &cpts.communes);
    let can_edit = ctx.allow(Action::EditCpts(CptsScope { id: &cpts.id, regions: &regions })).is_ok();
    let population_now = territory_of(ctx.state, &cpts)?.map_or(0, |t| t.population());
    let stored = ctx.state.store.get_contract(&cpts.id).await?;
    Ok(ContractFile { cpts, population_now, stored, can_edit })
}

fn invalid_contract(errors: Vec<ContractError>) -> Failure {
    let fr: Vec<String> = errors.iter().map(|e| e.fr.clone()).collect();
    let en: Vec<String> = errors.iter().map(|e| format!("{}: {}", e.path, e.en)).collect();
    Failure::invalid("invalid_contract", format!("Contrat non enregistré : {}.", fr.join(" ; ")), en.join("; "))
        .with_details(errors.into_iter().map(|e| ErrorDetail { code: e.code, path: e.path, en: e.en, fr: e.fr }))
}

/// Writes a whole contract (`expected_revision`: `None` to create it). Returns the new revision.
pub async fn save_contract(
    ctx: &Ctx<'_>,
    id: &str,
    mut contract: Contract,
    expected_revision: Option<i64>,
    detail: &str,
) -> Result<i64, Failure> {
    let cpts = load_cpts(ctx, id, Need::Edit).await?;
    let rules = rule_set(&contract.rule_set)?;
    contract.cpts = cpts.id.to_string();
    contract.validate(rules).map_err(invalid_contract)?;
    let action = if expected_revision.is_some() { "update" } else { "create" };
    let event = ctx.event(Some(&cpts.id), action, "aci_contract", cpts.id.as_str(), detail);
    Ok(ctx.state.store.put_contract(&cpts.id, &contract, expected_revision, ctx.state.now(), &event).await?)
}

/// Reads the contract at `revision`, changes it with `change`, writes it back: the write is
/// refused if someone else wrote in between.
pub async fn edit_contract(
    ctx: &Ctx<'_>,
    id: &str,
    revision: i64,
    detail: &str,
    change: impl FnOnce(&mut Contract) -> Result<(), Failure>,
) -> Result<i64, Failure> {
    let cpts = load_cpts(ctx, id, Need::Edit).await?;
    let stored = ctx.state.store.get_contract(&cpts.id).await?.ok_or_else(|| {
        Failure::invalid("no_contract", "Cette CPTS n'a pas encore de contrat.", "this CPTS has no contract yet")
    })?;
    if stored.revision != revision {
        return Err(maillage_store::StoreError::Stale { expected: revision, found: stored.revision }.into());
    }
    let mut contract = stored.contract;
    change(&mut contract)?;
    save_contract(ctx, id, contract, Some(revision), detail).await
}

/// Today for the contract's deadlines and current year.
pub fn today(ctx: &Ctx<'_>) -> NaiveDate {
    ctx.state.now().date_naive()
}

/// Everything the contract page shows, computed from the contract and the spending.
pub struct ContractReport {
    pub warnings: Vec<ContractWarning>,
    /// The contract year containing today, if the contract runs.
    pub current_year: Option<u8>,
    /// The year shown.
    pub year: u8,
    pub funding: YearFunding,
    pub payments: Vec<Payment>,
    pub balances: EnvelopeBalances,
    /// Expenses of the year shown.
    pub expenses: Vec<Expense>,
    pub projection: Projection,
    pub schedule: Schedule,
    pub pass_alerts: Vec<PassAlert>,
}

/// Pure: the report of `year` (default: the current year, or 1 before the contract starts).
pub fn report(
    rules: &RuleSet,
    contract: &Contract,
    expenses: &[Expense],
    today: NaiveDate,
    year: Option<u8>,
) -> Result<ContractReport, Failure> {
    let current_year = contract.year_of(today, rules.contract_years);
    let year = year.or(current_year).unwrap_or(if today < contract.signed_on { 1 } else { rules.contract_years });
    if !(1..=rules.contract_years).contains(&year) {
        return Err(Failure::invalid(
            "year_out_of_range",
            format!("L'année {year} n'existe pas : le contrat compte les années 1 à {}.", rules.contract_years),
            format!("contract year {year} does not exist (1 to {})", rules.contract_years),
        ));
    }
    let compute = |e: aci::ComputeError| Failure::Internal(format!("contract computation: {e}"));
    let assumptions = Assumptions::default();
    let funding = aci::year_funding(rules, contract, year, &assumptions).map_err(compute)?;
    let payments = aci::payments_for_year(rules, contract, &funding);
    let in_year = spending::expenses_in_contract_year(contract, year, expenses);
    let balances = spending::envelope_balances(&funding, &in_year);
    let projection = aci::projection(rules, contract, &assumptions).map_err(compute)?;
    let schedule = aci::payment_schedule(rules, contract, &assumptions).map_err(compute)?;
    let pass_alerts = spending::pass_alerts(expenses, pass_table()?);
    Ok(ContractReport {
        warnings: contract.check(rules, today),
        current_year,
        year,
        funding,
        payments,
        balances,
        expenses: in_year,
        projection,
        schedule,
        pass_alerts,
    })
}

/// The spending of a CPTS, all of it or within a date range.
pub async fn expenses(ctx: &Ctx<'_>, id: &str, range: DateRange) -> Result<Vec<Expense>, Failure> {
    let cpts = load_cpts(ctx, id, Need::Contract).await?;
    Ok(ctx.state.store.list_expenses(&cpts.id, range).await?)
}

fn invalid_expense(errors: Vec<spending::ExpenseError>) -> Failure {
    let fr: Vec<String> = errors.iter().map(|e| e.fr()).collect();
    let en: Vec<String> = errors.iter().map(|e| format!("{}: {}", e.field(), e.en())).collect();
    Failure::invalid("invalid_expense", format!("Dépense non enregistrée : {}.", fr.join(" ; ")), en.join("; "))
        .with_details(errors.iter().map(|e| ErrorDetail {
            code: e.code(),
            path: e.field().to_owned(),
            en: e.en(),
            fr: e.fr(),
        }))
}

fn describe(e: &Expense) -> String {
    format!("{} {} € — {} — {}", e.spent_on, e.amount.euros_decimal(), e.envelope, e.category.as_str())
}

pub async fn add_expense(ctx: &Ctx<'_>, id: &str, expense: Expense) -> Result<Expense, Failure> {
    let cpts = load_cpts(ctx, id, Need::Edit).await?;
    expense.validate().map_err(invalid_expense)?;
    let event = ctx.event(Some(&cpts.id), "create", "aci_expense", "", describe(&expense));
    Ok(ctx.state.store.add_expense(&cpts.id, &expense, ctx.state.now(), &event).await?)
}

pub async fn update_expense(ctx: &Ctx<'_>, id: &str, expense: Expense) -> Result<(), Failure> {
    let cpts = load_cpts(ctx, id, Need::Edit).await?;
    expense.validate().map_err(invalid_expense)?;
    let event = ctx.event(Some(&cpts.id), "update", "aci_expense", &expense.id, describe(&expense));
    Ok(ctx.state.store.update_expense(&cpts.id, &expense, ctx.state.now(), &event).await?)
}

pub async fn delete_expense(ctx: &Ctx<'_>, id: &str, expense_id: &str) -> Result<(), Failure> {
    let cpts = load_cpts(ctx, id, Need::Edit).await?;
    let old = ctx.state.store.get_expense(&cpts.id, expense_id).await?;
    let event = ctx.event(Some(&cpts.id), "delete", "aci_expense", expense_id, describe(&old));
    Ok(ctx.state.store.delete_expense(&cpts.id, expense_id, &event).await?)
}
