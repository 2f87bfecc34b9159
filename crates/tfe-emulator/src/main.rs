//! tfe-emulator: a local TFE API v2 server for offline testing. See docs/emulator.md.

use std::process::ExitCode;

use clap::Parser;
use tfe_emulator::options::Options;
use tfe_emulator::server::{serve, shutdown_signal};

async fn run(options: Options) -> Result<(), tfe_emulator::Error> {
    let (emu, serve_options) = options.build()?;
    let shutdown = shutdown_signal();
    serve(emu, serve_options, shutdown).await
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TFE_EMULATOR_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .init();
    let options = Options::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    match runtime.block_on(run(options)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tfe-emulator: {e}");
            ExitCode::FAILURE
        }
    }
}
