//! The JSON-RPC methods, answering with solana-client's own response types so every shape is the one
//! a real node sends.

use crate::ledger::{
    Block, Ledger, SendError, Simulation, TOKEN_PROGRAMS, TxRecord, mint_decimals,
    token_owner_and_amount,
};
use base64::{Engine, prelude::BASE64_STANDARD};
use jsonrpsee::{
    RpcModule,
    types::{
        ErrorObject, ErrorObjectOwned, Params,
        error::{INTERNAL_ERROR_CODE, INVALID_PARAMS_CODE, INVALID_REQUEST_CODE},
    },
};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use solana_account_decoder::{
    UiAccount, UiAccountEncoding, UiDataSliceConfig, encode_ui_account,
    parse_account_data::{AccountAdditionalDataV3, SplTokenAdditionalDataV2},
    parse_token::{get_token_account_mint, token_amount_to_ui_amount_v3},
};
use solana_rpc_client_api::{
    config::{
        RpcAccountInfoConfig, RpcBlockConfig, RpcBlocksConfigWrapper, RpcContextConfig,
        RpcEncodingConfigWrapper, RpcProgramAccountsConfig, RpcRequestAirdropConfig,
        RpcSendTransactionConfig, RpcSignatureStatusConfig, RpcSignaturesForAddressConfig,
        RpcSimulateTransactionConfig, RpcTokenAccountsFilter, RpcTransactionConfig,
    },
    custom_error::{
        JSON_RPC_SERVER_ERROR_BLOCK_NOT_AVAILABLE,
        JSON_RPC_SERVER_ERROR_MIN_CONTEXT_SLOT_NOT_REACHED,
        JSON_RPC_SERVER_ERROR_SEND_TRANSACTION_PREFLIGHT_FAILURE,
        JSON_RPC_SERVER_ERROR_TRANSACTION_SIGNATURE_VERIFICATION_FAILURE,
        JSON_RPC_SERVER_ERROR_UNSUPPORTED_TRANSACTION_VERSION,
    },
    filter::RpcFilterType,
    response::{
        OptionalContext, Response, RpcBlockhash, RpcConfirmedTransactionStatusWithSignature,
        RpcKeyedAccount, RpcResponseContext, RpcSimulateTransactionResult, RpcVersionInfo,
    },
};
use solana_sdk::{
    account::Account,
    clock::Slot,
    epoch_info::EpochInfo,
    hash::Hash,
    message::VersionedMessage,
    pubkey::Pubkey,
    signature::Signature,
    signer::Signer,
    transaction::{Transaction, TransactionVersion, VersionedTransaction},
};
use solana_transaction_status_client_types::{
    EncodedConfirmedTransactionWithStatusMeta, EncodedTransaction,
    EncodedTransactionWithStatusMeta, TransactionBinaryEncoding, TransactionConfirmationStatus,
    TransactionDetails, TransactionStatus, UiAddressTableLookup, UiCompiledInstruction,
    UiConfirmedBlock, UiMessage, UiRawMessage, UiTransaction, UiTransactionEncoding,
    UiTransactionStatusMeta,
};
use std::{str::FromStr, sync::Arc};

/// The runtime localnet embeds (solana-program-test's), reported by `getVersion`.
pub const RUNTIME_VERSION: &str = "3.1.12";
/// A real node's caps (a transaction is at most one packet).
const PACKET_DATA_SIZE: usize = 1_232;
const MAX_MULTIPLE_ACCOUNTS: usize = 100;
const MAX_SIGNATURE_STATUSES: usize = 256;
const MAX_SIGNATURES_FOR_ADDRESS: usize = 1_000;
const MAX_PROGRAM_ACCOUNT_FILTERS: usize = 4;
const MAX_BASE58_BYTES: usize = 128;
const MAX_GET_BLOCKS_RANGE: u64 = 500_000;
/// The most one airdrop hands out (the faucet holds a test amount, not an infinite one).
pub const MAX_AIRDROP_LAMPORTS: u64 = 1_000 * 1_000_000_000;

pub type RpcResult<T> = Result<T, ErrorObjectOwned>;

pub fn invalid_params(message: impl Into<String>) -> ErrorObjectOwned {
    ErrorObject::owned(INVALID_PARAMS_CODE, message.into(), None::<()>)
}

fn internal(error: impl std::fmt::Display) -> ErrorObjectOwned {
    ErrorObject::owned(
        INTERNAL_ERROR_CODE,
        format!("Internal error: {error}"),
        None::<()>,
    )
}

fn block_not_available(slot: Slot) -> ErrorObjectOwned {
    ErrorObject::owned(
        JSON_RPC_SERVER_ERROR_BLOCK_NOT_AVAILABLE as i32,
        format!("Block not available for slot {slot}"),
        None::<()>,
    )
}

pub(crate) fn parse_pubkey(text: &str) -> RpcResult<Pubkey> {
    Pubkey::from_str(text).map_err(|_| {
        invalid_params(format!(
            "Invalid param: {text:?} is not a base-58 public key"
        ))
    })
}

pub(crate) fn parse_signature(text: &str) -> RpcResult<Signature> {
    Signature::from_str(text).map_err(|_| {
        invalid_params(format!(
            "Invalid param: {text:?} is not a base-58 signature"
        ))
    })
}

/// Positional parameters: required ones first, then an optional configuration object.
struct Args<'a>(jsonrpsee::types::params::ParamsSequence<'a>);

impl<'a> Args<'a> {
    fn new(params: &'a Params<'a>) -> Self {
        Self(params.sequence())
    }

    fn required<T: DeserializeOwned>(&mut self) -> RpcResult<T> {
        self.0.next()
    }

    fn optional<T: DeserializeOwned>(&mut self) -> RpcResult<Option<T>> {
        self.0.optional_next()
    }
}

fn context(ledger: &Ledger) -> RpcResponseContext {
    RpcResponseContext::new(ledger.slot())
}

fn respond<T>(ledger: &Ledger, value: T) -> Response<T> {
    Response {
        context: context(ledger),
        value,
    }
}

fn check_min_context_slot(ledger: &Ledger, min_context_slot: Option<Slot>) -> RpcResult<()> {
    match min_context_slot {
        Some(min) if ledger.slot() < min => Err(ErrorObject::owned(
            JSON_RPC_SERVER_ERROR_MIN_CONTEXT_SLOT_NOT_REACHED as i32,
            "Minimum context slot has not been reached",
            Some(serde_json::json!({ "contextSlot": ledger.slot() })),
        )),
        _ => Ok(()),
    }
}

/// The JSON-RPC methods over `ledger`.
pub fn module(ledger: Arc<Ledger>) -> anyhow::Result<RpcModule<Ledger>> {
    let mut module = RpcModule::from_arc(ledger);

    macro_rules! method {
        ($name:literal, $handler:path) => {
            module.register_async_method($name, |params, ledger, _| async move {
                // Answers are serialized here: some of solana-client's response types are not `Clone`,
                // which jsonrpsee asks of typed answers.
                $handler(&ledger, &params).await.and_then(|answer| {
                    serde_json::value::to_raw_value(&answer).map_err(internal)
                })
            })?;
        };
    }

    method!("getHealth", get_health);
    method!("getVersion", get_version);
    method!("getGenesisHash", get_genesis_hash);
    method!("getSlot", get_slot);
    method!("getBlockHeight", get_block_height);
    method!("getEpochInfo", get_epoch_info);
    method!("getEpochSchedule", get_epoch_schedule);
    method!("getLatestBlockhash", get_latest_blockhash);
    method!("isBlockhashValid", is_blockhash_valid);
    method!(
        "getMinimumBalanceForRentExemption",
        get_minimum_balance_for_rent_exemption
    );
    method!("getFeeForMessage", get_fee_for_message);
    method!("getTransactionCount", get_transaction_count);
    method!("getAccountInfo", get_account_info);
    method!("getMultipleAccounts", get_multiple_accounts);
    method!("getProgramAccounts", get_program_accounts);
    method!("getBalance", get_balance);
    method!("getTokenAccountBalance", get_token_account_balance);
    method!("getTokenAccountsByOwner", get_token_accounts_by_owner);
    method!("sendTransaction", send_transaction);
    method!("simulateTransaction", simulate_transaction);
    method!("getSignatureStatuses", get_signature_statuses);
    method!("getTransaction", get_transaction);
    method!("getSignaturesForAddress", get_signatures_for_address);
    method!("getBlock", get_block);
    method!("getBlocks", get_blocks);
    method!("getBlockTime", get_block_time);
    method!("getFirstAvailableBlock", get_first_available_block);
    method!("requestAirdrop", request_airdrop);
    method!("localnet_warpTime", warp_time);
    Ok(module)
}

// ---- chain ----

async fn get_health(_: &Ledger, _: &Params<'_>) -> RpcResult<&'static str> {
    Ok("ok")
}

async fn get_version(_: &Ledger, _: &Params<'_>) -> RpcResult<RpcVersionInfo> {
    Ok(RpcVersionInfo {
        solana_core: RUNTIME_VERSION.into(),
        // A real node's: the first four bytes of the runtime's feature-set id.
        feature_set: Some(u32::from_le_bytes(
            agave_feature_set::ID.as_ref()[..4]
                .try_into()
                .expect("a hash has four bytes"),
        )),
    })
}

async fn get_genesis_hash(ledger: &Ledger, _: &Params<'_>) -> RpcResult<String> {
    Ok(ledger.genesis_hash().to_string())
}

/// Checks the context config; true if it asks for `processed` (the open slot) rather than the
/// default `finalized` (the last produced one).
async fn context_config(ledger: &Ledger, params: &Params<'_>) -> RpcResult<bool> {
    let config: Option<RpcContextConfig> = Args::new(params).optional()?;
    check_min_context_slot(ledger, config.and_then(|c| c.min_context_slot))?;
    Ok(config
        .and_then(|c| c.commitment)
        .is_some_and(|c| c.is_processed()))
}

async fn get_slot(ledger: &Ledger, params: &Params<'_>) -> RpcResult<Slot> {
    let processed = context_config(ledger, params).await?;
    Ok(if processed {
        ledger.slot()
    } else {
        ledger.produced_slot()
    })
}

async fn get_block_height(ledger: &Ledger, params: &Params<'_>) -> RpcResult<u64> {
    let processed = context_config(ledger, params).await?;
    match ledger.block(ledger.produced_slot()) {
        Some(block) if !processed => Ok(block.block_height),
        _ => ledger.block_height().await.map_err(internal),
    }
}

async fn get_epoch_info(ledger: &Ledger, params: &Params<'_>) -> RpcResult<EpochInfo> {
    context_config(ledger, params).await?;
    let slot = ledger.slot();
    let schedule = ledger.epoch_schedule();
    let (epoch, slot_index) = schedule.get_epoch_and_slot_index(slot);
    Ok(EpochInfo {
        epoch,
        slot_index,
        slots_in_epoch: schedule.get_slots_in_epoch(epoch),
        absolute_slot: slot,
        block_height: ledger.block_height().await.map_err(internal)?,
        transaction_count: Some(ledger.transaction_count()),
    })
}

async fn get_epoch_schedule(
    ledger: &Ledger,
    _: &Params<'_>,
) -> RpcResult<solana_sdk::epoch_schedule::EpochSchedule> {
    Ok(ledger.epoch_schedule().clone())
}

async fn get_latest_blockhash(
    ledger: &Ledger,
    params: &Params<'_>,
) -> RpcResult<Response<RpcBlockhash>> {
    context_config(ledger, params).await?;
    let (blockhash, last_valid_block_height) = ledger.latest_blockhash().await.map_err(internal)?;
    Ok(respond(
        ledger,
        RpcBlockhash {
            blockhash: blockhash.to_string(),
            last_valid_block_height,
        },
    ))
}

async fn is_blockhash_valid(ledger: &Ledger, params: &Params<'_>) -> RpcResult<Response<bool>> {
    let mut args = Args::new(params);
    let blockhash: String = args.required()?;
    let config: Option<RpcContextConfig> = args.optional()?;
    check_min_context_slot(ledger, config.and_then(|c| c.min_context_slot))?;
    let blockhash = Hash::from_str(&blockhash).map_err(|_| {
        invalid_params(format!(
            "Invalid param: {blockhash:?} is not a base-58 hash"
        ))
    })?;
    let valid = ledger.is_blockhash_valid(&blockhash).await;
    Ok(respond(ledger, valid))
}

async fn get_minimum_balance_for_rent_exemption(
    ledger: &Ledger,
    params: &Params<'_>,
) -> RpcResult<u64> {
    let data_len: usize = Args::new(params).required()?;
    if data_len > solana_system_interface::MAX_PERMITTED_DATA_LENGTH as usize {
        return Err(invalid_params(format!(
            "Invalid param: data length {data_len} exceeds the maximum of {}",
            solana_system_interface::MAX_PERMITTED_DATA_LENGTH
        )));
    }
    Ok(ledger.rent().minimum_balance(data_len))
}

async fn get_fee_for_message(
    ledger: &Ledger,
    params: &Params<'_>,
) -> RpcResult<Response<Option<u64>>> {
    let mut args = Args::new(params);
    let encoded: String = args.required()?;
    let config: Option<RpcContextConfig> = args.optional()?;
    check_min_context_slot(ledger, config.and_then(|c| c.min_context_slot))?;
    let message: VersionedMessage =
        decode_bincode(&encoded, TransactionBinaryEncoding::Base64, "message")?;
    message
        .sanitize()
        .map_err(|e| invalid_params(format!("invalid message: {e}")))?;
    let fee = ledger
        .fee_for_message(&message)
        .await
        .map_err(|e| invalid_params(e.to_string()))?;
    Ok(respond(ledger, fee))
}

async fn get_transaction_count(ledger: &Ledger, params: &Params<'_>) -> RpcResult<u64> {
    context_config(ledger, params).await?;
    Ok(ledger.transaction_count())
}

// ---- accounts ----

/// How accounts are encoded, checked once per request.
struct AccountEncoding {
    encoding: UiAccountEncoding,
    data_slice: Option<UiDataSliceConfig>,
}

impl AccountEncoding {
    fn from_config(
        ledger: &Ledger,
        config: Option<&RpcAccountInfoConfig>,
        default: UiAccountEncoding,
    ) -> RpcResult<Self> {
        check_min_context_slot(ledger, config.and_then(|c| c.min_context_slot))?;
        Ok(Self {
            encoding: config.and_then(|c| c.encoding).unwrap_or(default),
            data_slice: config.and_then(|c| c.data_slice),
        })
    }

    async fn encode_keyed(
        &self,
        ledger: &Ledger,
        accounts: &[(Pubkey, Account)],
    ) -> RpcResult<Vec<RpcKeyedAccount>> {
        let mut keyed = Vec::with_capacity(accounts.len());
        for (pubkey, account) in accounts {
            keyed.push(RpcKeyedAccount {
                pubkey: pubkey.to_string(),
                account: self.encode(ledger, pubkey, account).await?,
            });
        }
        Ok(keyed)
    }

    async fn encode(
        &self,
        ledger: &Ledger,
        pubkey: &Pubkey,
        account: &Account,
    ) -> RpcResult<UiAccount> {
        if matches!(
            self.encoding,
            UiAccountEncoding::Binary | UiAccountEncoding::Base58
        ) {
            let len = self.data_slice.map_or(account.data.len(), |slice| {
                slice
                    .length
                    .min(account.data.len().saturating_sub(slice.offset))
            });
            if len > MAX_BASE58_BYTES {
                return Err(invalid_params(format!(
                    "Encoded binary (base 58) data should be less than {MAX_BASE58_BYTES} bytes, please use Base64 encoding."
                )));
            }
        }
        let additional_data = if self.encoding == UiAccountEncoding::JsonParsed {
            token_additional_data(ledger, account).await
        } else {
            None
        };
        Ok(encode_ui_account(
            pubkey,
            account,
            self.encoding,
            additional_data,
            self.data_slice,
        ))
    }
}

/// A token account's mint decimals, which the jsonParsed encoding needs.
async fn token_additional_data(
    ledger: &Ledger,
    account: &Account,
) -> Option<AccountAdditionalDataV3> {
    if !TOKEN_PROGRAMS.contains(&account.owner) {
        return None;
    }
    let mint = get_token_account_mint(&account.data)?;
    let decimals = mint_decimals(&ledger.account(&mint).await.ok()??)?;
    Some(AccountAdditionalDataV3 {
        spl_token_additional_data: Some(SplTokenAdditionalDataV2 {
            decimals,
            ..Default::default()
        }),
    })
}

async fn get_account_info(
    ledger: &Ledger,
    params: &Params<'_>,
) -> RpcResult<Response<Option<UiAccount>>> {
    let mut args = Args::new(params);
    let pubkey = parse_pubkey(&args.required::<String>()?)?;
    let config: Option<RpcAccountInfoConfig> = args.optional()?;
    let encoding =
        AccountEncoding::from_config(ledger, config.as_ref(), UiAccountEncoding::Binary)?;
    let value = match ledger.account(&pubkey).await.map_err(internal)? {
        Some(account) => Some(encoding.encode(ledger, &pubkey, &account).await?),
        None => None,
    };
    Ok(respond(ledger, value))
}

async fn get_multiple_accounts(
    ledger: &Ledger,
    params: &Params<'_>,
) -> RpcResult<Response<Vec<Option<UiAccount>>>> {
    let mut args = Args::new(params);
    let keys: Vec<String> = args.required()?;
    let config: Option<RpcAccountInfoConfig> = args.optional()?;
    if keys.len() > MAX_MULTIPLE_ACCOUNTS {
        return Err(invalid_params(format!(
            "Too many inputs provided; max {MAX_MULTIPLE_ACCOUNTS}"
        )));
    }
    let keys = keys
        .iter()
        .map(|k| parse_pubkey(k))
        .collect::<RpcResult<Vec<_>>>()?;
    let encoding =
        AccountEncoding::from_config(ledger, config.as_ref(), UiAccountEncoding::Base64)?;
    let mut value = Vec::with_capacity(keys.len());
    for key in &keys {
        value.push(match ledger.account(key).await.map_err(internal)? {
            Some(account) => Some(encoding.encode(ledger, key, &account).await?),
            None => None,
        });
    }
    Ok(respond(ledger, value))
}

pub(crate) fn filter_matches(filter: &RpcFilterType, account: &Account) -> bool {
    match filter {
        RpcFilterType::DataSize(size) => account.data.len() as u64 == *size,
        RpcFilterType::Memcmp(memcmp) => memcmp.bytes_match(&account.data),
        RpcFilterType::TokenAccountState => {
            TOKEN_PROGRAMS.contains(&account.owner)
                && get_token_account_mint(&account.data).is_some()
        }
    }
}

async fn get_program_accounts(
    ledger: &Ledger,
    params: &Params<'_>,
) -> RpcResult<OptionalContext<Vec<RpcKeyedAccount>>> {
    let mut args = Args::new(params);
    let program = parse_pubkey(&args.required::<String>()?)?;
    let config: RpcProgramAccountsConfig = args.optional()?.unwrap_or_default();
    let filters = config.filters.unwrap_or_default();
    if filters.len() > MAX_PROGRAM_ACCOUNT_FILTERS {
        return Err(invalid_params(format!(
            "Too many filters provided; max {MAX_PROGRAM_ACCOUNT_FILTERS}"
        )));
    }
    for filter in &filters {
        filter
            .verify()
            .map_err(|e| invalid_params(format!("Invalid param: {e}")))?;
    }
    let encoding = AccountEncoding::from_config(
        ledger,
        Some(&config.account_config),
        UiAccountEncoding::Binary,
    )?;
    let found = ledger.accounts_where(|_, account| {
        account.owner == program && filters.iter().all(|f| filter_matches(f, account))
    });
    let keyed = encoding.encode_keyed(ledger, &found).await?;
    Ok(if config.with_context.unwrap_or_default() {
        OptionalContext::Context(respond(ledger, keyed))
    } else {
        OptionalContext::NoContext(keyed)
    })
}

async fn get_balance(ledger: &Ledger, params: &Params<'_>) -> RpcResult<Response<u64>> {
    let mut args = Args::new(params);
    let pubkey = parse_pubkey(&args.required::<String>()?)?;
    let config: Option<RpcContextConfig> = args.optional()?;
    check_min_context_slot(ledger, config.and_then(|c| c.min_context_slot))?;
    let lamports = ledger
        .account(&pubkey)
        .await
        .map_err(internal)?
        .map_or(0, |a| a.lamports);
    Ok(respond(ledger, lamports))
}

async fn get_token_account_balance(
    ledger: &Ledger,
    params: &Params<'_>,
) -> RpcResult<Response<solana_account_decoder::parse_token::UiTokenAmount>> {
    let mut args = Args::new(params);
    let pubkey = parse_pubkey(&args.required::<String>()?)?;
    let config: Option<RpcContextConfig> = args.optional()?;
    check_min_context_slot(ledger, config.and_then(|c| c.min_context_slot))?;
    let not_token = || invalid_params("Invalid param: not a Token account");
    let account = ledger
        .account(&pubkey)
        .await
        .map_err(internal)?
        .ok_or_else(|| invalid_params("Invalid param: could not find account"))?;
    if !TOKEN_PROGRAMS.contains(&account.owner) {
        return Err(not_token());
    }
    let mint = get_token_account_mint(&account.data).ok_or_else(not_token)?;
    let (_, amount) = token_owner_and_amount(&account.data).ok_or_else(not_token)?;
    let mint_account = ledger
        .account(&mint)
        .await
        .map_err(internal)?
        .ok_or_else(|| invalid_params("Invalid param: could not find mint"))?;
    let decimals = mint_decimals(&mint_account)
        .ok_or_else(|| invalid_params("Invalid param: mint could not be unpacked"))?;
    Ok(respond(
        ledger,
        token_amount_to_ui_amount_v3(
            amount,
            &SplTokenAdditionalDataV2 {
                decimals,
                ..Default::default()
            },
        ),
    ))
}

async fn get_token_accounts_by_owner(
    ledger: &Ledger,
    params: &Params<'_>,
) -> RpcResult<Response<Vec<RpcKeyedAccount>>> {
    let mut args = Args::new(params);
    let owner = parse_pubkey(&args.required::<String>()?)?;
    let filter: RpcTokenAccountsFilter = args.required()?;
    let config: Option<RpcAccountInfoConfig> = args.optional()?;
    let (mint, programs) = match filter {
        RpcTokenAccountsFilter::Mint(mint) => {
            let mint = parse_pubkey(&mint)?;
            let program = ledger
                .account(&mint)
                .await
                .map_err(internal)?
                .filter(|a| mint_decimals(a).is_some())
                .map(|a| a.owner)
                .ok_or_else(|| invalid_params("Invalid param: could not find mint"))?;
            (Some(mint), vec![program])
        }
        RpcTokenAccountsFilter::ProgramId(program) => {
            let program = parse_pubkey(&program)?;
            if !TOKEN_PROGRAMS.contains(&program) {
                return Err(invalid_params(
                    "Invalid param: unrecognized Token program id",
                ));
            }
            (None, vec![program])
        }
    };
    let encoding =
        AccountEncoding::from_config(ledger, config.as_ref(), UiAccountEncoding::Binary)?;
    let found = ledger.accounts_where(|_, account| {
        programs.contains(&account.owner)
            && get_token_account_mint(&account.data)
                .is_some_and(|m| mint.is_none_or(|want| m == want))
            && token_owner_and_amount(&account.data).is_some_and(|(o, _)| o == owner)
    });
    let keyed = encoding.encode_keyed(ledger, &found).await?;
    Ok(respond(ledger, keyed))
}

// ---- transactions ----

fn decode_bincode<T: DeserializeOwned>(
    encoded: &str,
    encoding: TransactionBinaryEncoding,
    what: &str,
) -> RpcResult<T> {
    let max_encoded = match encoding {
        TransactionBinaryEncoding::Base58 => 1683,
        TransactionBinaryEncoding::Base64 => 1644,
    };
    if encoded.len() > max_encoded {
        return Err(invalid_params(format!(
            "{encoding:?} encoded {what} too large: {} bytes (max: encoded/raw {max_encoded}/{PACKET_DATA_SIZE})",
            encoded.len()
        )));
    }
    let bytes = match encoding {
        TransactionBinaryEncoding::Base58 => bs58::decode(encoded).into_vec().ok(),
        TransactionBinaryEncoding::Base64 => BASE64_STANDARD.decode(encoded).ok(),
    };
    let bytes = bytes
        .ok_or_else(|| invalid_params(format!("invalid {encoding:?} encoding of the {what}")))?;
    if bytes.len() > PACKET_DATA_SIZE {
        return Err(invalid_params(format!(
            "decoded {what} too large: {} bytes (max: {PACKET_DATA_SIZE} bytes)",
            bytes.len()
        )));
    }
    bincode::deserialize(&bytes)
        .map_err(|e| invalid_params(format!("failed to deserialize the {what}: {e}")))
}

fn decode_transaction(
    encoded: &str,
    encoding: Option<UiTransactionEncoding>,
) -> RpcResult<VersionedTransaction> {
    let encoding = encoding.unwrap_or(UiTransactionEncoding::Base58);
    let binary = encoding.into_binary_encoding().ok_or_else(|| {
        invalid_params(format!(
            "unsupported encoding: {encoding}. Supported encodings: base58, base64"
        ))
    })?;
    let tx: VersionedTransaction = decode_bincode(encoded, binary, "transaction")?;
    tx.sanitize()
        .map_err(|e| invalid_params(format!("invalid transaction: {e}")))?;
    Ok(tx)
}

fn simulation_result(simulation: Simulation, inner: bool) -> RpcSimulateTransactionResult {
    RpcSimulateTransactionResult {
        err: simulation.err.map(Into::into),
        logs: Some(simulation.logs),
        accounts: None,
        units_consumed: Some(simulation.units_consumed),
        loaded_accounts_data_size: Some(simulation.loaded_accounts_data_size),
        return_data: simulation.return_data,
        inner_instructions: inner.then(|| {
            simulation
                .inner_instructions
                .into_iter()
                .map(Into::into)
                .collect()
        }),
        replacement_blockhash: None,
        fee: None,
        pre_balances: None,
        post_balances: None,
        pre_token_balances: None,
        post_token_balances: None,
        loaded_addresses: None,
    }
}

async fn send_transaction(ledger: &Ledger, params: &Params<'_>) -> RpcResult<String> {
    let mut args = Args::new(params);
    let encoded: String = args.required()?;
    let config: RpcSendTransactionConfig = args.optional()?.unwrap_or_default();
    check_min_context_slot(ledger, config.min_context_slot)?;
    let tx = decode_transaction(&encoded, config.encoding)?;
    match ledger.send_transaction(tx, !config.skip_preflight).await {
        Ok(signature) => Ok(signature.to_string()),
        Err(error) => Err(send_error(error)),
    }
}

fn send_error(error: SendError) -> ErrorObjectOwned {
    match error {
        SendError::SignatureVerification => ErrorObject::owned(
            JSON_RPC_SERVER_ERROR_TRANSACTION_SIGNATURE_VERIFICATION_FAILURE as i32,
            "Transaction signature verification failure",
            None::<()>,
        ),
        SendError::Preflight(simulation) => {
            let message = format!(
                "Transaction simulation failed: {}",
                simulation
                    .err
                    .as_ref()
                    .map_or_else(String::new, ToString::to_string)
            );
            ErrorObject::owned(
                JSON_RPC_SERVER_ERROR_SEND_TRANSACTION_PREFLIGHT_FAILURE as i32,
                message,
                Some(simulation_result(*simulation, false)),
            )
        }
        SendError::Unsupported(message) => invalid_params(message),
    }
}

async fn simulate_transaction(
    ledger: &Ledger,
    params: &Params<'_>,
) -> RpcResult<Response<RpcSimulateTransactionResult>> {
    let mut args = Args::new(params);
    let encoded: String = args.required()?;
    let config: RpcSimulateTransactionConfig = args.optional()?.unwrap_or_default();
    check_min_context_slot(ledger, config.min_context_slot)?;
    if config.accounts.is_some() {
        return Err(invalid_params(
            "the accounts option of simulateTransaction is not supported by localnet (the runtime does not return post-simulation accounts)",
        ));
    }
    let mut tx = decode_transaction(&encoded, config.encoding)?;
    let mut replacement_blockhash = None;
    if config.replace_recent_blockhash {
        if config.sig_verify {
            return Err(invalid_params(
                "sigVerify may not be used with replaceRecentBlockhash",
            ));
        }
        let (blockhash, last_valid_block_height) =
            ledger.latest_blockhash().await.map_err(internal)?;
        tx.message.set_recent_blockhash(blockhash);
        replacement_blockhash = Some(RpcBlockhash {
            blockhash: blockhash.to_string(),
            last_valid_block_height,
        });
    }
    if config.sig_verify && !tx.verify_with_results().iter().all(|ok| *ok) {
        return Err(send_error(SendError::SignatureVerification));
    }
    let simulation = ledger.simulate(&tx).await;
    let mut result = simulation_result(simulation, config.inner_instructions);
    result.replacement_blockhash = replacement_blockhash;
    Ok(respond(ledger, result))
}

/// `processed` while its slot is open, then `finalized` (with nothing in between: one node).
fn status_of(ledger: &Ledger, record: &TxRecord) -> TransactionStatus {
    let (confirmations, confirmation_status) = if ledger.is_final(record.slot) {
        (None, TransactionConfirmationStatus::Finalized)
    } else {
        (Some(0), TransactionConfirmationStatus::Processed)
    };
    TransactionStatus {
        slot: record.slot,
        confirmations,
        status: record.meta.status.clone(),
        err: record.meta.status.clone().err(),
        confirmation_status: Some(confirmation_status),
    }
}

async fn get_signature_statuses(
    ledger: &Ledger,
    params: &Params<'_>,
) -> RpcResult<Response<Vec<Option<TransactionStatus>>>> {
    let mut args = Args::new(params);
    let signatures: Vec<String> = args.required()?;
    let _: Option<RpcSignatureStatusConfig> = args.optional()?;
    if signatures.len() > MAX_SIGNATURE_STATUSES {
        return Err(invalid_params(format!(
            "Too many inputs provided; max {MAX_SIGNATURE_STATUSES}"
        )));
    }
    let statuses = signatures
        .iter()
        .map(|s| {
            Ok(ledger
                .transaction(&parse_signature(s)?)
                .map(|r| status_of(ledger, &r)))
        })
        .collect::<RpcResult<Vec<_>>>()?;
    Ok(respond(ledger, statuses))
}

/// `tx` in `encoding` (json or binary; jsonParsed would need the instruction parsers of a full node).
fn encode_transaction(
    tx: &VersionedTransaction,
    encoding: UiTransactionEncoding,
) -> RpcResult<EncodedTransaction> {
    let bytes = || bincode::serialize(tx).map_err(internal);
    Ok(match encoding {
        UiTransactionEncoding::Binary => {
            EncodedTransaction::LegacyBinary(bs58::encode(bytes()?).into_string())
        }
        UiTransactionEncoding::Base58 => EncodedTransaction::Binary(
            bs58::encode(bytes()?).into_string(),
            TransactionBinaryEncoding::Base58,
        ),
        UiTransactionEncoding::Base64 => EncodedTransaction::Binary(
            BASE64_STANDARD.encode(bytes()?),
            TransactionBinaryEncoding::Base64,
        ),
        UiTransactionEncoding::Json => {
            let message = &tx.message;
            EncodedTransaction::Json(UiTransaction {
                signatures: tx.signatures.iter().map(ToString::to_string).collect(),
                message: UiMessage::Raw(UiRawMessage {
                    header: *message.header(),
                    account_keys: message
                        .static_account_keys()
                        .iter()
                        .map(ToString::to_string)
                        .collect(),
                    recent_blockhash: message.recent_blockhash().to_string(),
                    instructions: message
                        .instructions()
                        .iter()
                        .map(|ix| UiCompiledInstruction::from(ix, None))
                        .collect(),
                    address_table_lookups: message
                        .address_table_lookups()
                        .map(|lookups| lookups.iter().map(UiAddressTableLookup::from).collect()),
                }),
            })
        }
        UiTransactionEncoding::JsonParsed => {
            return Err(invalid_params(
                "the jsonParsed transaction encoding is not supported by localnet; use json, base58 or base64",
            ));
        }
    })
}

/// The version field a real node sends: absent unless the client said which versions it supports,
/// and an error if the transaction is newer than that.
fn transaction_version(
    tx: &VersionedTransaction,
    max_supported: Option<u8>,
) -> RpcResult<Option<TransactionVersion>> {
    let version = tx.version();
    match (max_supported, &version) {
        (None, TransactionVersion::Legacy(_)) => Ok(None),
        (Some(_), TransactionVersion::Legacy(_)) => Ok(Some(version)),
        (Some(max), TransactionVersion::Number(n)) if *n <= max => Ok(Some(version)),
        (_, TransactionVersion::Number(n)) => Err(ErrorObject::owned(
            JSON_RPC_SERVER_ERROR_UNSUPPORTED_TRANSACTION_VERSION as i32,
            format!(
                "Transaction version ({n}) is not supported by the requesting client. Please try the request again with the following configuration parameter: \"maxSupportedTransactionVersion\": {n}"
            ),
            None::<()>,
        )),
    }
}

fn encode_with_meta(
    record: &TxRecord,
    encoding: UiTransactionEncoding,
    max_supported: Option<u8>,
) -> RpcResult<EncodedTransactionWithStatusMeta> {
    let version = transaction_version(&record.transaction, max_supported)?;
    let mut meta = UiTransactionStatusMeta::from(record.meta.clone());
    // A real node leaves loadedAddresses out of legacy transactions' metadata.
    if version.is_none() || matches!(version, Some(TransactionVersion::Legacy(_))) {
        meta.loaded_addresses =
            solana_transaction_status_client_types::option_serializer::OptionSerializer::Skip;
    }
    Ok(EncodedTransactionWithStatusMeta {
        transaction: encode_transaction(&record.transaction, encoding)?,
        meta: Some(meta),
        version,
    })
}

async fn get_transaction(
    ledger: &Ledger,
    params: &Params<'_>,
) -> RpcResult<Option<EncodedConfirmedTransactionWithStatusMeta>> {
    let mut args = Args::new(params);
    let signature = parse_signature(&args.required::<String>()?)?;
    let config = args
        .optional::<RpcEncodingConfigWrapper<RpcTransactionConfig>>()?
        .map(|c| c.convert_to_current())
        .unwrap_or_default();
    // getTransaction serves confirmed transactions only: those of produced slots.
    let Some(record) = ledger
        .transaction(&signature)
        .filter(|r| ledger.is_final(r.slot))
    else {
        return Ok(None);
    };
    let encoding = config.encoding.unwrap_or(UiTransactionEncoding::Json);
    Ok(Some(EncodedConfirmedTransactionWithStatusMeta {
        slot: record.slot,
        transaction: encode_with_meta(&record, encoding, config.max_supported_transaction_version)?,
        block_time: Some(record.block_time),
    }))
}

async fn get_signatures_for_address(
    ledger: &Ledger,
    params: &Params<'_>,
) -> RpcResult<Vec<RpcConfirmedTransactionStatusWithSignature>> {
    let mut args = Args::new(params);
    let address = parse_pubkey(&args.required::<String>()?)?;
    let config: RpcSignaturesForAddressConfig = args.optional()?.unwrap_or_default();
    check_min_context_slot(ledger, config.min_context_slot)?;
    let limit = config.limit.unwrap_or(MAX_SIGNATURES_FOR_ADDRESS);
    if limit == 0 || limit > MAX_SIGNATURES_FOR_ADDRESS {
        return Err(invalid_params(format!(
            "Invalid limit; max {MAX_SIGNATURES_FOR_ADDRESS}"
        )));
    }
    let before = config.before.as_deref().map(parse_signature).transpose()?;
    let until = config.until.as_deref().map(parse_signature).transpose()?;
    Ok(ledger
        .signatures_for_address(&address, before.as_ref(), until.as_ref(), limit)
        .iter()
        .map(|record| RpcConfirmedTransactionStatusWithSignature {
            signature: record.signature.to_string(),
            slot: record.slot,
            err: record.meta.status.clone().err().map(Into::into),
            memo: record.memo.clone(),
            block_time: Some(record.block_time),
            confirmation_status: Some(TransactionConfirmationStatus::Finalized),
        })
        .collect())
}

async fn get_block(ledger: &Ledger, params: &Params<'_>) -> RpcResult<UiConfirmedBlock> {
    let mut args = Args::new(params);
    let slot: Slot = args.required()?;
    let config: RpcBlockConfig = args
        .optional::<RpcEncodingConfigWrapper<RpcBlockConfig>>()?
        .map(|c| c.convert_to_current())
        .unwrap_or_default();
    let Block {
        parent_slot,
        blockhash,
        previous_blockhash,
        block_time,
        block_height,
        signatures,
        ..
    } = ledger
        .block(slot)
        .ok_or_else(|| block_not_available(slot))?;
    let encoding = config.encoding.unwrap_or(UiTransactionEncoding::Json);
    let records = || signatures.iter().filter_map(|s| ledger.transaction(s));
    let (transactions, signatures) = match config.transaction_details.unwrap_or_default() {
        TransactionDetails::Full => (
            Some(
                records()
                    .map(|r| {
                        encode_with_meta(&r, encoding, config.max_supported_transaction_version)
                    })
                    .collect::<RpcResult<Vec<_>>>()?,
            ),
            None,
        ),
        TransactionDetails::Signatures => (
            None,
            Some(signatures.iter().map(ToString::to_string).collect()),
        ),
        TransactionDetails::None => (None, None),
        TransactionDetails::Accounts => {
            return Err(invalid_params(
                "transactionDetails \"accounts\" is not supported by localnet",
            ));
        }
    };
    Ok(UiConfirmedBlock {
        previous_blockhash: previous_blockhash.to_string(),
        blockhash: blockhash.to_string(),
        parent_slot,
        transactions,
        signatures,
        rewards: config.rewards.unwrap_or(true).then(Vec::new),
        num_reward_partitions: None,
        block_time: Some(block_time),
        block_height: Some(block_height),
    })
}

async fn get_blocks(ledger: &Ledger, params: &Params<'_>) -> RpcResult<Vec<Slot>> {
    let mut args = Args::new(params);
    let start: Slot = args.required()?;
    // The end slot, or a config object in its place (as solana-client sends when it has no end).
    let (end, config) = args
        .optional::<RpcBlocksConfigWrapper>()?
        .map_or((None, None), |wrapper| wrapper.unzip());
    let config: Option<RpcContextConfig> = match config {
        Some(config) => Some(config),
        None => args.optional()?,
    };
    check_min_context_slot(ledger, config.and_then(|c| c.min_context_slot))?;
    let end = end.unwrap_or_else(|| ledger.produced_slot());
    if end < start {
        return Ok(vec![]);
    }
    if end - start > MAX_GET_BLOCKS_RANGE {
        return Err(invalid_params(format!(
            "Slot range too large; max {MAX_GET_BLOCKS_RANGE}"
        )));
    }
    Ok(ledger.block_slots(start, end))
}

async fn get_block_time(ledger: &Ledger, params: &Params<'_>) -> RpcResult<i64> {
    let slot: Slot = Args::new(params).required()?;
    ledger
        .block(slot)
        .map(|b| b.block_time)
        .ok_or_else(|| block_not_available(slot))
}

async fn get_first_available_block(ledger: &Ledger, _: &Params<'_>) -> RpcResult<Slot> {
    Ok(ledger
        .block_slots(0, Slot::MAX)
        .first()
        .copied()
        .unwrap_or_default())
}

async fn request_airdrop(ledger: &Ledger, params: &Params<'_>) -> RpcResult<String> {
    let mut args = Args::new(params);
    let to = parse_pubkey(&args.required::<String>()?)?;
    let lamports: u64 = args.required()?;
    let _: Option<RpcRequestAirdropConfig> = args.optional()?;
    if lamports == 0 || lamports > MAX_AIRDROP_LAMPORTS {
        return Err(ErrorObject::owned(
            INVALID_REQUEST_CODE,
            format!(
                "airdrop request failed: between 1 and {MAX_AIRDROP_LAMPORTS} lamports per request"
            ),
            None::<()>,
        ));
    }
    let faucet = ledger.faucet();
    let (blockhash, _) = ledger.latest_blockhash().await.map_err(internal)?;
    let ix = solana_system_interface::instruction::transfer(&faucet.pubkey(), &to, lamports);
    let tx =
        Transaction::new_signed_with_payer(&[ix], Some(&faucet.pubkey()), &[faucet], blockhash);
    ledger
        .send_transaction(tx.into(), true)
        .await
        .map(|signature| signature.to_string())
        .map_err(|error| {
            let reason = match error {
                SendError::Preflight(simulation) => {
                    simulation.err.map_or_else(String::new, |e| e.to_string())
                }
                other => format!("{other:?}"),
            };
            ErrorObject::owned(
                INVALID_REQUEST_CODE,
                format!("airdrop request failed: {reason}"),
                None::<()>,
            )
        })
}

/// `localnet_warpTime` answer.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct WarpTime {
    pub slot: Slot,
    pub unix_timestamp: i64,
}

async fn warp_time(ledger: &Ledger, params: &Params<'_>) -> RpcResult<WarpTime> {
    let secs: i64 = Args::new(params).required()?;
    if !(0..=10 * 365 * 24 * 3600).contains(&secs) {
        return Err(invalid_params(
            "Invalid param: the clock moves forward by 0 to 315360000 seconds",
        ));
    }
    let clock = ledger.warp_time(secs).await.map_err(internal)?;
    Ok(WarpTime {
        slot: clock.slot,
        unix_timestamp: clock.unix_timestamp,
    })
}
