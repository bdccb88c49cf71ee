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
use super::{Account, ChildServer, LiveSocket, collection, live, next_frame, workspace};
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

    // The owner's first session pushes; every other session listens. A
    // team workspace every account is in.
    let owner = Account::signup(&base, &name(0)).await?;
    let ws = workspace("Fan-out");
    let shared = ws.doc_id;
    owner.push(shared, vec![ws]).await?;
    let team = owner.t.create_team(&protocol::CreateTeam { name: "bench".into() }).await?;
    owner.t.share(shared, &protocol::Share { team_id: team.id }).await?;
    let owner = Arc::new(owner);
    let accounts = (most + 1).div_ceil(3);
    let started = Instant::now();
    let gate = Arc::new(Semaphore::new(SIGN_INS));
    let mut tasks = Vec::new();
    for i in 0..accounts {
        let (gate, base, owner) = (gate.clone(), base.clone(), owner.clone());
        tasks.push(tokio::spawn(async move {
            let _permit = gate.acquire_owned().await?;
            let mut tokens = Vec::new();
            let first = if i == 0 {
                None
            } else {
                let me = Account::signup(&base, &name(i)).await?;
                owner.t.invite(team.id, &protocol::Invite { user: name(i), role: Role::Editor }).await?;
                let list = me.t.invitations().await?;
                let invitation = list.invitations.first().context("the invitation did not arrive")?;
                me.t.accept_invitation(invitation.id).await?;
                Some(me)
            };
            tokens.extend(first.map(|a| a.session.token));
            for d in 1..3 {
                tokens.push(Account::login(&base, &name(i), d).await?.session.token);
            }
            // Only the tokens stay: each transport's idle connection would
            // be one more socket on both sides for the rest of the run.
            anyhow::Ok(tokens)
        }));
    }
    let mut tokens = Vec::new();
    for t in tasks {
        tokens.extend(t.await??);
    }
    tokens.truncate(most);
    println!("W4: {accounts} accounts in one team, {} sessions signed in, in {:.0} s", tokens.len() + 1, started.elapsed().as_secs_f64());

    // Sign-ins hash passwords (19 MiB each) on blocking threads, which exit
    // after 10 s idle and only then give their memory back: wait that out.
    if most >= 500 {
        tokio::time::sleep(Duration::from_secs(12)).await;
    }
    let url = owner.t.live_url();
    let warm = (steps[0] / 10).max(1);
    let mut sockets: Vec<LiveSocket> = Vec::with_capacity(most);
    connect(&url, &tokens[..warm], &mut sockets).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let baseline = server.rss_kib()?;
    println!("W4: server RSS {baseline} KiB with {warm} live devices");
    let mut points = Vec::new();
    for &step in &steps {
        let have = sockets.len();
        connect(&url, &tokens[have..step], &mut sockets).await?;
        tokio::time::sleep(Duration::from_secs(2)).await;
        let rss = server.rss_kib()?;
        let kb_per_device = (rss >= baseline).then(|| (rss - baseline) as f64 * 1024.0 / 1000.0 / (step - warm).max(1) as f64);
        if kb_per_device.is_none() {
            println!("W4: RSS fell while devices connected (the allocator gave memory back): no per-device figure at {step}");
        }
        let (fan_out, back) = fan_out(&owner, shared, std::mem::take(&mut sockets)).await?;
        sockets = back;
        println!(
            "W4: {step} live devices: server RSS {rss} KiB, {} KB per device; one change reached all in {:.1} ms",
            kb_per_device.map_or("-".into(), |k| format!("{k:.1}")),
            fan_out.as_secs_f64() * 1000.0
        );
        points.push(W4Point { devices: step, rss_kib: rss, kb_per_device, fan_out_ms: fan_out.as_secs_f64() * 1000.0 });
    }
    Ok(W4 {
        devices_are: "bare live connections: one signed-in session (device) each, its WebSocket open; not full client::Device profiles"
            .into(),
        baseline_devices: warm,
        baseline_rss_kib: baseline,
        points,
    })
}

/// Opens the live channels of the sessions `tokens`, a few at a time.
async fn connect(url: &str, tokens: &[String], into: &mut Vec<LiveSocket>) -> anyhow::Result<()> {
    for chunk in tokens.chunks(32) {
        for r in futures_util::future::join_all(chunk.iter().map(|t| live(url, t))).await {
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
