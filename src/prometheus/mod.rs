//! The Prometheus that scrapes Istio's sidecars: its HTTP API (`/api/v1/query`,
//! `/api/v1/query_range`), and the PromQL over Istio's standard metrics (`istio.rs`). The only
//! module that talks to Prometheus; it answers domain types and [`PrometheusError`].

mod istio;

pub use istio::{entry_rate, traffic_rows};

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// Where Prometheus is and how to reach it.
#[derive(Debug, Clone)]
pub struct PrometheusConfig {
    /// Its base address, e.g. `http://prometheus.istio-system:9090`.
    pub url: String,
    /// A file holding a bearer token (read for every request, so a rotated token is used).
    pub bearer_token_file: Option<PathBuf>,
    /// A PEM file of the CA that signed Prometheus's certificate.
    pub ca_file: Option<PathBuf>,
    /// How long one query may take.
    pub timeout: Duration,
}

/// Why Prometheus gave no answer, in words a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrometheusError {
    /// The configuration cannot be used (a CA file that does not parse, a bad address).
    #[error("{0}")]
    Config(String),
    /// No connection.
    #[error("cannot reach it: {0}")]
    Unreachable(String),
    /// No answer in time.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// Prometheus answered with an error.
    #[error("it answered {status}: {message}")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// Prometheus's own words.
        message: String,
    },
    /// An answer that is not the Prometheus API's.
    #[error("an answer it does not understand: {0}")]
    Malformed(String),
}

/// One series of an instant query: its labels and value.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The series' labels.
    pub labels: BTreeMap<String, String>,
    /// Its value.
    pub value: f64,
}

/// A client of one Prometheus.
#[derive(Clone)]
pub struct Prometheus {
    client: reqwest::Client,
    config: PrometheusConfig,
}

#[derive(Deserialize)]
struct ApiAnswer {
    status: String,
    #[serde(default)]
    data: Option<ApiData>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize)]
struct ApiData {
    #[serde(rename = "resultType")]
    result_type: String,
    result: Vec<ApiSeries>,
}

#[derive(Deserialize)]
struct ApiSeries {
    metric: BTreeMap<String, String>,
    #[serde(default)]
    value: Option<(f64, String)>,
    #[serde(default)]
    values: Option<Vec<(f64, String)>>,
}

impl Prometheus {
    /// A client for `config`; fails only on a configuration that cannot work.
    pub fn new(config: PrometheusConfig) -> Result<Self, PrometheusError> {
        let url = config.url.trim_end_matches('/').to_string();
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(PrometheusError::Config(format!(
                "--prometheus must be an http:// or https:// address, not {url:?}"
            )));
        }
        let mut builder = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(3)));
        if let Some(path) = &config.ca_file {
            let pem = std::fs::read(path).map_err(|e| {
                PrometheusError::Config(format!("cannot read the CA file {}: {e}", path.display()))
            })?;
            let cert = reqwest::Certificate::from_pem(&pem).map_err(|e| {
                PrometheusError::Config(format!("the CA file {} is not PEM: {e}", path.display()))
            })?;
            builder = builder.add_root_certificate(cert);
        }
        let client = builder
            .build()
            .map_err(|e| PrometheusError::Config(e.to_string()))?;
        Ok(Self {
            client,
            config: PrometheusConfig { url, ..config },
        })
    }

    /// The address, as the pages name it.
    pub fn address(&self) -> &str {
        &self.config.url
    }

    /// An instant query (`/api/v1/query`).
    pub async fn query(&self, promql: &str) -> Result<Vec<Sample>, PrometheusError> {
        let data = self.get("query", &[("query", promql.to_string())]).await?;
        if data.result_type != "vector" {
            return Err(PrometheusError::Malformed(format!(
                "expected a vector, got a {}",
                data.result_type
            )));
        }
        data.result
            .into_iter()
            .map(|s| {
                let (_, value) = s
                    .value
                    .ok_or_else(|| PrometheusError::Malformed("a sample without a value".into()))?;
                Ok(Sample {
                    labels: s.metric,
                    value: parse_value(&value)?,
                })
            })
            .collect()
    }

    /// A range query (`/api/v1/query_range`): per series, (time, value) points.
    pub async fn query_range(
        &self,
        promql: &str,
        start: f64,
        end: f64,
        step_seconds: u64,
    ) -> Result<Vec<Vec<(f64, f64)>>, PrometheusError> {
        let params = [
            ("query", promql.to_string()),
            ("start", format!("{start:.3}")),
            ("end", format!("{end:.3}")),
            ("step", format!("{step_seconds}s")),
        ];
        let data = self.get("query_range", &params).await?;
        data.result
            .into_iter()
            .map(|s| {
                s.values
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(t, v)| Ok((t, parse_value(&v)?)))
                    .collect()
            })
            .collect()
    }

    async fn get(&self, api: &str, params: &[(&str, String)]) -> Result<ApiData, PrometheusError> {
        let url = format!("{}/api/v1/{api}", self.config.url);
        let mut request = self.client.get(&url).query(params);
        if let Some(path) = &self.config.bearer_token_file {
            let token = std::fs::read_to_string(path).map_err(|e| {
                PrometheusError::Config(format!(
                    "cannot read the bearer token file {}: {e}",
                    path.display()
                ))
            })?;
            request = request.bearer_auth(token.trim());
        }
        let response = request.send().await.map_err(|e| self.transport(e))?;
        let status = response.status();
        let body = response.text().await.map_err(|e| self.transport(e))?;
        let answer: ApiAnswer = match serde_json::from_str(&body) {
            Ok(answer) => answer,
            Err(_) if !status.is_success() => {
                return Err(PrometheusError::Refused {
                    status: status.as_u16(),
                    message: first_line(&body),
                })
            }
            Err(e) => return Err(PrometheusError::Malformed(e.to_string())),
        };
        match (answer.status.as_str(), answer.data) {
            ("success", Some(data)) => Ok(data),
            _ => Err(PrometheusError::Refused {
                status: status.as_u16(),
                message: answer.error.unwrap_or_else(|| first_line(&body)),
            }),
        }
    }

    fn transport(&self, e: reqwest::Error) -> PrometheusError {
        if e.is_timeout() {
            PrometheusError::Timeout(self.config.timeout)
        } else if e.is_connect() {
            PrometheusError::Unreachable(root_cause(&e))
        } else {
            PrometheusError::Unreachable(e.to_string())
        }
    }
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = e;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

fn first_line(body: &str) -> String {
    let line = body.lines().next().unwrap_or("").trim();
    line.chars().take(200).collect()
}

fn parse_value(text: &str) -> Result<f64, PrometheusError> {
    text.parse()
        .map_err(|_| PrometheusError::Malformed(format!("a sample value {text:?}")))
}
