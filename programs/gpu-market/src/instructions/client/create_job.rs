use crate::{
    constants::*,
    error::MarketError,
    events::JobCreated,
    math::SafeMath,
    settlement::deposit_for,
    state::{Job, JobRequirements, JobState, JobTerms, Market, Workload},
    utils::{now, require_no_remaining_accounts, transfer_tokens},
};
use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct CreateJobArgs {
    /// Any number the client has not used for a job in this market yet.
    pub nonce: u64,
    pub requirements: JobRequirements,
    pub workload: Workload,
    /// Payment-mint units per GPU-hour.
    pub max_price_per_gpu_hour: u64,
    pub max_duration_secs: u32,
    /// Provider account (not wallet) that alone may take the job.
    pub named_provider: Option<Pubkey>,
}

#[event_cpi]
#[derive(Accounts)]
#[instruction(args: CreateJobArgs)]
pub struct CreateJob<'info> {
    #[account(mut)]
    pub client: Signer<'info>,

    #[account(
        mut,
        seeds = [SEED_MARKET, market.authority.as_ref(), &market.market_id.to_le_bytes()],
        bump = market.bump,
    )]
    pub market: Box<Account<'info, Market>>,

    #[account(
        init,
        payer = client,
        space = 8 + Job::INIT_SPACE,
        seeds = [SEED_JOB, market.key().as_ref(), client.key().as_ref(), &args.nonce.to_le_bytes()],
        bump,
    )]
    pub job: Box<Account<'info, Job>>,

    #[account(
        init,
        payer = client,
        seeds = [SEED_ESCROW_VAULT, job.key().as_ref()],
        bump,
        token::mint = payment_mint,
        token::authority = job,
        token::token_program = payment_token_program,
    )]
    pub escrow_vault: Box<InterfaceAccount<'info, TokenAccount>>,

    #[account(address = market.payment_mint, mint::token_program = payment_token_program)]
    pub payment_mint: Box<InterfaceAccount<'info, Mint>>,

    /// The client's payment-mint account the deposit comes from.
    #[account(mut, token::mint = payment_mint, token::authority = client)]
    pub source: Box<InterfaceAccount<'info, TokenAccount>>,

    pub payment_token_program: Interface<'info, TokenInterface>,
    pub system_program: Program<'info, System>,
}

impl CreateJob<'_> {
    fn validate(&self, args: &CreateJobArgs) -> Result<u64> {
        self.market.require_not_paused()?;
        args.requirements.validate()?;
        require!(
            (1..=MAX_JOB_DURATION_SECS).contains(&args.max_duration_secs),
            MarketError::InvalidDuration
        );
        require!(
            (1..=MAX_SPEC_URI_LEN).contains(&args.workload.spec_uri.len()),
            MarketError::InvalidSpecUri
        );
        require!(args.max_price_per_gpu_hour > 0, MarketError::InvalidPrice);
        deposit_for(
            args.max_price_per_gpu_hour,
            args.requirements.gpu_count,
            args.max_duration_secs,
        )
    }

    pub fn handler(ctx: Context<Self>, args: CreateJobArgs) -> Result<()> {
        require_no_remaining_accounts(ctx.remaining_accounts)?;
        let deposit = ctx.accounts.validate(&args)?;
        let timestamp = now()?;

        let accounts = &mut *ctx.accounts;
        let counters = &mut accounts.market.counters;
        counters.jobs_created = counters.jobs_created.safe_add(1)?;
        let serial = counters.jobs_created;
        accounts.job.set_inner(Job {
            market: accounts.market.key(),
            client: accounts.client.key(),
            nonce: args.nonce,
            named_provider: args.named_provider,
            provider: Pubkey::default(),
            requirements: args.requirements,
            workload: args.workload.clone(),
            max_price_per_gpu_hour: args.max_price_per_gpu_hour,
            max_duration_secs: args.max_duration_secs,
            price_per_gpu_hour: 0,
            deposit,
            state: JobState::Open,
            created_at: timestamp,
            started_at: 0,
            deadline: 0,
            submitted_at: 0,
            submitted_slot: 0,
            settled_at: 0,
            result: Default::default(),
            settlement: Default::default(),
            pass_votes: 0,
            fail_votes: 0,
            sample_seed: None,
            bump: ctx.bumps.job,
            escrow_bump: ctx.bumps.escrow_vault,
            disputed_at: 0,
            seed_slot: 0,
            locked_stake: 0,
            serial,
            dispute_bond: 0,
            terms: JobTerms::of(&accounts.market),
            open_verdicts: 0,
            reserved: [0; 2],
        });

        transfer_tokens(
            &accounts.payment_token_program,
            &accounts.payment_mint,
            &accounts.source,
            &*accounts.escrow_vault,
            &accounts.client.to_account_info(),
            &[],
            deposit,
        )?;

        let event = JobCreated {
            market: accounts.market.key(),
            job: accounts.job.key(),
            client: accounts.client.key(),
            nonce: args.nonce,
            named_provider: args.named_provider,
            requirements: args.requirements,
            workload_kind: args.workload.kind,
            spec_hash: args.workload.spec_hash,
            max_price_per_gpu_hour: args.max_price_per_gpu_hour,
            max_duration_secs: args.max_duration_secs,
            deposit,
            terms: accounts.job.terms,
            timestamp,
        };
        emit_cpi!(event);
        Ok(())
    }
}
