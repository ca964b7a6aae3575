//! Showing a database URL without its password.

/// `url` with its password, if any, replaced by `***`: what `Debug` impls and errors show.
///
/// ```
/// use quickassist_webhooks_postgres::redact_url;
///
/// assert_eq!(
///     redact_url("postgres://app:s3cret@db:5432/shop"),
///     "postgres://app:***@db:5432/shop"
/// );
/// assert_eq!(redact_url("postgres://db/shop"), "postgres://db/shop");
/// ```
#[must_use]
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        // Not a URL (a key=value string, say): it may hold a password anywhere.
        return "***".to_owned();
    };
    // The authority ends at the first '/', '?' or '#'; its userinfo at its last '@'.
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let mut shown = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:***@{host}"),
            None => format!("{scheme}://{userinfo}@{host}"),
        },
        None => format!("{scheme}://{authority}"),
    };
    // A password may also come as a query parameter.
    match tail.split_once('?') {
        Some((path, query)) => {
            let query: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((name, _)) if name.eq_ignore_ascii_case("password") => {
                        format!("{name}=***")
                    }
                    _ => pair.to_owned(),
                })
                .collect();
            shown.push_str(path);
            shown.push('?');
            shown.push_str(&query.join("&"));
        }
        None => shown.push_str(tail),
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_are_hidden_wherever_they_are() {
        assert_eq!(
            redact_url("postgres://u:p%40ss@h:1/d?sslmode=disable&password=x"),
            "postgres://u:***@h:1/d?sslmode=disable&password=***"
        );
        assert_eq!(redact_url("postgres://u@h/d"), "postgres://u@h/d");
        assert_eq!(redact_url("host=h password=x"), "***");
        assert_eq!(redact_url("postgres://u:a@b@h/d"), "postgres://u:***@h/d");
    }
}
