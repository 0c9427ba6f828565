//! createCart (`POST /carts`): a new cart owned by the caller, optionally with initial items.

use domain::{CartService, Currency, ItemId, Quantity};
use edge::request::optional_json_body;
use edge::{Caller, Problem, Request, Response, respond};
use http::StatusCode;
use serde::Deserialize;

/// The optional body.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CreateCart {
    #[serde(default)]
    items: Vec<InitialItem>,
    #[serde(default, deserialize_with = "edge::request::not_null")]
    currency: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct InitialItem {
    item_id: String,
    #[serde(deserialize_with = "edge::request::whole_number")]
    quantity: i64,
}

/// Answers one createCart request.
pub async fn handle(carts: &CartService, request: Request) -> Response {
    respond::outcome(create(carts, &request).await)
}

async fn create(carts: &CartService, request: &Request) -> Result<Response, Problem> {
    let caller = Caller::from_request(request)?;
    // Each change keeps the caller's display name in the cart, for its members to see.
    let carts = &carts.acting_as(caller.name.as_deref());
    let body: CreateCart = optional_json_body(request)?.unwrap_or_default();
    let currency = body
        .currency
        .as_deref()
        .map(Currency::parse)
        .transpose()?
        .unwrap_or(Currency::DEFAULT);
    if body.items.len() > domain::cart::MAX_LINES {
        return Err(domain::CartError::TooManyLines.into());
    }
    let initial = body
        .items
        .iter()
        .map(|i| Ok((ItemId::parse(&i.item_id)?, Quantity::try_from(i.quantity)?)))
        .collect::<Result<Vec<_>, domain::ValidationError>>()?;
    let cart = carts.create(&caller.user_id, currency, &initial).await?;
    let mut response = respond::cart(StatusCode::CREATED, &cart);
    if let Ok(location) = http::HeaderValue::from_str(&format!("/carts/{}", cart.cart_id)) {
        response
            .headers_mut()
            .insert(http::header::LOCATION, location);
    }
    Ok(response)
}
