//! W4: server memory per live device, and the time one change takes to
//! reach all of them, at each step of `--w4-devices`.
//!
//! A live device here is what the server holds for one: a signed-in
//! session (one per device, three devices per account, as the device limit
//! allows) with its live channel open, every account in one team that
//! shares a workspace. The bench holds the bare WebSockets, not 10,000 full
//! `client::Device`s: each of those keeps a profile on disk and beats a
//! durable heartbeat every 2 s, which one 2-core machine cannot carry ten
//! thousand times over, and which the server never sees.

use super::figures::{W4, W4Point};
use super::{Account, ChildServer, LiveSocket, collection, next_frame, workspace};
use anyhow::{Context, bail};
use model::Id;
use protocol::{LiveMessage, Role};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// Sign-ins at once (each hashes a password on the server).
const SIGN_INS: usize = 4;

fn name(i: usize) -> String {
    format!("bench-fan-{i}")
}

pub(super) async fn run(steps: &[usize]) -> anyhow::Result<W4> {
    let mut steps: Vec<usize> = steps.iter().copied().filter(|&n| n > 0).collect();
    steps.sort_unstable();
    steps.dedup();
    let most = *steps.last().context("--w4-devices needs at least one number above 0")?;
    let server = ChildServer::spawn()?;
    let base = server.base.clone();
    // The owner's first session pushes; the others listen.
    let accounts = (most + 1).div_ceil(3);
    let started = Instant::now();
    let gate = Arc::new(Semaphore::new(SIGN_INS));
    let mut tasks = Vec::new();
    for i in 0..accounts {
        let (gate, base) = (gate.clone(), base.clone());
        tasks.push(tokio::spawn(async move {
            let _permit = gate.acquire_owned().await?;
            let mut sessions = vec![Account::signup(&base, &name(i)).await?];
            for d in 1..3 {
                sessions.push(Account::login(&base, &name(i), d).await?);
            }
            anyhow::Ok(sessions)
        }));
    }
    let mut sessions = Vec::new();
    for t in tasks {
        sessions.push(t.await??);
    }
    println!("W4: {} accounts, {} sessions signed in in {:.0} s", accounts, accounts * 3, started.elapsed().as_secs_f64());

    // A team workspace every account is in.
    let owner = &sessions[0][0];
    let ws = workspace("Fan-out");
    let shared = ws.doc_id;
    owner.push(shared, vec![ws]).await?;
    let team = owner.t.create_team(&protocol::CreateTeam { name: "bench".into() }).await?;
    let members: Vec<&Account> = sessions.iter().skip(1).map(|s| &s[0]).collect();
    for chunk in members.chunks(64) {
        let joins = chunk.iter().map(|m| async move {
            owner.t.invite(team.id, &protocol::Invite { user: m.session.user.username.clone(), role: Role::Editor }).await?;
            let list = m.t.invitations().await?;
            let invitation = list.invitations.first().context("the invitation did not arrive")?;
            m.t.accept_invitation(invitation.id).await?;
            anyhow::Ok(())
        });
        for r in futures_util::future::join_all(joins).await {
            r?;
        }
    }
    owner.t.share(shared, &protocol::Share { team_id: team.id }).await?;

    // Sign-ins hash passwords (19 MiB each) on blocking threads, which exit
    // after 10 s idle and only then give their memory back: wait that out.
    if most >= 500 {
        tokio::time::sleep(Duration::from_secs(12)).await;
    }
    let listeners: Vec<&Account> = sessions.iter().flatten().skip(1).take(most).collect();
    let warm = (steps[0] / 10).max(1);
    let mut sockets: Vec<LiveSocket> = Vec::with_capacity(most);
    connect(&listeners[..warm], &mut sockets).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let baseline = server.rss_kib()?;
    println!("W4: server RSS {baseline} KiB with {warm} live devices");
    let mut points = Vec::new();
    for &step in &steps {
        let have = sockets.len();
        connect(&listeners[have..step], &mut sockets).await?;
        tokio::time::sleep(Duration::from_secs(2)).await;
        let rss = server.rss_kib()?;
        let kb_per_device = rss.saturating_sub(baseline) as f64 * 1024.0 / 1000.0 / (step - warm).max(1) as f64;
        if rss < baseline {
            println!("W4: RSS fell while devices connected (the allocator gave memory back); the per-device figure is not meaningful");
        }
        let (fan_out, back) = fan_out(owner, shared, std::mem::take(&mut sockets)).await?;
        sockets = back;
        println!(
            "W4: {step} live devices: server RSS {rss} KiB, {kb_per_device:.1} KB per device; one change reached all in {:.1} ms",
            fan_out.as_secs_f64() * 1000.0
        );
        points.push(W4Point { devices: step, rss_kib: rss, kb_per_device, fan_out_ms: fan_out.as_secs_f64() * 1000.0 });
    }
    Ok(W4 {
        devices_are: "bare live connections: one signed-in session (device) each, its WebSocket open; not full client::Device profiles".into(),
        baseline_devices: warm,
        baseline_rss_kib: baseline,
        points,
    })
}

/// Opens the live channels of `who`, a few at a time.
async fn connect(who: &[&Account], into: &mut Vec<LiveSocket>) -> anyhow::Result<()> {
    for chunk in who.chunks(32) {
        for r in futures_util::future::join_all(chunk.iter().map(|a| a.live())).await {
            into.push(r?);
        }
    }
    Ok(())
}

/// One change to the shared workspace; the time until every socket has its
/// frame, and the sockets back.
async fn fan_out(owner: &Account, shared: Id, sockets: Vec<LiveSocket>) -> anyhow::Result<(Duration, Vec<LiveSocket>)> {
    let start = Instant::now();
    let receivers: Vec<_> = sockets
        .into_iter()
        .map(|mut sock| {
            tokio::spawn(async move {
                loop {
                    match next_frame(&mut sock).await? {
                        LiveMessage::Changes { workspace_id, .. } if workspace_id == shared => return anyhow::Ok((start.elapsed(), sock)),
                        LiveMessage::SignedOut { reason } => bail!("a live device was signed out: {reason}"),
                        _ => {}
                    }
                }
            })
        })
        .collect();
    owner.push(shared, vec![collection("fan-out")]).await?;
    let mut latest = Duration::ZERO;
    let mut back = Vec::with_capacity(receivers.len());
    for r in receivers {
        let (took, sock) = r.await??;
        latest = latest.max(took);
        back.push(sock);
    }
    Ok((latest, back))
}
