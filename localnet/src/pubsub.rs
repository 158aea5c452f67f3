//! Websocket subscriptions, fed by the ledger's event stream.

use crate::{
    ledger::{Ledger, LedgerEvent},
    rpc::{RpcResult, invalid_params, parse_pubkey, parse_signature},
};
use jsonrpsee::{RpcModule, SubscriptionSink, types::Params};
use serde::Serialize;
use solana_account_decoder::{UiAccountEncoding, encode_ui_account};
use solana_rpc_client_api::{
    config::{
        RpcAccountInfoConfig, RpcProgramAccountsConfig, RpcSignatureSubscribeConfig,
        RpcTransactionLogsConfig, RpcTransactionLogsFilter,
    },
    response::{
        ProcessedSignatureResult, Response, RpcKeyedAccount, RpcLogsResponse, RpcResponseContext,
        RpcSignatureResult, SlotInfo,
    },
};
use solana_sdk::{pubkey::Pubkey, signature::Signature};
use std::sync::Arc;
use tokio::sync::broadcast::error::RecvError;

/// The subscriptions over `ledger`.
pub fn module(ledger: Arc<Ledger>) -> anyhow::Result<RpcModule<Ledger>> {
    let mut module = RpcModule::from_arc(ledger);

    macro_rules! subscription {
        ($name:literal, $notification:literal, $unsubscribe:literal, $parse:path, $run:path) => {
            module.register_subscription(
                $name,
                $notification,
                $unsubscribe,
                |params, pending, ledger, _| async move {
                    let request = match $parse(&params) {
                        Ok(request) => request,
                        Err(error) => {
                            pending.reject(error).await;
                            return Ok(());
                        }
                    };
                    // Listen before accepting, so nothing committed in between is missed.
                    let events = ledger.subscribe();
                    let sink = pending.accept().await?;
                    $run(&ledger, request, events, sink).await;
                    jsonrpsee::core::SubscriptionResult::Ok(())
                },
            )?;
        };
    }

    subscription!(
        "slotSubscribe",
        "slotNotification",
        "slotUnsubscribe",
        parse_none,
        run_slots
    );
    subscription!(
        "signatureSubscribe",
        "signatureNotification",
        "signatureUnsubscribe",
        parse_signature_subscription,
        run_signature
    );
    subscription!(
        "logsSubscribe",
        "logsNotification",
        "logsUnsubscribe",
        parse_logs,
        run_logs
    );
    subscription!(
        "accountSubscribe",
        "accountNotification",
        "accountUnsubscribe",
        parse_account,
        run_account
    );
    subscription!(
        "programSubscribe",
        "programNotification",
        "programUnsubscribe",
        parse_program,
        run_program
    );
    Ok(module)
}

type Events = tokio::sync::broadcast::Receiver<LedgerEvent>;

/// Sends `value` as a notification; false once the client has gone.
async fn notify(sink: &SubscriptionSink, value: &impl Serialize) -> bool {
    match serde_json::value::to_raw_value(value) {
        Ok(raw) => sink.send(raw).await.is_ok(),
        Err(_) => false,
    }
}

/// The next event, or `None` when the client unsubscribed or the ledger stopped. A subscriber that
/// falls behind skips what it missed, as a real node's lagging subscriptions do.
async fn next_event(events: &mut Events, sink: &SubscriptionSink) -> Option<LedgerEvent> {
    loop {
        tokio::select! {
            () = sink.closed() => return None,
            event = events.recv() => match event {
                Ok(event) => return Some(event),
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => return None,
            },
        }
    }
}

fn respond<T>(slot: u64, value: T) -> Response<T> {
    Response {
        context: RpcResponseContext::new(slot),
        value,
    }
}

fn parse_none(_: &Params<'_>) -> RpcResult<()> {
    Ok(())
}

async fn run_slots(_: &Ledger, (): (), mut events: Events, sink: SubscriptionSink) {
    while let Some(event) = next_event(&mut events, &sink).await {
        if let LedgerEvent::Slot { slot, parent, root } = event
            && !notify(&sink, &SlotInfo { slot, parent, root }).await
        {
            return;
        }
    }
}

/// A signature, and whether `processed` is enough (the default is `finalized`: the slot closed).
fn parse_signature_subscription(params: &Params<'_>) -> RpcResult<(Signature, bool)> {
    let mut seq = params.sequence();
    let text: String = seq.next()?;
    let config: Option<RpcSignatureSubscribeConfig> = seq.optional_next()?;
    let processed = config
        .and_then(|c| c.commitment)
        .is_some_and(|c| c.is_processed());
    Ok((parse_signature(&text)?, processed))
}

/// One notification once the transaction reaches the commitment asked for (at once if it already
/// has), then the subscription ends, as a real node's does. The ledger is asked again after every
/// event, so a subscriber that fell behind the event stream still hears.
async fn run_signature(
    ledger: &Ledger,
    (signature, processed): (Signature, bool),
    mut events: Events,
    sink: SubscriptionSink,
) {
    loop {
        if let Some(record) = ledger
            .transaction(&signature)
            .filter(|r| processed || ledger.is_final(r.slot))
        {
            let result = RpcSignatureResult::ProcessedSignature(ProcessedSignatureResult {
                err: record.meta.status.clone().err().map(Into::into),
            });
            notify(&sink, &respond(record.slot, result)).await;
            return;
        }
        if next_event(&mut events, &sink).await.is_none() {
            return;
        }
    }
}

fn parse_logs(params: &Params<'_>) -> RpcResult<Option<Pubkey>> {
    let mut seq = params.sequence();
    let filter: RpcTransactionLogsFilter = seq.next()?;
    let _: Option<RpcTransactionLogsConfig> = seq.optional_next()?;
    match filter {
        RpcTransactionLogsFilter::All | RpcTransactionLogsFilter::AllWithVotes => Ok(None),
        RpcTransactionLogsFilter::Mentions(addresses) => match addresses.as_slice() {
            [address] => parse_pubkey(address).map(Some),
            _ => Err(invalid_params("Invalid Request: Only 1 address supported")),
        },
    }
}

async fn run_logs(
    _: &Ledger,
    mentions: Option<Pubkey>,
    mut events: Events,
    sink: SubscriptionSink,
) {
    while let Some(event) = next_event(&mut events, &sink).await {
        let LedgerEvent::Transaction(record) = event else {
            continue;
        };
        if mentions.is_some_and(|key| {
            !record
                .transaction
                .message
                .static_account_keys()
                .contains(&key)
        }) {
            continue;
        }
        let logs = RpcLogsResponse {
            signature: record.signature.to_string(),
            err: record.meta.status.clone().err().map(Into::into),
            logs: record.meta.log_messages.clone().unwrap_or_default(),
        };
        if !notify(&sink, &respond(record.slot, logs)).await {
            return;
        }
    }
}

fn parse_account(params: &Params<'_>) -> RpcResult<(Pubkey, RpcAccountInfoConfig)> {
    let mut seq = params.sequence();
    let key: String = seq.next()?;
    let config: Option<RpcAccountInfoConfig> = seq.optional_next()?;
    Ok((parse_pubkey(&key)?, config.unwrap_or_default()))
}

async fn run_account(
    _: &Ledger,
    (key, config): (Pubkey, RpcAccountInfoConfig),
    mut events: Events,
    sink: SubscriptionSink,
) {
    let encoding = config.encoding.unwrap_or(UiAccountEncoding::Binary);
    while let Some(event) = next_event(&mut events, &sink).await {
        if let LedgerEvent::Account {
            pubkey,
            account,
            slot,
        } = event
            && pubkey == key
        {
            let ui = encode_ui_account(&pubkey, &account, encoding, None, config.data_slice);
            if !notify(&sink, &respond(slot, ui)).await {
                return;
            }
        }
    }
}

fn parse_program(params: &Params<'_>) -> RpcResult<(Pubkey, RpcProgramAccountsConfig)> {
    let mut seq = params.sequence();
    let key: String = seq.next()?;
    let config: Option<RpcProgramAccountsConfig> = seq.optional_next()?;
    let config = config.unwrap_or_default();
    for filter in config.filters.iter().flatten() {
        filter
            .verify()
            .map_err(|e| invalid_params(format!("Invalid param: {e}")))?;
    }
    Ok((parse_pubkey(&key)?, config))
}

async fn run_program(
    _: &Ledger,
    (program, config): (Pubkey, RpcProgramAccountsConfig),
    mut events: Events,
    sink: SubscriptionSink,
) {
    let encoding = config
        .account_config
        .encoding
        .unwrap_or(UiAccountEncoding::Binary);
    let filters = config.filters.unwrap_or_default();
    while let Some(event) = next_event(&mut events, &sink).await {
        let LedgerEvent::Account {
            pubkey,
            account,
            slot,
        } = event
        else {
            continue;
        };
        if account.owner != program
            || !filters
                .iter()
                .all(|f| crate::rpc::filter_matches(f, &account))
        {
            continue;
        }
        let keyed = RpcKeyedAccount {
            pubkey: pubkey.to_string(),
            account: encode_ui_account(
                &pubkey,
                &account,
                encoding,
                None,
                config.account_config.data_slice,
            ),
        };
        if !notify(&sink, &respond(slot, keyed)).await {
            return;
        }
    }
}
