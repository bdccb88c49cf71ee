//! The HTTP API's OpenAPI 3.1 document, served at `GET /openapi.json`.
//!
//! Every shape in it is the JSON Schema derived from the `protocol` and
//! `model` types (their `openapi` feature), so a field added there is in the
//! document with nothing to edit here. What is written here is the table of
//! [`routes`]: method, path, who may call it, its body, its answer and the
//! error statuses peculiar to it. The statuses a route gives because of what
//! it takes (a body, an id in the path, a token, storage) are added from
//! that. `tests/openapi.rs` holds the table to the router, both ways.

use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use protocol::*;
use std::sync::OnceLock;
use utoipa::openapi::link::LinkBuilder;
use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItem};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, HeaderBuilder, InfoBuilder, OpenApi, OpenApiBuilder, PathsBuilder, Ref, RefOr, Required,
    ResponseBuilder, Schema, Tag,
};
use utoipa::{IntoParams, ToSchema};

/// `GET /openapi.json`: the document, built on first use.
pub async fn serve() -> axum::response::Response {
    static JSON: OnceLock<String> = OnceLock::new();
    let json = JSON.get_or_init(|| serde_json::to_string(&document_json()).unwrap_or_default());
    ([(CONTENT_TYPE, "application/json")], json.as_str()).into_response()
}

/// The document as JSON, its link objects' fields spelled as OpenAPI spells
/// them (utoipa 5 writes `operation_id`, which no tool reads).
pub fn document_json() -> serde_json::Value {
    let mut doc = serde_json::to_value(document()).unwrap_or_default();
    let operations = doc.get_mut("paths").and_then(|p| p.as_object_mut()).into_iter().flat_map(|p| p.values_mut());
    let responses = operations.filter_map(|item| item.as_object_mut()).flat_map(|item| item.values_mut());
    let responses = responses.filter_map(|op| op.get_mut("responses")?.as_object_mut()).flat_map(|r| r.values_mut());
    for links in responses.filter_map(|r| r.get_mut("links")?.as_object_mut()) {
        for link in links.values_mut().filter_map(|l| l.as_object_mut()) {
            for (wrong, right) in [("operation_id", "operationId"), ("operation_ref", "operationRef"), ("request_body", "requestBody")] {
                if let Some(v) = link.remove(wrong) {
                    link.insert(right.into(), v);
                }
            }
        }
    }
    doc
}

/// Who may call a route.
#[derive(Clone, Copy, PartialEq)]
enum Auth {
    /// Anybody.
    Public,
    /// A session's bearer token.
    Bearer,
    /// A bearer token, or `?token=` for browsers' WebSockets.
    BearerOrQuery,
}

/// One route as the document describes it.
struct Route {
    method: HttpMethod,
    path: &'static str,
    id: &'static str,
    tag: &'static str,
    summary: &'static str,
    auth: Auth,
    /// Whether the answer can depend on storage (so 500 and 503 happen).
    storage: bool,
    body: Option<RefOr<Schema>>,
    query: Vec<utoipa::openapi::path::Parameter>,
    ok: (u16, &'static str, Option<RefOr<Schema>>),
    errors: &'static [u16],
    /// Operations (by id) whose parameters the answer supplies, and how.
    links: Vec<(&'static str, &'static [(&'static str, &'static str)])>,
}

fn route(method: HttpMethod, path: &'static str, id: &'static str, tag: &'static str, summary: &'static str) -> Route {
    Route {
        method,
        path,
        id,
        tag,
        summary,
        auth: Auth::Bearer,
        storage: true,
        body: None,
        query: Vec::new(),
        ok: (204, "Done.", None),
        errors: &[],
        links: Vec::new(),
    }
}

impl Route {
    fn public(mut self) -> Route {
        self.auth = Auth::Public;
        self
    }
    fn body(mut self, schema: RefOr<Schema>) -> Route {
        self.body = Some(schema);
        self
    }
    fn answers(mut self, status: u16, description: &'static str, schema: RefOr<Schema>) -> Route {
        self.ok = (status, description, Some(schema));
        self
    }
    fn static_answer(mut self) -> Route {
        self.storage = false;
        self
    }
    /// The answer gives `operation` its parameters: (name, runtime expression).
    fn link(mut self, operation: &'static str, parameters: &'static [(&'static str, &'static str)]) -> Route {
        self.links.push((operation, parameters));
        self
    }
    fn refuses(mut self, statuses: &'static [u16]) -> Route {
        self.errors = statuses;
        self
    }
}

/// The component schemas the routes refer to, gathered as they are named.
#[derive(Default)]
struct Shapes(Vec<(String, RefOr<Schema>)>);

impl Shapes {
    /// A reference to `T`'s schema, which (with every schema it uses) joins the components.
    fn of<T: ToSchema>(&mut self) -> RefOr<Schema> {
        self.0.push((T::name().into_owned(), T::schema()));
        T::schemas(&mut self.0);
        Ref::from_schema_name(T::name()).into()
    }
}

const FIRST_WORKSPACE: &[(&str, &str)] = &[("id", "$response.body#/workspaces/0/id")];
const FIRST_TEAM: &[(&str, &str)] = &[("id", "$response.body#/teams/0/id")];
const THE_TEAM: &[(&str, &str)] = &[("id", "$response.body#/id")];

/// Every route of the API. Keep it in step with `api()` in lib.rs.
fn routes(s: &mut Shapes) -> Vec<Route> {
    use HttpMethod::{Delete, Get, Post};
    let any_object = RefOr::T(Schema::Object(ObjectBuilder::new().schema_type(Type::Object).build()));
    vec![
        route(Get, "/healthz", "health", "server", "The server runs and its storage answers").public().answers(
            200,
            "Serving.",
            s.of::<Health>(),
        ),
        route(Get, "/readyz", "ready", "server", "The server's database answers and is writable").public().answers(
            200,
            "Ready.",
            s.of::<Health>(),
        ),
        route(Get, "/openapi.json", "openapi", "server", "This document")
            .public()
            .answers(200, "The OpenAPI 3.1 document of this API.", any_object)
            .static_answer(),
        route(Post, "/v1/auth/signup", "signup", "auth", "Create an account and sign this device in")
            .public()
            .body(s.of::<SignupRequest>())
            .answers(200, "The new session.", s.of::<Session>())
            .refuses(&[403, 409, 429]),
        route(Post, "/v1/auth/login", "login", "auth", "Sign this device in")
            .public()
            .body(s.of::<LoginRequest>())
            .answers(200, "The new session.", s.of::<Session>())
            .refuses(&[401, 409, 429]),
        route(Post, "/v1/auth/logout", "logout", "auth", "Sign this device out"),
        route(Post, "/v1/auth/password/forgot", "forgot_password", "auth", "Mail a password-reset token")
            .public()
            .body(s.of::<ForgotPassword>())
            .answers(202, "The same answer whether or not the account exists.", s.of::<Accepted>())
            .refuses(&[429]),
        route(Post, "/v1/auth/password/reset", "reset_password", "auth", "Set a new password with a mailed token")
            .public()
            .body(s.of::<ResetPassword>()),
        route(Post, "/v1/auth/username/recover", "recover_username", "auth", "Mail the username of an email")
            .public()
            .body(s.of::<RecoverUsername>())
            .answers(202, "The same answer whether or not the account exists.", s.of::<Accepted>())
            .refuses(&[429]),
        route(Post, "/v1/account/password", "change_password", "account", "Change the password; other devices sign in again")
            .body(s.of::<ChangePassword>())
            .refuses(&[429]),
        route(Delete, "/v1/account", "delete_account", "account", "Delete the account and all its data").refuses(&[409]),
        route(Get, "/v1/me", "me", "account", "The account and this device").answers(200, "Who is asking.", s.of::<Me>()),
        route(Get, "/v1/devices", "devices", "account", "The account's signed-in devices")
            .answers(200, "The devices.", s.of::<Devices>())
            .link("sign_out_device", &[("id", "$response.body#/devices/0/id")]),
        route(Delete, "/v1/devices/{id}", "sign_out_device", "account", "Sign a device of the account out").refuses(&[404]),
        route(Get, "/v1/workspaces", "workspaces", "workspaces", "The workspaces the caller is in")
            .answers(200, "The workspaces, each with its head sequence number.", s.of::<Workspaces>())
            .link("push", FIRST_WORKSPACE)
            .link("changes", FIRST_WORKSPACE)
            .link("fetch", FIRST_WORKSPACE)
            .link("share", FIRST_WORKSPACE)
            .link("shares", FIRST_WORKSPACE)
            .link("delete_workspace", FIRST_WORKSPACE),
        route(Delete, "/v1/workspaces/{id}", "delete_workspace", "workspaces", "Delete a workspace (its owner)").refuses(&[403, 404]),
        route(Post, "/v1/workspaces/{id}/push", "push", "sync", "Apply a batch of mutations in one transaction")
            .body(s.of::<PushRequest>())
            .answers(200, "What became of each mutation.", s.of::<PushResponse>())
            .refuses(&[403, 404]),
        Route {
            query: ChangesQuery::into_params(|| Some(ParameterIn::Query)),
            ..route(Get, "/v1/workspaces/{id}/changes", "changes", "sync", "Documents changed after a sequence number, a page")
                .answers(200, "A page of documents in version order.", s.of::<Changes>())
                .refuses(&[404, 410])
        },
        route(Post, "/v1/workspaces/{id}/docs", "fetch", "sync", "The current state of documents by id")
            .body(s.of::<DocsRequest>())
            .answers(200, "The documents found.", s.of::<DocsAnswer>())
            .refuses(&[404]),
        route(Post, "/v1/workspaces/{id}/share", "share", "teams", "Share a workspace with a team (its owner, an admin of the team)")
            .body(s.of::<Share>())
            .answers(200, "The workspace.", s.of::<WorkspaceInfo>())
            .refuses(&[403, 404]),
        route(Get, "/v1/workspaces/{id}/shares", "shares", "teams", "The teams a workspace is shared with (its owner)")
            .answers(200, "The shares.", s.of::<Shares>())
            .link("unshare", &[("id", "$request.path.id"), ("team", "$response.body#/shares/0/team_id")])
            .refuses(&[403, 404]),
        route(Delete, "/v1/workspaces/{id}/shares/{team}", "unshare", "teams", "Stop sharing a workspace with a team").refuses(&[403, 404]),
        route(Get, "/v1/teams", "teams", "teams", "The caller's teams")
            .answers(200, "The teams.", s.of::<Teams>())
            .link("members", FIRST_TEAM)
            .link("set_role", FIRST_TEAM)
            .link("invite", FIRST_TEAM)
            .link("leave", FIRST_TEAM),
        route(Post, "/v1/teams", "create_team", "teams", "Create a team; the caller is its first admin")
            .body(s.of::<CreateTeam>())
            .answers(200, "The team.", s.of::<TeamInfo>())
            .link("members", THE_TEAM)
            .link("set_role", THE_TEAM)
            .link("invite", THE_TEAM)
            .link("leave", THE_TEAM),
        route(Get, "/v1/teams/{id}/members", "members", "teams", "A team's members (and, to admins, its invitations)")
            .answers(200, "The members.", s.of::<TeamMembers>())
            .link("remove_member", &[("id", "$request.path.id"), ("user", "$response.body#/members/0/user/id")])
            .link("cancel_invitation", &[("id", "$request.path.id"), ("invitation", "$response.body#/invitations/0/id")])
            .refuses(&[404]),
        route(Post, "/v1/teams/{id}/members", "set_role", "teams", "Change a member's role (admins)")
            .body(s.of::<Invite>())
            .answers(200, "The members afterwards.", s.of::<TeamMembers>())
            .refuses(&[403, 404]),
        route(Delete, "/v1/teams/{id}/members/{user}", "remove_member", "teams", "Take someone out of a team (admins; anyone themselves)")
            .refuses(&[403, 404]),
        route(Post, "/v1/teams/{id}/invitations", "invite", "teams", "Invite a person by username or email (admins)")
            .body(s.of::<Invite>())
            .answers(202, "The same answer whether or not the account exists.", s.of::<Accepted>())
            .refuses(&[403, 404]),
        route(Delete, "/v1/teams/{id}/invitations/{invitation}", "cancel_invitation", "teams", "Withdraw an invitation (admins)")
            .refuses(&[403, 404]),
        route(Get, "/v1/invitations", "invitations", "teams", "The invitations waiting for the caller")
            .answers(200, "The invitations.", s.of::<Invitations>())
            .link("accept", &[("id", "$response.body#/invitations/0/id")])
            .link("decline", &[("id", "$response.body#/invitations/0/id")]),
        route(Post, "/v1/invitations/{id}/accept", "accept", "teams", "Join the team of an invitation")
            .answers(200, "The team joined.", s.of::<TeamInfo>())
            .refuses(&[404]),
        route(Post, "/v1/invitations/{id}/decline", "decline", "teams", "Decline an invitation").refuses(&[404]),
        route(Post, "/v1/teams/{id}/leave", "leave", "teams", "Leave a team").refuses(&[404]),
        Route {
            auth: Auth::BearerOrQuery,
            ok: (
                101,
                "Switched to a WebSocket: the server sends JSON text frames, each a `LiveMessage` \
                 (#/components/schemas/LiveMessage), starting with `hello`; the device only answers pings.",
                None,
            ),
            // 400: not a WebSocket handshake.
            errors: &[400],
            ..route(Get, "/v1/live", "live", "sync", "The live channel (a WebSocket)")
        },
    ]
}

/// What each error status means, for every route that gives it.
const ERRORS: [(u16, &str, &str); 10] = [
    (
        400,
        "BadRequest",
        "Malformed: a body not of the expected shape (`invalid_json`), or a value, id or query parameter refused \
         (`bad_request`, or `invalid_token` for a password reset). The message says what was wrong.",
    ),
    (
        401,
        "Unauthorized",
        "No valid session (`unauthorized`, `session_expired`, `session_revoked`, `account_deleted`) or wrong credentials (`invalid_credentials`).",
    ),
    (403, "Forbidden", "Allowed to see it but not to do this (`forbidden`)."),
    (404, "NotFound", "No such thing, or not yours to see (`not_found`)."),
    (
        409,
        "Conflict",
        "Conflicts with what the server holds: `email_taken`, `username_taken`, `device_limit` (its `details` list the \
         devices holding the slots), `team_member`, `conflict`.",
    ),
    (
        410,
        "Gone",
        "The deletions after `after` are no longer kept (`restore_required`): pull the workspace again from `after=0`, \
         then `restoring=true` on the pages after the first.",
    ),
    (413, "PayloadTooLarge", "The body, or the batch in it, is larger than the server takes (`payload_too_large`)."),
    (429, "RateLimited", "Too many attempts (`rate_limited`); `Retry-After` and `details.retry_after_secs` say when to try again."),
    (500, "Internal", "A bug on the server (`internal`); nothing was changed and the server log has the details."),
    (
        503,
        "Unavailable",
        "The server cannot serve right now (`unavailable`): storage down, read-only or damaged, or too busy. Nothing was changed; retry later.",
    ),
];

const REQUEST_ID: &str = "X-Request-Id";

/// Every answer names its request (`server::observe`): the caller's id when
/// it sent a sane one, else one the server made.
fn request_id_header() -> utoipa::openapi::header::Header {
    HeaderBuilder::new()
        .schema(ObjectBuilder::new().schema_type(Type::String))
        .description(Some("The request's id, as the server's log names it: the caller's `X-Request-Id` when sane, else a new one."))
        .build()
}

/// A caller may name its request, to find it in the server's log.
fn request_id_parameter() -> utoipa::openapi::path::Parameter {
    ParameterBuilder::new()
        .name(REQUEST_ID)
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some("An id for this request: at most 128 letters, digits and `-_.:/+=`; anything else is replaced."))
        .schema(Some(ObjectBuilder::new().schema_type(Type::String).max_length(Some(128))))
        .build()
}

/// Every error status `r` can answer: its own, and those of what it takes.
fn error_statuses(r: &Route) -> Vec<u16> {
    let mut statuses = r.errors.to_vec();
    if r.auth != Auth::Public {
        statuses.push(401);
    }
    if r.body.is_some() {
        statuses.extend([400, 413]);
    }
    if r.path.contains('{') || !r.query.is_empty() {
        statuses.push(400);
    }
    if r.storage {
        statuses.extend([500, 503]);
    }
    statuses.sort_unstable();
    statuses.dedup();
    statuses
}

/// The parameters in `path`'s braces: every one is an id.
fn path_parameters(path: &str) -> Vec<utoipa::openapi::path::Parameter> {
    path.split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| {
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .description(Some("A UUID."))
                .schema(Some(ObjectBuilder::new().schema_type(Type::String).format(Some(uuid_format()))))
                .build()
        })
        .collect()
}

fn uuid_format() -> utoipa::openapi::SchemaFormat {
    utoipa::openapi::SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::Uuid)
}

fn json(schema: RefOr<Schema>) -> utoipa::openapi::Content {
    ContentBuilder::new().schema(Some(schema)).build()
}

/// The whole document.
pub fn document() -> OpenApi {
    let mut shapes = Shapes::default();
    let routes = routes(&mut shapes);
    let error_body = shapes.of::<ErrorBody>();
    // The frames of the live channel travel outside HTTP; the document carries their shape.
    shapes.of::<LiveMessage>();
    let mut paths = PathsBuilder::new();
    for r in routes {
        let mut op = OperationBuilder::new().operation_id(Some(r.id)).tag(r.tag).summary(Some(r.summary));
        for p in path_parameters(r.path).into_iter().chain(r.query.iter().cloned()) {
            op = op.parameter(p);
        }
        if let Some(body) = &r.body {
            op = op.request_body(Some(
                RequestBodyBuilder::new().content("application/json", json(body.clone())).required(Some(Required::True)).build(),
            ));
        }
        match r.auth {
            Auth::Public => {}
            Auth::Bearer => op = op.security(SecurityRequirement::new("bearer", Vec::<String>::new())),
            Auth::BearerOrQuery => {
                op = op
                    .security(SecurityRequirement::new("bearer", Vec::<String>::new()))
                    .security(SecurityRequirement::new("query_token", Vec::<String>::new()))
            }
        }
        let (status, description, schema) = &r.ok;
        let mut ok = ResponseBuilder::new().description(*description);
        for (operation, parameters) in &r.links {
            let link = parameters.iter().fold(LinkBuilder::new().operation_id(*operation), |l, (name, value)| l.parameter(*name, *value));
            ok = ok.link(*operation, link.build());
        }
        if let Some(schema) = schema {
            ok = ok.content("application/json", json(schema.clone()));
        }
        op = op.parameter(request_id_parameter()).response(status.to_string(), ok.header(REQUEST_ID, request_id_header()).build());
        for status in error_statuses(&r) {
            if let Some((_, name, _)) = ERRORS.iter().find(|(s, _, _)| *s == status) {
                op = op.response(status.to_string(), Ref::from_response_name(*name));
            }
        }
        paths = paths.path(r.path, PathItem::new(r.method, op.build()));
    }
    let mut components = ComponentsBuilder::new()
        .schemas_from_iter(shapes.0)
        .security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("`Authorization: Bearer TOKEN`, the token of the session sign-up or sign-in answered."))
                    .build(),
            ),
        )
        .security_scheme(
            "query_token",
            SecurityScheme::ApiKey(ApiKey::Query(ApiKeyValue::with_description(
                "token",
                "The session token as `?token=`, for WebSocket clients that cannot set headers (browsers).",
            ))),
        );
    for (status, name, description) in ERRORS {
        let mut response = ResponseBuilder::new()
            .description(description)
            .content("application/json", json(error_body.clone()))
            .header(REQUEST_ID, request_id_header());
        if status == 429 {
            let seconds = ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(1));
            response = response.header("Retry-After", HeaderBuilder::new().schema(seconds).description(Some("Seconds to wait.")).build());
        }
        components = components.response(name, response.build());
    }
    let info = InfoBuilder::new()
        .title("apisync")
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(
            "The HTTP API between apisync devices and their server. Generated from the `protocol` crate's types; \
             docs/PROTOCOL.md tells how the calls fit together.",
        ))
        .build();
    let tags = [
        ("server", "The server itself."),
        ("auth", "Sign-up, sign-in, sign-out and recovery."),
        ("account", "The account and its devices."),
        ("workspaces", "The workspaces a person is in."),
        ("sync", "Push, pull and the live channel."),
        ("teams", "Teams, invitations and shared workspaces."),
    ]
    .map(|(name, description)| {
        let mut tag = Tag::new(name);
        tag.description = Some(description.into());
        tag
    });
    OpenApiBuilder::new().info(info).paths(paths).components(Some(components.build())).tags(Some(tags)).build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::limits::{MAX_BATCH, MAX_FETCH_IDS, MAX_NAME_CHARS, MAX_PASSWORD_CHARS, MAX_USERNAME_CHARS, MIN_PASSWORD_CHARS};

    /// The bounds written as literals in the protocol types' schema
    /// attributes (utoipa takes no constants) are the limits the server keeps.
    #[test]
    fn schema_bounds_are_the_protocol_limits() {
        let doc = document_json();
        let field = |schema: &str, field: &str, bound: &str| {
            doc["components"]["schemas"][schema]["properties"][field][bound].as_u64().map(|n| n as usize)
        };
        for (schema, name) in [("SignupRequest", "password"), ("ResetPassword", "password"), ("ChangePassword", "new")] {
            assert_eq!(field(schema, name, "minLength"), Some(MIN_PASSWORD_CHARS), "{schema}.{name}");
            assert_eq!(field(schema, name, "maxLength"), Some(MAX_PASSWORD_CHARS), "{schema}.{name}");
        }
        for (schema, name) in [("LoginRequest", "password"), ("ChangePassword", "current")] {
            assert_eq!(field(schema, name, "maxLength"), Some(MAX_PASSWORD_CHARS), "{schema}.{name}");
        }
        let names = [
            ("DeviceInfo", "name"),
            ("SignupRequest", "email"),
            ("LoginRequest", "user"),
            ("ForgotPassword", "user"),
            ("RecoverUsername", "email"),
            ("CreateTeam", "name"),
            ("Invite", "user"),
        ];
        for (schema, name) in names {
            assert_eq!(field(schema, name, "maxLength"), Some(MAX_NAME_CHARS), "{schema}.{name}");
        }
        let username = doc["components"]["schemas"]["SignupRequest"]["properties"]["username"]["pattern"].as_str();
        assert_eq!(username, Some(format!("^[A-Za-z0-9._-]{{1,{MAX_USERNAME_CHARS}}}$").as_str()));
        assert_eq!(field("PushRequest", "mutations", "maxItems"), Some(MAX_BATCH));
        assert_eq!(field("DocsRequest", "ids", "maxItems"), Some(MAX_FETCH_IDS));
    }

    #[test]
    fn links_are_spelled_as_openapi_spells_them() {
        let doc = document_json();
        let link = &doc["paths"]["/v1/workspaces"]["get"]["responses"]["200"]["links"]["push"];
        assert_eq!(link["operationId"], "push", "{link}");
        assert!(!doc.to_string().contains("operation_id"), "a link with utoipa's field name");
    }
}
