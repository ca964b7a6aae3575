//! [`ReceiverConfig`]: what a receiver needs to know, from the environment.

use std::{error::Error, fmt, path::PathBuf, time::Duration};

use quickassist_webhooks::{
    idempotency::{Deduplicator, DEFAULT_DONE_TTL},
    receive::{Receiver, ReceiverBuilder},
    Secret, Verifier,
};
use quickassist_webhooks_postgres::redact_url;
use quickassist_webhooks_redis::RedisStore;
use tokio_rustls::rustls::{
    crypto::ring,
    pki_types::{pem::PemObject, CertificateDer, PrivateKeyDer},
    ServerConfig,
};

/// Address the receivers bind by default: loopback only.
pub const DEFAULT_HOST: &str = "127.0.0.1";

/// Port the receivers listen on by default.
pub const DEFAULT_PORT: u16 = 3000;

/// A receiver's configuration.
///
/// Its `Debug` never shows the secret, nor a password inside `REDIS_URL`.
///
/// ```
/// use quickassist_examples::ReceiverConfig;
///
/// let config = ReceiverConfig::from_lookup(|name| match name {
///     "QUICKASSIST_WEBHOOK_SECRET" => Some("whsec_example".into()),
///     "PORT" => Some("8080".into()),
///     _ => None,
/// })?;
/// assert_eq!(config.bind_address(), "127.0.0.1:8080");
/// assert!(!format!("{config:?}").contains("whsec_example"));
/// # Ok::<(), quickassist_examples::ConfigError>(())
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub struct ReceiverConfig {
    /// The webhook secret (`QUICKASSIST_WEBHOOK_SECRET`, required).
    pub secret: Secret,
    /// The address to bind (`HOST`, default [`DEFAULT_HOST`]).
    pub host: String,
    /// The port to listen on (`PORT`, default [`DEFAULT_PORT`]; `0` picks a free port).
    pub port: u16,
    /// Where to share idempotency claims between replicas (`REDIS_URL`, optional; without it
    /// claims are kept in memory).
    pub redis_url: Option<String>,
    /// PEM files of the certificate chain and private key to serve HTTPS with (`TLS_CERT`
    /// and `TLS_KEY`, both or neither; without them the receiver serves plain HTTP, for
    /// local use or behind a TLS-terminating proxy).
    pub tls: Option<(PathBuf, PathBuf)>,
    /// How long a processed delivery is remembered as a duplicate (`DONE_TTL`, in seconds;
    /// default 24 h). Set it to the provider's retry horizon: by default the replay window
    /// follows it.
    pub done_ttl: Duration,
    /// The replay window (`REPLAY_WINDOW`, in seconds): deliveries whose signed `timestamp` is
    /// older are refused with 401. Unset, it is the done-TTL less the clock-skew allowance;
    /// `0` turns it off (not advisable on the open internet); longer than `DONE_TTL` is refused
    /// at start.
    pub replay_window: Option<Duration>,
    /// The most connections open at once (`MAX_CONNECTIONS`; default: the open-file limit
    /// less a reserve). Past it, new connections are closed at once.
    pub max_connections: Option<usize>,
    /// Bytes of request bodies in flight at once (`BODY_BUDGET`; default the library's 32 MiB).
    pub body_budget: Option<usize>,
}

impl fmt::Debug for ReceiverConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReceiverConfig")
            .field("secret", &self.secret)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("redis_url", &self.redis_url.as_deref().map(redact_url))
            .field("tls", &self.tls)
            .field("done_ttl", &self.done_ttl)
            .field("replay_window", &self.replay_window)
            .field("max_connections", &self.max_connections)
            .field("body_budget", &self.body_budget)
            .finish()
    }
}

impl ReceiverConfig {
    /// Reads the configuration from the process environment.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] when the secret is missing or empty, or `PORT` is not a port number.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `lookup` (a variable name to its value), for tests.
    ///
    /// # Errors
    ///
    /// As [`from_env`](Self::from_env).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let secret = match lookup("QUICKASSIST_WEBHOOK_SECRET") {
            None => return Err(ConfigError::MissingSecret),
            Some(secret) if secret.trim().is_empty() => return Err(ConfigError::MissingSecret),
            Some(secret) => Secret::from(secret),
        };
        let host = lookup("HOST")
            .filter(|host| !host.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_HOST.to_owned());
        let port = match lookup("PORT").filter(|port| !port.trim().is_empty()) {
            None => DEFAULT_PORT,
            Some(port) => port
                .trim()
                .parse()
                .map_err(|_| ConfigError::InvalidPort(port))?,
        };
        let redis_url = lookup("REDIS_URL").filter(|url| !url.trim().is_empty());
        let path = |name| lookup(name).filter(|path| !path.trim().is_empty());
        let tls = match (path("TLS_CERT"), path("TLS_KEY")) {
            (Some(cert), Some(key)) => Some((cert.into(), key.into())),
            (None, None) => None,
            _ => {
                return Err(ConfigError::Tls(
                    "set both TLS_CERT and TLS_KEY, or neither".into(),
                ))
            }
        };
        let seconds = |name| {
            parsed::<u64>(&lookup, name, |name, value| ConfigError::InvalidSeconds {
                name,
                value,
            })
            .map(|secs| secs.map(Duration::from_secs))
        };
        let number = |name| {
            parsed::<usize>(&lookup, name, |name, value| ConfigError::InvalidNumber {
                name,
                value,
            })
        };
        let done_ttl = seconds("DONE_TTL")?.unwrap_or(DEFAULT_DONE_TTL);
        let replay_window = seconds("REPLAY_WINDOW")?;
        let max_connections = number("MAX_CONNECTIONS")?;
        let body_budget = number("BODY_BUDGET")?;
        Ok(Self {
            secret,
            host,
            port,
            redis_url,
            tls,
            done_ttl,
            replay_window,
            max_connections,
            body_budget,
        })
    }

    /// A receiver builder for this configuration without a de-duplication store: the
    /// secret, the replay window and the body budget. What the intake mode builds on
    /// ([`ReceiverBuilder::build_intake`]), where the inbox de-duplicates.
    ///
    /// ```
    /// use quickassist_examples::ReceiverConfig;
    ///
    /// let config = ReceiverConfig::from_lookup(|name| match name {
    ///     "QUICKASSIST_WEBHOOK_SECRET" => Some("whsec_example".into()),
    ///     "REPLAY_WINDOW" => Some("600".into()),
    ///     _ => None,
    /// })?;
    /// let receiver = config.builder_without_store().build()?;
    /// assert_eq!(receiver.verifier().timestamp_tolerance(), Some(std::time::Duration::from_secs(600)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn builder_without_store(&self) -> ReceiverBuilder {
        let verifier = match self.replay_window {
            None => Verifier::new(self.secret.clone()),
            Some(Duration::ZERO) => {
                Verifier::new(self.secret.clone()).without_timestamp_tolerance()
            }
            Some(window) => Verifier::new(self.secret.clone()).with_timestamp_tolerance(window),
        };
        let builder = Receiver::builder(verifier);
        match self.body_budget {
            Some(bytes) => builder.body_budget(bytes),
            None => builder,
        }
    }

    /// A receiver builder for this configuration: the secret, the replay window, and the
    /// de-duplication store (`REDIS_URL`'s, or in memory) with the done-TTL.
    ///
    /// # Errors
    ///
    /// As [`redis_store`](Self::redis_store).
    ///
    /// ```
    /// use std::time::Duration;
    /// use quickassist_examples::ReceiverConfig;
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let config = ReceiverConfig::from_lookup(|name| match name {
    ///     "QUICKASSIST_WEBHOOK_SECRET" => Some("whsec_example".into()),
    ///     "DONE_TTL" => Some("7200".into()),
    ///     _ => None,
    /// })?;
    /// let receiver = config.receiver_builder().await?.build()?;
    /// // The window follows the done-TTL, less the 5 min clock-skew allowance.
    /// assert_eq!(receiver.verifier().timestamp_tolerance(), Some(Duration::from_secs(6900)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn receiver_builder(&self) -> Result<ReceiverBuilder, ConfigError> {
        let dedup = match self.redis_store().await? {
            Some(store) => Deduplicator::new(store),
            None => Deduplicator::memory(),
        };
        Ok(self
            .builder_without_store()
            .deduplicator(dedup.with_done_ttl(self.done_ttl)))
    }

    /// `host:port`, to bind.
    #[must_use]
    pub fn bind_address(&self) -> String {
        if self.host.contains(':') && !self.host.starts_with('[') {
            format!("[{}]:{}", self.host, self.port) // an IPv6 literal
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// The Redis store for `REDIS_URL`, if it is set.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Redis`] when `REDIS_URL` is set but Redis cannot be reached: the
    /// receiver refuses to start rather than silently de-duplicating per process, which
    /// would let duplicates through between replicas.
    pub async fn redis_store(&self) -> Result<Option<RedisStore>, ConfigError> {
        match &self.redis_url {
            None => Ok(None),
            Some(url) => RedisStore::connect(url)
                .await
                .map(Some)
                .map_err(|error| ConfigError::Redis(error.to_string())),
        }
    }

    /// The server the axum receivers serve with, after raising the soft open-file limit to
    /// the hard one: a header-read (and idle keep-alive) timeout and a cap on open
    /// connections (`MAX_CONNECTIONS`, default from the open-file limit).
    ///
    /// ```
    /// use quickassist_examples::ReceiverConfig;
    ///
    /// let config = ReceiverConfig::from_lookup(|name| match name {
    ///     "QUICKASSIST_WEBHOOK_SECRET" => Some("whsec_example".into()),
    ///     "MAX_CONNECTIONS" => Some("500".into()),
    ///     _ => None,
    /// })?;
    /// assert_eq!(config.server().get_max_connections(), 500);
    /// # Ok::<(), quickassist_examples::ConfigError>(())
    /// ```
    pub fn server(&self) -> quickassist_webhooks_tower::serve::Server {
        let _ = quickassist_webhooks_tower::serve::raise_open_files_limit();
        let server = quickassist_webhooks_tower::serve::Server::new();
        match self.max_connections {
            Some(max) => server.max_connections(max),
            None => server,
        }
    }

    /// The cap on open connections for actix-web's `HttpServer::max_connections` (per
    /// worker): `MAX_CONNECTIONS`, or what the open-file limit leaves, shared by `workers`.
    #[must_use]
    pub fn max_connections_per_worker(&self, workers: usize) -> usize {
        let _ = quickassist_webhooks_tower::serve::raise_open_files_limit();
        let total = self.max_connections.unwrap_or_else(|| {
            quickassist_webhooks_tower::serve::Server::new().get_max_connections()
        });
        (total / workers.max(1)).max(1)
    }

    /// The TLS configuration for `TLS_CERT` and `TLS_KEY`, if they are set.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Tls`] when a file cannot be read or holds no usable certificate or
    /// key.
    pub fn tls_config(&self) -> Result<Option<ServerConfig>, ConfigError> {
        let Some((cert, key)) = &self.tls else {
            return Ok(None);
        };
        let fail = |what: &str, path: &PathBuf, error: &dyn fmt::Display| {
            ConfigError::Tls(format!("{what} {}: {error}", path.display()))
        };
        let chain = CertificateDer::pem_file_iter(cert)
            .and_then(Iterator::collect::<Result<Vec<_>, _>>)
            .map_err(|error| fail("TLS_CERT", cert, &error))?;
        if chain.is_empty() {
            return Err(fail("TLS_CERT", cert, &"no certificate in the file"));
        }
        let key_der =
            PrivateKeyDer::from_pem_file(key).map_err(|error| fail("TLS_KEY", key, &error))?;
        let config = ServerConfig::builder_with_provider(ring::default_provider().into())
            .with_safe_default_protocol_versions()
            .and_then(|builder| {
                builder
                    .with_no_client_auth()
                    .with_single_cert(chain, key_der)
            })
            .map_err(|error| fail("TLS_CERT/TLS_KEY", cert, &error))?;
        Ok(Some(config))
    }
}

/// The variable `name` parsed as a `T`; `None` when it is unset or blank.
fn parsed<T: std::str::FromStr>(
    lookup: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    invalid: fn(&'static str, String) -> ConfigError,
) -> Result<Option<T>, ConfigError> {
    match lookup(name).filter(|value| !value.trim().is_empty()) {
        None => Ok(None),
        Some(value) => match value.trim().parse() {
            Ok(parsed) => Ok(Some(parsed)),
            Err(_) => Err(invalid(name, value)),
        },
    }
}

/// Why the receiver cannot start; the binaries print it and exit with code 2.
#[derive(Debug)]
#[non_exhaustive]
pub enum ConfigError {
    /// `QUICKASSIST_WEBHOOK_SECRET` is unset or empty.
    MissingSecret,
    /// `PORT` is not a number from 0 to 65535.
    InvalidPort(String),
    /// `REDIS_URL` is set but Redis cannot be reached (or the URL is invalid).
    Redis(String),
    /// `TLS_CERT` / `TLS_KEY` are incomplete or unusable.
    Tls(String),
    /// `MAX_CONNECTIONS` or `BODY_BUDGET` is not a whole number.
    InvalidNumber {
        /// The variable.
        name: &'static str,
        /// Its value.
        value: String,
    },
    /// `DONE_TTL` or `REPLAY_WINDOW` is not a whole number of seconds.
    InvalidSeconds {
        /// The variable.
        name: &'static str,
        /// Its value.
        value: String,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingSecret => f.write_str(
                "QUICKASSIST_WEBHOOK_SECRET is not set: export the webhook secret from your \
                 TheQuickAssist dashboard (Settings → API & Webhooks → Webhooks), e.g. \
                 `QUICKASSIST_WEBHOOK_SECRET=whsec_... cargo run --release --example axum_receiver`",
            ),
            Self::InvalidNumber { name, value } => {
                write!(f, "{name} must be a whole number, got {value:?}")
            }
            Self::InvalidSeconds { name, value } => {
                write!(f, "{name} must be a whole number of seconds, got {value:?}")
            }
            Self::InvalidPort(value) => {
                write!(f, "PORT must be a port number (0-65535), got {value:?}")
            }
            Self::Redis(error) => write!(
                f,
                "cannot use the Redis at REDIS_URL for idempotency ({error}); start Redis, fix \
                 the URL, or unset REDIS_URL to keep claims in memory (one process only)"
            ),
            Self::Tls(error) => write!(f, "cannot serve HTTPS: {error}"),
        }
    }
}

impl Error for ConfigError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        }
    }

    #[test]
    fn defaults_apply_when_only_the_secret_is_set() {
        let config =
            ReceiverConfig::from_lookup(lookup(&[("QUICKASSIST_WEBHOOK_SECRET", "s")])).unwrap();
        assert_eq!(config.host, DEFAULT_HOST);
        assert_eq!(config.port, DEFAULT_PORT);
        assert_eq!(config.redis_url, None);
        assert_eq!(config.bind_address(), "127.0.0.1:3000");
    }

    #[test]
    fn missing_or_blank_secret_is_refused_with_a_clear_message() {
        for vars in [&[][..], &[("QUICKASSIST_WEBHOOK_SECRET", "  ")][..]] {
            let error = ReceiverConfig::from_lookup(lookup(vars)).unwrap_err();
            assert!(matches!(error, ConfigError::MissingSecret));
            assert!(error.to_string().contains("QUICKASSIST_WEBHOOK_SECRET"));
        }
    }

    #[test]
    fn invalid_port_is_refused() {
        let error = ReceiverConfig::from_lookup(lookup(&[
            ("QUICKASSIST_WEBHOOK_SECRET", "s"),
            ("PORT", "70000"),
        ]))
        .unwrap_err();
        assert!(matches!(error, ConfigError::InvalidPort(ref port) if port == "70000"));
    }

    #[test]
    fn host_port_and_redis_url_are_read() {
        let config = ReceiverConfig::from_lookup(lookup(&[
            ("QUICKASSIST_WEBHOOK_SECRET", "s"),
            ("HOST", "::1"),
            ("PORT", "0"),
            ("REDIS_URL", "redis://127.0.0.1:6379"),
        ]))
        .unwrap();
        assert_eq!(config.bind_address(), "[::1]:0");
        assert_eq!(config.redis_url.as_deref(), Some("redis://127.0.0.1:6379"));
    }

    #[test]
    fn debug_never_shows_a_password_inside_redis_url() {
        let config = ReceiverConfig::from_lookup(lookup(&[
            ("QUICKASSIST_WEBHOOK_SECRET", "s"),
            ("REDIS_URL", "redis://default:hunter2@127.0.0.1:6379/0"),
        ]))
        .unwrap();
        let debug = format!("{config:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(
            debug.contains("redis://default:***@127.0.0.1:6379/0"),
            "{debug}"
        );
    }

    #[test]
    fn tls_needs_both_files() {
        let error = ReceiverConfig::from_lookup(lookup(&[
            ("QUICKASSIST_WEBHOOK_SECRET", "s"),
            ("TLS_CERT", "/cert.pem"),
        ]))
        .unwrap_err();
        assert!(matches!(error, ConfigError::Tls(_)));
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let config =
            ReceiverConfig::from_lookup(lookup(&[("QUICKASSIST_WEBHOOK_SECRET", "whsec_hidden")]))
                .unwrap();
        assert!(!format!("{config:?}").contains("whsec_hidden"));
    }
}
