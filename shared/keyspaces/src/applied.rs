//! The outcome of a lightweight transaction: Cassandra answers a conditional write with one row
//! whose `[applied]` column says whether the condition held, and, when it did not, the current
//! values of the columns the condition named (all of them for `IF NOT EXISTS`).

use scylla::response::query_result::QueryResult;
use scylla::value::{CqlValue, Row};

/// What a conditional write did.
#[derive(Debug)]
pub(crate) struct Lwt {
    applied: bool,
    current: Vec<(String, Option<CqlValue>)>,
}

/// The server answered a conditional write without saying whether it applied.
#[derive(Debug, thiserror::Error)]
#[error("the server did not report whether the condition held ({0})")]
pub(crate) struct NoOutcome(&'static str);

impl Lwt {
    /// Reads the `[applied]` row of a conditional write's result.
    pub fn read(result: QueryResult) -> Result<Self, NoOutcome> {
        let rows = result
            .into_rows_result()
            .map_err(|_| NoOutcome("no rows"))?;
        let names: Vec<String> = rows
            .column_specs()
            .iter()
            .map(|spec| spec.name().to_owned())
            .collect();
        let row = rows
            .maybe_first_row::<Row>()
            .map_err(|_| NoOutcome("an undecodable row"))?
            .ok_or(NoOutcome("an empty result"))?;
        let current: Vec<(String, Option<CqlValue>)> = names.into_iter().zip(row.columns).collect();
        let applied = current
            .iter()
            .find(|(name, _)| name == "[applied]")
            .and_then(|(_, value)| value.as_ref()?.as_boolean())
            .ok_or(NoOutcome("no [applied] column"))?;
        Ok(Self { applied, current })
    }

    /// Whether the condition held and the write happened.
    pub fn applied(&self) -> bool {
        self.applied
    }

    /// The current `bigint` value of `column`, as returned with a condition that failed.
    pub fn current_bigint(&self, column: &str) -> Option<i64> {
        self.value(column)?.as_bigint()
    }

    fn value(&self, column: &str) -> Option<&CqlValue> {
        self.current
            .iter()
            .find(|(name, _)| name == column)
            .and_then(|(_, value)| value.as_ref())
    }
}
