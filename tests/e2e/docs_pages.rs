//! The registry pages in docs/ match the schemas the provider serves: each resource and data source
//! has a page with the registry's front matter and sections, every argument (nested blocks and their
//! arguments included) is in its Argument Reference and every computed-only attribute in its
//! Attribute Reference; and every example under examples/ validates with both Terraform CLIs.

use std::collections::BTreeSet;
use std::path::Path;

use test_support::terraform::{
    DevOverrides, all_clis, repo_root, run_terraform, workdir_from_examples,
};
use tfe_provider::provider::TfeProvider;
use tfplugin::{Block, Provider};

/// `* \`name\`` (or `- \`name\``) bullets in `text`, at any indentation.
fn bullets(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(|l| {
            let l = l.trim_start();
            l.strip_prefix("* `").or_else(|| l.strip_prefix("- `"))
        })
        .filter_map(|rest| rest.split('`').next())
        .map(str::to_string)
        .collect()
}

/// The text of `## heading` up to the next `## ` heading.
fn section<'a>(page: &'a str, heading: &str, path: &Path) -> &'a str {
    let marker = format!("\n## {heading}\n");
    let start = page
        .find(&marker)
        .unwrap_or_else(|| panic!("{}: no \"## {heading}\" section", path.display()))
        + marker.len();
    let rest = &page[start..];
    match rest.find("\n## ") {
        Some(end) => &rest[..end],
        None => rest,
    }
}

/// The arguments and computed-only attributes of `block` and its nested blocks.
fn names(block: &Block, arguments: &mut Vec<String>, attributes: &mut Vec<String>) {
    for a in &block.attributes {
        if a.required || a.optional {
            arguments.push(a.name.clone());
        } else {
            attributes.push(a.name.clone());
        }
    }
    for b in &block.blocks {
        arguments.push(b.type_name.clone());
        names(&b.block, arguments, attributes);
    }
}

/// Checks one page; returns what is wrong with it.
fn check_page(path: &Path, block: &Block, import: bool) -> Vec<String> {
    let page = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: cannot read the page: {e}", path.display()));
    let mut problems = Vec::new();
    let front = page
        .strip_prefix("---\n")
        .and_then(|rest| rest.split_once("\n---\n"))
        .map(|(front, _)| front)
        .unwrap_or_default();
    for key in ["page_title:", "subcategory:", "description:"] {
        if !front.lines().any(|l| l.starts_with(key)) {
            problems.push(format!("front matter has no {key}"));
        }
    }
    let mut headings = vec!["Example Usage", "Argument Reference", "Attribute Reference"];
    if import {
        headings.push("Import");
    }
    for heading in headings {
        if !page.contains(&format!("\n## {heading}\n")) {
            problems.push(format!("no \"## {heading}\" section"));
        }
    }
    if !problems.is_empty() {
        return problems;
    }
    let documented_arguments = bullets(section(&page, "Argument Reference", path));
    let documented_attributes = bullets(section(&page, "Attribute Reference", path));
    let (mut arguments, mut attributes) = (Vec::new(), Vec::new());
    names(block, &mut arguments, &mut attributes);
    for name in arguments {
        if !documented_arguments.contains(&name) {
            problems.push(format!(
                "argument `{name}` is not in the Argument Reference"
            ));
        }
    }
    for name in attributes {
        if !documented_attributes.contains(&name) {
            problems.push(format!(
                "attribute `{name}` is not in the Attribute Reference"
            ));
        }
    }
    problems
}

#[test]
fn every_argument_and_attribute_is_documented() {
    let provider = TfeProvider::new();
    let docs = repo_root().join("docs");
    let mut problems = Vec::new();
    let mut pages = 0;
    let mut report = |path: &Path, found: Vec<String>| {
        pages += 1;
        problems.extend(
            found
                .into_iter()
                .map(|p| format!("{}: {p}", path.display())),
        );
    };
    for resource in provider.resources() {
        let name = resource
            .type_name()
            .strip_prefix("tfe_")
            .unwrap()
            .to_string();
        let path = docs.join(format!("resources/{name}.md"));
        report(&path, check_page(&path, &resource.schema().block, true));
    }
    for data_source in provider.data_sources() {
        let name = data_source
            .type_name()
            .strip_prefix("tfe_")
            .unwrap()
            .to_string();
        let path = docs.join(format!("data-sources/{name}.md"));
        report(&path, check_page(&path, &data_source.schema().block, false));
    }
    // The provider's own arguments, on the index page (which has no attribute reference).
    let index = docs.join("index.md");
    let page = std::fs::read_to_string(&index).unwrap();
    let documented = bullets(section(&page, "Argument Reference", &index));
    for a in &provider.schema().block.attributes {
        if !documented.contains(&a.name) {
            problems.push(format!(
                "{}: provider argument `{}` is not documented",
                index.display(),
                a.name
            ));
        }
    }
    assert!(pages >= 5, "only {pages} pages checked");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_check_notices_an_undocumented_argument() {
    let provider = TfeProvider::new();
    let run = provider
        .resources()
        .into_iter()
        .find(|r| r.type_name() == "tfe_workspace_run")
        .unwrap();
    let mut block = run.schema().block;
    block.attributes.push(tfplugin::Attribute::optional(
        "not_documented_anywhere",
        tfplugin::Type::String,
    ));
    let path = repo_root().join("docs/resources/workspace_run.md");
    let problems = check_page(&path, &block, true);
    assert_eq!(
        problems,
        ["argument `not_documented_anywhere` is not in the Argument Reference"]
    );
}

/// Every directory under examples/ with .tf files.
fn example_dirs() -> Vec<String> {
    let mut dirs = Vec::new();
    let mut stack = vec![repo_root().join("examples")];
    while let Some(dir) = stack.pop() {
        let mut has_tf = false;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "tf") {
                has_tf = true;
            }
        }
        if has_tf {
            let relative = dir.strip_prefix(repo_root()).unwrap();
            dirs.push(relative.display().to_string());
        }
    }
    dirs.sort();
    dirs
}

#[test]
fn every_example_validates_with_both_clis() {
    let dirs = example_dirs();
    assert!(dirs.len() >= 6, "examples found: {dirs:?}");
    let overrides = DevOverrides::new();
    for cli in all_clis() {
        for dir in &dirs {
            let work = workdir_from_examples(dir);
            let out = run_terraform(
                &cli,
                work.path(),
                &overrides,
                &["validate", "-no-color"],
                &[],
            );
            assert!(
                out.success,
                "{}: {dir} does not validate\n{}",
                cli.label,
                out.combined()
            );
        }
    }
}
