//! The JSON API, in-process through the router, and once over a real socket.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

async fn get(uri: &str) -> (StatusCode, Value) {
    let response = maillage_web::router().oneshot(Request::get(uri).body(Body::empty()).unwrap()).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

#[tokio::test]
async fn territory_summary() {
    let (status, body) = get("/api/v1/territory?communes=41018,41269").await;
    assert_eq!(status, StatusCode::OK);
    let communes = body["communes"].as_array().unwrap();
    assert_eq!(communes.len(), 2);
    let sum: u64 = communes.iter().map(|c| c["population"].as_u64().unwrap()).sum();
    assert_eq!(body["population"].as_u64().unwrap(), sum);
    assert_eq!(communes[0]["code"], "41018");
    assert_eq!(communes[0]["name"], "Blois");
    assert_eq!(body["size_class"], 2, "Blois alone is over 40,000 inhabitants");
}

#[tokio::test]
async fn territory_names_every_bad_code() {
    let (status, body) = get("/api/v1/territory?communes=41018,99999,4101").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["code"], "invalid_territory");
    let problems = body["error"]["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 2);
    assert!(problems[0]["message"].as_str().unwrap().contains("99999"));
    assert!(problems[1]["message_fr"].as_str().unwrap().contains("5 caractères"));
}

#[tokio::test]
async fn communes_near_and_show() {
    let (status, body) = get("/api/v1/communes/41018/near?km=10").await;
    assert_eq!(status, StatusCode::OK);
    let near = body.as_array().unwrap();
    assert_eq!(near[0]["code"], "41018");
    assert_eq!(near[0]["km"], 0.0);
    assert!(near.len() > 5);
    assert!(near.windows(2).all(|w| w[0]["km"].as_f64() <= w[1]["km"].as_f64()));
    assert!(near.iter().all(|n| n["km"].as_f64().unwrap() <= 10.0));

    let (status, body) = get("/api/v1/communes/2a004").await;
    assert_eq!((status, body["name"].as_str()), (StatusCode::OK, Some("Ajaccio")));

    let (status, body) = get("/api/v1/communes/41018/near?km=-3").await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_radius")));
    let (status, _) = get("/api/v1/communes/99999").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn serves_over_tcp_and_shuts_down() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(maillage_web::serve(listener, async {
        let _ = stopped.await;
    }));
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with("ok"));
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}
