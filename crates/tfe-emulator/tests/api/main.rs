//! The emulator's API driven through this project's client, as one test binary (`cargo test -p tfe-emulator
//! --test api`); the emulator runs in this process. A new test of what the API answers goes into one of
//! these modules, or a new one with its `mod` line here.

// Every path of the run state machine and the queue rules.
mod runs;
// The routes around and beside runs: logs, the web page and its actions, organizations, entitlements,
// workspace settings, OAuth clients and tokens, error documents.
mod routes;
// What a workspace holds beyond its runs: state versions and outputs (and Terraform's remote state reading
// them), variables, run options on the wire, late configurations, unserved requests in the log.
mod workspace_data;
// Every answer against the shapes the public API reference documents (tests/reference/, derived by
// scripts/reference_shapes.py), and every link in them followed.
mod reference_shapes;
// What the keys reference_shapes checks say: performance figures, setting overwrites, permissions, list links.
mod derived_fields;
// The raw-HTTP emulator and requests the two above use.
mod plain_api;
