//! AWS's rules that no linter knows and no local stand-in enforces, each held against the SAM
//! template. Every test's name states the rule, and its comment names the AWS documentation page
//! the rule comes from: a change that breaks one fails here, not at the first `sam deploy`.

mod support;

use std::collections::BTreeSet;
use support::template::*;
use yaml_serde::Value;

const CONSUMER_TOPIC_ACTIONS: [&str; 6] = [
    "kafka-cluster:Connect",
    "kafka-cluster:DescribeGroup",
    "kafka-cluster:AlterGroup",
    "kafka-cluster:DescribeTopic",
    "kafka-cluster:ReadData",
    "kafka-cluster:DescribeClusterDynamicConfiguration",
];

fn depends_on(resource: &Value) -> BTreeSet<String> {
    match &resource["DependsOn"] {
        Value::String(one) => BTreeSet::from([one.clone()]),
        Value::Sequence(many) => many
            .iter()
            .filter_map(|d| d.as_str().map(str::to_owned))
            .collect(),
        _ => BTreeSet::new(),
    }
}

fn in_vpc(function: &Value) -> bool {
    !function["Properties"]["VpcConfig"].is_null()
}

/// "Topic Operations" (MSK Developer Guide): "These APIs are not available for MSK Serverless
/// clusters", so `AWS::MSK::Topic` cannot make the topic of the cluster the template creates.
#[test]
fn msk_serverless_has_no_topic_api_so_the_topic_is_made_by_a_custom_resource_of_ours() {
    let template = template();
    assert!(
        resources(&template, "AWS::MSK::Topic").is_empty(),
        "AWS::MSK::Topic works on MSK Provisioned only"
    );
    let topic = &template["Resources"]["EventsTopicResource"];
    assert_eq!(topic["Type"], "Custom::KafkaTopic");
    assert_eq!(
        target(&topic["Properties"]["ServiceToken"]).as_deref(),
        Some("CreateTopicFunction")
    );
    assert_eq!(
        function_packages(&template)["CreateTopicFunction"],
        "create-topic"
    );
    // "Semantics of IAM authorization policy actions and resources": CreateTopic on the topic.
    let creator = &template["Resources"]["CreateTopicFunction"];
    for action in ["kafka-cluster:CreateTopic", "kafka-cluster:DescribeTopic"] {
        assert!(allowed(&template, creator, action, ":topic/"), "{action}");
    }
    assert!(allowed(
        &template,
        creator,
        "kafka-cluster:Connect",
        "EventsCluster"
    ));
}

/// "Resource attributes supported by AWS SAM": `DependsOn` on a function reaches the generated
/// function only; its event source mapping refers to the function, so it is created after it.
#[test]
fn every_msk_trigger_starts_after_the_topic_exists() {
    let template = template();
    for (id, function, _) in functions_with_events(&template, "MSK") {
        assert!(
            depends_on(function).contains("EventsTopicResource"),
            "{id}'s trigger could start before its topic exists"
        );
    }
}

/// "Configuring error handling controls for Kafka event sources" (Lambda): the retry, bisect,
/// record age and on-failure controls are configured in provisioned mode; "Apache Kafka event
/// poller scaling modes in Lambda": MinimumPollers 1 to 200, MaximumPollers 1 to 2,000 and not
/// below the minimum.
#[test]
fn kafka_error_handling_controls_need_provisioned_pollers() {
    let template = template();
    let triggers = functions_with_events(&template, "MSK");
    assert!(!triggers.is_empty());
    for (id, _, events) in triggers {
        for event in events {
            let properties = &event["Properties"];
            let controls = [
                "MaximumRetryAttempts",
                "BisectBatchOnFunctionError",
                "MaximumRecordAgeInSeconds",
                "DestinationConfig",
            ]
            .into_iter()
            .filter(|control| !properties[*control].is_null())
            .collect::<Vec<_>>();
            if controls.is_empty() {
                continue;
            }
            let pollers = &properties["ProvisionedPollerConfig"];
            let (min, max) = (
                pollers["MinimumPollers"].as_u64(),
                pollers["MaximumPollers"].as_u64(),
            );
            assert!(
                matches!((min, max), (Some(min), Some(max)) if (1..=200).contains(&min) && (min..=2000).contains(&max)),
                "{id} sets {controls:?} without valid provisioned pollers: {min:?}..{max:?}"
            );
        }
    }
}

/// "Using Lambda with Amazon MSK" (IAM authentication): the execution role of a Kafka trigger
/// needs Connect, DescribeGroup, AlterGroup, DescribeTopic, ReadData and
/// DescribeClusterDynamicConfiguration; the cluster's, the topic's and the consumer group's
/// actions each on its own kind of resource. SAM's AWSLambdaMSKExecutionRole has none of them.
#[test]
fn a_kafka_trigger_s_role_may_do_every_kafka_cluster_action_lambda_lists() {
    let template = template();
    for (id, function, _) in functions_with_events(&template, "MSK") {
        for action in CONSUMER_TOPIC_ACTIONS {
            let resource = match action {
                "kafka-cluster:DescribeGroup" | "kafka-cluster:AlterGroup" => ":group/",
                "kafka-cluster:DescribeTopic" | "kafka-cluster:ReadData" => ":topic/",
                _ => "EventsCluster",
            };
            assert!(
                allowed(&template, function, action, resource),
                "{id} may not {action} on its {resource} resource"
            );
        }
    }
}

/// "Capturing discarded batches for Amazon MSK and self-managed Apache Kafka event sources": an
/// SQS destination needs `sqs:SendMessage`, and "you must deploy a VPC endpoint for your
/// on-failure destination service inside your Amazon MSK cluster VPC".
#[test]
fn an_msk_trigger_may_send_to_its_dead_letter_queue_and_reach_sqs_from_the_cluster_s_vpc() {
    let template = template();
    for (id, function, events) in functions_with_events(&template, "MSK") {
        for event in events {
            let destination = &event["Properties"]["DestinationConfig"]["OnFailure"]["Destination"];
            let Some(queue) = target(destination) else {
                continue;
            };
            assert!(
                allowed(&template, function, "sqs:SendMessage", &queue),
                "{id} may not send to {queue}"
            );
            let endpoint = &template["Resources"]["SqsEndpoint"];
            assert_eq!(endpoint["Properties"]["VpcEndpointType"], "Interface");
            assert!(flat_text(&endpoint["Properties"]["ServiceName"]).ends_with(".sqs"));
        }
    }
}

/// "Apache Kafka event poller scaling modes in Lambda": "When using provisioned mode, you don't
/// need to create AWS PrivateLink VPC endpoints"; without it the pollers need Lambda and STS
/// endpoints (or a NAT gateway) in the cluster's VPC ("Using Lambda with Amazon MSK").
#[test]
fn a_trigger_without_provisioned_pollers_would_need_lambda_and_sts_endpoints() {
    let template = template();
    let on_demand = functions_with_events(&template, "MSK")
        .into_iter()
        .flat_map(|(_, _, events)| events)
        .any(|event| event["Properties"]["ProvisionedPollerConfig"].is_null());
    let endpoints: BTreeSet<String> = resources(&template, "AWS::EC2::VPCEndpoint")
        .values()
        .map(|e| flat_text(&e["Properties"]["ServiceName"]))
        .collect();
    let has = |service: &str| endpoints.iter().any(|e| e.ends_with(service));
    if on_demand {
        assert!(
            has(".lambda") && has(".sts"),
            "an on-demand MSK trigger needs Lambda and STS endpoints"
        );
    }
}

/// "Using Amazon Keyspaces with interface VPC endpoints": through the endpoint, `system.peers`
/// lists its addresses only when the role may `ec2:DescribeNetworkInterfaces` and
/// `ec2:DescribeVpcEndpoints`; otherwise the driver knows one node.
#[test]
fn functions_that_reach_keyspaces_from_the_vpc_may_list_the_endpoint_s_peers() {
    let template = template();
    for (id, function) in resources(&template, "AWS::Serverless::Function") {
        let uses_keyspaces = grants_of(&template, function)
            .iter()
            .any(|g| g.actions.iter().any(|a| a.starts_with("cassandra:")));
        if !(uses_keyspaces && in_vpc(function)) {
            continue;
        }
        for action in ["ec2:DescribeNetworkInterfaces", "ec2:DescribeVpcEndpoints"] {
            assert!(
                allowed(&template, function, action, "*"),
                "{id} lacks {action}"
            );
        }
    }
}

/// "Amazon Keyspaces identity-based policy examples": drivers read the system tables when they
/// connect, so a role needs `cassandra:Select` on `/keyspace/system*`.
#[test]
fn every_role_that_opens_keyspaces_may_read_its_system_tables() {
    let template = template();
    for (id, function) in resources(&template, "AWS::Serverless::Function") {
        let grants = grants_of(&template, function);
        if grants
            .iter()
            .any(|g| g.actions.iter().any(|a| a.starts_with("cassandra:")))
        {
            assert!(
                grants
                    .iter()
                    .any(|g| g.allows("cassandra:Select", "/keyspace/system*")),
                "{id} cannot read the system tables"
            );
        }
    }
}

/// "Use Amazon MSK APIs with Interface VPC Endpoints": the MSK API's endpoint service is the
/// dual-stack `aws.api.<region>.kafka-api` (`com.amazonaws.<region>.kafka` takes no new
/// connections), and using it means calling the dual-stack address, which the SDK's endpoint
/// rules make `kafka.<region>.api.aws`, not its default `kafka.<region>.amazonaws.com`.
#[test]
fn functions_that_look_up_the_brokers_call_the_msk_api_by_its_dual_stack_name() {
    let template = template();
    let endpoint = &template["Resources"]["MskApiEndpoint"]["Properties"];
    assert!(flat_text(&endpoint["ServiceName"]).starts_with("aws.api."));
    assert!(flat_text(&endpoint["ServiceName"]).ends_with(".kafka-api"));
    assert_eq!(endpoint["PrivateDnsEnabled"], true);
    for (id, function) in resources(&template, "AWS::Serverless::Function") {
        let variables = &function["Properties"]["Environment"]["Variables"];
        if variables["MSK_CLUSTER_ARN"].is_null() {
            continue;
        }
        assert_eq!(
            flat_text(&variables["MSK_ENDPOINT"]),
            "https://kafka.${AWS::Region}.api.aws",
            "{id}"
        );
    }
}

/// "AWS::CloudFormation::CustomResource": "custom resources in the VPC must have access to
/// CloudFormation-specific Amazon S3 buckets"; the VPC has no internet route, so a gateway
/// endpoint for S3 on its route table.
#[test]
fn a_custom_resource_inside_the_vpc_can_reach_s3_to_answer() {
    let template = template();
    let creator = &template["Resources"]["CreateTopicFunction"];
    assert!(in_vpc(creator));
    let s3 = &template["Resources"]["S3Endpoint"]["Properties"];
    assert!(flat_text(&s3["ServiceName"]).ends_with(".s3"));
    assert_eq!(s3["VpcEndpointType"], "Gateway");
    assert_eq!(
        target(&s3["RouteTableIds"][0]).as_deref(),
        Some("PrivateRouteTable")
    );
    assert!(
        template["Resources"]["Vpc"]["Properties"]["CidrBlock"].is_string()
            && resources(&template, "AWS::EC2::InternetGateway").is_empty(),
        "no internet route: the endpoints are the only way out"
    );
    // The topic is made after the routes its request and answer take, and its Delete is
    // answered before they go: they are named in its properties, which orders both ways.
    let network = flat_text(&template["Resources"]["EventsTopicResource"]["Properties"]["Network"]);
    for route in [
        "S3Endpoint",
        "MskApiEndpoint",
        "PrivateSubnetARoutes",
        "PrivateSubnetBRoutes",
    ] {
        assert!(
            network.contains(route),
            "the topic does not wait for {route}: {network}"
        );
    }
    // "AWS::CloudFormation::CustomResource": without an answer CloudFormation waits
    // ServiceTimeout, an hour by default.
    for custom in ["EventsTopicResource", "DemoCatalogResource"] {
        let timeout = template["Resources"][custom]["Properties"]["ServiceTimeout"].as_u64();
        assert!(timeout.is_some_and(|t| t <= 600), "{custom}: {timeout:?}");
    }
}

/// "Choose an API key source in API Gateway": usage plans throttle API keys, on methods that
/// require one, "on a best-effort basis" ("Usage plans and API keys for REST APIs in API
/// Gateway"), so they cannot hold a user to a rate. "Rate-based rule high-level settings in AWS
/// WAF": a rule over a 60 s window, aggregated here on the Authorization header (one bearer
/// token), at the product's per-user rate.
#[test]
fn each_caller_is_held_to_the_per_user_rate_by_waf_not_by_a_usage_plan() {
    let template = template();
    let api = &template["Resources"]["RestApi"]["Properties"];
    assert!(
        api["Auth"]["UsagePlan"].is_null(),
        "a usage plan applies to no method"
    );
    let firewall = &template["Resources"]["RestApiFirewall"]["Properties"];
    let rule = &firewall["Rules"][0];
    let rate = &rule["Statement"]["RateBasedStatement"];
    assert_eq!(rate["EvaluationWindowSec"], 60);
    assert_eq!(rate["AggregateKeyType"], "CUSTOM_KEYS");
    assert_eq!(rate["CustomKeys"][0]["Header"]["Name"], "authorization");
    assert_eq!(
        target(&rate["Limit"]).as_deref(),
        Some("UserRequestsPerMinute")
    );
    let per_minute = template["Parameters"]["UserRequestsPerMinute"]["Default"].as_u64();
    let per_user = domain::limits::PER_USER;
    assert_eq!(per_minute, Some(u64::from(per_user.per_second) * 60));
    let block = &rule["Action"]["Block"]["CustomResponse"];
    assert_eq!(block["ResponseCode"], 429);
    let key = block["CustomResponseBodyKey"].as_str().expect("a body key");
    let body: serde_json::Value = serde_json::from_str(
        firewall["CustomResponseBodies"][key]["Content"]
            .as_str()
            .expect("a body"),
    )
    .expect("the body is JSON");
    assert_eq!(
        (body["status"].as_u64(), body["code"].as_str()),
        (Some(429), Some("RATE_LIMITED"))
    );
    let association = &template["Resources"]["RestApiFirewallAssociation"]["Properties"];
    assert_eq!(
        target(&association["WebACLArn"]).as_deref(),
        Some("RestApiFirewall")
    );
    let stage = flat_text(&association["ResourceArn"]);
    assert!(
        stage.contains("/restapis/${RestApi}/stages/${RestApi.Stage}"),
        "{stage}"
    );
}

/// "AWS::Serverless::Api", OpenApiVersion: "Setting this property to any valid value will also
/// remove the stage `Stage` that SAM creates", a stage with none of the throttles or the WAF.
#[test]
fn sam_creates_no_stage_named_stage_beside_the_named_one() {
    let template = template();
    for (id, api) in resources(&template, "AWS::Serverless::Api") {
        assert!(
            api["Properties"]["OpenApiVersion"].is_string(),
            "{id} gets an extra stage named Stage"
        );
    }
}

/// "AWS::ApiGatewayV2::Deployment" (its example depends on the route): a stage deployed before
/// the routes exist serves none of them until the next change.
#[test]
fn the_websocket_stage_is_deployed_after_every_route_and_route_response() {
    let template = template();
    for (id, stage) in resources(&template, "AWS::ApiGatewayV2::Stage") {
        let api = target(&stage["Properties"]["ApiId"]);
        let needed: BTreeSet<String> = [
            "AWS::ApiGatewayV2::Route",
            "AWS::ApiGatewayV2::RouteResponse",
        ]
        .into_iter()
        .flat_map(|kind| resources(&template, kind))
        .filter(|(_, r)| target(&r["Properties"]["ApiId"]) == api)
        .map(|(route, _)| route.to_owned())
        .collect();
        let after = depends_on(stage);
        let missing: Vec<_> = needed.difference(&after).collect();
        assert!(missing.is_empty(), "{id} may deploy before {missing:?}");
    }
}

/// "Gateway response types for API Gateway": each type and its default status. Every type is
/// listed, each with that status, and its problem+json body says the same status; DEFAULT_4XX
/// and DEFAULT_5XX, whose status varies, are pinned. The body has the shape of the functions'
/// own problems (`edge::Problem`).
#[test]
fn every_gateway_response_body_carries_the_status_it_is_sent_with() {
    let documented = [
        ("ACCESS_DENIED", 403),
        ("API_CONFIGURATION_ERROR", 500),
        ("AUTHORIZER_CONFIGURATION_ERROR", 500),
        ("AUTHORIZER_FAILURE", 500),
        ("BAD_REQUEST_BODY", 400),
        ("BAD_REQUEST_PARAMETERS", 400),
        ("DEFAULT_4XX", 400),
        ("DEFAULT_5XX", 500),
        ("EXPIRED_TOKEN", 403),
        ("INTEGRATION_FAILURE", 504),
        ("INTEGRATION_TIMEOUT", 504),
        ("INVALID_API_KEY", 403),
        ("INVALID_SIGNATURE", 403),
        // 403 to API Gateway; an unknown route answers 404 here, as the local gateway does.
        ("MISSING_AUTHENTICATION_TOKEN", 404),
        ("QUOTA_EXCEEDED", 429),
        ("REQUEST_TOO_LARGE", 413),
        ("RESOURCE_NOT_FOUND", 404),
        ("THROTTLED", 429),
        ("UNAUTHORIZED", 401),
        ("UNSUPPORTED_MEDIA_TYPE", 415),
        ("WAF_FILTERED", 403),
    ];
    let template = template();
    let responses = template["Resources"]["RestApi"]["Properties"]["GatewayResponses"]
        .as_mapping()
        .expect("gateway responses");
    let listed: BTreeSet<&str> = responses.keys().filter_map(|k| k.as_str()).collect();
    let expected: BTreeSet<&str> = documented.iter().map(|(kind, _)| *kind).collect();
    assert_eq!(listed, expected);
    for (kind, status) in documented {
        let response = &responses[kind];
        assert_eq!(response["StatusCode"], status, "{kind}");
        let headers = &response["ResponseParameters"]["Headers"];
        assert_eq!(
            headers["Content-Type"], "'application/problem+json'",
            "{kind}"
        );
        let template_text = response["ResponseTemplates"]["application/json"]
            .as_str()
            .expect("a body template");
        // `$context.error.messageString` is "the quoted value of $context.error.message".
        let body: serde_json::Value = serde_json::from_str(
            &template_text.replace("$context.error.messageString", "\"a message\""),
        )
        .unwrap_or_else(|e| panic!("{kind}'s body is not JSON: {e}"));
        assert_eq!(body["status"], status, "{kind}");
        let code = body["code"].as_str().expect("a code");
        let http_status = http::StatusCode::from_u16(status).expect("a status");
        assert_eq!(
            (body["type"].as_str(), body["title"].as_str()),
            (
                Some(format!("/problems/{}", code.to_ascii_lowercase().replace('_', "-")).as_str()),
                http_status.canonical_reason()
            ),
            "{kind}: the shape of edge::Problem"
        );
    }
}

/// "AWS::ApiGateway::Authorizer": the result TTL is one number for every token, at most 3,600 s,
/// so the cache cannot follow each token's `exp`. The authorizer passes on when its token stops
/// verifying, and every function refuses the request after that: `functions/authorizer`'s
/// `a_cached_answer_lets_its_token_in_only_while_the_token_would_still_verify`.
#[test]
fn the_authorizer_cache_ttl_is_one_api_gateway_accepts() {
    let template = template();
    let authorizer =
        &template["Resources"]["RestApi"]["Properties"]["Auth"]["Authorizers"]["JwtAuthorizer"];
    let ttl = authorizer["Identity"]["ReauthorizeEvery"].as_u64();
    assert!(ttl.is_some_and(|ttl| ttl <= 3600), "{ttl:?}");
}

/// "AdminInitiateAuth": "The authentication flow that you specify must be supported in your app
/// client configuration"; the smoke test signs in with ADMIN_USER_PASSWORD_AUTH, and a script
/// with USER_PASSWORD_AUTH. The template creates no hosted UI domain, and the docs promise none.
#[test]
fn the_app_client_lets_a_script_sign_in() {
    let template = template();
    let flows: BTreeSet<&str> =
        template["Resources"]["UserPoolClient"]["Properties"]["ExplicitAuthFlows"]
            .as_sequence()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
    for flow in [
        "ALLOW_ADMIN_USER_PASSWORD_AUTH",
        "ALLOW_USER_PASSWORD_AUTH",
        "ALLOW_REFRESH_TOKEN_AUTH",
    ] {
        assert!(flows.contains(flow), "{flow}");
    }
    assert!(resources(&template, "AWS::Cognito::UserPoolDomain").is_empty());
    let deploying =
        std::fs::read_to_string(repo().join("infra/README.md")).expect("infra/README.md");
    assert!(
        !deploying.to_lowercase().contains("hosted ui"),
        "infra/README.md promises a hosted UI the template does not create"
    );
}

/// A resource's logical id, and the resource, for the target of `value`.
fn resource_of<'t>(template: &'t Value, value: &Value) -> Option<(String, &'t Value)> {
    let id = target(value)?;
    let resource = &template["Resources"][id.as_str()];
    (!resource.is_null()).then_some((id, resource))
}

/// "Configuring CloudWatch log groups" (Lambda): functions may log to a custom group, shared or
/// not, named in `LoggingConfig.LogGroup`; a group keeps its events for its `RetentionInDays`,
/// where Lambda's own /aws/lambda/ groups keep them for ever.
#[test]
fn every_function_logs_to_a_group_with_a_retention() {
    let template = template();
    let global = &template["Globals"]["Function"]["LoggingConfig"];
    for (id, function) in resources(&template, "AWS::Serverless::Function") {
        let own = &function["Properties"]["LoggingConfig"];
        let group = if own["LogGroup"].is_null() {
            &global["LogGroup"]
        } else {
            &own["LogGroup"]
        };
        let (name, group) = resource_of(&template, group)
            .unwrap_or_else(|| panic!("{id} logs to a group of the template"));
        assert_eq!(group["Type"], "AWS::Logs::LogGroup", "{name}");
        assert!(
            !group["Properties"]["RetentionInDays"].is_null(),
            "{name} keeps its events for a time"
        );
    }
}

/// "Variables for access logging for API Gateway": `$context.requestId` (the format must have
/// it or `extendedRequestId`) and `$context.authorizer.<key>`, the Lambda authorizer's context,
/// where ours puts `userId`. Serverless Rules' WS2001 wants the line to be JSON; ES2000 wants
/// a destination, here a group with a retention.
#[test]
fn both_stages_log_each_request_as_json_with_its_request_id_and_its_caller() {
    let template = template();
    let rest = &template["Resources"]["RestApi"]["Properties"]["AccessLogSetting"];
    let websocket = &template["Resources"]["WebSocketStage"]["Properties"]["AccessLogSettings"];
    for (stage, setting) in [("REST", rest), ("WebSocket", websocket)] {
        let format = setting["Format"]
            .as_str()
            .unwrap_or_else(|| panic!("the {stage} stage logs its requests"));
        let line: serde_json::Value = serde_json::from_str(format)
            .unwrap_or_else(|e| panic!("the {stage} access log is JSON: {e}"));
        assert_eq!(line["requestId"], "$context.requestId", "{stage}");
        assert_eq!(line["userId"], "$context.authorizer.userId", "{stage}");
        let (name, group) = resource_of(&template, &setting["DestinationArn"])
            .unwrap_or_else(|| panic!("the {stage} stage logs to a group of the template"));
        assert!(
            !group["Properties"]["RetentionInDays"].is_null(),
            "{name} keeps its events for a time"
        );
    }
    assert!(
        edge::identity::context_keys::USER_ID == "userId",
        "the key the access logs read is the authorizer's"
    );
    // `$context.path` is the path as called, an invite's token in it; `$context.resourcePath`
    // is the route (`/invites/{token}`). Tokens are kept only hashed, so the log keeps the route.
    let rest_format = rest["Format"].as_str().unwrap_or_default();
    assert!(
        rest_format.contains("$context.resourcePath") && !rest_format.contains("$context.path"),
        "the REST access log records the route, never the path with a token in it"
    );
}

/// "Set up CloudWatch logging for REST APIs in API Gateway" (WebSocket APIs use the same
/// setting): API Gateway writes logs with the account's CloudWatch role, one per account and
/// Region (`AWS::ApiGateway::Account`). The stack sets one up unless given the account's, and
/// both stages refer to it so that it exists before they turn logging on.
#[test]
fn the_stages_log_through_the_account_s_api_gateway_role_set_up_before_them() {
    let template = template();
    let account = &template["Resources"]["ApiGatewayAccount"];
    assert_eq!(account["Type"], "AWS::ApiGateway::Account");
    assert_eq!(account["Condition"], "CreateApiGatewayLogRole");
    assert_eq!(
        target(&account["Properties"]["CloudWatchRoleArn"]).as_deref(),
        Some("ApiGatewayLogRole")
    );
    for stage in ["RestApi", "WebSocketStage"] {
        let description = flat_text(&template["Resources"][stage]["Properties"]["Description"]);
        assert!(
            description.contains("${ApiGatewayAccount}"),
            "{stage} waits for the account's role: {description}"
        );
    }
}

/// "Amazon API Gateway active tracing support for AWS X-Ray": X-Ray traces REST APIs only. So
/// every function and the REST stage trace, and the WebSocket stage has nothing to turn on.
#[test]
fn every_function_and_the_rest_stage_trace_with_x_ray() {
    let template = template();
    assert_eq!(template["Globals"]["Function"]["Tracing"], "Active");
    for (id, function) in resources(&template, "AWS::Serverless::Function") {
        let own = &function["Properties"]["Tracing"];
        assert!(own.is_null() || own == "Active", "{id} traces");
    }
    assert_eq!(
        template["Resources"]["RestApi"]["Properties"]["TracingEnabled"],
        true
    );
}

/// The alarms an operator needs ("Available CloudWatch metrics for Amazon SQS": the depth of
/// each dead-letter queue and the age of the outbox's oldest message; "Types of metrics for Lambda
/// functions": `OffsetLag` of each Kafka trigger, and `Errors` and `Throttles`; "Amazon
/// API Gateway dimensions and metrics": REST `5XXError`; "Monitor WebSocket API execution with
/// CloudWatch metrics": `IntegrationError`), each notifying the alarm topic.
#[test]
fn every_dead_letter_queue_the_outbox_each_kafka_trigger_and_both_apis_have_an_alarm() {
    let template = template();
    let alarms = resources(&template, "AWS::CloudWatch::Alarm");
    let watched: BTreeSet<(String, String)> = alarms
        .values()
        .map(|alarm| {
            let properties = &alarm["Properties"];
            let actions = flat_text(&properties["AlarmActions"]);
            assert!(actions.contains("AlarmTopic"), "{actions}");
            let subject = properties["Dimensions"]
                .as_sequence()
                .and_then(|d| d.first())
                .map(|d| target(&d["Value"]).unwrap_or_else(|| flat_text(&d["Value"])))
                .unwrap_or_default();
            (
                properties["MetricName"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                subject,
            )
        })
        .collect();
    let watches = |metric: &str, subject: &str| {
        assert!(
            watched.contains(&(metric.to_owned(), subject.to_owned())),
            "no alarm on {metric} of {subject}: {watched:?}"
        );
    };
    let dead_letter_queues: BTreeSet<String> = resources(&template, "AWS::SQS::Queue")
        .values()
        .filter_map(|q| target(&q["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]))
        .chain(
            resources(&template, "AWS::Serverless::Function")
                .values()
                .flat_map(|f| f["Properties"]["Events"].as_mapping().cloned())
                .flat_map(|events| events.into_iter().map(|(_, e)| e))
                .filter_map(|e| {
                    target(&e["Properties"]["DestinationConfig"]["OnFailure"]["Destination"])
                }),
        )
        .collect();
    assert_eq!(dead_letter_queues.len(), 3, "{dead_letter_queues:?}");
    for queue in &dead_letter_queues {
        watches("ApproximateNumberOfMessagesVisible", queue);
    }
    watches("ApproximateAgeOfOldestMessage", "OutboxQueue");
    for (id, _, _) in functions_with_events(&template, "MSK") {
        watches("OffsetLag", id);
    }
    watches("Errors", "");
    watches("Throttles", "");
    watches("5XXError", "${AWS::StackName}-rest");
    watches("IntegrationError", "WebSocketApi");
    assert_eq!(
        flat_text(&template["Resources"]["RestApi"]["Properties"]["Name"]),
        "${AWS::StackName}-rest",
        "the 5xx alarm names the REST API by its name"
    );
}

/// "Specification: Embedded metric format": the functions' counts reach CloudWatch as metrics in
/// their namespace; the dashboard shows every one of them.
#[test]
fn the_dashboard_shows_every_metric_the_functions_count() {
    let template = template();
    let body = flat_text(&template["Resources"]["Dashboard"]["Properties"]["DashboardBody"]);
    assert!(body.contains(&format!("\"{}\"", edge::metrics::NAMESPACE)));
    for metric in domain::metrics::Metric::ALL {
        assert!(
            body.contains(&format!("\"{}\"", metric.name())),
            "the dashboard misses {}",
            metric.name()
        );
    }
}

/// "Lambda parameters for Amazon SQS event source mappings": a standard queue's batch is 1 to
/// 10,000 messages, a batch over 10 needs `MaximumBatchingWindowInSeconds` of at least 1, and
/// the window is at most 300 s. "Configuring an Amazon SQS queue to trigger an AWS Lambda
/// function": the queue's visibility timeout is at least six times the function's timeout, or
/// a message still being handled is handed to another instance. The presence trigger's window
/// is `presence_push::WINDOW`, the debounce the code and the local stack assume.
#[test]
fn every_sqs_trigger_batches_within_lambda_s_bounds_and_its_queue_outlasts_the_function() {
    let template = template();
    let global_timeout = template["Globals"]["Function"]["Timeout"]
        .as_u64()
        .expect("a global timeout");
    let mut presence_window = None;
    for (id, function, events) in functions_with_events(&template, "SQS") {
        let timeout = function["Properties"]["Timeout"]
            .as_u64()
            .unwrap_or(global_timeout);
        for event in events {
            let properties = &event["Properties"];
            let batch = properties["BatchSize"].as_u64().unwrap_or(10);
            let window = properties["MaximumBatchingWindowInSeconds"]
                .as_u64()
                .unwrap_or(0);
            assert!((1..=10_000).contains(&batch), "{id}: batch {batch}");
            assert!(window <= 300, "{id}: window {window}");
            assert!(
                batch <= 10 || window >= 1,
                "{id}: a batch of {batch} needs a window of at least 1 s"
            );
            let queue = target(&properties["Queue"]).expect("a queue of the template");
            let visibility =
                template["Resources"][queue.as_str()]["Properties"]["VisibilityTimeout"]
                    .as_u64()
                    .unwrap_or(30);
            assert!(
                visibility >= 6 * timeout,
                "{queue}: visibility {visibility} s under six times {id}'s {timeout} s"
            );
            // A failed batch comes back after the visibility timeout: only if the queue still
            // keeps it then.
            let retention =
                template["Resources"][queue.as_str()]["Properties"]["MessageRetentionPeriod"]
                    .as_u64()
                    .unwrap_or(345_600);
            assert!(
                visibility < retention,
                "{queue}: a failed batch would expire ({retention} s) before it is retried ({visibility} s)"
            );
            if queue == "PresenceQueue" {
                presence_window = Some(window);
            }
        }
    }
    assert_eq!(
        presence_window,
        Some(presence_push::WINDOW.as_secs()),
        "the presence trigger gathers notices over presence_push::WINDOW"
    );
}

/// "AWS::SQS::Queue": `MessageRetentionPeriod` is 60 to 1,209,600 seconds.
#[test]
fn every_queue_keeps_messages_within_sqs_s_retention_bounds() {
    let template = template();
    for (id, queue) in resources(&template, "AWS::SQS::Queue") {
        if let Some(retention) = queue["Properties"]["MessageRetentionPeriod"].as_u64() {
            assert!(
                (60..=1_209_600).contains(&retention),
                "{id}: retention {retention} s"
            );
        }
    }
}

/// "Take advantage of sparse indexes" (DynamoDB): the connections table's `byCart` index is
/// keyed on `viewing`, which only a viewing connection has, so it holds only viewers. Every
/// function that reads or changes presence may do so, and knows where to announce it.
#[test]
fn the_functions_that_keep_presence_may_use_the_sparse_index_and_the_presence_queue() {
    let template = template();
    let table = &template["Resources"]["ConnectionsTable"]["Properties"];
    let by_cart = table["GlobalSecondaryIndexes"]
        .as_sequence()
        .into_iter()
        .flatten()
        .find(|index| index["IndexName"] == dynamo::tables::CONNECTIONS_BY_CART)
        .expect("the byCart index");
    assert_eq!(by_cart["KeySchema"][0]["AttributeName"], "viewing");
    assert_eq!(by_cart["Projection"]["ProjectionType"], "ALL");
    let function = |package: &str| function_of_package(&template, package);
    let index = "${ConnectionsTable.Arn}/index/byCart";
    for reader in ["ws-message", "presence-push"] {
        assert!(
            allowed(&template, function(reader), "dynamodb:Query", index),
            "{reader} reads the viewers"
        );
    }
    for writer in ["ws-message", "sync-push"] {
        assert!(
            allowed(
                &template,
                function(writer),
                "dynamodb:UpdateItem",
                "ConnectionsTable"
            ),
            "{writer} records what a connection views"
        );
    }
    for announcer in ["ws-message", "ws-disconnect", "sync-push"] {
        let function = function(announcer);
        assert!(
            allowed(&template, function, "sqs:SendMessage", "PresenceQueue"),
            "{announcer} announces presence changes"
        );
        assert_eq!(
            target(&function["Properties"]["Environment"]["Variables"]["PRESENCE_QUEUE_URL"])
                .as_deref(),
            Some("PresenceQueue"),
            "{announcer} knows the queue"
        );
    }
}

/// "Quotas for configuring and running a WebSocket in API Gateway": a connection lasts two
/// hours at most and ten minutes without a message from its client; a frame is at most 32 KB
/// and a message 128 KB (none adjustable). The registry forgets a connection when API Gateway
/// will have closed it, the local `/ws` closes at the same limits, and no server message the
/// product sends is bigger than a message may be.
#[test]
fn a_connection_lives_and_speaks_within_api_gateway_s_websocket_quotas() {
    use domain::connection::{IDLE_TIMEOUT_SECS, MAX_CONNECTION_SECS};
    assert_eq!(
        (IDLE_TIMEOUT_SECS, MAX_CONNECTION_SECS),
        (10 * 60, 2 * 3600)
    );
    let local = local::WebSocketQuotas::default();
    assert_eq!(
        (local.idle_timeout.as_secs(), local.max_duration.as_secs()),
        (600, 7200)
    );
    assert_eq!(
        (
            local::WebSocketQuotas::MAX_FRAME_BYTES,
            local::WebSocketQuotas::MAX_MESSAGE_BYTES
        ),
        (32 * 1024, 128 * 1024)
    );
    assert_eq!(
        realtime::MAX_MESSAGE_BYTES,
        local::WebSocketQuotas::MAX_MESSAGE_BYTES,
        "the server sends messages as big as API Gateway lets it, and no bigger"
    );

    // A connection whose client keeps speaking is kept until the two hours are up, never past.
    let now = chrono::Utc::now();
    let user = domain::UserId::parse("dana").expect("a user id");
    let id = domain::ConnectionId::parse("L0SM9cOFvHcCIhw=").expect("a connection id");
    let opened = domain::Connection::opened(id, user, now);
    assert_eq!((opened.expires_at - now).num_seconds(), IDLE_TIMEOUT_SECS);
    let near_the_end = now + chrono::Duration::seconds(MAX_CONNECTION_SECS - 60);
    assert_eq!(
        opened.open_until(near_the_end),
        now + chrono::Duration::seconds(MAX_CONNECTION_SECS)
    );
}

/// The per-user cap at `$connect` ("Quotas for configuring and running a WebSocket in API
/// Gateway" sets none, per user or in total): ws-connect counts the user's connections on the
/// `byUser` index before it registers one, which needs `dynamodb:Query` on the index's own ARN
/// ("Actions, resources, and condition keys for Amazon DynamoDB": Query acts on the table or
/// index resource it reads), and reads the cap from the template's parameter, whose default
/// is the product's.
#[test]
fn ws_connect_may_count_a_user_s_connections_and_reads_the_template_s_cap() {
    let template = template();
    let function = function_of_package(&template, "ws-connect");
    assert!(
        allowed(
            &template,
            function,
            "dynamodb:Query",
            "${ConnectionsTable.Arn}/index/byUser"
        ),
        "ws-connect counts a user's connections"
    );
    assert!(allowed(
        &template,
        function,
        "dynamodb:PutItem",
        "ConnectionsTable"
    ));
    assert_eq!(
        target(&function["Properties"]["Environment"]["Variables"]["MAX_CONNECTIONS_PER_USER"])
            .as_deref(),
        Some("ConnectionsPerUser")
    );
    let parameter = &template["Parameters"]["ConnectionsPerUser"];
    assert_eq!(
        parameter["Default"].as_u64(),
        Some(domain::limits::CONNECTIONS_PER_USER as u64)
    );
    assert_eq!(
        (
            parameter["MinValue"].as_u64(),
            parameter["MaxValue"].as_u64()
        ),
        (Some(1), Some(1000)),
        "the range ws-connect accepts at cold start"
    );
}

/// "Take advantage of sparse indexes" (DynamoDB): the directory's `byEmail` and `byUserName`
/// indexes hold only profiles that have the attribute. Whoever keeps profiles may read and put
/// them, and whoever shares by email or user name may query both indexes, and nothing more.
#[test]
fn the_directory_is_kept_at_sign_in_and_read_by_the_share() {
    let template = template();
    let table = &template["Resources"]["ProfilesTable"]["Properties"];
    for (index, attribute) in [
        (dynamo::tables::PROFILES_BY_EMAIL, "email"),
        (dynamo::tables::PROFILES_BY_USER_NAME, "userName"),
    ] {
        let found = table["GlobalSecondaryIndexes"]
            .as_sequence()
            .into_iter()
            .flatten()
            .find(|i| i["IndexName"] == index)
            .unwrap_or_else(|| panic!("the {index} index"));
        assert_eq!(found["KeySchema"][0]["AttributeName"], attribute);
    }
    let function = |package: &str| function_of_package(&template, package);
    let keeper = function("get-user-details");
    for action in ["dynamodb:GetItem", "dynamodb:PutItem"] {
        assert!(
            allowed(&template, keeper, action, "ProfilesTable"),
            "{action}"
        );
    }
    let sharer = function("share-cart");
    for index in ["index/byEmail", "index/byUserName"] {
        assert!(
            allowed(&template, sharer, "dynamodb:Query", index),
            "{index}"
        );
    }
    assert!(!allowed(
        &template,
        sharer,
        "dynamodb:PutItem",
        "ProfilesTable"
    ));
    for reader in [keeper, sharer] {
        assert_eq!(
            target(&reader["Properties"]["Environment"]["Variables"]["PROFILES_TABLE"]).as_deref(),
            Some("ProfilesTable")
        );
    }
}

/// "Identity and access management in Amazon SES": `ses:SendEmail` is authorized on identities,
/// and the sender is held by the `ses:FromAddress` condition; "AWS::SES::EmailIdentity": the
/// sender is an identity the stack makes, only when an address is given. "Using IAM with
/// DynamoDB transactions": a notice and its hour's count are one transaction of a put and an
/// update.
#[test]
fn notify_mails_only_from_the_stack_s_sender_and_records_each_notice_with_its_count() {
    let template = template();
    let notify = function_of_package(&template, "notify");
    let statements = notify["Properties"]["Policies"]
        .as_sequence()
        .into_iter()
        .flatten()
        .flat_map(|p| p["Statement"].as_sequence().into_iter().flatten())
        .filter(|s| flat_text(&s["Action"]).contains("ses:"))
        .collect::<Vec<_>>();
    assert_eq!(statements.len(), 1, "one statement allows SES");
    let mail = statements[0];
    assert_eq!(flat_text(&mail["Action"]), "ses:SendEmail");
    assert!(flat_text(&mail["Resource"]).contains(":identity/"));
    assert_eq!(
        target(&mail["Condition"]["StringEquals"]["ses:FromAddress"]).as_deref(),
        Some("MailFrom"),
        "only from the stack's sender"
    );
    let identity = &template["Resources"]["MailFromIdentity"];
    assert_eq!(identity["Type"], "AWS::SES::EmailIdentity");
    assert_eq!(identity["Condition"], "SendMails");
    assert_eq!(
        target(&identity["Properties"]["EmailIdentity"]).as_deref(),
        Some("MailFrom")
    );
    let variables = &notify["Properties"]["Environment"]["Variables"];
    assert_eq!(target(&variables["MAIL_FROM"]).as_deref(), Some("MailFrom"));
    for action in [
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:GetItem",
    ] {
        assert!(
            allowed(&template, notify, action, "NotificationsTable"),
            "{action}"
        );
    }
    assert!(allowed(&template, notify, "dynamodb:Query", "index/byUser"));
    let table = &template["Resources"]["NotificationsTable"]["Properties"];
    assert_eq!(
        table["TimeToLiveSpecification"]["AttributeName"],
        "expiresAt"
    );
    for (package, actions) in [
        (
            "list-notifications",
            &["dynamodb:GetItem", "dynamodb:Query"][..],
        ),
        ("set-notification-settings", &["dynamodb:PutItem"][..]),
    ] {
        let function = function_of_package(&template, package);
        for action in actions {
            assert!(
                allowed(&template, function, action, "NotificationsTable"),
                "{package}: {action}"
            );
        }
    }
}

/// "Globals section of the AWS SAM template": a function inherits the `Globals` environment
/// variables and adds its own, and sees nothing else. The deployed build has no embedded fallback (`wiring`'s
/// `local-adapters` feature is off), so a function that asks `wiring` for an adapter whose
/// setting the template does not give it stops at every cold start. Each call its sources make
/// is held to the settings that adapter needs (any one of a `|` list).
#[test]
fn every_function_is_given_the_settings_of_each_adapter_it_builds() {
    const EVENTS: &str = "MSK_CLUSTER_ARN|KAFKA_BROKERS|OUTBOX_QUEUE_URL";
    const CARTS: &str = "CASSANDRA_CONTACT_POINTS|CARTS_TABLE";
    const CATALOG: &str = "CASSANDRA_CONTACT_POINTS";
    let needs: [(&str, &[&str]); 12] = [
        ("wiring::cart_service(", &[EVENTS, CARTS, CATALOG]),
        ("wiring::cart_reader(", &[CARTS, CATALOG]),
        ("wiring::item_service(", &[CARTS, CATALOG]),
        ("wiring::catalog(", &[CATALOG]),
        ("wiring::stock_ledger(", &[CATALOG]),
        ("wiring::relay(", &[EVENTS, CARTS]),
        ("wiring::event_publisher(", &[EVENTS]),
        ("wiring::connection_registry(", &["CONNECTIONS_TABLE"]),
        ("wiring::idempotency_store(", &["IDEMPOTENCY_TABLE"]),
        ("wiring::directory(", &["PROFILES_TABLE"]),
        ("wiring::notification_store(", &["NOTIFICATIONS_TABLE"]),
        ("wiring::analytics_store(", &["ANALYTICS_TABLE"]),
    ];
    let template = template();
    let globals = &template["Globals"]["Function"]["Environment"]["Variables"];
    let functions = resources(&template, "AWS::Serverless::Function");
    let mut missing = Vec::new();
    for (id, package) in function_packages(&template) {
        let own = &functions[id]["Properties"]["Environment"]["Variables"];
        let given = |name: &str| !own[name].is_null() || !globals[name].is_null();
        let sources = std::fs::read_dir(repo().join("functions").join(&package).join("src"))
            .expect("the function's sources")
            .map(|entry| std::fs::read_to_string(entry.expect("a source").path()).expect("text"))
            .collect::<String>();
        for (call, settings) in needs {
            if !sources.contains(call) {
                continue;
            }
            for setting in settings {
                if !setting.split('|').any(given) {
                    missing.push(format!("{id} calls {call}) without {setting}"));
                }
            }
        }
    }
    assert!(missing.is_empty(), "{missing:#?}");
}
