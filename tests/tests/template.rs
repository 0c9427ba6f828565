//! The SAM template is checked so it cannot rot: `cfn-lint` and `sam validate --lint` pass on it
//! (and fail on broken copies of it), it declares exactly the functions under `functions/`, its
//! REST and WebSocket routes and MSK triggers are the ones the code routes, its Keyspaces tables
//! are `infra/keyspaces/schema.cql`'s, and it checks what the linters miss.
//!
//! The linters come from `$INFRA_TOOLS` (a directory of executables), which `tests/services.sh`
//! installs and sets; these tests fail without it.

mod support;

use edge::routes::ROUTES;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use support::template::*;
use yaml_serde::Value;

/// Functions triggered by the topic, the outbox or a schedule rather than by a route.
const CONSUMERS: &[(&str, &str)] = &[
    ("analytics", "MSK"),
    ("event-relay", "SQS"),
    ("inventory", "MSK"),
    ("notify", "MSK"),
    ("presence-push", "SQS"),
    ("republish", "Schedule"),
    ("sync-push", "MSK"),
];

fn linter(name: &str) -> PathBuf {
    let tools = std::env::var("INFRA_TOOLS")
        .expect("INFRA_TOOLS is not set: run the tests through tests/services.sh");
    Path::new(&tools).join(name)
}

/// Whether both linters pass `template`, with their output when they do not.
fn lint(template: &Path) -> Result<(), String> {
    let runs = [
        Command::new(linter("cfn-lint")).arg(template).output(),
        Command::new(linter("sam"))
            .args(["validate", "--lint", "-t"])
            .arg(template)
            // sam wants a region and credentials to exist, though it calls nothing with them.
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "lint")
            .env("AWS_SECRET_ACCESS_KEY", "lint")
            .env("SAM_CLI_TELEMETRY", "0")
            .output(),
    ];
    all_pass(runs)
}

/// Ok when every linter run passed; else what the first that failed printed.
fn all_pass(
    runs: impl IntoIterator<Item = std::io::Result<std::process::Output>>,
) -> Result<(), String> {
    for run in runs {
        let output = run.expect("the linters run");
        if !output.status.success() {
            return Err(format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ));
        }
    }
    Ok(())
}

/// Whether AWS's Serverless Rules for cfn-lint and checkov pass `template`, with their output when
/// they do not. Every finding either is fixed or carries a suppression with its reason next to
/// the resource (or, for a rule about the whole template, in its `Metadata`).
fn lint_with_peers(template: &Path) -> Result<(), String> {
    let runs = [
        Command::new(linter("cfn-lint"))
            .args(["--append-rules", "cfn_lint_serverless.rules", "--"])
            .arg(template)
            .output(),
        Command::new(linter("checkov"))
            .args([
                "--framework",
                "cloudformation",
                "--compact",
                "--quiet",
                // Offline: nothing to fetch from checkov's platform.
                "--skip-download",
                "-f",
            ])
            .arg(template)
            .output(),
    ];
    all_pass(runs)
}

#[test]
fn the_template_passes_aws_serverless_rules_and_checkov() {
    if let Err(findings) = lint_with_peers(&repo().join("infra/template.yaml")) {
        panic!("infra/template.yaml has findings nobody explained:\n{findings}");
    }
}

#[test]
fn a_template_that_drops_tracing_or_an_explained_suppression_fails_the_peers() {
    let dir = std::env::temp_dir().join(format!("template-peers-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    let text = template_text();
    let breakages = [
        ("no X-Ray on the functions", "    Tracing: Active\n", ""),
        (
            "an unexplained SQS queue",
            "          - id: CKV_AWS_27\n",
            "          - id: CKV_AWS_999999\n",
        ),
    ];
    for (what, good, bad) in breakages {
        assert!(text.contains(good), "the template no longer has '{good}'");
        let broken = dir.join("template.yaml");
        std::fs::write(&broken, text.replacen(good, bad, 1)).expect("a broken copy");
        assert!(
            lint_with_peers(&broken).is_err(),
            "the peers let {what} through"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn every_suppression_says_why() {
    let template = template();
    for (id, resource) in template["Resources"].as_mapping().expect("Resources") {
        for skip in resource["Metadata"]["checkov"]["skip"]
            .as_sequence()
            .into_iter()
            .flatten()
        {
            let comment = skip["comment"].as_str().unwrap_or_default();
            assert!(
                comment.len() > 20,
                "{id:?} skips {:?} without a reason",
                skip["id"]
            );
        }
    }
    // cfn-lint's suppressions are lists in YAML, their reasons the comments above them.
    let text = template_text();
    let lines: Vec<&str> = text.lines().collect();
    for (at, line) in lines.iter().enumerate() {
        let code = line.trim_start().strip_prefix("- ").unwrap_or_default();
        let is_check = code.len() >= 5
            && code.chars().next().is_some_and(|c| c == 'W' || c == 'E')
            && code
                .chars()
                .skip(1)
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
        let in_ignore_list = lines[..at]
            .iter()
            .rev()
            .find(|l| !l.trim_start().starts_with('#') && !l.trim_start().starts_with("- "))
            .is_some_and(|l| l.trim_end().ends_with("ignore_checks:"));
        if is_check && in_ignore_list {
            assert!(
                lines[at - 1].trim_start().starts_with('#'),
                "the suppression of {code} at line {} has no reason above it",
                at + 1
            );
        }
        if line.contains("ignore_checks: [") {
            assert!(
                lines[at - 1].trim_start().starts_with('#'),
                "the suppression at line {} has no reason above it",
                at + 1
            );
        }
    }
}

#[test]
fn the_template_passes_cfn_lint_and_sam_validate() {
    if let Err(complaints) = lint(&repo().join("infra/template.yaml")) {
        panic!("infra/template.yaml fails the linters:\n{complaints}");
    }
}

#[test]
fn a_broken_template_fails_the_linters() {
    let dir = std::env::temp_dir().join(format!("template-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    let text = template_text();
    let breakages = [
        (
            "an unknown enum value",
            "BillingMode: PAY_PER_REQUEST",
            "BillingMode: PAY_LATER",
        ),
        (
            "a dangling reference",
            "!GetAtt OrdersDeadLetters.Arn",
            "!GetAtt NoSuchQueue.Arn",
        ),
        (
            "a misspelled property",
            "VisibilityTimeout: 60",
            "VisibilityTimout: 60",
        ),
    ];
    for (what, good, bad) in breakages {
        assert!(text.contains(good), "the template no longer has '{good}'");
        let broken = dir.join("template.yaml");
        std::fs::write(&broken, text.replacen(good, bad, 1)).expect("a broken copy");
        assert!(lint(&broken).is_err(), "the linters let {what} through");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_template_declares_every_function_package_once() {
    let template = template();
    let declared: Vec<String> = function_packages(&template).into_values().collect();
    let unique: BTreeSet<String> = declared.iter().cloned().collect();
    assert_eq!(declared.len(), unique.len(), "a package declared twice");
    let packages: BTreeSet<String> = std::fs::read_dir(repo().join("functions"))
        .expect("functions/")
        .filter_map(|entry| Some(entry.ok()?.file_name().to_string_lossy().into_owned()))
        .collect();
    assert_eq!(unique, packages);
}

#[test]
fn the_template_routes_the_rest_api_as_the_router_does() {
    let template = template();
    let packages = function_packages(&template);
    let mut in_template = BTreeSet::new();
    for (id, function) in resources(&template, "AWS::Serverless::Function") {
        let Some(events) = function["Properties"]["Events"].as_mapping() else {
            continue;
        };
        for event in events.values().filter(|e| e["Type"] == "Api") {
            let properties = &event["Properties"];
            assert_eq!(
                target(&properties["RestApiId"]).as_deref(),
                Some("RestApi"),
                "{id}"
            );
            in_template.insert((
                properties["Method"]
                    .as_str()
                    .expect("a method")
                    .to_uppercase(),
                properties["Path"].as_str().expect("a path").to_owned(),
                packages[id].clone(),
            ));
        }
    }
    let in_router: BTreeSet<_> = ROUTES
        .iter()
        .map(|r| {
            (
                r.method.to_owned(),
                r.resource.to_owned(),
                r.function.to_owned(),
            )
        })
        .collect();
    let only_template: Vec<_> = in_template.difference(&in_router).collect();
    let only_router: Vec<_> = in_router.difference(&in_template).collect();
    assert!(
        only_template.is_empty() && only_router.is_empty(),
        "only in the template: {only_template:?}\nonly in the router: {only_router:?}"
    );
}

#[test]
fn the_template_routes_the_websocket_api_as_the_local_gateway_does() {
    let template = template();
    let packages = function_packages(&template);
    let integrations = resources(&template, "AWS::ApiGatewayV2::Integration");
    let function_of_integration = |id: &str| -> String {
        let uri = integrations[id]["Properties"]["IntegrationUri"]
            .clone()
            .into_tagged_string();
        substitutions(&uri)
            .into_iter()
            .find_map(|name| packages.get(name.as_str()).cloned())
            .unwrap_or_else(|| panic!("{id} invokes a function"))
    };
    let in_template: BTreeSet<(String, String)> = resources(&template, "AWS::ApiGatewayV2::Route")
        .values()
        .map(|route| {
            let properties = &route["Properties"];
            let integration = properties["Target"]
                .clone()
                .into_tagged_string()
                .trim_start_matches("integrations/${")
                .trim_end_matches('}')
                .to_owned();
            (
                properties["RouteKey"]
                    .as_str()
                    .expect("a route key")
                    .to_owned(),
                function_of_integration(&integration),
            )
        })
        .collect();
    let in_gateway: BTreeSet<(String, String)> = edge::websocket::ROUTES
        .iter()
        .map(|(key, function)| ((*key).to_owned(), (*function).to_owned()))
        .collect();
    assert_eq!(in_template, in_gateway);
}

#[test]
fn the_consumers_are_triggered_by_the_topic_the_outbox_and_the_schedule() {
    let template = template();
    let packages = function_packages(&template);
    let triggered: BTreeSet<(String, String)> = resources(&template, "AWS::Serverless::Function")
        .into_iter()
        .flat_map(|(id, function)| {
            let events = function["Properties"]["Events"].as_mapping().cloned();
            let package = packages[id].clone();
            events
                .into_iter()
                .flat_map(|events| events.into_iter().map(|(_, event)| event))
                .filter(|event| event["Type"] != "Api")
                .map(move |event| {
                    (
                        package.clone(),
                        event["Type"].as_str().unwrap_or_default().to_owned(),
                    )
                })
        })
        .collect();
    let expected: BTreeSet<(String, String)> = CONSUMERS
        .iter()
        .map(|(f, kind)| ((*f).to_owned(), (*kind).to_owned()))
        .collect();
    assert_eq!(triggered, expected);
}

#[test]
fn every_msk_trigger_bounds_its_retries_and_keeps_what_it_gives_up_on() {
    let template = template();
    for (id, function) in resources(&template, "AWS::Serverless::Function") {
        let Some(events) = function["Properties"]["Events"].as_mapping() else {
            continue;
        };
        for event in events.values().filter(|e| e["Type"] == "MSK") {
            let properties = &event["Properties"];
            for bound in [
                "MaximumRetryAttempts",
                "MaximumRecordAgeInSeconds",
                "BisectBatchOnFunctionError",
                "MaximumBatchingWindowInSeconds",
                "StartingPosition",
                "BatchSize",
                "ConsumerGroupId",
            ] {
                assert!(!properties[bound].is_null(), "{id}'s trigger sets {bound}");
            }
            assert!(
                !properties["DestinationConfig"]["OnFailure"]["Destination"].is_null(),
                "{id}'s trigger has an on-failure destination"
            );
        }
    }
}

/// What the linters miss (LOCAL-SERVICES.md lists it): the WebSocket protocol and its route
/// selection, the runtime and architecture, and references inside a function's properties.
#[test]
fn the_template_gets_right_what_the_linters_miss() {
    let template = template();
    let globals = &template["Globals"]["Function"];
    assert_eq!(globals["Runtime"], "provided.al2023");
    assert_eq!(globals["Architectures"][0], "arm64");
    assert_eq!(globals["Handler"], "bootstrap");
    for (id, api) in resources(&template, "AWS::ApiGatewayV2::Api") {
        assert_eq!(api["Properties"]["ProtocolType"], "WEBSOCKET", "{id}");
        assert_eq!(
            api["Properties"]["RouteSelectionExpression"], "$request.body.action",
            "{id}: the local gateway routes by the message's action"
        );
    }
    let declared: BTreeSet<String> = template["Resources"]
        .as_mapping()
        .expect("Resources")
        .keys()
        .chain(
            template["Parameters"]
                .as_mapping()
                .expect("Parameters")
                .keys(),
        )
        .filter_map(|k| k.as_str().map(str::to_owned))
        .collect();
    for (id, function) in resources(&template, "AWS::Serverless::Function") {
        assert!(
            function["Properties"]["Runtime"].is_null(),
            "{id}: one runtime, in Globals"
        );
        assert_eq!(
            function["Metadata"]["BuildMethod"], "rust-cargolambda",
            "{id}"
        );
        let package = repo().join(
            function["Properties"]["CodeUri"]
                .as_str()
                .unwrap_or_default()
                .trim_start_matches("../"),
        );
        assert!(
            package.join("Cargo.toml").exists(),
            "{id}: {}",
            package.display()
        );
        let mut references = Vec::new();
        collect_references(&function["Properties"], &mut references);
        for reference in references {
            assert!(
                declared.contains(&reference) || reference.starts_with("AWS::"),
                "{id} refers to {reference}, which the template does not declare"
            );
        }
    }
}

fn collect_references(value: &Value, into: &mut Vec<String>) {
    if let Some(name) = target(value) {
        into.push(name);
    }
    match value {
        Value::Tagged(tagged) => {
            if let Some(text) = tagged.value.as_str()
                && tagged.tag == "!Sub"
            {
                into.extend(substitutions(text));
            }
            collect_references(&tagged.value, into);
        }
        Value::Sequence(items) => items.iter().for_each(|v| collect_references(v, into)),
        Value::Mapping(map) => map.values().for_each(|v| collect_references(v, into)),
        _ => {}
    }
}

#[test]
fn the_keyspaces_tables_are_the_schemas() {
    let schema = std::fs::read_to_string(repo().join("infra/keyspaces/schema.cql"))
        .expect("infra/keyspaces/schema.cql");
    let in_cql = cql_tables(&schema);
    let template = template();
    let mut in_template = BTreeMap::new();
    for table in resources(&template, "AWS::Cassandra::Table").values() {
        let properties = &table["Properties"];
        let mut columns = BTreeMap::new();
        let clustering = properties["ClusteringKeyColumns"]
            .as_sequence()
            .into_iter()
            .flatten()
            .map(|c| &c["Column"]);
        for column in properties["PartitionKeyColumns"]
            .as_sequence()
            .into_iter()
            .flatten()
            .chain(clustering)
            .chain(
                properties["RegularColumns"]
                    .as_sequence()
                    .into_iter()
                    .flatten(),
            )
        {
            columns.insert(
                column["ColumnName"].as_str().expect("a name").to_owned(),
                normalise(column["ColumnType"].as_str().expect("a type")),
            );
        }
        in_template.insert(
            properties["TableName"]
                .as_str()
                .expect("a table name")
                .to_owned(),
            columns,
        );
    }
    assert_eq!(in_template, in_cql);
}

/// Each `CREATE TABLE`'s columns and their types, from the CQL file.
fn cql_tables(schema: &str) -> BTreeMap<String, BTreeMap<String, String>> {
    let code: String = schema
        .lines()
        .filter(|line| !line.trim_start().starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n");
    code.split(';')
        .filter_map(|statement| {
            let (head, body) = statement.split_once('(')?;
            let name = head.split_whitespace().last()?.to_owned();
            let columns = body
                .rsplit_once(')')?
                .0
                .split(",\n")
                .map(str::trim)
                .filter(|column| !column.starts_with("PRIMARY KEY"))
                .filter_map(|column| {
                    let (name, rest) = column.split_once(' ')?;
                    Some((
                        name.to_owned(),
                        normalise(rest.trim_end_matches(" PRIMARY KEY")),
                    ))
                })
                .collect();
            Some((name, columns))
        })
        .collect()
}

fn normalise(cql_type: &str) -> String {
    cql_type.replace(' ', "").to_lowercase()
}

#[test]
fn the_functions_that_keep_answers_under_a_key_and_only_they_may_write_the_idempotency_table() {
    let template = template();
    let packages = function_packages(&template);
    for (id, function) in resources(&template, "AWS::Serverless::Function") {
        let main = repo()
            .join("functions")
            .join(&packages[id])
            .join("src/main.rs");
        let keeps_answers = std::fs::read_to_string(&main)
            .unwrap_or_else(|e| panic!("{}: {e}", main.display()))
            .contains("edge::run_once(");
        let granted = function["Properties"]["Policies"]
            .as_sequence()
            .is_some_and(|policies| {
                policies
                    .iter()
                    .any(|p| target(p).as_deref() == Some("KeepAnswersPolicy"))
            });
        assert_eq!(
            granted, keeps_answers,
            "{id}: KeepAnswersPolicy exactly where the function keeps answers"
        );
    }
    assert!(
        template_text().contains("IDEMPOTENCY_TABLE: !Ref IdempotencyTable"),
        "the functions are told where the table is"
    );
}

#[test]
fn the_throttles_default_to_the_product_limits() {
    let template = template();
    let default = |name: &str| {
        template["Parameters"][name]["Default"]
            .as_u64()
            .unwrap_or_else(|| panic!("{name} has a number default"))
    };
    let stage = domain::limits::PER_STAGE;
    assert_eq!(
        (default("ThrottleRatePerSecond"), default("ThrottleBurst")),
        (u64::from(stage.per_second), u64::from(stage.burst))
    );
    // The per-user rate is WAF's: tests/tests/aws_rules.rs holds it to PER_USER.
}
