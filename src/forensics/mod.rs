//! Forensics over decoded snapshots: what changed between two states
//! (`diff`), what fills the database (`stats`), and how a selection changed
//! across many backups (`timeline`).
//!
//! Works on MVCC records and decoded objects; knows nothing of pages.

pub mod diff;
pub mod stats;
pub mod timeline;
