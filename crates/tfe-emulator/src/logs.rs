//! Run logs: what a plan's or an apply's log holds at this moment, written the way Terraform prints a run
//! of that shape (resources added, changed and destroyed, the outputs, an `Error:` block when the phase
//! errored), framed like archivist's logs: an STX byte first, an ETX byte once the phase is over, so that
//! go-tfe's log reader knows when to stop.
//!
//! The text only depends on the run, so every read of the same state gives the same bytes and a reader can
//! tail a log with `offset`/`limit`. The knobs `plan_log_template` / `apply_log_template` replace the
//! generated text (the STX/ETX framing stays); they may use these placeholders:
//!
//! | placeholder | value |
//! |---|---|
//! | `{run_id}`, `{workspace}`, `{organization}` | the run's id, its workspace's name, its organization |
//! | `{terraform_version}` | the workspace's `terraform-version` |
//! | `{additions}`, `{changes}`, `{destructions}` | the phase's resource counts |
//! | `{status}` | the phase's status (`running`, `finished`, `errored`, `canceled`) |
//! | `{error}` | the `Error:` block when the phase errored, else empty |
//! | `{outputs}` | the `Outputs:` section of the `outputs` knob (apply) or its `Changes to Outputs:` (plan) |
//!
//! `error_message` sets the summary line of the `Error:` block. A plan Terraform itself would refuse (a required
//! variable without a value, a configuration that has not arrived: [`crate::store::PlanFailure`]) logs
//! Terraform's own error for it instead. Sensitive outputs show as `<sensitive>`, as Terraform prints them.

use serde_json::Value;
use tfe_client::models::PhaseStatus;

use crate::knobs::Knobs;
use crate::store::{Phase, PhaseKind, PlanFailure, Run, Store};

/// Start of text: the first byte of every log that has begun.
pub(crate) const STX: u8 = 0x02;
/// End of text: the last byte of a log whose phase is over.
pub(crate) const ETX: u8 = 0x03;

/// How far the phase has got, as far as its log is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Progress {
    /// Not started (pending, queued) or never will (unreachable): an empty log.
    NotStarted,
    Running,
    Finished,
    Errored,
    Canceled,
}

fn progress(phase: &Phase) -> Progress {
    match phase.status {
        PhaseStatus::Running => Progress::Running,
        PhaseStatus::Finished => Progress::Finished,
        PhaseStatus::Errored => Progress::Errored,
        PhaseStatus::Canceled => Progress::Canceled,
        _ => Progress::NotStarted,
    }
}

/// The log of `kind` of `run` as archivist would serve it now (STX, text, and ETX once the phase is over).
pub(crate) fn log_bytes(store: &Store, run: &Run, kind: PhaseKind) -> Vec<u8> {
    let phase = match kind {
        PhaseKind::Plan => &run.plan,
        PhaseKind::Apply => &run.apply,
    };
    let progress = progress(phase);
    if progress == Progress::NotStarted {
        return Vec::new();
    }
    let knobs = store.effective_knobs(&run.workspace_id);
    let ws = store.workspaces.get(&run.workspace_id);
    let context = Context {
        run,
        phase,
        kind,
        progress,
        knobs: &knobs,
        workspace: ws.map_or("", |w| w.name.as_str()),
        terraform_version: ws.map_or("1.9.8", |w| w.terraform_version.as_str()),
    };
    let template = match kind {
        PhaseKind::Plan => knobs.plan_log_template.as_deref(),
        PhaseKind::Apply => knobs.apply_log_template.as_deref(),
    };
    let text = match template {
        Some(t) => context.fill(t),
        None => context.generated(),
    };
    let mut bytes = Vec::with_capacity(text.len() + 2);
    bytes.push(STX);
    bytes.extend_from_slice(text.as_bytes());
    if progress != Progress::Running {
        bytes.push(ETX);
    }
    bytes
}

/// The `offset`/`limit` window of a log, as archivist answers a tailing reader: bytes from `offset` (past
/// the end: none), at most `limit` of them (`None`: to the end).
pub(crate) fn window(bytes: &[u8], offset: usize, limit: Option<usize>) -> &[u8] {
    let start = offset.min(bytes.len());
    let end = limit.map_or(bytes.len(), |l| start.saturating_add(l).min(bytes.len()));
    &bytes[start..end]
}

struct Context<'a> {
    run: &'a Run,
    phase: &'a Phase,
    kind: PhaseKind,
    progress: Progress,
    knobs: &'a Knobs,
    workspace: &'a str,
    terraform_version: &'a str,
}

/// A resource the emulated configuration manages: `null_resource.emulated[N]`.
fn address(index: u32) -> String {
    format!("null_resource.emulated[{index}]")
}

impl Context<'_> {
    fn fill(&self, template: &str) -> String {
        let status = match self.progress {
            Progress::Running => "running",
            Progress::Finished => "finished",
            Progress::Errored => "errored",
            Progress::Canceled => "canceled",
            Progress::NotStarted => "pending",
        };
        let error = if self.progress == Progress::Errored {
            self.failure_text()
        } else {
            String::new()
        };
        let outputs = match self.kind {
            PhaseKind::Plan => self.planned_outputs(),
            PhaseKind::Apply => self.applied_outputs(),
        };
        template
            .replace("{run_id}", &self.run.id)
            .replace("{workspace}", self.workspace)
            .replace("{organization}", &self.run.organization)
            .replace("{terraform_version}", self.terraform_version)
            .replace("{additions}", &self.phase.additions.to_string())
            .replace("{changes}", &self.phase.changes.to_string())
            .replace("{destructions}", &self.phase.destructions.to_string())
            .replace("{status}", status)
            .replace("{error}", &error)
            .replace("{outputs}", &outputs)
    }

    fn header(&self) -> String {
        format!(
            "Terraform v{}\non linux_amd64\nInitializing plugins and modules...\n",
            self.terraform_version
        )
    }

    /// What a plan refreshes first (known once it finished, so the log only grows).
    fn refreshes(&self) -> String {
        if !self.run.refresh {
            return String::new();
        }
        (0..self.prior_resources())
            .map(|i| {
                format!(
                    "{}: Refreshing state... [id={}]\n",
                    address(i),
                    self.resource_id(i)
                )
            })
            .collect()
    }

    /// Resources the workspace manages before this run (what a plan refreshes, what a destroy removes).
    fn prior_resources(&self) -> u32 {
        if self.run.is_destroy {
            self.run.plan.destructions
        } else {
            // Changed and destroyed resources existed before; additions come after them.
            self.run.plan.changes + self.run.plan.destructions
        }
    }

    /// A stable id for resource `index`, so that every read of the log gives the same bytes.
    fn resource_id(&self, index: u32) -> String {
        let digits: u64 = self
            .run
            .suffix
            .bytes()
            .fold(u64::from(index) + 1, |acc, b| {
                acc.wrapping_mul(31).wrapping_add(u64::from(b))
            });
        format!("{:019}", digits % 10_000_000_000_000_000_000)
    }

    /// (address index, action) for every resource the plan touches: changes first, then destructions, then
    /// additions (new indices after the existing ones); a destroy run destroys all it had.
    fn actions(&self) -> Vec<(u32, Action)> {
        let p = &self.run.plan;
        if self.run.is_destroy {
            return (0..p.destructions).map(|i| (i, Action::Destroy)).collect();
        }
        let changes = (0..p.changes).map(|i| (i, Action::Update));
        let destructions = (p.changes..p.changes + p.destructions).map(|i| (i, Action::Destroy));
        let first_new = p.changes + p.destructions;
        let additions = (first_new..first_new + p.additions).map(|i| (i, Action::Create));
        changes.chain(destructions).chain(additions).collect()
    }

    fn generated(&self) -> String {
        let mut text = self.header();
        match (self.kind, self.progress) {
            (_, Progress::Running) => {}
            (_, Progress::Canceled) => text.push_str(
                "\nInterrupt received.\nPlease wait for Terraform to exit or data loss may occur.\n\
                 Gracefully shutting down...\n\nStopping operation...\n",
            ),
            (PhaseKind::Plan, Progress::Errored) => {
                text.push('\n');
                text.push_str(&self.failure_text());
            }
            (PhaseKind::Plan, _) => text.push_str(&self.plan_body()),
            (PhaseKind::Apply, Progress::Errored) => {
                // The first resource fails; nothing else is attempted.
                if let Some((i, action)) = self.actions().first() {
                    text.push_str(&format!("{}: {}...\n", address(*i), action.verb()));
                }
                text.push('\n');
                text.push_str(&self.error_block());
            }
            (PhaseKind::Apply, _) => text.push_str(&self.apply_body()),
        }
        text
    }

    fn plan_body(&self) -> String {
        let actions = self.actions();
        let outputs = self.planned_outputs();
        let mut text = self.refreshes();
        if self.run.refresh_only {
            text.push_str(
                "\nNo changes. Your infrastructure still matches the configuration.\n\n\
                    Terraform has checked that the real remote objects still match the result of your\n\
                    most recent changes, and found no differences.\n",
            );
            return text;
        }
        if actions.is_empty() && outputs.is_empty() {
            text.push_str(
                "\nNo changes. Your infrastructure matches the configuration.\n\n\
                    Terraform has compared your real infrastructure against your configuration\n\
                    and found no differences, so no changes are needed.\n",
            );
            return text;
        }
        if !actions.is_empty() {
            text.push_str(
                "\nTerraform used the selected providers to generate the following execution\n\
                 plan. Resource actions are indicated with the following symbols:\n",
            );
            for action in [Action::Create, Action::Update, Action::Destroy] {
                if actions.iter().any(|(_, a)| *a == action) {
                    text.push_str(&format!("  {} {}\n", action.symbol(), action.legend()));
                }
            }
            text.push_str("\nTerraform will perform the following actions:\n");
            for (i, action) in &actions {
                let id = match action {
                    Action::Create => "(known after apply)".to_string(),
                    _ => format!("\"{}\"", self.resource_id(*i)),
                };
                text.push_str(&format!(
                    "\n  # {} {}\n  {} resource \"null_resource\" \"emulated\" {{\n      {} id = {id}\n    }}\n",
                    address(*i),
                    action.will(),
                    action.symbol(),
                    if *action == Action::Update { " " } else { action.symbol() },
                ));
            }
            let p = &self.run.plan;
            text.push_str(&format!(
                "\nPlan: {} to add, {} to change, {} to destroy.\n",
                p.additions, p.changes, p.destructions
            ));
        }
        text.push_str(&outputs);
        text
    }

    fn apply_body(&self) -> String {
        let mut text = String::new();
        for (i, action) in self.actions() {
            let addr = address(i);
            let id = self.resource_id(i);
            match action {
                Action::Destroy => text.push_str(&format!(
                    "{addr}: Destroying... [id={id}]\n{addr}: Destruction complete after 0s\n"
                )),
                Action::Update => text.push_str(&format!(
                    "{addr}: Modifying... [id={id}]\n{addr}: Modifications complete after 0s [id={id}]\n"
                )),
                Action::Create => text.push_str(&format!(
                    "{addr}: Creating...\n{addr}: Creation complete after 0s [id={id}]\n"
                )),
            }
        }
        let a = &self.run.apply;
        if self.run.is_destroy {
            text.push_str(&format!(
                "\nDestroy complete! Resources: {} destroyed.\n",
                a.destructions
            ));
        } else {
            text.push_str(&format!(
                "\nApply complete! Resources: {} added, {} changed, {} destroyed.\n",
                a.additions, a.changes, a.destructions
            ));
        }
        text.push_str(&self.applied_outputs());
        text
    }

    /// (name, value as HCL, sensitive) for every output of the `outputs` knob but null ones; none for a destroy.
    fn outputs(&self) -> Vec<(&str, String, bool)> {
        if self.run.is_destroy {
            return Vec::new();
        }
        let sensitive = self.knobs.sensitive_outputs.as_deref().unwrap_or_default();
        self.knobs
            .outputs
            .iter()
            .flatten()
            .filter(|(_, value)| !value.is_null())
            .map(|(name, value)| (name.as_str(), hcl_value(value), sensitive.contains(name)))
            .collect()
    }

    fn planned_outputs(&self) -> String {
        let outputs = self.outputs();
        if outputs.is_empty() {
            return String::new();
        }
        let width = outputs.iter().map(|(n, _, _)| n.len()).max().unwrap_or(0);
        let mut text = String::from("\nChanges to Outputs:\n");
        for (name, value, sensitive) in outputs {
            let shown = if sensitive {
                "(sensitive value)"
            } else {
                &value
            };
            text.push_str(&format!("  + {name:<width$} = {shown}\n"));
        }
        text
    }

    fn applied_outputs(&self) -> String {
        let outputs = self.outputs();
        if outputs.is_empty() {
            return String::new();
        }
        let mut text = String::from("\nOutputs:\n\n");
        for (name, value, sensitive) in outputs {
            let shown = if sensitive { "<sensitive>" } else { &value };
            text.push_str(&format!("{name} = {shown}\n"));
        }
        text
    }

    /// What an errored phase logs: Terraform's own error when the plan was refused for a reason the run gives,
    /// else the `Error:` block of the outcome knobs.
    fn failure_text(&self) -> String {
        match (&self.run.plan_failure, self.kind) {
            (Some(PlanFailure::MissingVariables(names)), PhaseKind::Plan) => names
                .iter()
                .enumerate()
                .map(|(i, name)| missing_variable_block(name, 1 + 4 * i))
                .collect(),
            (Some(PlanFailure::ConfigurationNotUploaded { id, status }), PhaseKind::Plan) => {
                format!(
                    "╷\n│ Error: Failed to retrieve configuration\n│ \n\
                 │ The run's configuration version {id} was not uploaded yet (its status is\n\
                 │ {status}) when the plan started, so there was nothing to plan.\n╵\n"
                )
            }
            _ => self.error_block(),
        }
    }

    fn error_block(&self) -> String {
        let (default, knob) = match self.kind {
            PhaseKind::Plan => ("Emulated plan failure", "plan_outcome"),
            PhaseKind::Apply => ("Emulated apply failure", "apply_outcome"),
        };
        let summary = self.knobs.error_message.as_deref().unwrap_or(default);
        let mut text = String::new();
        let mut lines = summary.lines();
        text.push_str(&format!(
            "╷\n│ Error: {}\n",
            lines.next().unwrap_or(default)
        ));
        for line in lines {
            text.push_str(&format!("│ {line}\n"));
        }
        text.push_str(&format!(
            "│ \n│ tfe-emulator failed this {} as its {knob} knob asks.\n╵\n",
            match self.kind {
                PhaseKind::Plan => "plan",
                PhaseKind::Apply => "apply",
            }
        ));
        text
    }
}

/// Terraform's error for a root module variable without a value, declared at `line` of `variables.tf`.
fn missing_variable_block(name: &str, line: usize) -> String {
    format!(
        "╷\n│ Error: No value for required variable\n│ \n│   on variables.tf line {line}:\n\
         │ {line:>4}: variable \"{name}\" {{\n│ \n\
         │ The root module input variable \"{name}\" is not set, and has no default value. Use a -var or -var-file command line argument to provide a value for this variable.\n╵\n"
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Create,
    Update,
    Destroy,
}

impl Action {
    fn symbol(self) -> &'static str {
        match self {
            Action::Create => "+",
            Action::Update => "~",
            Action::Destroy => "-",
        }
    }
    fn legend(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update in-place",
            Action::Destroy => "destroy",
        }
    }
    fn will(self) -> &'static str {
        match self {
            Action::Create => "will be created",
            Action::Update => "will be updated in-place",
            Action::Destroy => "will be destroyed",
        }
    }
    fn verb(self) -> &'static str {
        match self {
            Action::Create => "Creating",
            Action::Update => "Modifying",
            Action::Destroy => "Destroying",
        }
    }
}

/// A JSON value as Terraform prints an output value: strings quoted, lists and objects in HCL syntax.
fn hcl_value(value: &Value) -> String {
    match value {
        Value::String(s) => serde_json::to_string(s).unwrap_or_default(),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(hcl_value).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(map) => format!(
            "{{ {} }}",
            map.iter()
                .map(|(k, v)| format!("{k} = {}", hcl_value(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::Null => "null".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::store::NewRun;

    fn store_with_run() -> (Store, String) {
        let mut store = Store::new(Knobs::defaults());
        store.new_organization("acme", "a@b.c", false);
        let ws = store.new_workspace("acme", "app");
        let cv = store.new_configuration_version(&ws, "tfe-api", true, false, true);
        let id = store.new_run(NewRun::new(&ws, &cv, "user-emulator-1", "tfe-api", ""));
        (store, id)
    }

    fn text(store: &Store, id: &str, kind: PhaseKind) -> String {
        String::from_utf8(log_bytes(store, &store.runs[id], kind)).unwrap()
    }

    #[test]
    fn logs_follow_the_phase() {
        let (mut store, id) = store_with_run();
        assert!(text(&store, &id, PhaseKind::Plan).is_empty(), "pending");
        store.runs.get_mut(&id).unwrap().plan.status = PhaseStatus::Running;
        let running = text(&store, &id, PhaseKind::Plan);
        assert!(
            running.starts_with("\u{2}Terraform v1.9.8\n"),
            "{running:?}"
        );
        assert!(!running.ends_with('\u{3}'));
        let run = store.runs.get_mut(&id).unwrap();
        run.plan.status = PhaseStatus::Finished;
        run.plan.additions = 2;
        run.plan.changes = 1;
        let plan = text(&store, &id, PhaseKind::Plan);
        assert!(
            plan.starts_with(&running),
            "a finished log extends the running one"
        );
        assert!(
            plan.ends_with("Plan: 2 to add, 1 to change, 0 to destroy.\n\u{3}"),
            "{plan}"
        );
        assert!(plan.contains("# null_resource.emulated[0] will be updated in-place"));
        assert!(plan.contains("# null_resource.emulated[2] will be created"));
        assert_eq!(plan, text(&store, &id, PhaseKind::Plan), "stable");

        let run = store.runs.get_mut(&id).unwrap();
        run.apply.status = PhaseStatus::Errored;
        let apply = text(&store, &id, PhaseKind::Apply);
        assert!(
            apply.contains("│ Error: Emulated apply failure\n"),
            "{apply}"
        );
        assert!(apply.ends_with("╵\n\u{3}"));
    }

    #[test]
    fn knobs_set_the_template_the_error_and_outputs() {
        let (mut store, id) = store_with_run();
        let ws = store.runs[&id].workspace_id.clone();
        store.workspaces.get_mut(&ws).unwrap().knobs = Knobs {
            error_message: Some("Invalid provider configuration".into()),
            apply_log_template: Some("{workspace}: {additions} added ({status}){outputs}".into()),
            outputs: Some([("url".to_string(), serde_json::json!("https://x"))].into()),
            ..Default::default()
        };
        let run = store.runs.get_mut(&id).unwrap();
        run.plan.status = PhaseStatus::Errored;
        run.apply.status = PhaseStatus::Finished;
        run.apply.additions = 1;
        let plan = text(&store, &id, PhaseKind::Plan);
        assert!(
            plan.contains("│ Error: Invalid provider configuration\n"),
            "{plan}"
        );
        assert_eq!(
            text(&store, &id, PhaseKind::Apply),
            "\u{2}app: 1 added (finished)\nOutputs:\n\nurl = \"https://x\"\n\u{3}"
        );
    }

    #[test]
    fn refused_plans_log_terraforms_own_errors_and_sensitive_outputs_stay_hidden() {
        let (mut store, id) = store_with_run();
        let ws = store.runs[&id].workspace_id.clone();
        store.workspaces.get_mut(&ws).unwrap().knobs = Knobs {
            outputs: Some(
                [
                    ("url".to_string(), serde_json::json!("https://x")),
                    ("password".to_string(), serde_json::json!("hunter2")),
                ]
                .into(),
            ),
            sensitive_outputs: Some(vec!["password".into()]),
            ..Default::default()
        };
        let run = store.runs.get_mut(&id).unwrap();
        run.plan.status = PhaseStatus::Finished;
        run.plan.additions = 1;
        run.apply.status = PhaseStatus::Finished;
        let plan = text(&store, &id, PhaseKind::Plan);
        assert!(
            plan.contains("  + password = (sensitive value)\n"),
            "{plan}"
        );
        let apply = text(&store, &id, PhaseKind::Apply);
        assert!(
            apply.ends_with("Outputs:\n\npassword = <sensitive>\nurl = \"https://x\"\n\u{3}"),
            "{apply}"
        );
        assert!(!plan.contains("hunter2") && !apply.contains("hunter2"));

        let run = store.runs.get_mut(&id).unwrap();
        run.plan.status = PhaseStatus::Errored;
        run.plan_failure = Some(PlanFailure::MissingVariables(vec!["region".into()]));
        assert_eq!(
            text(&store, &id, PhaseKind::Plan),
            "\u{2}Terraform v1.9.8\non linux_amd64\nInitializing plugins and modules...\n\n\
             ╷\n│ Error: No value for required variable\n│ \n│   on variables.tf line 1:\n\
             │    1: variable \"region\" {\n│ \n│ The root module input variable \"region\" is not set, \
             and has no default value. Use a -var or -var-file command line argument to provide a value \
             for this variable.\n╵\n\u{3}"
        );

        let run = store.runs.get_mut(&id).unwrap();
        run.plan_failure = None;
        run.plan.status = PhaseStatus::Finished;
        run.refresh_only = true;
        let refresh = text(&store, &id, PhaseKind::Plan);
        assert!(
            refresh.contains("No changes. Your infrastructure still matches the configuration."),
            "{refresh}"
        );
    }

    #[test]
    fn window_clamps() {
        let b = b"0123456789";
        assert_eq!(window(b, 2, Some(3)), b"234");
        assert_eq!(window(b, 8, Some(30)), b"89");
        assert_eq!(window(b, 20, None), b"");
        assert_eq!(window(b, 0, None), b);
    }
}
