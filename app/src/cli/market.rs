//! `gpu-market market`: create, inspect and govern a market.

use super::{
    Ctx,
    amounts::{format_amount, mint_decimals, parse_amount},
    args::MarketCommand,
    settings::display_lines,
};
use anchor_spl::associated_token::get_associated_token_address_with_program_id;
use gpu_market::{MarketParams, pda::find_market_address, state::Market};
use gpu_market_client::ix;
use serde_json::{Value, json};
use solana_sdk::{pubkey::Pubkey, signer::Signer};

fn market_json(key: &Pubkey, m: &Market, payment_decimals: u8, stake_decimals: u8) -> Value {
    let p = &m.params;
    let c = &m.counters;
    json!({
        "market": key.to_string(),
        "authority": m.authority.to_string(),
        "market_id": m.market_id,
        "payment_mint": m.payment_mint.to_string(),
        "stake_mint": m.stake_mint.to_string(),
        "treasury": m.treasury.to_string(),
        "slash_destination": m.slash_destination.to_string(),
        "paused": m.paused,
        "params": {
            "fee_bps": p.fee_bps,
            "min_stake_per_gpu": format_amount(p.min_stake_per_gpu, stake_decimals),
            "unbonding_period_secs": p.unbonding_period_secs,
            "challenge_window_secs": p.challenge_window_secs,
            "dispute_timeout_secs": p.dispute_timeout_secs,
            "heartbeat_interval_secs": p.heartbeat_interval_secs,
            "verifier_quorum": p.verifier_quorum,
            "sample_count": p.sample_count,
            "slash_no_show_bps": p.slash_no_show_bps,
            "slash_abandon_bps": p.slash_abandon_bps,
            "slash_fraud_bps": p.slash_fraud_bps,
            "dispute_bond_bps": p.dispute_bond_bps,
        },
        "counters": {
            "providers": c.providers,
            "verifiers": c.verifiers,
            "jobs_created": c.jobs_created,
            "jobs_completed": c.jobs_completed,
            "jobs_failed": c.jobs_failed,
            "total_stake": format_amount(c.total_stake, stake_decimals),
            "total_volume": format_amount(c.total_volume, payment_decimals),
            "total_fees": format_amount(c.total_fees, payment_decimals),
            "total_slashed": format_amount(c.total_slashed, stake_decimals),
        },
    })
}

pub(super) async fn run(ctx: &Ctx, command: MarketCommand) -> anyhow::Result<()> {
    match command {
        MarketCommand::Show => {
            let key = ctx.settings.market()?;
            let m = ctx.cluster.market(&key).await?;
            let value = market_json(
                &key,
                &m,
                mint_decimals(&ctx.cluster, &m.payment_mint).await?,
                mint_decimals(&ctx.cluster, &m.stake_mint).await?,
            );
            ctx.settings.print(&value, || display_lines(&value));
        }
        MarketCommand::Update(flags) => {
            let authority = ctx.settings.keypair()?;
            let keys = ctx.keys().await?;
            let current = ctx.cluster.market(&keys.market).await?;
            let payment_decimals = mint_decimals(&ctx.cluster, &current.payment_mint).await?;
            let stake_decimals = mint_decimals(&ctx.cluster, &current.stake_mint).await?;
            let params = flags.apply(current.params, stake_decimals)?;
            let ix = ix::update_market(
                &keys,
                &flags.treasury.unwrap_or(current.treasury),
                &flags.slash_destination.unwrap_or(current.slash_destination),
                params,
            );
            let signature = ctx.send("update_market", &[ix], &authority).await?;
            let after = ctx.cluster.market(&keys.market).await?;
            ctx.report(
                "update_market",
                &signature,
                json!({ "market": market_json(&keys.market, &after, payment_decimals, stake_decimals) }),
                format!("market {} updated", keys.market),
            );
        }
        MarketCommand::Init {
            payment_mint,
            stake_mint,
            treasury,
            slash_destination,
            market_id,
            min_stake_per_gpu,
        } => {
            let authority = ctx.settings.keypair()?;
            let cluster = &ctx.cluster;
            let owner = |mint: Pubkey| async move {
                cluster
                    .rpc
                    .get_account(&mint)
                    .await
                    .map(|a| a.owner)
                    .map_err(|_| {
                        anyhow::anyhow!("the mint {mint} does not exist on {}", cluster.url())
                    })
            };
            let payment_program = owner(payment_mint).await?;
            let stake_program = owner(stake_mint).await?;
            let min_stake = parse_amount(
                &min_stake_per_gpu,
                mint_decimals(cluster, &stake_mint).await?,
            )?;
            let treasury = treasury.unwrap_or_else(|| {
                get_associated_token_address_with_program_id(
                    &authority.pubkey(),
                    &payment_mint,
                    &payment_program,
                )
            });
            let slash_destination = slash_destination.unwrap_or_else(|| {
                get_associated_token_address_with_program_id(
                    &authority.pubkey(),
                    &stake_mint,
                    &stake_program,
                )
            });
            let ix = ix::initialize_market(
                &authority.pubkey(),
                market_id,
                &payment_mint,
                &stake_mint,
                &treasury,
                &slash_destination,
                MarketParams::recommended(min_stake),
            );
            let signature = ctx.send("initialize_market", &[ix], &authority).await?;
            let market = find_market_address(&authority.pubkey(), market_id).0;
            ctx.report(
                "initialize_market",
                &signature,
                json!({ "market": market.to_string() }),
                format!(
                    "market {market} created; save it with `gpu-market config set -m {market}`"
                ),
            );
        }
    }
    Ok(())
}
