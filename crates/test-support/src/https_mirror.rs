//! A small HTTPS server on loopback speaking Terraform's provider network mirror protocol
//! (`<base>/<hostname>/<namespace>/<type>/index.json`, `.../<version>.json`, then the archive the
//! version document points at), serving release zips from a directory. Its CA goes to a PEM file
//! that the caller adds to `SSL_CERT_FILE`; every path asked for is recorded.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::json;

/// A running mirror; it serves until the process ends (each test process is short-lived).
pub struct NetworkMirror {
    /// The `url` of a `network_mirror` block.
    pub url: String,
    /// Its CA certificate (PEM), to add to `SSL_CERT_FILE`.
    pub ca_pem: String,
    requests: Arc<Mutex<Vec<String>>>,
}

impl NetworkMirror {
    /// Serves `zip` (a `terraform-provider-<type>_<version>_<os>_<arch>.zip`) as the only version of
    /// each `registry.terraform.io/<namespace>/<type>` in `addresses`.
    pub fn serve(zip: &Path, version: &str, platform: &str, addresses: &[&str]) -> Self {
        Self::serve_platforms(&[(zip, platform)], version, addresses)
    }

    /// Serves one version with a zip per platform (`(zip, "<os>_<arch>")`) for each address.
    pub fn serve_platforms(zips: &[(&Path, &str)], version: &str, addresses: &[&str]) -> Self {
        let mut archives = serde_json::Map::new();
        let mut files: HashMap<String, Vec<u8>> = HashMap::new();
        for address in addresses {
            let base = format!("/providers/registry.terraform.io/{address}");
            for (zip, platform) in zips {
                let bytes =
                    std::fs::read(zip).unwrap_or_else(|e| panic!("read {}: {e}", zip.display()));
                let zip_name = zip.file_name().unwrap().to_string_lossy().into_owned();
                archives.insert(
                    platform.to_string(),
                    json!({"url": zip_name, "hashes": [format!("zh:{}", sha256_hex(zip))]}),
                );
                files.insert(format!("{base}/{zip_name}"), bytes);
            }
            files.insert(
                format!("{base}/index.json"),
                json!({"versions": {version: {}}}).to_string().into_bytes(),
            );
            files.insert(
                format!("{base}/{version}.json"),
                json!({"archives": archives}).to_string().into_bytes(),
            );
        }
        let (ca_pem, config) = tls_config();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the mirror");
        let url = format!(
            "https://127.0.0.1:{}/providers/",
            listener.local_addr().unwrap().port()
        );
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (files, log, config) = (Arc::new(files), requests.clone(), Arc::new(config));
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (files, log, config) = (files.clone(), log.clone(), config.clone());
                std::thread::spawn(move || {
                    let Ok(conn) = rustls::ServerConnection::new(config) else {
                        return;
                    };
                    let mut tls = rustls::StreamOwned::new(conn, stream);
                    let mut head = Vec::new();
                    let mut byte = [0u8; 1];
                    while !head.ends_with(b"\r\n\r\n") && head.len() < 16 * 1024 {
                        match tls.read(&mut byte) {
                            Ok(1) => head.push(byte[0]),
                            _ => return,
                        }
                    }
                    let head = String::from_utf8_lossy(&head).into_owned();
                    let path = head.split_whitespace().nth(1).unwrap_or("").to_string();
                    log.lock().unwrap().push(path.clone());
                    let (status, body) = match files.get(&path) {
                        Some(body) => ("200 OK", body.clone()),
                        None => ("404 Not Found", b"not found".to_vec()),
                    };
                    let content_type = if path.ends_with(".json") {
                        "application/json"
                    } else {
                        "application/zip"
                    };
                    let _ = write!(
                        tls,
                        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nContent-Type: {content_type}\r\nConnection: close\r\n\r\n",
                        body.len()
                    );
                    let _ = tls.write_all(&body);
                    let _ = tls.flush();
                    tls.conn.send_close_notify();
                    let _ = tls.flush();
                });
            }
        });
        NetworkMirror {
            url,
            ca_pem,
            requests,
        }
    }

    /// The paths asked for so far, in order.
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

/// sha256 of a file, in hex, from the `sha256sum` program.
pub fn sha256_hex(file: &Path) -> String {
    let out = std::process::Command::new("sha256sum")
        .arg(file)
        .output()
        .expect("run sha256sum");
    assert!(out.status.success(), "sha256sum {} failed", file.display());
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .expect("a hash")
        .to_string()
}

/// A CA and a leaf for 127.0.0.1, as a server configuration speaking HTTP/1.1 only.
fn tls_config() -> (String, rustls::ServerConfig) {
    let ca_key = KeyPair::generate().expect("CA key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "network mirror test CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca_params.self_signed(&ca_key).expect("CA certificate");
    let issuer = Issuer::new(ca_params, ca_key);
    let leaf_key = KeyPair::generate().expect("leaf key");
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
        .expect("leaf params")
        .signed_by(&leaf_key, &issuer)
        .expect("leaf certificate");
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    let chain: Vec<CertificateDer<'static>> = vec![leaf.der().clone(), ca_cert.der().clone()];
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .expect("TLS configuration");
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    (ca_cert.pem(), config)
}

/// Writes `pems` into one bundle file under `dir` (for `SSL_CERT_FILE`).
pub fn ca_bundle(dir: &Path, pems: &[&str]) -> PathBuf {
    let path = dir.join("ca-bundle.pem");
    std::fs::write(&path, pems.join("\n")).expect("write the CA bundle");
    path
}
