//! The contracts in files agree with the code: the OpenAPI spec and the local router name the
//! same routes, every route has its function package, and every function has its sample event.

use edge::routes::ROUTES;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Functions triggered by the topic, the outbox or a schedule rather than by a route.
const CONSUMERS: &[&str] = &[
    "analytics",
    "event-relay",
    "inventory",
    "notify",
    "presence-push",
    "republish",
    "sync-push",
];

/// Functions CloudFormation calls while it deploys (custom resources), not a route or a trigger.
const DEPLOY_TIME: &[&str] = &["create-topic", "seed-catalog"];

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn spec() -> yaml_serde::Value {
    let text =
        std::fs::read_to_string(repo().join("infra/openapi.yaml")).expect("infra/openapi.yaml");
    yaml_serde::from_str(&text).expect("infra/openapi.yaml is YAML")
}

#[test]
fn the_spec_and_the_local_router_name_the_same_routes() {
    let spec = spec();
    let methods = ["get", "post", "put", "patch", "delete"];
    let mut in_spec = BTreeSet::new();
    for (path, item) in spec["paths"].as_mapping().expect("paths") {
        for method in methods {
            if let Some(operation) = item.get(method) {
                let id = operation["operationId"]
                    .as_str()
                    .expect("every operation has an operationId");
                in_spec.insert((
                    method.to_uppercase(),
                    path.as_str().unwrap_or_default().to_owned(),
                    id.to_owned(),
                ));
            }
        }
    }
    let in_router: BTreeSet<_> = ROUTES
        .iter()
        .map(|r| {
            (
                r.method.to_owned(),
                r.resource.to_owned(),
                r.operation_id.to_owned(),
            )
        })
        .collect();
    let only_spec: Vec<_> = in_spec.difference(&in_router).collect();
    let only_router: Vec<_> = in_router.difference(&in_spec).collect();
    assert!(
        only_spec.is_empty() && only_router.is_empty(),
        "only in the spec: {only_spec:?}\nonly in the router: {only_router:?}"
    );
}

#[test]
fn every_route_has_a_function_package_and_every_package_a_route() {
    let mut packages: BTreeSet<String> = std::fs::read_dir(repo().join("functions"))
        .expect("functions/")
        .filter_map(|entry| {
            entry
                .ok()
                .map(|e| e.file_name().to_string_lossy().into_owned())
        })
        .collect();
    assert!(
        packages.remove("authorizer"),
        "the authorizer is a function too"
    );
    let routed: BTreeSet<String> = ROUTES
        .iter()
        .map(|r| r.function.to_owned())
        .chain(
            edge::websocket::ROUTES
                .iter()
                .map(|(_, function)| (*function).to_owned()),
        )
        .chain(CONSUMERS.iter().map(|f| (*f).to_owned()))
        .chain(DEPLOY_TIME.iter().map(|f| (*f).to_owned()))
        .collect();
    assert_eq!(packages, routed);
}

#[test]
fn every_function_has_a_sample_event_for_its_route() {
    for route in ROUTES {
        let path = repo()
            .join("events")
            .join(format!("{}.json", route.function));
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("missing {}", path.display()));
        let event: serde_json::Value = serde_json::from_str(&text).expect("sample events are JSON");
        assert_eq!(event["httpMethod"], route.method, "{}", path.display());
        assert_eq!(event["resource"], route.resource, "{}", path.display());
    }
    for function in edge::websocket::ROUTES
        .iter()
        .map(|(_, f)| f)
        .chain(CONSUMERS)
        .chain(DEPLOY_TIME)
    {
        let path = repo().join("events").join(format!("{function}.json"));
        assert!(path.exists(), "missing {}", path.display());
    }
    assert!(repo().join("events/authorizer.json").exists());
}

#[test]
fn every_problem_code_the_domain_can_answer_is_in_the_spec() {
    let spec = spec();
    let codes: BTreeSet<&str> =
        spec["components"]["schemas"]["Problem"]["properties"]["code"]["enum"]
            .as_sequence()
            .expect("Problem.code enum")
            .iter()
            .filter_map(|c| c.as_str())
            .collect();
    let source =
        std::fs::read_to_string(repo().join("shared/domain/src/error.rs")).expect("error.rs");
    let edge =
        std::fs::read_to_string(repo().join("shared/edge/src/problem.rs")).expect("problem.rs");
    let idempotency = std::fs::read_to_string(repo().join("shared/edge/src/idempotency.rs"))
        .expect("idempotency.rs");
    for text in [source, edge, idempotency] {
        for code in text
            .split('"')
            .filter(|s| s.len() > 3 && s.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
        {
            assert!(
                codes.contains(code),
                "{code} is answered but not in the spec's Problem.code"
            );
        }
    }
}

#[test]
fn every_mutating_operation_takes_an_idempotency_key_in_the_spec_and_in_its_function() {
    let spec = spec();
    // Save createInvite: its answer holds a token, which nothing may keep but its hash, and a
    // retry merely makes another link (which the owner can revoke).
    let mutating = ROUTES
        .iter()
        .filter(|r| r.method != "GET" && r.operation_id != "createInvite");
    let invite = &spec["paths"]["/carts/{cartId}/invites"]["post"];
    assert!(
        !yaml_serde::to_string(invite)
            .unwrap_or_default()
            .contains("idempotencyKey"),
        "createInvite keeps no answer, so it takes no key"
    );
    for route in mutating {
        let operation = &spec["paths"][route.resource][route.method.to_lowercase().as_str()];
        let takes_key = operation["parameters"].as_sequence().is_some_and(|p| {
            p.iter()
                .any(|p| p["$ref"] == "#/components/parameters/idempotencyKey")
        });
        assert!(takes_key, "{} lists no Idempotency-Key", route.operation_id);
        for code in ["409", "422"] {
            assert!(
                !operation["responses"][code].is_null(),
                "{} does not document {code} for its key",
                route.operation_id
            );
        }
        let main = repo()
            .join("functions")
            .join(route.function)
            .join("src/main.rs");
        let main = std::fs::read_to_string(&main).expect("main.rs");
        assert!(
            main.contains("edge::run_once("),
            "{} runs without its keys",
            route.function
        );
    }
}
