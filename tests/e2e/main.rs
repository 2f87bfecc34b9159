//! The provider's end-to-end tests, as one test binary (the way cargo's `tests/testsuite/` and ripgrep's
//! `tests/` are laid out), so that it is compiled and linked once: real Terraform CLIs (the one on PATH and
//! `.tools/bin/terraform-1.0.3`) load the provider this run built and drive it against tfe-emulator. The
//! helpers are the `test-support` crate's (`crates/test-support`). `cargo test --test e2e workspace_run::`
//! runs one module; `cargo test --test e2e -- --list` names them all.
//!
//! A new end-to-end test goes here: a file in `tests/e2e/` and a `mod` line below, with a comment saying
//! what it proves. A test that changes process-wide state (the environment, the current directory, a
//! signal handler) or that needs the machine to itself for its timing is a file of its own at `tests/`
//! instead, as `e2e_load.rs` and `e2e_network_faults.rs` are (`plugin_handshake.rs` bounds process exit
//! times and `make stress` runs it alone; `fuzz_corpora.rs` is not end to end). Tests of the client against
//! the emulator go to `crates/tfe-client/tests/`, of the emulator itself to `crates/tfe-emulator/tests/`.

// The registry pages in docs/ match the served schemas; the examples validate with both CLIs.
mod docs_pages;
// An errored run's diagnostic carries the failed phase's log and the run's URL.
mod failure_logs;
// The tfe_outputs data source: typed and sensitive outputs, a state being processed, its fault-matrix cells.
mod outputs;
// Validate and plan offline through dev_overrides, without `terraform init`.
mod plan;
// The plan warns before a removal or replacement queues a destroy run (hashicorp/tfe#1535).
mod plan_warnings;
// One poller per apply, by request counts: many runs per request, polls timed by the workspace's history.
mod poller;
// `make release` signed with a throwaway key, installed through a network mirror and -plugin-dir.
mod release;
// What tfe_workspace_run must never do under faults: unarmed destroys, two runs for one create, panics.
mod reliability;
// The tfe_workspace_run page's first example applied and destroyed; import, safe delete.
mod seed_example;
// Installed as `tferun/tfe` beside a Go provider from a filesystem mirror; migrating from hashicorp/tfe.
mod side_by_side;
// The provider serving TCP (as on Windows, TFPLUGIN_NETWORK=tcp): both CLIs, mutual TLS, Ctrl-C.
mod tcp_serving;
// The tfe_workspace_run page's three use cases (examples/use-cases/): dependent workspaces reading each
// other's outputs (tfe_outputs, terraform_remote_state), queue_all_runs racing its tfe_variables, safe delete.
mod use_cases;
// tfe_variable: create, drift, renames, import, refusals, and its cells of the fault matrix.
mod variable;
// A hostname that refuses connections fails the apply within seconds, naming the host and what to check.
mod unreachable_host;
// A manual confirmation given on the emulator's web page in headless Chromium.
mod web_page;
// Every path of tfe_workspace_run with both CLIs: confirm, retry, timeouts, signals, adoption, destroy.
mod workspace_run;
// The request budget of one apply: one request per poll and six more.
mod workspace_run_budget;
// What a run did, handed back: status, URL, plan counts, the workspace's outputs read by a dependent.
mod workspace_run_outputs;
// Run options on the wire (variables, targets, replacements, refresh-only, empty applies), their refusals,
// and the wait for a configuration still on its way.
mod workspace_run_options;
// Re-running in place: triggers, an added apply block, a re-run that fails; no destroy run.
mod workspace_run_rerun;
