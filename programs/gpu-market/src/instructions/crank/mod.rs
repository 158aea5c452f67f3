pub mod expire_job;
pub mod finalize_job;

pub use expire_job::*;
pub use finalize_job::*;
