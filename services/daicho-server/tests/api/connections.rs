//! Connections: a cap with a 503 beyond it, and deadlines for request heads
//! and idle connections, so that idle clients cannot lock everyone out.

use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use super::harness::*;

/// Reads until the server closes the connection, within `within`; `None`
/// if it is still open then.
async fn read_until_closed(stream: &mut TcpStream, within: Duration) -> Option<String> {
    let mut got = Vec::new();
    match tokio::time::timeout(within, stream.read_to_end(&mut got)).await {
        Ok(_) => Some(String::from_utf8_lossy(&got).into_owned()),
        Err(_) => None,
    }
}

/// One `GET /healthz` on a new connection; the whole response.
async fn healthz(addr: std::net::SocketAddr) -> String {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nhost: test\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    read_until_closed(&mut s, Duration::from_secs(5))
        .await
        .expect("/healthz answers")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_beyond_the_cap_lock_nobody_out() {
    const CAP: usize = 8;
    let app = spawn_app_with(Backend::Sqlite, |c| {
        c.max_connections = CAP;
        c.header_read_timeout_secs = 1;
    })
    .await;
    let addr = app.running.as_ref().unwrap().addr;
    let src = app.register_source(&[]).await;
    // The client's kept-alive connection is closed by the header-read
    // timeout, so that the cap is free.
    tokio::time::sleep(Duration::from_millis(1500)).await;

    // Twice the cap of connections that send nothing.
    let mut idle = Vec::new();
    for _ in 0..2 * CAP {
        idle.push(TcpStream::connect(addr).await.unwrap());
    }
    // Those beyond the cap are answered at once, without sending anything,
    // well before the header-read timeout.
    let answers = futures_util::future::join_all(
        idle.iter_mut()
            .map(|s| read_until_closed(s, Duration::from_millis(500))),
    )
    .await;
    let mut served = Vec::new();
    let mut refused = 0;
    for (s, answer) in idle.into_iter().zip(answers) {
        match answer {
            None => served.push(s),
            Some(res) => {
                assert!(res.starts_with("HTTP/1.1 503"), "{res}");
                assert!(res.contains("retry-after: 1"), "{res}");
                assert!(res.contains("\"code\":\"unavailable\""), "{res}");
                refused += 1;
            }
        }
    }
    assert_eq!((served.len(), refused), (CAP, CAP));
    // While the cap is full, /healthz is answered too, not left hanging.
    let res = healthz(addr).await;
    assert!(res.starts_with("HTTP/1.1 503"), "{res}");

    // The header-read timeout closes the idle ones...
    for s in &mut served {
        assert!(
            read_until_closed(s, Duration::from_secs(3)).await.is_some(),
            "an idle connection is still open"
        );
    }
    // ...and everyone is served again.
    let res = healthz(addr).await;
    assert!(res.starts_with("HTTP/1.1 200"), "{res}");
    let client = daicho_server::client::Client::new(&format!("http://{addr}")).unwrap();
    let res = client
        .post_json("/v1/events", src.sample_event().canonical_bytes())
        .await
        .unwrap();
    assert_eq!(res.status, 201, "{}", res.text());
    // A request head that never ends is cut off by the same timeout.
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\n").await.unwrap();
    assert!(
        read_until_closed(&mut slow, Duration::from_secs(3))
            .await
            .is_some(),
        "a half request head keeps its connection open"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_connection_is_closed_after_the_idle_timeout() {
    let app = spawn_app_with(Backend::Sqlite, |c| {
        c.header_read_timeout_secs = 60;
        c.idle_timeout_secs = 1;
    })
    .await;
    let addr = app.running.as_ref().unwrap().addr;
    let mut s = TcpStream::connect(addr).await.unwrap();
    assert_eq!(
        read_until_closed(&mut s, Duration::from_secs(4)).await,
        Some(String::new())
    );
    // A kept-alive connection that was used is closed the same way.
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nhost: test\r\n\r\n")
        .await
        .unwrap();
    let res = read_until_closed(&mut s, Duration::from_secs(4))
        .await
        .expect("closed when idle");
    assert!(res.starts_with("HTTP/1.1 200"), "{res}");
    app.stop().await;
}

#[test]
fn the_open_file_soft_limit_is_raised_to_the_hard_limit() {
    let soft = daicho_server::connections::raise_open_file_limit().unwrap();
    let (now_soft, hard) = rlimit::Resource::NOFILE.get().unwrap();
    assert_eq!(soft, now_soft);
    assert_eq!(now_soft, hard);
}
