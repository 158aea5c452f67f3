//! `gpu-market verifier`: run a verifier and manage a verifier's stake.

use super::{
    Ctx,
    amounts::{format_amount, mint_decimals, parse_amount},
    args::VerifierCommand,
};
use crate::verifier::{VerifierAgent, VerifierConfig};
use anchor_spl::associated_token::get_associated_token_address_with_program_id;
use gpu_market_client::ix;
use serde_json::json;
use solana_sdk::{signature::Keypair, signer::Signer};
use std::{sync::Arc, time::Duration};

pub(super) async fn run(ctx: &Ctx, command: VerifierCommand) -> anyhow::Result<()> {
    let signer = ctx.settings.keypair()?;
    match command {
        VerifierCommand::Register { verifier } => {
            let keys = ctx.keys().await?;
            let signature = ctx
                .send(
                    "add_verifier",
                    &[ix::add_verifier(&keys, &verifier)],
                    &signer,
                )
                .await?;
            ctx.report(
                "add_verifier",
                &signature,
                json!({ "verifier": keys.verifier(&verifier).to_string() }),
                format!("{verifier} may now vote in market {}", keys.market),
            );
            Ok(())
        }
        VerifierCommand::Remove { verifier } => {
            let keys = ctx.keys().await?;
            let signature = ctx
                .send(
                    "remove_verifier",
                    &[ix::remove_verifier(&keys, &verifier)],
                    &signer,
                )
                .await?;
            ctx.report(
                "remove_verifier",
                &signature,
                json!({ "verifier": keys.verifier(&verifier).to_string() }),
                format!("{verifier} votes no more in market {}", keys.market),
            );
            Ok(())
        }
        VerifierCommand::Stake { .. }
        | VerifierCommand::Withdraw { .. }
        | VerifierCommand::Close { .. } => verifier_stake(ctx, command, &signer).await,
        VerifierCommand::Run {
            proof_timeout_secs,
            no_crank,
        } => {
            let agent = VerifierAgent::new(
                ctx.cluster.clone(),
                Arc::new(signer),
                VerifierConfig {
                    market: ctx.settings.market()?,
                    poll: Duration::from_secs(2),
                    proof_timeout: Duration::from_secs(proof_timeout_secs),
                    crank: !no_crank,
                },
            )
            .await?;
            tokio::select! {
                result = agent.run() => result,
                result = tokio::signal::ctrl_c() => Ok(result?),
            }
        }
    }
}

/// The verifier's own stake commands, signed by its keypair.
async fn verifier_stake(
    ctx: &Ctx,
    command: VerifierCommand,
    signer: &Keypair,
) -> anyhow::Result<()> {
    let keys = ctx.keys().await?;
    let me = signer.pubkey();
    let decimals = mint_decimals(&ctx.cluster, &keys.stake_mint).await?;
    let own_account = get_associated_token_address_with_program_id(
        &me,
        &keys.stake_mint,
        &keys.stake_token_program,
    );
    let (label, instruction, message) = match command {
        VerifierCommand::Stake { amount, source } => {
            let units = parse_amount(&amount, decimals)?;
            (
                "stake_verifier",
                ix::stake_verifier(&keys, &me, &source.unwrap_or(own_account), units),
                format!(
                    "staked {} more as a verifier",
                    format_amount(units, decimals)
                ),
            )
        }
        VerifierCommand::Withdraw {
            amount,
            destination,
        } => {
            let units = parse_amount(&amount, decimals)?;
            let destination = destination.unwrap_or(own_account);
            (
                "withdraw_verifier_stake",
                ix::withdraw_verifier_stake(&keys, &me, &destination, units),
                format!(
                    "{} of verifier stake sent to {destination}",
                    format_amount(units, decimals)
                ),
            )
        }
        VerifierCommand::Close { destination } => {
            let destination = destination.unwrap_or(own_account);
            (
                "close_verifier",
                ix::close_verifier(&keys, &me, &destination),
                format!("verifier closed; its stake sent to {destination}"),
            )
        }
        _ => unreachable!("only stake commands are routed here"),
    };
    let signature = ctx.send(label, &[instruction], signer).await?;
    ctx.report(
        label,
        &signature,
        json!({ "verifier": keys.verifier(&me).to_string() }),
        message,
    );
    Ok(())
}
