//! go-plugin's handshake: the magic cookie check, protocol negotiation and the one stdout line.

use base64::Engine;

pub(crate) const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
pub(crate) const MAGIC_COOKIE_VALUE: &str =
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";
pub(crate) const CORE_PROTOCOL_VERSION: u32 = 1;
pub(crate) const PROTOCOL_VERSION: u32 = 6;

/// True when Terraform launched us (the cookie is only set by the host).
pub fn cookie_present(cookie: Option<&str>) -> bool {
    cookie == Some(MAGIC_COOKIE_VALUE)
}

/// The friendly explanation printed when someone runs the binary by hand.
pub fn not_launched_by_terraform_message(binary: &str) -> String {
    format!(
        "{binary} is a Terraform plugin: Terraform starts it when it needs it, so there is no need to \
         run it yourself.\nTo use it, reference the provider in a Terraform configuration and run \
         `terraform plan`. To debug it, run `{binary} --debug` and follow the instructions it prints."
    )
}

/// Whether the host offered protocol 6 in `PLUGIN_PROTOCOL_VERSIONS` (a comma list, any order).
pub fn host_offers_protocol_6(versions: Option<&str>) -> bool {
    versions.is_none_or(|v| {
        v.split(',')
            .any(|p| p.trim() == PROTOCOL_VERSION.to_string())
    })
}

/// `1|6|unix|<path>|grpc|<cert>`; the certificate is base64 (standard alphabet, no padding), or
/// empty without TLS.
pub fn handshake_line(network: &str, address: &str, server_cert_der: Option<&[u8]>) -> String {
    let cert = server_cert_der
        .map(|der| base64::engine::general_purpose::STANDARD_NO_PAD.encode(der))
        .unwrap_or_default();
    format!("{CORE_PROTOCOL_VERSION}|{PROTOCOL_VERSION}|{network}|{address}|grpc|{cert}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_has_six_fields_and_unpadded_standard_base64() {
        let der = [0xfb, 0xff, 0x01, 0x02]; // encodes with '+', '/' and would need padding
        let line = handshake_line("unix", "/tmp/plugin123", Some(&der));
        assert_eq!(line, "1|6|unix|/tmp/plugin123|grpc|+/8BAg");
        assert_eq!(line.split('|').count(), 6);
        assert!(!line.contains('='));
    }

    #[test]
    fn line_without_tls_ends_with_an_empty_certificate() {
        assert_eq!(
            handshake_line("unix", "/tmp/p", None),
            "1|6|unix|/tmp/p|grpc|"
        );
    }

    #[test]
    fn cookie_must_match_exactly() {
        assert!(cookie_present(Some(MAGIC_COOKIE_VALUE)));
        assert!(!cookie_present(Some("nope")));
        assert!(!cookie_present(None));
    }

    #[test]
    fn protocol_list_is_an_unordered_comma_list() {
        assert!(host_offers_protocol_6(Some("5,6")));
        assert!(host_offers_protocol_6(Some("6, 5")));
        assert!(!host_offers_protocol_6(Some("4,5")));
        assert!(host_offers_protocol_6(None));
    }
}
