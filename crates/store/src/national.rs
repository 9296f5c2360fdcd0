//! The port for the national observatory (issue 8): the registry of every CPTS of the country
//! and the task forces of the zones blanches. National data, owned by no CPTS. The store keeps
//! values; the rules (what a registry file may hold, what a task force may record) are core's
//! (`maillage_core::national`). Writes commit their audit event in their transaction.

use crate::StoreResult;
use crate::model::AuditEvent;
use chrono::{DateTime, Utc};
use maillage_core::national::registry::RegisteredCpts;
use maillage_core::national::taskforce::TaskForce;
use serde::Serialize;
use std::future::Future;

/// A task force as stored: with the région of its key commune and its revision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredTaskForce {
    pub task_force: TaskForce,
    /// INSEE code of the région, what a regional observer's list is filtered on.
    pub region: String,
    /// Grows by one at every write: a write made from an older read is refused (`Stale`).
    pub revision: i64,
    pub updated_at: DateTime<Utc>,
}

pub trait NationalStore {
    /// Replaces the whole registry atomically, in the given order, with the audit event; all or
    /// nothing (`Conflict` if two CPTS share an id). Task forces are not touched.
    fn replace_national_registry(
        &self,
        registry: &[RegisteredCpts],
        audit: &AuditEvent,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// The registry in its order, histories oldest first, in two queries.
    fn national_registry(&self) -> impl Future<Output = StoreResult<Vec<RegisteredCpts>>> + Send;
    /// Bumped by every [`Self::replace_national_registry`] (0 before the first): what is derived
    /// from the registry stays valid while it is unchanged.
    fn national_registry_revision(&self) -> impl Future<Output = StoreResult<i64>> + Send;
    /// Every task force, or those of one région; by zone key, actions oldest first; two queries.
    fn task_forces(&self, region: Option<&str>) -> impl Future<Output = StoreResult<Vec<StoredTaskForce>>> + Send;
    /// `NotFound` if the zone has no task force.
    fn task_force(&self, zone_key: &str) -> impl Future<Output = StoreResult<StoredTaskForce>> + Send;
    /// Writes a whole task force (owner, status, région, every action). `expected_revision`:
    /// `None` to create it at revision 1 (`Conflict` if the zone has one), `Some(r)` to replace
    /// revision `r` (`Stale` if someone wrote since, `NotFound` if there is none). Returns the new
    /// revision.
    fn put_task_force(
        &self,
        task_force: &TaskForce,
        region: &str,
        expected_revision: Option<i64>,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> impl Future<Output = StoreResult<i64>> + Send;
}
