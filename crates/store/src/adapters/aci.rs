//! ACI contract and spending SQL. A contract is read from its tables into the domain type and
//! written back whole, in one transaction with its audit event.

use super::{PgStore, SqliteStore, Store, conflict_or, corrupt, delegate, settle};
use crate::model::{AuditEvent, CptsId, DateRange, StoredContract};
use crate::{AciStore, StoreError, StoreResult};
use chrono::{DateTime, Utc};
use maillage_core::aci::spending::Expense;
use maillage_core::aci::{
    Cents, Contract, CrisisDeclaration, EngagedMission, Indicator, IndicatorKind, IndicatorResult, MissionId,
    PopulationUpdate,
};
use sqlx::Row;
use std::collections::BTreeMap;

fn mission(s: &str) -> StoreResult<MissionId> {
    s.parse().map_err(corrupt)
}

fn kind_str(kind: IndicatorKind) -> &'static str {
    match kind {
        IndicatorKind::Action => "action",
        IndicatorKind::Result => "result",
    }
}

fn kind(s: &str) -> StoreResult<IndicatorKind> {
    match s {
        "action" => Ok(IndicatorKind::Action),
        "result" => Ok(IndicatorKind::Result),
        other => Err(corrupt(format!("indicator kind {other:?}"))),
    }
}

fn int<T: TryInto<i64> + Copy + std::fmt::Display>(v: T, what: &str) -> StoreResult<i64> {
    v.try_into().map_err(|_| StoreError::Conflict(format!("{what} {v} is out of range")))
}

fn year_of(v: i64) -> StoreResult<u8> {
    u8::try_from(v).map_err(|_| corrupt(format!("contract year {v}")))
}

fn position_of(v: usize) -> StoreResult<i64> {
    i64::try_from(v).map_err(|_| StoreError::Conflict("too many rows".into()))
}

fn new_expense_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

macro_rules! aci_sql {
    ($store:ty, $row:ty) => {
        impl $store {
            fn expense_from_row(r: &$row) -> StoreResult<Expense> {
                let amount: i64 = r.try_get("amount_cents")?;
                let envelope: String = r.try_get("envelope")?;
                let category: String = r.try_get("category")?;
                let payee_kind: String = r.try_get("payee_kind")?;
                Ok(Expense {
                    id: r.try_get("id")?,
                    spent_on: r.try_get("spent_on")?,
                    envelope: mission(&envelope)?,
                    category: category.parse().map_err(corrupt)?,
                    payee_kind: payee_kind.parse().map_err(corrupt)?,
                    payee: r.try_get("payee")?,
                    payee_rpps: r.try_get("payee_rpps")?,
                    amount: Cents(amount),
                    receipt: r.try_get("receipt")?,
                    note: r.try_get("note")?,
                })
            }
        }

        impl AciStore for $store {
            async fn get_contract(&self, cpts: &CptsId) -> StoreResult<Option<StoredContract>> {
                let id = cpts.as_str();
                let Some(head) = sqlx::query(
                    "SELECT signed_on, rule_set, population_at_signature, revision, updated_at
                     FROM aci_contract WHERE cpts_id = $1",
                )
                .bind(id)
                .fetch_optional(&self.pool)
                .await?
                else {
                    return Ok(None);
                };
                let population: i64 = head.try_get("population_at_signature")?;
                let mut contract = Contract {
                    cpts: id.to_owned(),
                    signed_on: head.try_get("signed_on")?,
                    rule_set: head.try_get("rule_set")?,
                    population_at_signature: u64::try_from(population).map_err(corrupt)?,
                    population_updates: Vec::new(),
                    missions: Vec::new(),
                };
                for r in sqlx::query(
                    "SELECT known_on, population FROM aci_population_update WHERE cpts_id = $1 ORDER BY known_on",
                )
                .bind(id)
                .fetch_all(&self.pool)
                .await?
                {
                    let population: i64 = r.try_get("population")?;
                    contract.population_updates.push(PopulationUpdate {
                        known_on: r.try_get("known_on")?,
                        population: u64::try_from(population).map_err(corrupt)?,
                    });
                }
                let mut missions: BTreeMap<MissionId, EngagedMission> = BTreeMap::new();
                for r in sqlx::query("SELECT mission, started_on, deployed_on FROM aci_mission WHERE cpts_id = $1")
                    .bind(id)
                    .fetch_all(&self.pool)
                    .await?
                {
                    let m: String = r.try_get("mission")?;
                    let m = mission(&m)?;
                    missions.insert(
                        m,
                        EngagedMission {
                            mission: m,
                            started_on: r.try_get("started_on")?,
                            deployed_on: r.try_get("deployed_on")?,
                            indicators: Vec::new(),
                            crises: Vec::new(),
                        },
                    );
                }
                // (mission, position) -> indicator, in position order.
                let mut indicators: BTreeMap<(MissionId, i64), Indicator> = BTreeMap::new();
                for r in sqlx::query(
                    "SELECT mission, position, name, kind, baseline, weight FROM aci_indicator WHERE cpts_id = $1",
                )
                .bind(id)
                .fetch_all(&self.pool)
                .await?
                {
                    let m: String = r.try_get("mission")?;
                    let k: String = r.try_get("kind")?;
                    let weight: i64 = r.try_get("weight")?;
                    indicators.insert(
                        (mission(&m)?, r.try_get("position")?),
                        Indicator {
                            name: r.try_get("name")?,
                            kind: kind(&k)?,
                            baseline: r.try_get("baseline")?,
                            targets: BTreeMap::new(),
                            weight: u32::try_from(weight).map_err(corrupt)?,
                            results: BTreeMap::new(),
                        },
                    );
                }
                for r in sqlx::query(
                    "SELECT mission, position, year, target, achieved FROM aci_indicator_year WHERE cpts_id = $1",
                )
                .bind(id)
                .fetch_all(&self.pool)
                .await?
                {
                    let m: String = r.try_get("mission")?;
                    let key = (mission(&m)?, r.try_get::<i64, _>("position")?);
                    let indicator = indicators.get_mut(&key).ok_or_else(|| corrupt("indicator year without indicator"))?;
                    let year = year_of(r.try_get("year")?)?;
                    if let Some(target) = r.try_get::<Option<i64>, _>("target")? {
                        indicator.targets.insert(year, target);
                    }
                    if let Some(achieved) = r.try_get::<Option<i64>, _>("achieved")? {
                        indicator.results.insert(year, IndicatorResult { achieved, evidence: Vec::new() });
                    }
                }
                for r in sqlx::query(
                    "SELECT mission, position, year, reference FROM aci_evidence WHERE cpts_id = $1
                     ORDER BY mission, position, year, seq",
                )
                .bind(id)
                .fetch_all(&self.pool)
                .await?
                {
                    let m: String = r.try_get("mission")?;
                    let key = (mission(&m)?, r.try_get::<i64, _>("position")?);
                    let year = year_of(r.try_get("year")?)?;
                    let result = indicators
                        .get_mut(&key)
                        .and_then(|i| i.results.get_mut(&year))
                        .ok_or_else(|| corrupt("evidence without a result"))?;
                    result.evidence.push(r.try_get("reference")?);
                }
                for ((m, _), indicator) in indicators {
                    missions
                        .get_mut(&m)
                        .ok_or_else(|| corrupt("indicator without mission"))?
                        .indicators
                        .push(indicator);
                }
                for r in sqlx::query(
                    "SELECT mission, declared_on, name FROM aci_crisis WHERE cpts_id = $1 ORDER BY mission, position",
                )
                .bind(id)
                .fetch_all(&self.pool)
                .await?
                {
                    let m: String = r.try_get("mission")?;
                    missions
                        .get_mut(&mission(&m)?)
                        .ok_or_else(|| corrupt("crisis without mission"))?
                        .crises
                        .push(CrisisDeclaration { declared_on: r.try_get("declared_on")?, name: r.try_get("name")? });
                }
                contract.missions = missions.into_values().collect();
                Ok(Some(StoredContract {
                    contract,
                    revision: head.try_get("revision")?,
                    updated_at: head.try_get("updated_at")?,
                }))
            }

            async fn put_contract(
                &self,
                cpts: &CptsId,
                c: &Contract,
                expected_revision: Option<i64>,
                now: DateTime<Utc>,
                audit: &AuditEvent,
            ) -> StoreResult<i64> {
                let id = cpts.as_str();
                let population = int(c.population_at_signature, "population")?;
                let mut tx = self.pool.begin().await?;
                let result = async {
                    let revision = match expected_revision {
                        None => {
                            sqlx::query(
                                "INSERT INTO aci_contract (cpts_id, signed_on, rule_set, population_at_signature,
                                                           revision, updated_at)
                                 VALUES ($1, $2, $3, $4, 1, $5)",
                            )
                            .bind(id)
                            .bind(c.signed_on)
                            .bind(&c.rule_set)
                            .bind(population)
                            .bind(now)
                            .execute(&mut *tx)
                            .await
                            .map_err(|e| conflict_or(e, "this CPTS has a contract already"))?;
                            1
                        }
                        Some(expected) => {
                            let done = sqlx::query(
                                "UPDATE aci_contract SET signed_on = $3, rule_set = $4, population_at_signature = $5,
                                        revision = revision + 1, updated_at = $6
                                 WHERE cpts_id = $1 AND revision = $2",
                            )
                            .bind(id)
                            .bind(expected)
                            .bind(c.signed_on)
                            .bind(&c.rule_set)
                            .bind(population)
                            .bind(now)
                            .execute(&mut *tx)
                            .await?;
                            if done.rows_affected() == 0 {
                                let found: Option<i64> =
                                    sqlx::query_scalar("SELECT revision FROM aci_contract WHERE cpts_id = $1")
                                        .bind(id)
                                        .fetch_optional(&mut *tx)
                                        .await?;
                                return Err(match found {
                                    Some(found) => StoreError::Stale { expected, found },
                                    None => StoreError::NotFound,
                                });
                            }
                            sqlx::query("DELETE FROM aci_population_update WHERE cpts_id = $1")
                                .bind(id)
                                .execute(&mut *tx)
                                .await?;
                            // Cascades to indicators, their years and evidence, and crises.
                            sqlx::query("DELETE FROM aci_mission WHERE cpts_id = $1").bind(id).execute(&mut *tx).await?;
                            expected + 1
                        }
                    };
                    for u in &c.population_updates {
                        sqlx::query("INSERT INTO aci_population_update (cpts_id, known_on, population) VALUES ($1, $2, $3)")
                            .bind(id)
                            .bind(u.known_on)
                            .bind(int(u.population, "population")?)
                            .execute(&mut *tx)
                            .await
                            .map_err(|e| conflict_or(e, &format!("two populations known on {}", u.known_on)))?;
                    }
                    for m in &c.missions {
                        let name = m.mission.as_str();
                        sqlx::query(
                            "INSERT INTO aci_mission (cpts_id, mission, started_on, deployed_on) VALUES ($1, $2, $3, $4)",
                        )
                        .bind(id)
                        .bind(name)
                        .bind(m.started_on)
                        .bind(m.deployed_on)
                        .execute(&mut *tx)
                        .await
                        .map_err(|e| conflict_or(e, &format!("mission {name} listed twice")))?;
                        for (position, i) in m.indicators.iter().enumerate() {
                            let position = position_of(position)?;
                            sqlx::query(
                                "INSERT INTO aci_indicator (cpts_id, mission, position, name, kind, baseline, weight)
                                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                            )
                            .bind(id)
                            .bind(name)
                            .bind(position)
                            .bind(&i.name)
                            .bind(kind_str(i.kind))
                            .bind(i.baseline)
                            .bind(i64::from(i.weight))
                            .execute(&mut *tx)
                            .await?;
                            let years: std::collections::BTreeSet<u8> =
                                i.targets.keys().chain(i.results.keys()).copied().collect();
                            for year in years {
                                let result = i.results.get(&year);
                                sqlx::query(
                                    "INSERT INTO aci_indicator_year (cpts_id, mission, position, year, target, achieved)
                                     VALUES ($1, $2, $3, $4, $5, $6)",
                                )
                                .bind(id)
                                .bind(name)
                                .bind(position)
                                .bind(i64::from(year))
                                .bind(i.targets.get(&year).copied())
                                .bind(result.map(|r| r.achieved))
                                .execute(&mut *tx)
                                .await?;
                                for (seq, reference) in result.map(|r| r.evidence.as_slice()).unwrap_or_default().iter().enumerate() {
                                    sqlx::query(
                                        "INSERT INTO aci_evidence (cpts_id, mission, position, year, seq, reference)
                                         VALUES ($1, $2, $3, $4, $5, $6)",
                                    )
                                    .bind(id)
                                    .bind(name)
                                    .bind(position)
                                    .bind(i64::from(year))
                                    .bind(position_of(seq)?)
                                    .bind(reference)
                                    .execute(&mut *tx)
                                    .await?;
                                }
                            }
                        }
                        for (position, crisis) in m.crises.iter().enumerate() {
                            sqlx::query(
                                "INSERT INTO aci_crisis (cpts_id, mission, position, declared_on, name)
                                 VALUES ($1, $2, $3, $4, $5)",
                            )
                            .bind(id)
                            .bind(name)
                            .bind(position_of(position)?)
                            .bind(crisis.declared_on)
                            .bind(&crisis.name)
                            .execute(&mut *tx)
                            .await?;
                        }
                    }
                    Self::insert_audit(&mut tx, audit).await?;

                    Ok(revision)
                }
                .await;
                settle(tx, result).await
            }

            async fn add_expense(
                &self,
                cpts: &CptsId,
                e: &Expense,
                now: DateTime<Utc>,
                audit: &AuditEvent,
            ) -> StoreResult<Expense> {
                let mut stored = e.clone();
                stored.id = new_expense_id();
                let mut tx = self.pool.begin().await?;
                let result = async {
                    sqlx::query(
                        "INSERT INTO aci_expense (cpts_id, id, spent_on, envelope, category, payee_kind, payee, payee_rpps,
                                                  amount_cents, receipt, note, created_at, updated_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)",
                    )
                    .bind(cpts.as_str())
                    .bind(&stored.id)
                    .bind(e.spent_on)
                    .bind(e.envelope.as_str())
                    .bind(e.category.as_str())
                    .bind(e.payee_kind.as_str())
                    .bind(&e.payee)
                    .bind(e.payee_rpps.as_deref())
                    .bind(e.amount.cents())
                    .bind(&e.receipt)
                    .bind(&e.note)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                    let mut audit = audit.clone();
                    if audit.object_id.is_empty() {
                        audit.object_id = stored.id.clone();
                    }
                    Self::insert_audit(&mut tx, &audit).await?;

                    Ok(stored)
                }
                .await;
                settle(tx, result).await
            }

            async fn update_expense(
                &self,
                cpts: &CptsId,
                e: &Expense,
                now: DateTime<Utc>,
                audit: &AuditEvent,
            ) -> StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                let result = async {
                    let done = sqlx::query(
                        "UPDATE aci_expense SET spent_on = $3, envelope = $4, category = $5, payee_kind = $6, payee = $7,
                                payee_rpps = $8, amount_cents = $9, receipt = $10, note = $11, updated_at = $12
                         WHERE cpts_id = $1 AND id = $2",
                    )
                    .bind(cpts.as_str())
                    .bind(&e.id)
                    .bind(e.spent_on)
                    .bind(e.envelope.as_str())
                    .bind(e.category.as_str())
                    .bind(e.payee_kind.as_str())
                    .bind(&e.payee)
                    .bind(e.payee_rpps.as_deref())
                    .bind(e.amount.cents())
                    .bind(&e.receipt)
                    .bind(&e.note)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                    if done.rows_affected() == 0 {
                        return Err(StoreError::NotFound);
                    }
                    Self::insert_audit(&mut tx, audit).await?;

                    Ok(())
                }
                .await;
                settle(tx, result).await
            }

            async fn delete_expense(&self, cpts: &CptsId, id: &str, audit: &AuditEvent) -> StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                let result = async {
                    let done = sqlx::query("DELETE FROM aci_expense WHERE cpts_id = $1 AND id = $2")
                        .bind(cpts.as_str())
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    if done.rows_affected() == 0 {
                        return Err(StoreError::NotFound);
                    }
                    Self::insert_audit(&mut tx, audit).await?;

                    Ok(())
                }
                .await;
                settle(tx, result).await
            }

            async fn get_expense(&self, cpts: &CptsId, id: &str) -> StoreResult<Expense> {
                let row = sqlx::query(
                    "SELECT id, spent_on, envelope, category, payee_kind, payee, payee_rpps, amount_cents, receipt, note
                     FROM aci_expense WHERE cpts_id = $1 AND id = $2",
                )
                .bind(cpts.as_str())
                .bind(id)
                .fetch_optional(&self.pool)
                .await?
                .ok_or(StoreError::NotFound)?;
                Self::expense_from_row(&row)
            }

            async fn list_expenses(&self, cpts: &CptsId, range: DateRange) -> StoreResult<Vec<Expense>> {
                let rows = sqlx::query(
                    "SELECT id, spent_on, envelope, category, payee_kind, payee, payee_rpps, amount_cents, receipt, note
                     FROM aci_expense
                     WHERE cpts_id = $1 AND ($2 IS NULL OR spent_on >= $2) AND ($3 IS NULL OR spent_on < $3)
                     ORDER BY spent_on, id",
                )
                .bind(cpts.as_str())
                .bind(range.from)
                .bind(range.until)
                .fetch_all(&self.pool)
                .await?;
                rows.iter().map(Self::expense_from_row).collect()
            }
        }
    };
}

aci_sql!(SqliteStore, sqlx::sqlite::SqliteRow);
aci_sql!(PgStore, sqlx::postgres::PgRow);

impl AciStore for Store {
    async fn get_contract(&self, cpts: &CptsId) -> StoreResult<Option<StoredContract>> {
        delegate!(self, s => s.get_contract(cpts))
    }
    async fn put_contract(
        &self,
        cpts: &CptsId,
        contract: &Contract,
        expected_revision: Option<i64>,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> StoreResult<i64> {
        delegate!(self, s => s.put_contract(cpts, contract, expected_revision, now, audit))
    }
    async fn add_expense(
        &self,
        cpts: &CptsId,
        e: &Expense,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> StoreResult<Expense> {
        delegate!(self, s => s.add_expense(cpts, e, now, audit))
    }
    async fn update_expense(
        &self,
        cpts: &CptsId,
        e: &Expense,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> StoreResult<()> {
        delegate!(self, s => s.update_expense(cpts, e, now, audit))
    }
    async fn delete_expense(&self, cpts: &CptsId, id: &str, audit: &AuditEvent) -> StoreResult<()> {
        delegate!(self, s => s.delete_expense(cpts, id, audit))
    }
    async fn get_expense(&self, cpts: &CptsId, id: &str) -> StoreResult<Expense> {
        delegate!(self, s => s.get_expense(cpts, id))
    }
    async fn list_expenses(&self, cpts: &CptsId, range: DateRange) -> StoreResult<Vec<Expense>> {
        delegate!(self, s => s.list_expenses(cpts, range))
    }
}
