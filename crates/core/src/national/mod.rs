//! The national observatory of CPTS ("Plan 100 % CPTS", issue 8): the registry of every CPTS of
//! a national instance, the coverage of the population it gives as of any date, the *zones
//! blanches* left uncovered, the task forces that work on them, and what-if simulations.
//!
//! - [`registry`]: a CPTS as the observatory knows it (name, FINESS/SIREN, communes, dated
//!   states) and the `;`-separated CSV of the whole registry: a parser that reports every bad
//!   line (line, column, reason in French and English) and a writer;
//! - [`coverage`]: per commune, who claims it; population covered by signed CPTS and by any
//!   project, by département, région and nation; overlaps; zones blanches as connected areas;
//!   counts of CPTS per state in the seed 004 style. Dense vectors indexed by commune, no map in
//!   the hot path: all communes and 1,000 CPTS in a few milliseconds;
//! - [`whatif`]: extend a CPTS by some communes, or create one, and see its population, size
//!   class and yearly ACI financing (computed by [`crate::aci::simulate`]);
//! - [`taskforce`]: the ARS/CPAM task force of a zone blanche, its status and dated actions;
//! - [`compare`]: harmonised indicators across the CPTS that use Maillage, small counts
//!   masked;
//! - [`synth`]: a deterministic synthetic national registry (~800 CPTS on real communes) for
//!   demos, tests and benchmarks.
//!
//! Everything is pure: the date of a computation is a parameter. The model, the file format and
//! every definition are in `docs/national.md`.

pub mod compare;
pub mod coverage;
pub mod registry;
pub mod synth;
pub mod taskforce;
pub mod whatif;

#[cfg(test)]
mod tests;

pub use coverage::{
    Area, CommuneCoverage, Coverage, CptsOn, NationalIndex, Overlap, PreparedRegistry, Share, StageCounts, StateTable,
    ZoneBlanche, coverage,
};
pub use registry::{
    Column, CptsState, HistoryError, LineError, RegisteredCpts, Stage, StateChange, parse_registry, write_registry,
};
pub use synth::{SynthParams, generate};
pub use taskforce::{Action, TaskForce, TaskForceError, TaskForceStatus, zones_without_task_force};
pub use whatif::{Creation, Extension, Financing, WhatIf, WhatIfProblem, WhatIfWarning, steady_year};
