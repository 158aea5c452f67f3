//! `gpu-market job`: post, follow, settle, close jobs and fetch their results.

use super::{
    Ctx,
    amounts::{format_amount, mint_decimals, parse_amount},
    args::{JobCommand, StateArg, WorkloadArg},
    settings::display_lines,
};
use crate::{
    proofs::EndpointClient,
    workload::{Matmul, Render, Spec, output_hash},
};
use anchor_spl::associated_token::get_associated_token_address_with_program_id;
use gpu_market::{
    CreateJobArgs, JobRequirements, Workload,
    pda::find_job_address,
    state::{Job, JobState, Provider},
    verification::MerkleTree,
};
use gpu_market_client::ix;
use serde_json::{Value, json};
use solana_sdk::{pubkey::Pubkey, signer::Signer};
use std::path::Path;

fn job_json(key: &Pubkey, j: &Job, payment_decimals: u8) -> Value {
    json!({
        "job": key.to_string(),
        "client": j.client.to_string(),
        "nonce": j.nonce,
        "state": format!("{:?}", j.state),
        "workload": format!("{:?}", j.workload.kind),
        "spec_uri": j.workload.spec_uri,
        "gpus": j.requirements.gpu_count,
        "min_vram_gb": j.requirements.min_vram_gb,
        "named_provider": j.named_provider.map(|p| p.to_string()),
        "provider": (j.provider != Pubkey::default()).then(|| j.provider.to_string()),
        "max_price_per_gpu_hour": format_amount(j.max_price_per_gpu_hour, payment_decimals),
        "price_per_gpu_hour": format_amount(j.price_per_gpu_hour, payment_decimals),
        "max_duration_secs": j.max_duration_secs,
        "deposit": format_amount(j.deposit, payment_decimals),
        "created_at": j.created_at,
        "started_at": j.started_at,
        "deadline": j.deadline,
        "submitted_at": j.submitted_at,
        "submitted_slot": j.submitted_slot,
        "settled_at": j.settled_at,
        "merkle_root": hex::encode(j.result.merkle_root),
        "output_hash": hex::encode(j.result.output_hash),
        "chunk_count": j.result.chunk_count,
        "sample_seed": j.sample_seed.map(hex::encode),
        "metered_secs": j.result.metered_secs,
        "pass_votes": j.pass_votes,
        "fail_votes": j.fail_votes,
        "provider_share": format_amount(j.settlement.provider_share, payment_decimals),
        "fee": format_amount(j.settlement.fee, payment_decimals),
        "refund": format_amount(j.settlement.refund, payment_decimals),
        "terms": {
            "fee_bps": j.terms.fee_bps,
            "challenge_window_secs": j.terms.challenge_window_secs,
            "dispute_timeout_secs": j.terms.dispute_timeout_secs,
            "dispute_bond_bps": j.terms.dispute_bond_bps,
            "verifier_quorum": j.terms.verifier_quorum,
            "sample_count": j.terms.sample_count,
            "slash_no_show_bps": j.terms.slash_no_show_bps,
            "slash_abandon_bps": j.terms.slash_abandon_bps,
            "slash_fraud_bps": j.terms.slash_fraud_bps,
            "slash_destination": j.terms.slash_destination.to_string(),
        },
    })
}

fn state_of(arg: StateArg) -> JobState {
    match arg {
        StateArg::Open => JobState::Open,
        StateArg::Running => JobState::Running,
        StateArg::Submitted => JobState::Submitted,
        StateArg::Disputed => JobState::Disputed,
        StateArg::Completed => JobState::Completed,
        StateArg::Failed => JobState::Failed,
        StateArg::Cancelled => JobState::Cancelled,
    }
}

pub(super) async fn run(ctx: &Ctx, command: JobCommand) -> anyhow::Result<()> {
    // A job account names its market: these need no `-m`.
    match command {
        JobCommand::Show { job } => {
            let j: Job = ctx.cluster.require(&job, "job").await?;
            let market = ctx.cluster.market(&j.market).await?;
            let value = job_json(
                &job,
                &j,
                mint_decimals(&ctx.cluster, &market.payment_mint).await?,
            );
            ctx.settings.print(&value, || display_lines(&value));
            return Ok(());
        }
        JobCommand::Result { job, out } => return job_result(ctx, &job, &out).await,
        JobCommand::Close { job, destination } => return close_job(ctx, job, destination).await,
        _ => {}
    }
    let keys = ctx.keys().await?;
    let payment_decimals = mint_decimals(&ctx.cluster, &keys.payment_mint).await?;
    match command {
        JobCommand::List { state, mine } => {
            let me = if mine {
                Some(ctx.settings.keypair()?.pubkey())
            } else {
                None
            };
            let mut jobs = ctx.cluster.jobs(&keys.market).await?;
            jobs.retain(|(_, j)| {
                state.is_none_or(|s| j.state == state_of(s)) && me.is_none_or(|me| j.client == me)
            });
            jobs.sort_by_key(|(_, j)| std::cmp::Reverse(j.created_at));
            let values: Vec<Value> = jobs
                .iter()
                .map(|(k, j)| job_json(k, j, payment_decimals))
                .collect();
            ctx.settings.print(&Value::Array(values), || {
                let mut out = format!(
                    "{:<44} {:<10} {:<7} {:>4} {:>12}\n",
                    "job", "state", "kind", "gpus", "deposit"
                );
                for (k, j) in &jobs {
                    out.push_str(&format!(
                        "{:<44} {:<10} {:<7} {:>4} {:>12}\n",
                        k.to_string(),
                        format!("{:?}", j.state),
                        format!("{:?}", j.workload.kind),
                        j.requirements.gpu_count,
                        format_amount(j.deposit, payment_decimals)
                    ));
                }
                out.push_str(&format!("{} job(s)", jobs.len()));
                out
            });
            Ok(())
        }
        command => {
            let signer = ctx.settings.keypair()?;
            let me = signer.pubkey();
            let (what, ix, key, detail) = match command {
                JobCommand::Create {
                    workload,
                    seed,
                    spec_file,
                    gpus,
                    min_vram_gb,
                    max_price,
                    max_duration_secs,
                    provider,
                    nonce,
                    source,
                } => {
                    let spec = match spec_file {
                        Some(path) => {
                            Spec::parse(&std::fs::read_to_string(&path).map_err(|e| {
                                anyhow::anyhow!("could not read {}: {e}", path.display())
                            })?)?
                        }
                        None => match workload {
                            Some(WorkloadArg::Matmul) | None => Spec::Matmul(Matmul::demo(seed)),
                            Some(WorkloadArg::Render) => Spec::Render(Render::demo(seed)),
                        },
                    };
                    let uri = spec.data_uri();
                    anyhow::ensure!(
                        uri.len() <= gpu_market::constants::MAX_SPEC_URI_LEN,
                        "the spec document is {} bytes inline, over the {} a job can carry",
                        uri.len(),
                        gpu_market::constants::MAX_SPEC_URI_LEN
                    );
                    let nonce = nonce.unwrap_or_else(|| {
                        std::time::SystemTime::now()
                            .duration_since(std::time::UNIX_EPOCH)
                            .map_or(0, |d| d.as_nanos() as u64)
                    });
                    let source = source.unwrap_or_else(|| {
                        get_associated_token_address_with_program_id(
                            &me,
                            &keys.payment_mint,
                            &keys.payment_token_program,
                        )
                    });
                    let args = CreateJobArgs {
                        nonce,
                        requirements: JobRequirements {
                            gpu_count: gpus,
                            min_vram_gb,
                            allowed_gpu_models: 0,
                            min_bandwidth_down_mbps: 0,
                            min_bandwidth_up_mbps: 0,
                            region: None,
                        },
                        workload: Workload {
                            kind: spec.kind(),
                            spec_hash: spec.hash(),
                            spec_uri: uri,
                        },
                        max_price_per_gpu_hour: parse_amount(&max_price, payment_decimals)?,
                        max_duration_secs,
                        named_provider: provider,
                    };
                    let key = find_job_address(&keys.market, &me, nonce).0;
                    (
                        "create_job",
                        ix::create_job(&keys, &me, &source, args),
                        key,
                        format!("job {key} posted ({} chunks)", spec.chunk_count()),
                    )
                }
                JobCommand::Cancel { job } => (
                    "cancel_job",
                    ix::cancel_job(&me, &job),
                    job,
                    format!("job {job} cancelled and refunded"),
                ),
                JobCommand::Accept { job } => {
                    let j: Job = ctx.cluster.require(&job, "job").await?;
                    (
                        "accept_result",
                        ix::accept_result(&keys, &me, &job, &j.provider),
                        job,
                        format!("result of {job} accepted"),
                    )
                }
                JobCommand::Dispute { job, source } => {
                    let j: Job = ctx.cluster.require(&job, "job").await?;
                    let bond =
                        gpu_market::settlement::dispute_bond(j.deposit, j.terms.dispute_bond_bps)?;
                    let source = source.unwrap_or_else(|| {
                        get_associated_token_address_with_program_id(
                            &me,
                            &keys.payment_mint,
                            &keys.payment_token_program,
                        )
                    });
                    (
                        "dispute_result",
                        ix::dispute_result(&keys, &me, &job, &j.provider, &source),
                        job,
                        format!(
                            "result of {job} disputed; bond of {} held in the job's escrow",
                            format_amount(bond, payment_decimals)
                        ),
                    )
                }
                JobCommand::Show { .. }
                | JobCommand::List { .. }
                | JobCommand::Result { .. }
                | JobCommand::Close { .. } => unreachable!("handled above"),
            };
            let signature = ctx.send(what, &[ix], &signer).await?;
            let after: Option<Job> = ctx.cluster.anchor_account(&key).await?;
            let changed = after.map_or(Value::Null, |j| job_json(&key, &j, payment_decimals));
            ctx.report(what, &signature, json!({ "job": changed }), detail);
            Ok(())
        }
    }
}

/// Closes a settled job: the escrow's balance to `destination`, the rent to the client.
async fn close_job(ctx: &Ctx, job: Pubkey, destination: Option<Pubkey>) -> anyhow::Result<()> {
    let signer = ctx.settings.keypair()?;
    let me = signer.pubkey();
    let j: Job = ctx.cluster.require(&job, "job").await?;
    let keys = ctx.cluster.market_keys(&j.market).await?;
    let decimals = mint_decimals(&ctx.cluster, &keys.payment_mint).await?;
    let destination = destination.unwrap_or_else(|| {
        get_associated_token_address_with_program_id(
            &me,
            &keys.payment_mint,
            &keys.payment_token_program,
        )
    });
    let held = ctx
        .cluster
        .token_balance(&gpu_market::pda::find_escrow_vault_address(&job).0)
        .await?;
    // Each verdict on the job is closed first (its bond settled by the job's outcome): the program
    // refuses to close a job with open verdicts.
    let mut instructions: Vec<_> = ctx
        .cluster
        .verdicts_on(&job)
        .await?
        .into_iter()
        .map(|(_, verdict)| {
            ix::close_verdict_to(
                &keys,
                &me,
                &verdict.authority,
                &job,
                &j.terms.slash_destination,
            )
        })
        .collect();
    // Three closes fit in one transaction beside close_job; more go ahead in their own.
    while instructions.len() > 3 {
        let rest = instructions.split_off(3);
        ctx.send("close_verdict", &instructions, &signer).await?;
        instructions = rest;
    }
    instructions.push(ix::close_job(&keys, &me, &job, &destination));
    let signature = ctx.send("close_job", &instructions, &signer).await?;
    ctx.report(
        "close_job",
        &signature,
        json!({ "job": job.to_string(), "returned": format_amount(held, decimals) }),
        format!(
            "job {job} closed: {} sent to {destination}, rent returned",
            format_amount(held, decimals)
        ),
    );
    Ok(())
}

/// Fetches every chunk from the provider, checks the Merkle root and the output hash, and writes
/// the output.
async fn job_result(ctx: &Ctx, key: &Pubkey, out: &Path) -> anyhow::Result<()> {
    let job: Job = ctx.cluster.require(key, "job").await?;
    anyhow::ensure!(
        matches!(
            job.state,
            JobState::Submitted | JobState::Disputed | JobState::Completed
        ),
        "job {key} has no result to fetch (it is {:?})",
        job.state
    );
    let provider: Provider = ctx.cluster.require(&job.provider, "provider").await?;
    let spec = Spec::of_job(&job)?;
    anyhow::ensure!(
        spec.chunk_count() == job.result.chunk_count,
        "the result commits to {} chunks but the job's spec has {}",
        job.result.chunk_count,
        spec.chunk_count()
    );
    let outputs = EndpointClient::default()
        .all(
            &provider.endpoint,
            key,
            job.result.chunk_count,
            spec.max_chunk_bytes(),
            spec.output_bytes(),
        )
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "the provider's endpoint {} did not serve job {key}: {e:#}",
                provider.endpoint
            )
        })?;
    anyhow::ensure!(
        outputs.len() as u32 == job.result.chunk_count,
        "the provider served {} chunks; the result commits to {}",
        outputs.len(),
        job.result.chunk_count
    );
    let leaves = outputs
        .iter()
        .enumerate()
        .map(|(i, o)| gpu_market::verification::chunk_leaf(i as u32, o))
        .collect();
    anyhow::ensure!(
        MerkleTree::new(leaves).root() == job.result.merkle_root,
        "the served chunks do not match the committed Merkle root"
    );
    anyhow::ensure!(
        output_hash(&outputs) == job.result.output_hash,
        "the served chunks do not match the committed output hash"
    );
    let bytes = match &spec {
        Spec::Render(r) => r.to_png(&outputs)?,
        Spec::Matmul(_) => outputs.concat(),
    };
    std::fs::write(out, &bytes)
        .map_err(|e| anyhow::anyhow!("could not write {}: {e}", out.display()))?;
    let value = json!({
        "job": key.to_string(),
        "file": out.display().to_string(),
        "bytes": bytes.len(),
        "chunks": outputs.len(),
        "merkle_root": hex::encode(job.result.merkle_root),
    });
    ctx.settings.print(&value, || {
        format!(
            "wrote {} ({} bytes, {} chunks checked against root {})",
            out.display(),
            bytes.len(),
            outputs.len(),
            hex::encode(job.result.merkle_root)
        )
    });
    Ok(())
}
