//! What can go wrong preparing or sending a request, each saying what to do.

use std::path::PathBuf;

/// Why a request could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    /// The request has no URL.
    #[error("the request has no URL; set its url field (for example --set url=https://example.com)")]
    NoUrl,
    /// A body or form part names a file that cannot be read.
    #[error("cannot read the file {path} for the body ({error}); check the path (relative paths are from {base})")]
    File {
        /// The file.
        path: PathBuf,
        /// The directory relative paths start from.
        base: PathBuf,
        /// Why it could not be read.
        error: String,
    },
    /// A GraphQL body's variables are not JSON.
    #[error("the GraphQL variables are not valid JSON ({0}); fix them or leave them empty")]
    GraphqlVariables(String),
    /// A body mode Postman does not have.
    #[error("unknown body mode '{0}'; use raw, urlencoded, formdata, file or graphql")]
    BodyMode(String),
}

/// Why a request could not be sent or its answer not received.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The URL cannot be sent to.
    #[error("'{url}' is not a URL apisync can send to ({detail}); check the URL and its variables")]
    InvalidUrl {
        /// The URL.
        url: String,
        /// Why.
        detail: String,
    },
    /// A header name or value is not valid HTTP.
    #[error("the header '{name}' cannot be sent ({detail}); fix its name or value")]
    InvalidHeader {
        /// The header's name.
        name: String,
        /// Why.
        detail: String,
    },
    /// Nothing listens at the address.
    #[error("cannot connect to {url}: the connection was refused; is the server running and listening on that host and port?")]
    ConnectionRefused {
        /// The URL.
        url: String,
    },
    /// The host name does not resolve.
    #[error("cannot find the host of {url} ({detail}); check the host name in the URL, or your network and DNS")]
    Dns {
        /// The URL.
        url: String,
        /// What the resolver said.
        detail: String,
    },
    /// The server's certificate is not trusted.
    #[error(
        "the TLS certificate of {url} is not trusted ({detail}); if you trust this server, turn TLS verification off for this request (--insecure, or protocolProfileBehavior.strictSSL=false)"
    )]
    Tls {
        /// The URL.
        url: String,
        /// What the TLS layer said.
        detail: String,
    },
    /// The request timeout passed.
    #[error("no complete answer from {url} within the request timeout of {ms} ms; raise it (--timeout MS) or check the server")]
    Timeout {
        /// The URL.
        url: String,
        /// The limit.
        ms: u128,
    },
    /// More redirects than allowed.
    #[error("{url} redirected more than {max} times; raise protocolProfileBehavior.maxRedirects or turn redirects off")]
    TooManyRedirects {
        /// The URL.
        url: String,
        /// The limit.
        max: usize,
    },
    /// The body is larger than what is held in memory.
    #[error(
        "the response body from {url} is larger than {limit} bytes, the most apisync holds in memory; ask the server for less (a range, a page) or download it with another tool"
    )]
    BodyTooLarge {
        /// The URL.
        url: String,
        /// The limit.
        limit: usize,
    },
    /// Any other failure of the exchange.
    #[error("sending to {url} failed: {detail}")]
    Other {
        /// The URL.
        url: String,
        /// What failed.
        detail: String,
    },
}

/// Why the cookie jar could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum CookieError {
    /// Reading or writing its file failed.
    #[error(
        "cannot use the cookie jar {path}: {detail}; check the profile directory's permissions, or `apisync cookies clear` to start afresh"
    )]
    Io {
        /// The file.
        path: PathBuf,
        /// What failed.
        detail: String,
    },
}
