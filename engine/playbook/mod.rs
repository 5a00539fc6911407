//! Playbooks: the model (what the YAML says), loading (YAML to model, with
//! places for every error) and validation (model to a runnable plan).

pub mod active;
pub mod budget;
pub mod diagnostic;
pub mod error;
pub mod fleet_rules;
pub mod load;
pub mod load_all;
mod load_error;
pub mod model;
pub mod notify_file;
pub mod plan;
pub mod rate_limit;
mod retention;
mod set_aside;
mod shard;
mod signoff_rule;
mod step_de;
pub mod tree;
pub mod validate;
pub mod waivers_file;

pub use diagnostic::Diagnostic;
pub use error::{LoadError, Problem};
pub use load::{Loaded, load};
pub use model::Playbook;
pub use plan::{Plan, PlannedStep};
pub use retention::Retention;
pub use signoff_rule::SignoffRule;
