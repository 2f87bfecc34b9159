//! tfe-emulator: a local stand-in for the TFE API v2, with behaviour knobs, fault injection and an admin API.
//!
//! - [`store`]: in-memory records; [`run_machine`]: run states and queues; [`render`]: JSON:API output;
//!   [`logs`]: the plan and apply logs behind `log-read-url`.
//! - [`routes`]: the TFE API; [`http`]: auth, faults and the request log around it; [`admin`]: `/_emulator/`.
//! - [`state`]: the shared state every handler holds ([`Emulator`], [`Shared`]); [`knobs`], [`faults`],
//!   [`scenario`]: behaviour settings; [`server`]: listening, TLS and shutdown.
//! - [`ui`]: the web page at the base URL, where a person watches runs and confirms them.
//! - [`error`]: why an emulator could not start or serve.
//! - [`options`]: the settings (the binary's command line); [`spawn`]: an emulator inside the caller's process,
//!   as the provider's end-to-end tests start it; [`fuzzing`]: the scenario fuzz target's entry.

pub(crate) mod admin;
pub mod error;
pub(crate) mod faults;
pub mod fuzzing;
pub(crate) mod http;
pub mod knobs;
pub(crate) mod logs;
pub mod options;
pub(crate) mod render;
pub(crate) mod routes;
pub(crate) mod run_machine;
pub(crate) mod scenario;
pub mod server;
pub mod state;
pub(crate) mod store;
pub(crate) mod terraform_versions;
pub(crate) mod ui;

use std::path::PathBuf;

pub use error::Error;
pub use state::{Emulator, RateBudget, Shared};

/// An emulator serving inside this process, on the runtime [`spawn`] was called on. Dropping it stops
/// accepting connections.
pub struct RunningEmulator {
    /// `https://127.0.0.1:PORT` (or `http://…`).
    pub base_url: String,
    /// The CA certificate (PEM) to trust; `None` in plain HTTP mode.
    pub ca_file: Option<PathBuf>,
    /// The emulator's state, for in-process inspection.
    pub emulator: Shared,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<Result<(), Error>>>,
}

impl RunningEmulator {
    /// Stops accepting connections and waits for the server loop to end.
    pub async fn shutdown(mut self) -> Result<(), Error> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.task.take() {
            Some(task) => task.await?,
            None => Ok(()),
        }
    }
}

impl Drop for RunningEmulator {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Builds the emulator `options` describe, binds its listener (HTTPS with a fresh CA written to
/// `options.ca_file` unless `options.http`) and serves it on a task of the current runtime. Nothing is
/// printed: the caller reads [`RunningEmulator::base_url`]. Without `ca_file` the CA goes to a file named
/// for this process in the temp directory, so give each in-process emulator its own `ca_file`.
pub async fn spawn(options: options::Options) -> Result<RunningEmulator, Error> {
    let (emulator, serve_options) = options.build()?;
    let bound = server::bind(emulator.clone(), serve_options).await?;
    let base_url = bound.base_url.clone();
    let ca_file = bound.ca_file.clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(bound.run(async move {
        // A dropped sender stops the server too.
        let _ = stopped.await;
    }));
    Ok(RunningEmulator {
        base_url,
        ca_file,
        emulator,
        stop: Some(stop),
        task: Some(task),
    })
}
