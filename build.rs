//! Records the commit the provider is built from, for `terraform-provider-tfe --version`:
//! `TFE_PROVIDER_COMMIT` when set (e.g. a build from a source archive), else `git rev-parse HEAD`
//! of the checkout, else "unknown" (no git, or not a git checkout: the build still succeeds).

use std::path::PathBuf;
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!text.is_empty()).then_some(text)
}

fn main() {
    println!("cargo:rerun-if-env-changed=TFE_PROVIDER_COMMIT");
    let commit = match std::env::var("TFE_PROVIDER_COMMIT") {
        Ok(commit) if !commit.trim().is_empty() => commit.trim().to_string(),
        _ => {
            // Rebuild when HEAD moves: HEAD itself, the branch it points at, and packed refs.
            let mut watched = vec!["HEAD".to_string(), "packed-refs".to_string()];
            if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
                watched.push(branch);
            }
            for name in watched {
                let Some(path) = git(&["rev-parse", "--path-format=absolute", "--git-path", &name])
                else {
                    continue;
                };
                let path = PathBuf::from(path);
                // A branch whose ref is still packed gets a loose file on its next commit: watch the
                // folder it appears in as well.
                let folder = path
                    .parent()
                    .filter(|_| name.starts_with("refs/") && !path.exists());
                for watch in [Some(path.as_path()), folder].into_iter().flatten() {
                    if watch.exists() {
                        println!("cargo:rerun-if-changed={}", watch.display());
                    }
                }
            }
            git(&["rev-parse", "HEAD"]).unwrap_or_else(|| "unknown".to_string())
        }
    };
    println!("cargo:rustc-env=TFE_PROVIDER_COMMIT={commit}");
}
