pub mod bid;
pub mod hardware;
pub mod job;
pub mod market;
pub mod provider;
pub mod verdict;
pub mod verifier;

pub use bid::*;
pub use hardware::*;
pub use job::*;
pub use market::*;
pub use provider::*;
pub use verdict::*;
pub use verifier::*;
