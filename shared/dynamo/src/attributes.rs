//! Reading typed values out of DynamoDB items, with a clear error when an item is not what we
//! wrote.

use aws_sdk_dynamodb::types::AttributeValue;
use domain::ports::StoreError;
use std::collections::HashMap;

/// An item as the SDK returns it.
pub(crate) type Item = HashMap<String, AttributeValue>;

/// The string attribute `name` of `item`.
pub(crate) fn string<'a>(item: &'a Item, name: &str) -> Result<&'a str, StoreError> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
        .ok_or_else(|| malformed(name))
}

/// The number attribute `name` of `item`.
pub(crate) fn number(item: &Item, name: &str) -> Result<i64, StoreError> {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| malformed(name))
}

pub(crate) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub(crate) fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn malformed(name: &str) -> StoreError {
    StoreError::unavailable(format!(
        "a stored item has no readable `{name}`: it was not written by this adapter"
    ))
}
