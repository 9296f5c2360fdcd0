//! National observatory SQL: the registry of every CPTS with its dated states, and the task
//! forces of the zones blanches with their actions.

use super::{PgStore, SqliteStore, Store, conflict_or, corrupt, delegate, settle};
use crate::model::AuditEvent;
use crate::national::{NationalStore, StoredTaskForce};
use crate::{StoreError, StoreResult};
use chrono::{DateTime, NaiveDate, Utc};
use maillage_core::access::Agency;
use maillage_core::ids::{Finess, InseeCode, Siren};
use maillage_core::national::registry::{CptsState, RegisteredCpts, StateChange};
use maillage_core::national::taskforce::{Action, TaskForce, TaskForceStatus};
use sqlx::Row;
use std::collections::HashMap;

/// Rows per multi-row `INSERT` when writing the registry: about a thousand CPTS and a few
/// thousand states, which one statement per row would turn into thousands of round trips
/// inside the transaction. 100 rows stay far below both engines' limits on bound parameters.
const BATCH: usize = 100;

/// `($1, $2), ($3, $4)…`: the placeholders of `rows` rows of `columns` values.
fn values(rows: usize, columns: usize) -> String {
    (0..rows)
        .map(|r| {
            let marks: Vec<String> = (1..=columns).map(|c| format!("${}", r * columns + c)).collect();
            format!("({})", marks.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A position or sequence number (a registry never comes near `i64::MAX` rows).
fn index(i: usize) -> i64 {
    i64::try_from(i).unwrap_or(i64::MAX)
}

// Stored as the accounts store writes the agency of a regional observer.
fn agency_code(a: Agency) -> &'static str {
    match a {
        Agency::Ars => "ars",
        Agency::Cpam => "cpam",
    }
}

fn agency_of(s: &str) -> StoreResult<Agency> {
    match s {
        "ars" => Ok(Agency::Ars),
        "cpam" => Ok(Agency::Cpam),
        other => Err(corrupt(format!("task force owner {other:?}"))),
    }
}

macro_rules! national_sql {
    ($store:ty, $row:ty, $conn:ty) => {
        impl $store {
            fn registered_of(r: &$row, history: Vec<StateChange>) -> StoreResult<RegisteredCpts> {
                let finess: Option<String> = r.try_get("finess")?;
                let siren: Option<String> = r.try_get("siren")?;
                let communes: String = r.try_get("communes")?;
                Ok(RegisteredCpts {
                    id: r.try_get("id")?,
                    name: r.try_get("name")?,
                    finess: finess.map(|f| Finess::parse(&f)).transpose().map_err(corrupt)?,
                    siren: siren.map(|s| Siren::parse(&s)).transpose().map_err(corrupt)?,
                    communes: communes
                        .split_whitespace()
                        .map(|c| InseeCode::parse(c).map_err(corrupt))
                        .collect::<StoreResult<_>>()?,
                    history,
                })
            }

            fn cpts_state_of(r: &$row) -> StoreResult<StateChange> {
                let state: String = r.try_get("state")?;
                Ok(StateChange {
                    on: r.try_get("on_date")?,
                    state: CptsState::ALL
                        .into_iter()
                        .find(|s| s.code() == state)
                        .ok_or_else(|| corrupt(format!("CPTS state {state:?}")))?,
                })
            }

            fn action_of(r: &$row) -> StoreResult<Action> {
                Ok(Action {
                    on: r.try_get("on_date")?,
                    text: r.try_get("text")?,
                    next_step: r.try_get("next_step")?,
                    next_on: r.try_get::<Option<NaiveDate>, _>("next_on")?,
                })
            }

            /// Task force rows with their actions (rows of `task_force_action` ordered by seq).
            fn task_forces_of(rows: &[$row], actions: &[$row]) -> StoreResult<Vec<StoredTaskForce>> {
                let mut by_zone: HashMap<String, Vec<Action>> = HashMap::new();
                for a in actions {
                    by_zone.entry(a.try_get("zone_key")?).or_default().push(Self::action_of(a)?);
                }
                rows.iter()
                    .map(|r| {
                        let key: String = r.try_get("zone_key")?;
                        let owner: String = r.try_get("owner")?;
                        let status: String = r.try_get("status")?;
                        Ok(StoredTaskForce {
                            task_force: TaskForce {
                                zone_key: InseeCode::parse(&key).map_err(corrupt)?,
                                owner: agency_of(&owner)?,
                                status: TaskForceStatus::ALL
                                    .into_iter()
                                    .find(|s| s.code() == status)
                                    .ok_or_else(|| corrupt(format!("task force status {status:?}")))?,
                                actions: by_zone.remove(&key).unwrap_or_default(),
                            },
                            region: r.try_get("region")?,
                            revision: r.try_get("revision")?,
                            updated_at: r.try_get("updated_at")?,
                        })
                    })
                    .collect()
            }

            /// Writes the actions of a task force whose previous actions are gone.
            async fn insert_actions(conn: &mut $conn, tf: &TaskForce) -> StoreResult<()> {
                for (i, a) in tf.actions.iter().enumerate() {
                    sqlx::query(
                        "INSERT INTO task_force_action (zone_key, seq, on_date, text, next_step, next_on)
                         VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(tf.zone_key.as_str())
                    .bind(index(i + 1))
                    .bind(a.on)
                    .bind(&a.text)
                    .bind(a.next_step.as_deref())
                    .bind(a.next_on)
                    .execute(&mut *conn)
                    .await?;
                }
                Ok(())
            }

            /// Why a guarded update touched nothing: the task force is gone, or it moved on.
            async fn task_force_stale_or_gone(conn: &mut $conn, zone_key: &str, expected: i64) -> StoreError {
                let found: Result<Option<i64>, sqlx::Error> =
                    sqlx::query_scalar("SELECT revision FROM task_force WHERE zone_key = $1")
                        .bind(zone_key)
                        .fetch_optional(&mut *conn)
                        .await;
                match found {
                    Ok(Some(found)) => StoreError::Stale { expected, found },
                    Ok(None) => StoreError::NotFound,
                    Err(e) => e.into(),
                }
            }
        }

        impl NationalStore for $store {
            async fn replace_national_registry(
                &self,
                registry: &[RegisteredCpts],
                audit: &AuditEvent,
            ) -> StoreResult<()> {
                let communes: Vec<String> = registry
                    .iter()
                    .map(|c| c.communes.iter().map(InseeCode::as_str).collect::<Vec<_>>().join(" "))
                    .collect();
                let states: Vec<(&str, i64, &StateChange)> = registry
                    .iter()
                    .flat_map(|c| c.history.iter().enumerate().map(|(i, s)| (c.id.as_str(), index(i + 1), s)))
                    .collect();
                let mut tx = self.pool.begin().await?;
                let result = async {
                    // Explicit rather than through the cascade: the states go whatever the
                    // connection's foreign key setting.
                    sqlx::query("DELETE FROM national_cpts_state").execute(&mut *tx).await?;
                    sqlx::query("DELETE FROM national_cpts").execute(&mut *tx).await?;
                    for (n, chunk) in registry.chunks(BATCH).enumerate() {
                        let sql = format!(
                            "INSERT INTO national_cpts (id, position, name, finess, siren, communes) VALUES {}",
                            values(chunk.len(), 6)
                        );
                        let mut q = sqlx::query(&sql);
                        for (i, c) in chunk.iter().enumerate() {
                            let position = n * BATCH + i;
                            q = q
                                .bind(c.id.as_str())
                                .bind(index(position))
                                .bind(c.name.as_str())
                                .bind(c.finess.as_ref().map(Finess::as_str))
                                .bind(c.siren.as_ref().map(Siren::as_str))
                                .bind(communes[position].as_str());
                        }
                        // An id listed twice fails here, after the deletes: the rollback keeps the
                        // previous registry whole.
                        q.execute(&mut *tx)
                            .await
                            .map_err(|e| conflict_or(e, "two CPTS of the registry share an id"))?;
                    }
                    for chunk in states.chunks(BATCH) {
                        let sql = format!(
                            "INSERT INTO national_cpts_state (cpts_id, seq, on_date, state) VALUES {}",
                            values(chunk.len(), 4)
                        );
                        let mut q = sqlx::query(&sql);
                        for &(id, seq, s) in chunk {
                            q = q.bind(id).bind(seq).bind(s.on).bind(s.state.code());
                        }
                        q.execute(&mut *tx).await?;
                    }
                    sqlx::query("UPDATE national_registry_revision SET revision = revision + 1")
                        .execute(&mut *tx)
                        .await?;
                    Self::insert_audit(&mut tx, audit).await
                }
                .await;
                settle(tx, result).await
            }

            async fn national_registry_revision(&self) -> StoreResult<i64> {
                let row = sqlx::query("SELECT revision FROM national_registry_revision WHERE singleton = 1")
                    .fetch_one(&self.pool)
                    .await?;
                Ok(row.try_get("revision")?)
            }

            async fn national_registry(&self) -> StoreResult<Vec<RegisteredCpts>> {
                let rows = sqlx::query("SELECT id, name, finess, siren, communes FROM national_cpts ORDER BY position")
                    .fetch_all(&self.pool)
                    .await?;
                let states =
                    sqlx::query("SELECT cpts_id, on_date, state FROM national_cpts_state ORDER BY cpts_id, seq")
                        .fetch_all(&self.pool)
                        .await?;
                let mut histories: HashMap<String, Vec<StateChange>> = HashMap::new();
                for s in &states {
                    histories.entry(s.try_get("cpts_id")?).or_default().push(Self::cpts_state_of(s)?);
                }
                rows.iter()
                    .map(|r| {
                        let id: String = r.try_get("id")?;
                        Self::registered_of(r, histories.remove(&id).unwrap_or_default())
                    })
                    .collect()
            }

            async fn task_forces(&self, region: Option<&str>) -> StoreResult<Vec<StoredTaskForce>> {
                let rows = sqlx::query(
                    "SELECT zone_key, region, owner, status, revision, updated_at FROM task_force
                     WHERE ($1 IS NULL OR region = $1) ORDER BY zone_key",
                )
                .bind(region)
                .fetch_all(&self.pool)
                .await?;
                let actions = sqlx::query(
                    "SELECT a.zone_key, a.on_date, a.text, a.next_step, a.next_on
                     FROM task_force_action a JOIN task_force t ON t.zone_key = a.zone_key
                     WHERE ($1 IS NULL OR t.region = $1) ORDER BY a.zone_key, a.seq",
                )
                .bind(region)
                .fetch_all(&self.pool)
                .await?;
                Self::task_forces_of(&rows, &actions)
            }

            async fn task_force(&self, zone_key: &str) -> StoreResult<StoredTaskForce> {
                let rows = sqlx::query(
                    "SELECT zone_key, region, owner, status, revision, updated_at FROM task_force WHERE zone_key = $1",
                )
                .bind(zone_key)
                .fetch_all(&self.pool)
                .await?;
                if rows.is_empty() {
                    return Err(StoreError::NotFound);
                }
                let actions = sqlx::query(
                    "SELECT zone_key, on_date, text, next_step, next_on FROM task_force_action
                     WHERE zone_key = $1 ORDER BY seq",
                )
                .bind(zone_key)
                .fetch_all(&self.pool)
                .await?;
                Self::task_forces_of(&rows, &actions)?.pop().ok_or(StoreError::NotFound)
            }

            async fn put_task_force(
                &self,
                tf: &TaskForce,
                region: &str,
                expected_revision: Option<i64>,
                now: DateTime<Utc>,
                audit: &AuditEvent,
            ) -> StoreResult<i64> {
                let key = tf.zone_key.as_str();
                let mut tx = self.pool.begin().await?;
                let result = async {
                    let revision = match expected_revision {
                        None => {
                            sqlx::query(
                                "INSERT INTO task_force (zone_key, region, owner, status, revision, updated_at)
                                 VALUES ($1, $2, $3, $4, 1, $5)",
                            )
                            .bind(key)
                            .bind(region)
                            .bind(agency_code(tf.owner))
                            .bind(tf.status.code())
                            .bind(now)
                            .execute(&mut *tx)
                            .await
                            .map_err(|e| conflict_or(e, "the zone already has a task force"))?;
                            1
                        }
                        Some(expected) => {
                            let done = sqlx::query(
                                "UPDATE task_force SET region = $2, owner = $3, status = $4,
                                    revision = revision + 1, updated_at = $5
                                 WHERE zone_key = $1 AND revision = $6",
                            )
                            .bind(key)
                            .bind(region)
                            .bind(agency_code(tf.owner))
                            .bind(tf.status.code())
                            .bind(now)
                            .bind(expected)
                            .execute(&mut *tx)
                            .await?;
                            if done.rows_affected() == 0 {
                                return Err(Self::task_force_stale_or_gone(&mut tx, key, expected).await);
                            }
                            sqlx::query("DELETE FROM task_force_action WHERE zone_key = $1")
                                .bind(key)
                                .execute(&mut *tx)
                                .await?;
                            expected + 1
                        }
                    };
                    Self::insert_actions(&mut tx, tf).await?;
                    Self::insert_audit(&mut tx, audit).await?;
                    Ok(revision)
                }
                .await;
                settle(tx, result).await
            }
        }
    };
}

national_sql!(SqliteStore, sqlx::sqlite::SqliteRow, sqlx::SqliteConnection);
national_sql!(PgStore, sqlx::postgres::PgRow, sqlx::PgConnection);

impl NationalStore for Store {
    async fn replace_national_registry(&self, registry: &[RegisteredCpts], audit: &AuditEvent) -> StoreResult<()> {
        delegate!(self, s => s.replace_national_registry(registry, audit))
    }
    async fn national_registry(&self) -> StoreResult<Vec<RegisteredCpts>> {
        delegate!(self, s => s.national_registry())
    }
    async fn national_registry_revision(&self) -> StoreResult<i64> {
        delegate!(self, s => s.national_registry_revision())
    }
    async fn task_forces(&self, region: Option<&str>) -> StoreResult<Vec<StoredTaskForce>> {
        delegate!(self, s => s.task_forces(region))
    }
    async fn task_force(&self, zone_key: &str) -> StoreResult<StoredTaskForce> {
        delegate!(self, s => s.task_force(zone_key))
    }
    async fn put_task_force(
        &self,
        task_force: &TaskForce,
        region: &str,
        expected_revision: Option<i64>,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> StoreResult<i64> {
        delegate!(self, s => s.put_task_force(task_force, region, expected_revision, now, audit))
    }
}
