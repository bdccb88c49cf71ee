//! Times a v3 export and import of a large generated collection: `cargo run --release -p formats --example v3_export_time`.

use model::Id;
use serde_json::{Value, json};
use std::time::Instant;

fn collection(requests: usize) -> Value {
    let folders: Vec<Value> = (0..requests.div_ceil(100))
        .map(|f| {
            let items: Vec<Value> = (f * 100..((f + 1) * 100).min(requests))
                .map(|i| {
                    json!({
                        "name": format!("Request {i}"),
                        "event": [{ "listen": "test", "script": { "type": "text/javascript", "exec": ["pm.test(\"ok\", function () { pm.response.to.have.status(200); });"] } }],
                        "request": {
                            "method": "POST",
                            "header": [{ "key": "Content-Type", "value": "application/json" }],
                            "body": { "mode": "raw", "raw": format!("{{\"item\":{i}}}"), "options": { "raw": { "language": "json" } } },
                            "url": format!("{{{{base}}}}/items/{i}?page=1")
                        }
                    })
                })
                .collect();
            json!({ "name": format!("Folder {f}"), "item": items })
        })
        .collect();
    json!({ "info": { "name": "Bench", "schema": formats::SCHEMA_V21 }, "variable": [{ "key": "base", "value": "http://127.0.0.1:9" }], "item": folders })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let mut next = 1u128;
    let mut mint = move || {
        next += 1;
        Id::from_u128(next)
    };
    let ws = Id::from_u128(1);
    let imported = formats::import(&serde_json::to_vec(&collection(n))?, ws, &mut mint)?;
    let docs = imported.documents;
    for _ in 0..3 {
        let t = Instant::now();
        let out = formats::v3::export_v3_workspace(&docs, &formats::v3::WriteOptions::default())?;
        let export = t.elapsed();
        let t = Instant::now();
        let read = formats::v3::import_v3(&out.files, ws, &mut mint)?;
        println!(
            "{n} requests: export {export:?} ({} files), import {:?} ({} documents)",
            out.files.len(),
            t.elapsed(),
            read.import.documents.len()
        );
    }
    Ok(())
}
