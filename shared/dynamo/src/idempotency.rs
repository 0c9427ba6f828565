//! Idempotency records on DynamoDB: one item per key, claimed by a conditional put (no record, an
//! expired one, or a claim past its lease) that returns the record it lost to, so a claim is one
//! round trip whatever it finds. `expiresAt` is the table's TTL attribute; reads do not trust it,
//! since DynamoDB deletes expired items only eventually.

use crate::attributes::{Item, n, number, s, string};
use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure;
use chrono::{DateTime, Utc};
use domain::idempotency::{
    CLAIM_LEASE, Claim, IdempotencyStore, RECORD_TTL, RecordKey, StoredResponse,
};
use domain::ports::StoreError;

/// Idempotency records in one DynamoDB table (see [`crate::tables::create_idempotency_table`]).
#[derive(Clone, Debug)]
pub struct DynamoIdempotency {
    client: Client,
    table: String,
}

impl DynamoIdempotency {
    /// The records in `table`.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

/// What a lost claim found: the record holding the key.
fn found(record: &Item, fingerprint: &str) -> Result<Claim, StoreError> {
    let answer = if string(record, "state")? == "DONE" {
        Some(StoredResponse {
            status: u16::try_from(number(record, "status")?).map_err(StoreError::unavailable)?,
            headers: serde_json::from_str(string(record, "headers")?)
                .map_err(StoreError::unavailable)?,
            body: string(record, "body")?.to_owned(),
        })
    } else {
        None
    };
    Ok(Claim::of_live_record(
        string(record, "fingerprint")?,
        answer,
        fingerprint,
    ))
}

#[async_trait]
impl IdempotencyStore for DynamoIdempotency {
    async fn claim(
        &self,
        key: &RecordKey,
        fingerprint: &str,
        now: DateTime<Utc>,
    ) -> Result<Claim, StoreError> {
        let claimed = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("key", s(key.as_str()))
            .item("fingerprint", s(fingerprint))
            .item("state", s("IN_FLIGHT"))
            .item("claimedAt", n(now.timestamp_millis()))
            .item("expiresAt", n((now + RECORD_TTL).timestamp()))
            .condition_expression(
                "attribute_not_exists(#key) OR expiresAt <= :now \
                 OR (#state = :in_flight AND claimedAt <= :abandoned)",
            )
            .expression_attribute_names("#key", "key")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":now", n(now.timestamp()))
            .expression_attribute_values(":in_flight", s("IN_FLIGHT"))
            .expression_attribute_values(":abandoned", n((now - CLAIM_LEASE).timestamp_millis()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match claimed {
            Ok(_) => Ok(Claim::Claimed),
            Err(e) => match e.as_service_error() {
                Some(PutItemError::ConditionalCheckFailedException(lost)) => match lost.item() {
                    Some(record) => found(record, fingerprint),
                    None => Ok(Claim::InFlight),
                },
                _ => Err(crate::unavailable(e)),
            },
        }
    }

    async fn complete(&self, key: &RecordKey, response: &StoredResponse) -> Result<(), StoreError> {
        // The headers as a JSON list of pairs: one attribute, in the order they were sent.
        let headers = serde_json::to_string(&response.headers).map_err(StoreError::unavailable)?;
        self.client
            .update_item()
            .table_name(&self.table)
            .key("key", s(key.as_str()))
            .update_expression(
                "SET #state = :done, #status = :status, headers = :headers, body = :body",
            )
            .condition_expression("attribute_exists(#key)")
            .expression_attribute_names("#key", "key")
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":done", s("DONE"))
            .expression_attribute_values(":status", n(response.status))
            .expression_attribute_values(":headers", s(headers))
            .expression_attribute_values(":body", s(response.body.as_str()))
            .send()
            .await
            .map(|_| ())
            .map_err(crate::unavailable)
    }

    async fn release(&self, key: &RecordKey) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key("key", s(key.as_str()))
            .send()
            .await
            .map(|_| ())
            .map_err(crate::unavailable)
    }
}
