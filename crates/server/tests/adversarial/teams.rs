//! Teams without consent: anyone could add any account to their team, read
//! its email, block its deletion forever by re-adding it, and push
//! workspaces onto all its devices through `share`; a removed admin kept
//! full access through a share to a team of their own that the owner could
//! neither see nor end.

use crate::support::{Backend, TestServer, error_code};
use model::{Id, Kind, Mutation, Op};
use protocol::{ErrorCode, Invitations, Session, Shares, TeamInfo};
use serde_json::{Value, json};

async fn post(s: &TestServer, path: &str, token: &str, body: Value) -> (u16, Value) {
    s.call(reqwest::Method::POST, path, Some(token), Some(body)).await
}

async fn get(s: &TestServer, path: &str, token: &str) -> (u16, Value) {
    s.call(reqwest::Method::GET, path, Some(token), None).await
}

async fn team(s: &TestServer, token: &str, name: &str) -> TeamInfo {
    let (st, v) = post(s, "/v1/teams", token, json!({"name": name})).await;
    assert_eq!(st, 200, "{v}");
    serde_json::from_value(v).unwrap()
}

async fn invitations(s: &TestServer, who: &Session) -> Invitations {
    let (st, v) = get(s, "/v1/invitations", &who.token).await;
    assert_eq!(st, 200, "{v}");
    serde_json::from_value(v).unwrap()
}

async fn workspace(s: &TestServer, token: &str, name: &str) -> Id {
    let ws = Id::now_v7();
    let create = Mutation {
        mutation_id: Id::now_v7(),
        doc_id: ws,
        base_version: 0,
        op: Op::Create { kind: Kind::Workspace, parent_id: None, order_key: None, fields: crate::support::fields(json!({"name": name})) },
    };
    s.push_ok(token, ws, &[create]).await;
    ws
}

async fn has_workspace(s: &TestServer, who: &Session, ws: Id) -> bool {
    let (_, v) = get(s, "/v1/workspaces", &who.token).await;
    v["workspaces"].as_array().unwrap().iter().any(|w| w["id"] == json!(ws))
}

/// Inviting tells the admin nothing about the account, takes nothing
/// effect until the invitee accepts, and cannot hold their account hostage.
async fn nobody_joins_a_team_without_saying_yes(b: Backend) {
    let s = TestServer::start(b, |_| {}).await;
    let ann = s.signup("ann").await;
    let bob = s.signup("bob").await;
    let t = team(&s, &ann.token, "Ops").await;
    let ws = workspace(&s, &ann.token, "Ops space").await;
    assert_eq!(post(&s, &format!("/v1/workspaces/{ws}/share"), &ann.token, json!({"team_id": t.id})).await.0, 200);

    let (st, real) = post(&s, &format!("/v1/teams/{}/invitations", t.id), &ann.token, json!({"user": "bob", "role": "editor"})).await;
    let (st2, unknown) = post(&s, &format!("/v1/teams/{}/invitations", t.id), &ann.token, json!({"user": "zed", "role": "editor"})).await;
    assert_eq!((st, st2), (202, 202));
    assert_eq!(real["message"].as_str().unwrap().replace("bob", "?"), unknown["message"].as_str().unwrap().replace("zed", "?"));
    let told = real.to_string();
    assert!(!told.contains("bob@example.com") && !told.contains(&bob.user.id.to_string()), "the answer gave bob away: {told}");

    // Not a member yet, and the shared workspace is not on bob's devices.
    let (_, members) = get(&s, &format!("/v1/teams/{}/members", t.id), &ann.token).await;
    assert_eq!(members["members"].as_array().unwrap().len(), 1, "{members}");
    assert_eq!(members["invitations"].as_array().unwrap().len(), 2);
    assert!(!has_workspace(&s, &bob, ws).await);
    assert_eq!(get(&s, &format!("/v1/workspaces/{ws}/changes?after=0"), &bob.token).await.0, 404);

    // Somebody else cannot take bob's invitation.
    let eve = s.signup("eve").await;
    let mine = invitations(&s, &bob).await;
    assert_eq!(mine.invitations.len(), 1);
    assert!(mine.invitations[0].login.is_none(), "the invitee sees no admin's notes");
    let id = mine.invitations[0].id;
    let (st, v) = post(&s, &format!("/v1/invitations/{id}/accept"), &eve.token, json!({})).await;
    assert_eq!((st, error_code(&v)), (404, ErrorCode::NotFound));

    // A pending invitation does not keep bob from deleting his account.
    let carl = s.signup("carl").await;
    post(&s, &format!("/v1/teams/{}/invitations", t.id), &ann.token, json!({"user": "carl", "role": "viewer"})).await;
    let (st, v) = s.call(reqwest::Method::DELETE, "/v1/account", Some(&carl.token), None).await;
    assert_eq!(st, 204, "an invitation blocked the account's deletion: {v}");

    // Declined: gone. Accepted: a member, with the workspace.
    let (st, _) = post(&s, &format!("/v1/invitations/{id}/decline"), &bob.token, json!({})).await;
    assert_eq!(st, 204);
    assert!(invitations(&s, &bob).await.invitations.is_empty());
    post(&s, &format!("/v1/teams/{}/invitations", t.id), &ann.token, json!({"user": "BOB@example.com", "role": "viewer"})).await;
    let id = invitations(&s, &bob).await.invitations[0].id;
    let (st, v) = post(&s, &format!("/v1/invitations/{id}/accept"), &bob.token, json!({})).await;
    assert_eq!(st, 200, "{v}");
    assert!(has_workspace(&s, &bob, ws).await);
}

/// A team holds a bounded number of unanswered invitations.
async fn unanswered_invitations_are_bounded(b: Backend) {
    let s = TestServer::start(b, |_| {}).await;
    let ann = s.signup("ann").await;
    let t = team(&s, &ann.token, "Big").await;
    for i in 0..protocol::limits::MAX_PENDING_INVITATIONS {
        let (st, v) =
            post(&s, &format!("/v1/teams/{}/invitations", t.id), &ann.token, json!({"user": format!("u{i}"), "role": "viewer"})).await;
        assert_eq!(st, 202, "{v}");
    }
    let (st, v) = post(&s, &format!("/v1/teams/{}/invitations", t.id), &ann.token, json!({"user": "one-more", "role": "viewer"})).await;
    assert_eq!((st, error_code(&v)), (400, ErrorCode::BadRequest), "{v}");
}

/// Only the owner shares a workspace onward, sees every share and can end
/// it; removal from a team ends every access it gave.
async fn removal_ends_every_access_the_team_gave(b: Backend) {
    let s = TestServer::start(b, |_| {}).await;
    let ann = s.signup("ann").await;
    let mal = s.signup("mal").await;
    let t = team(&s, &ann.token, "Core").await;
    post(&s, &format!("/v1/teams/{}/invitations", t.id), &ann.token, json!({"user": "mal", "role": "admin"})).await;
    let id = invitations(&s, &mal).await.invitations[0].id;
    assert_eq!(post(&s, &format!("/v1/invitations/{id}/accept"), &mal.token, json!({})).await.0, 200);
    let ws = workspace(&s, &ann.token, "Crown jewels").await;
    assert_eq!(post(&s, &format!("/v1/workspaces/{ws}/share"), &ann.token, json!({"team_id": t.id})).await.0, 200);
    assert!(has_workspace(&s, &mal, ws).await);

    // An admin of the team, not the owner, shares it into a team of their own: refused.
    let own = team(&s, &mal.token, "Mal's").await;
    let (st, v) = post(&s, &format!("/v1/workspaces/{ws}/share"), &mal.token, json!({"team_id": own.id})).await;
    assert_eq!((st, error_code(&v)), (403, ErrorCode::Forbidden), "{v}");
    let (st, _) = get(&s, &format!("/v1/workspaces/{ws}/shares"), &mal.token).await;
    assert_eq!(st, 403, "only the owner lists the shares");

    // Removed: every access through the team ends.
    let (st, _) = s.call(reqwest::Method::DELETE, &format!("/v1/teams/{}/members/{}", t.id, mal.user.id), Some(&ann.token), None).await;
    assert_eq!(st, 204);
    assert!(!has_workspace(&s, &mal, ws).await);
    assert_eq!(get(&s, &format!("/v1/workspaces/{ws}/changes?after=0"), &mal.token).await.0, 404);
    let (st, _) = s.push(&mal.token, ws, &[crate::support::create(Kind::Collection, None, json!({"name": "x"}))]).await;
    assert_eq!(st, 404);

    // The owner sees every share and ends it.
    let (st, v) = get(&s, &format!("/v1/workspaces/{ws}/shares"), &ann.token).await;
    assert_eq!(st, 200, "{v}");
    let shares: Shares = serde_json::from_value(v).unwrap();
    assert_eq!(shares.shares.iter().map(|s| s.team_id).collect::<Vec<_>>(), vec![t.id]);
    let bob = s.signup("bob").await;
    post(&s, &format!("/v1/teams/{}/invitations", t.id), &ann.token, json!({"user": "bob", "role": "editor"})).await;
    let id = invitations(&s, &bob).await.invitations[0].id;
    post(&s, &format!("/v1/invitations/{id}/accept"), &bob.token, json!({})).await;
    assert!(has_workspace(&s, &bob, ws).await);
    let (st, _) = s.call(reqwest::Method::DELETE, &format!("/v1/workspaces/{ws}/shares/{}", t.id), Some(&ann.token), None).await;
    assert_eq!(st, 204);
    assert!(!has_workspace(&s, &bob, ws).await, "unsharing ends the team's access");
    let (_, v) = get(&s, &format!("/v1/workspaces/{ws}/shares"), &ann.token).await;
    assert_eq!(v["shares"], json!([]));
}

on_both_backends!(nobody_joins_a_team_without_saying_yes, unanswered_invitations_are_bounded, removal_ends_every_access_the_team_gave,);
