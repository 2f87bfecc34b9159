//! The Terraform versions a workspace's `terraform-version` may name, as HCP Terraform's tool-version list
//! has them: a release (0.11.0 up to the newest patch of each minor series below), one of its pre-releases
//! (`1.10.0-beta1`), `latest`, or a version constraint (`~> 1.9.0`, `>= 1.5`) over such versions.

/// Each minor series Terraform released, with its newest patch.
const SERIES: &[((u32, u32), u32)] = &[
    ((0, 11), 15),
    ((0, 12), 31),
    ((0, 13), 7),
    ((0, 14), 11),
    ((0, 15), 5),
    ((1, 0), 11),
    ((1, 1), 9),
    ((1, 2), 9),
    ((1, 3), 10),
    ((1, 4), 7),
    ((1, 5), 7),
    ((1, 6), 6),
    ((1, 7), 5),
    ((1, 8), 5),
    ((1, 9), 8),
    ((1, 10), 5),
    ((1, 11), 4),
    ((1, 12), 2),
    ((1, 13), 5),
    ((1, 14), 3),
];

fn newest_patch(major: u32, minor: u32) -> Option<u32> {
    SERIES
        .iter()
        .find(|(series, _)| *series == (major, minor))
        .map(|(_, patch)| *patch)
}

fn numbers(text: &str) -> Option<Vec<u32>> {
    text.split('.').map(|n| n.parse().ok()).collect()
}

/// `X.Y.Z` or `X.Y.Z-pre`, a real release (or pre-release) of Terraform.
fn is_release(version: &str) -> bool {
    let (core, pre) = match version.split_once('-') {
        Some((core, pre)) => (core, Some(pre)),
        None => (version, None),
    };
    let Some(parts) = numbers(core) else {
        return false;
    };
    let [major, minor, patch] = parts[..] else {
        return false;
    };
    let pre_ok = pre.is_none_or(|p| {
        ["alpha", "beta", "rc"].iter().any(|kind| {
            p.strip_prefix(kind)
                .is_some_and(|rest| rest.chars().all(|c| c.is_ascii_alphanumeric()))
        })
    });
    pre_ok && newest_patch(major, minor).is_some_and(|newest| patch <= newest)
}

/// One constraint's version: `X`, `X.Y` or `X.Y.Z` of a known series.
fn is_constraint_version(version: &str) -> bool {
    let Some(parts) = numbers(version) else {
        return false;
    };
    match parts[..] {
        [major] => SERIES.iter().any(|((m, _), _)| *m == major),
        [major, minor] => newest_patch(major, minor).is_some(),
        [_, _, _] => is_release(version),
        _ => false,
    }
}

/// `Ok` for a version HCP Terraform would accept; the 422 text naming it otherwise.
/// The concrete version a run under the workspace's `terraform-version` uses, as a state records it: a release
/// as it is; `latest` or a constraint as the newest release this list knows (constraints are not solved).
pub(crate) fn concrete(version: &str) -> String {
    if is_release(version) {
        return version.to_string();
    }
    let ((major, minor), patch) = SERIES.last().expect("the list is not empty");
    format!("{major}.{minor}.{patch}")
}

pub(crate) fn check(version: &str) -> Result<(), String> {
    let v = version.trim();
    if v == "latest" || is_release(v) {
        return Ok(());
    }
    let constraint = !v.is_empty()
        && v.split(',').all(|part| {
            let part = part.trim();
            let Some((op, rest)) = ["~>", ">=", "<=", "!=", ">", "<", "="]
                .iter()
                .find_map(|op| part.strip_prefix(op).map(|rest| (*op, rest.trim())))
            else {
                return false;
            };
            // An upper bound or an exclusion may name a version to come; what selects one must exist.
            if matches!(op, "<" | "<=" | "!=") {
                numbers(rest).is_some_and(|n| (1..=3).contains(&n.len()))
            } else {
                is_constraint_version(rest)
            }
        });
    if constraint {
        return Ok(());
    }
    let (newest_series, newest) = SERIES.last().expect("series");
    Err(format!(
        "Terraform version {version:?} is not an available version: use a Terraform release from 0.11.0 to \
         {}.{}.{newest} (e.g. 1.9.8), \"latest\", or a version constraint such as \"~> 1.9.0\"",
        newest_series.0, newest_series.1
    ))
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn releases_latest_and_constraints_pass_and_others_are_named() {
        for ok in [
            "1.9.8",
            "0.12.31",
            "1.0.3",
            "1.10.0-beta1",
            "latest",
            "~> 1.9.0",
            ">= 1.5, < 2",
        ] {
            assert_eq!(check(ok), Ok(()), "{ok}");
        }
        for bad in ["1.99.0", "1.9.99", "banana", "", "v1.9.8", "~> 7", "1.9"] {
            let err = check(bad).unwrap_err();
            assert!(err.contains(&format!("{bad:?}")), "{err}");
        }
    }
}
