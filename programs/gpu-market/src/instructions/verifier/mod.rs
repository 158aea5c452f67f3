pub mod close_verdict;
pub mod close_verifier;
pub mod stake_verifier;
pub mod submit_verdict;
pub mod withdraw_verifier_stake;

pub use close_verdict::*;
pub use close_verifier::*;
pub use stake_verifier::*;
pub use submit_verdict::*;
pub use withdraw_verifier_stake::*;
