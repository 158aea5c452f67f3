pub mod add_verifier;
pub mod initialize_market;
pub mod remove_verifier;
pub mod set_paused;
pub mod update_market;

pub use add_verifier::*;
pub use initialize_market::*;
pub use remove_verifier::*;
pub use set_paused::*;
pub use update_market::*;
