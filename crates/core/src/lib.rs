//! Maillage domain core: pure, synchronous, no I/O.
//!
//! Everything here is a value or a function of values. The clock, the network and the
//! database live in outer crates; the current date is always passed in.

// Library code returns errors; tests may unwrap (clippy.toml allows it in tests).
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod access;
pub mod aci;
pub mod directory;
pub mod geo;
pub mod ids;
pub mod matching;
pub mod national;
pub mod patients;
pub mod refdata;
pub mod snp;
pub mod territory;
pub mod text;
