//! Other tenants, for tests and the benchmark: many workspaces, each with
//! its owner, device, session and membership, a document tree and stored
//! results, written straight into a migrated PostgreSQL
//! database with `generate_series` (a million documents in half a minute,
//! not a million pushes).
//!
//! Document `n` of a fill belongs to workspace `n % W` and is that
//! workspace's document `k = n / W`, so each workspace's documents are
//! spread through the table as if its people wrote them over time, between
//! everybody else's. In each workspace: document 0 is the workspace, 1–2
//! collections, 3–12 folders in them, then requests in the folders, every
//! fifth followed by a response under it; one request in twenty is
//! deleted. Ids are UUID v7 in creation order, as devices mint them.

use sqlx::{AssertSqlSafe, Connection, PgConnection};

/// How many documents of one workspace a fill writes, before the next workspace.
pub const PER_WORKSPACE: u64 = 100;

/// Documents written per statement, so a fill of millions is a series of
/// bounded transactions.
const CHUNK: u64 = 100_000;

/// What a fill wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Crowd {
    pub workspaces: u64,
    pub docs: u64,
}

/// `crowd_id(seed, n, t0)`: a UUID v7 whose time is `t0 + n` milliseconds
/// and whose other bits come from the seed and `n`.
const ID_FUNCTION: &str = r#"
CREATE FUNCTION pg_temp.crowd_id(seed text, n bigint, t0 bigint) RETURNS uuid LANGUAGE sql IMMUTABLE AS $$
SELECT encode(set_bit(set_bit(set_bit(set_bit(set_bit(set_bit(
    overlay(decode(md5(seed || ':' || n), 'hex') PLACING substring(int8send(t0 + n) FROM 3) FROM 1),
    52, 1), 53, 1), 54, 1), 55, 0), 70, 0), 71, 1), 'hex')::uuid
$$"#;

/// Adds `docs` documents in new workspaces of [`PER_WORKSPACE`] documents
/// each (the last ones smaller), with everything that goes with them, to
/// the migrated database at `url`. Every fill makes new ids, so a database
/// can be filled more than once. Statistics are left as they were.
pub async fn fill(url: &str, docs: u64) -> Result<Crowd, sqlx::Error> {
    if docs == 0 {
        return Ok(Crowd { workspaces: 0, docs: 0 });
    }
    let workspaces = docs.div_ceil(PER_WORKSPACE);
    let seed = model::Id::now_v7().simple().to_string();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64);
    // Document ids count up from a day ago, a millisecond apart.
    let t0 = now - 86_400_000;
    let (w, n) = (workspaces as i64, docs as i64);
    let mut conn = PgConnection::connect(url).await?;
    // A lost fill is simply made again: no need to wait for each flush.
    sqlx::query("SET synchronous_commit = off").execute(&mut conn).await?;
    sqlx::raw_sql(AssertSqlSafe(ID_FUNCTION)).execute(&mut conn).await?;
    // The temporary tables live as long as this connection.
    sqlx::query(
        "CREATE TEMP TABLE crowd_ws AS
         SELECT w, pg_temp.crowd_id($1 || 'w', w, $3) AS ws, pg_temp.crowd_id($1 || 'u', w, $3) AS usr,
                pg_temp.crowd_id($1 || 'd', w, $3) AS device, nextval(pg_get_serial_sequence('devices', 'num')) AS num
         FROM generate_series(0, $2 - 1) w",
    )
    .bind(&seed)
    .bind(w)
    .bind(t0)
    .execute(&mut conn)
    .await?;
    sqlx::query(
        "INSERT INTO users (id, email, username, password_hash, created_at)
         SELECT usr, 'crowd-' || $1 || '-' || w || '@example.com', 'crowd-' || $1 || '-' || w, 'not a password hash', $2 FROM crowd_ws",
    )
    .bind(&seed)
    .bind(now)
    .execute(&mut conn)
    .await?;
    sqlx::query(
        "INSERT INTO devices (num, user_id, device_id, name, signed_in_at, last_seen_at, signed_in)
         SELECT num, usr, device, 'crowd', $1, $1, true FROM crowd_ws",
    )
    .bind(now)
    .execute(&mut conn)
    .await?;
    sqlx::query("INSERT INTO sessions (token_hash, device_num, created_at) SELECT md5($1 || 's' || w), num, $2 FROM crowd_ws")
        .bind(&seed)
        .bind(now)
        .execute(&mut conn)
        .await?;
    // A workspace's sequence is its number of documents: one change each.
    sqlx::query(
        "INSERT INTO workspaces (id, name, owner_id, personal, seq, created_at)
         SELECT ws, 'Crowd ' || w, usr, true, ($1 - 1 - w) / $2 + 1, $3 FROM crowd_ws",
    )
    .bind(n)
    .bind(w)
    .bind(now)
    .execute(&mut conn)
    .await?;
    sqlx::query("INSERT INTO members (workspace_id, user_id, role) SELECT ws, usr, 'owner' FROM crowd_ws").execute(&mut conn).await?;
    // The documents and their results, chunk by chunk
    // (a chunk's parents are earlier documents of the same workspace).
    sqlx::query("CREATE TEMP TABLE crowd_docs (n bigint, k bigint, ws uuid, num bigint, id uuid, mid uuid)").execute(&mut conn).await?;
    let mut from = 0;
    while from < n {
        let to = (from + CHUNK as i64).min(n);
        sqlx::query(
            "INSERT INTO crowd_docs
             SELECT g, g / $3, c.ws, c.num, CASE WHEN g / $3 = 0 THEN c.ws ELSE pg_temp.crowd_id($4, g, $5) END,
                    pg_temp.crowd_id($4 || 'm', g, $5)
             FROM generate_series($1, $2 - 1) g JOIN crowd_ws c ON c.w = g % $3",
        )
        .bind(from)
        .bind(to)
        .bind(w)
        .bind(&seed)
        .bind(t0)
        .execute(&mut conn)
        .await?;
        sqlx::query(
            r#"INSERT INTO docs (id, workspace_id, kind, parent_id, order_key, fields, clocks, deleted_seq, deleted_dev, version)
            SELECT id, ws,
                CASE WHEN k = 0 THEN 'workspace' WHEN k < 3 THEN 'collection' WHEN k < 13 THEN 'folder'
                     WHEN k % 5 = 4 THEN 'response' ELSE 'request' END,
                CASE WHEN k < 3 THEN NULL
                     WHEN k < 13 THEN pg_temp.crowd_id($1, (1 + k % 2) * $2 + n % $2, $3)
                     WHEN k % 5 = 4 THEN pg_temp.crowd_id($1, (k - 1) * $2 + n % $2, $3)
                     ELSE pg_temp.crowd_id($1, (3 + k % 10) * $2 + n % $2, $3) END,
                CASE WHEN k = 0 THEN NULL ELSE 'V' END,
                CASE WHEN k = 0 THEN '{"name":"Crowd ' || n % $2 || '"}'
                     WHEN k < 3 THEN '{"name":"Collection ' || k || '"}'
                     WHEN k < 13 THEN '{"name":"Folder ' || k || '"}'
                     WHEN k % 5 = 4 THEN '{"name":"200 OK","code":200,"status":"OK","body":"{\"id\":' || k || '}"}'
                     ELSE '{"name":"Get order ' || k || '","method":"GET","url":{"raw":"{{baseUrl}}/orders/' || k
                          || '?expand=items","host":["{{baseUrl}}"],"path":["orders","' || k
                          || '"],"query":[{"key":"expand","value":"items"}]},"header":[{"key":"Accept","value":"application/json"},'
                          || '{"key":"Authorization","value":"Bearer {{token}}"}]}' END,
                '{}',
                CASE WHEN k >= 13 AND k % 20 = 0 THEN k + 1 END,
                CASE WHEN k >= 13 AND k % 20 = 0 THEN num END,
                k + 1
            FROM crowd_docs"#,
        )
        .bind(&seed)
        .bind(w)
        .bind(t0)
        .execute(&mut conn)
        .await?;
        sqlx::query(
            r#"INSERT INTO mutations (workspace_id, device_num, mutation_id, result)
            SELECT ws, num, mid, '{"mutation_id":"' || mid || '","status":"applied","version":' || (k + 1) || '}' FROM crowd_docs"#,
        )
        .execute(&mut conn)
        .await?;
        sqlx::query("TRUNCATE crowd_docs").execute(&mut conn).await?;
        from = to;
    }
    Ok(Crowd { workspaces, docs })
}

/// Refreshes the planner's statistics of the whole database, as the
/// server's own analyzer does once pushes have written that much (rows
/// written straight in SQL are not counted by any server), then writes a
/// checkpoint when allowed to, so that what comes next is not measured
/// while the fill's pages are written back. Whether it could checkpoint.
pub async fn settle(url: &str) -> Result<bool, sqlx::Error> {
    let mut conn = PgConnection::connect(url).await?;
    sqlx::query("ANALYZE").execute(&mut conn).await?;
    // CHECKPOINT needs a superuser or pg_checkpoint.
    Ok(sqlx::query("CHECKPOINT").execute(&mut conn).await.is_ok())
}

/// The documents in the database, every workspace's, tombstones included.
pub async fn documents(url: &str) -> Result<u64, sqlx::Error> {
    let mut conn = PgConnection::connect(url).await?;
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM docs").fetch_one(&mut conn).await?;
    Ok(n as u64)
}
