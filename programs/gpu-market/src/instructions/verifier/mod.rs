pub mod close_verdict;
pub mod submit_verdict;

pub use close_verdict::*;
pub use submit_verdict::*;
