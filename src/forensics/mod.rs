//! Forensics over decoded snapshots: what changed between two states
//! (`diff`), what fills the database (`stats`), and how a selection changed
//! across many backups (`timeline`); the X.509 certificates a backup holds
//! (`certs`); the rows of `ls` (`listing`) and the revisions of one key
//! (`history`).
//!
//! Works on MVCC records and decoded objects; knows nothing of pages.

pub mod certs;
pub mod diff;
pub mod diff_report;
pub mod history;
pub mod listing;
pub mod stats;
pub mod timeline;
