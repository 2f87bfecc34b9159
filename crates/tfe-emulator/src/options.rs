//! The emulator's settings, as `tfe-emulator`'s command line spells them, and the emulator they build.
//! [`spawn`](crate::spawn) takes the same settings, so an in-process emulator is configured like the binary.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use clap::Parser;

use crate::error::Error;
use crate::knobs::Knobs;
use crate::scenario::{Scenario, seed};
use crate::server::ServeOptions;
use crate::state::{Emulator, Shared};

/// A local stand-in for the HCP Terraform / Terraform Enterprise API v2.
#[derive(Debug, Clone, Parser)]
#[command(name = "tfe-emulator", version)]
pub struct Options {
    /// Address to listen on; port 0 picks a free port (read it from the ready line).
    #[arg(long, default_value = "127.0.0.1:8443")]
    pub listen: SocketAddr,
    /// Serve plain HTTP instead of HTTPS.
    #[arg(long)]
    pub http: bool,
    /// Where to write the generated CA certificate (PEM). Default: a file in the temp directory.
    #[arg(long, value_name = "PATH")]
    pub ca_file: Option<PathBuf>,
    /// Extra DNS name or IP for the server certificate (repeatable).
    #[arg(long = "tls-name", value_name = "NAME")]
    pub tls_names: Vec<String>,
    /// An accepted API token (repeatable; comma-separated in TFE_EMULATOR_TOKEN).
    #[arg(
        long = "token",
        env = "TFE_EMULATOR_TOKEN",
        value_delimiter = ',',
        hide_env_values = true
    )]
    pub tokens: Vec<String>,
    /// Token required by the admin API (/_emulator/); without it the admin API is open.
    #[arg(long, env = "TFE_EMULATOR_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// Scenario file (JSON): tokens, default knobs, organizations, workspaces, faults.
    #[arg(long, value_name = "PATH")]
    pub scenario: Option<PathBuf>,
    /// X-RateLimit-Limit to advertise (requests per second); 0 leaves the header out.
    #[arg(long, default_value_t = 30)]
    pub rate_limit: u32,
    /// Enforce the rate limit per token: more than N requests per second (burst N) get 429.
    #[arg(long)]
    pub enforce_rate_limit: bool,
    /// The TFP-AppName header ("HCP Terraform" makes go-tfe treat the server as HCP Terraform).
    #[arg(long, default_value = "Terraform Enterprise")]
    pub app_name: String,
    /// Ignore unknown `include` names instead of answering 400.
    #[arg(long)]
    pub lenient_includes: bool,
    /// Default plan duration in milliseconds.
    #[arg(long)]
    pub plan_ms: Option<u64>,
    /// Default apply duration in milliseconds.
    #[arg(long)]
    pub apply_ms: Option<u64>,
}

impl Options {
    /// Parses command-line arguments (without the program name), as `tfe-emulator` does.
    pub fn from_args<I, S>(args: I) -> Result<Options, Error>
    where
        I: IntoIterator<Item = S>,
        S: Into<std::ffi::OsString> + Clone,
    {
        let argv = std::iter::once(std::ffi::OsString::from("tfe-emulator"))
            .chain(args.into_iter().map(Into::into));
        Options::try_parse_from(argv).map_err(|e| Error::Settings(e.to_string()))
    }

    /// The emulator these settings describe (scenario loaded and seeded) and how to serve it.
    pub fn build(self) -> Result<(Shared, ServeOptions), Error> {
        let scenario = match &self.scenario {
            Some(path) => load_scenario(path)?,
            None => Scenario::default(),
        };
        let mut tokens: Vec<String> = self
            .tokens
            .iter()
            .filter(|t| !t.is_empty())
            .cloned()
            .collect();
        tokens.extend(scenario.tokens.iter().cloned());
        if tokens.is_empty() {
            return Err(Error::Settings("no API token configured: pass --token, set TFE_EMULATOR_TOKEN, or list tokens in the scenario".into()));
        }
        let mut defaults = scenario.defaults.clone();
        defaults.merge(&Knobs {
            plan_ms: self.plan_ms,
            apply_ms: self.apply_ms,
            ..Default::default()
        });
        let mut emulator = Emulator::new(tokens, defaults);
        emulator.admin_token = self.admin_token.clone();
        emulator.app_name = self.app_name.clone();
        emulator.store.get_mut().unwrap().hcp_terraform = self.app_name == "HCP Terraform";
        emulator.store.get_mut().unwrap().lenient_includes =
            self.lenient_includes || scenario.lenient_includes;
        let limit = scenario.rate_limit.unwrap_or(self.rate_limit);
        emulator.rate_limit_header = (limit > 0).then_some(limit);
        if self.enforce_rate_limit || scenario.enforce_rate_limit {
            if limit == 0 {
                return Err(Error::Settings(
                    "--enforce-rate-limit needs a --rate-limit above 0".into(),
                ));
            }
            *emulator.enforce_rate_limit.get_mut() = true;
        }
        for rule in &scenario.faults {
            emulator
                .faults
                .get_mut()
                .unwrap()
                .add(rule.clone())
                .map_err(|e| Error::Scenario(format!("scenario fault: {e}")))?;
        }
        let emu = Arc::new(emulator);
        seed(&emu, &scenario.organizations, &scenario.workspaces)
            .map_err(|e| Error::Scenario(format!("scenario: {e}")))?;
        let options = ServeOptions {
            listen: self.listen,
            http: self.http,
            ca_file: self.ca_file,
            extra_names: self.tls_names,
        };
        Ok((emu, options))
    }
}

fn load_scenario(path: &PathBuf) -> Result<Scenario, Error> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::Scenario(format!("cannot read scenario {}: {e}", path.display())))?;
    serde_json::from_str(&text)
        .map_err(|e| Error::Scenario(format!("scenario {} is invalid: {e}", path.display())))
}
