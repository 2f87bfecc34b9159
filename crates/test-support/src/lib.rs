//! What the tests of every crate of this workspace share (never published, as cargo's own
//! `cargo-test-support`): the provider's end-to-end tests, the client's tests against the emulator and the
//! emulator's own tests all take their helpers from here.
//!
//! - [`emulator`]: `TestEmulator`, a tfe-emulator for one test (in this process, or the program), its admin
//!   API (seed, knobs, faults, the run list, the request log).
//! - [`terraform`]: the Terraform CLIs (`all_clis()`: the one on PATH and 1.0.3), the one
//!   [`command`](terraform::command) that starts them against the built provider, `APPLY`/`DESTROY`.
//! - [`session`]: one CLI against one emulator in a working directory, for the `tfe_workspace_run` tests:
//!   spawning and signalling Terraform, the state, acting as a person through the API.
//! - [`runs`]: Terraform within a time bound, the instances of a state file and what is wrong with them,
//!   for the load and network-fault tests.
//! - [`api`]: waiting for a run through this project's client, run creates, knobs.
//! - [`mirror`], [`https_mirror`]: provider installation from a filesystem or network mirror.
//! - [`netns`]: a network namespace whose link a test slows down or breaks (root only).
//!
//! Where a new test goes: an end-to-end test of the provider is a file of `tests/e2e/` with a `mod` line in
//! `tests/e2e/main.rs` (one binary, linked once), unless it changes process-wide state or needs the machine
//! to itself for its timing: then it is a file of its own at `tests/`. A test of the client against the
//! emulator goes to `crates/tfe-client/tests/`, of the emulator's API to `crates/tfe-emulator/tests/api/`.

pub mod api;
pub mod emulator;
pub mod https_mirror;
pub mod mirror;
pub mod netns;
pub mod runs;
pub mod session;
pub mod terraform;
