//! The territory's directory of health professionals and structures.
//!
//! - [`professions`](mod@professions): the ANS profession codes (TRE_G15 and the few others the extract uses);
//! - [`annuaire`]: the Annuaire Santé open-data extract — header, zero-copy line parsing,
//!   rejects with line, column and reason;
//! - [`filter`]: which lines belong to a territory (plus a margin), decided from two fields;
//! - [`scan`](mod@scan): the streaming import (bounded memory, counters, progress);
//! - [`draft`]: owned activity lines and their grouping into professionals;
//! - [`model`]: professionals, practice places, structures, membership, local corrections and
//!   the effective view that overlays them;
//! - [`synth`]: a generator of realistic fictitious extracts for tests and benchmarks.
//!
//! The format, its sources and every column are described in `docs/directory.md`.

pub mod annuaire;
pub mod collect;
pub mod draft;
pub mod fhir;
pub mod filter;
pub mod members;
pub mod model;
pub mod professions;
pub mod scan;
pub mod stats;
pub mod structures;
pub mod synth;

pub use annuaire::{
    ActivityRecord, AnnuaireHeader, ColumnMap, Field, HeaderError, IdType, Reject, SkillRef, commune_of, parse_record,
};
pub use draft::{Activity, DraftWarning, ProfessionalDraft, group_by_person};
pub use filter::{Placement, TerritoryFilter, Zone};
pub use model::{
    Address, CorrectableField, Correction, CorrectionError, EffectivePlace, EffectiveProfessional, ExerciseMode,
    Membership, MembershipError, MembershipStatus, NationalId, PracticePlace, Professional, Sourced, Specialty,
    StructureKind, StructureRef, effective,
};
pub use professions::{Profession, profession, professions};
pub use scan::{ScanError, ScanOptions, ScanSink, ScanStats, read_header, scan, scan_with};
