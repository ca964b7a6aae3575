//! The baseline of `bench/lambda.sh`: a Lambda function on the same runtime (`lambda_http`)
//! that answers every invocation 200 without looking at it, so that the runtime's own cost
//! per invocation (polling the runtime API, reading the event, posting the answer) can be
//! told apart from the receiver's.
//!
//! ```sh
//! bench/lambda.sh   # runs it beside lambda_receiver
//! ```

use quickassist_webhooks_tower::lambda::{self, lambda_http::service_fn, Body, Error, Request};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    lambda::run(service_fn(|_request: Request| async {
        Ok::<_, Error>(lambda::lambda_http::Response::new(Body::Empty))
    }))
    .await
}
