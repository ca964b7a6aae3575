//! Who may use the console: [`Access`] (a token, or the application's own auth layer), the
//! session cookie a login sets, and the CSRF token every POST carries.

use std::{fmt, sync::Arc};

use axum::{
    body::{to_bytes, Body},
    extract::{Request, State},
    http::{header, HeaderMap, HeaderValue, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use chrono::Utc;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::{console::Shared, pages};

/// The session cookie's name.
pub(crate) const SESSION_COOKIE: &str = "qa_console_session";
/// How long a session lasts after its login.
const SESSION_SECONDS: i64 = 12 * 3_600;
/// The largest form a POST may carry.
const MAX_FORM: usize = 64 * 1024;

/// How the console decides who may use it; [`Console::new`](crate::Console::new) requires
/// one, so a console cannot be built without deciding.
///
/// - [`Access::token`]: a secret token, sent as `Authorization: Bearer <token>` or
///   exchanged once at `login?token=<token>` for a session cookie (`HttpOnly`,
///   `SameSite=Strict`), as Jupyter's printed URL does.
/// - [`Access::behind_own_auth`]: the application already authenticates these routes with
///   a layer of its own (and may say who the user is with an [`Operator`] extension).
///
/// ```
/// use quickassist_webhooks_console::Access;
///
/// let by_token = Access::token("a long random secret");
/// let by_the_app = Access::behind_own_auth();
/// # let _ = (by_token, by_the_app);
/// ```
#[derive(Clone)]
pub struct Access(Kind);

#[derive(Clone)]
enum Kind {
    Token(Arc<[u8]>),
    BehindOwnAuth,
}

impl Access {
    /// Only those who present `token` (a bearer header, or a login that sets a session
    /// cookie). Use a long random token; it is compared in constant time. An empty token
    /// lets nobody in.
    ///
    /// ```
    /// let access = quickassist_webhooks_console::Access::token("s3cr3t-token-from-a-vault");
    /// # let _ = access;
    /// ```
    #[must_use]
    pub fn token(token: impl Into<String>) -> Self {
        Self(Kind::Token(token.into().into_bytes().into()))
    }

    /// No authentication by the console: the routes are mounted behind the application's
    /// own auth layer, which lets only operators through. Such a layer may insert an
    /// [`Operator`] into the request's extensions to name who acts (in the log) and to
    /// grant seeing phone numbers.
    ///
    /// ```
    /// let access = quickassist_webhooks_console::Access::behind_own_auth();
    /// # let _ = access;
    /// ```
    #[must_use]
    pub fn behind_own_auth() -> Self {
        Self(Kind::BehindOwnAuth)
    }

    /// Whether `presented` is the token. An empty token matches nothing: a console built
    /// with one (an unset variable, say) lets nobody in rather than everybody.
    fn token_matches(&self, presented: &[u8]) -> bool {
        match &self.0 {
            Kind::Token(token) => !token.is_empty() && bool::from(token.as_ref().ct_eq(presented)),
            Kind::BehindOwnAuth => false,
        }
    }
}

impl fmt::Debug for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Kind::Token(_) => f.write_str("Access::token(<redacted>)"),
            Kind::BehindOwnAuth => f.write_str("Access::behind_own_auth()"),
        }
    }
}

/// Who is using the console, as the application's own auth layer says (with
/// [`Access::behind_own_auth`]): insert it into the request's extensions. The console
/// writes the name in the log of every action, and shows phone numbers only to an operator
/// allowed to see them (or to everyone when the console is built with
/// [`Console::show_phone_numbers`](crate::Console::show_phone_numbers)).
///
/// ```
/// use quickassist_webhooks_console::Operator;
///
/// let alice = Operator::new("alice@example.com").show_phone_numbers(true);
/// assert_eq!(alice.name(), "alice@example.com");
/// ```
#[derive(Clone, Debug)]
pub struct Operator {
    name: String,
    show_phone_numbers: bool,
}

impl Operator {
    /// An operator by this name, who sees phone numbers masked.
    #[must_use]
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            show_phone_numbers: false,
        }
    }

    /// Whether this operator may see recipients' phone numbers unmasked.
    #[must_use]
    pub fn show_phone_numbers(mut self, allowed: bool) -> Self {
        self.show_phone_numbers = allowed;
        self
    }

    /// The operator's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// The request's viewer, once access was checked: what handlers trust. Only [`guard`]
/// makes one.
#[derive(Clone, Debug)]
pub(crate) struct Viewer {
    /// Who, for the log.
    pub(crate) who: String,
    /// The CSRF token of the viewer's session, for the forms.
    pub(crate) csrf: String,
    pub(crate) show_phone_numbers: bool,
}

/// The session keys of one console: random per process, so a restart logs everyone out.
pub(crate) struct Keys {
    key: [u8; 32],
}

impl Keys {
    pub(crate) fn random() -> Self {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).expect("the operating system's random number generator works");
        Self { key }
    }

    fn mac(&self, purpose: &str, message: &str) -> String {
        let mut mac =
            <Hmac<Sha256> as KeyInit>::new_from_slice(&self.key).expect("HMAC takes any key size");
        mac.update(purpose.as_bytes());
        mac.update(b"\0");
        mac.update(message.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// A new session cookie value: `<nonce>.<expiry>.<mac>`.
    fn new_session(&self) -> (String, String) {
        let mut nonce = [0u8; 16];
        getrandom::fill(&mut nonce).expect("the operating system's random number generator works");
        let nonce = hex::encode(nonce);
        let expires = Utc::now().timestamp() + SESSION_SECONDS;
        let body = format!("{nonce}.{expires}");
        let value = format!("{body}.{}", self.mac("session", &body));
        (nonce, value)
    }

    /// The session's nonce when `value` is a session this console issued and it has not
    /// expired.
    fn session_nonce<'a>(&self, value: &'a str) -> Option<&'a str> {
        let (body, mac) = value.rsplit_once('.')?;
        let expected = self.mac("session", body);
        if !bool::from(expected.as_bytes().ct_eq(mac.as_bytes())) {
            return None;
        }
        let (nonce, expires) = body.split_once('.')?;
        (expires.parse::<i64>().ok()? > Utc::now().timestamp()).then_some(nonce)
    }

    fn csrf(&self, nonce: &str) -> String {
        self.mac("csrf", nonce)
    }
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
}

fn bearer(headers: &HeaderMap) -> Option<&[u8]> {
    headers
        .get(header::AUTHORIZATION)?
        .as_bytes()
        .strip_prefix(b"Bearer ")
}

/// `Set-Cookie` for a session, scoped to the console's mount path.
fn session_cookie(value: &str, base: &str) -> HeaderValue {
    let path = if base.is_empty() { "/" } else { base };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={value}; Path={path}; HttpOnly; SameSite=Strict; Max-Age={SESSION_SECONDS}"
    ))
    .expect("a session cookie is ASCII without control characters")
}

/// The mount path of the console (`/admin/webhooks` when nested there, `` at the root),
/// from the request's original path and the path the console's router sees.
pub(crate) fn base_of(original: Option<&str>, inner: &str) -> String {
    let original = original.unwrap_or(inner);
    let base = original.strip_suffix(inner).unwrap_or(original);
    base.trim_end_matches('/').to_owned()
}

fn base_of_request(request: &Request) -> String {
    let original = request.extensions().get::<axum::extract::OriginalUri>();
    base_of(original.map(|uri| uri.0.path()), request.uri().path())
}

/// Logs in with the token: sets the session cookie and redirects to the overview.
pub(crate) fn login(shared: &Shared, presented: &str, base: &str) -> Response {
    if !shared.access.token_matches(presented.as_bytes()) {
        tracing::debug!(reason = "wrong_token", "console login refused");
        return unauthorized(base, true);
    }
    let (_, value) = shared.keys.new_session();
    tracing::info!("console login");
    let mut response = crate::actions::see_other(pages::home(base));
    response
        .headers_mut()
        .insert(header::SET_COOKIE, session_cookie(&value, base));
    response
}

/// Checks access on every route but the login page and the stylesheet, and the CSRF token
/// on every POST; hands handlers a [`Viewer`].
pub(crate) async fn guard(
    State(shared): State<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    let base = base_of_request(&request);
    let headers = request.headers();
    let session = cookie(headers, SESSION_COOKIE);
    let nonce = session
        .as_deref()
        .and_then(|value| shared.keys.session_nonce(value))
        .map(str::to_owned);
    let mut new_cookie = None;
    let (who, nonce) = match (&shared.access.0, nonce) {
        (Kind::Token(_), Some(nonce)) => (format!("session {}", &nonce[..8]), Some(nonce)),
        (Kind::Token(_), None) => {
            if bearer(headers).is_some_and(|token| shared.access.token_matches(token)) {
                ("bearer token".to_owned(), None)
            } else {
                tracing::debug!(reason = "no_session", "console request refused");
                return unauthorized(&base, false);
            }
        }
        (Kind::BehindOwnAuth, nonce) => {
            let operator = request.extensions().get::<Operator>();
            let who = operator.map_or_else(|| "operator (own auth)".to_owned(), |o| o.name.clone());
            // The session only binds the CSRF token to this browser.
            let nonce = nonce.unwrap_or_else(|| {
                let (nonce, value) = shared.keys.new_session();
                new_cookie = Some(value);
                nonce
            });
            (who, Some(nonce))
        }
    };
    let show_phone_numbers = shared.show_phone_numbers
        || request
            .extensions()
            .get::<Operator>()
            .is_some_and(|operator| operator.show_phone_numbers);
    // A bearer request has no session and so no CSRF token: a browser cannot send the
    // header by itself, so forms are not forgeable with it.
    let csrf = nonce.as_deref().map(|nonce| shared.keys.csrf(nonce));
    let viewer = Viewer {
        who,
        csrf: csrf.clone().unwrap_or_default(),
        show_phone_numbers,
    };
    let mut request = request;
    if request.method() == Method::POST {
        if shared.read_only {
            return pages::error(&base, StatusCode::FORBIDDEN, "The console is read-only.");
        }
        let (parts, body) = request.into_parts();
        let Ok(bytes) = to_bytes(body, MAX_FORM).await else {
            return pages::error(
                &base,
                StatusCode::PAYLOAD_TOO_LARGE,
                "The form is too large.",
            );
        };
        if let Some(expected) = &csrf {
            let presented = form_field(&bytes, "csrf").unwrap_or_default();
            if !bool::from(expected.as_bytes().ct_eq(presented.as_bytes())) {
                tracing::debug!(reason = "csrf", operator = %viewer.who, "console POST refused");
                return pages::error(
                    &base,
                    StatusCode::FORBIDDEN,
                    "This form has expired or did not come from the console: reload the page and try again.",
                );
            }
        }
        request = Request::from_parts(parts, Body::from(bytes));
    }
    request.extensions_mut().insert(viewer);
    let mut response = next.run(request).await;
    if let Some(value) = new_cookie {
        response
            .headers_mut()
            .append(header::SET_COOKIE, session_cookie(&value, &base));
    }
    response
}

/// One field of an `application/x-www-form-urlencoded` body.
fn form_field(body: &[u8], name: &str) -> Option<String> {
    let fields: Vec<(String, String)> = form_pairs(body)?;
    fields
        .into_iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value)
}

fn form_pairs(body: &[u8]) -> Option<Vec<(String, String)>> {
    let text = std::str::from_utf8(body).ok()?;
    text.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            Some((decode(key)?, decode(value)?))
        })
        .collect()
}

/// Percent-decoding with `+` as a space.
fn decode(text: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(text.len());
    let mut input = text.bytes();
    while let Some(byte) = input.next() {
        match byte {
            b'+' => bytes.push(b' '),
            b'%' => {
                let high = char::from(input.next()?).to_digit(16)?;
                let low = char::from(input.next()?).to_digit(16)?;
                bytes.push(u8::try_from(high * 16 + low).ok()?);
            }
            _ => bytes.push(byte),
        }
    }
    String::from_utf8(bytes).ok()
}

/// `401` with the login page (no data) and the scheme that would have been accepted.
fn unauthorized(base: &str, refused: bool) -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"inbox console\""),
        )],
        pages::login(base, refused),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_is_valid_only_as_issued() {
        let keys = Keys::random();
        let (nonce, value) = keys.new_session();
        assert_eq!(keys.session_nonce(&value), Some(nonce.as_str()));
        let forged = value.replacen(&nonce[..1], if &nonce[..1] == "a" { "b" } else { "a" }, 1);
        assert_eq!(keys.session_nonce(&forged), None);
        assert_eq!(Keys::random().session_nonce(&value), None);
    }

    #[test]
    fn form_fields_are_percent_decoded() {
        assert_eq!(
            form_field(b"a=1&csrf=x%2By+z", "csrf").as_deref(),
            Some("x+y z")
        );
        assert_eq!(form_field(b"a=1", "csrf"), None);
    }

    #[test]
    fn tokens_compare_whole() {
        let access = Access::token("secret");
        assert!(access.token_matches(b"secret"));
        assert!(!access.token_matches(b"secre"));
        assert!(!Access::behind_own_auth().token_matches(b""));
        assert!(
            !Access::token("").token_matches(b""),
            "an empty token lets nobody in"
        );
    }
}
