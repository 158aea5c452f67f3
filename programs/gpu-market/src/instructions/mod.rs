pub mod admin;
pub mod client;
pub mod crank;
pub mod provider;
pub mod settle;
pub mod slash;
pub mod verifier;

pub use admin::*;
pub use client::*;
pub use crank::*;
pub use provider::*;
pub use settle::*;
pub use slash::*;
pub use verifier::*;
