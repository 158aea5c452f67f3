//! Address derivation shared by the program's clients: tests, CLI, agents and indexer.

use crate::{ID, constants::*};
use anchor_lang::prelude::Pubkey;

pub fn find_market_address(authority: &Pubkey, market_id: u64) -> (Pubkey, u8) {
    Pubkey::find_program_address(
        &[SEED_MARKET, authority.as_ref(), &market_id.to_le_bytes()],
        &ID,
    )
}

pub fn find_provider_address(market: &Pubkey, authority: &Pubkey) -> (Pubkey, u8) {
    Pubkey::find_program_address(&[SEED_PROVIDER, market.as_ref(), authority.as_ref()], &ID)
}

pub fn find_stake_vault_address(provider: &Pubkey) -> (Pubkey, u8) {
    Pubkey::find_program_address(&[SEED_STAKE_VAULT, provider.as_ref()], &ID)
}

pub fn find_payout_vault_address(provider: &Pubkey) -> (Pubkey, u8) {
    Pubkey::find_program_address(&[SEED_PAYOUT_VAULT, provider.as_ref()], &ID)
}

pub fn find_verifier_address(market: &Pubkey, authority: &Pubkey) -> (Pubkey, u8) {
    Pubkey::find_program_address(&[SEED_VERIFIER, market.as_ref(), authority.as_ref()], &ID)
}

pub fn find_verifier_stake_vault_address(verifier: &Pubkey) -> (Pubkey, u8) {
    Pubkey::find_program_address(&[SEED_VERIFIER_STAKE_VAULT, verifier.as_ref()], &ID)
}

pub fn find_job_address(market: &Pubkey, client: &Pubkey, nonce: u64) -> (Pubkey, u8) {
    Pubkey::find_program_address(
        &[
            SEED_JOB,
            market.as_ref(),
            client.as_ref(),
            &nonce.to_le_bytes(),
        ],
        &ID,
    )
}

pub fn find_escrow_vault_address(job: &Pubkey) -> (Pubkey, u8) {
    Pubkey::find_program_address(&[SEED_ESCROW_VAULT, job.as_ref()], &ID)
}

/// The PDA Anchor's `emit_cpi!` signs events with.
pub fn find_event_authority_address() -> (Pubkey, u8) {
    Pubkey::find_program_address(&[b"__event_authority"], &ID)
}

pub fn find_bid_address(job: &Pubkey, provider: &Pubkey) -> (Pubkey, u8) {
    Pubkey::find_program_address(&[SEED_BID, job.as_ref(), provider.as_ref()], &ID)
}

pub fn find_verdict_address(job: &Pubkey, verifier: &Pubkey) -> (Pubkey, u8) {
    Pubkey::find_program_address(&[SEED_VERDICT, job.as_ref(), verifier.as_ref()], &ID)
}
