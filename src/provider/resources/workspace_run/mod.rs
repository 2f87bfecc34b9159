//! `tfe_workspace_run`: queues a run in a workspace when created (`apply`), when its `triggers` change,
//! and/or when destroyed (`destroy`), and hands back what the run did; a drop-in for HashiCorp's resource
//! of that name. This folder, file by file, in the order
//! a create meets them:
//!
//! - `operations.rs`: the resource itself, [`WorkspaceRunResource`] and its `Resource` impl: create,
//!   delete, read and import; `start` is what create and delete share before a run is driven.
//! - `schema.rs`: the schema (HashiCorp's plus `timeouts`), the checks across attributes, the state upgrade.
//! - `model.rs`: the resource's values, typed (`WorkspaceRunModel`), unset ones taking the schema's
//!   defaults; the settings the lifecycle takes.
//! - `lifecycle.rs`: the engine: `drive` queues a run and sees it through. **The decision table is
//!   `lifecycle::decide`**: what each run status, right now, calls for.
//! - `tfe_runs.rs`: `TfeRuns`, the lifecycle's `RunApi` over the TFE client: lost-create lookup, the sweep
//!   of copies, what each API error means for waiting; where the run of an instance that goes stands.
//! - `poller.rs`: one poller per process, timing its reads by the workspace's history (or its siblings')
//!   and reading many runs with one request.
//! - `workspace_reads.rs`: the workspace reads of instances starting together, from their
//!   organization's workspace list.
//! - `ownership.rs`: `RunTag` and `Claims`, how this provider tells its own runs from everyone else's.
//! - `run_logs.rs`: the failed phase's log excerpt for a failure's diagnostic.
//! - `configuration.rs`: before queuing, waiting for the workspace's configuration still on its way.
//! - `run_results.rs`: what the runs that end together did, from their organization's workspace list.
//! - `report.rs`: what a run did, handed back in the computed attributes (status, URL, plan counts, the
//!   workspace's outputs once processed), after the run and on refresh.
//! - `rerun.rs`: when an update queues a new apply run in place (changed `triggers`, an added apply block).
//! - `plan_warnings.rs`: the plan-time warnings of the runs applying will queue (a destroy run, a re-run).
//! - `messages.rs`: every text a user reads while the resource works: diagnostics, and what is recorded
//!   on the runs.

mod configuration;
mod lifecycle;
mod messages;
mod model;
mod operations;
mod ownership;
mod plan_warnings;
mod poller;
mod report;
mod rerun;
mod run_logs;
mod run_results;
mod schema;
mod tfe_runs;
mod workspace_reads;

pub(crate) use operations::WorkspaceRunResource;
pub use schema::schema;
