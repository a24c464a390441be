//! Remote `image_url`s (`http(s)://…`), fetched only when `gateway.remoteImages.enabled`.
//!
//! Fetching a URL a client names makes the gateway a proxy into its own network, so every
//! address the host name resolves to must be public: loopback, link-local (169.254.169.254 is
//! the instance-metadata service that hands out the host's AWS credentials), private, shared,
//! multicast and reserved ranges are refused unless the host is in `allowHosts`. The connection
//! goes to the address that was checked (no second DNS lookup to rebind), redirects are not
//! followed, and size and time are bounded. A fetched image becomes a `data:` URL, so the rest
//! of the pipeline sees only inline images.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use futures_util::StreamExt;
use pincer_config::options::RemoteImageOptions;
use pincer_openai::types::{ChatCompletionRequest, ChatMessage, Content, ContentPart};

use crate::http::error::GatewayError;

/// The remote-image policy.
#[derive(Debug, Clone)]
pub struct RemoteImages {
    enabled: bool,
    max_bytes: u64,
    timeout: Duration,
    allow_hosts: Vec<String>,
}

impl RemoteImages {
    /// The policy of `gateway.remoteImages`.
    pub fn new(options: &RemoteImageOptions) -> Self {
        Self {
            enabled: options.enabled(),
            max_bytes: options.max_bytes(),
            timeout: options.timeout(),
            allow_hosts: options
                .allow_hosts
                .iter()
                .flatten()
                .map(|h| h.trim_matches(['[', ']']).to_ascii_lowercase())
                .collect(),
        }
    }

    /// Replaces every remote image URL of `request` by the `data:` URL of the fetched image.
    /// Disabled, it leaves them for the request conversion to refuse.
    pub async fn inline(&self, request: &mut ChatCompletionRequest) -> Result<(), GatewayError> {
        if !self.enabled {
            return Ok(());
        }
        for (m, message) in request.messages.iter_mut().enumerate() {
            let content = match message {
                ChatMessage::User { content } | ChatMessage::Tool { content, .. } => content,
                _ => continue,
            };
            let Content::Parts(parts) = content else {
                continue;
            };
            for (p, part) in parts.iter_mut().enumerate() {
                if let ContentPart::ImageUrl { image_url } = part
                    && !image_url.url.starts_with("data:")
                {
                    let param = format!("messages[{m}].content[{p}].image_url.url");
                    image_url.url = self.fetch(&image_url.url).await.map_err(|message| {
                        GatewayError::BadRequest {
                            message: format!("{param}: {message}"),
                            param: Some(param),
                        }
                    })?;
                }
            }
        }
        Ok(())
    }

    /// Fetches `url` and returns it as a `data:` URL, or says why not.
    async fn fetch(&self, url: &str) -> Result<String, String> {
        let parsed = url::Url::parse(url).map_err(|e| format!("not a URL: {e}"))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(format!(
                "only http(s) and data: image URLs are accepted, not `{}:`",
                parsed.scheme()
            ));
        }
        let host = parsed
            .host_str()
            .ok_or("the URL has no host")?
            .trim_matches(['[', ']'])
            .to_ascii_lowercase();
        let port = parsed.port_or_known_default().unwrap_or(443);
        let addrs: Vec<SocketAddr> =
            tokio::time::timeout(self.timeout, tokio::net::lookup_host((host.as_str(), port)))
                .await
                .map_err(|_| format!("resolving `{host}` timed out"))?
                .map_err(|e| format!("cannot resolve `{host}`: {e}"))?
                .collect();
        let allowed = self.allow_hosts.contains(&host);
        let addr = addrs
            .iter()
            .find(|a| allowed || is_public(a.ip()))
            .copied()
            .ok_or_else(|| match addrs.first() {
                Some(a) => format!(
                    "`{host}` resolves to {}, which is not a public address; the gateway does not fetch from loopback, link-local, private or reserved addresses (list the host in gateway.remoteImages.allowHosts to allow it)",
                    a.ip()
                ),
                None => format!("`{host}` resolves to no address"),
            })?;
        if !allowed && addrs.iter().any(|a| !is_public(a.ip())) {
            return Err(format!(
                "`{host}` resolves to both public and non-public addresses; refusing it"
            ));
        }
        let client = reqwest::Client::builder()
            .resolve(&host, addr)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(self.timeout)
            .build()
            .map_err(|e| format!("cannot build an HTTP client: {e}"))?;
        let response = client
            .get(parsed)
            .send()
            .await
            .map_err(|e| format!("fetching the image failed: {e}"))?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!("fetching the image returned HTTP {status}"));
        }
        let media_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().to_ascii_lowercase())
            .unwrap_or_default();
        if !media_type.starts_with("image/") {
            return Err(format!("the URL serves `{media_type}`, not an image"));
        }
        if response
            .content_length()
            .is_some_and(|n| n > self.max_bytes)
        {
            return Err(format!(
                "the image is larger than gateway.remoteImages.maxBytes ({} bytes)",
                self.max_bytes
            ));
        }
        let mut body = Vec::new();
        let mut chunks = response.bytes_stream();
        while let Some(chunk) = chunks.next().await {
            let chunk = chunk.map_err(|e| format!("reading the image failed: {e}"))?;
            body.extend_from_slice(&chunk);
            if body.len() as u64 > self.max_bytes {
                return Err(format!(
                    "the image is larger than gateway.remoteImages.maxBytes ({} bytes)",
                    self.max_bytes
                ));
            }
        }
        Ok(format!(
            "data:{media_type};base64,{}",
            STANDARD.encode(&body)
        ))
    }
}

/// Whether `ip` is a public unicast address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (carrier NAT)
        || (a == 192 && b == 0 && ip.octets()[2] == 0) // IETF protocol assignments
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || a >= 240) // reserved
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || ip.is_unique_local()
        || ip.is_unicast_link_local()
        || first == 0x2001 && ip.segments()[1] == 0x0db8 // documentation
        || first == 0x0064 && ip.segments()[1] == 0xff9b // NAT64, may reach private IPv4
        || (first & 0xffc0) == 0xfec0) // site-local (deprecated)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_pass() {
        for private in [
            "127.0.0.1",
            "169.254.169.254",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "198.18.0.1",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "fd00:ec2::254",
            "2001:db8::1",
            "64:ff9b::a00:1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in [
            "93.184.216.34",
            "8.8.8.8",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }
}
