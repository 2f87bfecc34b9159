//! `make release` (scripts/release.sh) with a throwaway GPG key, packaging the binary this test
//! run built: the registry's files are there, the sums match and the signature verifies; then
//! both Terraform CLIs install the linux zip through a provider network mirror served on loopback
//! and through `terraform init -plugin-dir`, and apply against tfe-emulator. Also `--version`.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::json;

use test_support::check;
use test_support::emulator::TestEmulator;
use test_support::https_mirror::{NetworkMirror, ca_bundle, sha256_hex};
use test_support::mirror::VERSION;
use test_support::session::*;
use test_support::terraform::{DevOverrides, all_clis, provider_binary, repo_root};

const PLATFORM: &str = "linux_amd64";
const INIT: &[&str] = &["init", "-input=false", "-no-color"];

fn tool(name: &str) {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {name}")])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "`{name}` is not installed: `make tools` (check-release-tools) installs it"
    );
}

/// A throwaway signing key in its own key ring: (GNUPGHOME, fingerprint).
fn throwaway_key(dir: &Path) -> (PathBuf, String) {
    tool("gpg");
    let home = dir.join("gnupg");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::set_permissions(&home, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    let gpg = |args: &[&str]| {
        let out = Command::new("gpg")
            .env("GNUPGHOME", &home)
            .args(["--batch", "--no-tty"])
            .args(args)
            .output()
            .expect("run gpg");
        assert!(
            out.status.success(),
            "gpg {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    gpg(&[
        "--passphrase",
        "",
        "--quick-generate-key",
        "Release Test <release-test@example.invalid>",
        "ed25519",
        "sign",
        "1d",
    ]);
    let listing = gpg(&["--with-colons", "--list-secret-keys"]);
    let fingerprint = listing
        .lines()
        .find_map(|l| l.strip_prefix("fpr:"))
        .and_then(|rest| rest.split(':').find(|f| !f.is_empty()))
        .expect("a fingerprint")
        .to_string();
    (home, fingerprint)
}

struct Release {
    dir: tempfile::TempDir,
    gnupg: PathBuf,
    log: String,
}

/// Stops the gpg-agent that signing started for the throwaway key ring.
impl Drop for Release {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf")
            .env("GNUPGHOME", &self.gnupg)
            .args(["--kill", "all"])
            .status();
    }
}

impl Release {
    fn file(&self, suffix: &str) -> PathBuf {
        self.dir
            .path()
            .join("out")
            .join(format!("terraform-provider-tfe_{VERSION}_{suffix}"))
    }
}

fn make_release() -> Release {
    tool("zip");
    tool("unzip");
    let dir = tempfile::tempdir().unwrap();
    let (gnupg, fingerprint) = throwaway_key(dir.path());
    let out = Command::new("bash")
        .arg(repo_root().join("scripts/release.sh"))
        .env("OUT_DIR", dir.path().join("out"))
        .env("GNUPGHOME", &gnupg)
        .env("GPG_FINGERPRINT", &fingerprint)
        .env("RELEASE_BINARY", provider_binary())
        .output()
        .expect("run scripts/release.sh");
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "release failed:\n{log}");
    Release { dir, gnupg, log }
}

#[test]
fn a_release_without_a_signing_key_stops_naming_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new("bash")
        .arg(repo_root().join("scripts/release.sh"))
        .env("OUT_DIR", dir.path().join("out"))
        .env_remove("GPG_FINGERPRINT")
        .env("RELEASE_BINARY", provider_binary())
        .output()
        .expect("run scripts/release.sh");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "an unsigned release succeeded");
    assert!(stderr.contains("GPG_FINGERPRINT is not set"), "{stderr}");
    assert!(!dir.path().join("out").exists(), "files were written");
}

#[test]
fn release_files_are_what_the_registry_expects() {
    let release = make_release();
    let zip = release.file(&format!("{PLATFORM}.zip"));
    let sums = release.file("SHA256SUMS");
    let manifest = release.file("manifest.json");
    for file in [&zip, &sums, &manifest, &release.file("SHA256SUMS.sig")] {
        assert!(
            file.is_file(),
            "{} missing\n{}",
            file.display(),
            release.log
        );
    }
    // The platforms it cannot build here are named with a reason.
    for other in [
        "linux_arm64",
        "darwin_amd64",
        "darwin_arm64",
        "windows_amd64",
        "windows_arm64",
    ] {
        let built = release.file(&format!("{other}.zip")).is_file();
        assert!(
            built || release.log.contains(&format!("not built: {other}: ")),
            "{other}: neither built nor explained\n{}",
            release.log
        );
    }
    // The manifest is the repository's.
    assert_eq!(
        std::fs::read_to_string(&manifest).unwrap(),
        std::fs::read_to_string(repo_root().join("terraform-registry-manifest.json")).unwrap()
    );
    // The sums list the zip and the manifest, with their real hashes.
    let text = std::fs::read_to_string(&sums).unwrap();
    for file in [&zip, &manifest] {
        let line = format!(
            "{}  {}",
            sha256_hex(file),
            file.file_name().unwrap().to_string_lossy()
        );
        assert!(text.lines().any(|l| l == line), "{line} not in\n{text}");
    }
    // The signature verifies with the key, and fails for altered sums.
    let verify = |sums: &Path| {
        Command::new("gpg")
            .env("GNUPGHOME", &release.gnupg)
            .args(["--batch", "--verify"])
            .arg(release.file("SHA256SUMS.sig"))
            .arg(sums)
            .output()
            .expect("run gpg --verify")
            .status
            .success()
    };
    assert!(verify(&sums), "the signature does not verify");
    let altered = release.dir.path().join("altered");
    std::fs::write(&altered, format!("{text}0000  extra\n")).unwrap();
    assert!(!verify(&altered), "an altered SHA256SUMS verified");
    // The zip holds the binary under the name Terraform looks for.
    let listing = Command::new("unzip").arg("-Z1").arg(&zip).output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&listing.stdout).trim(),
        format!("terraform-provider-tfe_v{VERSION}")
    );
}

fn apply_and_check(s: &Session<'_>, ws: &str, extra_env: &[(&str, &str)]) {
    let out = s.terraform_with(INIT, extra_env);
    check!(out.success, s, out, "init failed");
    let out = s.terraform_with(APPLY, extra_env);
    check!(out.success, s, out, "apply failed");
    let runs = s.emu.workspace_runs(ws);
    assert_eq!(statuses(&runs), ["applied"], "{}", s.cli.label);
}

#[test]
fn the_linux_zip_installs_through_a_network_mirror_and_plugin_dir() {
    let release = make_release();
    let zip = release.file(&format!("{PLATFORM}.zip"));
    let emu = TestEmulator::start();
    let mirror = NetworkMirror::serve(&zip, VERSION, PLATFORM, &["hashicorp/tfe", "tferun/tfe"]);

    // The network mirror: its CA and the emulator's, for Terraform and the provider alike.
    let network = DevOverrides::with_extra("");
    std::fs::write(
        &network.config_file,
        format!(
            "provider_installation {{\n  network_mirror {{\n    url = \"{}\"\n  }}\n}}\n",
            mirror.url
        ),
    )
    .unwrap();
    let emulator_ca = std::fs::read_to_string(&emu.ca_file).unwrap();
    let bundle = ca_bundle(network.home(), &[&mirror.ca_pem, &emulator_ca]);
    let bundle = bundle.display().to_string();

    // -plugin-dir with the zip in the packed layout.
    let plugin_dir = release.dir.path().join("plugins");
    for address in ["hashicorp/tfe", "tferun/tfe"] {
        let dir = plugin_dir.join("registry.terraform.io").join(address);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(&zip, dir.join(zip.file_name().unwrap())).unwrap();
    }
    let no_installation = DevOverrides::with_extra("");
    std::fs::write(&no_installation.config_file, "").unwrap();

    let side_by_side = |ws: &str| {
        format!(
            "terraform {{\n  required_providers {{\n    tferun = {{ source = \"tferun/tfe\" }}\n  }}\n}}\n\n\
             resource \"tfe_workspace_run\" \"r\" {{\n  provider     = tferun\n  workspace_id = \"{ws}\"\n{}}}\n",
            apply_block("")
        )
    };
    for cli in all_clis() {
        // Drop-in address through the network mirror.
        let ws = workspace(&emu, &cli, "netmirror", json!({}));
        let s = Session::new(&emu, &cli, &network, &config(&ws, &apply_block("")));
        apply_and_check(&s, &ws, &[("SSL_CERT_FILE", &bundle)]);
        let lock = std::fs::read_to_string(s.dir.path().join(".terraform.lock.hcl")).unwrap();
        assert!(
            lock.contains("provider \"registry.terraform.io/hashicorp/tfe\"")
                && lock.contains(&format!("version = \"{VERSION}\"")),
            "{}: lock file\n{lock}",
            cli.label
        );

        // Second address through the network mirror.
        let ws = workspace(&emu, &cli, "netmirror-sbs", json!({}));
        let s = Session::new(&emu, &cli, &network, &side_by_side(&ws));
        apply_and_check(&s, &ws, &[("SSL_CERT_FILE", &bundle)]);

        // -plugin-dir, both addresses.
        let dir_flag = format!("-plugin-dir={}", plugin_dir.display());
        for (name, second_address) in [("plugindir", false), ("plugindir-sbs", true)] {
            let ws = workspace(&emu, &cli, name, json!({}));
            let text = if second_address {
                side_by_side(&ws)
            } else {
                config(&ws, &apply_block(""))
            };
            let s = Session::new(&emu, &cli, &no_installation, &text);
            let out = s.terraform(&["init", "-input=false", "-no-color", &dir_flag]);
            check!(out.success, s, out, "init -plugin-dir failed");
            let out = s.terraform(APPLY);
            check!(out.success, s, out, "apply failed");
            assert_eq!(
                statuses(&emu.workspace_runs(&ws)),
                ["applied"],
                "{}",
                cli.label
            );
        }
    }
    let asked = mirror.requests();
    for address in ["hashicorp/tfe", "tferun/tfe"] {
        let zip_path = format!(
            "/providers/registry.terraform.io/{address}/{}",
            zip.file_name().unwrap().to_string_lossy()
        );
        assert!(
            asked.contains(&zip_path),
            "the mirror was never asked for {zip_path}: {asked:?}"
        );
    }
}

#[test]
fn version_names_the_version_and_the_commit() {
    let out = Command::new(provider_binary())
        .arg("--version")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with(&format!("terraform-provider-tfe {VERSION} (commit ")),
        "{text}"
    );
    let commit = text
        .trim()
        .rsplit("commit ")
        .next()
        .unwrap()
        .trim_end_matches(')');
    // Built from a git checkout, the commit is HEAD's (build.rs reruns when HEAD moves); without git, "unknown".
    let head = Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(repo_root())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    assert_eq!(commit, head.as_deref().unwrap_or("unknown"), "{text}");
}
