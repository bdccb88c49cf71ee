//! Response bodies as a person reads them: JSON, XML and HTML indented,
//! other text as it came.

/// `body` indented when `content_type` says JSON (and it parses), XML or HTML; else as it is.
pub fn body(content_type: &str, body: &str) -> String {
    let ct = content_type.to_ascii_lowercase();
    let looks_json = ct.contains("json") || (ct.is_empty() && matches!(body.trim_start().chars().next(), Some('{' | '[')));
    if looks_json && let Ok(v) = serde_json::from_str::<serde_json::Value>(body) {
        return serde_json::to_string_pretty(&v).unwrap_or_else(|_| body.to_string());
    }
    if ct.contains("xml") {
        return xml(body);
    }
    if ct.contains("html") {
        return markup(body, true);
    }
    body.to_string()
}

/// HTML's elements that never have a closing tag.
const VOID: &[&str] = &["area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"];

/// Whether an opening tag (`<br class=x>`) names a void element.
fn is_void(tag: &str) -> bool {
    let name: String = tag.trim_start_matches('<').chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
    VOID.iter().any(|v| v.eq_ignore_ascii_case(&name))
}

/// XML with one element per line, indented by depth (text kept on its element's line).
pub fn xml(text: &str) -> String {
    markup(text, false)
}

/// XML, or HTML when `html` (void elements open nothing), one element per line.
fn markup(text: &str, html: bool) -> String {
    let mut out = String::new();
    let mut depth: usize = 0;
    let mut rest = text.trim();
    // Each step consumes at least one byte, so the loop ends.
    while !rest.is_empty() {
        if let Some(tag_start) = rest.strip_prefix('<') {
            let Some(end) = tag_start.find('>') else {
                if !out.is_empty() && !out.ends_with('\n') {
                    out.push('\n');
                }
                out.push_str(rest);
                break;
            };
            let tag = &rest[..end + 2];
            rest = rest[end + 2..].trim_start();
            let closing = tag.starts_with("</");
            let standalone = tag.ends_with("/>") || tag.starts_with("<?") || tag.starts_with("<!") || (html && is_void(tag));
            if closing {
                depth = depth.saturating_sub(1);
            }
            if !out.is_empty() && !out.ends_with('\n') && closing {
                out.push_str(tag);
                out.push('\n');
                continue;
            }
            if !out.is_empty() && !out.ends_with('\n') {
                out.push('\n');
            }
            out.push_str(&"  ".repeat(depth));
            out.push_str(tag);
            if !closing && !standalone {
                depth += 1;
                // Short text content stays on the opening tag's line.
                if let Some(lt) = rest.find('<')
                    && lt > 0
                {
                    out.push_str(rest[..lt].trim());
                    rest = &rest[lt..];
                    continue;
                }
            }
            out.push('\n');
        } else {
            let lt = rest.find('<').unwrap_or(rest.len());
            out.push_str(&"  ".repeat(depth));
            out.push_str(rest[..lt].trim());
            out.push('\n');
            rest = &rest[lt..];
        }
    }
    out.trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_and_xml_are_indented_and_other_text_kept() {
        assert_eq!(body("application/json; charset=utf-8", "{\"a\":[1]}"), "{\n  \"a\": [\n    1\n  ]\n}");
        assert_eq!(body("application/json", "{broken"), "{broken");
        assert_eq!(body("text/plain", "{\"a\":1}"), "{\"a\":1}");
        assert_eq!(
            body("application/xml", "<?xml version=\"1.0\"?><a><b>hi</b><c/><d><e>1</e></d></a>"),
            "<?xml version=\"1.0\"?>\n<a>\n  <b>hi</b>\n  <c/>\n  <d>\n    <e>1</e>\n  </d>\n</a>"
        );
        assert_eq!(xml("<a>unclosed <b"), "<a>unclosed\n<b");
        assert_eq!(
            body("text/html; charset=utf-8", "<!DOCTYPE html><html><head><meta charset=utf-8></head><body><p>Hi<br></p></body></html>"),
            "<!DOCTYPE html>\n<html>\n  <head>\n    <meta charset=utf-8>\n  </head>\n  <body>\n    <p>Hi\n      <br>\n    </p>\n  </body>\n</html>"
        );
    }
}
