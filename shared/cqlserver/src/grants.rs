//! Who may do what, as Keyspaces' IAM integration decides it: each statement needs one action on
//! one resource, `cassandra:Select` to read a table and `cassandra:Modify` to insert, update or
//! delete ("Actions defined by Amazon Keyspaces", Service Authorization Reference), on the
//! table's resource `/keyspace/<keyspace>/table/<table>`. A driver reads the system tables when it
//! connects, so a role needs `cassandra:Select` on `/keyspace/system*` too ("Amazon Keyspaces
//! identity-based policy examples").
//!
//! The double refuses a statement the login may not run when it is prepared, and again when it
//! is executed. Whether Keyspaces itself refuses at prepare time is not documented; refusing there
//! is the stricter reading, and a function that prepares only what it runs passes either way.

use kassandra::cql::query::QueryString;

/// An IAM action on Keyspaces data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// `cassandra:Select`: read a table.
    Select,
    /// `cassandra:Modify`: insert, update or delete in a table.
    Modify,
    /// `cassandra:Create`: create a keyspace or a table.
    Create,
}

impl Action {
    /// The action as IAM spells it (`cassandra:Select`).
    pub fn iam_name(self) -> &'static str {
        match self {
            Action::Select => "cassandra:Select",
            Action::Modify => "cassandra:Modify",
            Action::Create => "cassandra:Create",
        }
    }

    /// The action IAM calls `name`, if it is one of these.
    pub fn from_iam_name(name: &str) -> Option<Self> {
        [Action::Select, Action::Modify, Action::Create]
            .into_iter()
            .find(|a| a.iam_name() == name)
    }
}

/// What one login may do: actions on resources, `*` matching any run of characters as in an IAM
/// policy's resource.
#[derive(Clone, Debug, Default)]
pub struct Grants(Vec<(Action, String)>);

impl Grants {
    /// Nothing at all.
    pub fn none() -> Self {
        Self::default()
    }

    /// Everything: the test's own login, which creates the schema and seeds data.
    pub fn all() -> Self {
        Self::none()
            .allow(Action::Select, "*")
            .allow(Action::Modify, "*")
            .allow(Action::Create, "*")
    }

    /// These grants and `action` on `resource` (`/keyspace/<keyspace>/table/<table>`, with `*`).
    pub fn allow(mut self, action: Action, resource: impl Into<String>) -> Self {
        self.0.push((action, resource.into()));
        self
    }

    /// Whether `action` on `resource` is granted.
    pub fn allows(&self, action: Action, resource: &str) -> bool {
        self.0
            .iter()
            .any(|(granted, pattern)| *granted == action && matches(pattern, resource))
    }
}

/// What a statement needs: the action, and the resource it acts on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Access {
    pub action: Action,
    pub resource: String,
}

impl Access {
    /// What `query` needs, with `keyspace` for a table it does not qualify; `None` for what
    /// needs nothing (`USE`).
    pub fn of(query: &QueryString, keyspace: Option<&str>) -> Option<Self> {
        let table = |ks: &Option<String>, table: &str| {
            let ks = ks.as_deref().or(keyspace).unwrap_or_default();
            format!("/keyspace/{ks}/table/{table}")
        };
        let (action, resource) = match query {
            QueryString::Select(s) => (Action::Select, table(&s.keyspace, &s.table)),
            QueryString::Insert(s) => (Action::Modify, table(&s.keyspace, &s.table)),
            QueryString::Delete(s) => (Action::Modify, table(&s.keyspace, &s.table)),
            QueryString::CreateTable(s) => (Action::Create, table(&s.keyspace, &s.table)),
            QueryString::CreateKeyspace(s) => {
                (Action::Create, format!("/keyspace/{}/", s.keyspace))
            }
            QueryString::CreateType(s) => (
                Action::Create,
                format!("/keyspace/{}/", s.keyspace.as_deref().unwrap_or_default()),
            ),
            QueryString::Use { .. } => return None,
        };
        Some(Self { action, resource })
    }

    /// The refusal Keyspaces' answer resembles, for the log and the client.
    pub fn refusal(&self, login: &str) -> String {
        format!(
            "User {login} has no {} permission on {}",
            self.action.iam_name(),
            self.resource
        )
    }
}

/// IAM's wildcard match: `*` is any run of characters, everything else itself.
fn matches(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((head, rest)) => {
            let Some(tail) = text.strip_prefix(head) else {
                return false;
            };
            (0..=tail.len())
                .filter(|at| tail.is_char_boundary(*at))
                .any(|at| matches(rest, &tail[at..]))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_as_in_an_iam_resource() {
        assert!(matches("*", "/keyspace/a/table/b"));
        assert!(matches(
            "/keyspace/system*",
            "/keyspace/system_schema/table/tables"
        ));
        assert!(matches(
            "/keyspace/shop/table/carts",
            "/keyspace/shop/table/carts"
        ));
        assert!(!matches(
            "/keyspace/shop/table/carts",
            "/keyspace/shop/table/items"
        ));
        assert!(matches(
            "/keyspace/*/table/items",
            "/keyspace/shop/table/items"
        ));
        assert!(!matches("/keyspace/system*", "/keyspace/shop/table/carts"));
    }

    #[test]
    fn a_read_grant_does_not_allow_writes() {
        let reader = Grants::none().allow(Action::Select, "/keyspace/shop/table/carts");
        assert!(reader.allows(Action::Select, "/keyspace/shop/table/carts"));
        assert!(!reader.allows(Action::Modify, "/keyspace/shop/table/carts"));
        assert!(!reader.allows(Action::Select, "/keyspace/shop/table/items"));
    }

    #[test]
    fn each_statement_needs_its_action_on_its_table() {
        let access = |cql: &str| {
            Access::of(
                &kassandra::cql::parser::query(cql).expect(cql),
                Some("shop"),
            )
        };
        assert_eq!(
            access("SELECT * FROM carts WHERE cart_id = ?"),
            Some(Access {
                action: Action::Select,
                resource: "/keyspace/shop/table/carts".into()
            })
        );
        assert_eq!(
            access("UPDATE other.items SET stock = ? WHERE item_id = ?").map(|a| a.action),
            Some(Action::Modify)
        );
        assert_eq!(
            access("DELETE FROM user_cart_sharing WHERE user_id = ? AND cart_id = ?")
                .map(|a| a.resource),
            Some("/keyspace/shop/table/user_cart_sharing".into())
        );
    }
}
