//! Launches the built provider exactly as Terraform does (magic cookie, protocol list, a P-521
//! self-signed CA client certificate) and talks to it over the socket it announces.

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use hyper_util::rt::TokioIo;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tfplugin::proto::go_plugin::{Empty, grpc_controller_client::GrpcControllerClient};
use tfplugin::proto::tfplugin6 as pb;
use tfplugin::proto::tfplugin6::provider_client::ProviderClient;
use tokio::net::UnixStream;
use tonic::transport::{Channel, Endpoint, Uri};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

const COOKIE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

/// A certificate like the one Terraform generates: self-signed, P-521, CA:TRUE.
struct ClientIdentity {
    pem: String,
    der: Vec<u8>,
    key_der: Vec<u8>,
}

fn client_identity() -> ClientIdentity {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair, PKCS_ECDSA_P521_SHA512};
    let key = KeyPair::generate_for(&PKCS_ECDSA_P521_SHA512).unwrap();
    let mut params = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let cert = params.self_signed(&key).unwrap();
    ClientIdentity {
        pem: cert.pem(),
        der: cert.der().to_vec(),
        key_der: key.serialize_der(),
    }
}

struct Provider {
    child: Child,
    socket: PathBuf,
    server_cert: Option<Vec<u8>>,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // A killed provider cannot clean up after itself.
        let _ = std::fs::remove_file(&self.socket);
    }
}

/// The provider under test: this build's binary, or `TFE_PROVIDER_TEST_BIN` (e.g. a release build).
fn provider_binary() -> PathBuf {
    std::env::var_os("TFE_PROVIDER_TEST_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_terraform-provider-tfe")))
}

fn command(envs: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(provider_binary());
    for (key, _) in std::env::vars() {
        if key.starts_with("TF_") || key.starts_with("PLUGIN_") || key.starts_with("TFE_") {
            cmd.env_remove(key);
        }
    }
    cmd.envs(envs.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Starts the provider and parses its handshake line.
fn launch(client_cert_pem: Option<&str>, extra_env: &[(&str, &str)]) -> Provider {
    let mut env = vec![
        ("TF_PLUGIN_MAGIC_COOKIE", COOKIE),
        ("PLUGIN_PROTOCOL_VERSIONS", "5,6"),
        ("PLUGIN_MIN_PORT", "10000"),
        ("PLUGIN_MAX_PORT", "25000"),
    ];
    if let Some(pem) = client_cert_pem {
        env.push(("PLUGIN_CLIENT_CERT", pem));
    }
    env.extend_from_slice(extra_env);
    let mut child = command(&env).spawn().expect("start the provider");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .expect("read the handshake line");
    let fields: Vec<&str> = line.trim_end().split('|').collect();
    assert_eq!(fields.len(), 6, "handshake line {line:?}");
    assert_eq!(&fields[..3], ["1", "6", "unix"], "handshake line {line:?}");
    assert_eq!(fields[4], "grpc");
    let socket = PathBuf::from(fields[3]);
    assert!(socket.exists(), "socket {} missing", socket.display());
    assert!(
        socket.starts_with(std::env::temp_dir()),
        "socket should be in $TMPDIR: {}",
        socket.display()
    );
    let server_cert = if fields[5].is_empty() {
        None
    } else {
        assert!(
            !fields[5].contains('='),
            "certificate must be unpadded base64"
        );
        Some(
            base64::engine::general_purpose::STANDARD_NO_PAD
                .decode(fields[5])
                .expect("base64 certificate"),
        )
    };
    assert_eq!(
        server_cert.is_some(),
        client_cert_pem.is_some(),
        "TLS only with PLUGIN_CLIENT_CERT"
    );
    Provider {
        child,
        socket,
        server_cert,
    }
}

/// Trusts exactly the certificate from the handshake line, as go-plugin does.
#[derive(Debug)]
struct PinnedServer(Vec<u8>);

impl ServerCertVerifier for PinnedServer {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        assert_eq!(server_name.to_str(), "localhost");
        if end_entity.as_ref() == self.0.as_slice() {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(
                "unexpected server certificate".into(),
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algs = rustls::crypto::aws_lc_rs::default_provider().signature_verification_algorithms;
        rustls::crypto::verify_tls12_signature(m, c, d, &algs)
    }

    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algs = rustls::crypto::aws_lc_rs::default_provider().signature_verification_algorithms;
        rustls::crypto::verify_tls13_signature(m, c, d, &algs)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        rustls::crypto::aws_lc_rs::default_provider()
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// A gRPC channel over the provider's socket: mutual TLS when `identity` and a server certificate are given.
async fn connect(
    provider: &Provider,
    identity: Option<&ClientIdentity>,
) -> Result<Channel, tonic::transport::Error> {
    let socket = provider.socket.clone();
    let tls = provider.server_cert.clone().map(|server_cert| {
        let builder = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(PinnedServer(server_cert)));
        let mut config = match identity {
            Some(id) => builder
                .with_client_auth_cert(
                    vec![CertificateDer::from(id.der.clone())],
                    PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(id.key_der.clone())),
                )
                .unwrap(),
            None => builder.with_no_client_auth(),
        };
        config.alpn_protocols = vec![b"h2".to_vec()];
        tokio_rustls::TlsConnector::from(Arc::new(config))
    });
    Endpoint::try_from("http://localhost")?
        .connect_with_connector(tower::service_fn(move |_: Uri| {
            let socket = socket.clone();
            let tls = tls.clone();
            async move {
                let stream = UnixStream::connect(socket).await?;
                match tls {
                    Some(tls) => {
                        let tls_stream = tls
                            .connect(ServerName::try_from("localhost").unwrap(), stream)
                            .await?;
                        Ok::<_, std::io::Error>(TokioIo::new(Either::Tls(Box::new(tls_stream))))
                    }
                    None => Ok(TokioIo::new(Either::Plain(stream))),
                }
            }
        }))
        .await
}

enum Either {
    Plain(UnixStream),
    Tls(Box<tokio_rustls::client::TlsStream<UnixStream>>),
}

impl tokio::io::AsyncRead for Either {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        match self.get_mut() {
            Either::Plain(s) => std::pin::Pin::new(s).poll_read(cx, buf),
            Either::Tls(s) => std::pin::Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl tokio::io::AsyncWrite for Either {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Either::Plain(s) => std::pin::Pin::new(s).poll_write(cx, buf),
            Either::Tls(s) => std::pin::Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        match self.get_mut() {
            Either::Plain(s) => std::pin::Pin::new(s).poll_flush(cx),
            Either::Tls(s) => std::pin::Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        match self.get_mut() {
            Either::Plain(s) => std::pin::Pin::new(s).poll_shutdown(cx),
            Either::Tls(s) => std::pin::Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

async fn plugin_health(channel: Channel) -> Result<i32, tonic::Status> {
    let response = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: "plugin".into(),
        })
        .await?;
    Ok(response.into_inner().status)
}

/// Waits for the process to exit; returns how long it took, or None after `limit`.
fn wait_exit(child: &mut Child, limit: Duration) -> Option<Duration> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if child.try_wait().unwrap().is_some() {
            return Some(start.elapsed());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    None
}

fn send_sigint(child: &Child) {
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[tokio::test]
async fn mtls_handshake_health_schema_and_prompt_shutdown() {
    let identity = client_identity();
    let mut provider = launch(Some(&identity.pem), &[]);
    let channel = connect(&provider, Some(&identity))
        .await
        .expect("mTLS connection");

    assert_eq!(
        plugin_health(channel.clone()).await.unwrap(),
        ServingStatus::Serving as i32
    );

    let schema = ProviderClient::new(channel.clone())
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .expect("GetProviderSchema")
        .into_inner();
    let provider_block = schema.provider.expect("provider schema").block.unwrap();
    let token = provider_block
        .attributes
        .iter()
        .find(|a| a.name == "token")
        .expect("token attribute");
    assert!(token.sensitive && token.optional);
    let run = &schema.resource_schemas["tfe_workspace_run"];
    // The official resource's version 1, upgraded: see the resource's schema.rs.
    assert_eq!(run.version, 2);
    let apply = run
        .block
        .as_ref()
        .unwrap()
        .block_types
        .iter()
        .find(|b| b.type_name == "apply")
        .unwrap();
    assert_eq!(
        (apply.nesting, apply.max_items),
        (pb::schema::nested_block::NestingMode::List as i32, 1)
    );
    // Write-only on the wire (field 11), which Terraform 1.11 and later honour and older releases ignore.
    let variables = apply
        .block
        .as_ref()
        .unwrap()
        .attributes
        .iter()
        .find(|a| a.name == "variables")
        .expect("apply.variables");
    assert!(variables.write_only && variables.sensitive && !variables.computed);
    assert!(schema.server_capabilities.unwrap().plan_destroy);

    // Ctrl-C hits the whole process group; the provider must keep serving.
    send_sigint(&provider.child);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(
        plugin_health(channel.clone()).await.unwrap(),
        ServingStatus::Serving as i32
    );

    GrpcControllerClient::new(channel)
        .shutdown(Empty {})
        .await
        .expect("Shutdown");
    let took = wait_exit(&mut provider.child, Duration::from_millis(500));
    assert!(
        took.is_some(),
        "provider still running 500 ms after Shutdown"
    );
    assert!(provider.child.wait().unwrap().success());
    assert!(!provider.socket.exists(), "socket file left behind");
}

#[tokio::test]
async fn other_client_certificates_are_refused() {
    let identity = client_identity();
    let intruder = client_identity();
    let provider = launch(Some(&identity.pem), &[]);

    let refused = match connect(&provider, Some(&intruder)).await {
        Ok(channel) => plugin_health(channel).await.is_err(),
        Err(_) => true,
    };
    assert!(refused, "a different client certificate was accepted");

    let refused = match connect(&provider, None).await {
        Ok(channel) => plugin_health(channel).await.is_err(),
        Err(_) => true,
    };
    assert!(refused, "a client without a certificate was accepted");

    let channel = connect(&provider, Some(&identity)).await.unwrap();
    assert_eq!(
        plugin_health(channel).await.unwrap(),
        ServingStatus::Serving as i32
    );
}

#[test]
fn without_the_magic_cookie_it_explains_and_exits_1() {
    let out = command(&[]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "nothing may reach stdout");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("Terraform plugin") && stderr.contains("--debug"),
        "{stderr}"
    );
}

#[tokio::test]
async fn plaintext_without_client_certificate_and_errors_as_diagnostics() {
    let provider = launch(None, &[]);
    let channel = connect(&provider, None).await.unwrap();
    let mut client = ProviderClient::new(channel);

    // Garbage instead of msgpack: a diagnostic in an OK response, never a gRPC error.
    let response = client
        .validate_resource_config(pb::validate_resource_config::Request {
            type_name: "tfe_workspace_run".into(),
            config: Some(pb::DynamicValue {
                msgpack: vec![0x92, 0xa1],
                json: vec![],
            }),
            client_capabilities: None,
        })
        .await
        .expect("an OK status")
        .into_inner();
    assert_eq!(response.diagnostics.len(), 1);
    assert_eq!(
        response.diagnostics[0].severity,
        pb::diagnostic::Severity::Error as i32
    );

    let response = client
        .read_resource(pb::read_resource::Request {
            type_name: "tfe_nope".into(),
            ..Default::default()
        })
        .await
        .expect("an OK status")
        .into_inner();
    assert!(response.diagnostics[0].detail.contains("tfe_nope"));
}

fn msgpack_provider_config(token: &str) -> Vec<u8> {
    use rmpv::Value as Mp;
    let config = Mp::Map(vec![
        (Mp::from("hostname"), Mp::from("tfe.example.com")),
        (Mp::from("organization"), Mp::Nil),
        (Mp::from("ssl_skip_verify"), Mp::Nil),
        (Mp::from("token"), Mp::from(token)),
    ]);
    let mut bytes = Vec::new();
    rmpv::encode::write_value(&mut bytes, &config).unwrap();
    bytes
}

#[tokio::test]
async fn logs_are_hclog_json_and_never_contain_the_token() {
    let secret = "tok3n-that-must-not-be-logged";
    let identity = client_identity();
    let mut provider = launch(Some(&identity.pem), &[("TF_LOG", "TRACE")]);
    let channel = connect(&provider, Some(&identity)).await.unwrap();
    let response = ProviderClient::new(channel.clone())
        .configure_provider(pb::configure_provider::Request {
            terraform_version: "1.0.3".into(),
            config: Some(pb::DynamicValue {
                msgpack: msgpack_provider_config(secret),
                json: vec![],
            }),
            client_capabilities: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(
        response.diagnostics.is_empty(),
        "{:?}",
        response.diagnostics
    );
    GrpcControllerClient::new(channel)
        .shutdown(Empty {})
        .await
        .unwrap();
    assert!(wait_exit(&mut provider.child, Duration::from_secs(2)).is_some());

    let mut stderr = String::new();
    provider
        .child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(
        !stderr.contains(secret),
        "the token leaked into the logs:\n{stderr}"
    );
    assert!(stderr.contains("provider configured"), "{stderr}");
    for line in stderr.lines() {
        let json: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(
            json["@level"].is_string() && json["@message"].is_string(),
            "{line}"
        );
        let ts = json["@timestamp"].as_str().unwrap();
        let fraction = ts.split('.').nth(1).expect("fractional seconds");
        assert_eq!(fraction.trim_end_matches('Z').len(), 6, "{ts}");
    }
}

#[tokio::test]
async fn debug_mode_prints_reattach_configuration() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_terraform-provider-tfe"))
        .arg("--debug")
        .env_remove("TF_PLUGIN_MAGIC_COOKIE")
        .env_remove("PLUGIN_CLIENT_CERT")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut reattach = None;
    for _ in 0..20 {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap() == 0 {
            break;
        }
        if let Some((_, rest)) = line.split_once("TF_REATTACH_PROVIDERS='") {
            reattach = Some(rest.trim_end().trim_end_matches('\'').to_string());
            break;
        }
    }
    let reattach: serde_json::Value =
        serde_json::from_str(&reattach.expect("TF_REATTACH_PROVIDERS line")).unwrap();
    let entry = &reattach["registry.terraform.io/hashicorp/tfe"];
    assert_eq!(entry["ProtocolVersion"], 6);
    assert_eq!(entry["Test"], true);
    assert_eq!(entry["Pid"], child.id());
    assert_eq!(entry["Addr"]["Network"], "unix");
    let socket = PathBuf::from(entry["Addr"]["String"].as_str().unwrap());

    let provider = Provider {
        child,
        socket: socket.clone(),
        server_cert: None,
    };
    let channel = connect(&provider, None).await.unwrap();
    assert_eq!(
        plugin_health(channel).await.unwrap(),
        ServingStatus::Serving as i32
    );

    // In debug mode a person stops it with Ctrl-C.
    let mut provider = provider;
    send_sigint(&provider.child);
    assert!(
        wait_exit(&mut provider.child, Duration::from_secs(2)).is_some(),
        "debug provider ignored Ctrl-C"
    );
    assert!(!socket.exists());
}

#[test]
fn sigterm_stops_cleanly_and_removes_the_socket() {
    let mut provider = launch(None, &[]);
    let status = Command::new("kill")
        .args(["-TERM", &provider.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert!(
        wait_exit(&mut provider.child, Duration::from_secs(2)).is_some(),
        "still running after SIGTERM"
    );
    assert!(!provider.socket.exists(), "socket file left behind");
}

/// When, relative to the handshake line, each launch/Shutdown cycle sends Shutdown.
#[derive(Clone, Copy, Debug)]
enum ShutdownTiming {
    /// Connect, ping health (go-plugin does on start), then Shutdown at once.
    AfterPing,
    /// A lazy channel: Shutdown is the first request, pipelined right behind the TLS handshake.
    FirstRequest,
    /// Shutdown while GetProviderSchema is in flight on the same connection.
    DuringSchema,
    /// As DuringSchema, then the client stops polling its open connection (the server's graceful
    /// HTTP/2 close gets no answer): the exit must not wait for that client.
    DuringSchemaThenStall,
    /// No Shutdown: SIGTERM (a service manager's stop) right after the handshake line.
    Sigterm,
}

/// What one cycle measured: the time from sending Shutdown to the process having exited.
struct CycleOutcome {
    exit_after: Option<Duration>,
    problems: Vec<String>,
}

async fn shutdown_cycle(identity: &ClientIdentity, timing: ShutdownTiming) -> CycleOutcome {
    let mut problems = Vec::new();
    let mut provider = launch(Some(&identity.pem), &[]);
    let rpc_limit = Duration::from_secs(2);
    if let ShutdownTiming::Sigterm = timing {
        let sent = Instant::now();
        let killed = Command::new("kill")
            .args(["-TERM", &provider.child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        return finish_cycle(&mut provider, sent, timing, problems).await;
    }
    let channel = match timing {
        ShutdownTiming::FirstRequest => connect_lazy(&provider, identity),
        _ => connect(&provider, Some(identity))
            .await
            .expect("mTLS connection"),
    };
    if let ShutdownTiming::AfterPing = timing {
        assert_eq!(
            plugin_health(channel.clone()).await.unwrap(),
            ServingStatus::Serving as i32
        );
    }
    let mut controller = GrpcControllerClient::new(channel.clone());
    let sent = Instant::now();
    let shutdown_result = match timing {
        ShutdownTiming::DuringSchema | ShutdownTiming::DuringSchemaThenStall => {
            let mut client = ProviderClient::new(channel.clone());
            // join! polls the schema call first, so its stream is opened before Shutdown's.
            let (schema, shutdown) = tokio::join!(
                tokio::time::timeout(
                    rpc_limit,
                    client.get_provider_schema(pb::get_provider_schema::Request {})
                ),
                tokio::time::timeout(rpc_limit, controller.shutdown(Empty {}))
            );
            match schema {
                Ok(Ok(r)) if r.get_ref().provider.is_some() => {}
                Ok(Ok(_)) => problems.push("GetProviderSchema without a provider schema".into()),
                Ok(Err(e)) => problems.push(format!("in-flight GetProviderSchema failed: {e}")),
                Err(_) => problems.push("in-flight GetProviderSchema got no answer in 2 s".into()),
            }
            shutdown
        }
        _ => tokio::time::timeout(rpc_limit, controller.shutdown(Empty {})).await,
    };
    match shutdown_result {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => problems.push(format!("Shutdown failed: {e}")),
        Err(_) => problems.push("Shutdown got no answer in 2 s".into()),
    }
    // The channel stays open until the process is gone: exiting must not wait for the client.
    let outcome = finish_cycle(&mut provider, sent, timing, problems).await;
    drop(channel);
    outcome
}

/// Waits for the process to exit and checks how it left.
async fn finish_cycle(
    provider: &mut Provider,
    sent: Instant,
    timing: ShutdownTiming,
    mut problems: Vec<String>,
) -> CycleOutcome {
    let limit = Duration::from_secs(2);
    let exit_after = match timing {
        ShutdownTiming::DuringSchemaThenStall => {
            wait_exit_blocking(&mut provider.child, sent, limit)
        }
        _ => wait_exit_precise(&mut provider.child, sent, limit).await,
    };
    match exit_after {
        None => {
            problems.push("still running 2 s after Shutdown (go-plugin would SIGKILL it)".into())
        }
        Some(_) => {
            let status = provider.child.wait().unwrap();
            if !status.success() {
                problems.push(format!("exit status {status}"));
            }
            if provider.socket.exists() {
                problems.push(format!("socket {} left behind", provider.socket.display()));
            }
        }
    }
    CycleOutcome {
        exit_after,
        problems,
    }
}

/// Like `wait_exit`, at millisecond resolution, measured from `since`. Waits asynchronously so the
/// client keeps serving its (still open) connection, as grpc-go's does in Terraform.
async fn wait_exit_precise(child: &mut Child, since: Instant, limit: Duration) -> Option<Duration> {
    while since.elapsed() < limit {
        if child.try_wait().unwrap().is_some() {
            return Some(since.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    None
}

/// Like `wait_exit_precise`, but blocks the test's (single) runtime thread, so the client's
/// connection is not served meanwhile.
fn wait_exit_blocking(child: &mut Child, since: Instant, limit: Duration) -> Option<Duration> {
    while since.elapsed() < limit {
        if child.try_wait().unwrap().is_some() {
            return Some(since.elapsed());
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    None
}

/// A channel that connects on its first request, so nothing precedes that request on the wire.
fn connect_lazy(provider: &Provider, identity: &ClientIdentity) -> Channel {
    let socket = provider.socket.clone();
    let server_cert = provider.server_cert.clone().expect("TLS provider");
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .dangerous()
    .with_custom_certificate_verifier(Arc::new(PinnedServer(server_cert)));
    let mut config = builder
        .with_client_auth_cert(
            vec![CertificateDer::from(identity.der.clone())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(identity.key_der.clone())),
        )
        .unwrap();
    config.alpn_protocols = vec![b"h2".to_vec()];
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config));
    Endpoint::try_from("http://localhost")
        .unwrap()
        .connect_with_connector_lazy(tower::service_fn(move |_: Uri| {
            let socket = socket.clone();
            let tls = tls.clone();
            async move {
                let stream = UnixStream::connect(socket).await?;
                let tls_stream = tls
                    .connect(ServerName::try_from("localhost").unwrap(), stream)
                    .await?;
                Ok::<_, std::io::Error>(TokioIo::new(Either::Tls(Box::new(tls_stream))))
            }
        }))
}

/// Cycles per timing: `SHUTDOWN_CYCLES` (`make stress` sets 1000), else a few for `make test`.
fn shutdown_cycles() -> usize {
    match std::env::var("SHUTDOWN_CYCLES") {
        Ok(v) => v
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("SHUTDOWN_CYCLES must be a number, got {v:?}")),
        Err(_) => 15,
    }
}

/// Launches the provider again and again, shuts it down over mutual TLS at `timing`, and requires
/// every process to exit with status 0 within go-plugin's 2 s, its socket file removed.
async fn launch_shutdown_loop(timing: ShutdownTiming) {
    let cycles = shutdown_cycles();
    assert!(cycles > 0, "SHUTDOWN_CYCLES must be at least 1");
    // One Terraform-like identity for the loop: the provider treats every launch alike.
    let identity = client_identity();
    let mut failures = Vec::new();
    let mut slowest = Duration::ZERO;
    let mut total = Duration::ZERO;
    let started = Instant::now();
    let mut exited = 0;
    for cycle in 1..=cycles {
        let outcome = shutdown_cycle(&identity, timing).await;
        if let Some(took) = outcome.exit_after {
            exited += 1;
            slowest = slowest.max(took);
            total += took;
        }
        if !outcome.problems.is_empty() {
            eprintln!("{timing:?} cycle {cycle}: {}", outcome.problems.join("; "));
            failures.push(cycle);
        }
    }
    println!(
        "{timing:?}: {cycles} launch/Shutdown cycles in {:.1} s, {} failed, {exited} exited, slowest exit {:.1} ms, mean {:.1} ms",
        started.elapsed().as_secs_f64(),
        failures.len(),
        slowest.as_secs_f64() * 1e3,
        total.as_secs_f64() * 1e3 / exited.max(1) as f64,
    );
    assert!(
        failures.is_empty(),
        "{timing:?}: {} of {cycles} cycles failed (cycles {failures:?})",
        failures.len()
    );
}

#[tokio::test]
async fn shutdown_loop_after_ping() {
    launch_shutdown_loop(ShutdownTiming::AfterPing).await;
}

#[tokio::test]
async fn shutdown_loop_as_first_request() {
    launch_shutdown_loop(ShutdownTiming::FirstRequest).await;
}

#[tokio::test]
async fn shutdown_loop_during_get_provider_schema() {
    launch_shutdown_loop(ShutdownTiming::DuringSchema).await;
}

#[tokio::test]
async fn shutdown_loop_sigterm_right_after_the_handshake() {
    launch_shutdown_loop(ShutdownTiming::Sigterm).await;
}

#[tokio::test]
async fn shutdown_loop_with_a_stalled_client() {
    launch_shutdown_loop(ShutdownTiming::DuringSchemaThenStall).await;
}
