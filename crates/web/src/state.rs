use crate::clock::Clock;
use crate::settings::Settings;
use maillage_core::refdata::Reference;
use maillage_oidc::OidcClient;
use maillage_store::Store;
use std::sync::Arc;

/// Everything a handler needs. The server keeps no state of its own beyond this: sessions,
/// throttling counters and pending logins live in the database; `national` only memoises what
/// is recomputed from the database when it changes.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub settings: Arc<Settings>,
    pub clock: Arc<dyn Clock>,
    pub reference: &'static Reference,
    pub oidc: Option<Arc<OidcClient>>,
    /// What the observatory derived from the national registry, valid while its stored
    /// revision is unchanged (a cache, not state: see `app::national::NationalCache`).
    pub national: Arc<crate::app::national::NationalCache>,
}

impl AppState {
    pub fn new(store: Store, settings: Settings, clock: Arc<dyn Clock>) -> Self {
        Self {
            store,
            settings: Arc::new(settings),
            clock,
            reference: Reference::embedded(),
            oidc: None,
            national: Arc::default(),
        }
    }

    pub fn with_oidc(mut self, client: OidcClient) -> Self {
        self.oidc = Some(Arc::new(client));
        self
    }

    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }
}
