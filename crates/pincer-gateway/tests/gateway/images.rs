//! Remote `image_url`s: refused by default; when enabled, fetched only from public addresses
//! (or hosts listed in `allowHosts`), bounded in size, and sent to the model inline.

use super::*;

use axum::http::header;

/// A 1×1 PNG.
const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

/// Serves `/a.png` (a PNG), `/slow.png` (the same, after a second), `/page.html` (not an
/// image) and `/big.png` (2 KiB) on loopback.
async fn image_server() -> (String, oneshot::Sender<()>) {
    use base64::Engine as _;
    let png = base64::engine::general_purpose::STANDARD
        .decode(PNG)
        .unwrap();
    let slow_png = png.clone();
    let app = axum::Router::new()
        .route(
            "/a.png",
            axum::routing::get(move || {
                let png = png.clone();
                async move { ([(header::CONTENT_TYPE, "image/png")], png) }
            }),
        )
        .route(
            "/slow.png",
            axum::routing::get(move || {
                let png = slow_png.clone();
                async move {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    ([(header::CONTENT_TYPE, "image/png")], png)
                }
            }),
        )
        .route(
            "/page.html",
            axum::routing::get(|| async { ([(header::CONTENT_TYPE, "text/html")], "<html>") }),
        )
        .route(
            "/big.png",
            axum::routing::get(|| async {
                ([(header::CONTENT_TYPE, "image/png")], vec![0u8; 2048])
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
    });
    (url, stop)
}

fn with_image(url: &str) -> Value {
    with_images(&[url])
}

fn with_images(urls: &[&str]) -> Value {
    let mut content = vec![json!({"type": "text", "text": "twin:images what is this?"})];
    content.extend(
        urls.iter()
            .map(|url| json!({"type": "image_url", "image_url": {"url": url}})),
    );
    json!({"model": CLAUDE, "messages": [{"role": "user", "content": content}]})
}

#[tokio::test]
async fn remote_images_are_refused_unless_enabled() {
    let gateway = Gateway::start(DISCOVERY_ON, None).await;
    let (status, error) = error_of(
        gateway
            .post(with_image("https://example.com/a.png"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        error["error"]["param"],
        "messages[0].content[1].image_url.url"
    );
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("gateway.remoteImages"),
        "{error}"
    );
    gateway.stop().await;
}

#[tokio::test]
async fn enabled_remote_images_refuse_non_public_addresses() {
    let (server, stop) = image_server().await;
    let config = "{ models: { bedrockDiscovery: { enabled: true } }, gateway: { remoteImages: { enabled: true, timeout: 2 } } }";
    let gateway = Gateway::start(config, None).await;
    for url in [
        format!("{server}/a.png"),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        "http://[::1]/a.png".to_owned(),
        "http://10.0.0.1/a.png".to_owned(),
        format!(
            "http://localhost:{}/a.png",
            server.rsplit(':').next().unwrap()
        ),
    ] {
        let (status, error) = error_of(gateway.post(with_image(&url)).send().await.unwrap()).await;
        assert_eq!(status, 400, "{url}");
        let message = error["error"]["message"].as_str().unwrap();
        assert!(message.contains("not a public address"), "{url}: {message}");
    }
    let (status, error) = error_of(
        gateway
            .post(with_image("file:///etc/passwd"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("http(s)")
    );
    gateway.stop().await;
    let _ = stop.send(());
}

#[tokio::test]
async fn allowed_hosts_are_fetched_within_bounds_and_sent_inline() {
    let (server, stop) = image_server().await;
    let config = "{ models: { bedrockDiscovery: { enabled: true } }, gateway: { remoteImages: { enabled: true, maxBytes: 1024, allowHosts: ['127.0.0.1'] } } }";
    let gateway = Gateway::start(config, None).await;
    let response = gateway
        .post(with_image(&format!("{server}/a.png")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    let text = body["choices"][0]["message"]["content"].as_str().unwrap();
    let size = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD
            .decode(PNG)
            .unwrap()
            .len()
    };
    assert!(
        text.starts_with(&format!("Images: png {size} bytes")),
        "the image reached the model inline: {text}"
    );

    let (status, error) = error_of(
        gateway
            .post(with_image(&format!("{server}/page.html")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("text/html")
    );

    let (status, error) = error_of(
        gateway
            .post(with_image(&format!("{server}/big.png")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("maxBytes")
    );
    gateway.stop().await;
    let _ = stop.send(());
}

#[tokio::test]
async fn the_remote_images_of_a_request_are_bounded_in_number_and_bytes() {
    let (server, stop) = image_server().await;
    let config = "{ models: { bedrockDiscovery: { enabled: true } }, gateway: { remoteImages: { enabled: true, maxImages: 3, maxTotalBytes: 100, allowHosts: ['127.0.0.1'] } } }";
    let gateway = Gateway::start(config, None).await;
    let one = format!("{server}/a.png");
    let one = one.as_str();
    // One PNG (about 70 bytes) fits; two exceed 100 bytes together.
    let response = gateway.post(with_images(&[one])).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let error = refused(
        gateway.post(with_images(&[one, one])).send().await.unwrap(),
        400,
        "maxTotalBytes",
    )
    .await;
    assert!(
        error["error"]["param"]
            .as_str()
            .unwrap()
            .ends_with("image_url.url"),
        "{error}"
    );
    // Four images are one more than maxImages: refused before any is fetched.
    let error = refused(
        gateway.post(with_images(&[one; 4])).send().await.unwrap(),
        400,
        "maxImages",
    )
    .await;
    assert_eq!(error["error"]["param"], "messages");
    gateway.stop().await;
    let _ = stop.send(());
}

#[tokio::test]
async fn remote_images_are_fetched_in_parallel_within_the_request_deadline() {
    let (server, stop) = image_server().await;
    let config = "{ models: { bedrockDiscovery: { enabled: true } }, gateway: { requestTimeout: 3, remoteImages: { enabled: true, maxImages: 16, allowHosts: ['127.0.0.1'] } } }";
    let gateway = Gateway::start(config, None).await;
    let slow = format!("{server}/slow.png");
    let slow = slow.as_str();
    // Four images that take a second each arrive together, well within three seconds.
    let started = std::time::Instant::now();
    let response = gateway.post(with_images(&[slow; 4])).send().await.unwrap();
    assert_eq!(response.status(), 200, "{:?}", started.elapsed());
    // Sixteen take four rounds of four: the request's own deadline ends it, with a 504 that
    // says so, instead of the fetches running past it.
    let started = std::time::Instant::now();
    let response = gateway.post(with_images(&[slow; 16])).send().await.unwrap();
    let waited = started.elapsed();
    let error = refused(response, 504, "gateway.requestTimeout (3 s)").await;
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("image"),
        "{error}"
    );
    assert!(waited < Duration::from_millis(3900), "{waited:?}");
    gateway.stop().await;
    let _ = stop.send(());
}
