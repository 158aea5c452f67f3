pub mod accept_bid;
pub mod accept_result;
pub mod cancel_job;
pub mod close_job;
pub mod create_job;
pub mod dispute_result;

pub use accept_bid::*;
pub use accept_result::*;
pub use cancel_job::*;
pub use close_job::*;
pub use create_job::*;
pub use dispute_result::*;
