//! Lightweight transactions, which kassandra parses but applies unconditionally: this module
//! evaluates the `IF` of a prepared write against the row as it stands and applies the write
//! only when the condition holds, all under the server's one lock (so two writers racing on a
//! row cannot both pass). A write that applies answers one row, `[applied] = true`; one that does
//! not answers `[applied] = false` with the current values, as Cassandra does: every column of
//! the existing row for `IF NOT EXISTS`, the compared columns for `IF a = ?` (none when the row
//! is missing). Keyspaces supports compare-and-set on `INSERT`, `UPDATE` and `DELETE`
//! ("Functional differences: Amazon Keyspaces vs. Apache Cassandra"), and its docs do not
//! describe the failed condition's answer; this is Cassandra's, which the drivers expect.
//!
//! Only the shapes the adapters use are understood: a condition of `NOT EXISTS`, `EXISTS`, or
//! `column = ?` terms joined by `AND`, on a table whose primary key is its partition key.

use kassandra::KassandraSession;
use kassandra::cql::column::ColumnType;
use kassandra::cql::query::QueryString;
use kassandra::cql::value::{CqlValue, deserialize_value};
use kassandra::error::DbError;
use kassandra::frame::request::execute::Execute;
use kassandra::frame::request::query::Query;
use kassandra::frame::request::{QueryFlags, QueryParameters};
use kassandra::frame::response::error::Error;
use kassandra::frame::response::result::{
    ColumnSpec, Prepared, QueryResult, ResultMetadata, Row, Rows, TableSpec,
};
use kassandra::frame::value::FrameValue;

/// What a conditional write compares before it applies.
#[derive(Clone, Debug, PartialEq)]
enum Condition {
    NotExists,
    Exists,
    /// Columns that must equal the bound values at these marker positions.
    Equal(Vec<(String, usize, ColumnType)>),
}

/// A prepared conditional write: its table, the markers of its key, and its condition.
#[derive(Clone, Debug)]
pub(crate) struct Conditional {
    table: TableSpec,
    key: Vec<(String, usize)>,
    condition: Condition,
    /// `SELECT *` of the row the key names, parsed once.
    read_row: QueryString,
}

/// The `IF ...` clause of a write, if it has one.
pub(crate) fn condition_of(cql: &str) -> Option<&str> {
    let upper = cql.to_ascii_uppercase();
    let write = ["INSERT", "UPDATE", "DELETE"]
        .iter()
        .any(|verb| upper.trim_start().starts_with(verb));
    let at = upper.rfind(" IF ")?;
    write.then(|| cql[at + 4..].trim())
}

impl Conditional {
    /// Completes `prepared`, the statement `cql` as kassandra prepared it, for its `IF` clause:
    /// kassandra declares none of the clause's bind markers, so they are declared here (typed
    /// like the columns they compare), and returns what the write compares. `None` for a write
    /// with no condition.
    pub fn prepare(cql: &str, prepared: &mut Prepared) -> Result<Option<Self>, Error> {
        let Some(clause) = condition_of(cql) else {
            return Ok(None);
        };
        let specs = &mut prepared.prepared_metadata.col_specs;
        let table = specs
            .first()
            .and_then(|s| s.table_spec.clone())
            .or_else(|| prepared.prepared_metadata.global_spec.clone())
            .ok_or_else(|| invalid("a conditional write names no table"))?;
        let key = prepared
            .prepared_metadata
            .pk_indexes
            .iter()
            .map(|pk| {
                let index = usize::from(pk.index);
                specs
                    .get(index)
                    .map(|spec| (spec.name.clone(), index))
                    .ok_or_else(|| invalid("a key marker without a column"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if key.is_empty() {
            return Err(invalid("a conditional write must bind its partition key"));
        }
        let upper = clause.to_ascii_uppercase();
        let condition = match upper.as_str() {
            "NOT EXISTS" => Condition::NotExists,
            "EXISTS" => Condition::Exists,
            _ => {
                let mut compared = Vec::new();
                for term in terms(clause) {
                    let (column, value) = term
                        .split_once('=')
                        .ok_or_else(|| invalid("a condition other than column = ?"))?;
                    if value.trim() != "?" {
                        return Err(invalid("a condition on a literal rather than a marker"));
                    }
                    let column = column.trim().to_owned();
                    // The marker is typed like the column; the write's own markers say how.
                    let spec = specs
                        .iter()
                        .find(|s| s.name == column)
                        .cloned()
                        .ok_or_else(|| invalid("a condition on a column the write does not set"))?;
                    compared.push((column, specs.len(), spec.typ.clone()));
                    specs.push(spec);
                }
                Condition::Equal(compared)
            }
        };
        let filter = key
            .iter()
            .map(|(column, _)| format!("{column} = ?"))
            .collect::<Vec<_>>()
            .join(" AND ");
        let read_row = kassandra::cql::parser::query(&format!(
            "SELECT * FROM {}.{} WHERE {filter}",
            table.ks_name, table.table_name
        ))?;
        Ok(Some(Self {
            table,
            key,
            condition,
            read_row,
        }))
    }

    /// Runs `execute` if its condition holds against the row as `session` has it now. The
    /// caller holds the server's lock across the whole call.
    pub fn execute(
        &self,
        session: &mut KassandraSession,
        execute: Execute<'_>,
    ) -> Result<QueryResult, Error> {
        let values = &execute.parameters.data;
        let current = self.current_row(session, values)?;
        let holds = match (&self.condition, &current) {
            (Condition::NotExists, row) => row.is_none(),
            (Condition::Exists, row) => row.is_some(),
            (Condition::Equal(_), None) => false,
            (Condition::Equal(compared), Some((specs, row))) => {
                let mut all = true;
                for (column, marker, typ) in compared {
                    let stored = column_value(specs, row, column);
                    let bound = match values.get(*marker) {
                        Some(FrameValue::Some(bytes)) => Some(deserialize_value(bytes, typ)?),
                        _ => None,
                    };
                    all &= stored == bound;
                }
                all
            }
        };
        if !holds {
            return Ok(self.not_applied(current));
        }
        session.execute(execute)?;
        Ok(applied(&self.table, true, Vec::new(), Vec::new()))
    }

    /// The row the write's key names, with its columns' specs, if it exists.
    fn current_row(
        &self,
        session: &mut KassandraSession,
        values: &[FrameValue<'_>],
    ) -> Result<Option<(Vec<ColumnSpec>, Row)>, Error> {
        let query = Query {
            query: self.read_row.clone(),
            raw_query: "",
            parameters: QueryParameters {
                flags: QueryFlags::VALUES,
                data: self
                    .key
                    .iter()
                    .map(|(_, marker)| values.get(*marker).cloned().unwrap_or(FrameValue::Null))
                    .collect(),
                ..QueryParameters::default()
            },
        };
        match session.process(query)? {
            QueryResult::Rows(Rows { metadata, rows }) => {
                Ok(rows.into_iter().next().map(|row| (metadata.col_specs, row)))
            }
            _ => Err(invalid("reading the current row gave no rows result")),
        }
    }

    /// `[applied] = false` and what Cassandra returns beside it.
    fn not_applied(&self, current: Option<(Vec<ColumnSpec>, Row)>) -> QueryResult {
        let Some((specs, row)) = current else {
            return applied(&self.table, false, Vec::new(), Vec::new());
        };
        let (specs, values): (Vec<ColumnSpec>, Vec<Option<CqlValue>>) = match &self.condition {
            Condition::Equal(compared) => compared
                .iter()
                .filter_map(|(column, _, _)| {
                    let at = specs.iter().position(|s| &s.name == column)?;
                    Some((specs[at].clone(), row.columns.get(at).cloned().flatten()))
                })
                .unzip(),
            _ => specs.into_iter().zip(row.columns).unzip(),
        };
        applied(&self.table, false, specs, values)
    }
}

/// The stored value of `column` in `row`, whose columns `specs` name.
fn column_value(specs: &[ColumnSpec], row: &Row, column: &str) -> Option<CqlValue> {
    let at = specs.iter().position(|s| s.name == column)?;
    row.columns.get(at).cloned().flatten()
}

/// The terms of `a = ? AND b = ?`, whatever the case of `AND`.
fn terms(clause: &str) -> Vec<&str> {
    let upper = clause.to_ascii_uppercase();
    let mut terms = Vec::new();
    let mut from = 0;
    for (at, _) in upper.match_indices(" AND ") {
        terms.push(&clause[from..at]);
        from = at + " AND ".len();
    }
    terms.push(&clause[from..]);
    terms
}

/// The one-row result of a conditional write.
fn applied(
    table: &TableSpec,
    applied: bool,
    specs: Vec<ColumnSpec>,
    values: Vec<Option<CqlValue>>,
) -> QueryResult {
    let mut col_specs = vec![ColumnSpec::new("[applied]", ColumnType::Boolean)];
    col_specs.extend(specs.into_iter().map(|mut s| {
        s.table_spec = None;
        s
    }));
    let mut columns = vec![Some(CqlValue::Boolean(applied))];
    columns.extend(values);
    QueryResult::Rows(Rows {
        metadata: ResultMetadata {
            global_spec: Some(table.clone()),
            col_specs,
            ..ResultMetadata::default()
        },
        rows: vec![Row { columns }],
    })
}

fn invalid(reason: &str) -> Error {
    Error::new(DbError::Invalid, format!("test server: {reason}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_writes_have_conditions() {
        assert_eq!(
            condition_of("UPDATE ks.t SET a = ? WHERE k = ? IF version = ?"),
            Some("version = ?")
        );
        assert_eq!(
            condition_of("INSERT INTO t (k) VALUES (?) IF NOT EXISTS"),
            Some("NOT EXISTS")
        );
        assert_eq!(
            condition_of("CREATE TABLE IF NOT EXISTS ks.t (k int PRIMARY KEY)"),
            None
        );
        assert_eq!(condition_of("SELECT * FROM t WHERE k = ?"), None);
    }

    #[test]
    fn a_condition_splits_into_its_terms_whatever_the_case_of_and() {
        assert_eq!(terms("a = ? AND b = ?"), ["a = ?", "b = ?"]);
        assert_eq!(terms("a = ? and b = ?"), ["a = ?", "b = ?"]);
        assert_eq!(terms("stock = ?"), ["stock = ?"]);
    }
}
