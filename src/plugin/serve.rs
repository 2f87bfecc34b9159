//! Running a provider as a go-plugin server: unix socket, optional mutual TLS, the handshake line,
//! health/controller/stdio services, and a prompt, clean exit on Shutdown.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{Notify, mpsc};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::server::Connected;
use tonic::{Request, Response, Status};

use super::handshake;
use super::proto::go_plugin::{self, grpc_controller_server, grpc_stdio_server};
use super::proto::tfplugin6::provider_server::ProviderServer;
use super::resource::Provider;
use super::server::ProviderService;
use super::tls;

/// Terraform allows up to 256 MiB messages (schemas, large states).
const MAX_MESSAGE_BYTES: usize = 256 * 1024 * 1024;
/// After Shutdown, in-flight responses (the Shutdown reply itself) get this long to drain.
const SHUTDOWN_GRACE: Duration = Duration::from_millis(150);

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("{0}")]
    NotLaunchedByTerraform(String),
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    #[error("could not listen on {path}: {source}")]
    Listen {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("could not write the handshake line: {0}")]
    Handshake(std::io::Error),
    #[error("could not start the async runtime: {0}")]
    Runtime(std::io::Error),
    #[error("gRPC server failed: {0}")]
    Grpc(#[from] tonic::transport::Error),
}

/// How to serve: as launched by Terraform, or in debug (reattach) mode.
pub struct ServeOptions {
    /// Full provider source address, e.g. `registry.terraform.io/hashicorp/tfe` (debug mode prints it).
    pub provider_address: String,
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
        .map_err(|e| ServeError::Listen {
            path: PathBuf::new(),
            source: e,
        })?;
    let result = runtime.block_on(run(provider, options));
    // Do not wait for lingering connections: the host expects a prompt exit.
    runtime.shutdown_timeout(Duration::from_millis(50));
    result
}

/// Removes the socket file when dropped, so it is gone on every clean exit.
struct SocketFile(PathBuf);

impl Drop for SocketFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn socket_path() -> PathBuf {
    let dir = std::env::var_os("PLUGIN_UNIX_SOCKET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    dir.join(format!("plugin{}", rand::random::<u64>()))
}

async fn run(provider: Arc<dyn Provider>, options: ServeOptions) -> Result<(), ServeError> {
    // Ctrl-C reaches the whole process group; Terraform decides when we stop (StopProvider,
    // then Shutdown). Holding a SIGINT handler keeps the default "terminate" action away.
    let mut sigint = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()).ok();
    // SIGTERM (never sent by Terraform, but by service managers and `kill`) stops cleanly.
    // Both handlers are in place before the handshake line, so no signal finds the defaults.
    let mut sigterm =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();

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

    let path = socket_path();
    let listener = UnixListener::bind(&path).map_err(|source| ServeError::Listen {
        path: path.clone(),
        source,
    })?;
    let _socket_file = SocketFile(path.clone());
    if let Ok(group) = std::env::var("PLUGIN_UNIX_SOCKET_GROUP")
        && !group.is_empty()
    {
        share_socket_with_group(&path, &group);
    }
    let address = path.to_string_lossy().into_owned();

    let shutdown = Arc::new(Notify::new());
    let service = ProviderService::new(provider);
    let (health_reporter, health_service) = tonic_health::server::health_reporter();
    health_reporter
        .set_service_status("plugin", tonic_health::ServingStatus::Serving)
        .await;

    let (conn_tx, conn_rx) = mpsc::channel::<Result<PluginConn, std::io::Error>>(16);
    let acceptor = tls.as_ref().map(|t| TlsAcceptor::from(t.config.clone()));
    tokio::spawn(accept_loop(listener, acceptor, conn_tx));

    announce(
        &options,
        &address,
        tls.as_ref().map(|t| t.certificate_der.as_slice()),
    )?;
    tracing::info!(address = %address, tls = tls.is_some(), "plugin server listening");

    let shutdown_signal = {
        let shutdown = shutdown.clone();
        async move { shutdown.notified().await }
    };
    let server = tonic::transport::Server::builder()
        .add_service(health_service)
        .add_service(grpc_controller_server::GrpcControllerServer::new(
            Controller {
                shutdown: shutdown.clone(),
            },
        ))
        .add_service(grpc_stdio_server::GrpcStdioServer::new(Stdio))
        .add_service(
            ProviderServer::new(service)
                .max_decoding_message_size(MAX_MESSAGE_BYTES)
                .max_encoding_message_size(MAX_MESSAGE_BYTES),
        )
        .serve_with_incoming_shutdown(ReceiverStream::new(conn_rx), shutdown_signal);
    let mut server = std::pin::pin!(server);

    let stop_requested = async {
        loop {
            let interrupted = async {
                match sigint.as_mut() {
                    Some(signal) => signal.recv().await.is_some(),
                    None => std::future::pending().await,
                }
            };
            let terminated = async {
                match sigterm.as_mut() {
                    Some(signal) => signal.recv().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                // Only debug mode, where a person runs us in a terminal, stops on Ctrl-C.
                true = interrupted => {
                    if options.debug {
                        return;
                    }
                    tracing::debug!("ignoring SIGINT; Terraform stops the provider itself");
                }
                _ = terminated => return,
            }
        }
    };

    tokio::select! {
        result = &mut server => result?,
        _ = stop_requested => {
            shutdown.notify_waiters();
            let _ = tokio::time::timeout(SHUTDOWN_GRACE, &mut server).await;
        }
        _ = shutdown_requested(&shutdown) => {
            let _ = tokio::time::timeout(SHUTDOWN_GRACE, &mut server).await;
        }
    }
    tracing::debug!("plugin server stopped");
    Ok(())
}

/// Resolves when the controller's Shutdown arrives. The controller uses `notify_waiters`, which
/// wakes this future and the server's own shutdown signal alike.
async fn shutdown_requested(shutdown: &Notify) {
    shutdown.notified().await;
}

/// go-plugin's PLUGIN_UNIX_SOCKET_GROUP: hand the socket to a group (name or numeric ID), mode 0660.
/// Terraform never sets it; failures are logged, not fatal.
fn share_socket_with_group(path: &Path, group: &str) {
    use std::os::unix::fs::PermissionsExt;
    let gid = group.parse::<u32>().ok().or_else(|| {
        std::fs::read_to_string("/etc/group")
            .ok()?
            .lines()
            .find_map(|line| {
                let mut fields = line.split(':');
                (fields.next()? == group).then(|| fields.nth(1)?.parse().ok())?
            })
    });
    let result = match gid {
        Some(gid) => std::os::unix::fs::chown(path, None, Some(gid))
            .and_then(|_| std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660))),
        None => Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("no group {group:?}"),
        )),
    };
    if let Err(e) = result {
        tracing::warn!(group, error = %e, "could not share the plugin socket with PLUGIN_UNIX_SOCKET_GROUP");
    }
}

fn announce(options: &ServeOptions, address: &str, cert: Option<&[u8]>) -> Result<(), ServeError> {
    let mut stdout = std::io::stdout().lock();
    if options.debug {
        let reattach = serde_json::json!({
            options.provider_address.clone(): {
                "Protocol": "grpc",
                "ProtocolVersion": handshake::PROTOCOL_VERSION,
                "Pid": std::process::id(),
                // Terraform 1.0.x only honours ProtocolVersion 6 for "test" reattach entries.
                "Test": true,
                "Addr": {"Network": "unix", "String": address},
            }
        });
        writeln!(
            stdout,
            "Provider started in debug mode. To attach Terraform, set this in the shell where you run it:\n\n\
             \texport TF_REATTACH_PROVIDERS='{reattach}'\n\nPress Ctrl-C to stop the provider."
        )
        .map_err(ServeError::Handshake)?;
    } else {
        writeln!(
            stdout,
            "{}",
            handshake::handshake_line("unix", address, cert)
        )
        .map_err(ServeError::Handshake)?;
    }
    stdout.flush().map_err(ServeError::Handshake)
}

async fn accept_loop(
    listener: UnixListener,
    acceptor: Option<TlsAcceptor>,
    connections: mpsc::Sender<Result<PluginConn, std::io::Error>>,
) {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                tracing::warn!(error = %e, "accepting a connection failed");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        match &acceptor {
            None => {
                if connections
                    .send(Ok(PluginConn::Plain(stream)))
                    .await
                    .is_err()
                {
                    return;
                }
            }
            Some(acceptor) => {
                // Handshake off the accept loop so one slow or hostile client blocks no one.
                let acceptor = acceptor.clone();
                let connections = connections.clone();
                tokio::spawn(async move {
                    match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream))
                        .await
                    {
                        Ok(Ok(tls)) => {
                            let _ = connections.send(Ok(PluginConn::Tls(Box::new(tls)))).await;
                        }
                        // rustls reports a refused certificate as InvalidData; anything else is a
                        // client that went away mid-handshake.
                        Ok(Err(e)) if e.kind() == std::io::ErrorKind::InvalidData => {
                            tracing::warn!(error = %e, "refused a TLS connection")
                        }
                        Ok(Err(e)) => tracing::debug!(error = %e, "TLS handshake ended early"),
                        Err(_) => tracing::warn!("TLS handshake timed out"),
                    }
                });
            }
        }
    }
}

/// A client connection, with or without TLS.
enum PluginConn {
    Plain(UnixStream),
    Tls(Box<TlsStream<UnixStream>>),
}

impl Connected for PluginConn {
    type ConnectInfo = ();

    fn connect_info(&self) -> Self::ConnectInfo {}
}

impl AsyncRead for PluginConn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            PluginConn::Plain(s) => Pin::new(s).poll_read(cx, buf),
            PluginConn::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for PluginConn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            PluginConn::Plain(s) => Pin::new(s).poll_write(cx, buf),
            PluginConn::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            PluginConn::Plain(s) => Pin::new(s).poll_flush(cx),
            PluginConn::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            PluginConn::Plain(s) => Pin::new(s).poll_shutdown(cx),
            PluginConn::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// go-plugin's GRPCController: Shutdown ends the process.
struct Controller {
    shutdown: Arc<Notify>,
}

#[tonic::async_trait]
impl grpc_controller_server::GrpcController for Controller {
    async fn shutdown(
        &self,
        _request: Request<go_plugin::Empty>,
    ) -> Result<Response<go_plugin::Empty>, Status> {
        tracing::debug!("Shutdown requested by Terraform");
        self.shutdown.notify_waiters();
        Ok(Response::new(go_plugin::Empty {}))
    }
}

/// go-plugin's GRPCStdio: we write logs to stderr directly, so the stream is empty.
struct Stdio;

#[tonic::async_trait]
impl grpc_stdio_server::GrpcStdio for Stdio {
    async fn stream_stdio(
        &self,
        _request: Request<()>,
    ) -> Result<Response<tonic::codegen::BoxStream<go_plugin::StdioData>>, Status> {
        Ok(Response::new(Box::pin(tokio_stream::empty())))
    }
}
