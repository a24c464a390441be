//! `pincer gateway` through the real binary: it listens, answers an OpenAI request, refuses an
//! open address without a token, and stops cleanly on SIGTERM.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::Stdio;

use crate::common::{TestContext, TwinGuard};
use crate::pincer_snapshot;

fn post(addr: &str, path: &str, body: &str) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

#[test]
fn serves_chat_completions_until_sigterm() {
    let context = TestContext::new();
    let twin = TwinGuard::start();
    context.write_config("{ models: { bedrockDiscovery: { enabled: true } } }");
    let mut command = context.pincer(&["gateway", "--port", "0"]);
    twin.configure(&mut command);
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let addr = line
        .trim()
        .strip_prefix("pincer gateway listening on http://")
        .unwrap()
        .to_owned();
    let response = post(
        &addr,
        "/v1/chat/completions",
        r#"{"model": "amazon-bedrock/us.amazon.nova-micro-v1:0", "messages": [{"role": "user", "content": "hi from curl"}]}"#,
    );
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("hi from curl"), "{response}");
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{output:?}");
}

#[test]
fn refuses_an_open_address_without_a_token() {
    let context = TestContext::new();
    pincer_snapshot!(
        context,
        context.pincer(&["gateway", "--bind", "0.0.0.0", "--port", "0"])
    );
}
