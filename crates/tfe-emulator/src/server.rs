//! Listening: plain HTTP or HTTPS with a CA and leaf certificate generated at start, the ready line, and a
//! clean stop on SIGTERM/SIGINT.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::response::IntoResponse;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::service::TowerToHyperService;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::TcpListener;
use tower::ServiceExt;

use super::error::Error;
use super::http::request_log::record_unserved;
use super::http::{ApiError, with_api_layers};
use super::state::Shared;
use super::{admin, routes, ui};

/// The whole application: TFE API (with auth, faults and logging) plus the admin API.
pub fn app(emu: Shared) -> Router {
    with_api_layers(routes::api_router(), emu.clone())
        .merge(admin::admin_router(emu.clone()))
        .merge(ui::ui_router(emu.clone()))
        .fallback(
            |State(emu): State<Shared>, request: axum::extract::Request| async move {
                record_unserved(&emu, &request, 404);
                ApiError::not_found("route").into_response()
            },
        )
        .method_not_allowed_fallback(
            |State(emu): State<Shared>, request: axum::extract::Request| async move {
                record_unserved(&emu, &request, 405);
                ApiError::new(
                    405,
                    format!(
                        "method {} is not allowed on {}",
                        request.method(),
                        request.uri().path()
                    ),
                )
                .into_response()
            },
        )
        .layer(axum::middleware::from_fn(
            super::http::error_documents::error_documents,
        ))
        .layer(axum::middleware::from_fn(
            super::http::body_drain::body_drain,
        ))
        .with_state(emu)
}

/// A fresh CA and a leaf for localhost / 127.0.0.1 / ::1 (plus `extra_names`).
pub struct GeneratedTls {
    /// The CA certificate clients must trust, PEM.
    pub ca_pem: String,
    /// The TLS configuration serving the leaf.
    pub server_config: rustls::ServerConfig,
}

/// Makes the CA and the leaf (ECDSA P-256), valid for the names above.
pub fn generate_tls(extra_names: &[String]) -> Result<GeneratedTls, Error> {
    let err = |e: rcgen::Error| Error::Tls(format!("cannot generate the certificates: {e}"));
    let ca_key = KeyPair::generate().map_err(err)?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "tfe-emulator local CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca_params.self_signed(&ca_key).map_err(err)?;
    let issuer = Issuer::new(ca_params, ca_key);

    let mut names = vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        "::1".to_string(),
    ];
    names.extend(extra_names.iter().cloned());
    let leaf_key = KeyPair::generate().map_err(err)?;
    let mut leaf_params = CertificateParams::new(names).map_err(err)?;
    leaf_params
        .distinguished_name
        .push(DnType::CommonName, "tfe-emulator");
    let leaf = leaf_params.signed_by(&leaf_key, &issuer).map_err(err)?;

    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    let chain: Vec<CertificateDer<'static>> = vec![leaf.der().clone(), ca_cert.der().clone()];
    let mut server_config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| Error::Tls(e.to_string()))?;
    server_config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(GeneratedTls {
        ca_pem: ca_cert.pem(),
        server_config,
    })
}

/// How to serve.
pub struct ServeOptions {
    /// The address to bind; port 0 picks a free one.
    pub listen: SocketAddr,
    /// Plain HTTP instead of HTTPS.
    pub http: bool,
    /// Where to write the CA certificate (HTTPS only).
    pub ca_file: Option<PathBuf>,
    /// More DNS names or IPs for the leaf certificate, for clients that reach it by another name.
    pub extra_names: Vec<String>,
}

/// A bound listener with its TLS set up: connections are accepted from here on.
pub struct Bound {
    listener: TcpListener,
    router: Router,
    tls: Option<tokio_rustls::TlsAcceptor>,
    /// `https://ADDR:PORT` (or `http://…`).
    pub base_url: String,
    /// Where the CA certificate was written (HTTPS only).
    pub ca_file: Option<PathBuf>,
}

/// Binds the listener, generates the certificates and writes the CA file (HTTPS), without printing.
pub async fn bind(emu: Shared, options: ServeOptions) -> Result<Bound, Error> {
    let listen_error = |source| Error::Listen {
        addr: options.listen,
        source,
    };
    let listener = TcpListener::bind(options.listen)
        .await
        .map_err(listen_error)?;
    let addr = listener.local_addr().map_err(listen_error)?;
    let scheme = if options.http { "http" } else { "https" };
    let base_url = format!("{scheme}://{addr}");
    let _ = emu.base_url.set(base_url.clone());
    emu.store.lock().unwrap().public_url = base_url.clone();
    let router = app(emu);

    let (tls, ca_file) = if options.http {
        (None, None)
    } else {
        let generated = generate_tls(&options.extra_names)?;
        let ca_path = options.ca_file.clone().unwrap_or_else(|| {
            std::env::temp_dir().join(format!("tfe-emulator-{}-ca.pem", std::process::id()))
        });
        write_ca(&ca_path, &generated.ca_pem)?;
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(generated.server_config));
        (Some(acceptor), Some(ca_path))
    };
    Ok(Bound {
        listener,
        router,
        tls,
        base_url,
        ca_file,
    })
}

/// Binds, prints the ready line, serves until `shutdown` resolves.
pub async fn serve(
    emu: Shared,
    options: ServeOptions,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    let bound = bind(emu, options).await?;
    if let Some(ca_path) = &bound.ca_file {
        eprintln!(
            "tfe-emulator: CA certificate written to {}",
            ca_path.display()
        );
    }
    // The listener is bound, so connections are accepted from here on.
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "tfe-emulator ready at {}", bound.base_url).map_err(Error::ReadyLine)?;
    stdout.flush().map_err(Error::ReadyLine)?;
    drop(stdout);
    bound.run(shutdown).await
}

impl Bound {
    /// Serves until `shutdown` resolves.
    pub async fn run(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<(), Error> {
        let Bound {
            listener,
            router,
            tls,
            ..
        } = self;
        match tls {
            None => axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(Error::Serve),
            Some(acceptor) => {
                tokio::pin!(shutdown);
                loop {
                    tokio::select! {
                        _ = &mut shutdown => return Ok(()),
                        accepted = listener.accept() => {
                            let Ok((tcp, peer)) = accepted else { continue };
                            let acceptor = acceptor.clone();
                            // The peer address, as axum's connect-info gives it over plain HTTP (the page
                            // needs it to tell loopback clients).
                            let service = TowerToHyperService::new(router.clone().map_request(
                                move |mut request: axum::http::Request<_>| {
                                    request.extensions_mut().insert(axum::extract::ConnectInfo(peer));
                                    request
                                },
                            ));
                            tokio::spawn(async move {
                                let Ok(stream) = acceptor.accept(tcp).await else { return };
                                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                                    .serve_connection(TokioIo::new(stream), service)
                                    .await;
                            });
                        }
                    }
                }
            }
        }
    }
}

fn write_ca(path: &Path, pem: &str) -> Result<(), Error> {
    std::fs::write(path, pem).map_err(|source| Error::CaFile {
        path: path.to_path_buf(),
        source,
    })
}

/// Installs SIGTERM and SIGINT handlers now (so a signal right after the ready line is not fatal) and
/// returns a future that resolves when either arrives. Call it inside the runtime.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
        let mut int = signal(SignalKind::interrupt()).expect("SIGINT handler");
        async move {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
