#!/usr/bin/env python3
"""Derives the emulator's reference shapes from HashiCorp's public API reference.

For each endpoint below it reads the "Sample Response" JSON of that endpoint's section of the HCP Terraform API
reference (the Markdown sources of developer.hashicorp.com/terraform/cloud-docs/api-docs, kept in the public
repository hashicorp/terraform-docs-common) and writes one shape file: every key path the samples show, with the
JSON types they show for it. Only names and types are kept (facts about the API); no sample value and no prose.

    python3 scripts/reference_shapes.py DOCS_CHECKOUT [OUT_DIR]

DOCS_CHECKOUT is a checkout of hashicorp/terraform-docs-common (the repository's last content commit is
fe7f84b7dd9918fc987fcf344652c17a51cf9d28; later commits emptied it for its archiving). OUT_DIR defaults to
crates/tfe-emulator/tests/reference. crates/tfe-emulator/tests/api/reference_shapes.rs compares the emulator's
answers with these files.

Key paths: `data.attributes.status`; list items are `data[]`, so `data[].attributes.name`. A path's types are the
JSON types the samples give it, `|`-separated (`string`, `number`, `boolean`, `array`, `object`, `null`); `null`
alone means the samples never show a value, so only the key's presence is known. Objects whose keys are data
rather than names (`status-timestamps`, whose keys are the statuses a resource passed) are recorded as `object`
without their keys; an output's `value` and `detailed-type` (the user's data) as any JSON type. A key only a
variant sample shows (the page's "Using HCP Terraform agents", "With a VCS repository") is recorded under
`conditional` with the variant's label; keys the page says only HCP Terraform returns under `hcp_only`.
"""

import json
import os
import re
import subprocess
import sys

PAGES = "website/docs/cloud-docs/api-docs"
PARTIALS = "website/docs/partials"
SITE = "https://developer.hashicorp.com/terraform/cloud-docs/api-docs"

# (shape file, page, section heading): the endpoints the emulator serves that the reference has samples for.
ENDPOINTS = [
    ("runs-create", "run", "Create a Run"),
    ("runs-list-workspace", "run", "List Runs in a Workspace"),
    ("runs-list-organization", "run", "List Runs in an Organization"),
    ("runs-show", "run", "Get run details"),
    ("workspaces-create", "workspaces", "Create a Workspace"),
    ("workspaces-update", "workspaces", "Update a Workspace"),
    ("workspaces-list", "workspaces", "List workspaces"),
    ("workspaces-show", "workspaces", "Show workspace"),
    ("workspaces-lock", "workspaces", "Lock a workspace"),
    ("workspaces-unlock", "workspaces", "Unlock a workspace"),
    ("workspaces-force-unlock", "workspaces", "Force Unlock a workspace"),
    ("organizations-list", "organizations", "List Organizations"),
    ("organizations-show", "organizations", "Show an Organization"),
    ("organizations-create", "organizations", "Create an Organization"),
    ("organizations-update", "organizations", "Update an Organization"),
    ("organizations-entitlement-set", "organizations", "Show the Entitlement Set"),
    ("oauth-clients-list", "oauth-clients", "List OAuth Clients"),
    ("oauth-clients-show", "oauth-clients", "Show an OAuth Client"),
    ("oauth-clients-create", "oauth-clients", "Create an OAuth Client"),
    ("plans-show", "plans", "Show a plan"),
    ("applies-show", "applies", "Show an apply"),
    ("configuration-versions-list", "configuration-versions", "List Configuration Versions"),
    ("configuration-versions-show", "configuration-versions", "Show a Configuration Version"),
    ("configuration-versions-create", "configuration-versions", "Create a Configuration Version"),
    ("policy-checks-list", "policy-checks", "List Policy Checks"),
    ("policy-checks-show", "policy-checks", "Show Policy Check"),
    ("policy-checks-override", "policy-checks", "Override Policy"),
    ("cost-estimates-show", "cost-estimates", "Show a cost estimate"),
    ("state-versions-list", "state-versions", "List State Versions for a Workspace"),
    ("state-versions-current", "state-versions", "Fetch the Current State Version for a Workspace"),
    ("state-versions-show", "state-versions", "Show a State Version"),
    ("state-version-outputs-list", "state-version-outputs", "List State Version Outputs"),
    ("state-version-outputs-show", "state-version-outputs", "Show a State Version Output"),
    ("state-version-outputs-current", "state-version-outputs", "Show Current State Version Outputs for a Workspace"),
    ("variables-create", "workspace-variables", "Create a Variable"),
    ("variables-list", "workspace-variables", "List Variables"),
    ("variables-update", "workspace-variables", "Update Variables"),
]

# Objects whose keys are values, not names: recorded as `object` without their keys.
FREE_FORM = {"status-timestamps", "modules", "providers", "sentinel", "resources"}

# Keys whose value is the user's data (a Terraform output's value and type), so any JSON type.
ANY_TYPE = {"value", "detailed-type"}
JSON_TYPES = ["string", "number", "boolean", "array", "object", "null"]

# Keys the pages say only HCP Terraform returns, with the page's own words as the evidence (checked below).
HCP_ONLY = {
    "organizations": (
        ["two-factor-conformant", "assessments-enforced"],
        "Only HCP Terraform organizations return the `two-factor-conformant` and `assessments-enforced` properties.",
    ),
    "workspaces": (
        ["assessments-enabled"],
        "The `assessments-enabled` property is only accepted by or returned from HCP Terraform.",
    ),
    "state-versions": (
        ["billable-rum-count"],
        "Only present for organization members on HCP Terraform RUM plans",
    ),
}

# Typos in the samples that leave them unreadable as JSON, mended before reading: (page, text, replacement).
ERRATA = [
    # The workspace-with-vcs partial opens `relationships` twice.
    ("workspaces", '"relationships": {\n      "relationships": {', '"relationships": {'),
    # The output list spells `detailed-type` with an underscore; the page's other samples and go-tfe's
    # StateVersionOutput (`jsonapi:"attr,detailed-type"`) spell it with a hyphen.
    ("state-version-outputs", '"detailed_type"', '"detailed-type"'),
]

# Where a sample wraps a single resource in a list, which the endpoint (and go-tfe and pytfe, which read it) does
# not: the shape is the element's.
SINGLE_IN_A_LIST = {"cost-estimates-show"}


def without_comments(text):
    """The text without `// ...` comments (outside strings, so URLs stay whole)."""
    out, in_string, i = [], False, 0
    while i < len(text):
        c = text[i]
        if in_string:
            out.append(c)
            if c == "\\":
                out.append(text[i + 1])
                i += 1
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
            out.append(c)
        elif text.startswith("//", i):
            while i < len(text) and text[i] != "\n":
                i += 1
            continue
        else:
            out.append(c)
        i += 1
    return "".join(out)


def lenient_json(text):
    """The samples elide with `{...}`, `[...]` and `...`, comment with `//` and leave trailing commas: reads them
    as JSON."""
    t = without_comments(text)
    t = re.sub(r"\{\s*\.\.\.\s*\}", "{}", t)
    t = re.sub(r"\[\s*\.\.\.\s*\]", "[]", t)
    t = re.sub(r",\s*\.\.\.", "", t)
    t = re.sub(r"\.\.\.\s*,?", "", t)
    t = re.sub(r",(\s*[}\]])", r"\1", t)
    return json.loads(t)


def expand_includes(text, docs):
    def partial(match):
        with open(os.path.join(docs, PARTIALS, match.group(1))) as f:
            return f.read()

    return re.sub(r"^@include '([^']+)'\s*$", partial, text, flags=re.M)


def slug(heading):
    s = re.sub(r"[^a-z0-9 -]", "", heading.lower())
    return re.sub(r" ", "-", s.strip())


def section(text, heading):
    """The lines of the `## heading` section."""
    lines = text.split("\n")
    start = lines.index("## " + heading)
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    return lines[start:end]


def samples(lines):
    """(variant label, document) for each JSON block after the section's "Sample Response" heading."""
    out, in_response, label, i = [], False, None, 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("#"):
            in_response = "sample response" in line.lower()
        elif re.match(r"^_[^_].*_$", line.strip()):
            label = line.strip().strip("_")
        elif line.startswith("```json") and in_response:
            j = i + 1
            while not lines[j].startswith("```"):
                j += 1
            out.append((label, lenient_json("\n".join(lines[i + 1 : j]))))
            i = j
        i += 1
    return out


def endpoints_of(lines):
    return [m.group(1) for m in (re.match(r"^`((?:GET|POST|PATCH|PUT|DELETE) [^`]+)`", l) for l in lines) if m]


def json_type(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def walk(value, path, out):
    last = path.rsplit(".", 1)[-1].rstrip("[]")
    if last in ANY_TYPE:
        out.setdefault(path, set()).update(JSON_TYPES)
        return
    out.setdefault(path, set()).add(json_type(value))
    if last in FREE_FORM:
        return
    if isinstance(value, dict):
        for key, child in value.items():
            walk(child, f"{path}.{key}" if path else key, out)
    elif isinstance(value, list):
        for child in value:
            walk(child, path + "[]", out)


def shape(name, page, heading, docs, commit):
    with open(os.path.join(docs, PAGES, page + ".mdx")) as f:
        text = expand_includes(f.read(), docs)
    for erratum_page, typo, mended in ERRATA:
        if erratum_page == page:
            if typo not in text:
                raise SystemExit(f"{page}.mdx no longer has the typo {typo!r}: drop it from ERRATA")
            text = text.replace(typo, mended)
    lines = section(text, heading)
    documents = samples(lines)
    if not documents:
        raise SystemExit(f"{page}.mdx, {heading!r}: no sample response")
    keys, variant_keys = {}, {}
    for index, (label, document) in enumerate(documents):
        if name in SINGLE_IN_A_LIST and isinstance(document.get("data"), list):
            document = dict(document, data=document["data"][0])
        found = {}
        walk(document, "", found)
        found.pop("", None)
        for path, types in found.items():
            keys.setdefault(path, set()).update(types)
            if index > 0:
                variant_keys.setdefault(path, label)
        if index == 0:
            base = set(found)
    conditional = {p: l for p, l in variant_keys.items() if p not in base}
    hcp_only = []
    if page in HCP_ONLY:
        names, evidence = HCP_ONLY[page]
        if evidence not in text:
            raise SystemExit(f"{page}.mdx no longer says: {evidence}")
        hcp_only = sorted(p for p in keys if p.rsplit(".", 1)[-1] in names)
    order = JSON_TYPES
    return {
        "endpoint": endpoints_of(lines),
        "source": f"{SITE}/{page}#{slug(heading)}",
        "derived_from": f"hashicorp/terraform-docs-common@{commit}:{PAGES}/{page}.mdx, "
        f"section {heading!r}, sample responses",
        "keys": {p: "|".join(sorted(t, key=order.index)) for p, t in sorted(keys.items())},
        "conditional": dict(sorted(conditional.items())),
        "hcp_only": hcp_only,
    }


def main():
    if len(sys.argv) not in (2, 3):
        raise SystemExit(__doc__)
    docs = sys.argv[1]
    out = sys.argv[2] if len(sys.argv) == 3 else os.path.join(
        os.path.dirname(__file__), "..", "crates", "tfe-emulator", "tests", "reference"
    )
    commit = subprocess.run(
        ["git", "-C", docs, "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    os.makedirs(out, exist_ok=True)
    for name, page, heading in ENDPOINTS:
        data = shape(name, page, heading, docs, commit)
        with open(os.path.join(out, name + ".json"), "w") as f:
            json.dump(data, f, indent=1)
            f.write("\n")
        print(f"{name}: {len(data['keys'])} keys, {len(data['conditional'])} conditional, "
              f"{len(data['hcp_only'])} HCP-only")


if __name__ == "__main__":
    main()
