//! Which network the plugin serves on, and the listener for it. go-plugin serves on a unix socket
//! everywhere but Windows, where it serves TCP on 127.0.0.1; Terraform accepts either on every OS.
//! [`NETWORK_VARIABLE`] makes a unix build serve TCP too (how the TCP path is tested on Linux).

use tokio::io::{AsyncRead, AsyncWrite};

use super::ServeError;

/// The environment variable that picks the network: `unix` (the default where unix sockets exist)
/// or `tcp` (127.0.0.1, a port within `PLUGIN_MIN_PORT`..=`PLUGIN_MAX_PORT`; the only choice on Windows).
pub const NETWORK_VARIABLE: &str = "TFPLUGIN_NETWORK";

/// A connection's byte stream, whatever the network under it.
pub(super) trait Io: AsyncRead + AsyncWrite + Unpin + Send + 'static {}

impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> Io for T {}

/// The network to serve on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Network {
    #[cfg(unix)]
    Unix,
    Tcp,
}

impl Network {
    /// From [`NETWORK_VARIABLE`]: unset or empty means the platform's default.
    pub(super) fn from_env() -> Result<Self, ServeError> {
        Self::parse(std::env::var(NETWORK_VARIABLE).ok().as_deref())
    }

    fn parse(value: Option<&str>) -> Result<Self, ServeError> {
        match value.map(str::trim) {
            None | Some("") => Ok(Self::platform_default()),
            #[cfg(unix)]
            Some("unix") => Ok(Network::Unix),
            Some("tcp") => Ok(Network::Tcp),
            Some(other) => Err(ServeError::Setting {
                name: NETWORK_VARIABLE,
                value: other.to_string(),
                problem: if cfg!(unix) {
                    "is not a network this plugin serves on: use \"unix\" (the default) or \"tcp\""
                        .into()
                } else {
                    "is not a network this plugin serves on here: unix sockets are not available on this \
                     platform, so use \"tcp\" (the default) or leave it unset"
                        .into()
                },
            }),
        }
    }

    #[cfg(unix)]
    fn platform_default() -> Self {
        Network::Unix
    }

    #[cfg(not(unix))]
    fn platform_default() -> Self {
        Network::Tcp
    }
}

/// A bound listener. A unix socket's file is removed when this is dropped.
pub(super) enum Listener {
    #[cfg(unix)]
    Unix(super::unix::UnixSocket),
    Tcp(tokio::net::TcpListener),
}

impl Listener {
    /// Binds as go-plugin does for `network`, from its environment variables.
    pub(super) fn bind(network: Network) -> Result<Self, ServeError> {
        match network {
            #[cfg(unix)]
            Network::Unix => super::unix::UnixSocket::bind().map(Listener::Unix),
            Network::Tcp => super::tcp::bind_loopback().map(Listener::Tcp),
        }
    }

    /// The handshake line's network field.
    pub(super) fn network(&self) -> &'static str {
        match self {
            #[cfg(unix)]
            Listener::Unix(_) => "unix",
            Listener::Tcp(_) => "tcp",
        }
    }

    /// The handshake line's address field: the socket's path, or `127.0.0.1:<port>`.
    pub(super) fn address(&self) -> String {
        match self {
            #[cfg(unix)]
            Listener::Unix(socket) => socket.path().to_string_lossy().into_owned(),
            Listener::Tcp(listener) => listener
                .local_addr()
                .map(|a| a.to_string())
                .unwrap_or_default(),
        }
    }

    /// The next connection.
    pub(super) async fn accept(&self) -> std::io::Result<Box<dyn Io>> {
        match self {
            #[cfg(unix)]
            Listener::Unix(socket) => Ok(Box::new(socket.listener().accept().await?.0)),
            Listener::Tcp(listener) => {
                let (stream, _) = listener.accept().await?;
                // gRPC's small frames both ways: do not let Nagle hold them back.
                stream.set_nodelay(true)?;
                Ok(Box::new(stream))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_or_empty_is_the_platform_default() {
        let default = if cfg!(unix) { "unix" } else { "tcp" };
        for value in [None, Some(""), Some("  ")] {
            let network = Network::parse(value).unwrap();
            assert_eq!(format!("{network:?}").to_lowercase(), default);
        }
    }

    #[test]
    fn tcp_is_available_everywhere() {
        assert_eq!(Network::parse(Some("tcp")).unwrap(), Network::Tcp);
    }

    #[test]
    fn an_unknown_network_is_named_with_the_allowed_ones() {
        let message = Network::parse(Some("udp")).unwrap_err().to_string();
        assert!(
            message.starts_with("TFPLUGIN_NETWORK=\"udp\" is not a network"),
            "{message}"
        );
        assert!(message.contains("\"tcp\""), "{message}");
    }
}
