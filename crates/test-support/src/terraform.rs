//! Locating the Terraform CLIs and running them against the built provider: [`command`] is the one way a
//! test starts Terraform (dev overrides, a scrubbed environment), whether it waits for the output
//! ([`run_terraform`]), spawns it ([`Session::spawn`](crate::session::Session::spawn)) or bounds it in time
//! ([`TerraformProcess`](crate::runs::TerraformProcess)); [`APPLY`] and [`DESTROY`] are the arguments
//! every test applies and destroys with.
//!
//! Both CLIs are required: `terraform` on PATH (the current release) and
//! `.tools/bin/terraform-1.0.3` under the repository root (the oldest release with protocol 6).
//! A missing CLI fails the test with a message saying `make tools` installs it.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;

/// `terraform apply` without questions, colours or a state lock.
pub const APPLY: &[&str] = &[
    "apply",
    "-auto-approve",
    "-input=false",
    "-no-color",
    "-lock=false",
];
/// `terraform destroy` without questions, colours or a state lock.
pub const DESTROY: &[&str] = &[
    "destroy",
    "-auto-approve",
    "-input=false",
    "-no-color",
    "-lock=false",
];

/// The repository root (the workspace's Cargo.toml, `.tools/`, `examples/`).
pub fn repo_root() -> PathBuf {
    // This crate is crates/test-support.
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/test-support is two levels below the root")
        .to_path_buf()
}

/// The provider binary Cargo built for this test run: cargo builds a package's binaries before its
/// integration tests, beside their `deps/` directory (`target/<profile>/terraform-provider-tfe`).
pub fn provider_binary() -> PathBuf {
    built_binary("terraform-provider-tfe")
}

/// A binary of this workspace in the target directory the running test was built in.
pub(crate) fn built_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // target/<profile>/deps/<test> -> target/<profile>/<name>
    let path = exe
        .parent()
        .and_then(Path::parent)
        .expect("target directory")
        .join(name);
    assert!(
        path.exists(),
        "{} is missing: build it with `cargo build --workspace --bins`",
        path.display()
    );
    path
}

/// One Terraform CLI.
#[derive(Debug, Clone)]
pub struct TerraformCli {
    /// How failure messages name it, e.g. `terraform 1.0.3`.
    pub label: String,
    /// Its executable.
    pub path: PathBuf,
}

/// `terraform` from PATH.
pub fn current_terraform() -> TerraformCli {
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

/// `.tools/bin/terraform-1.0.3` under the repository root.
pub fn terraform_1_0_3() -> TerraformCli {
    let path = repo_root().join(".tools/bin/terraform-1.0.3");
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
pub fn all_clis() -> Vec<TerraformCli> {
    vec![current_terraform(), terraform_1_0_3()]
}

/// A CLI configuration whose dev_overrides point `hashicorp/tfe` at the built provider, so
/// validate/plan work offline without `terraform init`. Its directory also serves as HOME, so
/// the developer's own ~/.terraformrc and credentials never leak into tests.
pub struct DevOverrides {
    /// The directory of the configuration, also HOME.
    pub dir: TempDir,
    /// The CLI configuration (`TF_CLI_CONFIG_FILE`).
    pub config_file: PathBuf,
}

impl DevOverrides {
    /// Dev overrides and nothing else.
    pub fn new() -> Self {
        Self::with_extra("")
    }

    /// `extra` is appended to the CLI configuration, e.g. a `credentials` block.
    pub fn with_extra(extra: &str) -> Self {
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

    /// HOME for Terraform and the provider.
    pub fn home(&self) -> &Path {
        self.dir.path()
    }
}

impl Default for DevOverrides {
    fn default() -> Self {
        Self::new()
    }
}

/// A working directory holding a copy of some .tf files.
pub fn workdir_with(files: &[(&str, &str)]) -> TempDir {
    let dir = tempfile::tempdir().expect("temp working directory");
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).expect("write a .tf file");
    }
    dir
}

/// A working directory holding a copy of every .tf file in `examples_dir` (relative to the repository root).
pub fn workdir_from_examples(examples_dir: &str) -> TempDir {
    let dir = tempfile::tempdir().expect("temp working directory");
    let source = repo_root().join(examples_dir);
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
pub struct TerraformRun {
    /// Whether it exited with status 0.
    pub success: bool,
    /// Everything it printed on stdout.
    pub stdout: String,
    /// Everything it printed on stderr.
    pub stderr: String,
}

impl TerraformRun {
    /// Both outputs, labelled, for failure messages.
    pub fn combined(&self) -> String {
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

/// `cli args...` in `workdir` with the dev overrides, a clean environment for the provider (no TFE_* or
/// TF_* from the caller, no checkpoint calls, no prompts) and `env` on top; the caller sets its stdio and
/// starts it.
pub fn command<K, V>(
    cli: &TerraformCli,
    workdir: &Path,
    overrides: &DevOverrides,
    args: &[&str],
    env: impl IntoIterator<Item = (K, V)>,
) -> Command
where
    K: AsRef<OsStr>,
    V: AsRef<OsStr>,
{
    let mut command = Command::new(&cli.path);
    command.args(args).current_dir(workdir);
    for (key, _) in std::env::vars() {
        if key.starts_with("TFE_") || key.starts_with("TF_") || key.starts_with("TFPLUGIN_") {
            command.env_remove(&key);
        }
    }
    command
        .env("TF_CLI_CONFIG_FILE", &overrides.config_file)
        .env("HOME", overrides.home())
        .env("CHECKPOINT_DISABLE", "1")
        .env("TF_IN_AUTOMATION", "1")
        .env("TF_INPUT", "0")
        .envs(env);
    command
}

/// Runs [`command`] to the end and keeps its output.
pub fn run_terraform(
    cli: &TerraformCli,
    workdir: &Path,
    overrides: &DevOverrides,
    args: &[&str],
    env: &[(&str, &str)],
) -> TerraformRun {
    command(cli, workdir, overrides, args, env.iter().copied())
        .output()
        .unwrap_or_else(|e| panic!("could not run {} ({}): {e}", cli.label, cli.path.display()))
        .into()
}
