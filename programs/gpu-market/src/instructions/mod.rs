pub mod admin;
pub mod provider;

pub use admin::*;
pub use provider::*;
