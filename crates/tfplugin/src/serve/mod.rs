//! Running a provider as a go-plugin server. One file per concern, as tonic keeps its transport:
//! - `mod.rs` (here): the entry point [`serve`], its options and errors, and `run`, which puts the
//!   pieces together in order: stop signals, TLS, listener, handshake line, serve until stopped;
//! - [`network`]: which network to serve on (unix socket or TCP on loopback) and the listener;
//! - `unix.rs` / `tcp.rs`: binding each kind of listener from go-plugin's environment variables;
//! - [`incoming`]: accepting connections and their TLS handshakes, off the accept loop;
//! - [`grpc`]: the gRPC services (provider, health, controller, stdio) and the drain after Shutdown;
//! - [`stop`]: what the operating system may send (unix signals, Windows console control events).

mod grpc;
mod incoming;
mod network;
mod stop;
mod tcp;
#[cfg(unix)]
mod unix;

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;

pub use network::NETWORK_VARIABLE;

use super::handshake;
use super::resource::Provider;
use super::server::ProviderService;
use super::tls;

/// After Shutdown, in-flight calls (cancelled as by StopProvider) and the Shutdown reply get this
/// long to drain; go-plugin kills the process 2 s after Shutdown.
const SHUTDOWN_DRAIN: Duration = Duration::from_millis(300);

/// Why [`serve`] stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Run by hand: the magic cookie is not set (and not debug mode). Holds the explanation to print.
    #[error("{0}")]
    NotLaunchedByTerraform(String),
    /// An environment variable that says how to serve holds a value this plugin cannot use.
    #[error("{name}={value:?} {problem}")]
    Setting {
        /// The variable's name.
        name: &'static str,
        /// Its value.
        value: String,
        /// What is wrong with it and what is allowed.
        problem: String,
    },
    /// The TLS setup failed.
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    /// The plugin's socket or port could not be listened on.
    #[error("could not listen on {address}: {source}")]
    Listen {
        /// The socket's path or the address tried.
        address: String,
        /// What the system said.
        source: std::io::Error,
    },
    /// The handshake line could not be written to stdout.
    #[error("could not write the handshake line: {0}")]
    Handshake(std::io::Error),
    /// The tokio runtime could not be built.
    #[error("could not start the async runtime: {0}")]
    Runtime(std::io::Error),
    /// The gRPC server stopped with an error.
    #[error("gRPC server failed: {0}")]
    Grpc(#[from] tonic::transport::Error),
}

/// How to serve: as launched by Terraform, or in debug (reattach) mode.
pub struct ServeOptions {
    /// Full provider source address, e.g. `registry.terraform.io/hashicorp/tfe` (debug mode prints it).
    pub provider_address: String,
    /// Debug (reattach) mode: no magic cookie needed, no TLS, Ctrl-C stops it, and the reattach instructions are printed instead of the handshake line.
    pub debug: bool,
}

/// Serves `provider` until Terraform shuts it down. Blocks; builds its own runtime.
pub fn serve(provider: Arc<dyn Provider>, options: ServeOptions) -> Result<(), ServeError> {
    let binary = std::env::args().next().map(|a| {
        Path::new(&a)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or(a)
    });
    let binary = binary.unwrap_or_else(|| "this provider".into());
    if !options.debug
        && !handshake::cookie_present(std::env::var(handshake::MAGIC_COOKIE_KEY).ok().as_deref())
    {
        return Err(ServeError::NotLaunchedByTerraform(
            handshake::not_launched_by_terraform_message(&binary),
        ));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(ServeError::Runtime)?;
    let result = runtime.block_on(run(provider, options));
    // Do not wait for lingering connections: the host expects a prompt exit.
    runtime.shutdown_timeout(Duration::from_millis(50));
    result
}

async fn run(provider: Arc<dyn Provider>, options: ServeOptions) -> Result<(), ServeError> {
    // In place before the handshake line, so that no signal or console event finds the defaults.
    let mut stop = stop::StopRequests::install();

    let versions = std::env::var("PLUGIN_PROTOCOL_VERSIONS").ok();
    if !handshake::host_offers_protocol_6(versions.as_deref()) {
        // go-plugin's way: answer 6 anyway and let the host report the mismatch.
        tracing::warn!(
            offered = versions.as_deref().unwrap_or(""),
            "Terraform did not offer protocol 6"
        );
    }
    let tls = match std::env::var("PLUGIN_CLIENT_CERT")
        .ok()
        .filter(|_| !options.debug)
    {
        Some(pem) if !pem.trim().is_empty() => {
            Some(tls::server_tls(tls::parse_client_certificate(&pem)?)?)
        }
        _ => None,
    };

    // Removes a unix socket file when dropped, on every way out of this function.
    let listener = network::Listener::bind(network::Network::from_env()?)?;
    let (network, address) = (listener.network(), listener.address());

    // Sticky: a Shutdown that arrives before anything awaits it is still seen (a
    // `Notify::notify_waiters` would wake only the waiters registered at that moment).
    let shutdown = CancellationToken::new();
    let service = Arc::new(ProviderService::new(provider));
    let (conn_tx, conn_rx) = mpsc::channel(16);
    let acceptor = tls.as_ref().map(|t| TlsAcceptor::from(t.config.clone()));
    let accepting = tokio::spawn(incoming::accept_loop(listener, acceptor, conn_tx));

    announce(
        &options,
        network,
        &address,
        tls.as_ref().map(|t| t.certificate_der.as_slice()),
    )?;
    tracing::info!(network, address = %address, tls = tls.is_some(), "plugin server listening");

    let served = grpc::serve_until_shutdown(
        ReceiverStream::new(conn_rx),
        service,
        shutdown.clone(),
        SHUTDOWN_DRAIN,
    );
    let mut served = std::pin::pin!(served);
    let result = tokio::select! {
        result = &mut served => result,
        _ = stop.requested(options.debug) => {
            shutdown.cancel();
            served.await
        }
    };
    // The accept loop owns the listener: end it here, so a unix socket's file is gone before exit.
    accepting.abort();
    let _ = accepting.await;
    tracing::debug!("plugin server stopped");
    Ok(result?)
}

/// Tells the host where to connect: go-plugin's handshake line, or in debug mode the
/// `TF_REATTACH_PROVIDERS` value for a person to export.
fn announce(
    options: &ServeOptions,
    network: &str,
    address: &str,
    cert: Option<&[u8]>,
) -> Result<(), ServeError> {
    let mut stdout = std::io::stdout().lock();
    if options.debug {
        let reattach = serde_json::json!({
            options.provider_address.clone(): {
                "Protocol": "grpc",
                "ProtocolVersion": handshake::PROTOCOL_VERSION,
                "Pid": std::process::id(),
                // Terraform 1.0.x only honours ProtocolVersion 6 for "test" reattach entries.
                "Test": true,
                "Addr": {"Network": network, "String": address},
            }
        });
        let export = if cfg!(windows) {
            format!("$env:TF_REATTACH_PROVIDERS='{reattach}'   (PowerShell)")
        } else {
            format!("export TF_REATTACH_PROVIDERS='{reattach}'")
        };
        writeln!(
            stdout,
            "Provider started in debug mode. To attach Terraform, set this in the shell where you run it:\n\n\
             \t{export}\n\nPress Ctrl-C to stop the provider."
        )
        .map_err(ServeError::Handshake)?;
    } else {
        writeln!(
            stdout,
            "{}",
            handshake::handshake_line(network, address, cert)
        )
        .map_err(ServeError::Handshake)?;
    }
    stdout.flush().map_err(ServeError::Handshake)
}
