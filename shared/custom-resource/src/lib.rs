//! CloudFormation custom resources, for the functions the template calls while it deploys
//! (`create-topic`, `seed-catalog`): the request such a function receives, the answer it owes,
//! and [`respond`], which does the work within a deadline and always sends the answer.
//!
//! CloudFormation waits for the answer at the request's presigned S3 URL, up to an hour, and
//! fails the stack operation without one ("CloudFormation custom resource request and response
//! reference"). So every request gets an answer, `FAILED` with the reason when the work failed
//! or ran out of time, and the work is bounded well inside the function's timeout.

mod answer;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use answer::{Answer, HttpsAnswer};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::future::Future;
use std::time::Duration;

/// How long the work may take before the answer says it failed: the template gives these
/// functions 60 s, and the answer itself needs a few.
pub const WORK_DEADLINE: Duration = Duration::from_secs(45);

/// The longest reason sent: CloudFormation refuses a response body over 4 KB.
pub const MAX_REASON_BYTES: usize = 2048;

/// What CloudFormation asks for.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
pub enum RequestType {
    /// The resource is new.
    Create,
    /// Its properties changed.
    Update,
    /// It is going.
    Delete,
}

/// A custom resource request, as CloudFormation sends it.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ResourceRequest {
    /// Create, Update or Delete.
    pub request_type: RequestType,
    /// Where the answer goes (a presigned S3 URL).
    #[serde(rename = "ResponseURL")]
    pub response_url: String,
    /// The stack.
    pub stack_id: String,
    /// This request.
    pub request_id: String,
    /// The resource's name in the template.
    pub logical_resource_id: String,
    /// The id the last answer gave (Update, Delete).
    #[serde(default)]
    pub physical_resource_id: Option<String>,
    /// The resource's properties (CloudFormation sends numbers as strings).
    #[serde(default)]
    pub resource_properties: Value,
}

impl ResourceRequest {
    /// The physical id the resource has, or its logical id before it has one.
    pub fn current_id(&self) -> String {
        self.physical_resource_id
            .clone()
            .unwrap_or_else(|| self.logical_resource_id.clone())
    }
}

/// The answer CloudFormation reads from the response URL.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ResourceResponse {
    /// `SUCCESS` or `FAILED`.
    pub status: &'static str,
    /// Why, when it failed (CloudFormation shows it in the stack's events).
    pub reason: String,
    /// The resource's id.
    pub physical_resource_id: String,
    /// Echoed from the request.
    pub stack_id: String,
    /// Echoed from the request.
    pub request_id: String,
    /// Echoed from the request.
    pub logical_resource_id: String,
    /// Values the template may read with `!GetAtt`.
    pub data: Value,
}

/// What the work made: the resource's physical id and its data.
pub type Done = (String, Value);

/// Runs `work` for `request` within [`WORK_DEADLINE`] and sends the answer through `answer`:
/// `SUCCESS` with the id and data the work returned, or `FAILED` with its reason. Returns the
/// answer sent.
pub async fn respond(
    request: &ResourceRequest,
    answer: &dyn Answer,
    work: impl Future<Output = Result<Done, String>>,
) -> ResourceResponse {
    let outcome = tokio::time::timeout(WORK_DEADLINE, work)
        .await
        .unwrap_or_else(|_| Err(format!("the work did not finish within {WORK_DEADLINE:?}")));
    let (status, reason, physical_resource_id, data) = match outcome {
        Ok((id, data)) => ("SUCCESS", String::new(), id, data),
        Err(reason) => {
            tracing::error!(%reason, request = ?request.request_type, "the custom resource failed");
            ("FAILED", bounded(reason), request.current_id(), json!({}))
        }
    };
    let response = ResourceResponse {
        status,
        reason,
        physical_resource_id,
        stack_id: request.stack_id.clone(),
        request_id: request.request_id.clone(),
        logical_resource_id: request.logical_resource_id.clone(),
        data,
    };
    if let Err(e) = answer.put(&request.response_url, &response).await {
        // Nothing more can be done: CloudFormation times the request out.
        tracing::error!(error = %e, "could not send the answer to CloudFormation");
    }
    response
}

/// `reason`, cut to [`MAX_REASON_BYTES`] at a character boundary.
fn bounded(mut reason: String) -> String {
    if reason.len() > MAX_REASON_BYTES {
        let mut end = MAX_REASON_BYTES;
        while !reason.is_char_boundary(end) {
            end -= 1;
        }
        reason.truncate(end);
        reason.push_str(" ...");
    }
    reason
}

/// Runs a custom resource function under the Lambda runtime: each invocation is read as a
/// request and handed to `handle`, which answers CloudFormation. An invocation that is not a
/// request has no URL to answer at; it is logged, and CloudFormation times it out.
pub async fn run<H, F>(handle: H) -> Result<(), lambda_runtime::Error>
where
    H: Fn(ResourceRequest) -> F,
    F: Future<Output = ResourceResponse>,
{
    lambda_runtime::run(lambda_runtime::service_fn(
        |event: lambda_runtime::LambdaEvent<Value>| {
            let request = serde_json::from_value::<ResourceRequest>(event.payload);
            let handled = request.map(&handle);
            async move {
                match handled {
                    Ok(answering) => {
                        answering.await;
                    }
                    Err(e) => tracing::error!(error = %e, "not a custom resource request"),
                }
                Ok::<_, std::convert::Infallible>(())
            }
        },
    ))
    .await
}

/// An error and its causes, one line, for an answer's reason.
pub fn reason(error: &(dyn std::error::Error + 'static)) -> String {
    let mut reason = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        reason.push_str(": ");
        reason.push_str(&cause.to_string());
        source = cause.source();
    }
    reason
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::Answers;

    fn request() -> ResourceRequest {
        serde_json::from_value(json!({
            "RequestType": "Create", "ResponseURL": "https://s3.example/answer",
            "StackId": "stack", "RequestId": "r-1", "LogicalResourceId": "Thing",
            "ResourceProperties": {"Size": "3"}
        }))
        .unwrap_or_else(|e| panic!("{e}"))
    }

    #[tokio::test]
    async fn success_and_failure_are_both_answered_at_the_response_url() {
        let answers = Answers::default();
        let ok = respond(&request(), &answers, async {
            Ok(("thing-1".into(), json!({"A": "1"})))
        })
        .await;
        assert_eq!(
            (ok.status, ok.physical_resource_id.as_str()),
            ("SUCCESS", "thing-1")
        );
        let failed = respond(&request(), &answers, async { Err("no luck".to_owned()) }).await;
        assert_eq!(
            (failed.status, failed.reason.as_str()),
            ("FAILED", "no luck")
        );
        assert_eq!(
            failed.physical_resource_id, "Thing",
            "no physical id yet: the logical one"
        );
        let sent = answers.sent();
        assert_eq!(sent.len(), 2);
        assert!(
            sent.iter()
                .all(|(url, _)| url == "https://s3.example/answer")
        );
    }

    #[tokio::test(start_paused = true)]
    async fn work_that_runs_past_the_deadline_is_answered_as_failed() {
        let late = respond(&request(), &Answers::default(), async {
            tokio::time::sleep(WORK_DEADLINE * 2).await;
            Ok(("never".into(), json!({})))
        })
        .await;
        assert_eq!(late.status, "FAILED");
        assert!(late.reason.contains("did not finish"), "{}", late.reason);
    }

    #[tokio::test]
    async fn a_long_reason_is_cut_to_fit_cloudformation_s_limit() {
        let long = "é".repeat(4000);
        let failed = respond(&request(), &Answers::default(), async move { Err(long) }).await;
        assert!(
            failed.reason.len() <= MAX_REASON_BYTES + 4,
            "{}",
            failed.reason.len()
        );
        let body = serde_json::to_vec(&failed).unwrap_or_default();
        assert!(body.len() < 4096, "{} bytes", body.len());
    }
}
