//! The provider's path: discovery over https://127.0.0.1:PORT trusting the emulator's CA through SSL_CERT_FILE.
//! Its own test binary, because it changes the process environment.

use test_support::emulator::TestEmulator;
use tfe_client::{TfeClient, TfeClientConfig};

#[test]
fn ssl_cert_file_makes_the_emulator_ca_trusted() {
    let emu = TestEmulator::start();
    let ws = emu.seed_workspace("acme", "app");
    // SAFETY: set before any other thread of this test binary reads the environment (single test, no runtime yet).
    unsafe {
        std::env::set_var("SSL_CERT_FILE", &emu.ca_file);
        std::env::remove_var("SSL_CERT_DIR");
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let config = TfeClientConfig {
            hostname: emu.hostname.clone(),
            token: emu.token.clone(),
            ..Default::default()
        };
        assert!(config.hostname.starts_with("127.0.0.1:"));
        let client = TfeClient::connect(config)
            .await
            .expect("CA from SSL_CERT_FILE is trusted");
        assert_eq!(client.workspace(&ws).await.unwrap().attributes.name, "app");
    });
}
