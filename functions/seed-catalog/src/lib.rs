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

/// The physical id of the one demo catalog.
pub const DEMO_CATALOG: &str = "demo-catalog";

/// Does what `request` asks on `catalog` and sends the answer to its response URL.
pub async fn handle(
    catalog: &dyn Catalog,
    answer: &dyn Answer,
    request: &ResourceRequest,
) -> ResourceResponse {
    custom_resource::respond(request, answer, work(catalog, request)).await
}

async fn work(catalog: &dyn Catalog, request: &ResourceRequest) -> Result<Done, String> {
    if request.request_type == RequestType::Delete {
        tracing::info!("the stack no longer seeds the demo catalog; its items stay");
        return Ok((request.current_id(), json!({"Added": "0"})));
    }
    let added = domain::demo::add_missing(catalog)
        .await
        .map_err(|e| custom_resource::reason(&e))?;
    tracing::info!(added, "the demo catalog is in place");
    Ok((DEMO_CATALOG.to_owned(), json!({"Added": added.to_string()})))
}
