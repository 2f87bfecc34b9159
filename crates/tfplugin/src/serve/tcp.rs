//! The TCP listener go-plugin serves on where there are no unix sockets (Windows), or when
//! `TFPLUGIN_NETWORK=tcp`: 127.0.0.1 only, on a port within `PLUGIN_MIN_PORT`..=`PLUGIN_MAX_PORT`
//! (Terraform sets 10000 and 25000; either unset counts as 0, as in go-plugin, and 0..=0 lets the
//! system pick). Only the loopback interface, and Terraform always asks for mutual TLS.

use std::net::{Ipv4Addr, SocketAddr};
use std::ops::RangeInclusive;

use super::ServeError;

const MIN_PORT: &str = "PLUGIN_MIN_PORT";
const MAX_PORT: &str = "PLUGIN_MAX_PORT";

/// Listens on the first free port of the range, trying from a random place in it (go-plugin tries
/// from the bottom; starting anywhere spares providers launched together from racing for the same
/// ports) and wrapping around.
pub(super) fn bind_loopback() -> Result<tokio::net::TcpListener, ServeError> {
    bind_within(port_range(
        std::env::var(MIN_PORT).ok().as_deref(),
        std::env::var(MAX_PORT).ok().as_deref(),
    )?)
}

fn bind_within(ports: RangeInclusive<u16>) -> Result<tokio::net::TcpListener, ServeError> {
    let (low, high) = (u32::from(*ports.start()), u32::from(*ports.end()));
    let count = high - low + 1;
    let start = rand::random::<u32>() % count;
    let mut last_error = None;
    for step in 0..count {
        let port = (low + (start + step) % count) as u16;
        match std::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port))) {
            Ok(listener) => {
                let listener = listener
                    .set_nonblocking(true)
                    .and_then(|_| tokio::net::TcpListener::from_std(listener))
                    .map_err(|source| ServeError::Listen {
                        address: format!("127.0.0.1:{port}"),
                        source,
                    })?;
                return Ok(listener);
            }
            Err(e) => last_error = Some(e),
        }
    }
    Err(ServeError::Listen {
        address: format!("127.0.0.1, every port from {low} to {high}"),
        source: last_error.unwrap_or_else(|| std::io::Error::other("no port tried")),
    })
}

/// The ports allowed by `PLUGIN_MIN_PORT` and `PLUGIN_MAX_PORT`.
fn port_range(min: Option<&str>, max: Option<&str>) -> Result<RangeInclusive<u16>, ServeError> {
    let port = |name: &'static str, value: Option<&str>| match value.map(str::trim) {
        None | Some("") => Ok(0),
        Some(text) => text.parse::<u16>().map_err(|_| ServeError::Setting {
            name,
            value: text.to_string(),
            problem: "is not a TCP port: a whole number from 0 to 65535".into(),
        }),
    };
    let (low, high) = (port(MIN_PORT, min)?, port(MAX_PORT, max)?);
    if low > high {
        return Err(ServeError::Setting {
            name: MIN_PORT,
            value: low.to_string(),
            problem: format!(
                "is greater than {MAX_PORT}={high}: the lowest port must not exceed the highest"
            ),
        });
    }
    Ok(low..=high)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_means_zero_as_in_go_plugin() {
        assert_eq!(port_range(None, None).unwrap(), 0..=0);
        assert_eq!(
            port_range(Some("10000"), Some("25000")).unwrap(),
            10000..=25000
        );
    }

    #[test]
    fn bad_values_name_the_variable_and_what_is_allowed() {
        let message = port_range(Some("ten"), Some("25000"))
            .unwrap_err()
            .to_string();
        assert_eq!(
            message,
            "PLUGIN_MIN_PORT=\"ten\" is not a TCP port: a whole number from 0 to 65535"
        );
        let message = port_range(Some("10000"), Some("70000"))
            .unwrap_err()
            .to_string();
        assert!(
            message.starts_with("PLUGIN_MAX_PORT=\"70000\""),
            "{message}"
        );
        let message = port_range(Some("2000"), Some("1000"))
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("greater than PLUGIN_MAX_PORT=1000"),
            "{message}"
        );
    }

    #[tokio::test]
    async fn a_taken_port_is_skipped_and_a_full_range_is_an_error() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = taken.local_addr().unwrap().port();
        let message = bind_within(port..=port).unwrap_err().to_string();
        assert!(
            message.starts_with(&format!(
                "could not listen on 127.0.0.1, every port from {port} to {port}:"
            )),
            "{message}"
        );
        let next = port.checked_add(1).expect("a port below 65535");
        if std::net::TcpListener::bind(("127.0.0.1", next)).is_ok() {
            // Free a moment ago; the range of the taken port and it must land on it.
            let listener = bind_within(port..=next).unwrap();
            assert_eq!(
                listener.local_addr().unwrap(),
                SocketAddr::from((Ipv4Addr::LOCALHOST, next))
            );
        }
        let any = bind_within(0..=0).unwrap();
        assert!(any.local_addr().unwrap().ip().is_loopback());
    }
}
