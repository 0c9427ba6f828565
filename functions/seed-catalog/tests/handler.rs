//! The demo catalog's custom resource against the CQL test server (as strict as Keyspaces), with
//! a login that may do only what the template grants the function: read and write the items.

use cqlserver::{Action, CqlServer, Grants};
use custom_resource::ResourceRequest;
use custom_resource::testing::Answers;
use domain::ports::Catalog;
use seed_catalog::CatalogOnDemand;

fn request(kind: &str) -> ResourceRequest {
    let mut event: serde_json::Value =
        serde_json::from_str(include_str!("../../../events/seed-catalog.json"))
            .expect("the sample event");
    event["RequestType"] = kind.into();
    serde_json::from_value(event).expect("a custom resource request")
}

#[tokio::test]
async fn the_demo_items_are_added_once_and_items_already_there_are_kept() {
    let server = CqlServer::start().await;
    let admin = server.settings(server.admin());
    let admin = keyspaces::KeyspacesConfig::from_settings(&|n| admin.get(n).cloned())
        .expect("a config")
        .expect("a keyspace");
    let schema = keyspaces::schema::open_creating(&admin)
        .await
        .expect("the schema");
    let mut apple = domain::demo::items()[0].clone();
    apple.stock = 7;
    keyspaces::KeyspacesCatalog::new(schema.clone())
        .put(&apple)
        .await
        .expect("an item already there");

    // The template's grants for the function: read and write the items, read the system tables.
    let items = "/keyspace/shared_carts/table/items";
    let login = server.login_with(
        Grants::none()
            .allow(Action::Select, items)
            .allow(Action::Modify, items)
            .allow(Action::Select, "/keyspace/system*"),
    );
    let settings = server.settings(&login);
    let config = wiring::Config::from_settings(&|n| settings.get(n).cloned()).expect("a config");
    let seeded = CatalogOnDemand::new(config.clone());
    let catalog = wiring::catalog(&config).await.expect("the catalog");
    let answers = Answers::default();

    let created = seed_catalog::handle(&seeded, &answers, &request("Create")).await;
    assert_eq!(created.status, "SUCCESS", "{}", created.reason);
    assert_eq!(
        created.data["Added"],
        (domain::demo::items().len() - 1).to_string()
    );
    let kept = catalog.item(&apple.item_id).await.ok().flatten();
    assert_eq!(
        kept.map(|i| i.stock),
        Some(7),
        "stock already there is kept"
    );
    let listed = catalog.list(None, 100).await.expect("the catalog");
    assert_eq!(listed.len(), domain::demo::items().len());

    let again = seed_catalog::handle(&seeded, &answers, &request("Update")).await;
    assert_eq!(
        (again.status, again.data["Added"].as_str()),
        ("SUCCESS", Some("0"))
    );
    let deleted = seed_catalog::handle(&seeded, &answers, &request("Delete")).await;
    assert_eq!(deleted.status, "SUCCESS");
    assert_eq!(
        catalog.list(None, 100).await.map(|l| l.len()).ok(),
        Some(listed.len())
    );
    assert_eq!(answers.sent().len(), 3);
    assert_eq!(server.refusals(), Vec::<String>::new());
}

#[tokio::test]
async fn a_keyspace_that_cannot_be_reached_is_answered_as_failed_not_left_waiting() {
    let settings =
        |name: &str| (name == "CASSANDRA_CONTACT_POINTS").then(|| "127.0.0.1:9".to_owned());
    let config = wiring::Config::from_settings(&settings).expect("a config");
    let answers = Answers::default();
    let answered =
        seed_catalog::handle(&CatalogOnDemand::new(config), &answers, &request("Create")).await;
    assert_eq!(answered.status, "FAILED");
    assert!(!answered.reason.is_empty());
    assert_eq!(answers.sent().len(), 1, "CloudFormation hears of it");
}
