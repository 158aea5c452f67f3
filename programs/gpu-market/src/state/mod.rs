pub mod hardware;
pub mod market;
pub mod provider;
pub mod verifier;

pub use hardware::*;
pub use market::*;
pub use provider::*;
pub use verifier::*;
