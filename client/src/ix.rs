//! One typed builder per instruction. Each derives the PDAs it needs from the keys it is given, so a
//! test names only the actors; attack tests then swap accounts with [`replace_account`].

use anchor_lang::{InstructionData, ToAccountMetas, system_program};
use gpu_market::{
    CreateJobArgs, DisputeRuling, InitializeMarketArgs, MarketParams, RegisterProviderArgs,
    ResultCommitment, UpdateMarketArgs, UpdateProviderArgs, accounts, instruction,
    pda::{
        find_bid_address, find_escrow_vault_address, find_event_authority_address,
        find_job_address, find_market_address, find_payout_vault_address, find_provider_address,
        find_stake_vault_address, find_verdict_address, find_verifier_address,
        find_verifier_stake_vault_address,
    },
};
use solana_sdk::{instruction::Instruction, pubkey::Pubkey, sysvar::slot_hashes};

/// The addresses that identify a market and its tokens.
#[derive(Clone, Copy, Debug)]
pub struct MarketKeys {
    pub market: Pubkey,
    pub authority: Pubkey,
    pub market_id: u64,
    pub payment_mint: Pubkey,
    pub stake_mint: Pubkey,
    pub payment_token_program: Pubkey,
    pub stake_token_program: Pubkey,
    pub treasury: Pubkey,
    pub slash_destination: Pubkey,
}

impl MarketKeys {
    pub fn provider(&self, provider_authority: &Pubkey) -> Pubkey {
        find_provider_address(&self.market, provider_authority).0
    }

    pub fn verifier(&self, verifier_authority: &Pubkey) -> Pubkey {
        find_verifier_address(&self.market, verifier_authority).0
    }

    pub fn verifier_stake_vault(&self, verifier_authority: &Pubkey) -> Pubkey {
        find_verifier_stake_vault_address(&self.verifier(verifier_authority)).0
    }
}

fn build(accounts: impl ToAccountMetas, data: impl InstructionData) -> Instruction {
    Instruction {
        program_id: gpu_market::ID,
        accounts: accounts.to_account_metas(None),
        data: data.data(),
    }
}

fn event_authority() -> Pubkey {
    find_event_authority_address().0
}

/// Points every meta of `ix` that names `old` at `new` instead (keeping signer/writable flags).
pub fn replace_account(mut ix: Instruction, old: &Pubkey, new: &Pubkey) -> Instruction {
    let mut found = false;
    for meta in ix.accounts.iter_mut().filter(|m| m.pubkey == *old) {
        meta.pubkey = *new;
        found = true;
    }
    assert!(found, "{old} is not an account of this instruction");
    ix
}

/// Marks `key` as not signing (the attack "authority present but not signing").
pub fn strip_signer(mut ix: Instruction, key: &Pubkey) -> Instruction {
    for meta in ix.accounts.iter_mut().filter(|m| m.pubkey == *key) {
        meta.is_signer = false;
    }
    ix
}

#[allow(clippy::too_many_arguments)]
pub fn initialize_market(
    authority: &Pubkey,
    market_id: u64,
    payment_mint: &Pubkey,
    stake_mint: &Pubkey,
    treasury: &Pubkey,
    slash_destination: &Pubkey,
    params: MarketParams,
) -> Instruction {
    build(
        accounts::InitializeMarket {
            authority: *authority,
            market: find_market_address(authority, market_id).0,
            payment_mint: *payment_mint,
            stake_mint: *stake_mint,
            treasury: *treasury,
            slash_destination: *slash_destination,
            system_program: system_program::ID,
            event_authority: event_authority(),
            program: gpu_market::ID,
        },
        instruction::InitializeMarket {
            args: InitializeMarketArgs { market_id, params },
        },
    )
}

pub fn update_market(
    m: &MarketKeys,
    treasury: &Pubkey,
    slash_destination: &Pubkey,
    params: MarketParams,
) -> Instruction {
    build(
        accounts::UpdateMarket {
            authority: m.authority,
            market: m.market,
            treasury: *treasury,
            slash_destination: *slash_destination,
            event_authority: event_authority(),
            program: gpu_market::ID,
        },
        instruction::UpdateMarket {
            args: UpdateMarketArgs { params },
        },
    )
}

fn set_paused_accounts(m: &MarketKeys) -> accounts::SetPaused {
    accounts::SetPaused {
        authority: m.authority,
        market: m.market,
        event_authority: event_authority(),
        program: gpu_market::ID,
    }
}

pub fn pause_market(m: &MarketKeys) -> Instruction {
    build(set_paused_accounts(m), instruction::PauseMarket {})
}

pub fn unpause_market(m: &MarketKeys) -> Instruction {
    build(set_paused_accounts(m), instruction::UnpauseMarket {})
}

pub fn add_verifier(m: &MarketKeys, verifier_authority: &Pubkey) -> Instruction {
    build(
        accounts::AddVerifier {
            authority: m.authority,
            market: m.market,
            verifier_authority: *verifier_authority,
            verifier: m.verifier(verifier_authority),
            stake_mint: m.stake_mint,
            stake_vault: m.verifier_stake_vault(verifier_authority),
            stake_token_program: m.stake_token_program,
            system_program: system_program::ID,
            event_authority: event_authority(),
            program: gpu_market::ID,
        },
        instruction::AddVerifier {},
    )
}

pub fn remove_verifier(m: &MarketKeys, verifier_authority: &Pubkey) -> Instruction {
    build(
        accounts::RemoveVerifier {
            authority: m.authority,
            market: m.market,
            verifier: m.verifier(verifier_authority),
            event_authority: event_authority(),
            program: gpu_market::ID,
        },
        instruction::RemoveVerifier {},
    )
}

pub fn register_provider(
    m: &MarketKeys,
    provider_authority: &Pubkey,
    args: RegisterProviderArgs,
) -> Instruction {
    let provider = m.provider(provider_authority);
    build(
        accounts::RegisterProvider {
            authority: *provider_authority,
            market: m.market,
            provider,
            stake_mint: m.stake_mint,
            payment_mint: m.payment_mint,
            stake_vault: find_stake_vault_address(&provider).0,
            payout_vault: find_payout_vault_address(&provider).0,
            stake_token_program: m.stake_token_program,
            payment_token_program: m.payment_token_program,
            system_program: system_program::ID,
            event_authority: event_authority(),
            program: gpu_market::ID,
        },
        instruction::RegisterProvider { args },
    )
}

pub fn update_provider(
    m: &MarketKeys,
    provider_authority: &Pubkey,
    args: UpdateProviderArgs,
) -> Instruction {
    build(
        accounts::UpdateProvider {
            authority: *provider_authority,
            market: m.market,
            provider: m.provider(provider_authority),
            event_authority: event_authority(),
            program: gpu_market::ID,
        },
        instruction::UpdateProvider { args },
    )
}

pub fn heartbeat(m: &MarketKeys, provider_authority: &Pubkey) -> Instruction {
    build(
        accounts::Heartbeat {
            authority: *provider_authority,
            market: m.market,
            provider: m.provider(provider_authority),
            event_authority: event_authority(),
            program: gpu_market::ID,
        },
        instruction::Heartbeat {},
    )
}

pub fn close_provider(
    m: &MarketKeys,
    provider_authority: &Pubkey,
    stake_destination: &Pubkey,
    payout_destination: &Pubkey,
) -> Instruction {
    let provider = m.provider(provider_authority);
    build(
        accounts::CloseProvider {
            authority: *provider_authority,
            market: m.market,
            provider,
            stake_mint: m.stake_mint,
            payment_mint: m.payment_mint,
            stake_vault: find_stake_vault_address(&provider).0,
            payout_vault: find_payout_vault_address(&provider).0,
            stake_destination: *stake_destination,
            payout_destination: *payout_destination,
            stake_token_program: m.stake_token_program,
            payment_token_program: m.payment_token_program,
            event_authority: event_authority(),
            program: gpu_market::ID,
        },
        instruction::CloseProvider {},
    )
}

pub fn stake(
    m: &MarketKeys,
    provider_authority: &Pubkey,
    source: &Pubkey,
    amount: u64,
) -> Instruction {
    let provider = m.provider(provider_authority);
    build(
        accounts::Stake {
            authority: *provider_authority,
            market: m.market,
            provider,
            stake_mint: m.stake_mint,
            stake_vault: find_stake_vault_address(&provider).0,
            source: *source,
            stake_token_program: m.stake_token_program,
            event_authority: event_authority(),
            program: gpu_market::ID,
        },
        instruction::Stake { amount },
    )
}

pub fn request_unstake(m: &MarketKeys, provider_authority: &Pubkey, amount: u64) -> Instruction {
    build(
        accounts::RequestUnstake {
            authority: *provider_authority,
            market: m.market,
            provider: m.provider(provider_authority),
            event_authority: event_authority(),
            program: gpu_market::ID,
        },
        instruction::RequestUnstake { amount },
    )
}

pub fn cancel_unstake(m: &MarketKeys, provider_authority: &Pubkey) -> Instruction {
    build(
        accounts::CancelUnstake {
            authority: *provider_authority,
            market: m.market,
            provider: m.provider(provider_authority),
            event_authority: event_authority(),
            program: gpu_market::ID,
        },
        instruction::CancelUnstake {},
    )
}

pub fn withdraw_unstaked(
    m: &MarketKeys,
    provider_authority: &Pubkey,
    destination: &Pubkey,
) -> Instruction {
    let provider = m.provider(provider_authority);
    build(
        accounts::WithdrawUnstaked {
            authority: *provider_authority,
            market: m.market,
            provider,
            stake_mint: m.stake_mint,
            stake_vault: find_stake_vault_address(&provider).0,
            destination: *destination,
            stake_token_program: m.stake_token_program,
            event_authority: event_authority(),
            program: gpu_market::ID,
        },
        instruction::WithdrawUnstaked {},
    )
}

pub fn create_job(
    m: &MarketKeys,
    client: &Pubkey,
    source: &Pubkey,
    args: CreateJobArgs,
) -> Instruction {
    let job = find_job_address(&m.market, client, args.nonce).0;
    build(
        accounts::CreateJob {
            client: *client,
            market: m.market,
            job,
            escrow_vault: find_escrow_vault_address(&job).0,
            payment_mint: m.payment_mint,
            source: *source,
            payment_token_program: m.payment_token_program,
            system_program: system_program::ID,
            event_authority: event_authority(),
            program: gpu_market::ID,
        },
        instruction::CreateJob { args },
    )
}

pub fn cancel_job(client: &Pubkey, job: &Pubkey) -> Instruction {
    build(
        accounts::CancelJob {
            client: *client,
            job: *job,
            event_authority: event_authority(),
            program: gpu_market::ID,
        },
        instruction::CancelJob {},
    )
}

pub fn close_job(
    m: &MarketKeys,
    client: &Pubkey,
    job: &Pubkey,
    destination: &Pubkey,
) -> Instruction {
    build(
        accounts::CloseJob {
            client: *client,
            job: *job,
            escrow_vault: find_escrow_vault_address(job).0,
            payment_mint: m.payment_mint,
            destination: *destination,
            payment_token_program: m.payment_token_program,
            event_authority: event_authority(),
            program: gpu_market::ID,
        },
        instruction::CloseJob {},
    )
}

pub fn claim_job(m: &MarketKeys, provider_authority: &Pubkey, job: &Pubkey) -> Instruction {
    build(
        accounts::ClaimJob {
            authority: *provider_authority,
            market: m.market,
            job: *job,
            provider: m.provider(provider_authority),
            event_authority: event_authority(),
            program: gpu_market::ID,
        },
        instruction::ClaimJob {},
    )
}

pub fn place_bid(
    m: &MarketKeys,
    provider_authority: &Pubkey,
    job: &Pubkey,
    price_per_gpu_hour: u64,
    expires_at: i64,
) -> Instruction {
    let provider = m.provider(provider_authority);
    build(
        accounts::PlaceBid {
            authority: *provider_authority,
            market: m.market,
            job: *job,
            provider,
            bid: find_bid_address(job, &provider).0,
            system_program: system_program::ID,
            event_authority: event_authority(),
            program: gpu_market::ID,
        },
        instruction::PlaceBid {
            price_per_gpu_hour,
            expires_at,
        },
    )
}

pub fn withdraw_bid(m: &MarketKeys, provider_authority: &Pubkey, job: &Pubkey) -> Instruction {
    let provider = m.provider(provider_authority);
    build(
        accounts::WithdrawBid {
            provider_authority: *provider_authority,
            bid: find_bid_address(job, &provider).0,
            event_authority: event_authority(),
            program: gpu_market::ID,
        },
        instruction::WithdrawBid {},
    )
}

pub fn accept_bid(
    m: &MarketKeys,
    client: &Pubkey,
    job: &Pubkey,
    provider_authority: &Pubkey,
    expected_price_per_gpu_hour: u64,
) -> Instruction {
    let provider = m.provider(provider_authority);
    build(
        accounts::AcceptBid {
            client: *client,
            market: m.market,
            job: *job,
            bid: find_bid_address(job, &provider).0,
            provider,
            provider_authority: *provider_authority,
            event_authority: event_authority(),
            program: gpu_market::ID,
        },
        instruction::AcceptBid {
            expected_price_per_gpu_hour,
        },
    )
}

pub fn submit_result(
    m: &MarketKeys,
    provider_authority: &Pubkey,
    job: &Pubkey,
    result: ResultCommitment,
) -> Instruction {
    build(
        accounts::SubmitResult {
            authority: *provider_authority,
            market: m.market,
            job: *job,
            provider: m.provider(provider_authority),
            event_authority: event_authority(),
            program: gpu_market::ID,
        },
        instruction::SubmitResult { result },
    )
}

pub fn abandon_job(m: &MarketKeys, provider_authority: &Pubkey, job: &Pubkey) -> Instruction {
    build(
        accounts::AbandonJob {
            authority: *provider_authority,
            market: m.market,
            job: *job,
            provider: m.provider(provider_authority),
            slash: slash_accounts(m, &m.provider(provider_authority)),
            event_authority: event_authority(),
            program: gpu_market::ID,
        },
        instruction::AbandonJob {},
    )
}

pub fn expire_job(
    m: &MarketKeys,
    cranker: &Pubkey,
    job: &Pubkey,
    provider: &Pubkey,
) -> Instruction {
    build(
        accounts::ExpireJob {
            cranker: *cranker,
            market: m.market,
            job: *job,
            provider: *provider,
            slash: slash_accounts(m, provider),
            event_authority: event_authority(),
            program: gpu_market::ID,
        },
        instruction::ExpireJob {},
    )
}

fn slash_accounts(m: &MarketKeys, provider: &Pubkey) -> accounts::SlashStake {
    accounts::SlashStake {
        stake_vault: find_stake_vault_address(provider).0,
        slash_destination: m.slash_destination,
        stake_mint: m.stake_mint,
        stake_token_program: m.stake_token_program,
    }
}

fn settle_accounts(m: &MarketKeys, job: &Pubkey, provider: &Pubkey) -> accounts::SettleJob {
    accounts::SettleJob {
        market: m.market,
        job: *job,
        provider: *provider,
        escrow_vault: find_escrow_vault_address(job).0,
        payout_vault: find_payout_vault_address(provider).0,
        treasury: m.treasury,
        payment_mint: m.payment_mint,
        payment_token_program: m.payment_token_program,
    }
}

pub fn accept_result(
    m: &MarketKeys,
    client: &Pubkey,
    job: &Pubkey,
    provider: &Pubkey,
) -> Instruction {
    build(
        accounts::AcceptResult {
            client: *client,
            settle: settle_accounts(m, job, provider),
            event_authority: event_authority(),
            program: gpu_market::ID,
        },
        instruction::AcceptResult {},
    )
}

pub fn finalize_job(m: &MarketKeys, job: &Pubkey, provider: &Pubkey) -> Instruction {
    build(
        accounts::FinalizeJob {
            settle: settle_accounts(m, job, provider),
            event_authority: event_authority(),
            program: gpu_market::ID,
        },
        instruction::FinalizeJob {},
    )
}

pub fn settle_dispute(m: &MarketKeys, job: &Pubkey, provider: &Pubkey) -> Instruction {
    build(
        accounts::SettleDispute {
            settle: settle_accounts(m, job, provider),
            event_authority: event_authority(),
            program: gpu_market::ID,
        },
        instruction::SettleDispute {},
    )
}

pub fn claim_payout(
    m: &MarketKeys,
    provider_authority: &Pubkey,
    destination: &Pubkey,
) -> Instruction {
    let provider = m.provider(provider_authority);
    build(
        accounts::ClaimPayout {
            authority: *provider_authority,
            market: m.market,
            provider,
            payout_vault: find_payout_vault_address(&provider).0,
            payment_mint: m.payment_mint,
            destination: *destination,
            payment_token_program: m.payment_token_program,
            event_authority: event_authority(),
            program: gpu_market::ID,
        },
        instruction::ClaimPayout {},
    )
}

pub fn record_sample_seed(m: &MarketKeys, cranker: &Pubkey, job: &Pubkey) -> Instruction {
    build(
        accounts::RecordSampleSeed {
            cranker: *cranker,
            market: m.market,
            job: *job,
            slot_hashes: slot_hashes::ID,
            event_authority: event_authority(),
            program: gpu_market::ID,
        },
        instruction::RecordSampleSeed {},
    )
}

pub fn expire_sample_seed(
    m: &MarketKeys,
    cranker: &Pubkey,
    job: &Pubkey,
    provider: &Pubkey,
) -> Instruction {
    build(
        accounts::ExpireSampleSeed {
            cranker: *cranker,
            market: m.market,
            job: *job,
            provider: *provider,
            slash: slash_accounts(m, provider),
            slot_hashes: slot_hashes::ID,
            event_authority: event_authority(),
            program: gpu_market::ID,
        },
        instruction::ExpireSampleSeed {},
    )
}

pub fn pay_pending_slash(m: &MarketKeys, cranker: &Pubkey, provider: &Pubkey) -> Instruction {
    build(
        accounts::PayPendingSlash {
            cranker: *cranker,
            market: m.market,
            provider: *provider,
            stake_vault: find_stake_vault_address(provider).0,
            slash_destination: m.slash_destination,
            stake_mint: m.stake_mint,
            stake_token_program: m.stake_token_program,
            event_authority: event_authority(),
            program: gpu_market::ID,
        },
        instruction::PayPendingSlash {},
    )
}

pub fn submit_verdict(
    m: &MarketKeys,
    verifier_authority: &Pubkey,
    job: &Pubkey,
    provider: &Pubkey,
    pass: bool,
    evidence_hash: [u8; 32],
) -> Instruction {
    let verifier = m.verifier(verifier_authority);
    build(
        accounts::SubmitVerdict {
            authority: *verifier_authority,
            settle: settle_accounts(m, job, provider),
            verifier,
            verdict: find_verdict_address(job, &verifier).0,
            slash: slash_accounts(m, provider),
            slot_hashes: slot_hashes::ID,
            system_program: system_program::ID,
            event_authority: event_authority(),
            program: gpu_market::ID,
        },
        instruction::SubmitVerdict {
            pass,
            evidence_hash,
        },
    )
}

/// `source` is the client's payment-mint account the dispute bond comes from.
pub fn dispute_result(
    m: &MarketKeys,
    client: &Pubkey,
    job: &Pubkey,
    provider: &Pubkey,
    source: &Pubkey,
) -> Instruction {
    build(
        accounts::DisputeResult {
            client: *client,
            market: m.market,
            job: *job,
            provider: *provider,
            escrow_vault: find_escrow_vault_address(job).0,
            payment_mint: m.payment_mint,
            source: *source,
            payment_token_program: m.payment_token_program,
            event_authority: event_authority(),
            program: gpu_market::ID,
        },
        instruction::DisputeResult {},
    )
}

pub fn resolve_dispute(
    m: &MarketKeys,
    job: &Pubkey,
    provider: &Pubkey,
    ruling: DisputeRuling,
) -> Instruction {
    build(
        accounts::ResolveDispute {
            authority: m.authority,
            settle: settle_accounts(m, job, provider),
            event_authority: event_authority(),
            program: gpu_market::ID,
        },
        instruction::ResolveDispute { ruling },
    )
}

pub fn reinstate_provider(m: &MarketKeys, provider: &Pubkey) -> Instruction {
    build(
        accounts::ReinstateProvider {
            authority: m.authority,
            market: m.market,
            provider: *provider,
            event_authority: event_authority(),
            program: gpu_market::ID,
        },
        instruction::ReinstateProvider {},
    )
}

/// Closes `verifier_authority`'s verdict on `job`; `actor` signs (anyone). The job's slash
/// destination is taken to be the market's (`close_verdict_to` names another).
pub fn close_verdict(
    m: &MarketKeys,
    actor: &Pubkey,
    verifier_authority: &Pubkey,
    job: &Pubkey,
) -> Instruction {
    close_verdict_to(m, actor, verifier_authority, job, &m.slash_destination)
}

/// [`close_verdict`] for a job whose terms name `slash_destination` (the market's when the job
/// was created).
pub fn close_verdict_to(
    m: &MarketKeys,
    actor: &Pubkey,
    verifier_authority: &Pubkey,
    job: &Pubkey,
    slash_destination: &Pubkey,
) -> Instruction {
    let verifier = m.verifier(verifier_authority);
    build(
        accounts::CloseVerdict {
            actor: *actor,
            verdict: find_verdict_address(job, &verifier).0,
            verifier_authority: *verifier_authority,
            job: *job,
            verifier,
            stake_vault: m.verifier_stake_vault(verifier_authority),
            slash_destination: *slash_destination,
            stake_mint: m.stake_mint,
            stake_token_program: m.stake_token_program,
            event_authority: event_authority(),
            program: gpu_market::ID,
        },
        instruction::CloseVerdict {},
    )
}

/// Stakes `amount` from the verifier wallet's stake-mint account `source`.
pub fn stake_verifier(
    m: &MarketKeys,
    verifier_authority: &Pubkey,
    source: &Pubkey,
    amount: u64,
) -> Instruction {
    build(
        accounts::StakeVerifier {
            authority: *verifier_authority,
            market: m.market,
            verifier: m.verifier(verifier_authority),
            stake_mint: m.stake_mint,
            stake_vault: m.verifier_stake_vault(verifier_authority),
            source: *source,
            stake_token_program: m.stake_token_program,
            event_authority: event_authority(),
            program: gpu_market::ID,
        },
        instruction::StakeVerifier { amount },
    )
}

pub fn withdraw_verifier_stake(
    m: &MarketKeys,
    verifier_authority: &Pubkey,
    destination: &Pubkey,
    amount: u64,
) -> Instruction {
    build(
        accounts::WithdrawVerifierStake {
            authority: *verifier_authority,
            market: m.market,
            verifier: m.verifier(verifier_authority),
            stake_mint: m.stake_mint,
            stake_vault: m.verifier_stake_vault(verifier_authority),
            destination: *destination,
            stake_token_program: m.stake_token_program,
            event_authority: event_authority(),
            program: gpu_market::ID,
        },
        instruction::WithdrawVerifierStake { amount },
    )
}

pub fn close_verifier(
    m: &MarketKeys,
    verifier_authority: &Pubkey,
    destination: &Pubkey,
) -> Instruction {
    build(
        accounts::CloseVerifier {
            authority: *verifier_authority,
            market: m.market,
            market_authority: m.authority,
            verifier: m.verifier(verifier_authority),
            stake_mint: m.stake_mint,
            stake_vault: m.verifier_stake_vault(verifier_authority),
            destination: *destination,
            stake_token_program: m.stake_token_program,
            event_authority: event_authority(),
            program: gpu_market::ID,
        },
        instruction::CloseVerifier {},
    )
}

pub fn pay_verifier_pending_slash(
    m: &MarketKeys,
    cranker: &Pubkey,
    verifier_authority: &Pubkey,
) -> Instruction {
    build(
        accounts::PayVerifierPendingSlash {
            cranker: *cranker,
            market: m.market,
            verifier: m.verifier(verifier_authority),
            stake_vault: m.verifier_stake_vault(verifier_authority),
            slash_destination: m.slash_destination,
            stake_mint: m.stake_mint,
            stake_token_program: m.stake_token_program,
            event_authority: event_authority(),
            program: gpu_market::ID,
        },
        instruction::PayVerifierPendingSlash {},
    )
}
