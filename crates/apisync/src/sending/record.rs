//! What a send leaves behind in synced documents: a history entry per send
//! and, when asked, a saved example (`response`) under the request. Both
//! have every secret masked; a body too large for a synced field stays on
//! this device only and the entry says so.

use super::mask;
use model::Fields;
use runner::{Outgoing, Received};
use serde_json::{Value, json};

/// The largest response body a history entry carries in its synced `response`
/// field; larger ones are kept on this device only (the model allows
/// [`model::Limits::FIELD_BYTES`] per field, and headers and escaping need room).
pub const HISTORY_BODY_BYTES: usize = 512 * 1024;

/// How a body is kept with a history entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BodyPlace {
    /// In the synced document.
    Synced,
    /// In a file on this device only (too large, or not text).
    Local,
    /// There was none.
    Empty,
}

/// Where a response's body goes: synced when it is text under the limit.
pub fn body_place(r: &Received) -> BodyPlace {
    if r.body.is_empty() {
        BodyPlace::Empty
    } else if r.body.len() <= HISTORY_BODY_BYTES && std::str::from_utf8(&r.body).is_ok() {
        BodyPlace::Synced
    } else {
        BodyPlace::Local
    }
}

fn headers(h: &[(String, String)]) -> Vec<Value> {
    h.iter().map(|(k, v)| json!({ "key": k, "value": v })).collect()
}

/// The language Postman previews a body in, from its content type.
pub fn preview_language(r: &Received) -> &'static str {
    let ct = r.header("content-type").unwrap_or("").to_ascii_lowercase();
    if ct.contains("json") {
        "json"
    } else if ct.contains("xml") {
        "xml"
    } else if ct.contains("html") {
        "html"
    } else if ct.contains("javascript") {
        "javascript"
    } else {
        "text"
    }
}

/// A history entry's fields for one send. `place` says where the body is.
pub fn history(
    name: &str,
    sent: &Outgoing,
    r: &Received,
    place: &BodyPlace,
    ids: (Option<String>, Option<String>),
    secrets: &[String],
) -> Fields {
    let (collection_id, request_id) = ids;
    let mut response = json!({
        "code": r.code,
        "status": r.status,
        "header": headers(&r.headers),
        "time": r.time_ms,
        "timings": r.timings,
        "size": r.body.len(),
        "url": r.url,
        "http_version": r.http_version,
        "body": Value::Null,
    });
    match place {
        BodyPlace::Synced => response["body"] = Value::String(r.text()),
        BodyPlace::Local => {
            response["body_kept"] = json!("on the device that sent it only (too large or not text); `apisync body ID` shows it there")
        }
        BodyPlace::Empty => {}
    }
    let mut fields = json!({
        "name": name,
        "method": sent.method,
        "url": sent.url,
        "request": sent.to_postman(),
        "response": response,
        "code": r.code,
        "response_time": r.time_ms.round(),
        "at": runner::dynamic::iso_time(now_ms()),
        "collection_id": collection_id,
        "request_id": request_id,
    });
    mask::value(&mut fields, secrets);
    if let Value::Object(o) = &fields
        && model::schema::check_document(model::Kind::History, o).is_err()
    {
        // Only a large request body can push the entry past the limits (the response's is capped).
        fields["request"]["body"] =
            json!({ "mode": "raw", "raw": format!("(not kept: {} bytes, too large for a history entry)", sent.body.len()) });
    }
    match fields {
        Value::Object(o) => o,
        _ => Fields::new(),
    }
}

/// A saved example's fields (Postman's `response` shape); an error when its body is too large for a synced field.
pub fn example(name: &str, sent: &Outgoing, r: &Received, secrets: &[String]) -> anyhow::Result<Fields> {
    if r.body.len() > HISTORY_BODY_BYTES || std::str::from_utf8(&r.body).is_err() {
        anyhow::bail!(
            "the response body ({} bytes) is not text of at most {HISTORY_BODY_BYTES} bytes, so it cannot be saved as an example; the history entry has the rest",
            r.body.len()
        );
    }
    let mut fields = json!({
        "name": name,
        "originalRequest": sent.to_postman(),
        "status": r.status,
        "code": r.code,
        "header": headers(&r.headers),
        "cookie": [],
        "body": r.text(),
        "_postman_previewlanguage": preview_language(r),
        "responseTime": r.time_ms.round(),
        "timings": r.timings,
    });
    mask::value(&mut fields, secrets);
    let fields = match fields {
        Value::Object(o) => o,
        _ => Fields::new(),
    };
    model::schema::check_document(model::Kind::Response, &fields).map_err(|e| anyhow::anyhow!("the example cannot be saved: {e}"))?;
    Ok(fields)
}

fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn received(body: &[u8]) -> Received {
        Received {
            code: 200,
            status: "OK".into(),
            headers: vec![("content-type".into(), "application/json".into()), ("x-echo".into(), "tok-123".into())],
            body: body.to_vec(),
            time_ms: 12.3,
            ..Received::default()
        }
    }

    fn sent() -> Outgoing {
        runner::prepare(
            &json!({"method": "POST", "url": "http://h/x?k=tok-123", "header": [{"key": "Authorization", "value": "Bearer tok-123"}]}),
            &[],
            &runner::Scopes::default(),
            std::path::Path::new("."),
        )
        .unwrap()
        .outgoing
    }

    #[test]
    fn a_history_entry_masks_secrets_everywhere() {
        let r = received(b"{\"token\":\"tok-123\"}");
        let place = body_place(&r);
        assert_eq!(place, BodyPlace::Synced);
        let f = history("Login", &sent(), &r, &place, (None, Some("rid".into())), &["tok-123".into()]);
        let text = Value::Object(f.clone()).to_string();
        assert!(!text.contains("tok-123"), "{text}");
        assert_eq!(f["code"], 200);
        assert_eq!(f["request"]["method"], "POST");
        assert!(f["response"]["body"].as_str().unwrap().contains("token"));
        model::schema::check_document(model::Kind::History, &f).unwrap();
    }

    #[test]
    fn a_large_or_binary_body_stays_local() {
        let big = received(&vec![b'a'; HISTORY_BODY_BYTES + 1]);
        assert_eq!(body_place(&big), BodyPlace::Local);
        assert_eq!(body_place(&received(&[0xff, 0xfe])), BodyPlace::Local);
        assert_eq!(body_place(&received(b"")), BodyPlace::Empty);
        let f = history("Big", &sent(), &big, &BodyPlace::Local, (None, None), &[]);
        assert!(f["response"]["body"].is_null());
        assert!(f["response"]["body_kept"].as_str().unwrap().contains("apisync body"));
        assert_eq!(f["response"]["size"], HISTORY_BODY_BYTES + 1);
        model::schema::check_document(model::Kind::History, &f).unwrap();
        assert!(example("Big", &sent(), &big, &[]).is_err());
    }

    #[test]
    fn an_example_has_postmans_response_shape() {
        let f = example("OK", &sent(), &received(b"{}"), &["tok-123".into()]).unwrap();
        assert_eq!((f["code"].clone(), f["_postman_previewlanguage"].clone()), (json!(200), json!("json")));
        assert!(!Value::Object(f).to_string().contains("tok-123"));
    }
}
