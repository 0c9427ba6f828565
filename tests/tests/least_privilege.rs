//! Each function's Keyspaces statements, held to its IAM actions: every function the template
//! lets open Keyspaces runs its handler on its sample event, wired as its `main.rs` wires it,
//! against a CQL server as strict as Keyspaces that grants the function's login exactly what its
//! policies in `infra/template.yaml` grant its role (`cassandra:Select` or `cassandra:Modify` on
//! each table). The server refuses a statement outside the grants when it is prepared, so a
//! read-only function that prepared a write would fail here ("Actions defined by Amazon
//! Keyspaces", Service Authorization Reference).

mod support;

use cqlserver::{Action, CqlServer, Grants};
use domain::ports::{CartStore, Catalog};
use std::collections::{BTreeMap, BTreeSet};
use support::template::*;

/// The keyspace the template's policies name by `${KeyspaceName}`.
const KEYSPACE: &str = "shared_carts";

/// The Keyspaces grants the template gives `function`'s role.
fn template_grants(template: &yaml_serde::Value, function: &yaml_serde::Value) -> Grants {
    let mut grants = Grants::none();
    for grant in grants_of(template, function) {
        for action in &grant.actions {
            let Some(action) = Action::from_iam_name(action) else {
                continue;
            };
            for resource in &grant.resources {
                // `arn:${AWS::Partition}:cassandra:...:/keyspace/${KeyspaceName}/table/carts`
                if let Some(at) = resource.find(":/keyspace/") {
                    let path = resource[at + 1..].replace("${KeyspaceName}", KEYSPACE);
                    grants = grants.allow(action, path);
                }
            }
        }
    }
    grants
}

/// The functions whose role may do anything on Keyspaces, by package.
fn keyspaces_functions(template: &yaml_serde::Value) -> BTreeMap<String, Grants> {
    let packages = function_packages(template);
    resources(template, "AWS::Serverless::Function")
        .into_iter()
        .filter(|(_, function)| {
            grants_of(template, function)
                .iter()
                .any(|g| g.actions.iter().any(|a| a.starts_with("cassandra:")))
        })
        .map(|(id, function)| (packages[id].clone(), template_grants(template, function)))
        .collect()
}

/// A function's config, as its environment would give it, reaching `server` as `login`.
fn config_of(
    server: &CqlServer,
    login: &cqlserver::Login,
    data: &std::path::Path,
) -> wiring::Config {
    let mut settings = server.settings(login);
    settings.insert("DATA_DIR", data.to_string_lossy().into_owned());
    wiring::Config::from_settings(&|name| settings.get(name).cloned()).expect("a config")
}

/// Runs `package`'s handler on its sample event, wired from `config`; the status it answered.
async fn run(package: &str, config: &wiring::Config) -> u16 {
    use edge::testing::{request, sample_event, sample_request_as, websocket_event};
    let as_alice = |name: &str| sample_request_as(name, "alice");
    let carts = || async {
        wiring::cart_service(config)
            .await
            .expect("the cart service")
    };
    // The functions that only read carts build them as their `main.rs` does, with no publisher.
    let reader = || async { wiring::cart_reader(config).await.expect("the cart reader") };
    let items = || async {
        wiring::item_service(config)
            .await
            .expect("the item service")
    };
    let response = match package {
        "get-cart" => get_cart::handle(&reader().await, as_alice(package)).await,
        "list-my-carts" => list_my_carts::handle(&reader().await, as_alice(package)).await,
        "get-user-details" => {
            let directory = wiring::directory(config).await.expect("a directory");
            get_user_details::handle(&reader().await, directory.as_ref(), as_alice(package)).await
        }
        "list-items" => list_items::handle(&items().await, as_alice(package)).await,
        "get-item-details" => get_item_details::handle(&items().await, as_alice(package)).await,
        "create-cart" => create_cart::handle(&carts().await, as_alice(package)).await,
        "add-item-to-cart" => {
            // Banana, from the demo catalog: a line the remove below can take out again.
            let mut event = sample_event(package);
            event["body"] = r#"{"itemId": "banana", "quantity": 1}"#.into();
            event["requestContext"]["authorizer"]["userId"] = "alice".into();
            add_item_to_cart::handle(&carts().await, edge::testing::request(&event)).await
        }
        "modify-cart" => modify_cart::handle(&carts().await, as_alice(package)).await,
        "remove-item-from-cart" => {
            let mut event = sample_event(package);
            event["pathParameters"]["itemId"] = "banana".into();
            let path = event["path"]
                .as_str()
                .unwrap_or_default()
                .replace("/pear", "/banana");
            event["path"] = path.into();
            event["requestContext"]["authorizer"]["userId"] = "alice".into();
            remove_item_from_cart::handle(&carts().await, edge::testing::request(&event)).await
        }
        "share-cart" => {
            let directory = wiring::directory(config).await.expect("a directory");
            share_cart::handle(&carts().await, directory.as_ref(), as_alice(package)).await
        }
        "unshare-cart" => unshare_cart::handle(&carts().await, as_alice(package)).await,
        "create-invite" => create_invite::handle(&carts().await, None, as_alice(package)).await,
        "list-invites" => list_invites::handle(&reader().await, as_alice(package)).await,
        "revoke-invite" => revoke_invite::handle(&carts().await, as_alice(package)).await,
        // Gwen, the sample events' holder of the sample cart's invite link.
        "get-invite" => get_invite::handle(&reader().await, request(&sample_event(package))).await,
        "accept-invite" => {
            accept_invite::handle(&carts().await, request(&sample_event(package))).await
        }
        "update-cart-settings" => {
            update_cart_settings::handle(&carts().await, as_alice(package)).await
        }
        "lock-cart" => lock_cart::handle(&carts().await, as_alice(package)).await,
        "unlock-cart" => unlock_cart::handle(&carts().await, as_alice(package)).await,
        "checkout-cart" => checkout_cart::handle(&carts().await, as_alice(package)).await,
        "update-item-stock" => {
            let mut event = sample_event(package);
            event["requestContext"]["authorizer"]["userId"] = "admin".into();
            event["requestContext"]["authorizer"]["scopes"] = "admin".into();
            update_item_stock::handle(&items().await, edge::testing::request(&event)).await
        }
        "ws-message" => {
            let registry = wiring::connection_registry(config)
                .await
                .expect("a registry");
            let rate = domain::limits::Buckets::new(domain::limits::PER_CONNECTION);
            let event = websocket_event(&sample_event(package));
            let (carts, notices) = (reader().await, domain::memory::RecordingNotices::default());
            let routes = ws_message::Routes {
                carts: &carts,
                registry: registry.as_ref(),
                notices: &notices,
                rate: &rate,
            };
            let answer = ws_message::handle(&routes, event).await;
            return u16::try_from(answer.status_code).unwrap_or(500);
        }
        "seed-catalog" => {
            let catalog = seed_catalog::CatalogOnDemand::new(config.clone());
            let request = serde_json::from_value(sample_event(package)).expect("a request");
            let answers = custom_resource::testing::Answers::default();
            let answered = seed_catalog::handle(&catalog, &answers, &request).await;
            return if answered.status == "SUCCESS" {
                200
            } else {
                500
            };
        }
        "inventory" => {
            let inventory = inventory::Inventory {
                ledger: wiring::stock_ledger(config).await.expect("the ledger"),
                events: wiring::event_publisher(config).await.expect("a publisher"),
            };
            let batch = serde_json::from_value(sample_event(package)).expect("an MSK batch");
            return match inventory::handle(&inventory, batch).await {
                Ok(_) => 200,
                Err(e) => panic!("the inventory failed its batch: {e}"),
            };
        }
        "republish" => {
            let relay = wiring::relay(config).await.expect("the relay");
            return match republish::handle(&relay).await {
                Ok(_) => 200,
                Err(e) => panic!("the relay failed its pass: {e}"),
            };
        }
        other => panic!("{other} opens Keyspaces: give it a case here"),
    };
    if response.status().is_client_error() || response.status().is_server_error() {
        eprintln!("{package}: {:?}", response.body());
    }
    response.status().as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_function_runs_its_sample_on_keyspaces_with_no_more_than_its_role_allows() {
    let template = template();
    let functions = keyspaces_functions(&template);
    let server = CqlServer::start().await;
    let data = std::env::temp_dir().join(format!("least-privilege-{}", uuid::Uuid::new_v4()));

    // The test's own login makes the schema and the sample cart and catalog the events name.
    let admin = config_of(&server, server.admin(), &data);
    let keyspace = keyspaces::schema::open_creating(admin.keyspaces.as_ref().expect("a keyspace"))
        .await
        .expect("the schema");
    let catalog = keyspaces::KeyspacesCatalog::new(keyspace.clone());
    for item in domain::testing::sample_items() {
        catalog.put(&item).await.expect("an item");
    }
    let sample = domain::testing::Sample::new().await;
    keyspaces::KeyspacesCartStore::new(keyspace)
        .save(None, &sample.cart)
        .await
        .expect("the sample cart");

    // Reads first, edits next (the edit against version 3 before any other), checkout and the
    // stock it takes last: each sample event meets the cart it expects, and every write lands.
    let order = [
        ("seed-catalog", 200),
        ("get-cart", 200),
        ("list-my-carts", 200),
        ("get-user-details", 200),
        ("list-items", 200),
        ("get-item-details", 200),
        ("ws-message", 200),
        ("create-cart", 201),
        ("modify-cart", 200),
        ("add-item-to-cart", 200),
        ("remove-item-from-cart", 200),
        ("share-cart", 200),
        ("unshare-cart", 200),
        ("update-item-stock", 200),
        ("create-invite", 201),
        ("list-invites", 200),
        ("get-invite", 200),
        ("accept-invite", 200),
        ("revoke-invite", 204),
        ("update-cart-settings", 200),
        ("lock-cart", 200),
        ("unlock-cart", 200),
        ("checkout-cart", 200),
        ("inventory", 200),
        ("republish", 200),
    ];
    let covered: BTreeSet<&str> = order.iter().map(|(package, _)| *package).collect();
    let opening: BTreeSet<&str> = functions.keys().map(String::as_str).collect();
    assert_eq!(
        covered, opening,
        "every function that opens Keyspaces, and only they"
    );

    for (package, expected) in order {
        let login = server.login_with(functions[package].clone());
        let status = run(package, &config_of(&server, &login, &data)).await;
        let refused: Vec<String> = server
            .refusals()
            .into_iter()
            .filter(|r| r.contains(&login.username))
            .collect();
        assert!(
            refused.is_empty(),
            "{package} ran a statement its role may not: {refused:?}"
        );
        assert_eq!(status, expected, "{package}");
    }
    let _ = std::fs::remove_dir_all(data);
}
