//! A filesystem mirror laid out as `make install` lays it out (this provider under both of its
//! addresses) plus HashiCorp's Go null provider 2.1.2, and a CLI configuration that installs only
//! from it, so `terraform init` works offline with required_providers as a user writes them.

use std::path::{Path, PathBuf};

use crate::terraform::{DevOverrides, provider_binary, repo_root};

/// The second address this provider is published under, for use beside the official hashicorp/tfe.
pub const SIDE_BY_SIDE_SOURCE: &str = "tferun/tfe";
/// The version the mirror offers (the crate's).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// `.tools/bin/terraform-provider-null_v2.1.2_x4`, installed by `make tools`.
pub fn null_provider() -> PathBuf {
    let path = repo_root().join(".tools/bin/terraform-provider-null_v2.1.2_x4");
    assert!(
        path.is_file(),
        "the null provider 2.1.2 was not found at {}: run `make tools` to install it",
        path.display()
    );
    path
}

fn place(binary: &Path, dir: &Path, file_name: &str) {
    std::fs::create_dir_all(dir).expect("mirror directory");
    let target = dir.join(file_name);
    std::fs::copy(binary, &target)
        .unwrap_or_else(|e| panic!("copy {} to {}: {e}", binary.display(), target.display()));
}

/// Lays out the mirror under `root`: `registry.terraform.io/{hashicorp,tferun}/tfe/<version>/linux_amd64/`
/// with the provider this test run built, and `registry.terraform.io/hashicorp/null/2.1.2/linux_amd64/`.
pub fn lay_out(root: &Path) {
    for namespace in ["hashicorp", "tferun"] {
        place(
            &provider_binary(),
            &root.join(format!(
                "registry.terraform.io/{namespace}/tfe/{VERSION}/linux_amd64"
            )),
            &format!("terraform-provider-tfe_v{VERSION}"),
        );
    }
    place(
        &null_provider(),
        &root.join("registry.terraform.io/hashicorp/null/2.1.2/linux_amd64"),
        "terraform-provider-null_v2.1.2_x4",
    );
}

/// A mirror in a fresh temporary directory, and a CLI configuration (returned as a [`DevOverrides`],
/// whose directory also serves as HOME) that installs every provider from it and nothing else.
pub fn mirror_config() -> DevOverrides {
    let dir = tempfile::tempdir().expect("temp dir for the mirror");
    let mirror = dir.path().join("plugins");
    lay_out(&mirror);
    let config_file = dir.path().join("cli.tfrc");
    std::fs::write(
        &config_file,
        format!(
            "provider_installation {{\n  filesystem_mirror {{\n    path = {:?}\n  }}\n}}\n",
            mirror.display().to_string()
        ),
    )
    .expect("write the CLI configuration");
    DevOverrides { dir, config_file }
}
