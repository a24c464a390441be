//! The optional HTTPS listener serves the same API with a certificate clients can trust.

use std::sync::Arc;

use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::common::start_with;

#[tokio::test]
async fn https_listener_serves_the_api() {
    let twin = start_with(|c| c.tls_port = Some(0)).await;
    let url = twin.tls_url().unwrap().to_owned();
    assert!(url.starts_with("https://127.0.0.1:"));
    assert!(
        twin.tls_cert_pem()
            .unwrap()
            .starts_with("-----BEGIN CERTIFICATE-----")
    );
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from(twin.tls_cert_der().unwrap().to_vec()))
        .unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let addr = url.trim_start_matches("https://");
    let tcp = TcpStream::connect(addr).await.unwrap();
    let name = ServerName::try_from("127.0.0.1").unwrap();
    let mut tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .unwrap();
    let request = format!(
        "GET /inference-profiles?type=APPLICATION HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer twin-bearer\r\nConnection: close\r\n\r\n"
    );
    tls.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    let _ = tls.read_to_string(&mut response).await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("tw1nappprof1"), "{response}");
    twin.stop().await;
}
