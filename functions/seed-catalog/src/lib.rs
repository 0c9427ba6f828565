//! The demo catalog as a CloudFormation custom resource (`Custom::DemoCatalog`, when the
//! template's `DemoCatalog` parameter is `true`). The product has no API that creates items, so
//! a first deploy would start with an empty catalog and nothing to put in a cart; this puts the
//! demo items in the items table, as the local stack does on its first start.
//!
//! - `Create` and `Update`: the demo items the catalog lacks are added; items already there,
//!   their stock included, are left as they are.
//! - `Delete`: nothing. The items stay with the table's data.
//!
//! Every request is answered, in time ([`custom_resource::respond`]).

use custom_resource::{Answer, Done, RequestType, ResourceRequest, ResourceResponse};
use domain::ports::Catalog;
use serde_json::json;
use std::sync::Arc;
use tokio::sync::OnceCell;

/// The physical id of the one demo catalog.
pub const DEMO_CATALOG: &str = "demo-catalog";

/// The catalog of a function's config (Keyspaces on AWS), opened by the first request that
/// needs it: a keyspace that cannot be reached then fails that request's answer, rather than the
/// cold start, which would leave CloudFormation waiting for an answer that never comes.
pub struct CatalogOnDemand {
    config: wiring::Config,
    opened: OnceCell<Arc<dyn Catalog>>,
}

impl CatalogOnDemand {
    /// The catalog `config` names, not opened yet.
    pub fn new(config: wiring::Config) -> Self {
        Self {
            config,
            opened: OnceCell::new(),
        }
    }

    async fn get(&self) -> Result<&dyn Catalog, String> {
        let opened = self
            .opened
            .get_or_try_init(|| wiring::catalog(&self.config))
            .await
            .map_err(|e| custom_resource::reason(e.as_ref()))?;
        Ok(opened.as_ref())
    }
}

/// Does what `request` asks on `catalog` and sends the answer to its response URL.
pub async fn handle(
    catalog: &CatalogOnDemand,
    answer: &dyn Answer,
    request: &ResourceRequest,
) -> ResourceResponse {
    custom_resource::respond(request, answer, work(catalog, request)).await
}

async fn work(catalog: &CatalogOnDemand, request: &ResourceRequest) -> Result<Done, String> {
    if request.request_type == RequestType::Delete {
        tracing::info!("the stack no longer seeds the demo catalog; its items stay");
        return Ok((request.current_id(), json!({"Added": "0"})));
    }
    let added = domain::demo::add_missing(catalog.get().await?)
        .await
        .map_err(|e| custom_resource::reason(&e))?;
    tracing::info!(added, "the demo catalog is in place");
    Ok((DEMO_CATALOG.to_owned(), json!({"Added": added.to_string()})))
}
