//! From a transaction as `getTransaction` serves it to the program's events, decoded with the
//! program crate's own types. Events are `emit_cpi!` self-invocations: inner instructions of the
//! program whose data starts with Anchor's event tag, then the event's discriminator and Borsh fields.

use anchor_lang::{AnchorDeserialize, Discriminator, event::EVENT_IX_TAG_LE};
use gpu_market::events;
use solana_sdk::{pubkey::Pubkey, signature::Signature};
use solana_transaction_status_client_types::{
    EncodedConfirmedTransactionWithStatusMeta, UiInstruction, option_serializer::OptionSerializer,
};
use std::fmt;

/// Why a transaction could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// The node's answer lacks what decoding needs (status metadata, inner instructions, a binary
    /// transaction): a fault of the answer, not of the transaction, so it is fetched again and the
    /// checkpoint does not move past it.
    Incomplete(String),
    /// The transaction's events do not decode: recorded as undecodable, and the pipeline goes on.
    Undecodable(String),
}

impl DecodeError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, DecodeError::Incomplete(_))
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Incomplete(message) => write!(f, "incomplete answer: {message}"),
            DecodeError::Undecodable(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for DecodeError {}

fn error(message: impl Into<String>) -> DecodeError {
    DecodeError::Undecodable(message.into())
}

fn incomplete(message: impl Into<String>) -> DecodeError {
    DecodeError::Incomplete(message.into())
}

/// The accounts an event is about, for indexing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EventKeys {
    pub market: Option<Pubkey>,
    pub job: Option<Pubkey>,
    pub provider: Option<Pubkey>,
}

macro_rules! market_events {
    ($($name:ident { $($key:ident),* }),* $(,)?) => {
        /// Every event the program emits.
        pub enum MarketEvent {
            $($name(events::$name),)*
        }

        impl MarketEvent {
            /// Decodes one event from its data after the event tag (discriminator, then Borsh).
            /// Trailing bytes are allowed: the program only ever appends fields.
            pub fn decode(data: &[u8]) -> Result<Self, DecodeError> {
                $(
                    if let Some(mut fields) = data.strip_prefix(events::$name::DISCRIMINATOR) {
                        return events::$name::deserialize(&mut fields)
                            .map(Self::$name)
                            .map_err(|e| error(format!("{}: {e}", stringify!($name))));
                    }
                )*
                Err(error(format!(
                    "unknown event discriminator {:?}",
                    data.get(..8).unwrap_or(data)
                )))
            }

            /// The event's name, as the program declares it.
            pub fn kind(&self) -> &'static str {
                match self {
                    $(Self::$name(_) => stringify!($name),)*
                }
            }

            pub fn keys(&self) -> EventKeys {
                let mut keys = EventKeys::default();
                match self {
                    $(Self::$name(_e) => {
                        $(keys.$key = Some(_e.$key);)*
                    })*
                }
                keys
            }
        }
    };
}

market_events! {
    MarketInitialized { market },
    MarketUpdated { market },
    MarketPauseChanged { market },
    VerifierAdded { market },
    VerifierRemoved { market },
    ProviderRegistered { market, provider },
    ProviderUpdated { market, provider },
    ProviderHeartbeat { market, provider },
    ProviderClosed { market, provider },
    Staked { market, provider },
    UnstakeRequested { market, provider },
    UnstakeCancelled { market, provider },
    UnstakeWithdrawn { market, provider },
    JobCreated { market, job },
    JobCancelled { market, job },
    BidPlaced { market, job, provider },
    BidWithdrawn { market, job, provider },
    JobStarted { market, job, provider },
    ResultSubmitted { market, job, provider },
    JobCompleted { market, job, provider },
    JobFailed { market, job, provider },
    JobClosed { market, job },
    PayoutClaimed { market, provider },
    SampleSeedRecorded { market, job },
    VerdictSubmitted { market, job, provider },
    VerdictClosed { job },
    VerifierStaked { market },
    VerifierStakeWithdrawn { market },
    VerifierClosed { market },
    VerifierPendingSlashPaid { market },
    JobDisputed { market, job, provider },
    DisputeResolved { market, job },
    ProviderSlashed { market, provider, job },
    PendingSlashPaid { market, provider },
    ProviderReinstated { market, provider },
}

impl fmt::Debug for MarketEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind())
    }
}

/// One decoded event with its raw bytes (kept so tables can be rebuilt by a later version).
pub struct DecodedEvent {
    /// Position among the transaction's events.
    pub index: u32,
    pub event: MarketEvent,
    /// Discriminator and Borsh fields, as emitted.
    pub data: Vec<u8>,
}

/// A transaction of the program, decoded.
pub struct DecodedTransaction {
    pub signature: Signature,
    pub slot: u64,
    pub block_time: Option<i64>,
    /// The runtime's error if it failed; a failed transaction changes nothing and emits nothing.
    pub error: Option<String>,
    pub events: Vec<DecodedEvent>,
}

/// Decodes `tx` (fetched with a binary encoding, so the message's keys are at hand).
pub fn decode_transaction(
    signature: Signature,
    tx: &EncodedConfirmedTransactionWithStatusMeta,
    program_id: &Pubkey,
) -> Result<DecodedTransaction, DecodeError> {
    let meta = tx
        .transaction
        .meta
        .as_ref()
        .ok_or_else(|| incomplete("the transaction has no status metadata"))?;
    let decoded = tx.transaction.transaction.decode().ok_or_else(|| {
        incomplete("the transaction could not be decoded (binary encoding expected)")
    })?;
    let keys = decoded.message.static_account_keys();
    let error_text = meta.err.clone().map(|e| {
        let e: solana_sdk::transaction::TransactionError = e.into();
        e.to_string()
    });
    let mut events = vec![];
    if error_text.is_none() {
        // A node records inner instructions for every transaction (an empty list if none).
        let OptionSerializer::Some(inner) = &meta.inner_instructions else {
            return Err(incomplete("the node returned no innerInstructions"));
        };
        for ix in inner.iter().flat_map(|ixs| &ixs.instructions) {
            let UiInstruction::Compiled(ix) = ix else {
                return Err(incomplete(
                    "a parsed inner instruction (binary encoding expected)",
                ));
            };
            let program = keys
                .get(usize::from(ix.program_id_index))
                .ok_or_else(|| error("an inner instruction's program index is out of range"))?;
            if program != program_id {
                continue;
            }
            let data = bs58::decode(&ix.data)
                .into_vec()
                .map_err(|e| error(format!("inner instruction data: {e}")))?;
            let Some(event) = data.strip_prefix(EVENT_IX_TAG_LE) else {
                continue;
            };
            events.push(DecodedEvent {
                index: events.len() as u32,
                event: MarketEvent::decode(event)?,
                data: event.to_vec(),
            });
        }
    }
    Ok(DecodedTransaction {
        signature,
        slot: tx.slot,
        block_time: tx.block_time,
        error: error_text,
        events,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use anchor_lang::AnchorSerialize;
    use base64::{Engine, prelude::BASE64_STANDARD};
    use solana_sdk::{hash::Hash, message::Message, transaction::Transaction};
    use solana_transaction_status_client_types::{
        EncodedTransaction, EncodedTransactionWithStatusMeta, TransactionBinaryEncoding,
        UiCompiledInstruction, UiInnerInstructions, UiTransactionStatusMeta,
    };

    fn heartbeat() -> events::ProviderHeartbeat {
        events::ProviderHeartbeat {
            market: Pubkey::new_from_array([1; 32]),
            provider: Pubkey::new_from_array([2; 32]),
            gpus_in_use: 2,
            previous_heartbeat_at: 1_699_999_000,
            timestamp: 1_700_000_000,
        }
    }

    fn event_bytes(event: &impl AnchorSerialize, discriminator: &[u8]) -> Vec<u8> {
        let mut data = discriminator.to_vec();
        event.serialize(&mut data).expect("serialize");
        data
    }

    /// A transaction whose only inner instruction is `data` from the program.
    fn transaction_with_inner(
        data: &[u8],
        err: Option<solana_sdk::transaction::TransactionError>,
    ) -> EncodedConfirmedTransactionWithStatusMeta {
        let payer = Pubkey::new_from_array([9; 32]);
        let ix = solana_sdk::instruction::Instruction::new_with_bytes(gpu_market::ID, &[], vec![]);
        let message = Message::new_with_blockhash(&[ix], Some(&payer), &Hash::default());
        let tx = Transaction::new_unsigned(message);
        let program_index = tx
            .message
            .account_keys
            .iter()
            .position(|k| *k == gpu_market::ID)
            .expect("program") as u8;
        let meta = UiTransactionStatusMeta {
            err: err.clone().map(Into::into),
            status: err.map_or(Ok(()), |e| Err(e.into())),
            fee: 5_000,
            pre_balances: vec![],
            post_balances: vec![],
            inner_instructions: OptionSerializer::Some(vec![UiInnerInstructions {
                index: 0,
                instructions: vec![UiInstruction::Compiled(UiCompiledInstruction {
                    program_id_index: program_index,
                    accounts: vec![],
                    data: bs58::encode(data).into_string(),
                    stack_height: Some(2),
                })],
            }]),
            log_messages: OptionSerializer::None,
            pre_token_balances: OptionSerializer::None,
            post_token_balances: OptionSerializer::None,
            rewards: OptionSerializer::None,
            loaded_addresses: OptionSerializer::Skip,
            return_data: OptionSerializer::Skip,
            compute_units_consumed: OptionSerializer::Skip,
            cost_units: OptionSerializer::Skip,
        };
        EncodedConfirmedTransactionWithStatusMeta {
            slot: 42,
            transaction: EncodedTransactionWithStatusMeta {
                transaction: EncodedTransaction::Binary(
                    BASE64_STANDARD.encode(bincode::serialize(&tx).expect("serialize")),
                    TransactionBinaryEncoding::Base64,
                ),
                meta: Some(meta),
                version: None,
            },
            block_time: Some(1_700_000_000),
        }
    }

    fn tagged(event: &[u8]) -> Vec<u8> {
        [EVENT_IX_TAG_LE, event].concat()
    }

    #[test]
    fn an_event_decodes_with_its_keys_and_kind() {
        let bytes = event_bytes(&heartbeat(), events::ProviderHeartbeat::DISCRIMINATOR);
        let event = MarketEvent::decode(&bytes).expect("decodes");
        assert_eq!(event.kind(), "ProviderHeartbeat");
        assert_eq!(
            event.keys(),
            EventKeys {
                market: Some(Pubkey::new_from_array([1; 32])),
                provider: Some(Pubkey::new_from_array([2; 32])),
                job: None,
            }
        );
        // Fields appended by a later program version are ignored.
        let mut longer = bytes.clone();
        longer.extend([0; 8]);
        assert_eq!(
            MarketEvent::decode(&longer).expect("decodes").kind(),
            "ProviderHeartbeat"
        );
    }

    #[test]
    fn unknown_and_truncated_events_are_errors() {
        let bytes = event_bytes(&heartbeat(), events::ProviderHeartbeat::DISCRIMINATOR);
        assert!(MarketEvent::decode(&bytes[..bytes.len() - 1]).is_err());
        assert!(
            MarketEvent::decode(&[7; 40])
                .unwrap_err()
                .to_string()
                .contains("unknown event")
        );
    }

    #[test]
    fn a_transactions_events_come_from_the_programs_tagged_inner_instructions() {
        let bytes = event_bytes(&heartbeat(), events::ProviderHeartbeat::DISCRIMINATOR);
        let tx = transaction_with_inner(&tagged(&bytes), None);
        let decoded =
            decode_transaction(Signature::default(), &tx, &gpu_market::ID).expect("decodes");
        assert_eq!(
            (decoded.slot, decoded.block_time, decoded.error),
            (42, Some(1_700_000_000), None)
        );
        assert_eq!(decoded.events.len(), 1);
        assert_eq!(decoded.events[0].data, bytes);

        // Untagged data (a plain self-call) is not an event; another program's is not ours.
        let plain = transaction_with_inner(&bytes, None);
        assert!(
            decode_transaction(Signature::default(), &plain, &gpu_market::ID)
                .expect("decodes")
                .events
                .is_empty()
        );
        let other =
            decode_transaction(Signature::default(), &tx, &Pubkey::new_unique()).expect("decodes");
        assert!(other.events.is_empty());

        // A failed transaction emits nothing, whatever its metadata holds.
        let failed = transaction_with_inner(
            &tagged(&bytes),
            Some(solana_sdk::transaction::TransactionError::AccountNotFound),
        );
        let decoded =
            decode_transaction(Signature::default(), &failed, &gpu_market::ID).expect("decodes");
        assert!(decoded.error.is_some() && decoded.events.is_empty());

        // An unknown event makes the transaction undecodable, with the reason.
        let unknown = transaction_with_inner(&tagged(&[7; 40]), None);
        let error = decode_transaction(Signature::default(), &unknown, &gpu_market::ID)
            .err()
            .expect("refused");
        assert!(!error.is_retryable());
        assert!(error.to_string().contains("unknown event"), "{error}");

        // An answer without inner instructions or metadata is the node's fault: fetched again.
        let mut bare = transaction_with_inner(&tagged(&bytes), None);
        if let Some(meta) = bare.transaction.meta.as_mut() {
            meta.inner_instructions = OptionSerializer::None;
        }
        let error = decode_transaction(Signature::default(), &bare, &gpu_market::ID)
            .err()
            .expect("refused");
        assert!(error.is_retryable(), "{error}");
        bare.transaction.meta = None;
        let error = decode_transaction(Signature::default(), &bare, &gpu_market::ID)
            .err()
            .expect("refused");
        assert!(error.is_retryable(), "{error}");
    }
}
