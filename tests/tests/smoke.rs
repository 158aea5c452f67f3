use gpu_market::{events::MarketInitialized, state::Market};
use gpu_market_tests::{TestContext, fixtures::*};

#[tokio::test]
async fn market_initializes() {
    let mut ctx = TestContext::new().await;
    let f = MarketFixture::prepare(&mut ctx, anchor_spl::token::ID).await;
    let out = ctx
        .ok(&[f.initialize_ix(default_params())], &[&f.authority])
        .await;
    let ev: MarketInitialized = out.event();
    assert_eq!(ev.market, f.keys.market);
    let market: Market = ctx.anchor_account(&f.keys.market).await;
    assert_eq!(market.params, default_params());
}
