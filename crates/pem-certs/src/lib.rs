//! PEM certificates, read with rustls-pki-types' parser (`rustls::pki_types::pem`), shared by the plugin layer
//! (`PLUGIN_CLIENT_CERT`) and the TFE client (an extra CA file). It replaces the unmaintained `rustls-pemfile`
//! (RUSTSEC-2025-0134, banned in `deny.toml`) and words its errors as `rustls-pemfile` 2.2 did, so messages stay
//! the same.

use std::fmt;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::{self, PemObject};

/// A PEM syntax or base64 error, displayed as `rustls-pemfile` displayed it.
#[derive(Debug)]
pub struct PemError(pem::Error);

impl fmt::Display for PemError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            pem::Error::MissingSectionEnd { end_marker } => write!(
                f,
                "section end {:?} missing",
                String::from_utf8_lossy(end_marker)
            ),
            pem::Error::IllegalSectionStart { line } => write!(
                f,
                "illegal section start: {:?}",
                String::from_utf8_lossy(line)
            ),
            pem::Error::Base64Decode(e) => f.write_str(e),
            // rustls-pemfile showed any other parser error by its Debug form.
            other => write!(f, "{other:?}"),
        }
    }
}

impl std::error::Error for PemError {}

/// Every certificate (`CERTIFICATE` section) in `pem`, in order; other sections are skipped, and a malformed
/// section yields an error (after which the iterator ends).
pub fn certificates(
    pem: &[u8],
) -> impl Iterator<Item = Result<CertificateDer<'static>, PemError>> + '_ {
    CertificateDer::pem_slice_iter(pem).map(|r| r.map_err(PemError))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CERT: &str = "-----BEGIN CERTIFICATE-----\nAQID\n-----END CERTIFICATE-----\n";

    #[test]
    fn reads_certificates_and_skips_other_sections() {
        let text = format!(
            "junk before\n-----BEGIN PRIVATE KEY-----\nBAUG\n-----END PRIVATE KEY-----\n{CERT}{}",
            CERT.replace("AQID", "BwgJ")
        );
        let certs: Vec<_> = certificates(text.as_bytes())
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(certs.len(), 2);
        assert_eq!(certs[0].as_ref(), &[1, 2, 3]);
        assert_eq!(certs[1].as_ref(), &[7, 8, 9]);
        assert_eq!(certificates(b"no pem here").count(), 0);
    }

    #[test]
    fn errors_are_worded_as_rustls_pemfile_worded_them() {
        // The messages rustls-pemfile 2.2.0's `certs` gave for the same inputs.
        let cases = [
            (
                "-----BEGIN CERTIFICATE-----\nAQID\n",
                r#"section end "CERTIFICATE" missing"#,
            ),
            (
                "-----BEGIN CERTIFICATE-----\nA*ID\n-----END CERTIFICATE-----\n",
                "InvalidCharacter(42)",
            ),
        ];
        for (input, expected) in cases {
            let e = certificates(input.as_bytes()).next().unwrap().unwrap_err();
            assert_eq!(e.to_string(), expected, "{input:?}");
        }
    }
}
