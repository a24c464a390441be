//! Remote `image_url`s (`http(s)://…`), fetched only when `gateway.remoteImages.enabled`.
//!
//! Fetching a URL a client names makes the gateway a proxy into its own network, so every
//! address the host name resolves to must be public: loopback, link-local (169.254.169.254 is
//! the instance-metadata service that hands out the host's AWS credentials), private, shared,
//! multicast and reserved ranges are refused unless the host is in `allowHosts`. The connection
//! goes to the address that was checked (no second DNS lookup to rebind), redirects are not
//! followed, and size and time are bounded: each image by `maxBytes` and `timeout`, a request
//! by `maxImages` and `maxTotalBytes`, and all of it by the request's own deadline
//! (`gateway.requestTimeout`). Up to [`PARALLEL_FETCHES`] images of a request are fetched at
//! once. A fetched image becomes a `data:` URL, so the rest of the pipeline sees only inline
//! images.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use futures_util::StreamExt;
use pincer_config::options::RemoteImageOptions;
use pincer_openai::types::{ChatCompletionRequest, ChatMessage, Content, ContentPart};

use crate::http::error::GatewayError;

/// Remote images of one request fetched at once.
pub const PARALLEL_FETCHES: usize = 4;

/// The remote-image policy.
#[derive(Debug, Clone)]
pub struct RemoteImages {
    enabled: bool,
    max_bytes: u64,
    max_images: usize,
    max_total_bytes: u64,
    timeout: Duration,
    allow_hosts: Vec<String>,
}

impl RemoteImages {
    /// The policy of `gateway.remoteImages`.
    pub fn new(options: &RemoteImageOptions) -> Self {
        Self {
            enabled: options.enabled(),
            max_bytes: options.max_bytes(),
            max_images: options.max_images(),
            max_total_bytes: options.max_total_bytes(),
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
        let mut targets: Vec<(String, &mut String)> = Vec::new();
        for (m, message) in request.messages.iter_mut().enumerate() {
            let content = match message {
                ChatMessage::User { content, .. } | ChatMessage::Tool { content, .. } => content,
                _ => continue,
            };
            let Content::Parts(parts) = content else {
                continue;
            };
            for (p, part) in parts.iter_mut().enumerate() {
                if let ContentPart::ImageUrl { image_url } = part
                    && !image_url.url.starts_with("data:")
                {
                    targets.push((
                        format!("messages[{m}].content[{p}].image_url.url"),
                        &mut image_url.url,
                    ));
                }
            }
        }
        self.inline_targets("messages", targets).await
    }

    /// Whether remote images are fetched at all.
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// Replaces each remote URL of `targets` (request field, URL) by the `data:` URL of the
    /// fetched image, within the policy's count and byte limits (too many is an error naming
    /// `field`). Every door collects its own.
    pub async fn inline_targets(
        &self,
        field: &str,
        targets: Vec<(String, &mut String)>,
    ) -> Result<(), GatewayError> {
        if targets.is_empty() {
            return Ok(());
        }
        if targets.len() > self.max_images {
            return Err(GatewayError::BadRequest {
                message: format!(
                    "the request names {} remote images; gateway.remoteImages.maxImages allows {} (send the others inline as data: URLs)",
                    targets.len(),
                    self.max_images
                ),
                param: Some(field.to_owned()),
            });
        }
        let used = AtomicU64::new(0);
        let jobs: Vec<(String, String)> = targets
            .iter()
            .map(|(param, url)| (param.clone(), (**url).clone()))
            .collect();
        let fetched: Vec<Result<String, GatewayError>> = futures_util::stream::iter(jobs)
            .map(|(param, url)| self.fetch_one(param, url, &used))
            .buffered(PARALLEL_FETCHES)
            .collect()
            .await;
        for ((_, url), data) in targets.into_iter().zip(fetched) {
            *url = data?;
        }
        Ok(())
    }

    async fn fetch_one(
        &self,
        param: String,
        url: String,
        used: &AtomicU64,
    ) -> Result<String, GatewayError> {
        self.fetch(&url, used)
            .await
            .map_err(|message| GatewayError::BadRequest {
                message: format!("{param}: {message}"),
                param: Some(param),
            })
    }

    /// Fetches `url` and returns it as a `data:` URL, or says why not.
    async fn fetch(&self, url: &str, used: &AtomicU64) -> Result<String, String> {
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
                    "`{host}` resolves to {}, {}, not a public address; the gateway does not fetch from loopback, link-local, private or reserved addresses (list the host in gateway.remoteImages.allowHosts to allow it)",
                    a.ip(),
                    not_public(a.ip()).unwrap_or_default()
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
            let total = used.fetch_add(chunk.len() as u64, Ordering::Relaxed) + chunk.len() as u64;
            if total > self.max_total_bytes {
                return Err(format!(
                    "the remote images of this request add up to more than gateway.remoteImages.maxTotalBytes ({} bytes)",
                    self.max_total_bytes
                ));
            }
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

/// Whether `ip` is a public unicast address (see [`not_public`]).
pub fn is_public(ip: IpAddr) -> bool {
    not_public(ip).is_none()
}

/// Why `ip` is not a globally routable unicast address, or `None` when it is.
///
/// IPv6 is judged by allow-list: only global unicast (`2000::/3`) can be public, so the
/// IPv4-compatible (`::a.b.c.d`), IPv4-translated (`::ffff:0:a.b.c.d`), discard (`100::/64`),
/// NAT64, unique-local, link-local and multicast forms are all refused, and inside `2000::/3`
/// the IETF protocol assignments (`2001::/23`, Teredo among them), 6to4 (`2002::/16`) and the
/// documentation ranges are refused too. Forms that carry an IPv4 address say which. IPv4-mapped
/// addresses (`::ffff:a.b.c.d`) are judged as the IPv4 address they are.
pub fn not_public(ip: IpAddr) -> Option<String> {
    match ip {
        IpAddr::V4(v4) => not_public_v4(v4).map(str::to_owned),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => not_public_v4(v4).map(|why| format!("{why} (IPv4-mapped {v4})")),
            None => not_public_v6(v6),
        },
    }
}

fn not_public_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    let why = if ip.is_unspecified() || a == 0 {
        "a \"this network\" address"
    } else if ip.is_loopback() {
        "a loopback address"
    } else if ip.is_private() {
        "a private address"
    } else if ip.is_link_local() {
        "a link-local address (169.254.169.254 is the instance-metadata service)"
    } else if a == 100 && (64..128).contains(&b) {
        "a shared (carrier-grade NAT) address"
    } else if a == 192 && b == 0 && c == 0 {
        "an IETF protocol assignment"
    } else if ip.is_documentation() {
        "a documentation address"
    } else if a == 198 && (18..20).contains(&b) {
        "a benchmarking address"
    } else if ip.is_multicast() {
        "a multicast address"
    } else if ip.is_broadcast() || a >= 240 {
        "a reserved address"
    } else {
        return None;
    };
    Some(why)
}

fn not_public_v6(ip: Ipv6Addr) -> Option<String> {
    let s = ip.segments();
    let embedded = |high: u16, low: u16| Ipv4Addr::from((u32::from(high) << 16) | u32::from(low));
    if s[..6] == [0; 6] && !ip.is_loopback() && !ip.is_unspecified() {
        return Some(format!(
            "an IPv4-compatible address (carrying {})",
            embedded(s[6], s[7])
        ));
    }
    if s[..4] == [0; 4] && s[4] == 0xffff && s[5] == 0 {
        return Some(format!(
            "an IPv4-translated address (carrying {})",
            embedded(s[6], s[7])
        ));
    }
    if s[0] == 0x2002 {
        return Some(format!(
            "a 6to4 address (carrying {})",
            embedded(s[1], s[2])
        ));
    }
    if s[0] == 0x2001 && s[1] == 0 {
        let client = Ipv4Addr::from(!((u32::from(s[6]) << 16) | u32::from(s[7])));
        return Some(format!("a Teredo address (carrying {client})"));
    }
    let why = if ip.is_unspecified() {
        "the unspecified address"
    } else if ip.is_loopback() {
        "a loopback address"
    } else if ip.is_multicast() {
        "a multicast address"
    } else if ip.is_unique_local() {
        "a unique-local (private) address"
    } else if ip.is_unicast_link_local() {
        "a link-local address"
    } else if s[0] == 0x0064 && s[1] == 0xff9b {
        "a NAT64 address"
    } else if (s[0] & 0xe000) != 0x2000 {
        "outside the global unicast range 2000::/3"
    } else if s[0] == 0x2001 && s[1] < 0x0200 {
        "an IETF protocol assignment (2001::/23)"
    } else if (s[0] == 0x2001 && s[1] == 0x0db8) || (s[0] == 0x3fff && s[1] < 0x1000) {
        "a documentation address"
    } else {
        return None;
    };
    Some(why.to_owned())
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
            // Each of these used to pass.
            "::127.0.0.1",
            "::ffff:0:127.0.0.1",
            "2002:7f00:1::",
            "2001::1",
            "100::1",
            "3fff::1",
            "2001:2::1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in [
            "93.184.216.34",
            "8.8.8.8",
            "2606:4700::1111",
            "2a00:1450:4001::200e",
            "::ffff:8.8.8.8",
        ] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn forms_that_carry_ipv4_name_it() {
        let why = |ip: &str| not_public(ip.parse().unwrap()).unwrap();
        assert!(
            why("::127.0.0.1").contains("127.0.0.1"),
            "{}",
            why("::127.0.0.1")
        );
        assert!(why("::ffff:0:127.0.0.1").contains("127.0.0.1"));
        assert!(why("2002:7f00:1::").contains("127.0.0.1"));
        // Teredo keeps the client address inverted in its last 32 bits.
        assert!(why("2001:0:4136:e378:8000:63bf:3fff:fdd2").contains("192.0.2.45"));
    }
}
