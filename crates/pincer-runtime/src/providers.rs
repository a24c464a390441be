//! Building providers for backends, once each: one Bedrock client per region and endpoint, all
//! sharing one AWS SDK configuration (so credentials are resolved once per process and refreshed
//! by the SDK, never per request).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use pincer_bedrock::aws::{self, AwsSetup, ProcessEnvironment};
use pincer_bedrock::credentials::seed_source;
use pincer_bedrock::provider::{BedrockOptions, BedrockProvider};
use pincer_core::{Provider, ProviderError};
use pincer_openai::provider::OpenAiProvider;
use tokio::sync::OnceCell;

use crate::resolve::Backend;

/// Providers by backend, created on first use.
#[derive(Debug)]
pub struct Providers {
    region: Option<String>,
    bedrock: BedrockOptions,
    aws: OnceCell<AwsSetup>,
    built: Mutex<HashMap<Backend, Arc<dyn Provider>>>,
}

impl Providers {
    /// A registry; `region` is Pincer's configured region (`models.bedrockDiscovery.region`).
    pub fn new(region: Option<String>, bedrock: BedrockOptions) -> Self {
        Self {
            region,
            bedrock,
            aws: OnceCell::new(),
            built: Mutex::new(HashMap::new()),
        }
    }

    /// A registry that reuses an AWS setup already loaded (one credentials cache per process).
    pub fn with_setup(setup: AwsSetup, bedrock: BedrockOptions) -> Self {
        Self {
            region: Some(setup.region.clone()),
            bedrock,
            aws: OnceCell::new_with(Some(setup)),
            built: Mutex::new(HashMap::new()),
        }
    }

    /// The AWS setup (loaded on first use).
    pub async fn aws(&self) -> &AwsSetup {
        self.aws
            .get_or_init(|| aws::load(self.region.as_deref()))
            .await
    }

    /// The provider for `backend`.
    pub async fn get(&self, backend: &Backend) -> Result<Arc<dyn Provider>, ProviderError> {
        if let Some(provider) = self
            .built
            .lock()
            .ok()
            .and_then(|built| built.get(backend).cloned())
        {
            return Ok(provider);
        }
        let provider: Arc<dyn Provider> = match backend {
            Backend::Bedrock { region, endpoint } => {
                let setup = self.aws().await;
                let config = match region {
                    Some(region) if region != &setup.region => {
                        setup.config.to_builder().region(aws_region(region)).build()
                    }
                    _ => setup.config.clone(),
                };
                let options = BedrockOptions {
                    endpoint: endpoint.clone(),
                    credential_source: Some(seed_source(&ProcessEnvironment).label()),
                    ..self.bedrock.clone()
                };
                Arc::new(BedrockProvider::new(&config, options))
            }
            Backend::OpenAi {
                base_url,
                api_key,
                headers,
            } => Arc::new(OpenAiProvider::new(
                base_url,
                api_key.clone(),
                headers.clone(),
            )),
        };
        if let Ok(mut built) = self.built.lock() {
            built.insert(backend.clone(), provider.clone());
        }
        Ok(provider)
    }
}

fn aws_region(region: &str) -> pincer_bedrock::aws::Region {
    pincer_bedrock::aws::Region::new(region.to_owned())
}
