//! The port for the registry of patients without a médecin traitant and the capacities the
//! GPs declare. The store keeps values; the rules (what a change may do, duplicates, priority)
//! are core's (`maillage_core::patients`). Reads of these records are audited by the callers
//! (the web use cases), writes commit their audit event in their transaction.

use crate::StoreResult;
use crate::model::{AuditEvent, CptsId};
use chrono::{DateTime, Utc};
use maillage_core::patients::{
    DoctorCapacity, PatientRequest, RegistrySettings, RequestState, RequestStatus, StatusChange,
};
use serde::Serialize;
use std::collections::BTreeMap;
use std::future::Future;

/// A request with its state and history (oldest first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestRecord {
    pub request: PatientRequest,
    pub state: RequestState,
    pub history: Vec<StatusChange>,
    /// Grows by one at every change: a change made from an older read is refused (`Stale`).
    pub revision: i64,
}

/// A request as a list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestRow {
    pub request: PatientRequest,
    pub status: RequestStatus,
    pub doctor: Option<String>,
    pub since: DateTime<Utc>,
}

/// What a list of requests may be narrowed to; every criterion optional.
#[derive(Debug, Clone, Default)]
pub struct RequestQuery {
    /// Words of the names (accents and case ignored).
    pub text: Option<String>,
    pub status: Option<RequestStatus>,
    /// INSEE code of the commune where the person lives.
    pub commune: Option<String>,
    /// National id of the doctor the request is proposed to, accepted by or declared with.
    pub doctor: Option<String>,
    pub offset: u32,
    pub limit: u32,
}

/// One change to apply to a request: the revision it was decided on, the state after, the
/// history entry.
#[derive(Debug, Clone)]
pub struct RequestChange {
    pub request_id: String,
    pub expected_revision: i64,
    pub state: RequestState,
    pub change: StatusChange,
}

/// A GP's declared capacity and when it was last changed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CapacityRecord {
    pub capacity: DoctorCapacity,
    pub updated_at: DateTime<Utc>,
}

pub trait PatientStore {
    /// A new request, waiting, revision 1. `Conflict` if the id exists.
    fn register_request(
        &self,
        cpts: &CptsId,
        request: &PatientRequest,
        audit: &AuditEvent,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Replaces what the person gave (status and history untouched); `Stale` when the request
    /// changed since `expected_revision`.
    fn update_request(
        &self,
        cpts: &CptsId,
        request: &PatientRequest,
        expected_revision: i64,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    fn request(&self, cpts: &CptsId, id: &str) -> impl Future<Output = StoreResult<RequestRecord>> + Send;
    /// A page of requests, oldest registration first (who waits longest comes first), and the
    /// total count.
    fn search_requests(
        &self,
        cpts: &CptsId,
        query: &RequestQuery,
    ) -> impl Future<Output = StoreResult<(Vec<RequestRow>, u64)>> + Send;
    /// How many requests have each status (statuses with none are absent).
    fn status_counts(&self, cpts: &CptsId) -> impl Future<Output = StoreResult<BTreeMap<RequestStatus, u64>>> + Send;
    /// Every request with its state and history: what the matching, the duplicate check and
    /// the indicators read.
    fn registry(&self, cpts: &CptsId) -> impl Future<Output = StoreResult<Vec<RequestRecord>>> + Send;
    /// Applies status changes (one request each at most), all or none: `Stale` if one request
    /// changed since its expected revision, `NotFound` if one is gone.
    fn apply_changes(
        &self,
        cpts: &CptsId,
        changes: &[RequestChange],
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Erases a request and its history (RGPD erasure, or the retention period over).
    fn erase_request(
        &self,
        cpts: &CptsId,
        id: &str,
        audit: &AuditEvent,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Sets a GP's capacity; `NotFound` unless the directory of the CPTS has the professional.
    fn put_capacity(
        &self,
        cpts: &CptsId,
        capacity: &DoctorCapacity,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    fn delete_capacity(
        &self,
        cpts: &CptsId,
        national_id: &str,
        audit: &AuditEvent,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// The CPTS's registry settings; `None` until it changes the defaults.
    fn registry_settings(&self, cpts: &CptsId) -> impl Future<Output = StoreResult<Option<RegistrySettings>>> + Send;
    fn put_registry_settings(
        &self,
        cpts: &CptsId,
        settings: &RegistrySettings,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// By national id.
    fn capacities(&self, cpts: &CptsId) -> impl Future<Output = StoreResult<Vec<CapacityRecord>>> + Send;
}
