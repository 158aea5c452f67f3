//! A failed transaction, explained: the program's error name and message (from the Anchor log line,
//! else from the IDL by code), or the runtime's or the node's reason in words.

use anchor_lang::error::ErrorCode;
use serde_json::Value;
use solana_client::{
    client_error::{ClientError, ClientErrorKind},
    rpc_request::{RpcError, RpcResponseErrorData},
};
use solana_sdk::{instruction::InstructionError, transaction::TransactionError};
use std::{collections::HashMap, sync::OnceLock};

/// Why a transaction did not land.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TxFailure {
    /// The program (or Anchor's account checks) refused it: nothing changed.
    #[error("{name}: {message}")]
    Program {
        name: String,
        code: u32,
        message: String,
        logs: Vec<String>,
    },
    /// The runtime refused it before or while running it (fees, missing accounts, a foreign program).
    #[error("the transaction was rejected: {0}")]
    Rejected(String),
    /// The node could not be reached, or did not answer in time.
    #[error("the node did not answer: {0}")]
    Rpc(String),
}

impl TxFailure {
    /// The program's error name, when the program refused the transaction.
    pub fn program_error(&self) -> Option<&str> {
        match self {
            Self::Program { name, .. } => Some(name),
            _ => None,
        }
    }
}

/// The program's errors by code, from the IDL kept in the repository (checked against the program by
/// a test).
fn idl_errors() -> &'static HashMap<u32, (String, String)> {
    static ERRORS: OnceLock<HashMap<u32, (String, String)>> = OnceLock::new();
    ERRORS.get_or_init(|| {
        let idl: Value = serde_json::from_str(include_str!("../../idl/gpu_market.json"))
            .expect("the IDL is JSON");
        idl["errors"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| {
                Some((
                    u32::try_from(e["code"].as_u64()?).ok()?,
                    (
                        e["name"].as_str()?.to_owned(),
                        e["msg"].as_str()?.to_owned(),
                    ),
                ))
            })
            .collect()
    })
}

/// The error with `code`: the program's own (from the IDL), or one of Anchor's account and
/// constraint checks.
pub fn program_error(code: u32) -> Option<(String, String)> {
    if let Some((name, msg)) = idl_errors().get(&code) {
        return Some((name.clone(), msg.clone()));
    }
    FRAMEWORK_ERRORS
        .iter()
        .find(|e| u32::from(**e) == code)
        .map(|e| (e.name(), e.to_string()))
}

/// Anchor's own errors (`anchor_lang::error::ErrorCode`, which has no lookup by number).
const FRAMEWORK_ERRORS: &[ErrorCode] = {
    use ErrorCode::*;
    &[
        InstructionMissing,
        InstructionFallbackNotFound,
        InstructionDidNotDeserialize,
        InstructionDidNotSerialize,
        IdlInstructionStub,
        IdlInstructionInvalidProgram,
        IdlAccountNotEmpty,
        EventInstructionStub,
        ConstraintMut,
        ConstraintHasOne,
        ConstraintSigner,
        ConstraintRaw,
        ConstraintOwner,
        ConstraintRentExempt,
        ConstraintSeeds,
        ConstraintExecutable,
        ConstraintState,
        ConstraintAssociated,
        ConstraintAssociatedInit,
        ConstraintClose,
        ConstraintAddress,
        ConstraintZero,
        ConstraintTokenMint,
        ConstraintTokenOwner,
        ConstraintMintMintAuthority,
        ConstraintMintFreezeAuthority,
        ConstraintMintDecimals,
        ConstraintSpace,
        ConstraintAccountIsNone,
        ConstraintTokenTokenProgram,
        ConstraintMintTokenProgram,
        ConstraintAssociatedTokenTokenProgram,
        ConstraintMintGroupPointerExtension,
        ConstraintMintGroupPointerExtensionAuthority,
        ConstraintMintGroupPointerExtensionGroupAddress,
        ConstraintMintGroupMemberPointerExtension,
        ConstraintMintGroupMemberPointerExtensionAuthority,
        ConstraintMintGroupMemberPointerExtensionMemberAddress,
        ConstraintMintMetadataPointerExtension,
        ConstraintMintMetadataPointerExtensionAuthority,
        ConstraintMintMetadataPointerExtensionMetadataAddress,
        ConstraintMintCloseAuthorityExtension,
        ConstraintMintCloseAuthorityExtensionAuthority,
        ConstraintMintPermanentDelegateExtension,
        ConstraintMintPermanentDelegateExtensionDelegate,
        ConstraintMintTransferHookExtension,
        ConstraintMintTransferHookExtensionAuthority,
        ConstraintMintTransferHookExtensionProgramId,
        ConstraintDuplicateMutableAccount,
        AccountAlreadyMigrated,
        AccountNotMigrated,
        ConstraintMintPausableExtension,
        ConstraintMintPausableAuthority,
        RequireViolated,
        RequireEqViolated,
        RequireKeysEqViolated,
        RequireNeqViolated,
        RequireKeysNeqViolated,
        RequireGtViolated,
        RequireGteViolated,
        AccountDiscriminatorAlreadySet,
        AccountDiscriminatorNotFound,
        AccountDiscriminatorMismatch,
        AccountDidNotDeserialize,
        AccountDidNotSerialize,
        AccountNotEnoughKeys,
        AccountNotMutable,
        AccountOwnedByWrongProgram,
        InvalidProgramId,
        InvalidProgramExecutable,
        AccountNotSigner,
        AccountNotSystemOwned,
        AccountNotInitialized,
        AccountNotProgramData,
        AccountNotAssociatedTokenAccount,
        AccountSysvarMismatch,
        AccountReallocExceedsLimit,
        AccountDuplicateReallocs,
        DeclaredProgramIdMismatch,
        TryingToInitPayerAsProgramAccount,
        InvalidNumericConversion,
        Deprecated,
    ]
};

/// The Anchor error a program logged: `AnchorError … Error Code: X. Error Number: N. Error Message: M.`
pub fn anchor_error_in_logs(logs: &[String]) -> Option<(String, u32, String)> {
    logs.iter().find_map(|line| {
        let (_, rest) = line.split_once("Error Code: ")?;
        let (name, rest) = rest.split_once(". Error Number: ")?;
        let (number, message) = rest.split_once(". Error Message: ")?;
        Some((
            name.to_owned(),
            number.parse().ok()?,
            message.trim_end_matches('.').to_owned(),
        ))
    })
}

/// Explains an error from `send_and_confirm_transaction` or `simulate_transaction`.
pub fn explain(error: &ClientError) -> TxFailure {
    let logs = match error.kind() {
        ClientErrorKind::RpcError(RpcError::RpcResponseError {
            data: RpcResponseErrorData::SendTransactionPreflightFailure(simulation),
            ..
        }) => simulation.logs.clone().unwrap_or_default(),
        _ => vec![],
    };
    explain_parts(error.get_transaction_error(), logs)
        .unwrap_or_else(|| TxFailure::Rpc(error.to_string()))
}

/// Explains a transaction error with the logs of its run; `None` when there is no transaction error.
pub fn explain_parts(error: Option<TransactionError>, logs: Vec<String>) -> Option<TxFailure> {
    if let Some((name, code, message)) = anchor_error_in_logs(&logs) {
        return Some(TxFailure::Program {
            name,
            code,
            message,
            logs,
        });
    }
    Some(match error? {
        TransactionError::InstructionError(_, InstructionError::Custom(code)) => {
            match program_error(code) {
                Some((name, message)) => TxFailure::Program {
                    name,
                    code,
                    message,
                    logs,
                },
                None => TxFailure::Rejected(format!("custom program error {code}")),
            }
        }
        TransactionError::InstructionError(index, error) => {
            TxFailure::Rejected(format!("instruction {index}: {error}"))
        }
        other => TxFailure::Rejected(other.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchor_log_lines_give_the_name_number_and_message() {
        let logs = vec![
            "Program log: Instruction: ClaimJob".to_owned(),
            "Program log: AnchorError thrown in programs/gpu-market/src/state/job.rs:199. Error Code: \
             InsufficientStake. Error Number: 6012. Error Message: The provider's stake is below the \
             market's minimum for this job."
                .to_owned(),
        ];
        let (name, code, message) = anchor_error_in_logs(&logs).expect("found");
        assert_eq!(name, "InsufficientStake");
        assert_eq!(code, 6012);
        assert!(message.starts_with("The provider's stake"));
        assert!(!message.ends_with('.'));
    }

    #[test]
    fn custom_codes_are_named_from_the_idl() {
        let failure = explain_parts(
            Some(TransactionError::InstructionError(
                0,
                InstructionError::Custom(6000),
            )),
            vec![],
        )
        .expect("an error");
        assert_eq!(failure.program_error(), Some("MathOverflow"));
        assert_eq!(
            failure.to_string(),
            "MathOverflow: Arithmetic overflow or underflow"
        );
        let unknown = explain_parts(
            Some(TransactionError::InstructionError(
                0,
                InstructionError::Custom(99),
            )),
            vec![],
        )
        .expect("an error");
        assert_eq!(unknown.program_error(), None);
        assert!(explain_parts(None, vec![]).is_none());
        let framework = explain_parts(
            Some(TransactionError::InstructionError(
                0,
                InstructionError::Custom(3012),
            )),
            vec![],
        )
        .expect("an error");
        assert_eq!(framework.program_error(), Some("AccountNotInitialized"));
        assert_eq!(
            program_error(2006).map(|e| e.0),
            Some("ConstraintSeeds".into())
        );
    }
}
