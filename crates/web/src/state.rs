use crate::clock::Clock;
use crate::settings::Settings;
use maillage_core::refdata::Reference;
use maillage_oidc::OidcClient;
use maillage_store::Store;
use std::sync::Arc;

/// Everything a handler needs. The server keeps no state of its own beyond this: sessions,
/// throttling counters and pending logins live in the database.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub settings: Arc<Settings>,
    pub clock: Arc<dyn Clock>,
    pub reference: &'static Reference,
    pub oidc: Option<Arc<OidcClient>>,
}

impl AppState {
    pub fn new(store: Store, settings: Settings, clock: Arc<dyn Clock>) -> Self {
        Self { store, settings: Arc::new(settings), clock, reference: Reference::embedded(), oidc: None }
    }

    pub fn with_oidc(mut self, client: OidcClient) -> Self {
        self.oidc = Some(Arc::new(client));
        self
    }

    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }
}
