//! Renders a [`RunRecord`](crate::record::RunRecord) (text, Markdown, HTML,
//! JUnit, Nagios, TAP, templates) and signs what was written. The record itself lives in
//! `record/`; this module only reads it.

pub mod answers;
pub mod chain;
pub mod format;
pub mod journal;
pub mod junit;
pub mod nagios;
pub mod page;
pub mod render;
pub mod sign;
pub mod status_page;
pub mod tap;
pub mod text;

pub use answers::{AnswersError, NotAVerdict};
pub use format::UnknownFormat;
pub use journal::JournalError;
pub use render::ReportError;
pub use sign::{SignError, VerifyError};
