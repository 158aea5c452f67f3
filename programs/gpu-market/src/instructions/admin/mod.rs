pub mod add_verifier;
pub mod initialize_market;
pub mod reinstate_provider;
pub mod remove_verifier;
pub mod resolve_dispute;
pub mod set_paused;
pub mod update_market;

pub use add_verifier::*;
pub use initialize_market::*;
pub use reinstate_provider::*;
pub use remove_verifier::*;
pub use resolve_dispute::*;
pub use set_paused::*;
pub use update_market::*;
