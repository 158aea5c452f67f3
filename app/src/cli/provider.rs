//! `gpu-market provider`: register, stake, update and run a GPU provider.

use super::{
    Ctx,
    amounts::{format_amount, mint_decimals, parse_amount},
    args::{ProviderCommand, RunProviderArgs, SpecArgs},
    settings::display_lines,
};
use crate::{
    hardware::{ALL_GPU_MODELS, Hardware},
    provider::{Agent, AgentConfig, AlertRules, Behaviour},
};
use anchor_spl::associated_token::get_associated_token_address_with_program_id;
use gpu_market::{
    GpuModel, HardwareSpec, Region, RegisterProviderArgs, UpdateProviderArgs,
    pda::find_payout_vault_address, state::Provider,
};
use gpu_market_client::{ix, ix::MarketKeys};
use serde_json::{Value, json};
use solana_sdk::{pubkey::Pubkey, signature::Keypair, signer::Signer};
use std::{sync::Arc, time::Duration};

fn provider_json(key: &Pubkey, p: &Provider, payment_decimals: u8, stake_decimals: u8) -> Value {
    json!({
        "provider": key.to_string(),
        "authority": p.authority.to_string(),
        "market": p.market.to_string(),
        "status": format!("{:?}", p.status),
        "spec": {
            "gpu_model": format!("{:?}", p.spec.gpu_model),
            "gpu_count": p.spec.gpu_count,
            "vram_gb": p.spec.vram_gb,
            "cpu_cores": p.spec.cpu_cores,
            "ram_gb": p.spec.ram_gb,
            "bandwidth_up_mbps": p.spec.bandwidth_up_mbps,
            "bandwidth_down_mbps": p.spec.bandwidth_down_mbps,
            "region": format!("{:?}", p.spec.region),
        },
        "price_per_gpu_hour": format_amount(p.price_per_gpu_hour, payment_decimals),
        "endpoint": p.endpoint,
        "staked": format_amount(p.staked, stake_decimals),
        "unbonding": format_amount(p.unbonding, stake_decimals),
        "unbonding_unlock_at": p.unbonding_unlock_at,
        "gpus_in_use": p.gpus_in_use,
        "active_jobs": p.active_jobs,
        "jobs_completed": p.counters.jobs_completed,
        "jobs_failed": p.counters.jobs_failed,
        "times_slashed": p.counters.times_slashed,
        "total_slashed": format_amount(p.counters.total_slashed, stake_decimals),
        "total_earned": format_amount(p.counters.total_earned, payment_decimals),
        "total_claimed": format_amount(p.counters.total_claimed, payment_decimals),
        "last_heartbeat_at": p.last_heartbeat_at,
    })
}

pub(super) async fn run(ctx: &Ctx, command: ProviderCommand) -> anyhow::Result<()> {
    if let ProviderCommand::Show { provider } = &command {
        // A provider account names its market: `-m` is needed only to find the keypair's own.
        let key = match provider {
            Some(p) => *p,
            None => ctx
                .keys()
                .await?
                .provider(&ctx.settings.keypair()?.pubkey()),
        };
        let p: Provider = ctx.cluster.require(&key, "provider").await?;
        let market = ctx.cluster.market(&p.market).await?;
        let value = provider_json(
            &key,
            &p,
            mint_decimals(&ctx.cluster, &market.payment_mint).await?,
            mint_decimals(&ctx.cluster, &market.stake_mint).await?,
        );
        ctx.settings.print(&value, || display_lines(&value));
        return Ok(());
    }
    let keys = ctx.keys().await?;
    let signer = ctx.settings.keypair()?;
    let me = signer.pubkey();
    let provider_key = keys.provider(&me);
    let payment_decimals = mint_decimals(&ctx.cluster, &keys.payment_mint).await?;
    let stake_decimals = mint_decimals(&ctx.cluster, &keys.stake_mint).await?;
    let ata = |mint: &Pubkey, program: &Pubkey| {
        get_associated_token_address_with_program_id(&me, mint, program)
    };
    let (what, ix, detail) = match command {
        ProviderCommand::Register {
            spec,
            price,
            endpoint,
        } => {
            let hardware = Hardware::detect();
            let spec = hardware_spec(&spec, &hardware)?;
            hardware.check_advertised(&spec)?;
            let price = parse_amount(&price, payment_decimals)?;
            (
                "register_provider",
                ix::register_provider(
                    &keys,
                    &me,
                    RegisterProviderArgs {
                        spec,
                        price_per_gpu_hour: price,
                        endpoint: endpoint.clone(),
                    },
                ),
                format!(
                    "provider {provider_key} registered: {} × {:?} ({}), {} per GPU-hour, endpoint {endpoint}",
                    spec.gpu_count,
                    spec.gpu_model,
                    hardware.describe_source(),
                    format_amount(price, payment_decimals)
                ),
            )
        }
        ProviderCommand::Update {
            price,
            endpoint,
            accepting_jobs,
        } => {
            let price = price
                .map(|p| parse_amount(&p, payment_decimals))
                .transpose()?;
            (
                "update_provider",
                ix::update_provider(
                    &keys,
                    &me,
                    UpdateProviderArgs {
                        spec: None,
                        price_per_gpu_hour: price,
                        endpoint,
                        accepting_jobs,
                    },
                ),
                format!("provider {provider_key} updated"),
            )
        }
        ProviderCommand::Stake { amount, source } => {
            let units = parse_amount(&amount, stake_decimals)?;
            let source = source.unwrap_or_else(|| ata(&keys.stake_mint, &keys.stake_token_program));
            (
                "stake",
                ix::stake(&keys, &me, &source, units),
                format!(
                    "staked {} more on {provider_key}",
                    format_amount(units, stake_decimals)
                ),
            )
        }
        ProviderCommand::Unstake { amount } => {
            let units = parse_amount(&amount, stake_decimals)?;
            (
                "request_unstake",
                ix::request_unstake(&keys, &me, units),
                format!("{} now unbonding", format_amount(units, stake_decimals)),
            )
        }
        ProviderCommand::Withdraw { destination } => {
            let destination =
                destination.unwrap_or_else(|| ata(&keys.stake_mint, &keys.stake_token_program));
            (
                "withdraw_unstaked",
                ix::withdraw_unstaked(&keys, &me, &destination),
                format!("unbonded stake sent to {destination}"),
            )
        }
        ProviderCommand::Heartbeat => (
            "heartbeat",
            ix::heartbeat(&keys, &me),
            "heartbeat recorded".into(),
        ),
        ProviderCommand::ClaimPayout { destination } => {
            let destination =
                destination.unwrap_or_else(|| ata(&keys.payment_mint, &keys.payment_token_program));
            let pending = ctx
                .cluster
                .token_balance(&find_payout_vault_address(&provider_key).0)
                .await?;
            (
                "claim_payout",
                ix::claim_payout(&keys, &me, &destination),
                format!(
                    "{} paid out to {destination}",
                    format_amount(pending, payment_decimals)
                ),
            )
        }
        ProviderCommand::Run(args) => return run_provider(ctx, keys, signer, args).await,
        ProviderCommand::Show { .. } => unreachable!("handled above"),
    };
    let signature = ctx.send(what, &[ix], &signer).await?;
    let after: Option<Provider> = ctx.cluster.anchor_account(&provider_key).await?;
    let changed = after.map_or(Value::Null, |p| {
        provider_json(&provider_key, &p, payment_decimals, stake_decimals)
    });
    ctx.report(what, &signature, json!({ "provider": changed }), detail);
    Ok(())
}

fn hardware_spec(args: &SpecArgs, hardware: &Hardware) -> anyhow::Result<HardwareSpec> {
    Ok(HardwareSpec {
        gpu_model: match &args.gpu_model {
            Some(m) => parse_gpu_model(m)?,
            None => hardware.gpu_model,
        },
        gpu_count: args.gpu_count.unwrap_or(hardware.gpu_count),
        vram_gb: args.vram_gb.unwrap_or(hardware.vram_gb),
        cpu_cores: args.cpu_cores.unwrap_or(hardware.cpu_cores),
        ram_gb: args.ram_gb.unwrap_or(hardware.ram_gb),
        bandwidth_up_mbps: args.bandwidth_up_mbps,
        bandwidth_down_mbps: args.bandwidth_down_mbps,
        region: parse_region(&args.region)?,
    })
}

async fn run_provider(
    ctx: &Ctx,
    keys: MarketKeys,
    signer: Keypair,
    args: RunProviderArgs,
) -> anyhow::Result<()> {
    let me = signer.pubkey();
    let destination = args.payout_destination.unwrap_or_else(|| {
        get_associated_token_address_with_program_id(
            &me,
            &keys.payment_mint,
            &keys.payment_token_program,
        )
    });
    let agent = Agent::new(
        ctx.cluster.clone(),
        Arc::new(signer),
        Hardware::detect(),
        AgentConfig {
            market: keys.market,
            listen: args.listen,
            poll: Duration::from_secs(2),
            payouts: (args.claim_payouts_every_secs > 0).then(|| {
                (
                    destination,
                    Duration::from_secs(args.claim_payouts_every_secs),
                )
            }),
            threads: args
                .threads
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
            retain_results: Duration::from_secs(args.retain_results_secs),
            rules: AlertRules {
                max_gpu_temperature_c: args.alert_gpu_temperature_c,
                max_consecutive_job_failures: args.alert_consecutive_failures,
                heartbeat_late_secs: args.alert_heartbeat_late_secs,
                rpc_unreachable_secs: args.alert_rpc_unreachable_secs,
            },
            webhook: args.webhook,
            behaviour: Behaviour::default(),
        },
    )
    .await?;
    tokio::select! {
        result = agent.run() => result,
        result = tokio::signal::ctrl_c() => Ok(result?),
    }
}

fn parse_gpu_model(text: &str) -> anyhow::Result<GpuModel> {
    let wanted = text.to_ascii_lowercase().replace(['-', '_', ' '], "");
    ALL_GPU_MODELS
        .iter()
        .copied()
        .find(|m| format!("{m:?}").to_ascii_lowercase() == wanted)
        .ok_or_else(|| {
            let names: Vec<String> = ALL_GPU_MODELS
                .iter()
                .map(|m| format!("{m:?}").to_lowercase())
                .collect();
            anyhow::anyhow!("unknown GPU model {text:?}; one of: {}", names.join(", "))
        })
}

fn parse_region(text: &str) -> anyhow::Result<Region> {
    Ok(
        match text
            .to_ascii_lowercase()
            .replace(['-', '_', ' '], "")
            .as_str()
        {
            "northamerica" => Region::NorthAmerica,
            "southamerica" => Region::SouthAmerica,
            "europe" => Region::Europe,
            "asiapacific" => Region::AsiaPacific,
            "middleeast" => Region::MiddleEast,
            "africa" => Region::Africa,
            _ => anyhow::bail!(
                "unknown region {text:?}; one of: north-america, south-america, europe, asia-pacific, middle-east, africa"
            ),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use gpu_market::{GpuModel, Region};

    #[test]
    fn gpu_models_and_regions_parse_by_name() {
        assert_eq!(parse_gpu_model("rtx4090").unwrap(), GpuModel::Rtx4090);
        assert_eq!(parse_gpu_model("RTX-A6000").unwrap(), GpuModel::RtxA6000);
        assert_eq!(parse_gpu_model("cpu").unwrap(), GpuModel::Cpu);
        assert!(
            parse_gpu_model("voodoo2")
                .unwrap_err()
                .to_string()
                .contains("h100")
        );
        assert_eq!(parse_region("asia-pacific").unwrap(), Region::AsiaPacific);
        assert!(parse_region("mars").is_err());
    }
}
