//! Reading the SAM template in tests: its resources by type, each function's package, the
//! targets of `!Ref` and `!GetAtt`, and what a function's policies allow.

#![allow(dead_code)] // each test file uses its own part

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use yaml_serde::Value;

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub fn template_text() -> String {
    std::fs::read_to_string(repo().join("infra/template.yaml")).expect("infra/template.yaml")
}

pub fn template() -> Value {
    yaml_serde::from_str(&template_text()).expect("infra/template.yaml is YAML")
}

/// The resources of `kind`, by logical id.
pub fn resources<'t>(template: &'t Value, kind: &str) -> BTreeMap<&'t str, &'t Value> {
    template["Resources"]
        .as_mapping()
        .expect("Resources")
        .iter()
        .filter(|(_, resource)| resource["Type"] == kind)
        .map(|(id, resource)| (id.as_str().expect("logical ids are strings"), resource))
        .collect()
}

/// Each function's package name (its `CodeUri`'s last segment), by logical id.
pub fn function_packages(template: &Value) -> BTreeMap<&str, String> {
    resources(template, "AWS::Serverless::Function")
        .into_iter()
        .map(|(id, function)| {
            let uri = function["Properties"]["CodeUri"]
                .as_str()
                .unwrap_or_else(|| panic!("{id} has a CodeUri"));
            let package = uri
                .strip_prefix("../functions/")
                .unwrap_or_else(|| panic!("{id}'s CodeUri is under functions/: {uri}"));
            (id, package.to_owned())
        })
        .collect()
}

/// The logical id a `!Ref`, `!GetAtt X.Arn` or `${X.Arn}` names.
pub fn target(value: &Value) -> Option<String> {
    let Value::Tagged(tagged) = value else {
        return None;
    };
    let name = tagged.value.as_str()?;
    match tagged.tag.to_string().as_str() {
        "!Ref" => Some(name.to_owned()),
        "!GetAtt" => name.split('.').next().map(str::to_owned),
        _ => None,
    }
}

/// The names a `!Sub` string substitutes (`${Name}` and `${Name.Attribute}`).
pub fn substitutions(text: &str) -> Vec<String> {
    text.split("${")
        .skip(1)
        .filter_map(|rest| rest.split('}').next())
        .map(|name| name.split('.').next().unwrap_or(name).to_owned())
        .collect()
}

/// The text of a plain or tagged (`!Sub`) string.
pub trait TaggedString {
    fn into_tagged_string(self) -> String;
}

impl TaggedString for Value {
    fn into_tagged_string(self) -> String {
        match self {
            Value::String(text) => text,
            Value::Tagged(tagged) => tagged.value.into_tagged_string(),
            other => panic!("not a string: {other:?}"),
        }
    }
}

/// Every string inside `value`, joined by spaces: a resource written as `!Sub`, `!If` or
/// `!Select` reads as the names and ARN pieces it is made of.
pub fn flat_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Tagged(tagged) => flat_text(&tagged.value),
        Value::Sequence(items) => items.iter().map(flat_text).collect::<Vec<_>>().join(" "),
        Value::Mapping(map) => map.values().map(flat_text).collect::<Vec<_>>().join(" "),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => String::new(),
    }
}

/// One `Allow` statement of a policy: its actions, and its resources as [`flat_text`].
#[derive(Clone, Debug)]
pub struct Grant {
    /// `service:Action` names.
    pub actions: Vec<String>,
    /// Each resource's text.
    pub resources: Vec<String>,
}

impl Grant {
    /// Whether it allows `action` on a resource whose text contains `resource`.
    pub fn allows(&self, action: &str, resource: &str) -> bool {
        self.actions.iter().any(|a| a == action)
            && self.resources.iter().any(|r| r.contains(resource))
    }
}

fn grants_of_statements(statements: &Value) -> Vec<Grant> {
    let list = |value: &Value| -> Vec<Value> {
        match value {
            Value::Sequence(items) => items.clone(),
            Value::Null => Vec::new(),
            other => vec![other.clone()],
        }
    };
    list(statements)
        .iter()
        .filter(|s| s["Effect"] == "Allow")
        .map(|s| Grant {
            actions: list(&s["Action"])
                .iter()
                .filter_map(|a| a.as_str().map(str::to_owned))
                .collect(),
            resources: list(&s["Resource"]).iter().map(flat_text).collect(),
        })
        .collect()
}

/// The function resource built from `functions/<package>`.
pub fn function_of_package<'t>(template: &'t Value, package: &str) -> &'t Value {
    let packages = function_packages(template);
    let id = packages
        .iter()
        .find(|(_, p)| p.as_str() == package)
        .map(|(id, _)| *id)
        .unwrap_or_else(|| panic!("{package} is in the template"));
    &template["Resources"][id]
}

/// What `function`'s policies allow: its managed policies (`!Ref`), its inline statements, and
/// the SAM policy templates it uses (`SQSSendMessagePolicy`).
pub fn grants_of(template: &Value, function: &Value) -> Vec<Grant> {
    let mut grants = Vec::new();
    for policy in function["Properties"]["Policies"]
        .as_sequence()
        .into_iter()
        .flatten()
    {
        if let Some(name) = target(policy) {
            let document = &template["Resources"][name.as_str()]["Properties"]["PolicyDocument"];
            grants.extend(grants_of_statements(&document["Statement"]));
        } else if !policy["Statement"].is_null() {
            grants.extend(grants_of_statements(&policy["Statement"]));
        } else if !policy["SQSSendMessagePolicy"].is_null() {
            grants.push(Grant {
                actions: vec!["sqs:SendMessage".into()],
                resources: vec![flat_text(&policy["SQSSendMessagePolicy"]["QueueName"])],
            });
        }
    }
    grants
}

/// Whether `function` is allowed `action` on a resource whose text contains `resource`.
pub fn allowed(template: &Value, function: &Value, action: &str, resource: &str) -> bool {
    grants_of(template, function)
        .iter()
        .any(|g| g.allows(action, resource))
}

/// The functions with an event of `kind` (`MSK`, `SQS`, `Api`), by logical id, with those events.
pub fn functions_with_events<'t>(
    template: &'t Value,
    kind: &str,
) -> Vec<(&'t str, &'t Value, Vec<&'t Value>)> {
    resources(template, "AWS::Serverless::Function")
        .into_iter()
        .filter_map(|(id, function)| {
            let events: Vec<&Value> = function["Properties"]["Events"]
                .as_mapping()
                .into_iter()
                .flat_map(|events| events.values())
                .filter(|event| event["Type"] == kind)
                .collect();
            (!events.is_empty()).then_some((id, function, events))
        })
        .collect()
}
