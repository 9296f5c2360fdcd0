//! Registry SQL: requests of patients without a médecin traitant, their history, and the GPs'
//! declared capacities.

use super::{PgStore, SqliteStore, Store, conflict_or, corrupt, delegate, like, settle};
use crate::model::{AuditEvent, CptsId};
use crate::patients::{CapacityRecord, PatientStore, RequestChange, RequestQuery, RequestRecord, RequestRow};
use crate::{StoreError, StoreResult};
use chrono::{DateTime, Utc};
use maillage_core::ids::InseeCode;
use maillage_core::matching::PriorityRule;
use maillage_core::patients::{
    CapacityKind, DoctorCapacity, PatientRequest, RegistrySettings, RequestState, RequestStatus, RetentionPolicy,
    StatusChange,
};
use maillage_core::text::fold_for_search;
use sqlx::Row;
use std::collections::{BTreeMap, BTreeSet, HashMap};

fn search_key(r: &PatientRequest) -> String {
    fold_for_search(&format!("{} {}", r.family_name, r.given_name))
}

const REQUEST_COLUMNS: &str = "id, family_name, given_name, birth_date, commune_code, phone, email, ald, \
     precarity_c2s, other_fragility, note, consent_at, source, referred_by, registered_at, status, doctor, since, revision";

macro_rules! patients_sql {
    ($store:ty, $row:ty) => {
        impl $store {
            fn request_of(r: &$row) -> StoreResult<PatientRequest> {
                let commune: String = r.try_get("commune_code")?;
                let source: String = r.try_get("source")?;
                Ok(PatientRequest {
                    id: r.try_get("id")?,
                    family_name: r.try_get("family_name")?,
                    given_name: r.try_get("given_name")?,
                    birth_date: r.try_get("birth_date")?,
                    commune: InseeCode::parse(&commune).map_err(corrupt)?,
                    phone: r.try_get("phone")?,
                    email: r.try_get("email")?,
                    ald: r.try_get("ald")?,
                    precarity_c2s: r.try_get("precarity_c2s")?,
                    other_fragility: r.try_get("other_fragility")?,
                    note: r.try_get("note")?,
                    consent_at: r.try_get("consent_at")?,
                    source: source.parse().map_err(corrupt)?,
                    registered_at: r.try_get("registered_at")?,
                    referred_by: r.try_get("referred_by")?,
                })
            }

            fn status_of(r: &$row, column: &str) -> StoreResult<RequestStatus> {
                let s: String = r.try_get(column)?;
                s.parse().map_err(corrupt)
            }

            fn change_of(r: &$row) -> StoreResult<StatusChange> {
                Ok(StatusChange {
                    at: r.try_get("at")?,
                    from: Self::status_of(r, "from_status")?,
                    to: Self::status_of(r, "to_status")?,
                    reason: r.try_get("reason")?,
                    doctor: r.try_get("doctor")?,
                    by: r.try_get("by_whom")?,
                })
            }

            /// Requests (rows of `REQUEST_COLUMNS`) with their histories, checked by replaying
            /// them: a stored state that its history does not give is corrupt.
            fn records(rows: &[$row], history: &[$row]) -> StoreResult<Vec<RequestRecord>> {
                let mut by_request: HashMap<String, Vec<StatusChange>> = HashMap::new();
                for h in history {
                    by_request.entry(h.try_get("request_id")?).or_default().push(Self::change_of(h)?);
                }
                rows.iter()
                    .map(|r| {
                        let request = Self::request_of(r)?;
                        let history = by_request.remove(&request.id).unwrap_or_default();
                        let state = RequestState::replay(request.registered_at, &history)
                            .map_err(|e| corrupt(format!("request {}: {e}", request.id)))?;
                        let stored: (RequestStatus, Option<String>) =
                            (Self::status_of(r, "status")?, r.try_get("doctor")?);
                        if stored != (state.status, state.doctor.clone()) {
                            return Err(corrupt(format!("request {}: state differs from its history", request.id)));
                        }
                        Ok(RequestRecord { request, state, history, revision: r.try_get("revision")? })
                    })
                    .collect()
            }

            fn capacity_of(r: &$row) -> StoreResult<CapacityRecord> {
                let kind: String = r.try_get("kind")?;
                let count: i64 = r.try_get("count")?;
                let count = u32::try_from(count).map_err(corrupt)?;
                let communes: Option<String> = r.try_get("accepted_communes")?;
                Ok(CapacityRecord {
                    capacity: DoctorCapacity {
                        national_id: r.try_get("national_id")?,
                        kind: match kind.as_str() {
                            "total" => CapacityKind::Total(count),
                            "per_month" => CapacityKind::PerMonth(count),
                            other => return Err(corrupt(format!("capacity kind {other:?}"))),
                        },
                        max_km: r.try_get("max_km")?,
                        accepted_communes: communes
                            .map(|list| {
                                list.split_whitespace()
                                    .map(|c| InseeCode::parse(c).map_err(corrupt))
                                    .collect::<StoreResult<BTreeSet<_>>>()
                            })
                            .transpose()?,
                        note: r.try_get("note")?,
                    },
                    updated_at: r.try_get("updated_at")?,
                })
            }
        }

        impl PatientStore for $store {
            async fn register_request(
                &self,
                cpts: &CptsId,
                r: &PatientRequest,
                audit: &AuditEvent,
            ) -> StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                let result = async {
                    sqlx::query(
                        "INSERT INTO mt_request (cpts_id, id, family_name, given_name, birth_date, commune_code, phone,
                            email, ald, precarity_c2s, other_fragility, note, consent_at, source, referred_by,
                            registered_at, search_key, status, doctor, since, revision, updated_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
                                 'waiting', NULL, $16, 1, $16)",
                    )
                    .bind(cpts.as_str())
                    .bind(&r.id)
                    .bind(&r.family_name)
                    .bind(&r.given_name)
                    .bind(r.birth_date)
                    .bind(r.commune.as_str())
                    .bind(r.phone.as_deref())
                    .bind(r.email.as_deref())
                    .bind(r.ald)
                    .bind(r.precarity_c2s)
                    .bind(r.other_fragility.as_deref())
                    .bind(r.note.as_deref())
                    .bind(r.consent_at)
                    .bind(r.source.code())
                    .bind(r.referred_by.as_deref())
                    .bind(r.registered_at)
                    .bind(search_key(r))
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| conflict_or(e, "a request with this id exists"))?;
                    Self::insert_audit(&mut tx, audit).await
                }
                .await;
                settle(tx, result).await
            }

            async fn update_request(
                &self,
                cpts: &CptsId,
                r: &PatientRequest,
                expected_revision: i64,
                now: DateTime<Utc>,
                audit: &AuditEvent,
            ) -> StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                let result = async {
                    let done = sqlx::query(
                        "UPDATE mt_request SET family_name = $3, given_name = $4, birth_date = $5, commune_code = $6,
                            phone = $7, email = $8, ald = $9, precarity_c2s = $10, other_fragility = $11, note = $12,
                            referred_by = $13, search_key = $14, revision = revision + 1, updated_at = $15
                         WHERE cpts_id = $1 AND id = $2 AND revision = $16",
                    )
                    .bind(cpts.as_str())
                    .bind(&r.id)
                    .bind(&r.family_name)
                    .bind(&r.given_name)
                    .bind(r.birth_date)
                    .bind(r.commune.as_str())
                    .bind(r.phone.as_deref())
                    .bind(r.email.as_deref())
                    .bind(r.ald)
                    .bind(r.precarity_c2s)
                    .bind(r.other_fragility.as_deref())
                    .bind(r.note.as_deref())
                    .bind(r.referred_by.as_deref())
                    .bind(search_key(r))
                    .bind(now)
                    .bind(expected_revision)
                    .execute(&mut *tx)
                    .await?;
                    if done.rows_affected() == 0 {
                        return Err(Self::stale_or_gone(&mut tx, cpts.as_str(), &r.id, expected_revision).await);
                    }
                    Self::insert_audit(&mut tx, audit).await
                }
                .await;
                settle(tx, result).await
            }

            async fn request(&self, cpts: &CptsId, id: &str) -> StoreResult<RequestRecord> {
                let rows = sqlx::query(&format!(
                    "SELECT {REQUEST_COLUMNS} FROM mt_request WHERE cpts_id = $1 AND id = $2"
                ))
                .bind(cpts.as_str())
                .bind(id)
                .fetch_all(&self.pool)
                .await?;
                if rows.is_empty() {
                    return Err(StoreError::NotFound);
                }
                let history = sqlx::query(
                    "SELECT * FROM mt_request_history WHERE cpts_id = $1 AND request_id = $2 ORDER BY seq",
                )
                .bind(cpts.as_str())
                .bind(id)
                .fetch_all(&self.pool)
                .await?;
                Self::records(&rows, &history)?.pop().ok_or(StoreError::NotFound)
            }

            async fn search_requests(
                &self,
                cpts: &CptsId,
                q: &RequestQuery,
            ) -> StoreResult<(Vec<RequestRow>, u64)> {
                let folded = q.text.as_deref().map(fold_for_search).unwrap_or_default();
                let mut words = folded.split(' ').filter(|w| !w.is_empty()).map(like);
                let (w1, w2) = (words.next(), words.next());
                let filter = "FROM mt_request WHERE cpts_id = $1
                                AND ($2 IS NULL OR search_key LIKE $2) AND ($3 IS NULL OR search_key LIKE $3)
                                AND ($4 IS NULL OR status = $4) AND ($5 IS NULL OR commune_code = $5)
                                AND ($6 IS NULL OR doctor = $6)";
                macro_rules! bind_filter {
                    ($query:expr) => {
                        $query
                            .bind(cpts.as_str())
                            .bind(w1.as_deref())
                            .bind(w2.as_deref())
                            .bind(q.status.map(RequestStatus::code))
                            .bind(q.commune.as_deref())
                            .bind(q.doctor.as_deref())
                    };
                }
                let total: i64 =
                    bind_filter!(sqlx::query_scalar(&format!("SELECT COUNT(*) {filter}"))).fetch_one(&self.pool).await?;
                let rows = bind_filter!(sqlx::query(&format!(
                    "SELECT {REQUEST_COLUMNS} {filter} ORDER BY registered_at, id LIMIT $7 OFFSET $8"
                )))
                .bind(i64::from(q.limit.clamp(1, 500)))
                .bind(i64::from(q.offset))
                .fetch_all(&self.pool)
                .await?;
                let rows = rows
                    .iter()
                    .map(|r| {
                        Ok(RequestRow {
                            request: Self::request_of(r)?,
                            status: Self::status_of(r, "status")?,
                            doctor: r.try_get("doctor")?,
                            since: r.try_get("since")?,
                        })
                    })
                    .collect::<StoreResult<Vec<_>>>()?;
                Ok((rows, u64::try_from(total).unwrap_or(0)))
            }

            async fn registry(&self, cpts: &CptsId) -> StoreResult<Vec<RequestRecord>> {
                let rows = sqlx::query(&format!(
                    "SELECT {REQUEST_COLUMNS} FROM mt_request WHERE cpts_id = $1 ORDER BY registered_at, id"
                ))
                .bind(cpts.as_str())
                .fetch_all(&self.pool)
                .await?;
                let history = sqlx::query(
                    "SELECT * FROM mt_request_history WHERE cpts_id = $1 ORDER BY request_id, seq",
                )
                .bind(cpts.as_str())
                .fetch_all(&self.pool)
                .await?;
                Self::records(&rows, &history)
            }

            async fn apply_changes(
                &self,
                cpts: &CptsId,
                changes: &[RequestChange],
                now: DateTime<Utc>,
                audit: &AuditEvent,
            ) -> StoreResult<()> {
                let c = cpts.as_str();
                let mut tx = self.pool.begin().await?;
                let result = async {
                    for ch in changes {
                        let done = sqlx::query(
                            "UPDATE mt_request SET status = $3, doctor = $4, since = $5, revision = revision + 1,
                                updated_at = $6
                             WHERE cpts_id = $1 AND id = $2 AND revision = $7",
                        )
                        .bind(c)
                        .bind(&ch.request_id)
                        .bind(ch.state.status.code())
                        .bind(ch.state.doctor.as_deref())
                        .bind(ch.state.since)
                        .bind(now)
                        .bind(ch.expected_revision)
                        .execute(&mut *tx)
                        .await?;
                        if done.rows_affected() == 0 {
                            return Err(Self::stale_or_gone(&mut tx, c, &ch.request_id, ch.expected_revision).await);
                        }
                        sqlx::query(
                            "INSERT INTO mt_request_history (cpts_id, request_id, seq, at, from_status, to_status,
                                reason, doctor, by_whom)
                             VALUES ($1, $2, (SELECT COALESCE(MAX(seq), 0) + 1 FROM mt_request_history
                                              WHERE cpts_id = $1 AND request_id = $2),
                                     $3, $4, $5, $6, $7, $8)",
                        )
                        .bind(c)
                        .bind(&ch.request_id)
                        .bind(ch.change.at)
                        .bind(ch.change.from.code())
                        .bind(ch.change.to.code())
                        .bind(ch.change.reason.as_deref())
                        .bind(ch.change.doctor.as_deref())
                        .bind(&ch.change.by)
                        .execute(&mut *tx)
                        .await?;
                    }
                    Self::insert_audit(&mut tx, audit).await
                }
                .await;
                settle(tx, result).await
            }

            async fn erase_request(&self, cpts: &CptsId, id: &str, audit: &AuditEvent) -> StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                let result = async {
                    let done = sqlx::query("DELETE FROM mt_request WHERE cpts_id = $1 AND id = $2")
                        .bind(cpts.as_str())
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    if done.rows_affected() == 0 {
                        return Err(StoreError::NotFound);
                    }
                    Self::insert_audit(&mut tx, audit).await
                }
                .await;
                settle(tx, result).await
            }

            async fn put_capacity(
                &self,
                cpts: &CptsId,
                cap: &DoctorCapacity,
                now: DateTime<Utc>,
                audit: &AuditEvent,
            ) -> StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                let result = async {
                    Self::ensure_professional(&mut tx, cpts.as_str(), &cap.national_id).await?;
                    let communes = cap
                        .accepted_communes
                        .as_ref()
                        .map(|set| set.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(" "));
                    sqlx::query(
                        "INSERT INTO mt_capacity (cpts_id, national_id, kind, count, max_km, accepted_communes, note,
                            updated_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                         ON CONFLICT (cpts_id, national_id)
                         DO UPDATE SET kind = excluded.kind, count = excluded.count, max_km = excluded.max_km,
                                       accepted_communes = excluded.accepted_communes, note = excluded.note,
                                       updated_at = excluded.updated_at",
                    )
                    .bind(cpts.as_str())
                    .bind(&cap.national_id)
                    .bind(cap.kind.code())
                    .bind(i64::from(cap.kind.count()))
                    .bind(cap.max_km)
                    .bind(communes)
                    .bind(cap.note.as_deref())
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                    Self::insert_audit(&mut tx, audit).await
                }
                .await;
                settle(tx, result).await
            }

            async fn delete_capacity(&self, cpts: &CptsId, national_id: &str, audit: &AuditEvent) -> StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                let result = async {
                    let done = sqlx::query("DELETE FROM mt_capacity WHERE cpts_id = $1 AND national_id = $2")
                        .bind(cpts.as_str())
                        .bind(national_id)
                        .execute(&mut *tx)
                        .await?;
                    if done.rows_affected() == 0 {
                        return Err(StoreError::NotFound);
                    }
                    Self::insert_audit(&mut tx, audit).await
                }
                .await;
                settle(tx, result).await
            }

            async fn status_counts(&self, cpts: &CptsId) -> StoreResult<BTreeMap<RequestStatus, u64>> {
                let rows: Vec<(String, i64)> =
                    sqlx::query_as("SELECT status, COUNT(*) FROM mt_request WHERE cpts_id = $1 GROUP BY status")
                        .bind(cpts.as_str())
                        .fetch_all(&self.pool)
                        .await?;
                rows.into_iter()
                    .map(|(status, n)| Ok((status.parse::<RequestStatus>().map_err(corrupt)?, n as u64)))
                    .collect()
            }

            async fn registry_settings(&self, cpts: &CptsId) -> StoreResult<Option<RegistrySettings>> {
                let row: Option<(f64, String, i64)> = sqlx::query_as(
                    "SELECT max_km, priority_rule, retention_days FROM mt_settings WHERE cpts_id = $1",
                )
                .bind(cpts.as_str())
                .fetch_optional(&self.pool)
                .await?;
                let Some((max_km, rule, days)) = row else { return Ok(None) };
                let priority: PriorityRule = serde_json::from_str(&rule).map_err(corrupt)?;
                priority.validate().map_err(corrupt)?;
                let days = u32::try_from(days).map_err(corrupt)?;
                let retention = RetentionPolicy::new(days).map_err(|(en, _)| corrupt(en))?;
                Ok(Some(RegistrySettings { max_km, priority, retention }))
            }

            async fn put_registry_settings(
                &self,
                cpts: &CptsId,
                settings: &RegistrySettings,
                now: DateTime<Utc>,
                audit: &AuditEvent,
            ) -> StoreResult<()> {
                let rule = serde_json::to_string(&settings.priority).map_err(corrupt)?;
                let mut tx = self.pool.begin().await?;
                let result = async {
                    sqlx::query(
                        "INSERT INTO mt_settings (cpts_id, max_km, priority_rule, retention_days, updated_at)
                         VALUES ($1, $2, $3, $4, $5)
                         ON CONFLICT (cpts_id)
                         DO UPDATE SET max_km = excluded.max_km, priority_rule = excluded.priority_rule,
                                       retention_days = excluded.retention_days, updated_at = excluded.updated_at",
                    )
                    .bind(cpts.as_str())
                    .bind(settings.max_km)
                    .bind(rule)
                    .bind(i64::from(settings.retention.closed_after_days))
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                    Self::insert_audit(&mut tx, audit).await
                }
                .await;
                settle(tx, result).await
            }

            async fn capacities(&self, cpts: &CptsId) -> StoreResult<Vec<CapacityRecord>> {
                sqlx::query("SELECT * FROM mt_capacity WHERE cpts_id = $1 ORDER BY national_id")
                    .bind(cpts.as_str())
                    .fetch_all(&self.pool)
                    .await?
                    .iter()
                    .map(Self::capacity_of)
                    .collect()
            }
        }
    };
}

macro_rules! stale_sql {
    ($store:ty, $conn:ty) => {
        impl $store {
            /// Why a guarded update touched nothing: the request is gone, or it moved on.
            async fn stale_or_gone(conn: &mut $conn, cpts: &str, id: &str, expected: i64) -> StoreError {
                let found: Result<Option<i64>, sqlx::Error> =
                    sqlx::query_scalar("SELECT revision FROM mt_request WHERE cpts_id = $1 AND id = $2")
                        .bind(cpts)
                        .bind(id)
                        .fetch_optional(&mut *conn)
                        .await;
                match found {
                    Ok(Some(found)) => StoreError::Stale { expected, found },
                    Ok(None) => StoreError::NotFound,
                    Err(e) => e.into(),
                }
            }
        }
    };
}

patients_sql!(SqliteStore, sqlx::sqlite::SqliteRow);
patients_sql!(PgStore, sqlx::postgres::PgRow);
stale_sql!(SqliteStore, sqlx::SqliteConnection);
stale_sql!(PgStore, sqlx::PgConnection);

impl PatientStore for Store {
    async fn register_request(&self, cpts: &CptsId, request: &PatientRequest, audit: &AuditEvent) -> StoreResult<()> {
        delegate!(self, s => s.register_request(cpts, request, audit))
    }
    async fn update_request(
        &self,
        cpts: &CptsId,
        request: &PatientRequest,
        expected_revision: i64,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> StoreResult<()> {
        delegate!(self, s => s.update_request(cpts, request, expected_revision, now, audit))
    }
    async fn request(&self, cpts: &CptsId, id: &str) -> StoreResult<RequestRecord> {
        delegate!(self, s => s.request(cpts, id))
    }
    async fn search_requests(&self, cpts: &CptsId, query: &RequestQuery) -> StoreResult<(Vec<RequestRow>, u64)> {
        delegate!(self, s => s.search_requests(cpts, query))
    }
    async fn registry(&self, cpts: &CptsId) -> StoreResult<Vec<RequestRecord>> {
        delegate!(self, s => s.registry(cpts))
    }
    async fn apply_changes(
        &self,
        cpts: &CptsId,
        changes: &[RequestChange],
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> StoreResult<()> {
        delegate!(self, s => s.apply_changes(cpts, changes, now, audit))
    }
    async fn erase_request(&self, cpts: &CptsId, id: &str, audit: &AuditEvent) -> StoreResult<()> {
        delegate!(self, s => s.erase_request(cpts, id, audit))
    }
    async fn put_capacity(
        &self,
        cpts: &CptsId,
        capacity: &DoctorCapacity,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> StoreResult<()> {
        delegate!(self, s => s.put_capacity(cpts, capacity, now, audit))
    }
    async fn delete_capacity(&self, cpts: &CptsId, national_id: &str, audit: &AuditEvent) -> StoreResult<()> {
        delegate!(self, s => s.delete_capacity(cpts, national_id, audit))
    }
    async fn status_counts(&self, cpts: &CptsId) -> StoreResult<BTreeMap<RequestStatus, u64>> {
        delegate!(self, s => s.status_counts(cpts))
    }
    async fn registry_settings(&self, cpts: &CptsId) -> StoreResult<Option<RegistrySettings>> {
        delegate!(self, s => s.registry_settings(cpts))
    }
    async fn put_registry_settings(
        &self,
        cpts: &CptsId,
        settings: &RegistrySettings,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> StoreResult<()> {
        delegate!(self, s => s.put_registry_settings(cpts, settings, now, audit))
    }
    async fn capacities(&self, cpts: &CptsId) -> StoreResult<Vec<CapacityRecord>> {
        delegate!(self, s => s.capacities(cpts))
    }
}
