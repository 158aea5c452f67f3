//! Checks and token moves shared by several instructions.

use crate::error::MarketError;
use anchor_lang::prelude::*;
use anchor_spl::{
    token_2022::spl_token_2022::{
        self,
        extension::{
            BaseStateWithExtensions, ExtensionType, StateWithExtensions,
            memo_transfer::MemoTransfer,
        },
        state::AccountState,
    },
    token_interface::{self, Mint, TokenAccount, TokenInterface, TransferChecked},
};

/// No instruction of this program takes variable accounts: extra ones are a client bug or an attack.
pub fn require_no_remaining_accounts(remaining: &[AccountInfo]) -> Result<()> {
    require!(
        remaining.is_empty(),
        MarketError::UnexpectedRemainingAccounts
    );
    Ok(())
}

/// Token-2022 extensions that change nothing about how balances move. Everything else (transfer fees and
/// hooks, permanent delegates, confidential or non-transferable balances, pausing, default-frozen accounts,
/// closable mints) could make a vault's balance differ from what the program accounted for, or let a third
/// party move or freeze it, so mints carrying them are refused.
const HARMLESS_MINT_EXTENSIONS: [ExtensionType; 6] = [
    ExtensionType::MetadataPointer,
    ExtensionType::TokenMetadata,
    ExtensionType::GroupPointer,
    ExtensionType::TokenGroup,
    ExtensionType::GroupMemberPointer,
    ExtensionType::TokenGroupMember,
];

/// Accepts classic SPL Token mints and Token-2022 mints whose extensions are all harmless.
pub fn require_supported_mint(mint: &InterfaceAccount<Mint>) -> Result<()> {
    let info = mint.to_account_info();
    if *info.owner != spl_token_2022::ID {
        return Ok(());
    }
    let data = info.try_borrow_data()?;
    let state = StateWithExtensions::<spl_token_2022::state::Mint>::unpack(&data)
        .map_err(|_| error!(MarketError::UnsupportedMint))?;
    let extensions = state
        .get_extension_types()
        .map_err(|_| error!(MarketError::UnsupportedMint))?;
    require!(
        extensions
            .iter()
            .all(|ext| HARMLESS_MINT_EXTENSIONS.contains(ext)),
        MarketError::UnsupportedMint
    );
    Ok(())
}

/// `transfer_checked` between two token accounts of `mint`; `signer_seeds` is empty when a wallet signs.
pub fn transfer_tokens<'info>(
    token_program: &Interface<'info, TokenInterface>,
    mint: &InterfaceAccount<'info, Mint>,
    from: &InterfaceAccount<'info, TokenAccount>,
    to: &impl ToAccountInfo<'info>,
    authority: &AccountInfo<'info>,
    signer_seeds: &[&[&[u8]]],
    amount: u64,
) -> Result<()> {
    let accounts = TransferChecked {
        from: from.to_account_info(),
        mint: mint.to_account_info(),
        to: to.to_account_info(),
        authority: authority.clone(),
    };
    let ctx = CpiContext::new_with_signer(token_program.key(), accounts, signer_seeds);
    token_interface::transfer_checked(ctx, amount, mint.decimals)
}

/// Whether a `transfer_checked` of `mint` into `account` would go through now: a live token account
/// of `token_program` for that mint, not frozen, and not requiring a memo on incoming transfers.
/// Used where a transfer to an account the program does not control must not be able to block the
/// rest of the instruction (a slash next to a client's refund).
pub fn can_receive(account: &AccountInfo, mint: &Pubkey, token_program: &Pubkey) -> bool {
    if account.owner != token_program {
        return false;
    }
    let Ok(data) = account.try_borrow_data() else {
        return false;
    };
    // Token-2022's layout is the classic one plus extensions, so this reads both programs' accounts.
    let Ok(state) = StateWithExtensions::<spl_token_2022::state::Account>::unpack(&data) else {
        return false;
    };
    let memo_required = state
        .get_extension::<MemoTransfer>()
        .is_ok_and(|memo| bool::from(memo.require_incoming_transfer_memos));
    state.base.mint == *mint && state.base.state == AccountState::Initialized && !memo_required
}

/// Unix time from the Clock sysvar.
pub fn now() -> Result<i64> {
    Ok(Clock::get()?.unix_timestamp)
}
