//! What the operating system may send the plugin, and which of it stops serving.
//!
//! Terraform stops a provider itself (StopProvider, then the controller's Shutdown, then a kill 2 s
//! later), on every OS. A person's Ctrl-C reaches every process on the terminal or console, the
//! provider too: as go-plugin does, the provider ignores it and lets Terraform decide (only debug
//! mode, run by a person, stops on it). What ends a session (SIGTERM from a service manager or
//! `kill`; on Windows the console closing, the user logging off, the system shutting down) stops
//! cleanly: the socket file is removed and the exit status is 0.
//!
//! Standard input is left alone, as go-plugin leaves it: Terraform hands the provider its own
//! stdin, which may be a terminal or already at its end (`terraform apply < /dev/null`, CI), so
//! its closing says nothing about Terraform having gone.

/// The next arrival on an optional listener (any of tokio's, all have `recv`), or never when it
/// could not be installed (no console, say) or has closed.
macro_rules! arrival {
    ($listener:expr) => {
        async {
            if let Some(listener) = $listener.as_mut() {
                if listener.recv().await.is_some() {
                    return;
                }
            }
            std::future::pending::<()>().await
        }
    };
}

/// The listeners, installed before the handshake line so that nothing finds the default action
/// (which on Ctrl-C would end the process while Terraform still needs it).
pub(super) struct StopRequests {
    #[cfg(unix)]
    interrupt: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    terminate: Option<tokio::signal::unix::Signal>,
    #[cfg(windows)]
    console: windows::ConsoleEvents,
}

impl StopRequests {
    pub(super) fn install() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            StopRequests {
                interrupt: signal(SignalKind::interrupt()).ok(),
                terminate: signal(SignalKind::terminate()).ok(),
            }
        }
        #[cfg(windows)]
        {
            StopRequests {
                console: windows::ConsoleEvents::install(),
            }
        }
        #[cfg(not(any(unix, windows)))]
        {
            StopRequests {}
        }
    }

    /// Resolves when the process should stop serving: on a session's end, or on Ctrl-C in debug mode.
    pub(super) async fn requested(&mut self, debug: bool) {
        loop {
            match self.next().await {
                Event::Interrupt if debug => return,
                Event::Interrupt => {
                    tracing::debug!("ignoring Ctrl-C; Terraform stops the provider itself")
                }
                Event::Terminate => return,
            }
        }
    }

    #[cfg(unix)]
    async fn next(&mut self) -> Event {
        tokio::select! {
            _ = arrival!(self.interrupt) => Event::Interrupt,
            _ = arrival!(self.terminate) => Event::Terminate,
        }
    }

    #[cfg(windows)]
    async fn next(&mut self) -> Event {
        self.console.next().await
    }

    #[cfg(not(any(unix, windows)))]
    async fn next(&mut self) -> Event {
        std::future::pending().await
    }
}

/// What arrived, in the terms of this module.
enum Event {
    /// Ctrl-C (SIGINT; on Windows CTRL_C_EVENT or CTRL_BREAK_EVENT).
    Interrupt,
    /// The session ends (SIGTERM; on Windows the console closes, logoff or system shutdown).
    Terminate,
}

#[cfg(windows)]
mod windows {
    use tokio::signal::windows::{
        CtrlBreak, CtrlC, CtrlClose, CtrlLogoff, CtrlShutdown, ctrl_break, ctrl_c, ctrl_close,
        ctrl_logoff, ctrl_shutdown,
    };

    use super::Event;

    /// Console control events. While a listener for an event exists, tokio's handler reports it
    /// handled, so the default (ending the process) does not run; for close, logoff and shutdown
    /// it then holds the handler until the process exits, which gives the clean stop its time.
    pub(super) struct ConsoleEvents {
        ctrl_c: Option<CtrlC>,
        ctrl_break: Option<CtrlBreak>,
        close: Option<CtrlClose>,
        logoff: Option<CtrlLogoff>,
        shutdown: Option<CtrlShutdown>,
    }

    impl ConsoleEvents {
        pub(super) fn install() -> Self {
            ConsoleEvents {
                ctrl_c: ctrl_c().ok(),
                ctrl_break: ctrl_break().ok(),
                close: ctrl_close().ok(),
                logoff: ctrl_logoff().ok(),
                shutdown: ctrl_shutdown().ok(),
            }
        }

        pub(super) async fn next(&mut self) -> Event {
            tokio::select! {
                _ = arrival!(self.ctrl_c) => Event::Interrupt,
                _ = arrival!(self.ctrl_break) => Event::Interrupt,
                _ = arrival!(self.close) => Event::Terminate,
                _ = arrival!(self.logoff) => Event::Terminate,
                _ = arrival!(self.shutdown) => Event::Terminate,
            }
        }
    }
}
