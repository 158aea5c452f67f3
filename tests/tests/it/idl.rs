//! The committed IDL (`idl/gpu_market.json`) is what clients in other languages build on, so it must
//! match the program. Regenerate it with `UPDATE_IDL=1 cargo test -p gpu-market-tests --test it idl::`.

use gpu_market_tests::idl::{IDL_PATH, build_idl, to_committed_json, workspace_root};

#[test]
fn committed_idl_matches_the_program() {
    let idl = build_idl().expect("IDL builds");
    let fresh = to_committed_json(&idl).unwrap();
    let path = workspace_root().join(IDL_PATH);
    if std::env::var_os("UPDATE_IDL").is_some() {
        std::fs::write(&path, &fresh).unwrap();
    }

    assert_eq!(idl.address, gpu_market::ID.to_string());
    assert!(
        idl.instructions
            .iter()
            .any(|ix| ix.name == "register_provider")
    );
    assert!(idl.events.iter().any(|ev| ev.name == "ProviderRegistered"));
    assert!(idl.errors.iter().any(|e| e.name == "MarketPaused"));

    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "{IDL_PATH} is stale: run `UPDATE_IDL=1 cargo test -p gpu-market-tests --test it idl::` and commit it"
    );
}
