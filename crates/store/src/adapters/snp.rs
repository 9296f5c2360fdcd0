//! Same-day care SQL: publications, per-slot load (the capacity guard) and bookings.
//!
//! No double booking: a booking takes its place with one upsert on `snp_slot_load` that only
//! increments `booked` while it is below the capacity (`RETURNING` gives no row when the slot is
//! full). PostgreSQL runs it under a row lock: concurrent upserts of one slot wait for each other
//! and re-check the condition on the latest row. SQLite has one writer at a time; every write
//! transaction here starts with a write, so a writer waits for the lock through the busy timeout
//! (a deferred transaction that read first could not be retried and would fail as "database is
//! locked"). The booking and its audit event commit in the same transaction as the place.

use super::{PgStore, SqliteStore, Store, conflict_or, corrupt, delegate, settle};
use crate::model::{AuditEvent, CptsId};
use crate::snp::{Booking, NewBooking, NewRequest, RequestRef, SnpRequest, SnpStore, StoredAvailability};
use crate::{StoreError, StoreResult};
use chrono::{DateTime, Duration, Utc};
use maillage_core::ids::InseeCode;
use maillage_core::snp::booking::{Outcome, ReasonCategory, ReferrerKind};
use maillage_core::snp::requests::{Closure, Destination, RequestStatus};
use maillage_core::snp::{Availability, Place, ProfessionalId, Slot, SlotId, expand};
use sqlx::Row;

/// Professional ids are `u64` in core and `BIGINT` in the tables.
fn professional_key(p: ProfessionalId) -> StoreResult<i64> {
    i64::try_from(p.0).map_err(|_| StoreError::Conflict(format!("professional id {} is too large", p.0)))
}

fn place_code(p: Place) -> &'static str {
    match p {
        Place::Cabinet => "cabinet",
        Place::Domicile => "domicile",
        Place::Teleconsultation => "teleconsultation",
    }
}

fn place_of(code: &str) -> StoreResult<Place> {
    Place::ALL.into_iter().find(|p| place_code(*p) == code).ok_or_else(|| corrupt(format!("place {code:?}")))
}

/// The outcome as stored: its code, and the note of `Autre`.
fn outcome_columns(o: &Outcome) -> (&'static str, Option<&str>) {
    match o {
        Outcome::Vu => ("vu", None),
        Outcome::Absent => ("absent", None),
        Outcome::ReorienteUrgences => ("reoriente_urgences", None),
        Outcome::Autre { note } => ("autre", Some(note)),
    }
}

/// The slot `id` as the publication gives it now, if it still has it.
fn published_slot(availability: &Availability, id: &SlotId) -> StoreResult<Option<Slot>> {
    let Some(start) = id.start() else { return Ok(None) };
    // Slots belong to the window their start is in: a one-minute window holds just this start.
    let slots = expand(availability, start, start + Duration::minutes(1)).map_err(|_| StoreError::NotFound)?;
    Ok(slots.into_iter().find(|s| s.id == *id))
}

const BOOKING_COLUMNS: &str = "id, request_id, slot_id, starts_at, ends_at, place, reason, commune, contact_phone, \
     contact_email, referrer, note, created_at, created_by, cancelled_at, outcome, outcome_note, outcome_at";

/// A request with the outcome of its booking.
const REQUEST_SELECT: &str = "SELECT r.id, r.received_at, r.reason, r.commune, r.contact_phone, r.contact_email, \
     r.referrer, r.note, r.created_by, r.status, r.destination, r.booking_id, r.appointment_at, r.profession, \
     r.closed_at, b.outcome, b.outcome_note \
     FROM snp_request r LEFT JOIN snp_booking b ON b.cpts_id = r.cpts_id AND b.id = r.booking_id";

macro_rules! snp_sql {
    ($store:ty, $row:ty, $conn:ty) => {
        impl $store {
            fn stored_availability(r: &$row) -> StoreResult<StoredAvailability> {
                let document: String = r.try_get("document")?;
                let availability: Availability = serde_json::from_str(&document).map_err(corrupt)?;
                let key: i64 = r.try_get("professional_id")?;
                if professional_key(availability.professional)? != key {
                    return Err(corrupt(format!("availability of professional {key} names another")));
                }
                Ok(StoredAvailability { availability, revision: r.try_get("revision")?, updated_at: r.try_get("updated_at")? })
            }

            fn booking_of(r: &$row) -> StoreResult<Booking> {
                let slot: String = r.try_get("slot_id")?;
                let place: String = r.try_get("place")?;
                let reason: String = r.try_get("reason")?;
                let commune: String = r.try_get("commune")?;
                let referrer: String = r.try_get("referrer")?;
                let outcome: Option<String> = r.try_get("outcome")?;
                let outcome_note: Option<String> = r.try_get("outcome_note")?;
                let outcome_at: Option<DateTime<Utc>> = r.try_get("outcome_at")?;
                let outcome = match (outcome, outcome_at) {
                    (Some(code), Some(at)) => {
                        let o = Outcome::parse(&code, outcome_note.as_deref().unwrap_or_default())
                            .map_err(|e| corrupt(format!("outcome {code:?}: {}", e.en)))?;
                        Some((o, at))
                    }
                    (None, None) => None,
                    _ => return Err(corrupt("outcome without its date, or the reverse")),
                };
                Ok(Booking {
                    id: r.try_get("id")?,
                    request: r.try_get("request_id")?,
                    slot: slot.parse().map_err(corrupt)?,
                    start: r.try_get("starts_at")?,
                    end: r.try_get("ends_at")?,
                    place: place_of(&place)?,
                    reason: ReasonCategory::from_code(&reason).ok_or_else(|| corrupt(format!("reason {reason:?}")))?,
                    commune: InseeCode::parse(&commune).map_err(corrupt)?,
                    phone: r.try_get("contact_phone")?,
                    email: r.try_get("contact_email")?,
                    referrer: ReferrerKind::from_code(&referrer)
                        .ok_or_else(|| corrupt(format!("referrer {referrer:?}")))?,
                    note: r.try_get("note")?,
                    created_at: r.try_get("created_at")?,
                    created_by: r.try_get("created_by")?,
                    cancelled_at: r.try_get("cancelled_at")?,
                    outcome,
                })
            }

            fn snp_request_of(r: &$row) -> StoreResult<SnpRequest> {
                let reason: String = r.try_get("reason")?;
                let commune: String = r.try_get("commune")?;
                let referrer: String = r.try_get("referrer")?;
                let status: String = r.try_get("status")?;
                let destination: Option<String> = r.try_get("destination")?;
                let outcome: Option<String> = r.try_get("outcome")?;
                let outcome_note: Option<String> = r.try_get("outcome_note")?;
                let outcome = outcome
                    .map(|code| {
                        Outcome::parse(&code, outcome_note.as_deref().unwrap_or_default())
                            .map_err(|e| corrupt(format!("outcome {code:?}: {}", e.en)))
                    })
                    .transpose()?;
                Ok(SnpRequest {
                    id: r.try_get("id")?,
                    received_at: r.try_get("received_at")?,
                    reason: ReasonCategory::from_code(&reason).ok_or_else(|| corrupt(format!("reason {reason:?}")))?,
                    commune: InseeCode::parse(&commune).map_err(corrupt)?,
                    phone: r.try_get("contact_phone")?,
                    email: r.try_get("contact_email")?,
                    referrer: ReferrerKind::from_code(&referrer)
                        .ok_or_else(|| corrupt(format!("referrer {referrer:?}")))?,
                    note: r.try_get("note")?,
                    created_by: r.try_get("created_by")?,
                    status: RequestStatus::from_code(&status).ok_or_else(|| corrupt(format!("status {status:?}")))?,
                    destination: destination
                        .map(|d| Destination::from_code(&d).ok_or_else(|| corrupt(format!("destination {d:?}"))))
                        .transpose()?,
                    booking: r.try_get("booking_id")?,
                    appointment: r.try_get("appointment_at")?,
                    profession: r.try_get("profession")?,
                    closed_at: r.try_get("closed_at")?,
                    outcome,
                })
            }

            /// Why a guarded update of a request touched nothing.
            async fn snp_request_refusal(conn: &mut $conn, cpts: &str, id: &str) -> StoreError {
                let found: Result<Option<String>, sqlx::Error> =
                    sqlx::query_scalar("SELECT status FROM snp_request WHERE cpts_id = $1 AND id = $2")
                        .bind(cpts)
                        .bind(id)
                        .fetch_optional(&mut *conn)
                        .await;
                match found {
                    Ok(None) => StoreError::NotFound,
                    Ok(Some(status)) => StoreError::Conflict(format!("request no longer waits ({status})")),
                    Err(e) => e.into(),
                }
            }

            async fn snp_request_in(conn: &mut $conn, cpts: &str, id: &str) -> StoreResult<SnpRequest> {
                let row = sqlx::query(&format!("{REQUEST_SELECT} WHERE r.cpts_id = $1 AND r.id = $2"))
                    .bind(cpts)
                    .bind(id)
                    .fetch_optional(&mut *conn)
                    .await?
                    .ok_or(StoreError::NotFound)?;
                Self::snp_request_of(&row)
            }

            /// Why a guarded update of a booking touched nothing: it is not in this CPTS, or
            /// its state refuses the change.
            async fn booking_refusal(conn: &mut $conn, cpts: &str, id: &str) -> StoreError {
                let found: Result<Option<(Option<DateTime<Utc>>, Option<String>)>, sqlx::Error> =
                    sqlx::query_as("SELECT cancelled_at, outcome FROM snp_booking WHERE cpts_id = $1 AND id = $2")
                        .bind(cpts)
                        .bind(id)
                        .fetch_optional(&mut *conn)
                        .await;
                match found {
                    Ok(None) => StoreError::NotFound,
                    Ok(Some((Some(_), _))) => StoreError::Conflict("booking cancelled".into()),
                    Ok(Some((None, Some(_)))) => StoreError::Conflict("booking has an outcome".into()),
                    Ok(Some((None, None))) => StoreError::Conflict("booking changed".into()),
                    Err(e) => e.into(),
                }
            }
        }

        impl SnpStore for $store {
            async fn put_availability(
                &self,
                cpts: &CptsId,
                availability: &Availability,
                expected_revision: Option<i64>,
                now: DateTime<Utc>,
                audit: &AuditEvent,
            ) -> StoreResult<i64> {
                let c = cpts.as_str();
                let professional = professional_key(availability.professional)?;
                let document = serde_json::to_string(availability).map_err(corrupt)?;
                let mut tx = self.pool.begin().await?;
                let result = async {
                    let revision = match expected_revision {
                        None => {
                            sqlx::query(
                                "INSERT INTO snp_availability (cpts_id, professional_id, document, revision, updated_at)
                                 VALUES ($1, $2, $3, 1, $4)",
                            )
                            .bind(c)
                            .bind(professional)
                            .bind(&document)
                            .bind(now)
                            .execute(&mut *tx)
                            .await
                            .map_err(|e| conflict_or(e, "this professional has a publication already"))?;
                            1
                        }
                        Some(expected) => {
                            let done = sqlx::query(
                                "UPDATE snp_availability SET document = $3, revision = revision + 1, updated_at = $4
                                 WHERE cpts_id = $1 AND professional_id = $2 AND revision = $5",
                            )
                            .bind(c)
                            .bind(professional)
                            .bind(&document)
                            .bind(now)
                            .bind(expected)
                            .execute(&mut *tx)
                            .await?;
                            if done.rows_affected() == 0 {
                                let found: Option<i64> = sqlx::query_scalar(
                                    "SELECT revision FROM snp_availability WHERE cpts_id = $1 AND professional_id = $2",
                                )
                                .bind(c)
                                .bind(professional)
                                .fetch_optional(&mut *tx)
                                .await?;
                                return Err(match found {
                                    Some(found) => StoreError::Stale { expected, found },
                                    None => StoreError::NotFound,
                                });
                            }
                            expected + 1
                        }
                    };
                    Self::insert_audit(&mut tx, audit).await?;
                    Ok(revision)
                }
                .await;
                settle(tx, result).await
            }

            async fn availability(
                &self,
                cpts: &CptsId,
                professional: ProfessionalId,
            ) -> StoreResult<Option<StoredAvailability>> {
                let Ok(key) = professional_key(professional) else { return Ok(None) };
                sqlx::query("SELECT * FROM snp_availability WHERE cpts_id = $1 AND professional_id = $2")
                    .bind(cpts.as_str())
                    .bind(key)
                    .fetch_optional(&self.pool)
                    .await?
                    .as_ref()
                    .map(Self::stored_availability)
                    .transpose()
            }

            async fn availabilities(&self, cpts: &CptsId) -> StoreResult<Vec<StoredAvailability>> {
                sqlx::query("SELECT * FROM snp_availability WHERE cpts_id = $1 ORDER BY professional_id")
                    .bind(cpts.as_str())
                    .fetch_all(&self.pool)
                    .await?
                    .iter()
                    .map(Self::stored_availability)
                    .collect()
            }

            async fn book(&self, cpts: &CptsId, b: &NewBooking, audit: &AuditEvent) -> StoreResult<Booking> {
                let c = cpts.as_str();
                // Read outside the transaction, so that on SQLite the transaction's first statement
                // is a write (see the module's comment). A publication replaced meanwhile may give
                // an older capacity; the places already taken are guarded all the same.
                let stored =
                    self.availability(cpts, b.slot.professional).await?.ok_or(StoreError::NotFound)?;
                let slot = published_slot(&stored.availability, &b.slot)?.ok_or(StoreError::NotFound)?;
                let slot_id = slot.id.to_string();
                let mut tx = self.pool.begin().await?;
                let result = async {
                    let taken: Option<i64> = sqlx::query_scalar(
                        "INSERT INTO snp_slot_load (cpts_id, slot_id, starts_at, capacity, booked)
                         VALUES ($1, $2, $3, $4, 1)
                         ON CONFLICT (cpts_id, slot_id) DO UPDATE
                            SET booked = snp_slot_load.booked + 1, capacity = excluded.capacity
                            WHERE snp_slot_load.booked < excluded.capacity
                         RETURNING booked",
                    )
                    .bind(c)
                    .bind(&slot_id)
                    .bind(slot.start)
                    .bind(i64::from(slot.capacity))
                    .fetch_optional(&mut *tx)
                    .await?;
                    if taken.is_none() {
                        return Err(StoreError::Conflict("slot full".into()));
                    }
                    match &b.request {
                        RequestRef::New(request) => {
                            sqlx::query(
                                "INSERT INTO snp_request (cpts_id, id, received_at, reason, commune, contact_phone,
                                    contact_email, referrer, note, created_by, status, booking_id, appointment_at,
                                    profession)
                                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'orientee', $11, $12, $13)",
                            )
                            .bind(c)
                            .bind(request)
                            .bind(b.created_at)
                            .bind(b.reason.code())
                            .bind(b.commune.as_str())
                            .bind(b.phone.as_deref())
                            .bind(b.email.as_deref())
                            .bind(b.referrer.code())
                            .bind(b.note.as_deref())
                            .bind(&b.created_by)
                            .bind(&b.id)
                            .bind(slot.start)
                            .bind(b.profession.as_deref())
                            .execute(&mut *tx)
                            .await
                            .map_err(|e| conflict_or(e, "a request with this id exists"))?;
                        }
                        RequestRef::Waiting(request) => {
                            let done = sqlx::query(
                                "UPDATE snp_request SET status = 'orientee', booking_id = $3, appointment_at = $4,
                                    profession = $5
                                 WHERE cpts_id = $1 AND id = $2 AND status = 'en_attente'",
                            )
                            .bind(c)
                            .bind(request)
                            .bind(&b.id)
                            .bind(slot.start)
                            .bind(b.profession.as_deref())
                            .execute(&mut *tx)
                            .await?;
                            if done.rows_affected() == 0 {
                                return Err(Self::snp_request_refusal(&mut tx, c, request).await);
                            }
                        }
                    }
                    sqlx::query(
                        "INSERT INTO snp_booking (cpts_id, id, slot_id, professional_id, starts_at, ends_at, place,
                            reason, commune, contact_phone, contact_email, referrer, note, created_at, created_by,
                            request_id)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
                    )
                    .bind(c)
                    .bind(&b.id)
                    .bind(&slot_id)
                    .bind(professional_key(slot.id.professional)?)
                    .bind(slot.start)
                    .bind(slot.end)
                    .bind(place_code(slot.place))
                    .bind(b.reason.code())
                    .bind(b.commune.as_str())
                    .bind(b.phone.as_deref())
                    .bind(b.email.as_deref())
                    .bind(b.referrer.code())
                    .bind(b.note.as_deref())
                    .bind(b.created_at)
                    .bind(&b.created_by)
                    .bind(b.request.id())
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| conflict_or(e, "a booking with this id exists"))?;
                    Self::insert_audit(&mut tx, audit).await?;
                    Ok(Booking {
                        id: b.id.clone(),
                        request: Some(b.request.id().to_owned()),
                        slot: slot.id,
                        start: slot.start,
                        end: slot.end,
                        place: slot.place,
                        reason: b.reason,
                        commune: b.commune,
                        phone: b.phone.clone(),
                        email: b.email.clone(),
                        referrer: b.referrer,
                        note: b.note.clone(),
                        created_at: b.created_at,
                        created_by: b.created_by.clone(),
                        cancelled_at: None,
                        outcome: None,
                    })
                }
                .await;
                settle(tx, result).await
            }

            async fn cancel_booking(
                &self,
                cpts: &CptsId,
                id: &str,
                now: DateTime<Utc>,
                audit: &AuditEvent,
            ) -> StoreResult<()> {
                let c = cpts.as_str();
                let mut tx = self.pool.begin().await?;
                let result = async {
                    let slot: Option<String> = sqlx::query_scalar(
                        "UPDATE snp_booking SET cancelled_at = $3
                         WHERE cpts_id = $1 AND id = $2 AND cancelled_at IS NULL AND outcome IS NULL
                         RETURNING slot_id",
                    )
                    .bind(c)
                    .bind(id)
                    .bind(now)
                    .fetch_optional(&mut *tx)
                    .await?;
                    let Some(slot) = slot else { return Err(Self::booking_refusal(&mut tx, c, id).await) };
                    sqlx::query("UPDATE snp_slot_load SET booked = booked - 1 WHERE cpts_id = $1 AND slot_id = $2")
                        .bind(c)
                        .bind(&slot)
                        .execute(&mut *tx)
                        .await?;
                    // The request waits again: the desk reorients it or closes it.
                    sqlx::query(
                        "UPDATE snp_request SET status = 'en_attente', booking_id = NULL, appointment_at = NULL,
                            profession = NULL
                         WHERE cpts_id = $1 AND booking_id = $2",
                    )
                    .bind(c)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                    Self::insert_audit(&mut tx, audit).await
                }
                .await;
                settle(tx, result).await
            }

            async fn record_outcome(
                &self,
                cpts: &CptsId,
                id: &str,
                outcome: &Outcome,
                now: DateTime<Utc>,
                audit: &AuditEvent,
            ) -> StoreResult<()> {
                let c = cpts.as_str();
                let (code, note) = outcome_columns(outcome);
                let mut tx = self.pool.begin().await?;
                let result = async {
                    let done = sqlx::query(
                        "UPDATE snp_booking SET outcome = $3, outcome_note = $4, outcome_at = $5
                         WHERE cpts_id = $1 AND id = $2 AND cancelled_at IS NULL",
                    )
                    .bind(c)
                    .bind(id)
                    .bind(code)
                    .bind(note)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                    if done.rows_affected() == 0 {
                        return Err(Self::booking_refusal(&mut tx, c, id).await);
                    }
                    Self::insert_audit(&mut tx, audit).await
                }
                .await;
                settle(tx, result).await
            }

            async fn booking(&self, cpts: &CptsId, id: &str) -> StoreResult<Booking> {
                let row = sqlx::query(&format!("SELECT {BOOKING_COLUMNS} FROM snp_booking WHERE cpts_id = $1 AND id = $2"))
                    .bind(cpts.as_str())
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?
                    .ok_or(StoreError::NotFound)?;
                Self::booking_of(&row)
            }

            async fn bookings(&self, cpts: &CptsId, from: DateTime<Utc>, to: DateTime<Utc>) -> StoreResult<Vec<Booking>> {
                sqlx::query(&format!(
                    "SELECT {BOOKING_COLUMNS} FROM snp_booking
                     WHERE cpts_id = $1 AND starts_at >= $2 AND starts_at < $3 ORDER BY starts_at, id"
                ))
                .bind(cpts.as_str())
                .bind(from)
                .bind(to)
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(Self::booking_of)
                .collect()
            }

            async fn bookings_of(
                &self,
                cpts: &CptsId,
                professional: ProfessionalId,
                from: DateTime<Utc>,
                to: DateTime<Utc>,
            ) -> StoreResult<Vec<Booking>> {
                let Ok(key) = professional_key(professional) else { return Ok(Vec::new()) };
                sqlx::query(&format!(
                    "SELECT {BOOKING_COLUMNS} FROM snp_booking
                     WHERE cpts_id = $1 AND professional_id = $2 AND starts_at >= $3 AND starts_at < $4
                     ORDER BY starts_at, id"
                ))
                .bind(cpts.as_str())
                .bind(key)
                .bind(from)
                .bind(to)
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(Self::booking_of)
                .collect()
            }

            async fn slot_loads(
                &self,
                cpts: &CptsId,
                from: DateTime<Utc>,
                to: DateTime<Utc>,
            ) -> StoreResult<Vec<(SlotId, u32)>> {
                let rows: Vec<(String, i64)> = sqlx::query_as(
                    "SELECT slot_id, booked FROM snp_slot_load
                     WHERE cpts_id = $1 AND starts_at >= $2 AND starts_at < $3 AND booked > 0
                     ORDER BY starts_at, slot_id",
                )
                .bind(cpts.as_str())
                .bind(from)
                .bind(to)
                .fetch_all(&self.pool)
                .await?;
                rows.into_iter()
                    .map(|(slot, booked)| Ok((slot.parse().map_err(corrupt)?, u32::try_from(booked).map_err(corrupt)?)))
                    .collect()
            }

            async fn record_request(&self, cpts: &CptsId, n: &NewRequest, audit: &AuditEvent) -> StoreResult<SnpRequest> {
                let c = cpts.as_str();
                let status = n.closure.as_ref().map_or(RequestStatus::EnAttente, Closure::status);
                let mut tx = self.pool.begin().await?;
                let result = async {
                    sqlx::query(
                        "INSERT INTO snp_request (cpts_id, id, received_at, reason, commune, contact_phone,
                            contact_email, referrer, note, created_by, status, destination, closed_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
                    )
                    .bind(c)
                    .bind(&n.id)
                    .bind(n.received_at)
                    .bind(n.reason.code())
                    .bind(n.commune.as_str())
                    .bind(n.phone.as_deref())
                    .bind(n.email.as_deref())
                    .bind(n.referrer.code())
                    .bind(n.note.as_deref())
                    .bind(&n.created_by)
                    .bind(status.code())
                    .bind(n.closure.as_ref().and_then(Closure::destination).map(Destination::code))
                    .bind(n.closure.as_ref().map(|_| n.received_at))
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| conflict_or(e, "a request with this id exists"))?;
                    Self::insert_audit(&mut tx, audit).await?;
                    Self::snp_request_in(&mut tx, c, &n.id).await
                }
                .await;
                settle(tx, result).await
            }

            async fn close_request(
                &self,
                cpts: &CptsId,
                id: &str,
                closure: &Closure,
                now: DateTime<Utc>,
                audit: &AuditEvent,
            ) -> StoreResult<SnpRequest> {
                let c = cpts.as_str();
                let mut tx = self.pool.begin().await?;
                let result = async {
                    let done = sqlx::query(
                        "UPDATE snp_request SET status = $3, destination = $4, closed_at = $5
                         WHERE cpts_id = $1 AND id = $2 AND status = 'en_attente'",
                    )
                    .bind(c)
                    .bind(id)
                    .bind(closure.status().code())
                    .bind(closure.destination().map(Destination::code))
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                    if done.rows_affected() == 0 {
                        return Err(Self::snp_request_refusal(&mut tx, c, id).await);
                    }
                    Self::insert_audit(&mut tx, audit).await?;
                    Self::snp_request_in(&mut tx, c, id).await
                }
                .await;
                settle(tx, result).await
            }

            async fn request(&self, cpts: &CptsId, id: &str) -> StoreResult<SnpRequest> {
                let mut conn = self.pool.acquire().await?;
                Self::snp_request_in(&mut conn, cpts.as_str(), id).await
            }

            async fn requests(&self, cpts: &CptsId, from: DateTime<Utc>, to: DateTime<Utc>) -> StoreResult<Vec<SnpRequest>> {
                sqlx::query(&format!(
                    "{REQUEST_SELECT} WHERE r.cpts_id = $1 AND r.received_at >= $2 AND r.received_at < $3
                     ORDER BY r.received_at, r.id"
                ))
                .bind(cpts.as_str())
                .bind(from)
                .bind(to)
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(Self::snp_request_of)
                .collect()
            }

            async fn waiting_requests(&self, cpts: &CptsId, limit: u32) -> StoreResult<Vec<SnpRequest>> {
                sqlx::query(&format!(
                    "{REQUEST_SELECT} WHERE r.cpts_id = $1 AND r.status = 'en_attente'
                     ORDER BY r.received_at, r.id LIMIT $2"
                ))
                .bind(cpts.as_str())
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(Self::snp_request_of)
                .collect()
            }

            async fn put_feed_token(
                &self,
                cpts: &CptsId,
                professional: ProfessionalId,
                token_sha256: &str,
                now: DateTime<Utc>,
                audit: &AuditEvent,
            ) -> StoreResult<()> {
                let key = professional_key(professional)?;
                let mut tx = self.pool.begin().await?;
                let result = async {
                    sqlx::query(
                        "INSERT INTO snp_feed_token (cpts_id, professional_id, token_sha256, created_at)
                         VALUES ($1, $2, $3, $4)
                         ON CONFLICT (cpts_id, professional_id) DO UPDATE
                            SET token_sha256 = excluded.token_sha256, created_at = excluded.created_at",
                    )
                    .bind(cpts.as_str())
                    .bind(key)
                    .bind(token_sha256)
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| conflict_or(e, "this token is in use"))?;
                    Self::insert_audit(&mut tx, audit).await
                }
                .await;
                settle(tx, result).await
            }

            async fn revoke_feed_token(
                &self,
                cpts: &CptsId,
                professional: ProfessionalId,
                audit: &AuditEvent,
            ) -> StoreResult<()> {
                let key = professional_key(professional)?;
                let mut tx = self.pool.begin().await?;
                let result = async {
                    sqlx::query("DELETE FROM snp_feed_token WHERE cpts_id = $1 AND professional_id = $2")
                        .bind(cpts.as_str())
                        .bind(key)
                        .execute(&mut *tx)
                        .await?;
                    Self::insert_audit(&mut tx, audit).await
                }
                .await;
                settle(tx, result).await
            }

            async fn feed_token_created(
                &self,
                cpts: &CptsId,
                professional: ProfessionalId,
            ) -> StoreResult<Option<DateTime<Utc>>> {
                let Ok(key) = professional_key(professional) else { return Ok(None) };
                Ok(sqlx::query_scalar(
                    "SELECT created_at FROM snp_feed_token WHERE cpts_id = $1 AND professional_id = $2",
                )
                .bind(cpts.as_str())
                .bind(key)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn feed_token_owner(&self, token_sha256: &str) -> StoreResult<Option<(CptsId, ProfessionalId)>> {
                let row: Option<(String, i64)> = sqlx::query_as(
                    "SELECT cpts_id, professional_id FROM snp_feed_token WHERE token_sha256 = $1",
                )
                .bind(token_sha256)
                .fetch_optional(&self.pool)
                .await?;
                row.map(|(c, p)| {
                    let cpts = CptsId::parse(&c).ok_or_else(|| corrupt(format!("cpts id {c:?}")))?;
                    let professional = u64::try_from(p).map_err(corrupt)?;
                    Ok((cpts, ProfessionalId(professional)))
                })
                .transpose()
            }
        }
    };
}

snp_sql!(SqliteStore, sqlx::sqlite::SqliteRow, sqlx::SqliteConnection);
snp_sql!(PgStore, sqlx::postgres::PgRow, sqlx::PgConnection);

impl SnpStore for Store {
    async fn put_availability(
        &self,
        cpts: &CptsId,
        availability: &Availability,
        expected_revision: Option<i64>,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> StoreResult<i64> {
        delegate!(self, s => s.put_availability(cpts, availability, expected_revision, now, audit))
    }
    async fn availability(
        &self,
        cpts: &CptsId,
        professional: ProfessionalId,
    ) -> StoreResult<Option<StoredAvailability>> {
        delegate!(self, s => s.availability(cpts, professional))
    }
    async fn availabilities(&self, cpts: &CptsId) -> StoreResult<Vec<StoredAvailability>> {
        delegate!(self, s => s.availabilities(cpts))
    }
    async fn book(&self, cpts: &CptsId, booking: &NewBooking, audit: &AuditEvent) -> StoreResult<Booking> {
        delegate!(self, s => s.book(cpts, booking, audit))
    }
    async fn cancel_booking(&self, cpts: &CptsId, id: &str, now: DateTime<Utc>, audit: &AuditEvent) -> StoreResult<()> {
        delegate!(self, s => s.cancel_booking(cpts, id, now, audit))
    }
    async fn record_outcome(
        &self,
        cpts: &CptsId,
        id: &str,
        outcome: &Outcome,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> StoreResult<()> {
        delegate!(self, s => s.record_outcome(cpts, id, outcome, now, audit))
    }
    async fn booking(&self, cpts: &CptsId, id: &str) -> StoreResult<Booking> {
        delegate!(self, s => s.booking(cpts, id))
    }
    async fn bookings(&self, cpts: &CptsId, from: DateTime<Utc>, to: DateTime<Utc>) -> StoreResult<Vec<Booking>> {
        delegate!(self, s => s.bookings(cpts, from, to))
    }
    async fn bookings_of(
        &self,
        cpts: &CptsId,
        professional: ProfessionalId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<Booking>> {
        delegate!(self, s => s.bookings_of(cpts, professional, from, to))
    }
    async fn slot_loads(
        &self,
        cpts: &CptsId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<(SlotId, u32)>> {
        delegate!(self, s => s.slot_loads(cpts, from, to))
    }
    async fn record_request(&self, cpts: &CptsId, request: &NewRequest, audit: &AuditEvent) -> StoreResult<SnpRequest> {
        delegate!(self, s => s.record_request(cpts, request, audit))
    }
    async fn close_request(
        &self,
        cpts: &CptsId,
        id: &str,
        closure: &Closure,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> StoreResult<SnpRequest> {
        delegate!(self, s => s.close_request(cpts, id, closure, now, audit))
    }
    async fn request(&self, cpts: &CptsId, id: &str) -> StoreResult<SnpRequest> {
        delegate!(self, s => s.request(cpts, id))
    }
    async fn requests(&self, cpts: &CptsId, from: DateTime<Utc>, to: DateTime<Utc>) -> StoreResult<Vec<SnpRequest>> {
        delegate!(self, s => s.requests(cpts, from, to))
    }
    async fn waiting_requests(&self, cpts: &CptsId, limit: u32) -> StoreResult<Vec<SnpRequest>> {
        delegate!(self, s => s.waiting_requests(cpts, limit))
    }
    async fn put_feed_token(
        &self,
        cpts: &CptsId,
        professional: ProfessionalId,
        token_sha256: &str,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> StoreResult<()> {
        delegate!(self, s => s.put_feed_token(cpts, professional, token_sha256, now, audit))
    }
    async fn revoke_feed_token(
        &self,
        cpts: &CptsId,
        professional: ProfessionalId,
        audit: &AuditEvent,
    ) -> StoreResult<()> {
        delegate!(self, s => s.revoke_feed_token(cpts, professional, audit))
    }
    async fn feed_token_created(
        &self,
        cpts: &CptsId,
        professional: ProfessionalId,
    ) -> StoreResult<Option<DateTime<Utc>>> {
        delegate!(self, s => s.feed_token_created(cpts, professional))
    }
    async fn feed_token_owner(&self, token_sha256: &str) -> StoreResult<Option<(CptsId, ProfessionalId)>> {
        delegate!(self, s => s.feed_token_owner(token_sha256))
    }
}
