//! Why an emulator could not start, or did not stop cleanly: the one error type of [`crate::spawn`],
//! [`crate::RunningEmulator::shutdown`], [`crate::options::Options`] and [`crate::server`], so that a caller can
//! tell a bad setting from a port in use without reading a sentence. Every message says what failed and where.

use std::net::SocketAddr;
use std::path::PathBuf;

/// An emulator that could not start or serve.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A setting (command-line flag or its environment variable) is missing or invalid; the text names it.
    #[error("{0}")]
    Settings(String),
    /// The scenario file cannot be read, does not parse, or cannot be applied; the text names the file or the
    /// entry.
    #[error("{0}")]
    Scenario(String),
    /// The listener could not be bound (address in use, no permission).
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address asked for.
        addr: SocketAddr,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The CA or the server certificate could not be made.
    #[error("TLS setup failed: {0}")]
    Tls(String),
    /// The CA certificate could not be written where it was asked to go.
    #[error("cannot write the CA certificate to {}: {source}", path.display())]
    CaFile {
        /// Where it was to be written.
        path: PathBuf,
        /// What the file system said.
        source: std::io::Error,
    },
    /// The ready line could not be printed on stdout.
    #[error("cannot print the ready line: {0}")]
    ReadyLine(std::io::Error),
    /// The server stopped with an I/O error while serving.
    #[error("serving failed: {0}")]
    Serve(std::io::Error),
    /// The task serving an in-process emulator panicked or was aborted.
    #[error("the emulator's server task ended abnormally: {0}")]
    Task(#[from] tokio::task::JoinError),
}
