//! [`Console`]: the builder, and the router it makes.

use std::sync::Arc;

use axum::{
    http::{header, HeaderValue},
    middleware,
    response::IntoResponse,
    routing::{get, post},
    Router,
};
use quickassist_webhooks_postgres::{Inbox, PostgresStatusTracker};

use crate::{
    access::{self, Access, Keys},
    actions,
    data::ActivityCache,
    headers, pages,
};

/// What the handlers share.
pub(crate) struct Shared {
    pub(crate) inbox: Inbox,
    pub(crate) tracker: Option<PostgresStatusTracker>,
    pub(crate) access: Access,
    pub(crate) read_only: bool,
    pub(crate) show_phone_numbers: bool,
    pub(crate) keys: Keys,
    pub(crate) activity: ActivityCache,
}

/// The inbox's web console: pages over a PostgreSQL [`Inbox`] (an overview with charts,
/// the deliveries with filters, a delivery, a message's timeline) and its actions (retry,
/// replay, bulk retry, purge), as an axum [`Router`] to nest anywhere.
///
/// Access is a required argument ([`Access`]): a token, or the application's own auth.
///
/// ```no_run
/// use quickassist_webhooks_console::{Access, Console};
/// use quickassist_webhooks_postgres::Inbox;
///
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let inbox = Inbox::connect(&std::env::var("DATABASE_URL")?).await?;
/// let console = Console::new(inbox, Access::token(std::env::var("CONSOLE_TOKEN")?)).read_only(true);
/// let app = axum::Router::new().nest("/admin/webhooks", console.router());
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
/// axum::serve(listener, app).await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[must_use]
pub struct Console {
    inbox: Inbox,
    tracker: Option<PostgresStatusTracker>,
    access: Access,
    read_only: bool,
    show_phone_numbers: bool,
}

impl Console {
    /// A console over `inbox` (its pool serves the console's queries), with `access`
    /// deciding who may use it. Actions are enabled, phone numbers masked.
    ///
    /// ```no_run
    /// # fn demo(inbox: quickassist_webhooks_postgres::Inbox) {
    /// use quickassist_webhooks_console::{Access, Console};
    /// let console = Console::new(inbox, Access::behind_own_auth());
    /// # let _ = console; }
    /// ```
    pub fn new(inbox: Inbox, access: Access) -> Self {
        Self {
            inbox,
            tracker: None,
            access,
            read_only: false,
            show_phone_numbers: false,
        }
    }

    /// Applies the inbox's migrations and the console's own (its messageId function, and
    /// its indexes by account, event and messageId, built with `CREATE INDEX CONCURRENTLY`
    /// so that a populated inbox's intake goes on meanwhile). Call it once at start, as
    /// `qa-webhooks console` does: without it, the console's filters by messageId fail and
    /// those by account and event read the whole table. The indexes are the console's
    /// alone, so an inbox without a console does not pay for them at every insert and every
    /// processed mark. Safe to run from every process at once.
    ///
    /// # Errors
    ///
    /// The inbox's [`Error`](quickassist_webhooks_postgres::Error) when a migration fails
    /// or the database cannot be reached.
    ///
    /// ```no_run
    /// # async fn demo(inbox: quickassist_webhooks_postgres::Inbox) -> Result<(), quickassist_webhooks_postgres::Error> {
    /// use quickassist_webhooks_console::{Access, Console};
    /// let console = Console::new(inbox, Access::behind_own_auth());
    /// console.migrate().await?;
    /// # Ok(()) }
    /// ```
    pub async fn migrate(&self) -> Result<(), quickassist_webhooks_postgres::Error> {
        self.inbox.migrate().await?;
        self.inbox
            .apply_migrations(sqlx::migrate!("./migrations"))
            .await
    }

    /// Read-only mode: no action forms, and every POST answers 403.
    ///
    /// ```no_run
    /// # fn demo(console: quickassist_webhooks_console::Console) {
    /// let console = console.read_only(true);
    /// # let _ = console; }
    /// ```
    pub fn read_only(mut self, read_only: bool) -> Self {
        self.read_only = read_only;
        self
    }

    /// Shows recipients' phone numbers unmasked to everyone with access (by default they
    /// are masked, `+1•••••7890`, except for an [`Operator`](crate::Operator) allowed to
    /// see them).
    ///
    /// ```no_run
    /// # fn demo(console: quickassist_webhooks_console::Console) {
    /// let console = console.show_phone_numbers(true);
    /// # let _ = console; }
    /// ```
    pub fn show_phone_numbers(mut self, allowed: bool) -> Self {
        self.show_phone_numbers = allowed;
        self
    }

    /// The status tracker whose merged state a message's page shows.
    ///
    /// ```no_run
    /// # fn demo(console: quickassist_webhooks_console::Console, inbox: quickassist_webhooks_postgres::Inbox) {
    /// use quickassist_webhooks_postgres::PostgresStatusTracker;
    /// let console = console.tracker(PostgresStatusTracker::new(inbox.pool().clone()));
    /// # let _ = console; }
    /// ```
    pub fn tracker(mut self, tracker: PostgresStatusTracker) -> Self {
        self.tracker = Some(tracker);
        self
    }

    /// The console's routes, relative to where they are nested; every response carries the
    /// security headers (a strict `Content-Security-Policy`, `X-Frame-Options: DENY`,
    /// `Cache-Control: no-store`, …).
    ///
    /// ```no_run
    /// # fn demo(console: quickassist_webhooks_console::Console) {
    /// let app: axum::Router = axum::Router::new().nest("/admin/webhooks", console.router());
    /// # let _ = app; }
    /// ```
    pub fn router(self) -> Router {
        let shared = Arc::new(Shared {
            inbox: self.inbox,
            tracker: self.tracker,
            access: self.access,
            read_only: self.read_only,
            show_phone_numbers: self.show_phone_numbers,
            keys: Keys::random(),
            activity: ActivityCache::default(),
        });
        let guarded = Router::new()
            .route("/", get(pages::overview::page))
            .route("/deliveries", get(pages::deliveries::page))
            .route("/delivery", get(pages::delivery::page))
            .route("/message", get(pages::message::page))
            .route(
                "/bulk-retry",
                get(actions::confirm_bulk_retry).post(actions::bulk_retry),
            )
            .route("/retry", post(actions::retry))
            .route("/replay", post(actions::replay))
            .route("/purge", post(actions::purge))
            .route_layer(middleware::from_fn_with_state(
                shared.clone(),
                access::guard,
            ));
        Router::new()
            .route("/login", get(actions::login_page).post(actions::login_form))
            .route("/console.css", get(stylesheet))
            .merge(guarded)
            .fallback(pages::not_found)
            .layer(middleware::map_response(headers::secure))
            .with_state(shared)
    }
}

/// The one stylesheet (the CSP allows styles from the console only, none inline).
async fn stylesheet() -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/css; charset=utf-8"),
        )],
        include_str!("console.css"),
    )
}
