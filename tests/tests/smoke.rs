//! `infra/smoke.sh` works as written, in both its forms, so it cannot rot before the first real
//! deploy: against the local stack with `/dev/token` tokens, and in its AWS form with moto
//! standing in for CloudFormation (the stack's outputs) and Cognito (the users, the admin
//! sign-in, the ID tokens and their key set), the local stack checking those tokens against the
//! pool's keys as the authorizer does on AWS.

use std::process::Output;
use tests::{service_setting, spawn_stack, spawn_stack_with};

fn script() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../infra/smoke.sh")
}

/// The AWS CLI from `infra/tools.sh`, pointed at moto.
fn aws(moto: &str) -> tokio::process::Command {
    let mut command =
        tokio::process::Command::new(format!("{}/aws", service_setting("AWS_CLI_DIR")));
    command
        .env("AWS_ENDPOINT_URL", moto)
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test");
    command
}

async fn aws_json(moto: &str, args: &[&str]) -> serde_json::Value {
    let output = aws(moto)
        .args(args)
        .args(["--output", "json"])
        .output()
        .await
        .expect("the AWS CLI runs");
    assert!(output.status.success(), "aws {args:?}: {}", text(&output));
    serde_json::from_slice(&output.stdout).expect("JSON")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn assert_passed(output: &Output) {
    let said = text(output);
    assert!(output.status.success(), "the smoke test failed:\n{said}");
    assert!(said.contains("smoke passed: 11 checks"), "{said}");
    assert!(said.contains("hears bob's add"), "{said}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_smoke_script_passes_against_the_local_stack() {
    let stack = spawn_stack().await;
    let output = tokio::process::Command::new("bash")
        .arg(script())
        .args(["--local", &format!("http://{}", stack.addr())])
        .env("SMOKE_BIN", env!("CARGO_BIN_EXE_smoke"))
        .output()
        .await
        .expect("bash runs");
    assert_passed(&output);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_smoke_script_s_aws_form_passes_with_moto_as_cloudformation_and_cognito() {
    let moto = service_setting("DYNAMODB_ENDPOINT");
    let run = uuid::Uuid::new_v4().simple().to_string();
    let pool = aws_json(
        &moto,
        &[
            "cognito-idp",
            "create-user-pool",
            "--pool-name",
            &format!("smoke-{run}"),
            "--username-attributes",
            "email",
        ],
    )
    .await["UserPool"]["Id"]
        .as_str()
        .expect("a pool id")
        .to_owned();
    let client = aws_json(
        &moto,
        &[
            "cognito-idp",
            "create-user-pool-client",
            "--user-pool-id",
            &pool,
            "--client-name",
            "shared-carts-web",
            "--explicit-auth-flows",
            "ALLOW_ADMIN_USER_PASSWORD_AUTH",
            "ALLOW_REFRESH_TOKEN_AUTH",
        ],
    )
    .await["UserPoolClient"]["ClientId"]
        .as_str()
        .expect("a client id")
        .to_owned();

    // The stack checks the pool's ID tokens against its key set, as the authorizer does.
    let issuer = token::Issuer {
        jwks_url: format!("{moto}/{pool}/.well-known/jwks.json"),
        issuer: format!("https://cognito-idp.us-east-1.amazonaws.com/{pool}"),
        audience: client.clone(),
    };
    let stack = spawn_stack_with(|config| config.issuer = Some(issuer)).await;

    // A CloudFormation stack whose outputs are the deployed stack's, pointing at the local one.
    let api = format!("http://{}", stack.addr());
    let template = serde_json::json!({
        "Resources": {"Marker": {"Type": "AWS::SQS::Queue"}},
        "Outputs": {
            "RestApiUrl": {"Value": api},
            "WebSocketUrl": {"Value": format!("ws://{}/ws", stack.addr())},
            "UserPoolId": {"Value": pool},
            "UserPoolClientId": {"Value": client},
        }
    });
    let name = format!("smoke-{run}");
    aws_json(
        &moto,
        &[
            "cloudformation",
            "create-stack",
            "--stack-name",
            &name,
            "--template-body",
            &template.to_string(),
        ],
    )
    .await;

    let path = format!(
        "{}:{}",
        service_setting("AWS_CLI_DIR"),
        std::env::var("PATH").unwrap_or_default()
    );
    let output = tokio::process::Command::new("bash")
        .arg(script())
        .arg(&name)
        .env("SMOKE_BIN", env!("CARGO_BIN_EXE_smoke"))
        .env("PATH", path)
        .env("AWS_ENDPOINT_URL", &moto)
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .output()
        .await
        .expect("bash runs");
    assert_passed(&output);

    let left = aws_json(
        &moto,
        &["cognito-idp", "list-users", "--user-pool-id", &pool],
    )
    .await;
    assert_eq!(
        left["Users"].as_array().map(Vec::len),
        Some(0),
        "the script deletes the users it made"
    );
}
