//! For tests of custom resource functions: an [`Answer`] that keeps what it was sent.

use crate::{Answer, ResourceResponse};
use async_trait::async_trait;
use domain::ports::BoxError;
use std::sync::Mutex;

/// Every answer sent, with the URL it was sent to.
#[derive(Default)]
pub struct Answers(Mutex<Vec<(String, ResourceResponse)>>);

impl Answers {
    /// What was sent so far.
    pub fn sent(&self) -> Vec<(String, ResourceResponse)> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

#[async_trait]
impl Answer for Answers {
    async fn put(&self, url: &str, response: &ResourceResponse) -> Result<(), BoxError> {
        let mut sent = self.0.lock().unwrap_or_else(|p| p.into_inner());
        sent.push((url.to_owned(), response.clone()));
        Ok(())
    }
}
