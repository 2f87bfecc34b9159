//! API tokens from the Terraform CLI configuration: `credentials "<host>" { token = "..." }`
//! blocks in the main CLI config file (HCL or JSON), and `~/.terraform.d/credentials.tfrc.json`
//! (what `terraform login` writes). The main file wins for the same host.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Where to look, resolved from the environment like Terraform does.
#[derive(Debug, Clone, Default)]
pub(crate) struct CredentialSources {
    /// TF_CLI_CONFIG_FILE, else TERRAFORM_CONFIG, else ~/.terraformrc.
    pub cli_config_file: Option<PathBuf>,
    /// ~/.terraform.d/credentials.tfrc.json.
    pub credentials_file: Option<PathBuf>,
}

impl CredentialSources {
    pub(crate) fn from_env(get: &dyn Fn(&str) -> Option<String>) -> Self {
        let home = get("HOME").filter(|h| !h.is_empty()).map(PathBuf::from);
        let cli_config_file = get("TF_CLI_CONFIG_FILE")
            .or_else(|| get("TERRAFORM_CONFIG"))
            .filter(|p| !p.is_empty())
            .map(PathBuf::from)
            .or_else(|| home.as_ref().map(|h| h.join(".terraformrc")));
        let credentials_file = home.map(|h| h.join(".terraform.d").join("credentials.tfrc.json"));
        CredentialSources {
            cli_config_file,
            credentials_file,
        }
    }

    /// The token for `hostname`, if any file has one. Unreadable or malformed files are skipped
    /// (Terraform itself reports those).
    pub(crate) fn token_for(&self, hostname: &str) -> Option<String> {
        let wanted = normalize_host(hostname);
        let from = |path: &Option<PathBuf>| -> Option<String> {
            let text = std::fs::read_to_string(path.as_deref()?).ok()?;
            parse_credentials(&text).remove(&wanted)
        };
        from(&self.cli_config_file).or_else(|| from(&self.credentials_file))
    }
}

/// Lower-case, without surrounding whitespace or the default HTTPS port. Idempotent, so a host read from a file
/// and the provider's hostname compare equal however often either was normalised.
pub(crate) fn normalize_host(host: &str) -> String {
    let mut host = host.trim();
    while let Some(rest) = host.strip_suffix(":443") {
        host = rest.trim();
    }
    host.to_ascii_lowercase()
}

/// Host -> token from a CLI configuration or credentials file, in HCL or JSON syntax.
pub(crate) fn parse_credentials(text: &str) -> HashMap<String, String> {
    if text.trim_start().starts_with('{') {
        return parse_json_credentials(text);
    }
    parse_hcl_credentials(text)
}

fn parse_json_credentials(text: &str) -> HashMap<String, String> {
    let Ok(json) = serde_json::from_str::<serde_json::Value>(text) else {
        return HashMap::new();
    };
    let Some(hosts) = json.get("credentials").and_then(|c| c.as_object()) else {
        return HashMap::new();
    };
    hosts
        .iter()
        .filter_map(|(host, block)| {
            let token = block.get("token")?.as_str()?;
            Some((normalize_host(host), token.to_string()))
        })
        .collect()
}

#[derive(Debug, PartialEq)]
enum Token {
    Ident(String),
    Str(String),
    Open,
    Close,
    Equals,
    Other,
}

/// Just enough HCL to find credentials blocks: identifiers, strings, braces, `=`, comments.
fn tokenize(text: &str) -> Vec<Token> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '#' => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1
                }
            }
            '/' if chars.get(i + 1) == Some(&'/') => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1
                }
            }
            '/' if chars.get(i + 1) == Some(&'*') => {
                i += 2;
                while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                    i += 1
                }
                i += 2;
            }
            '"' => {
                let mut s = String::new();
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    if chars[i] == '\\' && i + 1 < chars.len() {
                        i += 1;
                        s.push(match chars[i] {
                            'n' => '\n',
                            't' => '\t',
                            other => other,
                        });
                    } else {
                        s.push(chars[i]);
                    }
                    i += 1;
                }
                i += 1;
                tokens.push(Token::Str(s));
            }
            '{' => {
                tokens.push(Token::Open);
                i += 1
            }
            '}' => {
                tokens.push(Token::Close);
                i += 1
            }
            '=' => {
                tokens.push(Token::Equals);
                i += 1
            }
            c if c.is_alphanumeric() || c == '_' || c == '-' => {
                let start = i;
                while i < chars.len()
                    && (chars[i].is_alphanumeric()
                        || chars[i] == '_'
                        || chars[i] == '-'
                        || chars[i] == '.')
                {
                    i += 1
                }
                tokens.push(Token::Ident(chars[start..i].iter().collect()));
            }
            _ => {
                tokens.push(Token::Other);
                i += 1
            }
        }
    }
    tokens
}

fn parse_hcl_credentials(text: &str) -> HashMap<String, String> {
    let tokens = tokenize(text);
    let mut out = HashMap::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < tokens.len() {
        match &tokens[i] {
            Token::Open => depth += 1,
            Token::Close => depth = depth.saturating_sub(1),
            Token::Ident(word) if depth == 0 && word == "credentials" => {
                if let (Some(Token::Str(host)), Some(Token::Open)) =
                    (tokens.get(i + 1), tokens.get(i + 2))
                {
                    let (token, end) = block_token(&tokens, i + 3);
                    if let Some(token) = token {
                        out.insert(normalize_host(host), token);
                    }
                    i = end;
                    continue;
                }
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// Reads a block body starting after its `{`; returns the `token` value and the index after `}`.
fn block_token(tokens: &[Token], mut i: usize) -> (Option<String>, usize) {
    let mut depth = 1usize;
    let mut token = None;
    while i < tokens.len() && depth > 0 {
        match &tokens[i] {
            Token::Open => depth += 1,
            Token::Close => depth -= 1,
            Token::Ident(name) if depth == 1 && name == "token" => {
                if let (Some(Token::Equals), Some(Token::Str(value))) =
                    (tokens.get(i + 1), tokens.get(i + 2))
                {
                    token = Some(value.clone());
                    i += 2;
                }
            }
            _ => {}
        }
        i += 1;
    }
    (token, i)
}

/// For tests and diagnostics: the files consulted, as displayable paths.
pub(crate) fn describe(sources: &CredentialSources) -> String {
    let show = |p: &Option<PathBuf>| p.as_deref().map(Path::display).map(|d| d.to_string());
    [
        show(&sources.cli_config_file),
        show(&sources.credentials_file),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" and ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_hcl_credentials_blocks_among_other_settings() {
        let text = r#"
            # comment with credentials "x" { token = "no" }
            provider_installation {
              dev_overrides { "hashicorp/tfe" = "/tmp/bin" }
              direct {}
            }
            credentials "App.Terraform.io" {
              token = "abc.atlasv1.def"   // trailing comment
            }
            /* credentials "hidden" { token = "no" } */
            credentials "tfe.example.com:443" { token = "other\"quoted" }
        "#;
        let creds = parse_credentials(text);
        assert_eq!(
            creds.get("app.terraform.io").map(String::as_str),
            Some("abc.atlasv1.def")
        );
        assert_eq!(
            creds.get("tfe.example.com").map(String::as_str),
            Some("other\"quoted")
        );
        assert!(!creds.contains_key("x") && !creds.contains_key("hidden"));
    }

    #[test]
    fn host_normalisation_is_idempotent() {
        // Found by the cli_credentials fuzz target: whitespace before the port survived one normalisation.
        for host in [
            "App.Terraform.io",
            "x.example :443",
            "x.example:443:443",
            " x.example:443 ",
        ] {
            let once = normalize_host(host);
            assert_eq!(normalize_host(&once), once, "{host:?}");
        }
        assert_eq!(normalize_host("x.example \n:443"), "x.example");
        assert_eq!(
            normalize_host("TFE.example.com:8443"),
            "tfe.example.com:8443"
        );
    }

    #[test]
    fn reads_json_credentials_files() {
        let text = r#"{"credentials": {"app.terraform.io": {"token": "from-login"}}}"#;
        assert_eq!(
            parse_credentials(text)
                .get("app.terraform.io")
                .map(String::as_str),
            Some("from-login")
        );
    }

    #[test]
    fn main_config_file_wins_over_credentials_json() {
        let dir = tempfile::tempdir().unwrap();
        let rc = dir.path().join("rc");
        let json = dir.path().join("credentials.tfrc.json");
        std::fs::write(&rc, "credentials \"app.terraform.io\" { token = \"main\" }").unwrap();
        std::fs::write(
            &json,
            r#"{"credentials":{"app.terraform.io":{"token":"json"},"other.host":{"token":"o"}}}"#,
        )
        .unwrap();
        let sources = CredentialSources {
            cli_config_file: Some(rc),
            credentials_file: Some(json),
        };
        assert_eq!(
            sources.token_for("app.terraform.io").as_deref(),
            Some("main")
        );
        assert_eq!(sources.token_for("OTHER.host").as_deref(), Some("o"));
        assert_eq!(sources.token_for("missing.host"), None);
    }
}
