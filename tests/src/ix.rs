//! One typed builder per instruction. Each derives the PDAs it needs from the keys it is given, so a
//! test names only the actors; attack tests then swap accounts with [`replace_account`].

use anchor_lang::{InstructionData, ToAccountMetas, system_program};
use gpu_market::{
    InitializeMarketArgs, MarketParams, RegisterProviderArgs, UpdateMarketArgs, UpdateProviderArgs,
    accounts, instruction,
    pda::{
        find_event_authority_address, find_market_address, find_payout_vault_address,
        find_provider_address, find_stake_vault_address, find_verifier_address,
    },
};
use solana_sdk::{instruction::Instruction, pubkey::Pubkey};

/// The addresses that identify a market and its tokens.
#[derive(Clone, Copy, Debug)]
pub struct MarketKeys {
    pub market: Pubkey,
    pub authority: Pubkey,
    pub market_id: u64,
    pub payment_mint: Pubkey,
    pub stake_mint: Pubkey,
    pub payment_token_program: Pubkey,
    pub stake_token_program: Pubkey,
    pub treasury: Pubkey,
    pub slash_destination: Pubkey,
}

impl MarketKeys {
    pub fn provider(&self, provider_authority: &Pubkey) -> Pubkey {
        find_provider_address(&self.market, provider_authority).0
    }

    pub fn verifier(&self, verifier_authority: &Pubkey) -> Pubkey {
        find_verifier_address(&self.market, verifier_authority).0
    }
}

fn build(accounts: impl ToAccountMetas, data: impl InstructionData) -> Instruction {
    Instruction {
        program_id: gpu_market::ID,
        accounts: accounts.to_account_metas(None),
        data: data.data(),
    }
}

fn event_authority() -> Pubkey {
    find_event_authority_address().0
}

/// Points every meta of `ix` that names `old` at `new` instead (keeping signer/writable flags).
pub fn replace_account(mut ix: Instruction, old: &Pubkey, new: &Pubkey) -> Instruction {
    let mut found = false;
    for meta in ix.accounts.iter_mut().filter(|m| m.pubkey == *old) {
        meta.pubkey = *new;
        found = true;
    }
    assert!(found, "{old} is not an account of this instruction");
    ix
}

/// Marks `key` as not signing (the attack "authority present but not signing").
pub fn strip_signer(mut ix: Instruction, key: &Pubkey) -> Instruction {
    for meta in ix.accounts.iter_mut().filter(|m| m.pubkey == *key) {
        meta.is_signer = false;
    }
    ix
}

#[allow(clippy::too_many_arguments)]
pub fn initialize_market(
    authority: &Pubkey,
    market_id: u64,
    payment_mint: &Pubkey,
    stake_mint: &Pubkey,
    treasury: &Pubkey,
    slash_destination: &Pubkey,
    params: MarketParams,
) -> Instruction {
    build(
        accounts::InitializeMarket {
            authority: *authority,
            market: find_market_address(authority, market_id).0,
            payment_mint: *payment_mint,
            stake_mint: *stake_mint,
            treasury: *treasury,
            slash_destination: *slash_destination,
            system_program: system_program::ID,
            event_authority: event_authority(),
            program: gpu_market::ID,
        },
        instruction::InitializeMarket {
            args: InitializeMarketArgs { market_id, params },
        },
    )
}

pub fn update_market(
    m: &MarketKeys,
    treasury: &Pubkey,
    slash_destination: &Pubkey,
    params: MarketParams,
) -> Instruction {
    build(
        accounts::UpdateMarket {
            authority: m.authority,
            market: m.market,
            treasury: *treasury,
            slash_destination: *slash_destination,
            event_authority: event_authority(),
            program: gpu_market::ID,
        },
        instruction::UpdateMarket {
            args: UpdateMarketArgs { params },
        },
    )
}

fn set_paused_accounts(m: &MarketKeys) -> accounts::SetPaused {
    accounts::SetPaused {
        authority: m.authority,
        market: m.market,
        event_authority: event_authority(),
        program: gpu_market::ID,
    }
}

pub fn pause_market(m: &MarketKeys) -> Instruction {
    build(set_paused_accounts(m), instruction::PauseMarket {})
}

pub fn unpause_market(m: &MarketKeys) -> Instruction {
    build(set_paused_accounts(m), instruction::UnpauseMarket {})
}

pub fn add_verifier(m: &MarketKeys, verifier_authority: &Pubkey) -> Instruction {
    build(
        accounts::AddVerifier {
            authority: m.authority,
            market: m.market,
            verifier_authority: *verifier_authority,
            verifier: m.verifier(verifier_authority),
            system_program: system_program::ID,
            event_authority: event_authority(),
            program: gpu_market::ID,
        },
        instruction::AddVerifier {},
    )
}

pub fn remove_verifier(m: &MarketKeys, verifier_authority: &Pubkey) -> Instruction {
    build(
        accounts::RemoveVerifier {
            authority: m.authority,
            market: m.market,
            verifier: m.verifier(verifier_authority),
            event_authority: event_authority(),
            program: gpu_market::ID,
        },
        instruction::RemoveVerifier {},
    )
}

pub fn register_provider(
    m: &MarketKeys,
    provider_authority: &Pubkey,
    args: RegisterProviderArgs,
) -> Instruction {
    let provider = m.provider(provider_authority);
    build(
        accounts::RegisterProvider {
            authority: *provider_authority,
            market: m.market,
            provider,
            stake_mint: m.stake_mint,
            payment_mint: m.payment_mint,
            stake_vault: find_stake_vault_address(&provider).0,
            payout_vault: find_payout_vault_address(&provider).0,
            stake_token_program: m.stake_token_program,
            payment_token_program: m.payment_token_program,
            system_program: system_program::ID,
            event_authority: event_authority(),
            program: gpu_market::ID,
        },
        instruction::RegisterProvider { args },
    )
}

pub fn update_provider(
    m: &MarketKeys,
    provider_authority: &Pubkey,
    args: UpdateProviderArgs,
) -> Instruction {
    build(
        accounts::UpdateProvider {
            authority: *provider_authority,
            market: m.market,
            provider: m.provider(provider_authority),
            event_authority: event_authority(),
            program: gpu_market::ID,
        },
        instruction::UpdateProvider { args },
    )
}

pub fn heartbeat(m: &MarketKeys, provider_authority: &Pubkey) -> Instruction {
    build(
        accounts::Heartbeat {
            authority: *provider_authority,
            market: m.market,
            provider: m.provider(provider_authority),
            event_authority: event_authority(),
            program: gpu_market::ID,
        },
        instruction::Heartbeat {},
    )
}

pub fn close_provider(
    m: &MarketKeys,
    provider_authority: &Pubkey,
    stake_destination: &Pubkey,
    payout_destination: &Pubkey,
) -> Instruction {
    let provider = m.provider(provider_authority);
    build(
        accounts::CloseProvider {
            authority: *provider_authority,
            market: m.market,
            provider,
            stake_mint: m.stake_mint,
            payment_mint: m.payment_mint,
            stake_vault: find_stake_vault_address(&provider).0,
            payout_vault: find_payout_vault_address(&provider).0,
            stake_destination: *stake_destination,
            payout_destination: *payout_destination,
            stake_token_program: m.stake_token_program,
            payment_token_program: m.payment_token_program,
            event_authority: event_authority(),
            program: gpu_market::ID,
        },
        instruction::CloseProvider {},
    )
}

pub fn stake(
    m: &MarketKeys,
    provider_authority: &Pubkey,
    source: &Pubkey,
    amount: u64,
) -> Instruction {
    let provider = m.provider(provider_authority);
    build(
        accounts::Stake {
            authority: *provider_authority,
            market: m.market,
            provider,
            stake_mint: m.stake_mint,
            stake_vault: find_stake_vault_address(&provider).0,
            source: *source,
            stake_token_program: m.stake_token_program,
            event_authority: event_authority(),
            program: gpu_market::ID,
        },
        instruction::Stake { amount },
    )
}

pub fn request_unstake(m: &MarketKeys, provider_authority: &Pubkey, amount: u64) -> Instruction {
    build(
        accounts::RequestUnstake {
            authority: *provider_authority,
            market: m.market,
            provider: m.provider(provider_authority),
            event_authority: event_authority(),
            program: gpu_market::ID,
        },
        instruction::RequestUnstake { amount },
    )
}

pub fn cancel_unstake(m: &MarketKeys, provider_authority: &Pubkey) -> Instruction {
    build(
        accounts::CancelUnstake {
            authority: *provider_authority,
            market: m.market,
            provider: m.provider(provider_authority),
            event_authority: event_authority(),
            program: gpu_market::ID,
        },
        instruction::CancelUnstake {},
    )
}

pub fn withdraw_unstaked(
    m: &MarketKeys,
    provider_authority: &Pubkey,
    destination: &Pubkey,
) -> Instruction {
    let provider = m.provider(provider_authority);
    build(
        accounts::WithdrawUnstaked {
            authority: *provider_authority,
            market: m.market,
            provider,
            stake_mint: m.stake_mint,
            stake_vault: find_stake_vault_address(&provider).0,
            destination: *destination,
            stake_token_program: m.stake_token_program,
            event_authority: event_authority(),
            program: gpu_market::ID,
        },
        instruction::WithdrawUnstaked {},
    )
}
