//! The provider block: its schema and its resolution into a plain [`ProviderConfig`], with the
//! official provider's environment fallbacks and CLI-config credentials; and [`SharedConfig`], the
//! resolved configuration every resource reads (with the organization fallback they share). No
//! network calls here: plans must work offline; the TFE client is built later, when a resource needs it.

use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tfplugin::{Attribute, AttributePath, Block, Diagnostics, Schema, Type, Value};

use super::credentials::{self, CredentialSources};
use super::duration::parse_duration;
use tfe_client::TfeClientConfig;

pub(crate) const DEFAULT_HOSTNAME: &str = "app.terraform.io";

/// An API token. Its Debug and Display never show it.
#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) struct Token(String);

impl Token {
    pub(crate) fn new(token: impl Into<String>) -> Self {
        Token(token.into())
    }

    /// The secret itself, for the Authorization header only.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_empty() {
            "Token(<empty>)"
        } else {
            "Token(<redacted>)"
        })
    }
}

/// Where the token came from, for logs and hints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenSource {
    Configuration,
    Environment,
    CliConfig,
    /// The `token` (or `hostname`) argument is not known until apply; the token is empty for now.
    Unknown,
}

/// The resolved provider configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ProviderConfig {
    /// A bare host name, optionally with a port, e.g. `app.terraform.io`.
    pub hostname: String,
    pub token: Token,
    pub token_source: TokenSource,
    pub organization: Option<String>,
    pub ssl_skip_verify: bool,
}

pub(crate) fn schema() -> Schema {
    Schema {
        version: 0,
        block: Block {
            attributes: vec![
                Attribute::optional("hostname", Type::String).describe(
                    "Host name of HCP Terraform or your Terraform Enterprise installation. Defaults to \
                     TFE_HOSTNAME, then app.terraform.io.",
                ),
                Attribute::optional("token", Type::String).sensitive().describe(
                    "API token. Defaults to TFE_TOKEN, then the credentials in the Terraform CLI configuration.",
                ),
                Attribute::optional("organization", Type::String)
                    .describe("Default organization. Defaults to TFE_ORGANIZATION."),
                Attribute::optional("ssl_skip_verify", Type::Bool)
                    .describe("Skip TLS certificate verification (testing only). Defaults to TFE_SSL_SKIP_VERIFY."),
            ],
            ..Block::default()
        },
    }
}

/// The configuration resolved by ConfigureProvider, shared with every resource. Empty until then.
pub(crate) type SharedConfig = Arc<OnceLock<ProviderConfig>>;

/// Returns the configuration or an error diagnostic when ConfigureProvider has not run (or failed).
pub(crate) fn configured(config: &SharedConfig) -> Result<&ProviderConfig, Diagnostics> {
    config.get().ok_or_else(|| {
        Diagnostics::from_error(
            "Provider not configured",
            "The tfe provider configuration is missing or invalid; see the errors reported for the provider block.",
        )
    })
}

/// The resource's `organization`, else the provider's (argument or TFE_ORGANIZATION).
pub(crate) fn organization(value: &Value, config: &SharedConfig) -> Result<String, Diagnostics> {
    if let Some(org) = value
        .attr("organization")
        .as_str()
        .filter(|o| !o.is_empty())
    {
        return Ok(org.to_string());
    }
    configured(config)?
        .organization
        .clone()
        .filter(|o| !o.is_empty())
        .ok_or_else(|| {
            Diagnostics::from_error(
                "No organization",
                "Set `organization` on the resource, or on the provider block (or TFE_ORGANIZATION).",
            )
        })
}

/// In a plan: an unknown `organization` (not configured) becomes the provider's, when it is set.
pub(crate) fn plan_organization_fallback(
    planned: &mut Value,
    config_value: &Value,
    config: &SharedConfig,
) {
    if config_value.attr("organization").is_null()
        && planned.attr("organization").is_unknown()
        && let Some(org) = config.get().and_then(|c| c.organization.clone())
        && !org.is_empty()
    {
        planned.set_attr("organization", Value::string(org));
    }
}

/// Checks that can be made on the configuration alone.
pub(crate) fn validate(config: &Value) -> Diagnostics {
    let mut diags = Diagnostics::new();
    if let Some(host) = config.attr("hostname").as_str()
        && let Err(why) = check_hostname(host)
    {
        diags.attribute_error(AttributePath::root("hostname"), "Invalid hostname", why);
    }
    diags
}

fn check_hostname(host: &str) -> Result<(), String> {
    let allowed = "Use a bare host name such as app.terraform.io or tfe.example.com:8443, without scheme or path.";
    if host.is_empty() {
        return Err(format!("The hostname is empty. {allowed}"));
    }
    if host.contains("://")
        || host.contains('/')
        || host.contains(char::is_whitespace)
        || host.contains('@')
    {
        return Err(format!("{host:?} is not a bare host name. {allowed}"));
    }
    Ok(())
}

/// Go's strconv.ParseBool, which the official provider uses for TFE_SSL_SKIP_VERIFY.
fn parse_go_bool(value: &str) -> Option<bool> {
    match value {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// Client limits read from the provider process's environment (not provider arguments: they tune how the
/// process talks to the API, like TF_LOG, and the official provider's schema has no place for them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ClientTuning {
    /// `TFE_REQUEST_TIMEOUT`: one HTTP exchange.
    pub request_timeout: Duration,
    /// `TFE_RETRY_MAX_ELAPSED`: the retry budget of one request.
    pub retry_max_elapsed: Duration,
    /// `TFE_RETRY_MAX_PAUSE`: the cap on a pause the server asks for.
    pub retry_max_pause: Duration,
}

impl Default for ClientTuning {
    fn default() -> Self {
        ClientTuning {
            request_timeout: TfeClientConfig::DEFAULT_REQUEST_TIMEOUT,
            retry_max_elapsed: TfeClientConfig::DEFAULT_MAX_RETRY_TIME,
            retry_max_pause: TfeClientConfig::DEFAULT_MAX_SERVER_PAUSE,
        }
    }
}

/// Reads the tuning variables; unset or empty ones keep their defaults. Every bad value is reported.
pub(crate) fn client_tuning(
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<ClientTuning, Diagnostics> {
    let mut diags = Diagnostics::new();
    let mut tuning = ClientTuning::default();
    let fields: [(&str, &mut Duration, bool); 3] = [
        ("TFE_REQUEST_TIMEOUT", &mut tuning.request_timeout, false),
        ("TFE_RETRY_MAX_ELAPSED", &mut tuning.retry_max_elapsed, true),
        ("TFE_RETRY_MAX_PAUSE", &mut tuning.retry_max_pause, true),
    ];
    for (name, slot, zero_ok) in fields {
        let Some(raw) = env(name).filter(|v| !v.trim().is_empty()) else {
            continue;
        };
        match parse_duration(&raw) {
            Ok(d) if d.is_zero() && !zero_ok => diags.error(
                format!("Invalid {name}"),
                format!("{name} is {raw:?}; it must be longer than zero, e.g. \"30s\" or \"2m\"."),
            ),
            Ok(d) => *slot = d,
            Err(e) => diags.error(format!("Invalid {name}"), format!("{name}: {e}.")),
        }
    }
    if diags.has_errors() {
        Err(diags)
    } else {
        Ok(tuning)
    }
}

/// Resolves the provider block. `env` reads environment variables (injected for tests).
pub(crate) fn resolve(
    config: &Value,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<ProviderConfig, Diagnostics> {
    let mut diags = validate(config);
    let known_str = |name: &str| config.attr(name).as_str().map(str::to_string);
    let env_nonempty = |name: &str| env(name).filter(|v| !v.is_empty());

    let hostname = known_str("hostname")
        .or_else(|| env_nonempty("TFE_HOSTNAME"))
        .unwrap_or_else(|| DEFAULT_HOSTNAME.to_string());
    if config.attr("hostname").is_null()
        && let Err(why) = check_hostname(&hostname)
    {
        diags.error("Invalid TFE_HOSTNAME", why);
    }

    let organization = known_str("organization").or_else(|| env_nonempty("TFE_ORGANIZATION"));

    // As in the official provider, the variable can turn verification off even over an explicit false.
    let mut ssl_skip_verify = config.attr("ssl_skip_verify").as_bool().unwrap_or(false);
    if !ssl_skip_verify && let Some(raw) = env_nonempty("TFE_SSL_SKIP_VERIFY") {
        match parse_go_bool(&raw) {
            Some(v) => ssl_skip_verify = v,
            None => diags.error(
                "Invalid TFE_SSL_SKIP_VERIFY",
                format!("TFE_SSL_SKIP_VERIFY is {raw:?}; use true or false (also 1/0, t/f)."),
            ),
        }
    }

    let token_value = config.attr("token");
    // A hostname only known at apply time cannot pick CLI credentials yet.
    let hostname_unknown = config.attr("hostname").is_unknown();
    let sources = CredentialSources::from_env(env);
    let (token, token_source) = if let Some(t) = token_value.as_str().filter(|t| !t.is_empty()) {
        (Token::new(t), TokenSource::Configuration)
    } else if let Some(t) = env_nonempty("TFE_TOKEN") {
        (Token::new(t), TokenSource::Environment)
    } else if let Some(t) = sources.token_for(&hostname).filter(|_| !hostname_unknown) {
        (Token::new(t), TokenSource::CliConfig)
    } else if token_value.is_unknown() || hostname_unknown {
        (Token::default(), TokenSource::Unknown)
    } else {
        let looked_in = credentials::describe(&sources);
        diags.attribute_error(
            AttributePath::root("token"),
            "No API token found",
            format!(
                "The provider needs an API token for {hostname}. Set the provider's \"token\" argument, the \
                 TFE_TOKEN environment variable, or run `terraform login {hostname}` so that a credentials \
                 block exists in the Terraform CLI configuration (looked in: {}).",
                if looked_in.is_empty() { "no CLI configuration files" } else { &looked_in }
            ),
        );
        (Token::default(), TokenSource::Unknown)
    };

    // Checked here so that a bad value stops `configure`, before any resource needs the client.
    if let Err(bad) = client_tuning(env) {
        diags.extend(bad);
    }

    if diags.has_errors() {
        return Err(diags);
    }
    Ok(ProviderConfig {
        hostname: credentials::normalize_host(&hostname),
        token,
        token_source,
        organization,
        ssl_skip_verify,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_organization_falls_back_to_the_provider_and_says_so_when_missing() {
        let with_organization = |organization: Option<&str>| {
            let config: SharedConfig = Default::default();
            let _ = config.set(ProviderConfig {
                hostname: "h".into(),
                token: Token::new("t"),
                token_source: TokenSource::Unknown,
                organization: organization.map(str::to_string),
                ssl_skip_verify: false,
            });
            config
        };
        let config = with_organization(Some("from-provider"));
        let own = Value::object([("organization", Value::string("own"))]);
        assert_eq!(organization(&own, &config).unwrap(), "own");
        let unset = Value::object([("organization", Value::Null)]);
        assert_eq!(organization(&unset, &config).unwrap(), "from-provider");
        let mut planned = Value::object([("organization", Value::Unknown)]);
        plan_organization_fallback(&mut planned, &unset, &config);
        assert_eq!(
            planned.attr("organization"),
            &Value::string("from-provider")
        );

        let err = organization(&unset, &with_organization(None)).unwrap_err();
        assert!(err.0[0].detail.contains("TFE_ORGANIZATION"));
    }

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| {
            pairs
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
        }
    }

    fn config(attrs: &[(&str, Value)]) -> Value {
        let mut v = Value::object([
            ("hostname", Value::Null),
            ("token", Value::Null),
            ("organization", Value::Null),
            ("ssl_skip_verify", Value::Null),
        ]);
        for (k, val) in attrs {
            v.set_attr(k, val.clone());
        }
        v
    }

    #[test]
    fn arguments_win_over_environment() {
        let env = env_of(&[
            ("TFE_HOSTNAME", "env.example.com"),
            ("TFE_TOKEN", "env-token"),
            ("TFE_ORGANIZATION", "env-org"),
        ]);
        let c = resolve(
            &config(&[
                ("hostname", Value::string("tfe.example.com")),
                ("token", Value::string("arg-token")),
                ("organization", Value::string("arg-org")),
            ]),
            &env,
        )
        .unwrap();
        assert_eq!(c.hostname, "tfe.example.com");
        assert_eq!(c.token.expose(), "arg-token");
        assert_eq!(c.token_source, TokenSource::Configuration);
        assert_eq!(c.organization.as_deref(), Some("arg-org"));
    }

    #[test]
    fn environment_fills_gaps_and_hostname_defaults() {
        let c = resolve(
            &config(&[]),
            &env_of(&[("TFE_TOKEN", "t"), ("TFE_SSL_SKIP_VERIFY", "1")]),
        )
        .unwrap();
        assert_eq!(c.hostname, DEFAULT_HOSTNAME);
        assert_eq!(c.token_source, TokenSource::Environment);
        assert!(c.ssl_skip_verify);
        assert_eq!(c.organization, None);
    }

    #[test]
    fn bad_ssl_skip_verify_variable_is_an_error() {
        let err = resolve(
            &config(&[]),
            &env_of(&[("TFE_TOKEN", "t"), ("TFE_SSL_SKIP_VERIFY", "maybe")]),
        )
        .unwrap_err();
        assert!(err.iter().any(|d| d.detail.contains("maybe")));
    }

    #[test]
    fn token_comes_from_cli_config_for_the_right_host() {
        let dir = tempfile::tempdir().unwrap();
        let rc = dir.path().join("cli.tfrc");
        std::fs::write(
            &rc,
            "credentials \"tfe.example.com\" {\n  token = \"from-rc\"\n}\n",
        )
        .unwrap();
        let rc = rc.to_string_lossy().into_owned();
        let home = dir.path().to_string_lossy().into_owned();
        let env = env_of(&[("TF_CLI_CONFIG_FILE", &rc), ("HOME", &home)]);
        let c = resolve(
            &config(&[("hostname", Value::string("tfe.example.com"))]),
            &env,
        )
        .unwrap();
        assert_eq!(c.token.expose(), "from-rc");
        assert_eq!(c.token_source, TokenSource::CliConfig);
        let missing = resolve(&config(&[]), &env).unwrap_err();
        let d = missing.iter().next().unwrap();
        assert_eq!(d.attribute, Some(AttributePath::root("token")));
        assert!(
            d.detail.contains("TFE_TOKEN") && d.detail.contains("app.terraform.io"),
            "{}",
            d.detail
        );
    }

    #[test]
    fn unknown_hostname_defers_the_token_lookup() {
        let c = resolve(&config(&[("hostname", Value::Unknown)]), &env_of(&[])).unwrap();
        assert_eq!(c.token_source, TokenSource::Unknown);
        assert!(c.token.is_empty());
    }

    #[test]
    fn unknown_token_is_not_an_error_yet() {
        let c = resolve(&config(&[("token", Value::Unknown)]), &env_of(&[])).unwrap();
        assert_eq!(c.token_source, TokenSource::Unknown);
    }

    #[test]
    fn hostname_must_be_bare() {
        let err = resolve(
            &config(&[("hostname", Value::string("https://tfe.example.com"))]),
            &env_of(&[("TFE_TOKEN", "t")]),
        )
        .unwrap_err();
        assert_eq!(
            err.iter().next().unwrap().attribute,
            Some(AttributePath::root("hostname"))
        );
    }

    #[test]
    fn tuning_variables_default_parse_and_refuse_bad_values() {
        assert_eq!(
            client_tuning(&env_of(&[])).unwrap(),
            ClientTuning::default()
        );
        assert_eq!(
            ClientTuning::default(),
            ClientTuning {
                request_timeout: Duration::from_secs(30),
                retry_max_elapsed: Duration::from_secs(300),
                retry_max_pause: Duration::from_secs(60),
            }
        );
        let set = client_tuning(&env_of(&[
            ("TFE_REQUEST_TIMEOUT", "45s"),
            ("TFE_RETRY_MAX_ELAPSED", "1h30m"),
            ("TFE_RETRY_MAX_PAUSE", "0"),
        ]))
        .unwrap();
        assert_eq!(set.request_timeout, Duration::from_secs(45));
        assert_eq!(set.retry_max_elapsed, Duration::from_secs(5400));
        assert_eq!(set.retry_max_pause, Duration::ZERO);

        let bad = client_tuning(&env_of(&[
            ("TFE_REQUEST_TIMEOUT", "0s"),
            ("TFE_RETRY_MAX_ELAPSED", "5 minutes"),
            ("TFE_RETRY_MAX_PAUSE", "-1s"),
        ]))
        .unwrap_err();
        let details: Vec<String> = bad.iter().map(|d| d.detail.clone()).collect();
        assert_eq!(details.len(), 3, "{details:?}");
        assert!(
            details[0].contains("TFE_REQUEST_TIMEOUT") && details[0].contains("longer than zero"),
            "{details:?}"
        );
        for (detail, name) in details[1..]
            .iter()
            .zip(["TFE_RETRY_MAX_ELAPSED", "TFE_RETRY_MAX_PAUSE"])
        {
            assert!(detail.contains(name), "{detail}");
            assert!(
                detail.contains("e.g. \"30m\""),
                "names the allowed form: {detail}"
            );
        }
    }

    #[test]
    fn a_bad_tuning_variable_fails_configuration() {
        let err = resolve(
            &config(&[]),
            &env_of(&[("TFE_TOKEN", "t"), ("TFE_RETRY_MAX_ELAPSED", "forever")]),
        )
        .unwrap_err();
        let d = err.iter().next().unwrap();
        assert_eq!(d.summary, "Invalid TFE_RETRY_MAX_ELAPSED");
        assert!(d.detail.contains("\"forever\""), "{}", d.detail);
    }

    #[test]
    fn debug_output_never_shows_the_token() {
        let c = resolve(
            &config(&[("token", Value::string("s3cr3t-value"))]),
            &env_of(&[]),
        )
        .unwrap();
        let shown = format!("{c:?}");
        assert!(!shown.contains("s3cr3t-value"), "{shown}");
        assert!(shown.contains("redacted"));
    }
}
