//! The port for same-day care (soins non programmés): what professionals publish, and the
//! bookings made in their slots. The rules (validation, expansion into slots, intake, outcomes)
//! are core's (`maillage_core::snp`); the store keeps values and is the authority on capacity:
//! a slot is never booked beyond what its publication allows, however many operators book it at
//! once. Reads of bookings are patient data, audited by the callers (the web use cases); writes
//! commit their audit event in their transaction.

use crate::StoreResult;
use crate::model::{AuditEvent, CptsId};
use chrono::{DateTime, Utc};
use maillage_core::ids::InseeCode;
use maillage_core::snp::booking::{Intake, Outcome, ReasonCategory, ReferrerKind};
use maillage_core::snp::{Availability, Place, ProfessionalId, SlotId};
use serde::Serialize;
use std::future::Future;

/// A professional's publication and its optimistic-concurrency revision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredAvailability {
    pub availability: Availability,
    /// Grows by one at every replacement: a replacement made from an older read is `Stale`.
    pub revision: i64,
    pub updated_at: DateTime<Utc>,
}

/// A booking to make. The slot is named by its id; its instants and capacity come from the
/// professional's stored publication, expanded by core, never from the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewBooking {
    /// Chosen by the caller, so that its audit event can name it.
    pub id: String,
    pub slot: SlotId,
    pub reason: ReasonCategory,
    pub commune: InseeCode,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub referrer: ReferrerKind,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
    /// How the audit log names who booked.
    pub created_by: String,
}

impl NewBooking {
    /// A booking of `slot` for a checked intake.
    pub fn from_intake(
        id: impl Into<String>,
        slot: SlotId,
        intake: &Intake,
        now: DateTime<Utc>,
        by: impl Into<String>,
    ) -> Self {
        NewBooking {
            id: id.into(),
            slot,
            reason: intake.reason,
            commune: intake.commune,
            phone: intake.phone.clone(),
            email: intake.email.clone(),
            referrer: intake.referrer,
            note: intake.note.clone(),
            created_at: now,
            created_by: by.into(),
        }
    }
}

/// A booking as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Booking {
    pub id: String,
    /// Names the professional and the place too.
    pub slot: SlotId,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub place: Place,
    pub reason: ReasonCategory,
    pub commune: InseeCode,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub referrer: ReferrerKind,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub cancelled_at: Option<DateTime<Utc>>,
    /// What became of the patient, and when it was recorded.
    pub outcome: Option<(Outcome, DateTime<Utc>)>,
}

pub trait SnpStore {
    /// Writes a professional's whole publication (the professional is the one it names).
    /// `expected_revision`: `None` to create it (`Conflict` if it exists), `Some(r)` to replace
    /// revision `r` (`Stale` if someone wrote since, `NotFound` if there is none). Returns the
    /// new revision. Bookings already made stay, even in slots the new publication drops.
    fn put_availability(
        &self,
        cpts: &CptsId,
        availability: &Availability,
        expected_revision: Option<i64>,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> impl Future<Output = StoreResult<i64>> + Send;
    fn availability(
        &self,
        cpts: &CptsId,
        professional: ProfessionalId,
    ) -> impl Future<Output = StoreResult<Option<StoredAvailability>>> + Send;
    /// Every publication of the CPTS, by professional: what its slot index is built from.
    fn availabilities(&self, cpts: &CptsId) -> impl Future<Output = StoreResult<Vec<StoredAvailability>>> + Send;
    /// Takes one place in a published slot. `NotFound` if the professional publishes nothing in
    /// this CPTS or the slot is not in their publication; `Conflict("slot full")` when its
    /// capacity is reached; `Conflict` if the id is taken.
    fn book(
        &self,
        cpts: &CptsId,
        booking: &NewBooking,
        audit: &AuditEvent,
    ) -> impl Future<Output = StoreResult<Booking>> + Send;
    /// Cancels a booking and frees its place. `Conflict` if it is already cancelled or has an
    /// outcome (the patient came, or not: the place was used).
    fn cancel_booking(
        &self,
        cpts: &CptsId,
        id: &str,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Records (or corrects) what became of the patient; `Conflict` on a cancelled booking.
    fn record_outcome(
        &self,
        cpts: &CptsId,
        id: &str,
        outcome: &Outcome,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    fn booking(&self, cpts: &CptsId, id: &str) -> impl Future<Output = StoreResult<Booking>> + Send;
    /// Bookings starting in `[from, to)`, cancelled ones included, by start then id.
    fn bookings(
        &self,
        cpts: &CptsId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> impl Future<Output = StoreResult<Vec<Booking>>> + Send;
    /// One professional's bookings starting in `[from, to)`, cancelled ones included, by start.
    fn bookings_of(
        &self,
        cpts: &CptsId,
        professional: ProfessionalId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> impl Future<Output = StoreResult<Vec<Booking>>> + Send;
    /// Places taken in the slots starting in `[from, to)` (slots with none are absent), by
    /// start: what a slot index marks as booked when it is built.
    fn slot_loads(
        &self,
        cpts: &CptsId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> impl Future<Output = StoreResult<Vec<(SlotId, u32)>>> + Send;
}
