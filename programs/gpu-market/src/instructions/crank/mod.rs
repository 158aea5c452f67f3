pub mod expire_job;
pub mod finalize_job;
pub mod record_sample_seed;

pub use expire_job::*;
pub use finalize_job::*;
pub use record_sample_seed::*;
