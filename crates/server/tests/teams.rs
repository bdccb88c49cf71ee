//! Teams and authorization, on both backends: roles on a shared workspace,
//! and every endpoint tried as a stranger, a viewer and a removed member.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use futures_util::StreamExt;
use model::{Id, Kind, Mutation, Op};
use protocol::{ErrorCode, LiveMessage, Outcome, PushResponse, Role, TeamInfo, TeamMembers, Teams, Workspaces};
use serde_json::{Value, json};
use std::time::Duration;

#[macro_use]
mod support;
use support::{Backend, TestServer, error_code as code, fields};

struct Harness(TestServer);

impl std::ops::Deref for Harness {
    type Target = TestServer;
    fn deref(&self) -> &TestServer {
        &self.0
    }
}

impl Harness {
    async fn start(b: Backend) -> Harness {
        Harness(TestServer::start(b, |_| {}).await)
    }

    async fn post(&self, path: &str, token: &str, body: Value) -> (u16, Value) {
        self.call(reqwest::Method::POST, path, Some(token), Some(body)).await
    }

    async fn get(&self, path: &str, token: &str) -> (u16, Value) {
        self.call(reqwest::Method::GET, path, Some(token), None).await
    }

    async fn workspaces(&self, token: &str) -> Workspaces {
        let (s, v) = self.get("/v1/workspaces", token).await;
        assert_eq!(s, 200, "{v}");
        serde_json::from_value(v).unwrap()
    }

    async fn create_team(&self, token: &str, name: &str) -> TeamInfo {
        let (s, v) = self.post("/v1/teams", token, json!({"name": name})).await;
        assert_eq!(s, 200, "{v}");
        serde_json::from_value(v).unwrap()
    }

    async fn invite(&self, token: &str, team: Id, user: &str, role: &str) -> (u16, Value) {
        self.post(&format!("/v1/teams/{team}/invitations"), token, json!({"user": user, "role": role})).await
    }

    /// Invites `who` as `user` (a username or email) and has them accept.
    async fn join(&self, admin: &str, team: Id, who: &protocol::Session, user: &str, role: &str) {
        let (s, v) = self.invite(admin, team, user, role).await;
        assert_eq!(s, 202, "{v}");
        let (s, v) = self.get("/v1/invitations", &who.token).await;
        assert_eq!(s, 200, "{v}");
        let list: protocol::Invitations = serde_json::from_value(v).unwrap();
        let inv = list.invitations.iter().find(|i| i.team_id == team).expect("the invitation waits for its invitee");
        let (s, v) = self.post(&format!("/v1/invitations/{}/accept", inv.id), &who.token, json!({})).await;
        assert_eq!(s, 200, "{v}");
    }

    async fn set_role(&self, token: &str, team: Id, user: &str, role: &str) -> (u16, Value) {
        self.post(&format!("/v1/teams/{team}/members"), token, json!({"user": user, "role": role})).await
    }

    /// A new shared workspace of `token`'s user with one collection.
    async fn new_workspace(&self, token: &str, name: &str) -> (Id, Id) {
        let ws = Id::now_v7();
        let col = create(Kind::Collection, None, json!({"name": "Shared API"}));
        let col_id = col.doc_id;
        let m = vec![
            Mutation {
                mutation_id: Id::now_v7(),
                doc_id: ws,
                base_version: 0,
                op: Op::Create { kind: Kind::Workspace, parent_id: None, order_key: None, fields: fields(json!({"name": name})) },
            },
            col,
        ];
        let (s, v) = self.post(&format!("/v1/workspaces/{ws}/push"), token, json!({"mutations": m})).await;
        assert_eq!(s, 200, "{v}");
        (ws, col_id)
    }
}

fn create(kind: Kind, parent: Option<Id>, f: Value) -> Mutation {
    Mutation {
        mutation_id: Id::now_v7(),
        doc_id: Id::now_v7(),
        base_version: 0,
        op: Op::Create { kind, parent_id: parent, order_key: Some("V".into()), fields: fields(f) },
    }
}

fn set(doc: Id, base: u64, f: Value) -> Mutation {
    Mutation { mutation_id: Id::now_v7(), doc_id: doc, base_version: base, op: Op::Set { fields: fields(f) } }
}

fn role_of(list: &Workspaces, ws: Id) -> Option<Role> {
    list.workspaces.iter().find(|w| w.id == ws).map(|w| w.role)
}

async fn members_get_the_shared_workspace_with_their_team_role(b: Backend) {
    let h = Harness::start(b).await;
    let ann = h.signup("ann").await;
    let bob = h.signup("bob").await;
    let cat = h.signup("cat").await;
    let team = h.create_team(&ann.token, "Platform").await;
    assert_eq!((team.role, team.members), (Role::Admin, 1));
    let (s, v) = h.post("/v1/teams", &ann.token, json!({"name": "platform"})).await;
    assert_eq!((s, code(&v)), (400, ErrorCode::BadRequest), "a second team of the same name is refused");

    // Invite by username and by email; each joins by accepting.
    h.join(&ann.token, team.id, &bob, "bob", "editor").await;
    h.join(&ann.token, team.id, &cat, "cat@example.com", "viewer").await;
    let (s, v) = h.get(&format!("/v1/teams/{}/members", team.id), &ann.token).await;
    assert_eq!(s, 200, "{v}");
    let members: TeamMembers = serde_json::from_value(v).unwrap();
    let roles: Vec<(String, Role)> = members.members.iter().map(|m| (m.user.username.clone(), m.role)).collect();
    assert_eq!(roles, vec![("ann".into(), Role::Admin), ("bob".into(), Role::Editor), ("cat".into(), Role::Viewer)]);
    let (s, _) = h.invite(&ann.token, team.id, "bob", "owner").await;
    assert_eq!(s, 400, "owner is not a team role");

    // Sharing: the owner stays owner, members get their team role.
    let (ws, col) = h.new_workspace(&ann.token, "Team space").await;
    let (s, v) = h.post(&format!("/v1/workspaces/{ws}/share"), &ann.token, json!({"team_id": team.id})).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(role_of(&h.workspaces(&ann.token).await, ws), Some(Role::Owner));
    assert_eq!(role_of(&h.workspaces(&bob.token).await, ws), Some(Role::Editor));
    assert_eq!(role_of(&h.workspaces(&cat.token).await, ws), Some(Role::Viewer));
    // The personal workspace cannot be shared.
    let personal = ann.workspaces[0].id;
    let (s, _) = h.post(&format!("/v1/workspaces/{personal}/share"), &ann.token, json!({"team_id": team.id})).await;
    assert_eq!(s, 400);

    // The editor writes; the viewer reads but cannot write.
    let (s, v) = h
        .post(&format!("/v1/workspaces/{ws}/push"), &bob.token, json!({"mutations": [set(col, 2, json!({"description": "by bob"}))]}))
        .await;
    assert_eq!(s, 200, "{v}");
    let r: PushResponse = serde_json::from_value(v).unwrap();
    assert!(matches!(r.results[0].outcome, Outcome::Applied { .. }));
    let (s, v) = h.get(&format!("/v1/workspaces/{ws}/changes?after=0"), &cat.token).await;
    assert_eq!(s, 200, "{v}");
    assert!(v["docs"].as_array().unwrap().iter().any(|d| d["fields"]["description"] == "by bob"));
    let (s, v) = h.post(&format!("/v1/workspaces/{ws}/push"), &cat.token, json!({"mutations": [set(col, 3, json!({"name": "x"}))]})).await;
    assert_eq!((s, code(&v)), (403, ErrorCode::Forbidden));

    // Promote the viewer: the role follows at once.
    assert_eq!(h.set_role(&ann.token, team.id, "cat", "editor").await.0, 200);
    assert_eq!(role_of(&h.workspaces(&cat.token).await, ws), Some(Role::Editor));

    // Teams list shows the caller's role and the shared workspaces.
    let (_, v) = h.get("/v1/teams", &bob.token).await;
    let teams: Teams = serde_json::from_value(v).unwrap();
    assert_eq!(teams.teams.len(), 1);
    assert_eq!((teams.teams[0].role, teams.teams[0].members, teams.teams[0].workspaces.clone()), (Role::Editor, 3, vec![ws]));

    // Leaving takes the workspace away; the last admin cannot leave others behind.
    let (s, _) = h.post(&format!("/v1/teams/{}/leave", team.id), &cat.token, json!({})).await;
    assert_eq!(s, 204);
    assert_eq!(role_of(&h.workspaces(&cat.token).await, ws), None);
    let (s, v) = h.post(&format!("/v1/teams/{}/leave", team.id), &ann.token, json!({})).await;
    assert_eq!((s, code(&v)), (400, ErrorCode::BadRequest));
    assert!(v["error"]["message"].as_str().unwrap().contains("team role"), "{v}");
    // The owner keeps the workspace whatever happens to the team.
    assert_eq!(h.set_role(&ann.token, team.id, "bob", "admin").await.0, 200);
    let (s, _) = h.post(&format!("/v1/teams/{}/leave", team.id), &ann.token, json!({})).await;
    assert_eq!(s, 204);
    assert_eq!(role_of(&h.workspaces(&ann.token).await, ws), Some(Role::Owner));
    assert_eq!(role_of(&h.workspaces(&bob.token).await, ws), Some(Role::Admin));
}

async fn strangers_viewers_and_removed_members_are_refused_everywhere(b: Backend) {
    let h = Harness::start(b).await;
    let ann = h.signup("ann").await;
    let viewer = h.signup("vic").await;
    let gone = h.signup("rem").await;
    let stranger = h.signup("eve").await;
    let team = h.create_team(&ann.token, "T").await;
    let (ws, col) = h.new_workspace(&ann.token, "Shared").await;
    h.join(&ann.token, team.id, &viewer, "vic", "viewer").await;
    h.join(&ann.token, team.id, &gone, "rem", "editor").await;
    assert_eq!(h.post(&format!("/v1/workspaces/{ws}/share"), &ann.token, json!({"team_id": team.id})).await.0, 200);
    // The removed member worked here before removal.
    assert_eq!(h.get(&format!("/v1/workspaces/{ws}/changes?after=0"), &gone.token).await.0, 200);
    let (s, _) = h.call(reqwest::Method::DELETE, &format!("/v1/teams/{}/members/{}", team.id, gone.user.id), Some(&ann.token), None).await;
    assert_eq!(s, 204);

    let t = team.id;
    let someone = ann.user.id;
    let push = json!({"mutations": [set(col, 2, json!({"name": "x"}))]});
    let endpoints: Vec<(reqwest::Method, String, Option<Value>)> = vec![
        (reqwest::Method::GET, format!("/v1/workspaces/{ws}/changes?after=0"), None),
        (reqwest::Method::POST, format!("/v1/workspaces/{ws}/push"), Some(push.clone())),
        (reqwest::Method::POST, format!("/v1/workspaces/{ws}/share"), Some(json!({"team_id": t}))),
        (reqwest::Method::GET, format!("/v1/teams/{t}/members"), None),
        (reqwest::Method::POST, format!("/v1/teams/{t}/members"), Some(json!({"user": "eve", "role": "admin"}))),
        (reqwest::Method::DELETE, format!("/v1/teams/{t}/members/{someone}"), None),
        (reqwest::Method::POST, format!("/v1/teams/{t}/invitations"), Some(json!({"user": "eve", "role": "admin"}))),
        (reqwest::Method::GET, format!("/v1/workspaces/{ws}/shares"), None),
        (reqwest::Method::DELETE, format!("/v1/workspaces/{ws}/shares/{t}"), None),
        (reqwest::Method::POST, format!("/v1/teams/{t}/leave"), Some(json!({}))),
    ];
    for who in [&stranger, &gone] {
        for (m, path, body) in &endpoints {
            let (s, v) = h.call(m.clone(), path, Some(&who.token), body.clone()).await;
            assert_eq!((s, code(&v)), (404, ErrorCode::NotFound), "{} {m} {path}: {v}", who.user.username);
        }
        assert_eq!(role_of(&h.workspaces(&who.token).await, ws), None);
        let (_, v) = h.get("/v1/teams", &who.token).await;
        assert_eq!(v["teams"], json!([]), "{}", who.user.username);
    }
    // The viewer reads, and is refused every write with 403.
    let expect: [u16; 9] = [200, 403, 403, 200, 403, 403, 403, 403, 403];
    for ((m, path, body), want) in endpoints.iter().zip(expect) {
        let (s, v) = h.call(m.clone(), path, Some(&viewer.token), body.clone()).await;
        assert_eq!(s, want, "viewer {m} {path}: {v}");
        if want == 403 {
            assert_eq!(code(&v), ErrorCode::Forbidden);
        }
    }
    // No token at all: 401 everywhere.
    for (m, path, body) in &endpoints {
        let (s, _) = h.call(m.clone(), path, None, body.clone()).await;
        assert_eq!(s, 401, "{m} {path}");
    }
}

async fn next_message(
    ws: &mut tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
) -> LiveMessage {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(5), ws.next()).await.expect("a live frame within 5 s").unwrap().unwrap();
        if let tokio_tungstenite::tungstenite::Message::Text(t) = msg {
            return serde_json::from_str(&t).unwrap();
        }
    }
}

async fn membership_changes_reach_live_channels(b: Backend) {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let h = Harness::start(b).await;
    let ann = h.signup("ann").await;
    let bob = h.signup("bob").await;
    let mut req = format!("{}/v1/live", h.base.replace("http", "ws")).into_client_request().unwrap();
    req.headers_mut().insert("authorization", format!("Bearer {}", bob.token).parse().unwrap());
    let (mut sock, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    assert!(matches!(next_message(&mut sock).await, LiveMessage::Hello { .. }));
    let team = h.create_team(&ann.token, "T").await;
    let (ws, _) = h.new_workspace(&ann.token, "Shared").await;
    h.join(&ann.token, team.id, &bob, "bob", "editor").await;
    assert_eq!(next_message(&mut sock).await, LiveMessage::Workspaces);
    assert_eq!(h.post(&format!("/v1/workspaces/{ws}/share"), &ann.token, json!({"team_id": team.id})).await.0, 200);
    assert_eq!(next_message(&mut sock).await, LiveMessage::Workspaces);
    let (s, _) = h.call(reqwest::Method::DELETE, &format!("/v1/teams/{}/members/{}", team.id, bob.user.id), Some(&ann.token), None).await;
    assert_eq!(s, 204);
    assert_eq!(next_message(&mut sock).await, LiveMessage::Workspaces);
}

/// Rows of a workspace still stored: its documents, and its own row.
async fn rows_left(h: &Harness, ws: Id) -> (i64, i64) {
    match &h.db_url {
        Some(url) => {
            let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(url).await.unwrap();
            let docs: i64 =
                sqlx::query_scalar("SELECT count(*) FROM docs WHERE workspace_id = $1").bind(ws).fetch_one(&mut conn).await.unwrap();
            let row: i64 = sqlx::query_scalar("SELECT count(*) FROM workspaces WHERE id = $1").bind(ws).fetch_one(&mut conn).await.unwrap();
            (docs, row)
        }
        None => {
            let conn = rusqlite::Connection::open(h.dir.path().join("apisync.db")).unwrap();
            let count = |sql: &str| conn.query_row(sql, [ws.to_string()], |r| r.get::<_, i64>(0)).unwrap();
            (count("SELECT count(*) FROM docs WHERE workspace_id = ?1"), count("SELECT count(*) FROM workspaces WHERE id = ?1"))
        }
    }
}

async fn only_the_owner_deletes_a_workspace_and_its_id_stays_gone(b: Backend) {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let h = Harness::start(b).await;
    let ann = h.signup("ann").await;
    let bob = h.signup("bob").await;
    let eve = h.signup("eve").await;
    let team = h.create_team(&ann.token, "T").await;
    let (ws, col) = h.new_workspace(&ann.token, "Doomed").await;
    // More documents than one purge step deletes.
    let many: Vec<Mutation> = (0..2100).map(|i| create(Kind::Request, Some(col), json!({"name": format!("r{i}")}))).collect();
    assert_eq!(h.post(&format!("/v1/workspaces/{ws}/push"), &ann.token, json!({"mutations": many})).await.0, 200);
    h.join(&ann.token, team.id, &bob, "bob", "editor").await;
    assert_eq!(h.post(&format!("/v1/workspaces/{ws}/share"), &ann.token, json!({"team_id": team.id})).await.0, 200);
    let path = format!("/v1/workspaces/{ws}");

    // A member is refused with 403; a stranger gets exactly what an unknown id gets.
    let (s, v) = h.call(reqwest::Method::DELETE, &path, Some(&bob.token), None).await;
    assert_eq!((s, code(&v)), (403, ErrorCode::Forbidden), "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("owner"), "{v}");
    let (s, stranger) = h.call(reqwest::Method::DELETE, &path, Some(&eve.token), None).await;
    assert_eq!((s, code(&stranger)), (404, ErrorCode::NotFound), "{stranger}");
    let unknown = Id::now_v7();
    let (s, v) = h.call(reqwest::Method::DELETE, &format!("/v1/workspaces/{unknown}"), Some(&eve.token), None).await;
    assert_eq!(s, 404);
    assert_eq!(v["error"]["message"].as_str().unwrap().replace(&unknown.to_string(), &ws.to_string()), stranger["error"]["message"]);
    // The personal workspace goes only with the account.
    let personal = ann.workspaces[0].id;
    let (s, v) = h.call(reqwest::Method::DELETE, &format!("/v1/workspaces/{personal}"), Some(&ann.token), None).await;
    assert_eq!((s, code(&v)), (400, ErrorCode::BadRequest), "{v}");

    // The owner deletes it: the member hears it live and loses it.
    let mut req = format!("{}/v1/live", h.base.replace("http", "ws")).into_client_request().unwrap();
    req.headers_mut().insert("authorization", format!("Bearer {}", bob.token).parse().unwrap());
    let (mut sock, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    assert!(matches!(next_message(&mut sock).await, LiveMessage::Hello { .. }));
    let (s, v) = h.call(reqwest::Method::DELETE, &path, Some(&ann.token), None).await;
    assert_eq!(s, 204, "{v}");
    assert_eq!(next_message(&mut sock).await, LiveMessage::Workspaces);
    for who in [&ann, &bob] {
        assert_eq!(role_of(&h.workspaces(&who.token).await, ws), None, "{}", who.user.username);
        let (s, v) = h.get(&format!("/v1/workspaces/{ws}/changes?after=0"), &who.token).await;
        assert_eq!((s, code(&v)), (404, ErrorCode::NotFound), "{}", who.user.username);
        let (s, _) =
            h.post(&format!("/v1/workspaces/{ws}/push"), &who.token, json!({"mutations": [set(col, 2, json!({"name": "x"}))]})).await;
        assert_eq!(s, 404, "{}", who.user.username);
    }
    let (_, v) = h.get("/v1/teams", &bob.token).await;
    assert_eq!(v["teams"][0]["workspaces"], json!([]), "{v}");
    let (s, _) = h.call(reqwest::Method::DELETE, &path, Some(&ann.token), None).await;
    assert_eq!(s, 404, "deleting twice finds nothing");

    // Its rows are purged in the background, and its id can never be claimed again.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while rows_left(&h, ws).await != (0, 0) {
        assert!(std::time::Instant::now() < deadline, "the purge never finished: {:?} left", rows_left(&h, ws).await);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for who in [&ann, &eve] {
        let again = Mutation {
            mutation_id: Id::now_v7(),
            doc_id: ws,
            base_version: 0,
            op: Op::Create { kind: Kind::Workspace, parent_id: None, order_key: None, fields: fields(json!({"name": "Reborn"})) },
        };
        let (s, v) = h.post(&format!("/v1/workspaces/{ws}/push"), &who.token, json!({"mutations": [again]})).await;
        assert_eq!((s, code(&v)), (404, ErrorCode::NotFound), "{}: {v}", who.user.username);
        assert_eq!(role_of(&h.workspaces(&who.token).await, ws), None);
    }
}

on_both_backends!(
    members_get_the_shared_workspace_with_their_team_role,
    strangers_viewers_and_removed_members_are_refused_everywhere,
    membership_changes_reach_live_channels,
    only_the_owner_deletes_a_workspace_and_its_id_stays_gone,
);
