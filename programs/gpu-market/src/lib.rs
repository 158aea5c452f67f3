//! gpu-market: an open GPU-compute marketplace. Providers stake and advertise hardware, clients escrow
//! stablecoin for jobs, settlement is metered per second, and sampled verification backs every result.
//!
//! The protocol is described in `docs/protocol.md`; every instruction lives in its own file under
//! `instructions/<role>/`.
#![allow(unexpected_cfgs)]

use anchor_lang::prelude::*;

pub mod constants;
pub mod error;
pub mod events;
pub mod instructions;
pub mod math;
pub mod pda;
pub mod settlement;
pub mod state;
pub mod utils;
pub mod verification;

pub use instructions::*;
pub use state::{
    DisputeRuling, GpuModel, HardwareSpec, JobRequirements, MarketParams, Region, ResultCommitment,
    Workload, WorkloadKind,
};

declare_id!("GPUmGjLvTxsjjj4zMkdDcME2BGDGwajaE9Toa9CBbga8");

#[cfg(not(feature = "no-entrypoint"))]
solana_security_txt::security_txt! {
    name: "gpu-market",
    project_url: "https://github.com/gpu-market/gpu-market",
    contacts: "link:https://github.com/gpu-market/gpu-market/security/advisories/new",
    policy: "https://github.com/gpu-market/gpu-market/blob/main/SECURITY.md",
    source_code: "https://github.com/gpu-market/gpu-market"
}

#[program]
pub mod gpu_market {
    use super::*;

    // --- market authority ---

    /// Creates a market with its mints, fee and slash destinations and parameters.
    pub fn initialize_market(
        ctx: Context<InitializeMarket>,
        args: InitializeMarketArgs,
    ) -> Result<()> {
        InitializeMarket::handler(ctx, args)
    }

    /// Replaces the market's parameters and fee and slash destinations.
    pub fn update_market(ctx: Context<UpdateMarket>, args: UpdateMarketArgs) -> Result<()> {
        UpdateMarket::handler(ctx, args)
    }

    /// Stops new registrations, stakes and jobs; exits keep working.
    pub fn pause_market(ctx: Context<SetPaused>) -> Result<()> {
        SetPaused::handler(ctx, true)
    }

    /// Lifts a pause.
    pub fn unpause_market(ctx: Context<SetPaused>) -> Result<()> {
        SetPaused::handler(ctx, false)
    }

    /// Registers a wallet as a verifier of this market, with the vault for its stake.
    pub fn add_verifier(ctx: Context<AddVerifier>) -> Result<()> {
        AddVerifier::handler(ctx)
    }

    /// Stops a verifier from voting; its open verdicts still settle, then it may close.
    pub fn remove_verifier(ctx: Context<RemoveVerifier>) -> Result<()> {
        RemoveVerifier::handler(ctx)
    }

    /// Lets a provider jailed for fraud take jobs again.
    pub fn reinstate_provider(ctx: Context<ReinstateProvider>) -> Result<()> {
        ReinstateProvider::handler(ctx)
    }

    /// Decides a dispute that verifiers left open past the dispute timeout (until it is settled by
    /// its default).
    pub fn resolve_dispute(ctx: Context<ResolveDispute>, ruling: DisputeRuling) -> Result<()> {
        ResolveDispute::handler(ctx, ruling)
    }

    // --- provider ---

    /// Registers a GPU host with its hardware, price and proof endpoint; opens its stake and payout vaults.
    pub fn register_provider(
        ctx: Context<RegisterProvider>,
        args: RegisterProviderArgs,
    ) -> Result<()> {
        RegisterProvider::handler(ctx, args)
    }

    /// Changes a provider's hardware, price, endpoint or whether it takes new jobs.
    pub fn update_provider(ctx: Context<UpdateProvider>, args: UpdateProviderArgs) -> Result<()> {
        UpdateProvider::handler(ctx, args)
    }

    /// Records that the provider is alive; uptime is derived from these.
    pub fn heartbeat(ctx: Context<Heartbeat>) -> Result<()> {
        Heartbeat::handler(ctx)
    }

    /// Leaves the market, emptying and closing the provider's vaults and account.
    pub fn close_provider(ctx: Context<CloseProvider>) -> Result<()> {
        CloseProvider::handler(ctx)
    }

    /// Adds stake from the provider's wallet.
    pub fn stake(ctx: Context<Stake>, amount: u64) -> Result<()> {
        Stake::handler(ctx, amount)
    }

    /// Starts unbonding `amount` of stake.
    pub fn request_unstake(ctx: Context<RequestUnstake>, amount: u64) -> Result<()> {
        RequestUnstake::handler(ctx, amount)
    }

    /// Returns all unbonding stake to staked.
    pub fn cancel_unstake(ctx: Context<CancelUnstake>) -> Result<()> {
        CancelUnstake::handler(ctx)
    }

    /// Pays out unbonding stake once the unbonding period is over.
    pub fn withdraw_unstaked(ctx: Context<WithdrawUnstaked>) -> Result<()> {
        WithdrawUnstaked::handler(ctx)
    }

    /// Takes an open job at the provider's own price; the hardware match is checked on-chain.
    pub fn claim_job(ctx: Context<ClaimJob>) -> Result<()> {
        ClaimJob::handler(ctx)
    }

    /// Offers to run an open job at `price_per_gpu_hour` until `expires_at` (unix seconds).
    pub fn place_bid(
        ctx: Context<PlaceBid>,
        price_per_gpu_hour: u64,
        expires_at: i64,
    ) -> Result<()> {
        PlaceBid::handler(ctx, price_per_gpu_hour, expires_at)
    }

    /// Takes a bid back and recovers its rent; signed by the wallet that paid it.
    pub fn withdraw_bid(ctx: Context<WithdrawBid>) -> Result<()> {
        WithdrawBid::handler(ctx)
    }

    /// Commits to a running job's output and bills its metered seconds; opens the challenge window.
    pub fn submit_result(ctx: Context<SubmitResult>, result: ResultCommitment) -> Result<()> {
        SubmitResult::handler(ctx, result)
    }

    /// Gives a running job up; the client is refunded in full and the provider slashed.
    pub fn abandon_job(ctx: Context<AbandonJob>) -> Result<()> {
        AbandonJob::handler(ctx)
    }

    /// Pays the provider's settled earnings out of its payout vault.
    pub fn claim_payout(ctx: Context<ClaimPayout>) -> Result<()> {
        ClaimPayout::handler(ctx)
    }

    // --- client ---

    /// Posts a job and escrows its maximum cost.
    pub fn create_job(ctx: Context<CreateJob>, args: CreateJobArgs) -> Result<()> {
        CreateJob::handler(ctx, args)
    }

    /// Withdraws an open job; the deposit is owed back in full.
    pub fn cancel_job(ctx: Context<CancelJob>) -> Result<()> {
        CancelJob::handler(ctx)
    }

    /// Starts an open job with the provider of the chosen bid, at the bid's price, which must be
    /// `expected_price_per_gpu_hour` (the price the client saw).
    pub fn accept_bid(ctx: Context<AcceptBid>, expected_price_per_gpu_hour: u64) -> Result<()> {
        AcceptBid::handler(ctx, expected_price_per_gpu_hour)
    }

    /// Accepts a submitted result and settles at once.
    pub fn accept_result(ctx: Context<AcceptResult>) -> Result<()> {
        AcceptResult::handler(ctx)
    }

    /// Disputes a submitted result inside its challenge window, putting up the dispute bond.
    pub fn dispute_result(ctx: Context<DisputeResult>) -> Result<()> {
        DisputeResult::handler(ctx)
    }

    /// Pays a settled job's refund and closes it, returning all rent to the client.
    pub fn close_job(ctx: Context<CloseJob>) -> Result<()> {
        CloseJob::handler(ctx)
    }

    // --- anyone ---

    /// Settles a submitted job once its challenge window has passed.
    pub fn finalize_job(ctx: Context<FinalizeJob>) -> Result<()> {
        FinalizeJob::handler(ctx)
    }

    /// Fails a running job past its deadline without a result; the client is refunded in full and
    /// the provider slashed for the no-show.
    pub fn expire_job(ctx: Context<ExpireJob>) -> Result<()> {
        ExpireJob::handler(ctx)
    }

    /// Records a submitted job's verification sample seed once its seed slot has passed.
    pub fn record_sample_seed(ctx: Context<RecordSampleSeed>) -> Result<()> {
        RecordSampleSeed::handler(ctx)
    }

    /// Fails a submitted or disputed job whose sample seed can no longer be recorded; settled as a
    /// failed verification (full refund, fraud slash, jail).
    pub fn expire_sample_seed(ctx: Context<ExpireSampleSeed>) -> Result<()> {
        ExpireSampleSeed::handler(ctx)
    }

    /// Settles a dispute left undecided past twice the dispute timeout: the result stands, the
    /// provider is paid and gets the client's bond.
    pub fn settle_dispute(ctx: Context<SettleDispute>) -> Result<()> {
        SettleDispute::handler(ctx)
    }

    /// Sends stake slashed while the slash destination could not receive it.
    pub fn pay_pending_slash(ctx: Context<PayPendingSlash>) -> Result<()> {
        PayPendingSlash::handler(ctx)
    }

    /// Sends a verifier's bond slashed while the slash destination could not receive it.
    pub fn pay_verifier_pending_slash(ctx: Context<PayVerifierPendingSlash>) -> Result<()> {
        PayVerifierPendingSlash::handler(ctx)
    }

    // --- verifier ---

    /// Votes on a submitted result; the vote that reaches the quorum settles or fails the job.
    pub fn submit_verdict(
        ctx: Context<SubmitVerdict>,
        pass: bool,
        evidence_hash: [u8; 32],
    ) -> Result<()> {
        SubmitVerdict::handler(ctx, pass, evidence_hash)
    }

    /// Settles a vote's bond once its job is settled (slashed if a quorum decided the other way)
    /// and returns the verdict's rent to its verifier. Anyone may call it.
    pub fn close_verdict(ctx: Context<CloseVerdict>) -> Result<()> {
        CloseVerdict::handler(ctx)
    }

    /// Adds to a verifier's stake, which its votes put at risk.
    pub fn stake_verifier(ctx: Context<StakeVerifier>, amount: u64) -> Result<()> {
        StakeVerifier::handler(ctx, amount)
    }

    /// Takes back verifier stake that no open verdict locks.
    pub fn withdraw_verifier_stake(ctx: Context<WithdrawVerifierStake>, amount: u64) -> Result<()> {
        WithdrawVerifierStake::handler(ctx, amount)
    }

    /// A removed verifier with no open verdicts takes its stake back and closes its accounts.
    pub fn close_verifier(ctx: Context<CloseVerifier>) -> Result<()> {
        CloseVerifier::handler(ctx)
    }
}

/// Entry point for running the program natively inside the Solana runtime (solana-program-test and
/// localnet), where no SBF build exists. `processor!` wants one lifetime for everything; Anchor's
/// `entry` wants the accounts' inner lifetime to equal the slice's.
#[cfg(not(target_os = "solana"))]
pub fn process_instruction_native<'a, 'b>(
    program_id: &'a Pubkey,
    accounts: &'a [AccountInfo<'b>],
    data: &'a [u8],
) -> anchor_lang::solana_program::entrypoint::ProgramResult {
    // SAFETY: `'b: 'a` (the slice cannot outlive what it holds), and `AccountInfo<'b>` and
    // `AccountInfo<'a>` have the same layout. Shortening `'b` to `'a` only narrows how long the program
    // may use the references, and the runtime keeps them alive for the whole call.
    let accounts: &'a [AccountInfo<'a>] = unsafe { std::mem::transmute(accounts) };
    entry(program_id, accounts, data)
}
