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
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tokio_stream::Stream;
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;
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
/// After Shutdown, in-flight calls (cancelled as by StopProvider) and the Shutdown reply get this
/// long to drain; go-plugin kills the process 2 s after Shutdown.
const SHUTDOWN_DRAIN: Duration = Duration::from_millis(300);

/// Why [`serve`] stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Run by hand: the magic cookie is not set (and not debug mode). Holds the explanation to print.
    #[error("{0}")]
    NotLaunchedByTerraform(String),
    /// The TLS setup failed.
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    /// The plugin's socket could not be created.
    #[error("could not listen on {path}: {source}")]
    Listen {
        /// The socket's path.
        path: PathBuf,
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

    // Sticky: a Shutdown that arrives before anything awaits it is still seen (a
    // `Notify::notify_waiters` would wake only the waiters registered at that moment).
    let shutdown = CancellationToken::new();
    let service = Arc::new(ProviderService::new(provider));

    let (conn_tx, conn_rx) = mpsc::channel::<Result<PluginConn, std::io::Error>>(16);
    let acceptor = tls.as_ref().map(|t| TlsAcceptor::from(t.config.clone()));
    tokio::spawn(accept_loop(listener, acceptor, conn_tx));

    announce(
        &options,
        &address,
        tls.as_ref().map(|t| t.certificate_der.as_slice()),
    )?;
    tracing::info!(address = %address, tls = tls.is_some(), "plugin server listening");

    let served = serve_until_shutdown(
        ReceiverStream::new(conn_rx),
        service,
        shutdown.clone(),
        SHUTDOWN_DRAIN,
    );
    let mut served = std::pin::pin!(served);

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
        result = &mut served => result?,
        _ = stop_requested => {
            shutdown.cancel();
            served.await?;
        }
    }
    tracing::debug!("plugin server stopped");
    Ok(())
}

/// Serves the go-plugin services and `service` on `incoming` until `shutdown` is cancelled, by the
/// controller's Shutdown or by the caller, whether before or after this starts waiting. Then calls
/// in flight are cancelled as by StopProvider and get `drain` to answer; connections still open
/// after that are abandoned (the process is about to exit).
async fn serve_until_shutdown<I, IO, IE>(
    incoming: I,
    service: Arc<ProviderService>,
    shutdown: CancellationToken,
    drain: Duration,
) -> Result<(), tonic::transport::Error>
where
    I: Stream<Item = Result<IO, IE>>,
    IO: AsyncRead + AsyncWrite + Connected + Unpin + Send + 'static,
    IE: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let (health_reporter, health_service) = tonic_health::server::health_reporter();
    health_reporter
        .set_service_status("plugin", tonic_health::ServingStatus::Serving)
        .await;
    let server = tonic::transport::Server::builder()
        .add_service(health_service)
        .add_service(grpc_controller_server::GrpcControllerServer::new(
            Controller {
                shutdown: shutdown.clone(),
            },
        ))
        .add_service(grpc_stdio_server::GrpcStdioServer::new(Stdio))
        .add_service(
            ProviderServer::from_arc(service.clone())
                .max_decoding_message_size(MAX_MESSAGE_BYTES)
                .max_encoding_message_size(MAX_MESSAGE_BYTES),
        )
        .serve_with_incoming_shutdown(incoming, shutdown.clone().cancelled_owned());
    let mut server = std::pin::pin!(server);
    tokio::select! {
        // Only without Shutdown: the incoming stream ended.
        result = &mut server => return result,
        _ = shutdown.cancelled() => {}
    }
    // go-plugin's Shutdown is grpc-go's Server.Stop, which cancels every call's context.
    service.stop_all();
    match tokio::time::timeout(drain, &mut server).await {
        Ok(result) => result,
        Err(_) => {
            tracing::debug!(
                drain_ms = drain.as_millis() as u64,
                "connections still open after Shutdown; exiting without them"
            );
            Ok(())
        }
    }
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
    shutdown: CancellationToken,
}

#[tonic::async_trait]
impl grpc_controller_server::GrpcController for Controller {
    async fn shutdown(
        &self,
        _request: Request<go_plugin::Empty>,
    ) -> Result<Response<go_plugin::Empty>, Status> {
        tracing::debug!("Shutdown requested by Terraform");
        self.shutdown.cancel();
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

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Instant;

    use async_trait::async_trait;
    use hyper_util::rt::TokioIo;
    use tonic::transport::{Endpoint, Uri};

    use super::*;
    use crate::proto::go_plugin::grpc_controller_client::GrpcControllerClient;
    use crate::proto::go_plugin::grpc_controller_server::GrpcController as _;
    use crate::proto::tfplugin6 as pb;
    use crate::proto::tfplugin6::provider_client::ProviderClient;
    use crate::resource::{ConfigureRequest, DataSource, ReadDataRequest, Resource};
    use crate::{Attribute, Block, Diagnostics, Schema, Type, Value, codec};

    /// A data source whose read waits: until cancelled (`test_wait`) or forever (`test_stuck`).
    struct Waiting {
        name: &'static str,
        honours_cancel: bool,
        started: Arc<AtomicUsize>,
    }

    #[async_trait]
    impl DataSource for Waiting {
        fn type_name(&self) -> &str {
            self.name
        }

        fn schema(&self) -> Schema {
            Schema {
                version: 0,
                block: Block {
                    attributes: vec![Attribute::optional("note", Type::String)],
                    ..Block::default()
                },
            }
        }

        async fn read(&self, request: ReadDataRequest) -> (Value, Diagnostics) {
            self.started.fetch_add(1, Ordering::SeqCst);
            if self.honours_cancel {
                request.cancel.cancelled().await;
            } else {
                std::future::pending::<()>().await;
            }
            (
                request.config,
                Diagnostics::from_error("Cancelled", "stopped while reading"),
            )
        }
    }

    struct WaitingProvider(Arc<AtomicUsize>);

    #[async_trait]
    impl Provider for WaitingProvider {
        fn schema(&self) -> Schema {
            Schema::default()
        }

        async fn configure(&self, _request: ConfigureRequest) -> Diagnostics {
            Diagnostics::new()
        }

        fn resources(&self) -> Vec<Arc<dyn Resource>> {
            Vec::new()
        }

        fn data_sources(&self) -> Vec<Arc<dyn DataSource>> {
            [("test_wait", true), ("test_stuck", false)]
                .into_iter()
                .map(|(name, honours_cancel)| {
                    Arc::new(Waiting {
                        name,
                        honours_cancel,
                        started: self.0.clone(),
                    }) as Arc<dyn DataSource>
                })
                .collect()
        }
    }

    fn service(started: Arc<AtomicUsize>) -> Arc<ProviderService> {
        Arc::new(ProviderService::new(Arc::new(WaitingProvider(started))))
    }

    /// The lost wakeup behind "plugin failed to exit gracefully": Shutdown lands before the serve
    /// loop awaits it. The paused clock makes a missed signal fail at once instead of hanging.
    #[tokio::test(start_paused = true)]
    async fn shutdown_before_the_server_waits_still_stops_it() {
        let shutdown = CancellationToken::new();
        Controller {
            shutdown: shutdown.clone(),
        }
        .shutdown(Request::new(go_plugin::Empty {}))
        .await
        .expect("Shutdown");
        // An incoming stream that never ends: only the Shutdown can stop the server.
        let incoming = futures::stream::pending::<Result<UnixStream, std::io::Error>>();
        let served = tokio::time::timeout(
            Duration::from_secs(2),
            serve_until_shutdown(incoming, service(Arc::default()), shutdown, SHUTDOWN_DRAIN),
        )
        .await;
        assert!(
            matches!(served, Ok(Ok(()))),
            "a Shutdown sent before the server waited for it was lost"
        );
    }

    fn read_request(type_name: &str) -> pb::read_data_source::Request {
        let ty = Type::Object([("note".to_string(), Type::String)].into_iter().collect());
        pb::read_data_source::Request {
            type_name: type_name.into(),
            config: Some(pb::DynamicValue {
                msgpack: codec::encode_msgpack(
                    &Value::object([("note", Value::string(type_name))]),
                    &ty,
                )
                .unwrap(),
                json: Vec::new(),
            }),
            provider_meta: None,
            client_capabilities: None,
        }
    }

    #[tokio::test]
    async fn shutdown_cancels_calls_in_flight_and_ends_within_the_drain_bound() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plugin-test");
        let incoming =
            tokio_stream::wrappers::UnixListenerStream::new(UnixListener::bind(&path).unwrap());
        let started = Arc::new(AtomicUsize::new(0));
        let shutdown = CancellationToken::new();
        let drain = Duration::from_millis(300);
        let served = tokio::spawn(serve_until_shutdown(
            incoming,
            service(started.clone()),
            shutdown.clone(),
            drain,
        ));

        let channel =
            Endpoint::try_from("http://localhost")
                .unwrap()
                .connect_with_connector(tower::service_fn(move |_: Uri| {
                    let path = path.clone();
                    async move {
                        Ok::<_, std::io::Error>(TokioIo::new(UnixStream::connect(path).await?))
                    }
                }))
                .await
                .unwrap();
        let wait = {
            let mut client = ProviderClient::new(channel.clone());
            tokio::spawn(async move { client.read_data_source(read_request("test_wait")).await })
        };
        let stuck = {
            let mut client = ProviderClient::new(channel.clone());
            tokio::spawn(async move { client.read_data_source(read_request("test_stuck")).await })
        };
        let deadline = Instant::now() + Duration::from_secs(5);
        while started.load(Ordering::SeqCst) < 2 {
            assert!(Instant::now() < deadline, "the reads never started");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }

        let asked = Instant::now();
        GrpcControllerClient::new(channel)
            .shutdown(go_plugin::Empty {})
            .await
            .expect("Shutdown answered");
        let result = tokio::time::timeout(Duration::from_secs(2), served)
            .await
            .expect("server still running 2 s after Shutdown despite a call that never ends");
        let took = asked.elapsed();
        result.unwrap().expect("server ended cleanly");
        // The drain bound plus scheduling slack on a loaded machine, well under go-plugin's 2 s.
        assert!(took < drain + Duration::from_millis(700), "took {took:?}");

        // The call that honours cancellation was cancelled by Shutdown and got its answer.
        let response = wait.await.unwrap().expect("an answer").into_inner();
        assert_eq!(response.diagnostics[0].summary, "Cancelled");
        assert!(!stuck.is_finished() || stuck.await.unwrap().is_err());
    }
}
