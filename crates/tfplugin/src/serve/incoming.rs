//! Accepting connections for the gRPC server: plain, or through the TLS handshake, which runs off
//! the accept loop so that one slow or hostile client blocks no one.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tonic::transport::server::Connected;

use super::network::{Io, Listener};

/// A client that has not finished its TLS handshake by then is dropped.
const TLS_HANDSHAKE_LIMIT: Duration = Duration::from_secs(10);

/// Accepts on `listener` and sends each ready connection on `connections`, until the receiver is
/// gone. Owns the listener, so a unix socket's file goes when the loop ends.
pub(super) async fn accept_loop(
    listener: Listener,
    acceptor: Option<TlsAcceptor>,
    connections: mpsc::Sender<Result<PluginConn, std::io::Error>>,
) {
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(stream) => stream,
                Err(e) => {
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
            _ = connections.closed() => return,
        };
        match &acceptor {
            None => {
                if connections.send(Ok(PluginConn(stream))).await.is_err() {
                    return;
                }
            }
            Some(acceptor) => {
                let acceptor = acceptor.clone();
                let connections = connections.clone();
                tokio::spawn(async move {
                    match tokio::time::timeout(TLS_HANDSHAKE_LIMIT, acceptor.accept(stream)).await {
                        Ok(Ok(tls)) => {
                            let _ = connections.send(Ok(PluginConn(Box::new(tls)))).await;
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

/// A client connection, with or without TLS, over either network.
pub(super) struct PluginConn(Box<dyn Io>);

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
        Pin::new(&mut self.get_mut().0).poll_read(cx, buf)
    }
}

impl AsyncWrite for PluginConn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().0).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().0).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.0.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_shutdown(cx)
    }
}
