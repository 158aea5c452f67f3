//! Bad requests get JSON-RPC errors in a real node's shapes and codes, never a crash or a hang, and
//! change nothing.

use base64::{Engine, prelude::BASE64_STANDARD};
use gpu_market_tests::{Chain, RpcChain};
use serde_json::{Value, json};
use solana_client::{
    client_error::ClientErrorKind,
    rpc_request::{RpcError, RpcResponseErrorData},
};
use solana_sdk::{
    hash::Hash, signature::Keypair, signer::Signer, transaction::Transaction,
    transaction::TransactionError,
};
use std::time::Duration;

struct Raw {
    http: reqwest::Client,
    url: String,
}

impl Raw {
    fn new(chain: &RpcChain) -> Self {
        Self {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .expect("http client"),
            url: chain.rpc.url(),
        }
    }

    /// Posts `body` as is; returns the HTTP status and the JSON answer (`Null` if it is not JSON).
    async fn post(&self, body: impl Into<reqwest::Body>) -> (u16, Value) {
        let response = self
            .http
            .post(&self.url)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("the server answers");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn call(&self, method: &str, params: Value) -> Value {
        let body = json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params });
        self.post(body.to_string()).await.1
    }
}

fn code(answer: &Value) -> i64 {
    answer["error"]["code"]
        .as_i64()
        .unwrap_or_else(|| panic!("expected an error, got {answer}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_get_json_rpc_errors() {
    let chain = RpcChain::start().await;
    let raw = Raw::new(&chain);

    let (_, answer) = raw.post(r#"{"jsonrpc":"2.0","id":1,"method":"#).await;
    assert_eq!(code(&answer), -32700, "parse error");
    let answer = raw.call("getNothing", json!([])).await;
    assert_eq!(code(&answer), -32601, "method not found");
    for (method, params) in [
        ("getBalance", json!(["not-a-key"])),
        ("getBalance", json!([42])),
        ("getBalance", json!([])),
        (
            "getAccountInfo",
            json!(["11111111111111111111111111111111", {"encoding": "klingon"}]),
        ),
        (
            "getSignaturesForAddress",
            json!(["11111111111111111111111111111111", {"limit": 1001}]),
        ),
        ("getSignatureStatuses", json!([["not-a-signature"]])),
        (
            "getProgramAccounts",
            json!([gpu_market::ID.to_string(), {"filters": [{"memcmp": {"offset": 0, "bytes": "0OIl"}}]}]),
        ),
        (
            "sendTransaction",
            json!(["@@not base64@@", {"encoding": "base64"}]),
        ),
        (
            "sendTransaction",
            json!([BASE64_STANDARD.encode([1u8, 2, 3]), {"encoding": "base64"}]),
        ),
        ("getFeeForMessage", json!(["AAAA"])),
        ("localnet_warpTime", json!([-5])),
    ] {
        let answer = raw.call(method, params.clone()).await;
        assert_eq!(code(&answer), -32602, "{method} {params}: {answer}");
        assert!(
            answer["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }

    // A body over a real node's 50 KiB cap is refused whole.
    let huge = json!({"jsonrpc": "2.0", "id": 1, "method": "getHealth", "params": ["x".repeat(60 * 1024)]});
    // The server answers 413 as soon as it sees the length, and may close the connection while the
    // client is still writing the body; either way nothing is executed.
    let refused = raw
        .http
        .post(&raw.url)
        .header("content-type", "application/json")
        .body(huge.to_string())
        .send()
        .await;
    match refused {
        Ok(response) => assert_eq!(response.status().as_u16(), 413),
        Err(error) => assert!(error.is_request(), "{error}"),
    }

    // Batches are answered item by item.
    let (_, answer) = raw
        .post(r#"[{"jsonrpc":"2.0","id":1,"method":"getHealth"},{"jsonrpc":"2.0","id":2,"method":"nope"}]"#)
        .await;
    let answers = answer.as_array().expect("a batch answer");
    assert_eq!(answers.len(), 2);

    // Browsers may call it from any origin (a CORS preflight is answered).
    let preflight = raw
        .http
        .request(reqwest::Method::OPTIONS, &raw.url)
        .header("origin", "http://localhost:5173")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .expect("the server answers");
    assert!(preflight.status().is_success());
    assert!(
        preflight
            .headers()
            .contains_key("access-control-allow-origin")
    );

    // Still serving.
    assert_eq!(raw.call("getHealth", json!([])).await["result"], "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_transactions_fail_preflight_like_a_real_node() {
    let mut chain = RpcChain::start().await;
    let raw = Raw::new(&chain);
    let payer = chain.funded_wallet(1).await;
    let to = Keypair::new().pubkey();
    let blockhash = chain.rpc.get_latest_blockhash().await.expect("blockhash");
    let transfer = |lamports: u64, hash: Hash, signer: &Keypair| {
        let ix = solana_system_interface::instruction::transfer(&signer.pubkey(), &to, lamports);
        Transaction::new_signed_with_payer(&[ix], Some(&signer.pubkey()), &[signer], hash)
    };
    let send = |tx: &Transaction| {
        let encoded = BASE64_STANDARD.encode(bincode::serialize(tx).expect("serialize"));
        let raw = &raw;
        async move {
            raw.call("sendTransaction", json!([encoded, {"encoding": "base64"}]))
                .await
        }
    };
    let before = chain.lamports(&payer.pubkey()).await;

    // A signature that does not verify.
    let mut forged = transfer(1_000, blockhash, &payer);
    forged.signatures[0] = Keypair::new().sign_message(&forged.message_data());
    let answer = send(&forged).await;
    assert_eq!(code(&answer), -32003, "{answer}");

    // A blockhash the chain never produced.
    let answer = send(&transfer(1_000, Hash::new_unique(), &payer)).await;
    assert_eq!(code(&answer), -32002, "{answer}");
    assert_eq!(answer["error"]["data"]["err"], "BlockhashNotFound");

    // More lamports than the wallet holds: the simulation's logs say why.
    let answer = send(&transfer(before * 2, blockhash, &payer)).await;
    assert_eq!(code(&answer), -32002, "{answer}");
    let logs = answer["error"]["data"]["logs"]
        .as_array()
        .expect("simulation logs");
    assert!(
        logs.iter().any(|l| l
            .as_str()
            .is_some_and(|l| l.contains("insufficient lamports"))),
        "{logs:?}"
    );

    // A fee payer that does not exist.
    let answer = send(&transfer(1, blockhash, &Keypair::new())).await;
    assert_eq!(code(&answer), -32002, "{answer}");
    assert_eq!(answer["error"]["data"]["err"], "AccountNotFound");

    // solana-client sees the same error as its own typed preflight failure.
    let error = chain
        .rpc
        .send_transaction(&transfer(before * 2, blockhash, &payer))
        .await
        .expect_err("preflight fails");
    match error.kind() {
        ClientErrorKind::RpcError(RpcError::RpcResponseError {
            data: RpcResponseErrorData::SendTransactionPreflightFailure(result),
            ..
        }) => assert!(matches!(
            result.err.clone().map(TransactionError::from),
            Some(TransactionError::InstructionError(0, _))
        )),
        other => panic!("expected a preflight failure, got {other:?}"),
    }

    // None of it moved a lamport, and nothing was recorded.
    assert_eq!(chain.lamports(&payer.pubkey()).await, before);
    assert_eq!(chain.lamports(&to).await, 0);
    assert!(
        chain
            .rpc
            .get_signatures_for_address(&to)
            .await
            .expect("history")
            .is_empty()
    );
}
