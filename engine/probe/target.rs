//! How a probe names its target in messages: the URL with any password taken
//! out, so an error names the server it could not reach without showing the
//! credential (the run's `Redactor` masks declared secrets too; this also
//! covers a password written into the playbook as plain text).

/// `scheme://user:password@host/path` → `scheme://user@host/path`.
pub fn without_password(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else { return url.to_owned() };
    let rest = &url[scheme_end..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let Some(at) = authority.rfind('@') else { return url.to_owned() };
    let user = authority[..at].split(':').next().unwrap_or("");
    let at_sign = if user.is_empty() { "" } else { "@" };
    format!("{}{user}{at_sign}{}", &url[..scheme_end], &rest[at + 1..])
}

/// The password in a URL, if it has one (to mask it wherever a driver echoes it).
pub fn password_of(url: &str) -> Option<&str> {
    let rest = &url[url.find("://")? + 3..];
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let userinfo = &authority[..authority.rfind('@')?];
    userinfo.split_once(':').map(|(_, password)| password).filter(|p| !p.is_empty())
}

/// `message` on one line, with `url`'s password masked wherever it appears.
pub fn clean_message(message: &str, url: &str) -> String {
    let mut line = message.split_whitespace().collect::<Vec<_>>().join(" ");
    // A very short password would mask ordinary words; the run's redactor still covers declared secrets.
    if let Some(password) = password_of(url).filter(|p| p.len() >= 4) {
        line = line.replace(password, crate::secrets::MASK);
    }
    line
}

/// "Connection refused" → "connection refused", as runbook's messages read (server messages stay as sent).
pub fn lower_first(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|c| c.to_lowercase().chain(chars).collect()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_the_password_out_and_keeps_the_rest() {
        assert_eq!(without_password("postgres://u:p%40ss@127.0.0.1:5432/db"), "postgres://u@127.0.0.1:5432/db");
        assert_eq!(without_password("redis://:pw@127.0.0.1:6379/0"), "redis://127.0.0.1:6379/0");
        assert_eq!(without_password("mysql://root@127.0.0.1/test"), "mysql://root@127.0.0.1/test");
        assert_eq!(without_password("sqlite:data.db"), "sqlite:data.db");
        assert_eq!(password_of("postgres://u:a@b@h/db"), Some("a@b"));
        assert_eq!(password_of("postgres://u@h/db"), None);
        assert_eq!(clean_message("bad\n password pw12 for\tu", "postgres://u:pw12@h/db"), "bad password •••••• for u");
    }
}
