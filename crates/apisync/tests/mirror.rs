//! `apisync mirror`: a workspace kept in a git repository as a v3 `postman/`
//! folder, driven end to end with the real binary, a real server and
//! Debian's `git`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use support::{Device, Server, stderr, two_devices};

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "Ann")
        .env("GIT_AUTHOR_EMAIL", "ann@example.com")
        .env("GIT_COMMITTER_NAME", "Ann")
        .env("GIT_COMMITTER_EMAIL", "ann@example.com")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .output()
        .expect("run git (the tests need Debian's git: scripts/install-test-deps.sh installs it)");
    assert!(out.status.success(), "git {} in {} failed: {}", args.join(" "), dir.display(), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Ann's two devices, both synced, and one collection holding one request.
struct Shared {
    a: Device,
    b: Device,
    ws: String,
    req: String,
}

fn shared(server: &Server, collection: &str, request: &str, url: &str) -> Shared {
    let (a, b) = two_devices(server);
    let ws = personal(&a);
    let col = a.create("collection", &["--set", &format!("name={collection}")]);
    let req = a.create("request", &["--parent", &col, "--set", &format!("name={request}"), "--set", &format!("url={url}")]);
    a.run(&["sync"]);
    b.run(&["sync"]);
    Shared { a, b, ws, req }
}

/// An empty bare repository `origin.git` in `dir`.
fn origin(dir: &Path) -> PathBuf {
    let origin = dir.join("origin.git");
    std::fs::create_dir(&origin).unwrap();
    git(&origin, &["init", "--bare", "-q", "-b", "main"]);
    origin
}

fn personal(d: &Device) -> String {
    let ws = d.json(&["workspaces"]);
    let all = ws.as_array().expect("workspaces list");
    let w = all.iter().find(|w| w["personal"] == true).or_else(|| all.first()).expect("a workspace");
    w["id"].as_str().expect("workspace id").to_string()
}

fn doc(d: &Device, id: &str) -> Value {
    d.json(&["show", id])
}

/// Every file under `dir`, sorted.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() { todo.push(p) } else { out.push(p) }
        }
    }
    out.sort();
    out
}

fn find(dir: &Path, suffix: &str) -> PathBuf {
    files_under(dir)
        .into_iter()
        .find(|p| p.to_string_lossy().ends_with(suffix))
        .unwrap_or_else(|| panic!("no file ending {suffix} under {}", dir.display()))
}

fn rel(root: &Path, p: &Path) -> String {
    p.strip_prefix(root).unwrap().to_string_lossy().into_owned()
}

/// The scenario: A mirrors into a repository; a second clone edits,
/// renames and deletes request files and pushes; A pulls and mirrors; B
/// sees all three; a concurrent edit of one field becomes one conflict; a
/// merge-conflict marker is refused with its line.
#[test]
fn a_repository_round_trip_reaches_every_device_with_moves_conflicts_and_refusals() {
    let server = Server::start();
    let (a, b) = two_devices(&server);
    let ws = personal(&a);
    let col = a.create("collection", &["--set", "name=Shop"]);
    let folder = a.create("folder", &["--parent", &col, "--set", "name=Admin"]);
    let list =
        a.create("request", &["--parent", &col, "--set", "name=List", "--set", "method=GET", "--set", "url=http://127.0.0.1:9/items"]);
    let get =
        a.create("request", &["--parent", &col, "--set", "name=Get", "--set", "method=GET", "--set", "url=http://127.0.0.1:9/items/1"]);
    let gone = a.create(
        "request",
        &["--parent", &col, "--set", "name=Delete me", "--set", "method=DELETE", "--set", "url=http://127.0.0.1:9/items/1"],
    );
    a.run(&["sync"]);

    let tmp = tempfile::tempdir().unwrap();
    let origin = origin(tmp.path());
    git(tmp.path(), &["clone", "-q", origin.to_str().unwrap(), "repo-a"]);
    let repo_a = tmp.path().join("repo-a");
    let dir_a = repo_a.join("postman");

    // A mirrors into its clone; the files are what git commits.
    let out = a.run(&["mirror", &ws, dir_a.to_str().unwrap()]);
    assert!(out.contains("wrote"), "{out}");
    let list_file = find(&dir_a, "List.request.yaml");
    let text = std::fs::read_to_string(&list_file).unwrap();
    assert!(text.starts_with("$kind: http-request\n"), "{text}");
    assert!(text.contains(&format!("id: {list}")), "the request file carries its id: {text}");
    // A second pass with nothing changed writes nothing.
    let again = a.json(&["mirror", &ws, dir_a.to_str().unwrap()]);
    assert_eq!(again["written"], serde_json::json!([]), "{again}");
    assert_eq!(again["applied"], 0, "{again}");
    git(&repo_a, &["add", "-A"]);
    git(&repo_a, &["commit", "-q", "-m", "Shop"]);
    git(&repo_a, &["push", "-q", "origin", "main"]);

    // A second clone: edit one file, rename and move another, delete a third.
    git(tmp.path(), &["clone", "-q", origin.to_str().unwrap(), "repo-b"]);
    let repo_b = tmp.path().join("repo-b");
    let dir_b = repo_b.join("postman");
    let list_b = find(&dir_b, "List.request.yaml");
    let edited = std::fs::read_to_string(&list_b).unwrap().replace("http://127.0.0.1:9/items", "http://127.0.0.1:9/v2/items");
    std::fs::write(&list_b, edited).unwrap();
    let get_b = find(&dir_b, "Get.request.yaml");
    let admin_b = find(&dir_b, "Admin/.resources/definition.yaml").parent().unwrap().parent().unwrap().to_path_buf();
    git(&repo_b, &["mv", &rel(&repo_b, &get_b), &rel(&repo_b, &admin_b.join("Fetch.request.yaml"))]);
    git(&repo_b, &["rm", "-q", &rel(&repo_b, &find(&dir_b, "Delete me.request.yaml"))]);
    git(&repo_b, &["commit", "-q", "-am", "edit, rename, delete"]);
    git(&repo_b, &["push", "-q", "origin", "main"]);

    // A pulls and mirrors: three edits.
    git(&repo_a, &["pull", "-q", "origin", "main"]);
    let pass = a.json(&["mirror", &ws, dir_a.to_str().unwrap()]);
    assert_eq!(pass["applied"], 4, "an edit; a rename and a move (one file, two edits); a delete: {pass}");
    assert_eq!(git(&repo_a, &["status", "--porcelain"]), "", "the pulled files are already what the mirror writes");

    // B, signed in elsewhere, sees all three; the renamed file is the same document.
    b.run(&["sync"]);
    assert_eq!(doc(&b, &list)["fields"]["url"], "http://127.0.0.1:9/v2/items");
    let fetched = doc(&b, &get);
    assert_eq!(fetched["fields"]["name"], "Fetch");
    assert_eq!(fetched["parent_id"], folder.as_str(), "moved into Admin, same id: {fetched}");
    let shown = b.try_run(&["show", &gone]);
    assert!(!shown.status.success(), "the deleted request is gone on B");

    // One change on a device is one changed file in the repository.
    b.run(&["set", &list, "description=from B"]);
    a.run(&["sync"]);
    a.run(&["mirror", &ws, dir_a.to_str().unwrap()]);
    let changed = git(&repo_a, &["status", "--porcelain"]);
    assert_eq!(changed.lines().count(), 1, "{changed}");
    git(&repo_a, &["commit", "-q", "-am", "description"]);

    // A concurrent edit of one field: B changes the url, A's file changes it too.
    b.run(&["set", &list, "url=http://127.0.0.1:9/from-b"]);
    let list_a = find(&dir_a, "List.request.yaml");
    let mine = std::fs::read_to_string(&list_a).unwrap().replace("http://127.0.0.1:9/v2/items", "http://127.0.0.1:9/from-file");
    std::fs::write(&list_a, mine).unwrap();
    a.run(&["mirror", &ws, dir_a.to_str().unwrap()]);
    let conflicts = a.json(&["conflicts"]);
    let all = conflicts.as_array().expect("conflicts list");
    assert_eq!(all.len(), 1, "{conflicts}");
    assert!(all[0].to_string().contains("from-file") && all[0].to_string().contains("from-b"), "{conflicts}");
    b.run(&["sync"]);
    assert_eq!(doc(&b, &list)["fields"]["url"], "http://127.0.0.1:9/from-b", "never a silent overwrite");

    // A merge-conflict marker is refused with its line; nothing of the pass is applied.
    let get_a = find(&dir_a, "Fetch.request.yaml");
    let broken = format!("<<<<<<< HEAD\n{}=======\nurl: x\n>>>>>>> theirs\n", std::fs::read_to_string(&get_a).unwrap());
    std::fs::write(&get_a, broken).unwrap();
    let other = std::fs::read_to_string(&list_a).unwrap().replace("from B", "from the file");
    assert!(other.contains("from the file"), "{other}");
    std::fs::write(&list_a, &other).unwrap();
    let out = a.try_run(&["mirror", &ws, dir_a.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("Fetch.request.yaml") && err.contains("line 1"), "{err}");
    assert_eq!(doc(&a, &list)["fields"]["description"], "from B", "nothing of the pass was applied");
    let status = a.json(&["status", "--cached"]);
    assert!(status["mirrors"][0]["error"].as_str().is_some_and(|e| e.contains("Fetch.request.yaml")), "{status}");
    git(&repo_a, &["checkout", "--", &rel(&repo_a, &get_a)]);
    a.run(&["mirror", &ws, dir_a.to_str().unwrap()]);
    let status = a.json(&["status", "--cached"]);
    assert!(status["mirrors"][0]["error"].is_null(), "{status}");
}

fn all_text(dir: &Path) -> String {
    files_under(dir).iter().map(|p| std::fs::read_to_string(p).unwrap()).collect()
}

/// Environment files hold initial values only: a secret is written empty,
/// a current value never, and editing the file never wipes a secret.
#[test]
fn secrets_and_current_values_never_reach_the_directory() {
    let d = Device::new("solo");
    let env = d.create("environment", &["--set", "name=Prod"]);
    let secret = d.create(
        "variable",
        &["--parent", &env, "--set", "key=token", "--set", "value=s3cret-initial", "--set", "type=secret", "--set", "current=cur-123"],
    );
    let host = d.create("variable", &["--parent", &env, "--set", "key=host", "--set", "value=example.com", "--set", "current=local.test"]);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("postman");
    d.run(&["mirror", "Scratch Pad", dir.to_str().unwrap()]);
    let text = all_text(&dir);
    assert!(text.contains("example.com") && text.contains("key: token"), "{text}");
    for never in ["s3cret-initial", "cur-123", "local.test"] {
        assert!(!text.contains(never), "{never} reached the directory:\n{text}");
    }
    let file = find(&dir, "Prod.environment.yaml");
    let edited = std::fs::read_to_string(&file).unwrap().replace("example.com", "api.example.org");
    std::fs::write(&file, edited).unwrap();
    let pass = d.json(&["mirror", "Scratch Pad", dir.to_str().unwrap()]);
    assert_eq!(pass["applied"], 1, "{pass}");
    assert_eq!(doc(&d, &host)["fields"]["value"], "api.example.org");
    let s = d.json(&["show", &secret, "--reveal"]);
    assert_eq!(s["fields"]["value"], "s3cret-initial", "the empty value in the file is not an edit: {s}");
}

/// Two clones of one repository, mirrored on two machines, converge through
/// the server: a change from either reaches the other's files byte for byte,
/// and a pulled commit the server already has is no edit at all.
#[test]
fn two_mirrors_of_one_repository_converge() {
    let server = Server::start();
    let Shared { a, b, ws, req } = shared(&server, "Orders", "List orders", "http://127.0.0.1:9/orders");
    let tmp = tempfile::tempdir().unwrap();
    let origin = origin(tmp.path());
    git(tmp.path(), &["clone", "-q", origin.to_str().unwrap(), "a"]);
    git(tmp.path(), &["clone", "-q", origin.to_str().unwrap(), "b"]);
    let (repo_a, repo_b) = (tmp.path().join("a"), tmp.path().join("b"));
    let (dir_a, dir_b) = (repo_a.join("postman"), repo_b.join("postman"));

    a.run(&["mirror", &ws, dir_a.to_str().unwrap()]);
    git(&repo_a, &["add", "-A"]);
    git(&repo_a, &["commit", "-q", "-m", "orders"]);
    git(&repo_a, &["push", "-q", "origin", "main"]);
    // B pulls first, then mirrors: the files name the documents B already has.
    git(&repo_b, &["pull", "-q", "origin", "main"]);
    let pass = b.json(&["mirror", &ws, dir_b.to_str().unwrap()]);
    assert_eq!((pass["applied"].as_u64(), pass["written"].as_array().map(Vec::len)), (Some(0), Some(0)), "{pass}");

    // B edits a file and commits; its mirror makes the edit, which reaches A through the server.
    let file_b = find(&dir_b, "List orders.request.yaml");
    std::fs::write(&file_b, std::fs::read_to_string(&file_b).unwrap().replace("/orders", "/orders?page=1")).unwrap();
    let pass = b.json(&["mirror", &ws, dir_b.to_str().unwrap()]);
    assert_eq!(pass["applied"], 1, "{pass}");
    git(&repo_b, &["commit", "-q", "-am", "page"]);
    git(&repo_b, &["push", "-q", "origin", "main"]);
    git(&repo_a, &["pull", "-q", "origin", "main"]);
    let pass = a.json(&["mirror", &ws, dir_a.to_str().unwrap()]);
    assert_eq!(pass["written"], serde_json::json!([]), "A's files already say it: {pass}");
    assert_eq!(git(&repo_a, &["status", "--porcelain"]), "");
    assert_eq!(doc(&a, &req)["fields"]["url"], "http://127.0.0.1:9/orders?page=1");

    // A third way in: an edit on a device lands in both directories alike.
    a.run(&["set", &req, "description=Lists every order"]);
    a.run(&["mirror", &ws, dir_a.to_str().unwrap()]);
    b.run(&["mirror", &ws, dir_b.to_str().unwrap()]);
    assert_eq!(all_text(&dir_a), all_text(&dir_b));
}

/// `mirror --watch` works both ways at once: a change on another device
/// reaches its file, a file edited by hand reaches the other device.
#[test]
fn watch_carries_changes_both_ways() {
    let server = Server::start();
    let Shared { a, b, ws, req } = shared(&server, "Live", "Ping", "http://127.0.0.1:9/ping");
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("postman");
    let mut watcher = a.cmd(&["mirror", &ws, dir.to_str().unwrap(), "--watch", "--for", "60"]).spawn().expect("start the watcher");
    let limit = std::time::Duration::from_secs(10);
    assert!(support::eventually(limit, || dir.join("collections/Live/Ping.request.yaml").exists()), "the watcher wrote the files");
    let file = dir.join("collections/Live/Ping.request.yaml");

    b.run(&["set", &req, "url=http://127.0.0.1:9/from-b"]);
    assert!(
        support::eventually(limit, || std::fs::read_to_string(&file).is_ok_and(|t| t.contains("/from-b"))),
        "B's edit reached A's file"
    );
    let text = std::fs::read_to_string(&file).unwrap().replace("/from-b", "/from-file");
    std::fs::write(&file, text).unwrap();
    assert!(
        support::eventually(limit, || {
            b.run(&["sync"]);
            doc(&b, &req)["fields"]["url"] == "http://127.0.0.1:9/from-file"
        }),
        "the file's edit reached B"
    );
    let _ = watcher.kill();
    let _ = watcher.wait();
}

/// `mirror --background` hands the mirror to the background sync: any
/// `sync --watch` on the profile (what the service runs) keeps it in step,
/// until `mirror --stop`.
#[test]
fn the_background_sync_keeps_marked_mirrors() {
    let server = Server::start();
    let Shared { a, b, ws, req } = shared(&server, "Kept", "Ping", "http://127.0.0.1:9/ping");
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("postman");
    let out = a.run(&["mirror", &ws, dir.to_str().unwrap(), "--background"]);
    assert!(out.contains("background"), "{out}");
    let file = dir.join("collections/Kept/Ping.request.yaml");
    assert!(file.exists());
    let mut service = a.cmd(&["sync", "--watch", "--for", "60"]).spawn().expect("start sync --watch");
    let limit = std::time::Duration::from_secs(15);
    b.run(&["set", &req, "url=http://127.0.0.1:9/kept"]);
    assert!(
        support::eventually(limit, || std::fs::read_to_string(&file).is_ok_and(|t| t.contains("/kept"))),
        "the background sync wrote B's edit into the file"
    );
    // While it runs, a foreground mirror of the same directory is refused, not run twice.
    let twice = a.try_run(&["mirror", &ws, dir.to_str().unwrap()]);
    assert!(!twice.status.success() && stderr(&twice).contains("another apisync process"), "{}", stderr(&twice));
    a.run(&["mirror", &ws, dir.to_str().unwrap(), "--stop"]);
    // Within the supervisor's look-again period the mirror lets go of the directory.
    assert!(support::eventually(limit, || a.try_run(&["mirror", &ws, dir.to_str().unwrap()]).status.success()), "the mirror was let go");
    let _ = service.kill();
    let _ = service.wait();
}
