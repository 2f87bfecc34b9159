//! The gRPC side of the plugin server: Terraform's provider service beside go-plugin's health,
//! controller and stdio services, served on whatever connections arrive until Shutdown, then a
//! bounded drain (go-plugin's Shutdown is grpc-go's Server.Stop, which cancels every call).

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio_stream::Stream;
use tokio_util::sync::CancellationToken;
use tonic::transport::server::Connected;
use tonic::{Request, Response, Status};

use crate::proto::go_plugin::{self, grpc_controller_server, grpc_stdio_server};
use crate::proto::tfplugin6::provider_server::ProviderServer;
use crate::server::ProviderService;

/// Terraform allows up to 256 MiB messages (schemas, large states).
const MAX_MESSAGE_BYTES: usize = 256 * 1024 * 1024;

/// Serves the go-plugin services and `service` on `incoming` until `shutdown` is cancelled, by the
/// controller's Shutdown or by the caller, whether before or after this starts waiting. Then calls
/// in flight are cancelled as by StopProvider and get `drain` to answer; connections still open
/// after that are abandoned (the process is about to exit).
pub(super) async fn serve_until_shutdown<I, IO, IE>(
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
    use tonic::transport::Endpoint;

    use super::*;
    use crate::proto::go_plugin::grpc_controller_client::GrpcControllerClient;
    use crate::proto::go_plugin::grpc_controller_server::GrpcController as _;
    use crate::proto::tfplugin6 as pb;
    use crate::proto::tfplugin6::provider_client::ProviderClient;
    use crate::resource::{ConfigureRequest, DataSource, Provider, ReadDataRequest, Resource};
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
        let incoming = futures::stream::pending::<Result<tokio::net::TcpStream, std::io::Error>>();
        let served = tokio::time::timeout(
            Duration::from_secs(2),
            serve_until_shutdown(
                incoming,
                service(Arc::default()),
                shutdown,
                super::super::SHUTDOWN_DRAIN,
            ),
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
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let incoming = tokio_stream::wrappers::TcpListenerStream::new(listener);
        let started = Arc::new(AtomicUsize::new(0));
        let shutdown = CancellationToken::new();
        let drain = Duration::from_millis(300);
        let served = tokio::spawn(serve_until_shutdown(
            incoming,
            service(started.clone()),
            shutdown.clone(),
            drain,
        ));

        let channel = Endpoint::try_from(format!("http://{address}"))
            .unwrap()
            .connect()
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
