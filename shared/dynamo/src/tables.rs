//! The tables, as the SAM template declares them: created here for tests and for local runs
//! against a DynamoDB implementation. Every table is on-demand (`PAY_PER_REQUEST`).

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::create_table::{CreateTableError, CreateTableOutput};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TimeToLiveSpecification,
};
use domain::ports::StoreError;

/// The connections table's index by user.
pub const CONNECTIONS_BY_USER: &str = "byUser";
/// The connections table's sparse index by the cart a connection views ("Take advantage of
/// sparse indexes": an item without `viewing` is not in it), which presence reads.
pub const CONNECTIONS_BY_CART: &str = "byCart";
/// The carts table's sparse index of records holding unpublished events, which the relay scans.
pub const CARTS_UNPUBLISHED: &str = "unpublished";
/// The profiles table's sparse index by verified email.
pub const PROFILES_BY_EMAIL: &str = "byEmail";
/// The profiles table's sparse index by user name.
pub const PROFILES_BY_USER_NAME: &str = "byUserName";
/// The connections table's TTL attribute (epoch seconds).
pub const CONNECTION_TTL_ATTRIBUTE: &str = "expiresAt";

/// Creates the connections table (`connectionId` key, `byUser` and `byCart` indexes, TTL on
/// `expiresAt`), unless it exists.
pub async fn create_connections_table(client: &Client, name: &str) -> Result<(), StoreError> {
    let created = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(string_attribute("connectionId"))
        .attribute_definitions(string_attribute("userId"))
        .attribute_definitions(string_attribute("viewing"))
        .key_schema(key("connectionId", KeyType::Hash))
        .global_secondary_indexes(index_of_all(CONNECTIONS_BY_USER, "userId")?)
        .global_secondary_indexes(index_of_all(CONNECTIONS_BY_CART, "viewing")?)
        .send()
        .await;
    if !already_exists(created)? {
        enable_ttl(client, name, CONNECTION_TTL_ATTRIBUTE).await?;
    }
    Ok(())
}

/// A global secondary index `name` on the string `attribute`, projecting every attribute.
fn index_of_all(name: &str, attribute: &str) -> Result<GlobalSecondaryIndex, StoreError> {
    GlobalSecondaryIndex::builder()
        .index_name(name)
        .key_schema(key(attribute, KeyType::Hash))
        .projection(
            Projection::builder()
                .projection_type(ProjectionType::All)
                .build(),
        )
        .build()
        .map_err(StoreError::unavailable)
}

/// Creates the profiles table (`userId` key, sparse `byEmail` and `byUserName` indexes),
/// unless it exists.
pub async fn create_profiles_table(client: &Client, name: &str) -> Result<(), StoreError> {
    let created = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(string_attribute("userId"))
        .attribute_definitions(string_attribute("email"))
        .attribute_definitions(string_attribute("userName"))
        .key_schema(key("userId", KeyType::Hash))
        .global_secondary_indexes(index_of_all(PROFILES_BY_EMAIL, "email")?)
        .global_secondary_indexes(index_of_all(PROFILES_BY_USER_NAME, "userName")?)
        .send()
        .await;
    already_exists(created)?;
    Ok(())
}

/// Creates the analytics table (`pk` and `sk` keys, TTL on `expiresAt`), unless it exists.
pub async fn create_analytics_table(client: &Client, name: &str) -> Result<(), StoreError> {
    create_keyed_by_pk_and_sk(client, name).await
}

/// A table keyed `pk` and `sk` with TTL on `expiresAt`, unless it exists: the shape of the
/// tables that keep several kinds of item under one key (analytics, notifications).
async fn create_keyed_by_pk_and_sk(client: &Client, name: &str) -> Result<(), StoreError> {
    let created = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(string_attribute("pk"))
        .attribute_definitions(string_attribute("sk"))
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .send()
        .await;
    if !already_exists(created)? {
        enable_ttl(client, name, "expiresAt").await?;
    }
    Ok(())
}

/// Creates the notifications table (`pk` and `sk` keys, TTL on `expiresAt`), unless it exists.
pub async fn create_notifications_table(client: &Client, name: &str) -> Result<(), StoreError> {
    create_keyed_by_pk_and_sk(client, name).await
}

/// Creates the idempotency table (`key` key, TTL on `expiresAt`), unless it exists.
pub async fn create_idempotency_table(client: &Client, name: &str) -> Result<(), StoreError> {
    let created = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(string_attribute("key"))
        .key_schema(key("key", KeyType::Hash))
        .send()
        .await;
    if !already_exists(created)? {
        enable_ttl(client, name, "expiresAt").await?;
    }
    Ok(())
}

/// Turns on TTL deletion by the epoch-seconds attribute `attribute`.
async fn enable_ttl(client: &Client, table: &str, attribute: &str) -> Result<(), StoreError> {
    client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .enabled(true)
                .attribute_name(attribute)
                .build()
                .map_err(StoreError::unavailable)?,
        )
        .send()
        .await
        .map_err(crate::unavailable)?;
    Ok(())
}

/// Creates the carts table (`cartId` key, and the sparse `unpublished` index) and the membership
/// index table (`userId`, `cartId`: the seed's `user_cart_sharing`), unless they exist.
pub async fn create_cart_tables(
    client: &Client,
    carts: &str,
    memberships: &str,
) -> Result<(), StoreError> {
    let created = client
        .create_table()
        .table_name(carts)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(string_attribute("cartId"))
        .attribute_definitions(string_attribute(crate::carts::UNPUBLISHED_SHARD))
        .key_schema(key("cartId", KeyType::Hash))
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(CARTS_UNPUBLISHED)
                .key_schema(key(crate::carts::UNPUBLISHED_SHARD, KeyType::Hash))
                .key_schema(key("cartId", KeyType::Range))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::KeysOnly)
                        .build(),
                )
                .build()
                .map_err(StoreError::unavailable)?,
        )
        .send()
        .await;
    already_exists(created)?;
    let created = client
        .create_table()
        .table_name(memberships)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(string_attribute("userId"))
        .attribute_definitions(string_attribute("cartId"))
        .key_schema(key("userId", KeyType::Hash))
        .key_schema(key("cartId", KeyType::Range))
        .send()
        .await;
    already_exists(created)?;
    Ok(())
}

/// True when the table was there already; an error for any other failure.
fn already_exists(
    created: Result<CreateTableOutput, SdkError<CreateTableError>>,
) -> Result<bool, StoreError> {
    match created {
        Ok(_) => Ok(false),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_in_use_exception()) =>
        {
            Ok(true)
        }
        Err(e) => Err(crate::unavailable(e)),
    }
}

fn string_attribute(name: &str) -> AttributeDefinition {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .unwrap_or_else(|_| unreachable!("both fields are set"))
}

fn key(name: &str, key_type: KeyType) -> KeySchemaElement {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(key_type)
        .build()
        .unwrap_or_else(|_| unreachable!("both fields are set"))
}
