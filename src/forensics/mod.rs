//! Forensics over decoded snapshots: what changed between two states
//! (`diff`) and what fills the database (`stats`).
//!
//! Works on MVCC records and decoded objects; knows nothing of pages.

pub mod diff;
pub mod stats;
