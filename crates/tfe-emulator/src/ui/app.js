// tfe-emulator's page: plain JavaScript, no build step, nothing loaded from elsewhere. It renders the
// organizations, a workspace's runs, or one run (timeline, logs, actions) from /_ui/api/* and polls them, so
// it follows runs as they move. Actions go through /_ui/api/.../actions/..., the same code as the API's.
"use strict";

const POLL_MS = 700;
const app = document.getElementById("app");
const crumbs = document.getElementById("crumbs");
const live = document.getElementById("live");

// h("tag.class", {attr: value, onclick: fn}, child...) builds an element; strings become text nodes.
function h(spec, attrs, ...children) {
  const [tag, ...classes] = spec.split(".");
  const el = document.createElement(tag);
  if (classes.length) el.className = classes.join(" ");
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "text") el.textContent = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

const STATUS_CLASS = {
  applied: "ok", planned_and_finished: "ok", policy_checked: "warn", planned: "warn", cost_estimated: "warn",
  post_plan_completed: "warn", policy_override: "warn", errored: "bad", canceled: "bad", force_canceled: "bad",
  discarded: "bad", policy_soft_failed: "bad", planning: "run", applying: "run", plan_queued: "run",
  apply_queued: "run", confirmed: "run", cost_estimating: "run", policy_checking: "run", post_plan_running: "run",
  finished: "ok", running: "run", queued: "run", unreachable: "", pending: "",
};

const LABEL = {
  pending: "Pending", plan_queued: "Plan queued", planning: "Planning", planned: "Planned",
  post_plan_running: "Post-plan tasks running", post_plan_completed: "Post-plan tasks completed",
  cost_estimating: "Cost estimating", cost_estimated: "Cost estimated", policy_checking: "Policy checking",
  policy_override: "Policy override", policy_checked: "Policy checked", confirmed: "Confirmed",
  apply_queued: "Apply queued", applying: "Applying", applied: "Applied", planned_and_finished: "Planned and finished",
  policy_soft_failed: "Policy soft failed", discarded: "Discarded", errored: "Errored", canceled: "Canceled",
  force_canceled: "Force canceled",
};

function badge(status, testid) {
  return h("span.badge." + (STATUS_CLASS[status] || "x"), {"data-testid": testid, "data-status": status},
    LABEL[status] || status);
}

function when(ts) {
  if (!ts) return "";
  const d = new Date(ts);
  return isNaN(d) ? ts : d.toLocaleString();
}

function setCrumbs(parts) {
  crumbs.replaceChildren(...parts.flatMap((p, i) => [i ? h("span.sep", {}, "/") : null,
    p.href ? h("a", {href: p.href}, p.text) : h("span", {}, p.text)]).filter(Boolean));
}

async function getJSON(url) {
  const r = await fetch(url, {headers: {accept: "application/json"}, cache: "no-store"});
  const body = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(errorText(body, r.status));
  return body;
}

function errorText(body, status) {
  const e = body && body.errors && body.errors[0];
  return e ? `${e.status || status}: ${e.detail || e.title}` : `HTTP ${status}`;
}

let lastError = "";
async function act(url, button) {
  if (button) button.disabled = true;
  lastError = "";
  try {
    const r = await fetch(url, {method: "POST", headers: {"x-tfe-emulator-ui": "1", accept: "application/json"}});
    if (!r.ok) lastError = errorText(await r.json().catch(() => ({})), r.status);
  } catch (e) {
    lastError = String(e);
  }
  lastBody = "";
  await tick();
}

// ---------- views ----------

function wsHref(org, ws) {
  return `/app/${encodeURIComponent(org)}/workspaces/${encodeURIComponent(ws)}`;
}

function lockText(ws) {
  if (!ws.locked) return "Unlocked";
  return ws.lock.kind === "run" ? `Locked by ${ws.lock.by}` : `Locked by ${ws.lock.by}${ws.lock.reason ? ": " + ws.lock.reason : ""}`;
}

function lockButtons(ws) {
  const base = `/_ui/api/workspaces/${encodeURIComponent(ws.id)}/actions/`;
  if (!ws.locked) return [h("button", {onclick: (e) => act(base + "lock", e.target)}, "Lock workspace")];
  if (ws.lock.kind === "user" && ws.lock.mine)
    return [h("button", {onclick: (e) => act(base + "unlock", e.target)}, "Unlock workspace")];
  return [h("button.danger", {onclick: (e) => act(base + "force-unlock", e.target)}, "Force unlock")];
}

function renderOverview(data) {
  setCrumbs([{text: "Organizations"}]);
  if (!data.organizations.length)
    return [h("h1", {}, "Organizations"), h("p.muted", {}, "No organizations yet: create one through the API or the admin seed endpoint."),
      h("p", {}, "API: ", h("code", {}, data.api))];
  return [h("h1", {}, "Organizations"), h("p.muted", {}, "API: ", h("code", {}, data.api)),
    ...data.organizations.map((o) => h("section.card", {"data-testid": "organization", "data-name": o.name},
      h("h2", {}, o.name, " ", h("span.muted", {}, o.email)),
      o.workspaces.length ? workspaceTable(o) : h("p.muted", {}, "No workspaces.")))];
}

function workspaceTable(o) {
  return h("table", {},
    h("thead", {}, h("tr", {}, ["Workspace", "Latest run", "Resources", "Lock"].map((t) => h("th", {}, t)))),
    h("tbody", {}, o.workspaces.map((w) => {
      const latest = w.runs[0];
      return h("tr", {"data-testid": "workspace-row", "data-name": w.name},
        h("td", {}, h("a", {href: wsHref(o.name, w.name)}, w.name)),
        h("td", {}, latest ? [badge(latest.status), " ",
          h("a", {href: `${wsHref(o.name, w.name)}/runs/${latest.id}`}, latest.id)] : h("span.muted", {}, "no runs")),
        h("td", {}, String(w.resource_count)),
        h("td", {}, lockText(w)));
    })));
}

function renderWorkspace(data, orgName, wsName) {
  const org = data.organizations.find((o) => o.name === orgName);
  const ws = org && org.workspaces.find((w) => w.name === wsName);
  setCrumbs([{text: "Organizations", href: "/"}, {text: orgName}, {text: wsName}]);
  if (!ws) return [h("h1", {}, wsName), h("p.error", {}, `No workspace ${wsName} in ${orgName}.`)];
  return [
    h("h1", {}, ws.name),
    h("p.muted", {}, h("code", {}, ws.id), ` · Terraform ${ws.terraform_version} · ${ws.execution_mode} · `,
      ws.vcs ? `VCS ${ws.vcs}` : "no VCS", ` · ${ws.resource_count} resources`),
    h("div.card", {},
      h("strong", {"data-testid": "lock-state"}, lockText(ws)),
      h("div.actions", {}, lockButtons(ws)),
      lastError ? h("div.error", {"data-testid": "action-error"}, lastError) : null),
    h("h2", {}, "Runs"),
    ws.runs.length ? h("table", {},
      h("thead", {}, h("tr", {}, ["Run", "Status", "Message", "Changes", "Created"].map((t) => h("th", {}, t)))),
      h("tbody", {}, ws.runs.map((r) => h("tr", {"data-testid": "run-row", "data-run": r.id},
        h("td", {}, h("a", {href: `${wsHref(orgName, wsName)}/runs/${r.id}`}, r.id),
          r.is_destroy ? h("span.muted", {}, " destroy") : null, r.plan_only ? h("span.muted", {}, " plan only") : null),
        h("td", {}, badge(r.status)),
        h("td", {}, r.message),
        h("td", {}, `+${r.additions} ~${r.changes} -${r.destructions}`),
        h("td", {}, when(r.created_at))))))
      : h("p.muted", {}, "No runs yet."),
  ];
}

// Open/closed state of the log sections survives re-rendering.
const openPhases = {plan: true, apply: true};

function phaseSection(name, title, p) {
  const d = h("details.phase", {open: openPhases[name], "data-testid": `${name}-section`},
    h("summary", {}, h("strong", {}, title), badge(p.status, `${name}-status`),
      p.status === "finished" || p.status === "errored" ? h("span.muted", {}, `+${p.additions} ~${p.changes} -${p.destructions}`) : null),
    h("pre.log", {"data-testid": `${name}-log`}, p.log || (p.status === "unreachable" ? "(did not run)" : "(no output yet)")));
  d.addEventListener("toggle", () => { openPhases[name] = d.open; });
  return d;
}

function renderRun(d, orgName, wsName) {
  const r = d.run;
  setCrumbs([{text: "Organizations", href: "/"}, {text: orgName}, {text: wsName, href: wsHref(orgName, wsName)}, {text: r.id}]);
  const base = `/_ui/api/runs/${encodeURIComponent(r.id)}/actions/`;
  const button = (cls, action, label) => h(cls, {onclick: (e) => act(base + action, e.target)}, label);
  const buttons = [
    d.actions.apply && button("button.primary", "apply", "Confirm & apply"),
    d.actions.override_policy && button("button.primary", "override-policy", "Override & continue"),
    d.actions.discard && button("button", "discard", "Discard run"),
    d.actions.cancel && button("button.danger", "cancel", "Cancel run"),
    d.actions.force_cancel && button("button.danger", "force-cancel", "Force cancel run"),
  ].filter(Boolean);
  const waiting = d.actions.apply ? "This plan needs confirmation: confirm to apply it, or discard the run."
    : d.actions.override_policy ? "A soft-mandatory policy failed: override it to continue, or discard the run."
    : d.cancel_requested && !d.actions.force_cancel && !["canceled", "errored", "applied"].includes(r.status)
      ? `Cancel requested; force cancel is available from ${when(d.force_cancel_available_at)}.` : null;
  const ws = d.workspace;
  return [
    h("div.row", {},
      h("div.grow", {},
        h("h1", {}, r.message || r.id, " ", badge(r.status, "run-status")),
        h("p.muted", {}, h("code", {}, r.id), ` · ${r.is_destroy ? "destroy" : r.plan_only ? "plan only" : "plan and apply"}`,
          ` · ${d.auto_apply ? "auto apply" : "manual apply"} · by ${r.created_by} · ${when(r.created_at)}`)),
      ws ? h("div.card", {}, h("div", {"data-testid": "lock-state"}, lockText(ws)), h("div.actions", {}, lockButtons(ws))) : null),
    h("div.card", {"data-testid": "run-actions"},
      waiting ? h("p.notice", {}, waiting) : null,
      buttons.length ? h("div.actions", {}, buttons) : h("span.muted", {}, r.status in {applied: 1, planned_and_finished: 1, errored: 1, discarded: 1, canceled: 1, policy_soft_failed: 1} ? "This run is over." : "No action available now."),
      lastError ? h("div.error", {"data-testid": "action-error"}, lastError) : null),
    h("div.row", {},
      h("div.grow", {},
        phaseSection("plan", "Plan", d.plan),
        d.task_stage ? h("div.card", {}, h("strong", {}, "Post-plan tasks "), badge(d.task_stage.status)) : null,
        d.cost_estimate ? h("div.card", {}, h("strong", {}, "Cost estimation "), badge(d.cost_estimate.status)) : null,
        d.policy_check ? h("div.card", {}, h("strong", {}, "Policy check "), badge(d.policy_check.status, "policy-status")) : null,
        r.plan_only ? null : phaseSection("apply", "Apply", d.apply)),
      h("div.card", {style: "min-width:260px"},
        h("strong", {}, "Timeline"),
        h("ol.timeline", {"data-testid": "timeline"}, d.timeline.map((t) =>
          h("li." + (STATUS_CLASS[t.status] || "x"), {"data-status": t.status}, LABEL[t.status] || t.status,
            h("time", {datetime: t.at}, when(t.at))))))),
  ];
}

// ---------- polling ----------

function route() {
  const parts = location.pathname.split("/").filter(Boolean).map(decodeURIComponent);
  if (parts[0] === "app" && parts[2] === "workspaces" && parts[4] === "runs" && parts[5])
    return {kind: "run", org: parts[1], ws: parts[3], run: parts[5]};
  if (parts[0] === "app" && parts[2] === "workspaces" && parts[3])
    return {kind: "workspace", org: parts[1], ws: parts[3]};
  return {kind: "overview"};
}

let lastBody = "";
let timer = null;
async function tick() {
  clearTimeout(timer);
  const where = route();
  try {
    const data = where.kind === "run" ? await getJSON(`/_ui/api/runs/${encodeURIComponent(where.run)}`)
      : await getJSON("/_ui/api/overview");
    const body = JSON.stringify(data) + lastError;
    if (body !== lastBody) {
      lastBody = body;
      const logs = [...app.querySelectorAll("pre.log")].map((p) => [p.scrollTop, p.scrollHeight - p.clientHeight - p.scrollTop < 4]);
      const view = where.kind === "run" ? renderRun(data, where.org, where.ws)
        : where.kind === "workspace" ? renderWorkspace(data, where.org, where.ws) : renderOverview(data);
      app.replaceChildren(...view.filter(Boolean));
      // Logs that were scrolled to the bottom follow new output; others keep their place.
      app.querySelectorAll("pre.log").forEach((p, i) => {
        const [top, atEnd] = logs[i] || [0, true];
        p.scrollTop = atEnd ? p.scrollHeight : top;
      });
    }
    live.textContent = "live";
    live.className = "live ok";
  } catch (e) {
    live.textContent = String(e.message || e);
    live.className = "live err";
    if (where.kind === "run" && lastBody === "") {
      app.replaceChildren(h("p.error", {}, `Cannot show run ${where.run}: ${e.message || e}`));
    }
  }
  timer = setTimeout(tick, POLL_MS);
}

tick();
