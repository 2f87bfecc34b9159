//! The run poller end to end, by request counts (no timings): the resources of one apply share one
//! poller, which reads their runs from the organization's run list instead of one request per run
//! and poll; and with an earlier run in the workspace, a run is read a few times, around the
//! moments its phases are expected to end. `make bench` measures the notice delays and rates.

use serde_json::{Value, json};

use test_support::emulator::TestEmulator;
use test_support::runs::{apply_problems, workspace_run_instances};
use test_support::terraform::{
    APPLY, DevOverrides, current_terraform, run_terraform, workdir_with,
};

const RESOURCES: usize = 20;
const RUN_READ: &str = "GET /api/v2/runs/{id}";
const ORG_RUNS: &str = "GET /api/v2/organizations/{org}/runs";

fn by_route(emu: &TestEmulator) -> Value {
    emu.requests()["counters"]["by_route"].clone()
}

fn count(routes: &Value, route: &str) -> u64 {
    routes[route].as_u64().unwrap_or(0)
}

fn apply(emu: &TestEmulator, dir: &std::path::Path, overrides: &DevOverrides, extra: &[&str]) {
    let env = emu.provider_env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let args = [APPLY, &["-parallelism=20"], extra].concat();
    let out = run_terraform(&current_terraform(), dir, overrides, &args, &env);
    assert!(out.success, "apply failed\n{}", out.combined());
}

#[test]
fn runs_of_one_apply_are_read_together_from_the_organization_run_list() {
    let emu = TestEmulator::start();
    emu.set_default_knobs(json!({"plan_ms": 2000, "apply_ms": 2000}));
    emu.seed_json(json!({"organizations": [{"name": "acme"}]}));
    emu.set_org_knobs("acme", json!({"concurrency": RESOURCES}));
    let workspaces: Vec<Value> = (0..RESOURCES)
        .map(|i| json!({"organization": "acme", "name": format!("batch-{i:02}")}))
        .collect();
    let seeded = emu.seed_json(json!({"workspaces": workspaces}));
    let ids: Vec<String> = seeded["workspaces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| format!("\"{}\"", w["id"].as_str().unwrap()))
        .collect();
    let main_tf = format!(
        "resource \"tfe_workspace_run\" \"r\" {{\n  for_each     = toset([{}])\n  workspace_id = each.value\n  apply {{\n    manual_confirm = false\n  }}\n}}\n",
        ids.join(", ")
    );
    let dir = workdir_with(&[("main.tf", &main_tf)]);
    let overrides = DevOverrides::new();
    emu.reset_requests();
    apply(&emu, dir.path(), &overrides, &[]);

    let instances = workspace_run_instances(dir.path());
    assert_eq!(instances.len(), RESOURCES);
    let problems = apply_problems(&instances, &emu.runs());
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // What each run did is in its instance, though no run was read by itself after it ended.
    let state: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("terraform.tfstate")).expect("state"),
    )
    .expect("state JSON");
    for instance in state["resources"][0]["instances"]
        .as_array()
        .expect("instances")
    {
        let attrs = &instance["attributes"];
        assert_eq!(attrs["status"], "applied", "{attrs}");
        assert!(attrs["resource_additions"].is_number(), "{attrs}");
        assert!(attrs["has_changes"].is_boolean(), "{attrs}");
        assert!(attrs["outputs"].is_object(), "{attrs}");
    }
    let routes = by_route(&emu);
    let (single, pages) = (count(&routes, RUN_READ), count(&routes, ORG_RUNS));
    println!("{RESOURCES} runs: {single} single reads, {pages} run-list pages: {routes}");
    assert!(
        pages >= 1,
        "the organization's run list was never read: {routes}"
    );
    // The runs end together, so what they did (plan counts, outputs) comes from their organization's
    // workspace list, not from a read of each run: every single read is a poll. One request per run
    // and poll would be at least 2 per phase and run: 80 here. The list reports all 20 runs on one
    // page, so the polls are about one per second of the apply, not per run.
    let runs = RESOURCES as u64;
    let polls = single + pages;
    assert!(
        polls <= 2 * runs,
        "{polls} polls ({pages} pages) for {RESOURCES} runs: {routes}"
    );
    // Everything else is one create per run (manual_confirm = false: the runs apply by themselves, no
    // confirm), the workspaces (one read to learn the organization, a page of its workspace list at the
    // start, and a page or two of it with what the runs did at the end) and the client's discovery and
    // ping once. The outputs come with the list: only a run that ended alone, after every other one,
    // reads its run and its state version by itself.
    let workspace_reads = count(&routes, "GET /api/v2/workspaces/{id}")
        + count(&routes, "GET /api/v2/organizations/{org}/workspaces");
    assert!(workspace_reads <= 4, "{routes}");
    let alone = count(&routes, "GET /api/v2/workspaces/{id}/current-state-version");
    assert!(
        alone <= 2,
        "{alone} runs read their results by themselves: {routes}"
    );
    assert_eq!(
        count(&routes, "POST /api/v2/runs/{id}/actions/{action}"),
        0,
        "{routes}"
    );
    let total = emu.requests()["counters"]["total"].as_u64().unwrap();
    assert_eq!(
        total,
        single + pages + runs + workspace_reads + alone + 2,
        "{routes}"
    );
}

#[test]
fn a_run_after_an_earlier_one_is_read_around_its_expected_phase_ends() {
    let emu = TestEmulator::start();
    let ws = emu.seed_workspace("acme", "history");
    emu.set_workspace_knobs(&ws, json!({"plan_ms": 6000, "apply_ms": 6000}));
    let main_tf = format!(
        "resource \"tfe_workspace_run\" \"r\" {{\n  workspace_id = \"{ws}\"\n  apply {{\n    manual_confirm = false\n  }}\n}}\n"
    );
    let dir = workdir_with(&[("main.tf", &main_tf)]);
    let overrides = DevOverrides::new();
    apply(&emu, dir.path(), &overrides, &[]);
    let first = count(&by_route(&emu), RUN_READ);

    // The second run knows how long the first one's plan and apply took.
    emu.reset_requests();
    apply(
        &emu,
        dir.path(),
        &overrides,
        &["-replace=tfe_workspace_run.r"],
    );
    let runs = emu.workspace_runs(&ws);
    assert_eq!(runs.len(), 2, "{runs:?}");
    assert!(runs.iter().all(|r| r.status == "applied"), "{runs:?}");
    let routes = by_route(&emu);
    // Less the one read of the old run before it is replaced.
    let second = count(&routes, RUN_READ) - 1;
    println!("first run: {first} reads; second run: {second} reads: {routes}");
    // One soon after the create, one halfway through the plan and one just after its expected
    // end, one after the confirm, the same two for the apply; one more if a phase ran late.
    assert!(second <= 8, "{second} run reads: {routes}");
    assert!(
        second < first,
        "the second run ({second} reads) costs less than the first ({first}), which had no history"
    );
    assert_eq!(
        count(&routes, ORG_RUNS),
        0,
        "a single run is read by itself"
    );
}
