//! tfe-emulator: a local TFE API v2 server for offline testing. See docs/emulator.md.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use tfe_provider::emulator::Emulator;
use tfe_provider::emulator::knobs::Knobs;
use tfe_provider::emulator::scenario::{Scenario, seed};
use tfe_provider::emulator::server::{ServeOptions, serve, shutdown_signal};

/// A local stand-in for the HCP Terraform / Terraform Enterprise API v2.
#[derive(Debug, Parser)]
#[command(name = "tfe-emulator", version)]
struct Cli {
    /// Address to listen on; port 0 picks a free port (read it from the ready line).
    #[arg(long, default_value = "127.0.0.1:8443")]
    listen: SocketAddr,
    /// Serve plain HTTP instead of HTTPS.
    #[arg(long)]
    http: bool,
    /// Where to write the generated CA certificate (PEM). Default: a file in the temp directory.
    #[arg(long, value_name = "PATH")]
    ca_file: Option<PathBuf>,
    /// Extra DNS name or IP for the server certificate (repeatable).
    #[arg(long = "tls-name", value_name = "NAME")]
    tls_names: Vec<String>,
    /// An accepted API token (repeatable; comma-separated in TFE_EMULATOR_TOKEN).
    #[arg(
        long = "token",
        env = "TFE_EMULATOR_TOKEN",
        value_delimiter = ',',
        hide_env_values = true
    )]
    tokens: Vec<String>,
    /// Token required by the admin API (/_emulator/); without it the admin API is open.
    #[arg(long, env = "TFE_EMULATOR_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
    /// Scenario file (JSON): tokens, default knobs, organizations, workspaces, faults.
    #[arg(long, value_name = "PATH")]
    scenario: Option<PathBuf>,
    /// X-RateLimit-Limit to advertise (requests per second); 0 leaves the header out.
    #[arg(long, default_value_t = 30)]
    rate_limit: u32,
    /// Enforce the rate limit per token: more than N requests per second (burst N) get 429.
    #[arg(long)]
    enforce_rate_limit: bool,
    /// The TFP-AppName header ("HCP Terraform" makes go-tfe treat the server as HCP Terraform).
    #[arg(long, default_value = "Terraform Enterprise")]
    app_name: String,
    /// Ignore unknown `include` names instead of answering 400.
    #[arg(long)]
    lenient_includes: bool,
    /// Default plan duration in milliseconds.
    #[arg(long)]
    plan_ms: Option<u64>,
    /// Default apply duration in milliseconds.
    #[arg(long)]
    apply_ms: Option<u64>,
}

fn load_scenario(path: &PathBuf) -> Result<Scenario, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read scenario {}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("scenario {} is invalid: {e}", path.display()))
}

async fn run(cli: Cli) -> Result<(), String> {
    let scenario = match &cli.scenario {
        Some(path) => load_scenario(path)?,
        None => Scenario::default(),
    };
    let mut tokens: Vec<String> = cli
        .tokens
        .iter()
        .filter(|t| !t.is_empty())
        .cloned()
        .collect();
    tokens.extend(scenario.tokens.iter().cloned());
    if tokens.is_empty() {
        return Err("no API token configured: pass --token, set TFE_EMULATOR_TOKEN, or list tokens in the scenario".into());
    }
    let mut defaults = scenario.defaults.clone();
    defaults.merge(&Knobs {
        plan_ms: cli.plan_ms,
        apply_ms: cli.apply_ms,
        ..Default::default()
    });
    let mut emulator = Emulator::new(tokens, defaults);
    emulator.admin_token = cli.admin_token.clone();
    emulator.app_name = cli.app_name.clone();
    emulator.store.get_mut().unwrap().lenient_includes =
        cli.lenient_includes || scenario.lenient_includes;
    let limit = scenario.rate_limit.unwrap_or(cli.rate_limit);
    emulator.rate_limit_header = (limit > 0).then_some(limit);
    if cli.enforce_rate_limit || scenario.enforce_rate_limit {
        if limit == 0 {
            return Err("--enforce-rate-limit needs a --rate-limit above 0".into());
        }
        *emulator.enforce_rate_limit.get_mut() = true;
    }
    for rule in &scenario.faults {
        emulator
            .faults
            .get_mut()
            .unwrap()
            .add(rule.clone())
            .map_err(|e| format!("scenario fault: {e}"))?;
    }
    let shutdown = shutdown_signal();
    let emu = Arc::new(emulator);
    seed(&emu, &scenario.organizations, &scenario.workspaces)
        .map_err(|e| format!("scenario: {e}"))?;
    let options = ServeOptions {
        listen: cli.listen,
        http: cli.http,
        ca_file: cli.ca_file,
        extra_names: cli.tls_names,
    };
    serve(emu, options, shutdown).await
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TFE_EMULATOR_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .init();
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tfe-emulator: {e}");
            ExitCode::FAILURE
        }
    }
}
