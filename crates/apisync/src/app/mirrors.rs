//! The mirrors the app runs: each one a task running `mirror::watch::keep`
//! (what `apisync mirror --watch` runs) beside the app's own background
//! sync, so no second live channel is opened. At most [`MAX_RUNNING`] run at
//! once. Which ones run is remembered in the profile ([`REMEMBERED`]), so the
//! next launch of the app starts them again.

use super::error::AppError;
use crate::mirror::state::{self, Summary};
use crate::mirror::{self, Mirror, Pass};
use axum::http::StatusCode;
use client::Device;
use model::Id;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, SystemTime};
use tokio::sync::{Notify, oneshot, watch};
use tokio::task::JoinHandle;

/// Most mirrors one app runs at once: each holds a file watcher and a
/// reconciliation of its own.
pub const MAX_RUNNING: usize = 8;

/// The file in the profile naming the mirrors the app runs.
const REMEMBERED: &str = "app-mirrors.json";

/// Its layout version; another one is ignored.
const REMEMBERED_FORMAT: u32 = 1;

/// How long a stop waits for a pass under way to end before cutting it off.
const STOP_WAIT: Duration = Duration::from_secs(15);

/// What the last pass that changed something did.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Change {
    /// When it ended, milliseconds since the epoch.
    pub at: i64,
    /// Edits made from the files.
    pub applied: usize,
    /// Files written.
    pub written: usize,
    /// Files removed.
    pub removed: usize,
}

/// One mirror as the page and `GET /api/status` show it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MirrorView {
    /// The mirrored workspace, when known (a mirror whose first pass never
    /// finished, started outside the app, has none yet).
    pub workspace: Option<Id>,
    /// The mirrored directory.
    pub dir: PathBuf,
    /// Whether this app runs it now.
    pub running: bool,
    /// When its last pass ended, milliseconds since the epoch.
    pub last: Option<i64>,
    /// What stops it: a file that cannot be read (with its path and line), or why it is not running.
    pub error: Option<String>,
    /// The last pass that changed something, while this app ran it.
    pub last_change: Option<Change>,
}

/// What a running mirror's passes report.
#[derive(Default)]
struct Live {
    last: Option<i64>,
    error: Option<String>,
    last_change: Option<Change>,
}

struct Running {
    workspace: Id,
    live: Arc<Mutex<Live>>,
    /// Taken by [`Mirrors::stop`], which keeps the mirror listed as running
    /// until its task ended, so "not running" is never said of a mirror
    /// that may still take a file.
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

#[derive(Default)]
struct Inner {
    running: BTreeMap<PathBuf, Running>,
    /// Mirrors this app ran or tried to run that do not run now: their
    /// workspace, and why they stopped when it was not the person's Stop.
    stopped: BTreeMap<PathBuf, (Id, Option<String>)>,
}

/// A state file's size and time, and its summary as last read.
type Cached = (u64, Option<SystemTime>, Option<Summary>);

/// The app's mirrors.
pub struct Mirrors {
    device: Arc<Device>,
    /// Turns true when the app stops: every mirror ends after its pass.
    app_stop: watch::Receiver<bool>,
    inner: Mutex<Inner>,
    /// Starts and stops one at a time, so the limit and the remembered list hold.
    ops: tokio::sync::Mutex<()>,
    /// Saved states, read again only when their file changes (a large
    /// workspace's state is megabytes, and the status is looked at often).
    saved: Mutex<HashMap<PathBuf, Cached>>,
    changed: Notify,
}

/// The remembered list's layout.
#[derive(Serialize, Deserialize)]
struct Remembered {
    format: u32,
    mirrors: Vec<Entry>,
}

#[derive(Serialize, Deserialize)]
struct Entry {
    workspace: Id,
    dir: PathBuf,
}

fn refused(code: &'static str, message: impl Into<String>) -> AppError {
    AppError { status: StatusCode::CONFLICT, code, message: message.into() }
}

fn internal(message: impl Into<String>) -> AppError {
    AppError { status: StatusCode::INTERNAL_SERVER_ERROR, code: "internal", message: message.into() }
}

/// A lock whose holder panicked still guards plain data: carry on with it.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The directory a person typed, when it can be mirrored into: an absolute
/// path that is not a file (a missing one is created by the mirror).
pub fn checked_dir(typed: &str) -> Result<PathBuf, AppError> {
    let typed = typed.trim();
    if typed.is_empty() {
        return Err(AppError::invalid("type the folder's full path, such as /home/you/shop-api/postman"));
    }
    let dir = PathBuf::from(typed);
    if !dir.is_absolute() {
        let tilde = if typed.starts_with('~') { " (~ is not expanded here)" } else { "" };
        return Err(AppError::invalid(format!(
            "'{typed}' is not an absolute path{tilde}: type the folder's full path, such as /home/you/shop-api/postman"
        )));
    }
    match std::fs::metadata(&dir) {
        Ok(m) if !m.is_dir() => {
            Err(AppError::invalid(format!("{typed} is a file, not a folder: pick a folder (a missing one is created)")))
        }
        _ => Ok(dir),
    }
}

impl Mirrors {
    /// No mirror running yet; `app_stop` ends them all with the app.
    pub fn new(device: Arc<Device>, app_stop: watch::Receiver<bool>) -> Arc<Mirrors> {
        Arc::new(Mirrors {
            device,
            app_stop,
            inner: Mutex::new(Inner::default()),
            ops: tokio::sync::Mutex::new(()),
            saved: Mutex::new(HashMap::new()),
            changed: Notify::new(),
        })
    }

    /// Returns once a mirror started, stopped or passed since the last call.
    pub async fn changed(&self) {
        self.changed.notified().await;
    }

    fn remembered_file(&self) -> PathBuf {
        self.device.dir().join(REMEMBERED)
    }

    /// Starts again the mirrors the app ran when it last stopped. One whose
    /// folder is gone is not started (that would make the folder again
    /// behind the person's back), and one that cannot start says why in
    /// the list; neither is remembered any more.
    pub async fn resume(self: &Arc<Self>) {
        let file = self.remembered_file();
        let entries = match std::fs::read(&file) {
            Ok(bytes) => match serde_json::from_slice::<Remembered>(&bytes) {
                Ok(r) if r.format == REMEMBERED_FORMAT => r.mirrors,
                _ => Vec::new(),
            },
            Err(_) => Vec::new(),
        };
        if entries.is_empty() {
            return;
        }
        let _op = self.ops.lock().await;
        for e in entries {
            let why = if !e.dir.is_dir() {
                Some(format!("not started again: {} no longer exists (Start makes it again)", e.dir.display()))
            } else {
                match self.start_locked(e.workspace, &e.dir).await {
                    Ok(_) => None,
                    Err(err) => Some(format!("not started again: {}", err.message)),
                }
            };
            if let Some(why) = why {
                lock(&self.inner).stopped.insert(e.dir.clone(), (e.workspace, Some(why)));
            }
        }
        self.remember();
        self.changed.notify_one();
    }

    /// Starts mirroring workspace `which` (an id or a name) into `dir`.
    pub async fn start(self: &Arc<Self>, which: String, dir: &Path) -> Result<MirrorView, AppError> {
        let device = Arc::clone(&self.device);
        let ws =
            tokio::task::spawn_blocking(move || device.resolve_workspace(Some(&which))).await.map_err(|e| internal(e.to_string()))??;
        let _op = self.ops.lock().await;
        let view = self.start_locked(ws.id, dir).await?;
        self.remember();
        self.changed.notify_one();
        Ok(view)
    }

    /// [`Mirrors::start`] with the operations lock held.
    async fn start_locked(self: &Arc<Self>, ws: Id, dir: &Path) -> Result<MirrorView, AppError> {
        if let Ok(root) = dir.canonicalize() {
            let inner = lock(&self.inner);
            if let Some(r) = inner.running.get(&root) {
                if r.workspace == ws {
                    drop(inner);
                    return self.view_of(&root).ok_or_else(|| internal("the running mirror vanished"));
                }
                return Err(refused(
                    "already_mirrored",
                    format!(
                        "{} is already mirrored by this app for another workspace ({}); stop that mirror first",
                        root.display(),
                        r.workspace
                    ),
                ));
            }
        }
        if lock(&self.inner).running.len() >= MAX_RUNNING {
            return Err(refused("too_many_mirrors", format!("the app runs at most {MAX_RUNNING} mirrors at once; stop one first")));
        }
        let device = Arc::clone(&self.device);
        let (dir_owned, which) = (dir.to_path_buf(), ws.to_string());
        let mirror = tokio::task::spawn_blocking(move || Mirror::open(device, &which, &dir_owned))
            .await
            .map_err(|e| internal(e.to_string()))?
            .map_err(|e| refused("mirror_refused", format!("{e:#}")))?;
        let root = mirror.root().to_path_buf();
        let running = self.spawn(mirror);
        {
            let mut inner = lock(&self.inner);
            inner.stopped.remove(&root);
            inner.running.insert(root.clone(), running);
        }
        self.view_of(&root).ok_or_else(|| internal("the new mirror vanished"))
    }

    /// Runs `mirror` as a task until its Stop or the app's end.
    fn spawn(self: &Arc<Self>, mirror: Mirror) -> Running {
        let root = mirror.root().to_path_buf();
        let workspace = mirror.workspace();
        let live = Arc::new(Mutex::new(Live::default()));
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let mut app_stop = self.app_stop.clone();
        // Weak: the task must not keep the registry alive, nor the registry itself.
        let me: Weak<Mirrors> = Arc::downgrade(self);
        let heard = Arc::clone(&live);
        let task = tokio::spawn(async move {
            let stop = async move {
                tokio::select! {
                    _ = stop_rx => {}
                    _ = app_stop.wait_for(|s| *s) => {}
                }
            };
            let notify = me.clone();
            let result = mirror::watch::keep(mirror, stop, move |pass| {
                record(&heard, pass);
                if let Some(m) = notify.upgrade() {
                    m.changed.notify_one();
                }
            })
            .await;
            if let (Err(e), Some(m)) = (result, me.upgrade()) {
                m.ended(&root, workspace, format!("the mirror stopped: {e:#}"));
            }
        });
        Running { workspace, live, stop: Some(stop_tx), task: Some(task) }
    }

    /// A mirror's task ended by itself (its file watcher failed): it no longer runs.
    fn ended(&self, root: &Path, workspace: Id, why: String) {
        let mut inner = lock(&self.inner);
        if inner.running.get(root).is_some_and(|r| r.workspace == workspace) {
            inner.running.remove(root);
            inner.stopped.insert(root.to_path_buf(), (workspace, Some(why)));
        }
        drop(inner);
        self.remember();
        self.changed.notify_one();
    }

    /// Stops the mirror of `dir` (as typed or as the list shows it), once its pass under way ends.
    pub async fn stop(&self, dir: &Path) -> Result<MirrorView, AppError> {
        let _op = self.ops.lock().await;
        let found = {
            let mut inner = lock(&self.inner);
            let key = if inner.running.contains_key(dir) { Some(dir.to_path_buf()) } else { dir.canonicalize().ok() };
            key.and_then(|k| {
                let r = inner.running.get_mut(&k)?;
                Some((k, r.workspace, r.stop.take(), r.task.take()))
            })
        };
        let Some((root, workspace, stop, task)) = found else {
            return Err(AppError {
                status: StatusCode::NOT_FOUND,
                code: "not_mirrored",
                message: format!("this app does not mirror {}", dir.display()),
            });
        };
        if let Some(stop) = stop {
            let _ = stop.send(());
        }
        if let Some(mut task) = task
            && tokio::time::timeout(STOP_WAIT, &mut task).await.is_err()
        {
            task.abort();
        }
        {
            let mut inner = lock(&self.inner);
            inner.running.remove(&root);
            // A reason the task gave as it ended (its watcher failed) is kept.
            inner.stopped.entry(root.clone()).or_insert((workspace, None));
        }
        self.remember();
        self.changed.notify_one();
        self.view_of(&root).ok_or_else(|| internal("the stopped mirror vanished"))
    }

    /// Writes which mirrors run, for the next launch; a failure is only told
    /// (the mirrors run all the same, they just will not start again by themselves).
    fn remember(&self) {
        let mirrors =
            lock(&self.inner).running.iter().map(|(dir, r)| Entry { workspace: r.workspace, dir: dir.clone() }).collect::<Vec<_>>();
        let file = self.remembered_file();
        let written = serde_json::to_vec_pretty(&Remembered { format: REMEMBERED_FORMAT, mirrors })
            .map_err(anyhow::Error::from)
            .and_then(|bytes| mirror::files::write_atomic(&file, &bytes));
        if let Err(e) = written {
            eprintln!("cannot remember the running mirrors in {} for the next launch: {e:#}", file.display());
        }
    }

    fn view_of(&self, root: &Path) -> Option<MirrorView> {
        self.views().into_iter().find(|v| v.dir == root)
    }

    /// Every mirror of the profile: those saved (the CLI's too) and those
    /// this app runs, by directory.
    pub fn views(&self) -> Vec<MirrorView> {
        let mut out: BTreeMap<PathBuf, MirrorView> = BTreeMap::new();
        let blank =
            |dir: &Path| MirrorView { workspace: None, dir: dir.to_path_buf(), running: false, last: None, error: None, last_change: None };
        for s in self.saved() {
            let dir = s.dir.clone();
            out.insert(
                dir,
                MirrorView { workspace: s.workspace, dir: s.dir, running: false, last: s.last, error: s.error, last_change: None },
            );
        }
        let inner = lock(&self.inner);
        for (dir, (ws, why)) in &inner.stopped {
            let v = out.entry(dir.clone()).or_insert_with(|| blank(dir));
            v.workspace = v.workspace.or(Some(*ws));
            if why.is_some() {
                v.error.clone_from(why);
            }
        }
        for (dir, r) in &inner.running {
            let v = out.entry(dir.clone()).or_insert_with(|| blank(dir));
            v.running = true;
            v.workspace = Some(r.workspace);
            let live = lock(&r.live);
            // Until its first pass, a restarted mirror shows what it saved last.
            if live.last.is_some() {
                v.last = live.last;
                v.error.clone_from(&live.error);
            }
            v.last_change.clone_from(&live.last_change);
        }
        out.into_values().collect()
    }

    /// The saved states' summaries, each file read again only when it changed.
    fn saved(&self) -> Vec<Summary> {
        let files = state::state_files(self.device.dir());
        let mut cache = lock(&self.saved);
        cache.retain(|k, _| files.contains(k));
        files
            .iter()
            .filter_map(|f| {
                let meta = std::fs::metadata(f).ok()?;
                let (len, mtime) = (meta.len(), meta.modified().ok());
                if let Some((_, _, s)) = cache.get(f).filter(|(l, m, _)| *l == len && *m == mtime) {
                    return s.clone();
                }
                let s = state::summary(f);
                cache.insert(f.clone(), (len, mtime, s.clone()));
                s
            })
            .collect()
    }
}

/// Notes what a pass did.
fn record(live: &Mutex<Live>, pass: &Pass) {
    let now = mirror::now_ms();
    let mut l = lock(live);
    l.last = Some(now);
    l.error.clone_from(&pass.error);
    if pass.did_something() {
        l.last_change =
            Some(Change { at: now, applied: pass.taken.applied, written: pass.wrote.written.len(), removed: pass.wrote.removed.len() });
    }
}

/// The status as `GET /api/status` and the live channel give it: what
/// `apisync status --cached --json` prints, mirrors included.
pub fn status_json(status: &client::Status, mirrors: &[MirrorView]) -> Value {
    let mut v = serde_json::to_value(status).unwrap_or(Value::Null);
    if let Value::Object(m) = &mut v {
        m.insert("mirrors".into(), serde_json::to_value(mirrors).unwrap_or(Value::Array(Vec::new())));
    }
    v
}
