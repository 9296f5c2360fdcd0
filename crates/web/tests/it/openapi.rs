//! The OpenAPI document is snapshot-tested: any API change shows in review.
//! `UPDATE_SNAPSHOTS=1 cargo test -p maillage-web --test it openapi` rewrites the snapshot.

#[test]
fn openapi_snapshot() {
    let current = maillage_web::openapi_json();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/snapshots/openapi.json");
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(path, &current).unwrap();
    }
    let saved = std::fs::read_to_string(path).unwrap_or_default();
    assert!(saved == current, "the OpenAPI document changed: review it, then run with UPDATE_SNAPSHOTS=1");
    let doc: serde_json::Value = serde_json::from_str(&current).unwrap();
    assert_eq!(doc["openapi"].as_str().map(|v| v.starts_with("3.")), Some(true));
    assert!(doc["paths"]["/api/v1/cpts/{id}"]["get"].is_object());
}

#[tokio::test]
async fn served_document_is_the_snapshot() {
    let app = crate::helpers::spawn_app(crate::helpers::Engine::Sqlite).await;
    let served = app.client().get(app.url("/api/openapi.json")).send().await.unwrap().text().await.unwrap();
    assert_eq!(served, maillage_web::openapi_json());
}
