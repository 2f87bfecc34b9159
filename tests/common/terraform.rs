//! Locating the Terraform CLIs and running them against the built provider.
//!
//! Both CLIs are required: `terraform` on PATH (the current release) and
//! `.tools/bin/terraform-1.0.3` under the crate root (the oldest release with protocol 6).
//! A missing CLI fails the test with a message saying `make tools` installs it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;

/// The crate root (where Cargo.toml lives).
pub(crate) fn crate_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The provider binary Cargo built for this test run.
pub(crate) fn provider_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_terraform-provider-tfe"))
}

/// One Terraform CLI.
#[derive(Debug, Clone)]
pub(crate) struct TerraformCli {
    pub label: String,
    pub path: PathBuf,
}

/// `terraform` from PATH.
pub(crate) fn current_terraform() -> TerraformCli {
    let found = std::env::var_os("PATH")
        .map(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join("terraform"))
                .find(|p| p.is_file())
        })
        .unwrap_or_default();
    match found {
        Some(path) => TerraformCli {
            label: "terraform (PATH)".into(),
            path,
        },
        None => panic!(
            "the Terraform CLI `terraform` was not found on PATH: run `make tools` to install it"
        ),
    }
}

/// `.tools/bin/terraform-1.0.3` under the crate root.
pub(crate) fn terraform_1_0_3() -> TerraformCli {
    let path = crate_root().join(".tools/bin/terraform-1.0.3");
    assert!(
        path.is_file(),
        "Terraform 1.0.3 was not found at {}: run `make tools` to install it",
        path.display()
    );
    TerraformCli {
        label: "terraform 1.0.3".into(),
        path,
    }
}

/// Both CLIs the provider must work with.
pub(crate) fn all_clis() -> Vec<TerraformCli> {
    vec![current_terraform(), terraform_1_0_3()]
}

/// A CLI configuration whose dev_overrides point `hashicorp/tfe` at the built provider, so
/// validate/plan work offline without `terraform init`. Its directory also serves as HOME, so
/// the developer's own ~/.terraformrc and credentials never leak into tests.
pub(crate) struct DevOverrides {
    pub dir: TempDir,
    pub config_file: PathBuf,
}

impl DevOverrides {
    pub(crate) fn new() -> Self {
        Self::with_extra("")
    }

    /// `extra` is appended to the CLI configuration, e.g. a `credentials` block.
    pub(crate) fn with_extra(extra: &str) -> Self {
        let dir = tempfile::tempdir().expect("temp dir for the CLI configuration");
        let provider_dir = provider_binary()
            .parent()
            .expect("binary has a directory")
            .to_path_buf();
        let config_file = dir.path().join("cli.tfrc");
        let text = format!(
            "provider_installation {{\n  dev_overrides {{\n    \"hashicorp/tfe\" = {:?}\n  }}\n  direct {{}}\n}}\n{extra}\n",
            provider_dir.display().to_string()
        );
        std::fs::write(&config_file, text).expect("write the CLI configuration");
        DevOverrides { dir, config_file }
    }

    pub(crate) fn home(&self) -> &Path {
        self.dir.path()
    }
}

impl Default for DevOverrides {
    fn default() -> Self {
        Self::new()
    }
}

/// A working directory holding a copy of some .tf files.
pub(crate) fn workdir_with(files: &[(&str, &str)]) -> TempDir {
    let dir = tempfile::tempdir().expect("temp working directory");
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).expect("write a .tf file");
    }
    dir
}

/// A working directory holding a copy of every .tf file in `examples_dir` (relative to the crate root).
pub(crate) fn workdir_from_examples(examples_dir: &str) -> TempDir {
    let dir = tempfile::tempdir().expect("temp working directory");
    let source = crate_root().join(examples_dir);
    let mut copied = 0;
    for entry in
        std::fs::read_dir(&source).unwrap_or_else(|e| panic!("read {}: {e}", source.display()))
    {
        let path = entry.expect("directory entry").path();
        if path.extension().is_some_and(|e| e == "tf") {
            std::fs::copy(&path, dir.path().join(path.file_name().unwrap()))
                .expect("copy an example");
            copied += 1;
        }
    }
    assert!(copied > 0, "no .tf files in {}", source.display());
    dir
}

/// The result of one Terraform command, with output kept for assertions and failure messages.
pub(crate) struct TerraformRun {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

impl TerraformRun {
    pub(crate) fn combined(&self) -> String {
        format!("--- stdout\n{}\n--- stderr\n{}", self.stdout, self.stderr)
    }
}

impl From<Output> for TerraformRun {
    fn from(out: Output) -> Self {
        TerraformRun {
            success: out.status.success(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// Runs `cli args...` in `workdir` with the dev overrides, a clean environment for the provider
/// (no TFE_* or TF_LOG* from the caller) and `env` on top.
pub(crate) fn run_terraform(
    cli: &TerraformCli,
    workdir: &Path,
    overrides: &DevOverrides,
    args: &[&str],
    env: &[(&str, &str)],
) -> TerraformRun {
    let mut command = Command::new(&cli.path);
    command.args(args).current_dir(workdir);
    for (key, _) in std::env::vars() {
        if key.starts_with("TFE_") || key.starts_with("TF_") {
            command.env_remove(&key);
        }
    }
    command
        .env("TF_CLI_CONFIG_FILE", &overrides.config_file)
        .env("HOME", overrides.home())
        .env("CHECKPOINT_DISABLE", "1")
        .env("TF_IN_AUTOMATION", "1")
        .env("TF_INPUT", "0");
    for (key, value) in env {
        command.env(key, value);
    }
    command
        .output()
        .unwrap_or_else(|e| panic!("could not run {} ({}): {e}", cli.label, cli.path.display()))
        .into()
}
