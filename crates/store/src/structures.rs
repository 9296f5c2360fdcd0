//! The port for the structures of the territory, their links, and the roll of members
//! (professionals and structures) with their dues.

use crate::StoreResult;
use crate::model::{AuditEvent, CptsId};
use chrono::{DateTime, NaiveDate, Utc};
use maillage_core::directory::model::{Membership, PracticePlace};
use maillage_core::directory::structures::{ProfessionalLink, RelationKind, Structure, StructureRelation};
use serde::Serialize;
use std::future::Future;

/// A structure in the list, with what the list shows of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StructureRow {
    pub structure: Structure,
    /// Professionals still listed who practise there (per the extract) or are linked by hand.
    pub professionals: u32,
    pub membership: Option<Membership>,
}

/// How a professional is linked to a structure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LinkedProfessional {
    pub national_id: String,
    pub family_name: String,
    pub given_name: String,
    pub profession_label: Option<String>,
    /// Practises at one of the structure's places per the imported extract.
    pub practises_there: bool,
    /// Linked by hand, with a role if any (`Some(None)`: linked without a role).
    pub manual: Option<Option<String>>,
    /// No longer listed by the national extract.
    pub left: bool,
}

/// A relation of the structure with another, seen from the structure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RelatedStructure {
    pub relation: StructureRelation,
    /// Whether the structure is the relation's `from` (else its `to`).
    pub outgoing: bool,
    pub other_id: String,
    pub other_name: String,
}

/// A structure with everything its page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StructureEntry {
    pub structure: Structure,
    pub membership: Option<Membership>,
    /// By family then given name.
    pub professionals: Vec<LinkedProfessional>,
    pub relations: Vec<RelatedStructure>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Who holds a membership of the association.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum MemberRef {
    /// By national id (`8` + RPPS or `0` + ADELI).
    Professional(String),
    /// By structure id.
    Structure(String),
}

impl MemberRef {
    /// `p:<national id>` or `s:<structure id>`: one form field for either.
    pub fn key(&self) -> String {
        match self {
            Self::Professional(id) => format!("p:{id}"),
            Self::Structure(id) => format!("s:{id}"),
        }
    }

    pub fn parse_key(key: &str) -> Option<Self> {
        let (kind, id) = key.split_once(':')?;
        let id = id.trim();
        if id.is_empty() || id.len() > 64 {
            return None;
        }
        match kind {
            "p" => Some(Self::Professional(id.to_owned())),
            "s" => Some(Self::Structure(id.to_owned())),
            _ => None,
        }
    }
}

/// One membership of the roll.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RollEntry {
    pub member: MemberRef,
    /// "Family Given" for a professional, the name for a structure.
    pub name: String,
    /// Profession label, or the structure's kind code.
    pub detail: String,
    pub membership: Membership,
}

/// Structures of the directory, links, structure memberships and the roll of members. Every
/// write commits its audit event with it.
pub trait StructureStore {
    /// `Conflict` if another structure of the CPTS has the same FINESS, SIRET or technical id.
    fn create_structure(
        &self,
        cpts: &CptsId,
        structure: &Structure,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Replaces the structure's fields (`NotFound`, `Conflict` as for creation).
    fn update_structure(
        &self,
        cpts: &CptsId,
        structure: &Structure,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Deletes the structure with its links, relations and membership.
    fn delete_structure(
        &self,
        cpts: &CptsId,
        id: &str,
        audit: &AuditEvent,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// By name.
    fn list_structures(&self, cpts: &CptsId) -> impl Future<Output = StoreResult<Vec<StructureRow>>> + Send;
    fn structure_entry(&self, cpts: &CptsId, id: &str) -> impl Future<Output = StoreResult<StructureEntry>> + Send;
    /// The practice places of the professionals still listed, with their national ids: what
    /// [`maillage_core::directory::structures::imported_structures`] groups.
    fn listed_places(&self, cpts: &CptsId) -> impl Future<Output = StoreResult<Vec<(String, PracticePlace)>>> + Send;
    /// Links a professional of the directory by hand (or changes the role). `NotFound` unless
    /// both exist.
    fn link_professional(
        &self,
        cpts: &CptsId,
        link: &ProfessionalLink,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    fn unlink_professional(
        &self,
        cpts: &CptsId,
        structure_id: &str,
        national_id: &str,
        audit: &AuditEvent,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// `NotFound` unless both structures exist; `Conflict` if the relation exists.
    fn add_relation(
        &self,
        cpts: &CptsId,
        relation: &StructureRelation,
        audit: &AuditEvent,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    fn delete_relation(
        &self,
        cpts: &CptsId,
        from: &str,
        to: &str,
        kind: RelationKind,
        audit: &AuditEvent,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Sets the structure's membership (`profession_referent` is not stored for structures).
    fn put_structure_membership(
        &self,
        cpts: &CptsId,
        id: &str,
        membership: &Membership,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// Every membership, professionals and structures, by name.
    fn member_roll(&self, cpts: &CptsId) -> impl Future<Output = StoreResult<Vec<RollEntry>>> + Send;
    /// Records dues paid until `until` for the listed members, in one transaction: `NotFound`
    /// (and nothing written) if one of them has no membership. Returns how many changed.
    fn record_dues(
        &self,
        cpts: &CptsId,
        members: &[MemberRef],
        until: NaiveDate,
        now: DateTime<Utc>,
        audit: &AuditEvent,
    ) -> impl Future<Output = StoreResult<u64>> + Send;
}
