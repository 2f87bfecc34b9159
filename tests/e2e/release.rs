//! `make release` (scripts/release.sh) with a throwaway GPG key, packaging the binary this test
//! run built: the registry's files are there, the sums match and the signature verifies; then
//! both Terraform CLIs install the linux zip through a provider network mirror served on loopback
//! and through `terraform init -plugin-dir`, and apply against tfe-emulator. Also `--version`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use test_support::check;
use test_support::emulator::TestEmulator;
use test_support::https_mirror::{NetworkMirror, ca_bundle, sha256_hex};
use test_support::mirror::VERSION;
use test_support::session::*;
use test_support::terraform::{
    DevOverrides, all_clis, provider_binary, repo_root, run_terraform, workdir_with,
};

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

// ---------- Other platforms: a cross build in every run, every release artefact in `make release-check` ----------

/// The platforms the registry expects of every provider.
const REQUIRED_PLATFORMS: [&str; 5] = [
    "darwin_amd64",
    "darwin_arm64",
    "linux_amd64",
    "linux_arm64",
    "windows_amd64",
];
/// The arm64 C library qemu-user runs the linux_arm64 binary with (Debian's libc6-arm64-cross).
const ARM64_SYSROOT: &str = "/usr/aarch64-linux-gnu";
const COOKIE: &str = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

/// `.tools/cross/bin` first on PATH and cargo-zigbuild's cache inside `.tools/cross`, as `make release` runs.
fn cross_env() -> Vec<(&'static str, String)> {
    let cross = repo_root().join(".tools/cross");
    assert!(
        cross.join("bin/cargo-zigbuild").is_file(),
        "cargo-zigbuild is not installed in {}: `make cross-tools` (part of `make tools`) installs it",
        cross.display()
    );
    vec![
        (
            "PATH",
            format!(
                "{}:{}",
                cross.join("bin").display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        ),
        (
            "CARGO_ZIGBUILD_CACHE_DIR",
            cross.join("cache").display().to_string(),
        ),
    ]
}

/// Runs `command` to its end, or kills it after `limit`: (success, stdout and stderr).
fn run_within(mut command: Command, limit: Duration) -> (bool, String) {
    use std::io::Read;
    let shown = format!("{command:?}");
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("could not start {shown}: {e}"));
    let readers = [
        child.stdout.take().map(|mut s| {
            std::thread::spawn(move || {
                let mut text = String::new();
                let _ = s.read_to_string(&mut text);
                text
            })
        }),
        child.stderr.take().map(|mut s| {
            std::thread::spawn(move || {
                let mut text = String::new();
                let _ = s.read_to_string(&mut text);
                text
            })
        }),
    ];
    let until = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if Instant::now() > until {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let output: String = readers
        .into_iter()
        .flatten()
        .map(|r| r.join().unwrap_or_default())
        .collect();
    match status {
        Some(status) => (status.success(), output),
        None => (
            false,
            format!("{shown} ran over {limit:?}; killed\n{output}"),
        ),
    }
}

/// Builds the provider in debug mode for `target` (with cargo-zigbuild, as releases are built) and
/// returns the binary.
fn cross_build_debug(target: &str, zig_target: &str) -> PathBuf {
    let target_dir = provider_binary()
        .parent()
        .and_then(Path::parent)
        .expect("the target directory")
        .to_path_buf();
    let mut command = Command::new("cargo-zigbuild");
    command
        .args(["build", "--locked", "--bin", "terraform-provider-tfe"])
        .args(["--target", zig_target])
        .env("CARGO_TARGET_DIR", &target_dir)
        .current_dir(repo_root())
        .envs(cross_env());
    let (ok, log) = run_within(command, Duration::from_secs(1800));
    assert!(
        ok,
        "cargo-zigbuild build --target {zig_target} failed:\n{log}"
    );
    target_dir.join(target).join("debug/terraform-provider-tfe")
}

/// The ELF header's OS ABI and machine: (e_ident[EI_OSABI], e_machine).
fn elf_kind(binary: &Path) -> (u8, u16) {
    let head = std::fs::read(binary).unwrap_or_else(|e| panic!("read {}: {e}", binary.display()));
    assert!(
        head.starts_with(b"\x7fELF"),
        "{} is not an ELF file",
        binary.display()
    );
    (head[7], u16::from_le_bytes([head[18], head[19]]))
}

/// A 64-bit little-endian ELF file's program interpreter (PT_INTERP), which also tells a FreeBSD binary
/// (`/libexec/ld-elf.so.1`) from a Linux one.
fn elf64_interpreter(binary: &Path) -> Option<String> {
    let data = std::fs::read(binary).unwrap_or_else(|e| panic!("read {}: {e}", binary.display()));
    let word = |at: usize| u64::from_le_bytes(data[at..at + 8].try_into().unwrap()) as usize;
    let half = |at: usize| u16::from_le_bytes([data[at], data[at + 1]]) as usize;
    assert_eq!(data[4], 2, "{} is not a 64-bit ELF file", binary.display());
    let (table, size, count) = (word(0x20), half(0x36), half(0x38));
    (0..count).map(|i| table + i * size).find_map(|header| {
        let kind = u32::from_le_bytes(data[header..header + 4].try_into().unwrap());
        (kind == 3).then(|| {
            let (offset, length) = (word(header + 8), word(header + 32));
            String::from_utf8_lossy(&data[offset..offset + length])
                .trim_end_matches('\0')
                .to_string()
        })
    })
}

/// A PE file's machine field.
fn pe_machine(binary: &Path) -> u16 {
    let data = std::fs::read(binary).unwrap_or_else(|e| panic!("read {}: {e}", binary.display()));
    assert!(
        data.starts_with(b"MZ"),
        "{} is not a PE file",
        binary.display()
    );
    let pe = u32::from_le_bytes(data[0x3c..0x40].try_into().unwrap()) as usize;
    assert_eq!(&data[pe..pe + 4], b"PE\0\0", "{}", binary.display());
    u16::from_le_bytes([data[pe + 4], data[pe + 5]])
}

/// What the provider prints for `--version`, run through `launcher` (e.g. qemu or wine).
fn version_through(launcher: &[&str], binary: &Path, env: &[(&str, String)]) -> String {
    let mut command = Command::new(launcher.first().copied().unwrap_or("env"));
    command
        .args(launcher.iter().skip(1))
        .arg(binary)
        .arg("--version");
    command.envs(env.iter().map(|(k, v)| (k, v)));
    let (ok, out) = run_within(command, Duration::from_secs(120));
    assert!(ok, "{} --version failed:\n{out}", binary.display());
    let line = out
        .lines()
        .find(|l| l.starts_with("terraform-provider-tfe "))
        .unwrap_or_else(|| panic!("no version line from {}:\n{out}", binary.display()));
    assert!(
        line.starts_with(&format!("terraform-provider-tfe {VERSION} (commit ")),
        "{line}"
    );
    line.to_string()
}

/// Launches the provider as Terraform does (through `launcher`), completes the handshake, GetProviderSchema
/// and Shutdown with bench/schema_client.py (`make bench`'s gRPC client, grpcio, mutual TLS), and returns the
/// handshake line. The exit status after Shutdown must be 0.
fn handshake_schema_shutdown(
    launcher: &str,
    binary: &Path,
    network: Option<&str>,
    extra_env: &[(&str, String)],
) -> String {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair, PKCS_ECDSA_P521_SHA512};
    let python = repo_root().join(".tools/venv/bin/python");
    assert!(
        python.is_file(),
        "{} is missing: `make tools` installs the venv with grpcio",
        python.display()
    );
    // A client certificate like Terraform's: self-signed, P-521, CA:TRUE.
    let key = KeyPair::generate_for(&PKCS_ECDSA_P521_SHA512).unwrap();
    let mut params = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let cert = params.self_signed(&key).unwrap();
    let mut command = Command::new(&python);
    command
        .arg(repo_root().join("bench/schema_client.py"))
        .arg(binary)
        .arg("1")
        .arg(cert.pem())
        .arg(key.serialize_pem())
        .args(["--launcher", launcher, "--contains", "tfe_workspace_run"])
        .args(["--timeout", "60"]);
    for (key, _) in std::env::vars() {
        if key.starts_with("TF_") || key.starts_with("PLUGIN_") || key.starts_with("TFPLUGIN_") {
            command.env_remove(key);
        }
    }
    command
        .env("TF_PLUGIN_MAGIC_COOKIE", COOKIE)
        .env("PLUGIN_PROTOCOL_VERSIONS", "5,6")
        .env("PLUGIN_MIN_PORT", "10000")
        .env("PLUGIN_MAX_PORT", "25000")
        .env("PLUGIN_CLIENT_CERT", cert.pem())
        .envs(extra_env.iter().map(|(k, v)| (k, v)));
    if let Some(network) = network {
        command.env("TFPLUGIN_NETWORK", network);
    }
    let (ok, out) = run_within(command, Duration::from_secs(300));
    assert!(
        ok,
        "handshake, GetProviderSchema and Shutdown of {} ({launcher}) failed:\n{out}",
        binary.display()
    );
    let report: serde_json::Value = serde_json::from_str(out.trim())
        .unwrap_or_else(|e| panic!("schema_client printed no JSON ({e}):\n{out}"));
    assert_eq!(report["exit_codes"], json!([0]), "{report}");
    assert!(report["schema_bytes"].as_u64().unwrap() > 1000, "{report}");
    report["handshakes"][0].as_str().unwrap().to_string()
}

/// A Linux binary of another architecture under qemu-user: its version, then handshake, GetProviderSchema
/// and Shutdown over a unix socket and over TCP. `qemu` is the emulator for its architecture, `sysroot` the
/// Debian cross C library it runs with, `machine` the ELF machine it must be.
fn check_linux_under_qemu(
    binary: &Path,
    qemu: &str,
    sysroot: &str,
    loader: &str,
    machine: u16,
) -> String {
    assert_eq!(
        elf_kind(binary),
        (0, machine),
        "{} is not for ELF machine {machine}",
        binary.display()
    );
    let loader = Path::new(sysroot).join("lib").join(loader);
    assert!(
        loader.exists(),
        "{} is missing: `make cross-tools` (arm64) or `make release-check-tools` installs Debian's C library for it",
        loader.display()
    );
    let launcher = format!("{qemu} -L {sysroot}");
    let version = version_through(&[qemu, "-L", sysroot], binary, &[]);
    let unix = handshake_schema_shutdown(&launcher, binary, None, &[]);
    assert!(unix.starts_with("1|6|unix|"), "{unix}");
    let tcp = handshake_schema_shutdown(&launcher, binary, Some("tcp"), &[]);
    assert!(tcp.starts_with("1|6|tcp|127.0.0.1:"), "{tcp}");
    format!("{qemu}: {version}; handshake, GetProviderSchema, Shutdown (exit 0) over unix and tcp")
}

fn check_linux_arm64(binary: &Path) -> String {
    check_linux_under_qemu(
        binary,
        "qemu-aarch64",
        ARM64_SYSROOT,
        "ld-linux-aarch64.so.1",
        183,
    )
}

#[test]
fn a_debug_cross_build_for_linux_arm64_serves_under_qemu() {
    let started = Instant::now();
    let binary = cross_build_debug(
        "aarch64-unknown-linux-gnu",
        "aarch64-unknown-linux-gnu.2.17",
    );
    let built = started.elapsed();
    let report = check_linux_arm64(&binary);
    eprintln!(
        "linux_arm64 (debug): built in {built:?}, checked in {:?}: {report}",
        started.elapsed() - built
    );
}

/// A Wine prefix of the test's own, with the bcryptprimitives.dll Debian's Wine 8 lacks (scripts/wine/),
/// and the environment that uses it; its wineserver is stopped when this is dropped.
struct WinePrefix {
    _dir: tempfile::TempDir,
    env: Vec<(&'static str, String)>,
}

impl WinePrefix {
    fn new() -> Self {
        tool("wine");
        let dll = repo_root().join(".tools/wine/bcryptprimitives.dll");
        assert!(
            dll.is_file(),
            "{} is missing: `make cross-tools` builds it",
            dll.display()
        );
        let dir = tempfile::tempdir().unwrap();
        let prefix = dir.path().join("wine");
        let env = vec![
            ("WINEPREFIX", prefix.display().to_string()),
            ("WINEDEBUG", "-all".to_string()),
            // No Mono or Gecko install prompts: the provider needs neither.
            ("WINEDLLOVERRIDES", "mscoree,mshtml=".to_string()),
            ("DISPLAY", String::new()),
        ];
        let mut init = Command::new("wine");
        init.args(["wineboot", "--init"])
            .envs(env.iter().map(|(k, v)| (k, v)));
        let (ok, out) = run_within(init, Duration::from_secs(300));
        assert!(ok, "wineboot --init failed:\n{out}");
        let system32 = prefix.join("drive_c/windows/system32");
        assert!(system32.is_dir(), "wineboot made no {}", system32.display());
        std::fs::copy(&dll, system32.join("bcryptprimitives.dll")).unwrap();
        WinePrefix { _dir: dir, env }
    }
}

impl Drop for WinePrefix {
    fn drop(&mut self) {
        let _ = Command::new("wineserver")
            .arg("-k")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .status();
    }
}

/// A windows_amd64 .exe under wine: its version, then handshake, GetProviderSchema and Shutdown over TCP
/// (the only network on Windows).
fn check_windows_amd64(exe: &Path, wine: &WinePrefix) -> String {
    assert_eq!(pe_machine(exe), 0x8664, "{} is not x86-64", exe.display());
    let version = version_through(&["wine"], exe, &wine.env);
    let handshake = handshake_schema_shutdown("wine", exe, None, &wine.env);
    let port: u16 = handshake
        .strip_prefix("1|6|tcp|127.0.0.1:")
        .and_then(|rest| rest.split('|').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("not a tcp handshake on 127.0.0.1: {handshake}"));
    assert!((10000..=25000).contains(&port), "{handshake}");
    format!(
        "wine: {version}; handshake on tcp 127.0.0.1:{port}, GetProviderSchema, Shutdown (exit 0)"
    )
}

/// A darwin binary's Mach-O header, minimum macOS, libraries and code signature (scripts/verify_macho.py).
fn check_darwin(binary: &Path, arch: &str, minimum: &str, signed: bool) -> String {
    let mut command = Command::new("python3");
    command
        .arg(repo_root().join("scripts/verify_macho.py"))
        .arg(binary)
        .args([arch, minimum]);
    if signed {
        command.arg("--signed");
    }
    let (ok, out) = run_within(command, Duration::from_secs(120));
    assert!(
        ok,
        "{} is not what macOS {arch} needs:\n{out}",
        binary.display()
    );
    let report: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    let dylibs = report["dylibs"].as_array().unwrap();
    for framework in ["Security", "CoreFoundation"] {
        let path =
            format!("/System/Library/Frameworks/{framework}.framework/Versions/A/{framework}");
        assert!(dylibs.iter().any(|d| d == path.as_str()), "{report}");
    }
    format!(
        "Mach-O {arch}, minimum macOS {}, signature {}, loads {}",
        report["min_macos"].as_str().unwrap(),
        match &report["signature"] {
            serde_json::Value::Null => "none".to_string(),
            s => format!("ad hoc {} ({} pages verified)", s["adhoc"], s["pages"]),
        },
        dylibs
            .iter()
            .map(|d| d.as_str().unwrap().rsplit('/').next().unwrap())
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// Terraform's h1 hash of a provider zip: the dirhash (golang.org/x/mod/sumdb/dirhash Hash1) of its files.
fn h1_hash(zip: &Path) -> String {
    use base64::Engine;
    let names = Command::new("unzip").arg("-Z1").arg(zip).output().unwrap();
    let mut names: Vec<String> = String::from_utf8_lossy(&names.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    names.sort();
    let sha256 = |bytes: &[u8]| -> String {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("data");
        std::fs::write(&file, bytes).unwrap();
        sha256_hex(&file)
    };
    let mut summary = String::new();
    for name in names {
        let content = Command::new("unzip")
            .arg("-p")
            .arg(zip)
            .arg(&name)
            .output()
            .unwrap();
        summary.push_str(&format!("{}  {name}\n", sha256(&content.stdout)));
    }
    let digest: Vec<u8> = (0..32)
        .map(|i| u8::from_str_radix(&sha256(summary.as_bytes())[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    format!(
        "h1:{}",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// The zips of a release (`<os>_<arch>` -> zip), built here by scripts/release.sh with a throwaway key, or
/// those in RELEASE_CHECK_DIR; with the release log and the directory.
fn release_under_check(dir: &Path) -> (Vec<(String, PathBuf)>, String, PathBuf, Option<PathBuf>) {
    let (out, log, gnupg) = match std::env::var("RELEASE_CHECK_DIR")
        .ok()
        .filter(|d| !d.is_empty())
    {
        Some(existing) => (
            PathBuf::from(existing),
            String::from("(checking a release already built)"),
            None,
        ),
        None => {
            tool("zip");
            let (gnupg, fingerprint) = throwaway_key(dir);
            let out = dir.join("out");
            let mut command = Command::new("bash");
            command
                .arg(repo_root().join("scripts/release.sh"))
                .env("OUT_DIR", &out)
                .env("GNUPGHOME", &gnupg)
                .env("GPG_FINGERPRINT", &fingerprint)
                .env_remove("RELEASE_BINARY")
                .envs(cross_env());
            let started = Instant::now();
            let (ok, log) = run_within(command, Duration::from_secs(4 * 3600));
            let _ = Command::new("gpgconf")
                .env("GNUPGHOME", &gnupg)
                .args(["--kill", "all"])
                .status();
            assert!(ok, "scripts/release.sh failed:\n{log}");
            eprintln!("release built in {:?}", started.elapsed());
            (out, log, Some(gnupg))
        }
    };
    let prefix = format!("terraform-provider-tfe_{VERSION}_");
    let mut zips: Vec<(String, PathBuf)> = std::fs::read_dir(&out)
        .unwrap_or_else(|e| panic!("read {}: {e}", out.display()))
        .map(|e| e.unwrap().path())
        .filter_map(|p| {
            let name = p.file_name()?.to_str()?.to_string();
            let platform = name
                .strip_prefix(&prefix)?
                .strip_suffix(".zip")?
                .to_string();
            Some((platform, p))
        })
        .collect();
    zips.sort();
    (zips, log, out, gnupg)
}

#[test]
#[ignore = "`make release-check`: release builds of every platform, long"]
fn release_check() {
    let work = tempfile::tempdir().unwrap();
    let (zips, log, out, gnupg) = release_under_check(work.path());
    eprintln!(
        "{}",
        log.lines()
            .filter(|l| l.starts_with("release ") || l.contains("not built"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    let wanted: Vec<String> = match std::env::var("RELEASE_PLATFORMS")
        .ok()
        .filter(|p| !p.trim().is_empty())
    {
        Some(list) => list.split_whitespace().map(str::to_string).collect(),
        None => REQUIRED_PLATFORMS.iter().map(|p| p.to_string()).collect(),
    };
    for platform in &wanted {
        assert!(
            zips.iter().any(|(p, _)| p == platform),
            "{platform} was not built:\n{log}"
        );
    }

    // The sums cover every zip and the manifest, and (when built here) the signature verifies.
    let sums = out.join(format!("terraform-provider-tfe_{VERSION}_SHA256SUMS"));
    let sums_text = std::fs::read_to_string(&sums).unwrap();
    for (_, zip) in &zips {
        let line = format!(
            "{}  {}",
            sha256_hex(zip),
            zip.file_name().unwrap().to_string_lossy()
        );
        assert!(
            sums_text.lines().any(|l| l == line),
            "{line} not in\n{sums_text}"
        );
    }
    if let Some(gnupg) = &gnupg {
        let verified = Command::new("gpg")
            .env("GNUPGHOME", gnupg)
            .args(["--batch", "--verify"])
            .arg(out.join(format!("terraform-provider-tfe_{VERSION}_SHA256SUMS.sig")))
            .arg(&sums)
            .output()
            .unwrap();
        assert!(
            verified.status.success(),
            "{}",
            String::from_utf8_lossy(&verified.stderr)
        );
        let _ = Command::new("gpgconf")
            .env("GNUPGHOME", gnupg)
            .args(["--kill", "all"])
            .status();
    }

    // Each zip holds one binary under the name Terraform looks for; unpacked for the checks below.
    let unpacked = work.path().join("unpacked");
    let mut binaries = std::collections::BTreeMap::new();
    for (platform, zip) in &zips {
        let exe = if platform.starts_with("windows_") {
            ".exe"
        } else {
            ""
        };
        let name = format!("terraform-provider-tfe_v{VERSION}{exe}");
        let listing = Command::new("unzip").arg("-Z1").arg(zip).output().unwrap();
        assert_eq!(
            String::from_utf8_lossy(&listing.stdout).trim(),
            name,
            "{platform}"
        );
        let dir = unpacked.join(platform);
        std::fs::create_dir_all(&dir).unwrap();
        let status = Command::new("unzip")
            .arg("-q")
            .arg(zip)
            .arg("-d")
            .arg(&dir)
            .status()
            .unwrap();
        assert!(status.success());
        binaries.insert(platform.clone(), dir.join(name));
    }

    let mut report: Vec<(String, String)> = Vec::new();

    // Terraform records every platform's hash through a network mirror, and installs linux_amd64 with it.
    let mirror_zips: Vec<(&Path, &str)> = zips
        .iter()
        .map(|(p, z)| (z.as_path(), p.as_str()))
        .collect();
    let mirror = NetworkMirror::serve_platforms(&mirror_zips, VERSION, &["hashicorp/tfe"]);
    let overrides = DevOverrides::with_extra("");
    std::fs::write(
        &overrides.config_file,
        format!(
            "provider_installation {{\n  network_mirror {{\n    url = \"{}\"\n  }}\n}}\n",
            mirror.url
        ),
    )
    .unwrap();
    let bundle = ca_bundle(overrides.home(), &[&mirror.ca_pem])
        .display()
        .to_string();
    let main_tf = format!(
        "terraform {{\n  required_providers {{\n    tfe = {{\n      source  = \"hashicorp/tfe\"\n      version = \"{VERSION}\"\n    }}\n  }}\n}}\n"
    );
    let platform_flags: Vec<String> = zips.iter().map(|(p, _)| format!("-platform={p}")).collect();
    for cli in all_clis() {
        let dir = workdir_with(&[("main.tf", &main_tf)]);
        let mut args = vec!["providers", "lock", "-no-color"];
        let net_mirror = format!("-net-mirror={}", mirror.url);
        args.push(&net_mirror);
        args.extend(platform_flags.iter().map(String::as_str));
        let out = run_terraform(
            &cli,
            dir.path(),
            &overrides,
            &args,
            &[("SSL_CERT_FILE", &bundle)],
        );
        assert!(
            out.success,
            "{}: providers lock failed\n{}",
            cli.label,
            out.combined()
        );
        let lock = std::fs::read_to_string(dir.path().join(".terraform.lock.hcl")).unwrap();
        for (platform, zip) in &zips {
            let h1 = h1_hash(zip);
            assert!(
                lock.contains(&h1),
                "{}: no {h1} for {platform} in the lock file\n{lock}",
                cli.label
            );
        }
        let out = run_terraform(
            &cli,
            dir.path(),
            &overrides,
            &["init", "-input=false", "-no-color"],
            &[("SSL_CERT_FILE", &bundle)],
        );
        assert!(
            out.success,
            "{}: init with the lock file failed\n{}",
            cli.label,
            out.combined()
        );
        let installed = dir.path().join(format!(
            ".terraform/providers/registry.terraform.io/hashicorp/tfe/{VERSION}/linux_amd64/terraform-provider-tfe_v{VERSION}"
        ));
        assert!(
            installed.is_file(),
            "{}: init installed no {}",
            cli.label,
            installed.display()
        );
        let out = run_terraform(
            &cli,
            dir.path(),
            &overrides,
            &["validate", "-no-color"],
            &[],
        );
        assert!(
            out.success,
            "{}: validate with the installed provider failed\n{}",
            cli.label,
            out.combined()
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join(".terraform.lock.hcl")).unwrap(),
            lock,
            "{}: init changed the lock file",
            cli.label
        );
        report.push((
            cli.label.clone(),
            format!(
                "providers lock recorded the h1 hash of all {} zips; init installed linux_amd64 and validate ran it",
                zips.len()
            ),
        ));
    }

    let mut wine = None;
    for (platform, binary) in &binaries {
        let result = match platform.as_str() {
            "linux_amd64" => {
                assert_eq!(elf_kind(binary), (0, 62), "{platform}");
                assert_eq!(
                    elf64_interpreter(binary).as_deref(),
                    Some("/lib64/ld-linux-x86-64.so.2"),
                    "{platform}"
                );
                let version = version_through(&[], binary, &[]);
                let unix = handshake_schema_shutdown("", binary, None, &[]);
                let tcp = handshake_schema_shutdown("", binary, Some("tcp"), &[]);
                assert!(unix.starts_with("1|6|unix|") && tcp.starts_with("1|6|tcp|"));
                format!(
                    "native: {version}; handshake, GetProviderSchema, Shutdown over unix and tcp"
                )
            }
            "linux_arm64" => check_linux_arm64(binary),
            "windows_amd64" => {
                check_windows_amd64(binary, wine.get_or_insert_with(WinePrefix::new))
            }
            "darwin_amd64" => check_darwin(binary, "x86_64", "10.12", false),
            "darwin_arm64" => check_darwin(binary, "arm64", "11.0", true),
            "linux_386" => check_linux_under_qemu(
                binary,
                "qemu-i386",
                "/usr/i686-linux-gnu",
                "ld-linux.so.2",
                3,
            ),
            "linux_arm" => check_linux_under_qemu(
                binary,
                "qemu-arm",
                "/usr/arm-linux-gnueabihf",
                "ld-linux-armhf.so.3",
                40,
            ),
            "freebsd_amd64" => {
                assert_eq!(elf_kind(binary).1, 62, "{platform}");
                let interpreter = elf64_interpreter(binary);
                assert_eq!(
                    interpreter.as_deref(),
                    Some("/libexec/ld-elf.so.1"),
                    "{platform}"
                );
                "ELF x86-64 for FreeBSD's loader /libexec/ld-elf.so.1 (not run: no FreeBSD here)"
                    .to_string()
            }
            "windows_arm64" => {
                assert_eq!(pe_machine(binary), 0xaa64, "{platform}");
                "PE arm64 (not run: Wine here runs x86-64 only)".to_string()
            }
            other => panic!("no check for {other}"),
        };
        report.push((platform.clone(), result));
    }
    eprintln!("\nrelease check of {VERSION}:");
    for (what, result) in &report {
        eprintln!("  {what:<28} {result}");
    }
}
