pub mod cancel_unstake;
pub mod close_provider;
pub mod heartbeat;
pub mod register_provider;
pub mod request_unstake;
pub mod stake;
pub mod update_provider;
pub mod withdraw_unstaked;

pub use cancel_unstake::*;
pub use close_provider::*;
pub use heartbeat::*;
pub use register_provider::*;
pub use request_unstake::*;
pub use stake::*;
pub use update_provider::*;
pub use withdraw_unstaked::*;
