pub mod expire_job;
pub mod expire_sample_seed;
pub mod finalize_job;
pub mod pay_pending_slash;
pub mod pay_verifier_pending_slash;
pub mod record_sample_seed;
pub mod settle_dispute;

pub use expire_job::*;
pub use expire_sample_seed::*;
pub use finalize_job::*;
pub use pay_pending_slash::*;
pub use pay_verifier_pending_slash::*;
pub use record_sample_seed::*;
pub use settle_dispute::*;
