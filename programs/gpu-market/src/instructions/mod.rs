pub mod admin;
pub mod client;
pub mod crank;
pub mod provider;
pub mod settle;

pub use admin::*;
pub use client::*;
pub use crank::*;
pub use provider::*;
pub use settle::*;
