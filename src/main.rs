//! terraform-provider-tfe: started by Terraform (or with `--debug` by a developer).

use std::process::ExitCode;
use std::sync::Arc;

use tfe_provider::provider::{PROVIDER_ADDRESS, PROVIDER_NAME, TfeProvider};
use tfplugin::logging;
use tfplugin::serve::{ServeError, ServeOptions, serve};

/// The crates whose events are this provider's own (logged at Terraform's level): the provider, the plugin
/// layer and the TFE client.
const LOG_TARGETS: &[&str] = &[
    "tfe_provider",
    "terraform_provider_tfe",
    "tfplugin",
    "tfe_client",
];

const USAGE: &str = "usage: terraform-provider-tfe [--debug]\n\n  --debug  serve in reattach mode and print TF_REATTACH_PROVIDERS for Terraform\n";

/// glibc's malloc gives each thread that allocates its own arena, and frees memory back to the arena
/// it came from: hundreds of instances handled by the runtime's threads in turn leave each arena holding
/// its own high-water mark (the destroy of 500 instances peaked at 40.5 MiB, 36.9 with one arena). The
/// provider waits on the network, so one arena costs it no measurable time. `MALLOC_ARENA_MAX`, when set,
/// still decides.
fn one_malloc_arena() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only sets a malloc parameter; called before any other thread exists.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 1);
        }
    }
}

fn main() -> ExitCode {
    let mut debug = false;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--debug" | "-debug" => debug = true,
            "--help" | "-h" => {
                eprint!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            "--version" => {
                println!(
                    "terraform-provider-tfe {} (commit {})",
                    env!("CARGO_PKG_VERSION"),
                    env!("TFE_PROVIDER_COMMIT")
                );
                return ExitCode::SUCCESS;
            }
            other => {
                eprint!("unknown argument {other:?}\n\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    one_malloc_arena();
    logging::init(PROVIDER_NAME, LOG_TARGETS);
    let options = ServeOptions {
        provider_address: PROVIDER_ADDRESS.to_string(),
        debug,
    };
    match serve(Arc::new(TfeProvider::new()), options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(ServeError::NotLaunchedByTerraform(message)) => {
            eprintln!("{message}");
            ExitCode::from(1)
        }
        Err(e) => {
            tracing::error!(error = %e, "provider failed");
            eprintln!("terraform-provider-tfe: {e}");
            ExitCode::from(1)
        }
    }
}
