//! The client's rustls configuration: native roots (which honour SSL_CERT_FILE), an optional extra CA file,
//! or no verification at all when ssl_skip_verify is set.

use std::path::Path;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use super::error::TfeError;

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// Builds the TLS configuration handed to reqwest.
pub(crate) fn client_config(
    ssl_skip_verify: bool,
    extra_ca_file: Option<&Path>,
) -> Result<ClientConfig, TfeError> {
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| TfeError::Config(format!("TLS setup: {e}")))?;
    let mut config = if ssl_skip_verify {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate))
            .with_no_client_auth()
    } else {
        let mut roots = RootCertStore::empty();
        let native = rustls_native_certs::load_native_certs();
        for cert in native.certs {
            // A bad system certificate should not make every connection fail.
            let _ = roots.add(cert);
        }
        if let Some(path) = extra_ca_file {
            let pem = std::fs::read(path).map_err(|e| {
                TfeError::Config(format!("cannot read CA file {}: {e}", path.display()))
            })?;
            for cert in pem_certs::certificates(&pem) {
                let cert = cert
                    .map_err(|e| TfeError::Config(format!("bad PEM in {}: {e}", path.display())))?;
                roots.add(cert).map_err(|e| {
                    TfeError::Config(format!("bad certificate in {}: {e}", path.display()))
                })?;
            }
        }
        if roots.is_empty() {
            return Err(TfeError::Config(
                "no trusted CA certificates found (check SSL_CERT_FILE or the system store)".into(),
            ));
        }
        builder.with_root_certificates(roots).with_no_client_auth()
    };
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// ssl_skip_verify: accepts any server certificate, still checking handshake signatures.
#[derive(Debug)]
struct AcceptAnyCertificate;

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &provider().signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &provider().signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        provider()
            .signature_verification_algorithms
            .supported_schemes()
    }
}
