//! The PostgreSQL inbox mounted without a handler in axum (`post_service(IntakeService)`) and
//! actix-web (`intake_route`), over real HTTP: the same scenarios for both.

use quickassist_e2e::{
    inbox::{self, accounts_inbox_receiver, inbox_receiver, ACCOUNTS_ROUTE},
    servers::{start_actix_intake_at, start_axum_intake_at},
    Target, PATH,
};
use quickassist_webhooks::receive::IntakeReceiver;

macro_rules! inbox_tests {
    ($framework:ident, $start_at:path) => {
        mod $framework {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn delivery_is_stored_once_and_acknowledged() {
                let (_server, inbox, receiver) = inbox_receiver().await;
                let target = $start_at(PATH, receiver).await;
                inbox::delivery_is_stored_once_and_acknowledged(&target, &inbox).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn simultaneous_copies_store_one_row() {
                let (_server, inbox, receiver) = inbox_receiver().await;
                let target = $start_at(PATH, receiver).await;
                inbox::simultaneous_copies_store_one_row(&target, &inbox).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn database_outage_gets_503_and_the_retry_is_stored() {
                let (server, inbox, receiver) = inbox_receiver().await;
                let target = $start_at(PATH, receiver).await;
                inbox::database_outage_gets_503_and_the_retry_is_stored(&target, &inbox, server)
                    .await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn each_account_gets_its_own_row() {
                let (_server, inbox, receiver) = accounts_inbox_receiver().await;
                let target = $start_at(ACCOUNTS_ROUTE, receiver).await;
                inbox::each_account_gets_its_own_row(&target, &inbox).await;
            }
        }
    };
}

async fn actix_at(route: &str, intake: IntakeReceiver) -> Target {
    start_actix_intake_at(route, intake)
}

inbox_tests!(axum, start_axum_intake_at);
inbox_tests!(actix_web, super::actix_at);
