//! Creates the keyspace and its tables from `infra/keyspaces/schema.cql`, for tests and local
//! runs. On AWS the SAM template declares the same tables and no function changes the schema.

use crate::config::KeyspacesConfig;
use crate::session::{Keyspace, KeyspacesError, connect};
use scylla::client::session::Session;

/// The schema's CQL, as kept in `infra/keyspaces/`.
pub const SCHEMA: &str = include_str!("../../../infra/keyspaces/schema.cql");

/// The schema's statements, each qualified with `keyspace`, without comments.
pub fn statements(keyspace: &str) -> Vec<String> {
    let uncommented: String = SCHEMA
        .lines()
        .map(|line| line.split("--").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n");
    uncommented
        .split(';')
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|s| !s.is_empty())
        .map(|s| s.replacen("IF NOT EXISTS ", &format!("IF NOT EXISTS {keyspace}."), 1))
        .collect()
}

/// Creates `keyspace` (one replica per data center: a single-node cluster) and its tables when
/// missing.
pub async fn create(session: &Session, keyspace: &str) -> Result<(), KeyspacesError> {
    let create_keyspace = format!(
        "CREATE KEYSPACE IF NOT EXISTS {keyspace} WITH REPLICATION = \
         {{'class': 'SimpleStrategy', 'replication_factor': 1}}"
    );
    for statement in std::iter::once(create_keyspace).chain(statements(keyspace)) {
        session
            .query_unpaged(statement.as_str(), ())
            .await
            .map_err(|source| KeyspacesError::Schema {
                statement,
                source: Box::new(source),
            })?;
    }
    Ok(())
}

/// Opens `config`'s keyspace as [`Keyspace::open`] does, creating it and its tables first: the
/// local stack and the tests, never a Lambda.
pub async fn open_creating(config: &KeyspacesConfig) -> Result<Keyspace, KeyspacesError> {
    let session = connect(config).await?;
    create(&session, &config.keyspace).await?;
    let keyspace = Keyspace::new(session, &config.keyspace);
    keyspace.prepare_all().await?;
    Ok(keyspace)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_is_created_inside_the_keyspace() {
        let statements = statements("carts_test");
        assert_eq!(statements.len(), 4);
        for statement in &statements {
            assert!(
                statement.starts_with("CREATE TABLE IF NOT EXISTS carts_test."),
                "{statement}"
            );
            assert!(!statement.contains("--"), "{statement}");
        }
    }
}
