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
use maillage_core::snp::requests::{Closure, Destination, RequestFacts, RequestStatus};
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

/// The request a booking orients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestRef {
    /// A request taken now, recorded with the booking from its intake (received at the
    /// booking's `created_at`).
    New(String),
    /// A request recorded earlier and still waiting (`Conflict` otherwise).
    Waiting(String),
}

impl RequestRef {
    pub fn id(&self) -> &str {
        match self {
            RequestRef::New(id) | RequestRef::Waiting(id) => id,
        }
    }
}

/// A booking to make. The slot is named by its id; its instants and capacity come from the
/// professional's stored publication, expanded by core, never from the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewBooking {
    /// Chosen by the caller, so that its audit event can name it.
    pub id: String,
    pub request: RequestRef,
    /// Profession code of the slot's professional (`10` médecin…), counted by the indicators.
    pub profession: Option<String>,
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
    /// The request is new, named after the booking (`r-<booking id>`); the caller may change
    /// `request` and set `profession`.
    pub fn from_intake(
        id: impl Into<String>,
        slot: SlotId,
        intake: &Intake,
        now: DateTime<Utc>,
        by: impl Into<String>,
    ) -> Self {
        let id = id.into();
        NewBooking {
            request: RequestRef::New(format!("r-{id}")),
            profession: None,
            id,
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
    /// The request it orients (absent on bookings made before requests were recorded).
    pub request: Option<String>,
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

/// A request to record without a slot: waiting (`closure` `None`) or closed at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRequest {
    pub id: String,
    pub received_at: DateTime<Utc>,
    pub reason: ReasonCategory,
    pub commune: InseeCode,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub referrer: ReferrerKind,
    pub note: Option<String>,
    pub created_by: String,
    pub closure: Option<Closure>,
}

impl NewRequest {
    pub fn from_intake(
        id: impl Into<String>,
        intake: &Intake,
        now: DateTime<Utc>,
        by: impl Into<String>,
        closure: Option<Closure>,
    ) -> Self {
        NewRequest {
            id: id.into(),
            received_at: now,
            reason: intake.reason,
            commune: intake.commune,
            phone: intake.phone.clone(),
            email: intake.email.clone(),
            referrer: intake.referrer,
            note: intake.note.clone(),
            created_by: by.into(),
            closure,
        }
    }
}

/// A request as stored, with the outcome of its booking when it has one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SnpRequest {
    pub id: String,
    pub received_at: DateTime<Utc>,
    pub reason: ReasonCategory,
    pub commune: InseeCode,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub referrer: ReferrerKind,
    pub note: Option<String>,
    pub created_by: String,
    pub status: RequestStatus,
    pub destination: Option<Destination>,
    pub booking: Option<String>,
    pub appointment: Option<DateTime<Utc>>,
    pub profession: Option<String>,
    pub closed_at: Option<DateTime<Utc>>,
    pub outcome: Option<Outcome>,
}

impl SnpRequest {
    /// What the indicators count of it.
    pub fn facts(&self) -> RequestFacts {
        RequestFacts {
            received_at: self.received_at,
            reason: self.reason,
            status: self.status,
            destination: self.destination,
            appointment: self.appointment,
            profession: self.profession.clone(),
            outcome: self.outcome.clone(),
        }
    }
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
    /// Takes one place in a published slot and orients its request (recorded with it when new).
    /// `NotFound` if the professional publishes nothing in this CPTS or the slot is not in their
    /// publication, or the waiting request does not exist; `Conflict("slot full")` when its
    /// capacity is reached; `Conflict` if an id is taken or the request no longer waits.
    fn book(
        &self,
        cpts: &CptsId,
        booking: &NewBooking,
        audit: &AuditEvent,
    ) -> impl Future<Output = StoreResult<Booking>> + Send;
    /// Cancels a booking and frees its place; its request waits again for an orientation.
    /// `Conflict` if it is already cancelled or has an outcome (the patient came, or not: the
    /// place was used).
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
    /// Records a request taken without a slot. `Conflict` if the id is taken.
    fn record_request(
        &self,
        cpts: &CptsId,
        request: &NewRequest,
        audit: &AuditEvent,
    ) -> impl Future<Output = StoreResult<SnpRequest>> + Send;
    /// Closes a waiting request (sent elsewhere, or given up). `Conflict` if it no longer waits.
    fn close_request(
        &self,
        cpts: &CptsId,
        id: &str,
        closure: &Closure,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> impl Future<Output = StoreResult<SnpRequest>> + Send;
    fn request(&self, cpts: &CptsId, id: &str) -> impl Future<Output = StoreResult<SnpRequest>> + Send;
    /// Requests received in `[from, to)`, by reception time then id.
    fn requests(
        &self,
        cpts: &CptsId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> impl Future<Output = StoreResult<Vec<SnpRequest>>> + Send;
    /// Requests waiting for an orientation, oldest first (at most `limit`).
    fn waiting_requests(&self, cpts: &CptsId, limit: u32) -> impl Future<Output = StoreResult<Vec<SnpRequest>>> + Send;
    /// Gives the professional a new calendar-feed token (its SHA-256, hex), replacing any older
    /// one, which stops working.
    fn put_feed_token(
        &self,
        cpts: &CptsId,
        professional: ProfessionalId,
        token_sha256: &str,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Revokes the professional's feed token (nothing to do if she has none).
    fn revoke_feed_token(
        &self,
        cpts: &CptsId,
        professional: ProfessionalId,
        audit: &AuditEvent,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// When the professional's current feed token was made, if she has one.
    fn feed_token_created(
        &self,
        cpts: &CptsId,
        professional: ProfessionalId,
    ) -> impl Future<Output = StoreResult<Option<DateTime<Utc>>>> + Send;
    /// Whose feed a token (its SHA-256) opens.
    fn feed_token_owner(
        &self,
        token_sha256: &str,
    ) -> impl Future<Output = StoreResult<Option<(CptsId, ProfessionalId)>>> + Send;
}
