use crate::{
    constants::*,
    error::MarketError,
    events::ProviderUpdated,
    state::{HardwareSpec, Market, Provider, ProviderStatus, validate_endpoint},
    utils::{now, require_no_remaining_accounts},
};
use anchor_lang::prelude::*;

/// Each field left `None` keeps its current value.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, Default)]
pub struct UpdateProviderArgs {
    pub spec: Option<HardwareSpec>,
    /// Payment-mint units per GPU-hour. Jobs already running keep the price they locked.
    pub price_per_gpu_hour: Option<u64>,
    pub endpoint: Option<String>,
    /// `true` to take new jobs, `false` to stop taking them (running jobs go on).
    pub accepting_jobs: Option<bool>,
}

#[event_cpi]
#[derive(Accounts)]
pub struct UpdateProvider<'info> {
    pub authority: Signer<'info>,

    #[account(
        seeds = [SEED_MARKET, market.authority.as_ref(), &market.market_id.to_le_bytes()],
        bump = market.bump,
    )]
    pub market: Box<Account<'info, Market>>,

    #[account(
        mut,
        has_one = authority,
        has_one = market,
        seeds = [SEED_PROVIDER, market.key().as_ref(), authority.key().as_ref()],
        bump = provider.bump,
    )]
    pub provider: Box<Account<'info, Provider>>,
}

impl UpdateProvider<'_> {
    fn validate(&self, args: &UpdateProviderArgs) -> Result<()> {
        require!(
            args.spec.is_some()
                || args.price_per_gpu_hour.is_some()
                || args.endpoint.is_some()
                || args.accepting_jobs.is_some(),
            MarketError::NothingToUpdate
        );
        if let Some(spec) = &args.spec {
            spec.validate()?;
            // GPUs already lent out cannot be un-advertised from under the jobs that hold them.
            require!(
                spec.gpu_count >= self.provider.gpus_in_use,
                MarketError::ProviderBusy
            );
        }
        if let Some(price) = args.price_per_gpu_hour {
            require!(price > 0, MarketError::InvalidPrice);
        }
        if let Some(endpoint) = &args.endpoint {
            validate_endpoint(endpoint)?;
        }
        if args.accepting_jobs.is_some() {
            self.provider.require_not_jailed()?;
        }
        Ok(())
    }

    pub fn handler(ctx: Context<Self>, args: UpdateProviderArgs) -> Result<()> {
        require_no_remaining_accounts(ctx.remaining_accounts)?;
        ctx.accounts.validate(&args)?;

        let provider = &mut ctx.accounts.provider;
        if let Some(spec) = args.spec {
            provider.spec = spec;
        }
        if let Some(price) = args.price_per_gpu_hour {
            provider.price_per_gpu_hour = price;
        }
        if let Some(endpoint) = args.endpoint {
            provider.endpoint = endpoint;
        }
        if let Some(accepting) = args.accepting_jobs {
            provider.status = if accepting {
                ProviderStatus::Active
            } else {
                ProviderStatus::Inactive
            };
        }

        provider.invariant()?;

        let event = ProviderUpdated {
            market: provider.market,
            provider: provider.key(),
            authority: provider.authority,
            spec: provider.spec,
            price_per_gpu_hour: provider.price_per_gpu_hour,
            endpoint: provider.endpoint.clone(),
            status: provider.status,
            timestamp: now()?,
        };
        emit_cpi!(event);
        Ok(())
    }
}
