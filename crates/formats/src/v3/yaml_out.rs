//! YAML text for v3 files, laid out the way Postman's tools lay it out.
//!
//! Postman's CLI writes v3 files with the `yaml` npm package's defaults:
//! two-space indent, sequences indented under their key, plain scalars where
//! they read back as the same string, double quotes otherwise (single quotes
//! when the text holds a `"` and no `'`), multi-line text as `|` or `>`
//! block scalars, and lines folded at 80 columns. Writing the same layout
//! keeps a file apisync writes byte-equal to Postman's when the content is
//! equal, so neither tool rewrites the other's files in a git diff.
//!
//! The rules below follow that package's documented behaviour; every text is
//! also checked to read back unchanged through `serde_yaml_ng` (see the
//! tests), which is what apisync reads with. Widths are counted in UTF-16
//! code units, as JavaScript counts them.

use super::node::Node;

const LINE_WIDTH: usize = 80;
const MIN_CONTENT_WIDTH: usize = 20;
/// Double-quoted text shorter than this keeps `\n` escapes on one line.
const DOUBLE_QUOTED_MIN_MULTILINE: usize = 40;

/// A whole file: the mapping `root`, ending in a newline.
pub(crate) fn document(root: &[(String, Node)]) -> String {
    let mut out = map(root, 0);
    out.push('\n');
    out
}

fn spaces(n: usize) -> String {
    " ".repeat(n)
}

fn u16s(s: &str) -> Vec<u16> {
    s.encode_utf16().collect()
}

fn text(units: &[u16]) -> String {
    String::from_utf16_lossy(units)
}

fn map(pairs: &[(String, Node)], indent: usize) -> String {
    if pairs.is_empty() {
        return "{}".into();
    }
    let sep = format!("\n{}", spaces(indent));
    pairs.iter().map(|(k, v)| pair(k, v, indent)).collect::<Vec<_>>().join(&sep)
}

fn node(n: &Node, indent: usize, at_start: Option<usize>) -> String {
    match n {
        Node::Str(s) => string(s, indent, false, at_start),
        Node::Num(x) => x.to_string(),
        Node::Bool(b) => b.to_string(),
        Node::Null => "null".into(),
        Node::Map(pairs) => map(pairs, indent),
        Node::Seq(items) if items.is_empty() => "[]".into(),
        Node::Seq(items) => {
            let sep = format!("\n{}", spaces(indent));
            items.iter().map(|i| format!("- {}", node(i, indent + 2, None))).collect::<Vec<_>>().join(&sep)
        }
    }
}

fn pair(key: &str, value: &Node, indent: usize) -> String {
    let inner = indent + 2;
    let k = string(key, inner, true, None);
    // Keys longer than YAML's 1024-character limit for implicit keys are written explicitly.
    let explicit = k.encode_utf16().count() > 1024;
    let mut out = if explicit { format!("? {k}\n{}:", spaces(indent)) } else { format!("{k}:") };
    let at_start = (!explicit && !value.is_collection()).then(|| out.encode_utf16().count() + 1);
    let v = node(value, inner, at_start);
    if !explicit && value.is_collection() && !value.is_empty_collection() {
        out.push('\n');
        out.push_str(&spaces(inner));
    } else if !(v.is_empty() || v.starts_with('\n')) {
        out.push(' ');
    }
    out.push_str(&v);
    out
}

/// A string scalar: plain when it reads back as the same string, else quoted or a block.
fn string(value: &str, indent: usize, implicit_key: bool, at_start: Option<usize>) -> String {
    // C0/C1 controls, and what YAML 1.1 readers (libyaml) take for line breaks or a byte-order mark.
    let control = value.chars().any(|c| matches!(c as u32, 0x00..=0x08 | 0x0b..=0x1f | 0x7f..=0x9f | 0x2028 | 0x2029 | 0xfeff));
    if control {
        return double_quoted(value, indent, implicit_key, at_start);
    }
    if implicit_key && value.contains('\n') {
        return quoted(value, indent, implicit_key, at_start);
    }
    if !plain_allowed(value) {
        return if implicit_key || !value.contains('\n') {
            quoted(value, indent, implicit_key, at_start)
        } else {
            checked_block(value, indent, at_start)
        };
    }
    if !implicit_key && value.contains('\n') {
        return checked_block(value, indent, at_start);
    }
    // A top-level key that starts like a document marker would end the document.
    let marker = value.starts_with('%') || value.starts_with("---") || value.starts_with("...");
    if (implicit_key && indent == 2 && marker) || looks_like_other_type(value) || !reads_back_plain(value) {
        return quoted(value, indent, implicit_key, at_start);
    }
    if implicit_key {
        return value.to_string();
    }
    text(&fold(&u16s(value), indent, Fold::Flow, at_start))
}

/// Single quotes when the text holds a `"` and no `'`, else double quotes.
fn quoted(value: &str, indent: usize, implicit_key: bool, at_start: Option<usize>) -> String {
    if value.contains('"') && !value.contains('\'') {
        single_quoted(value, indent, implicit_key, at_start)
    } else {
        double_quoted(value, indent, implicit_key, at_start)
    }
}

/// Whether `value` may be written as a plain scalar at all (indicators, `: `, ` #`, edges).
fn plain_allowed(value: &str) -> bool {
    let b = value.as_bytes();
    let Some(&first) = b.first() else { return false };
    if b"\n\t ,[]{}#&*!|>'\"%@`".contains(&first) {
        return false;
    }
    if value == "?" || value == "-" {
        return false;
    }
    if (first == b'?' || first == b'-') && matches!(b.get(1), Some(b' ' | b'\t')) {
        return false;
    }
    for w in b.windows(2) {
        let bad = (matches!(w[0], b'\n' | b':') && matches!(w[1], b' ' | b'\t'))
            || (matches!(w[0], b' ' | b'\t') && w[1] == b'\n')
            || (matches!(w[0], b'\n' | b'\t' | b' ') && w[1] == b'#');
        if bad {
            return false;
        }
    }
    !matches!(b.last(), Some(b'\n' | b'\t' | b' ' | b':'))
}

/// Whether a plain scalar would read as a null, boolean or number in YAML 1.2's core schema.
fn looks_like_other_type(v: &str) -> bool {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
    let unsigned = v.strip_prefix(['-', '+']).unwrap_or(v);
    let float = |s: &str| match s.split_once('.') {
        Some((a, b)) => (a.is_empty() && digits(b)) || (digits(a) && (b.is_empty() || digits(b))),
        None => false,
    };
    let mantissa = |s: &str| digits(s) || float(s) || (s.ends_with('.') && digits(&s[..s.len() - 1]));
    let exp = |s: &str| match s.split_once(['e', 'E']) {
        Some((m, e)) => mantissa(m) && digits(e.strip_prefix(['-', '+']).unwrap_or(e)),
        None => false,
    };
    matches!(v, "" | "~" | "null" | "Null" | "NULL" | "true" | "True" | "TRUE" | "false" | "False" | "FALSE")
        || matches!(v, ".nan" | ".NaN" | ".NAN")
        || matches!(unsigned, ".inf" | ".Inf" | ".INF")
        || v.strip_prefix("0o").is_some_and(|r| !r.is_empty() && r.bytes().all(|c| (b'0'..=b'7').contains(&c)))
        || v.strip_prefix("0x").is_some_and(|r| !r.is_empty() && r.bytes().all(|c| c.is_ascii_hexdigit()))
        || digits(unsigned)
        || float(unsigned)
        || exp(unsigned)
}

/// Whether apisync's own reader reads `value` written plain as that very string
/// (it also resolves YAML 1.1 forms such as `0b1` or `.5` that Postman's writer leaves plain).
fn reads_back_plain(value: &str) -> bool {
    matches!(serde_yaml_ng::from_str::<serde_yaml_ng::Value>(value), Ok(serde_yaml_ng::Value::String(s)) if s == value)
}

fn push_str(out: &mut Vec<u16>, s: &str) {
    out.extend(s.encode_utf16());
}

fn double_quoted(value: &str, indent: usize, implicit_key: bool, at_start: Option<usize>) -> String {
    // serde_json escapes exactly what JSON.stringify does: `"`, `\` and C0 controls;
    // U+2028, U+2029 and U+FEFF are escaped too, as libyaml would read them raw as breaks.
    let json = serde_json::to_string(value)
        .unwrap_or_default()
        .replace('\u{2028}', "\\L")
        .replace('\u{2029}', "\\P")
        .replace('\u{feff}', "\\uFEFF");
    let json = u16s(&json);
    let at = |i: usize| json.get(i).copied();
    let is = |i: usize, c: char| at(i) == Some(c as u16);
    let mut out: Vec<u16> = Vec::with_capacity(json.len());
    let mut start = 0usize;
    let mut i = 0usize;
    while i < json.len() {
        let mut ch = json[i];
        if ch == b' ' as u16 && is(i + 1, '\\') && is(i + 2, 'n') {
            // A space before a line break is escaped so folding keeps it.
            out.extend_from_slice(&json[start..i]);
            // Right after a line break the escape `\` for this space is already written.
            let escaped = start == i && out.last() == Some(&(b'\\' as u16)) && out.len() >= 2 && out[out.len() - 2] == b' ' as u16;
            push_str(&mut out, if escaped { " " } else { "\\ " });
            i += 1;
            start = i;
            ch = b'\\' as u16;
        }
        if ch == b'\\' as u16 {
            match at(i + 1).map(|c| c as u8 as char) {
                Some('u') => {
                    out.extend_from_slice(&json[start..i]);
                    let code = text(json.get(i + 2..i + 6).unwrap_or(&[]));
                    match code.as_str() {
                        "0000" => push_str(&mut out, "\\0"),
                        "0007" => push_str(&mut out, "\\a"),
                        "000b" => push_str(&mut out, "\\v"),
                        "001b" => push_str(&mut out, "\\e"),
                        c if c.starts_with("00") => push_str(&mut out, &format!("\\x{}", &c[2..])),
                        _ => out.extend_from_slice(json.get(i..i + 6).unwrap_or(&[])),
                    }
                    i += 5;
                    start = i + 1;
                }
                Some('n') => {
                    if implicit_key || is(i + 2, '"') || json.len() < DOUBLE_QUOTED_MIN_MULTILINE {
                        i += 1;
                    } else {
                        // A real line break; folding turns the first of the two into a space.
                        out.extend_from_slice(&json[start..i]);
                        push_str(&mut out, "\n\n");
                        while is(i + 2, '\\') && is(i + 3, 'n') && !is(i + 4, '"') {
                            out.push(b'\n' as u16);
                            i += 2;
                        }
                        push_str(&mut out, &spaces(indent));
                        if is(i + 2, ' ') {
                            out.push(b'\\' as u16);
                        }
                        i += 1;
                        start = i + 1;
                    }
                }
                _ => i += 1,
            }
        }
        i += 1;
    }
    let s = if start > 0 {
        out.extend_from_slice(&json[start.min(json.len())..]);
        out
    } else {
        json
    };
    if implicit_key { text(&s) } else { text(&fold(&s, indent, Fold::Quoted, at_start)) }
}

fn single_quoted(value: &str, indent: usize, implicit_key: bool, at_start: Option<usize>) -> String {
    let edge_ws = value.contains(" \n") || value.contains("\t\n") || value.contains("\n ") || value.contains("\n\t");
    if (implicit_key && value.contains('\n')) || (!implicit_key && edge_ws) {
        return double_quoted(value, indent, implicit_key, at_start);
    }
    let mut res = String::from("'");
    let escaped = value.replace('\'', "''");
    let mut chars = escaped.chars().peekable();
    while let Some(c) = chars.next() {
        res.push(c);
        if c == '\n' && chars.peek() != Some(&'\n') {
            // A run of line breaks gets one more, then the indent.
            res.push('\n');
            res.push_str(&spaces(indent));
        }
    }
    res.push('\'');
    if implicit_key { res } else { text(&fold(&u16s(&res), indent, Fold::Flow, at_start)) }
}

/// A block scalar, unless apisync's reader would read it back differently
/// (libyaml refuses some whitespace-only lines that other readers accept):
/// then double quotes, which read back the same everywhere.
fn checked_block(value: &str, indent: usize, at_start: Option<usize>) -> String {
    let out = block(value, indent, at_start);
    if out.starts_with(['|', '>']) && !reads_back_nested(&out, indent, value) {
        return double_quoted(value, indent, false, at_start);
    }
    out
}

/// Whether `rendered`, the value of a key whose content sits at `indent`, reads back as `expected`.
fn reads_back_nested(rendered: &str, indent: usize, expected: &str) -> bool {
    let depth = indent / 2;
    let mut doc = String::new();
    for level in 0..depth.saturating_sub(1) {
        doc.push_str(&spaces(level * 2));
        doc.push_str("k:\n");
    }
    doc.push_str(&spaces(depth.saturating_sub(1) * 2));
    doc.push_str("k: ");
    doc.push_str(rendered);
    doc.push('\n');
    let Ok(mut v) = serde_yaml_ng::from_str::<serde_yaml_ng::Value>(&doc) else { return false };
    for _ in 0..depth.max(1) {
        v = match v.get("k") {
            Some(inner) => inner.clone(),
            None => return false,
        };
    }
    v.as_str() == Some(expected)
}

/// Whether any line of `s` is longer than the width left after `indent`.
fn line_over_limit(s: &[u16], indent: usize) -> bool {
    let limit = LINE_WIDTH.saturating_sub(indent);
    if s.len() <= limit {
        return false;
    }
    let mut start = 0;
    for (i, &c) in s.iter().enumerate() {
        if c == b'\n' as u16 {
            if i - start > limit {
                return true;
            }
            start = i + 1;
            if s.len() - start <= limit {
                return false;
            }
        }
    }
    true
}

fn is_ws(c: u16) -> bool {
    c == b' ' as u16 || c == b'\t' as u16 || c == b'\n' as u16
}

/// A multi-line string as a `>` (folded) block when a line is too long and
/// folding can bring every line within the width, else as a `|` (literal) block.
fn block(value: &str, indent: usize, at_start: Option<usize>) -> String {
    let v = u16s(value);
    let nl = b'\n' as u16;
    let sp = b' ' as u16;
    // A block cannot end in whitespace after its last line break.
    let ends_in_indented_ws = {
        let trimmed = v.iter().rposition(|&c| c != sp && c != b'\t' as u16);
        trimmed.is_some_and(|p| p + 1 < v.len() && v[p] == nl)
    };
    if ends_in_indented_ws {
        return quoted(value, indent, false, at_start);
    }
    let pad: Vec<u16> = u16s(&spaces(indent));
    let literal = !line_over_limit(&v, indent);
    // Trailing whitespace decides the chomping indicator.
    let end_start = v.iter().rposition(|&c| !is_ws(c)).map_or(0, |p| p + 1);
    let tail = &v[end_start..];
    let chomp = match tail.iter().position(|&c| c == nl) {
        None => "-",
        Some(n) if tail.len() == v.len() || n != tail.len() - 1 => "+",
        Some(_) => "",
    };
    let end_raw: Vec<u16> = if tail.last() == Some(&nl) { tail[..tail.len() - 1].to_vec() } else { tail.to_vec() };
    let end = indent_breaks(&end_raw, &pad, false);
    let body = &v[..end_start];
    // Leading spaces and line breaks: an explicit indentation indicator when spaces lead.
    let lead = body.iter().position(|&c| c != nl && c != sp).unwrap_or(body.len());
    let with_space = body[..lead].contains(&sp);
    let start_len = body[..lead].iter().rposition(|&c| c == nl).map_or(0, |p| p + 1);
    let start = indent_breaks(&body[..start_len], &pad, true);
    let value = &body[start_len..];
    let header = format!("{}{chomp}", if with_space { "2" } else { "" });
    if !literal {
        // Folded: every line break is written doubled, except around more-indented lines.
        let mut doubled = Vec::with_capacity(value.len() + 8);
        let mut i = 0;
        while i < value.len() {
            if value[i] == nl {
                doubled.push(nl);
                while i < value.len() && value[i] == nl {
                    doubled.push(nl);
                    i += 1;
                }
            } else {
                doubled.push(value[i]);
                i += 1;
            }
        }
        let folded = indent_breaks(&keep_more_indented(&doubled), &pad, true);
        let mut all = start.clone();
        all.extend(folded);
        all.extend(end.iter().copied());
        let (body, overflow) = fold_checked(&all, indent, Fold::Block, Some(indent));
        // A line folding cannot shorten: Postman writes the text literally instead.
        if !overflow {
            return format!(">{header}\n{}{}", spaces(indent), text(&body));
        }
    }
    let value = indent_breaks(value, &pad, true);
    format!("|{header}\n{}{}{}{}", spaces(indent), text(&start), text(&value), text(&end))
}

/// After each run of line breaks, `pad`; with `at_end` false, not after a run that ends the text.
fn indent_breaks(s: &[u16], pad: &[u16], at_end: bool) -> Vec<u16> {
    let nl = b'\n' as u16;
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        out.push(s[i]);
        if s[i] == nl && s.get(i + 1) != Some(&nl) && (at_end || i + 1 < s.len()) {
            out.extend_from_slice(pad);
        }
        i += 1;
    }
    out
}

/// In folded text, a line that starts with a space or tab is kept apart from
/// its neighbours: the doubled break before it and the one after it go.
fn keep_more_indented(s: &[u16]) -> Vec<u16> {
    let nl = b'\n' as u16;
    let blank = |c: u16| c == b' ' as u16 || c == b'\t' as u16;
    let mut out = Vec::with_capacity(s.len());
    let mut pos = 0;
    while pos < s.len() {
        let line_start = if pos == 0 && blank(s[0]) {
            Some(0)
        } else if s[pos] == nl && s.get(pos + 1).is_some_and(|&c| blank(c)) {
            Some(pos + 1)
        } else {
            None
        };
        let Some(ls) = line_start else {
            out.push(s[pos]);
            pos += 1;
            continue;
        };
        let le = s[ls..].iter().position(|&c| c == nl).map_or(s.len(), |p| ls + p);
        out.extend_from_slice(&s[ls..le]);
        let k = s[le..].iter().position(|&c| !is_ws(c)).map_or(s.len(), |p| le + p);
        if k > le && s[k - 1] == nl {
            out.extend_from_slice(&s[le..k - 1]);
            pos = k;
        } else {
            pos = le;
        }
    }
    out
}

#[derive(Clone, Copy, PartialEq)]
enum Fold {
    /// Plain and single-quoted scalars: break at a single space between words.
    Flow,
    /// Folded block scalars: more-indented lines are not folded.
    Block,
    /// Double-quoted scalars: may also break with a `\` escape.
    Quoted,
}

/// Lines longer than the width broken at spaces (each continuation starts with `indent` spaces).
fn fold(s: &[u16], indent: usize, mode: Fold, at_start: Option<usize>) -> Vec<u16> {
    fold_checked(s, indent, mode, at_start).0
}

/// [`fold`], and whether some line stayed longer than the width.
fn fold_checked(s: &[u16], indent: usize, mode: Fold, at_start: Option<usize>) -> (Vec<u16>, bool) {
    let sp = b' ' as u16;
    let tab = b'\t' as u16;
    let nl = b'\n' as u16;
    let end_step = (1 + MIN_CONTENT_WIDTH).max((1 + LINE_WIDTH).saturating_sub(indent)) as isize;
    if s.len() as isize <= end_step {
        return (s.to_vec(), false);
    }
    let mut folds: Vec<usize> = Vec::new();
    let mut escaped: std::collections::HashSet<usize> = std::collections::HashSet::new();
    let mut end = LINE_WIDTH as isize - indent as isize;
    if let Some(a) = at_start {
        if a > LINE_WIDTH - 2usize.max(MIN_CONTENT_WIDTH) {
            folds.push(0);
        } else {
            end = (LINE_WIDTH - a) as isize;
        }
    }
    let mut split: Option<usize> = None;
    let mut prev: Option<u16> = None;
    let mut overflow = false;
    let mut i: isize = -1;
    let (mut esc_start, mut esc_end): (isize, isize) = (-1, -1);
    if mode == Fold::Block {
        i = more_indented(s, i, indent);
        if i != -1 {
            end = i + end_step;
        }
    }
    loop {
        i += 1;
        let Some(&c) = s.get(i as usize) else { break };
        let mut ch = Some(c);
        if mode == Fold::Quoted && c == b'\\' as u16 {
            esc_start = i;
            i += match s.get(i as usize + 1).map(|&c| c as u8) {
                Some(b'x') => 3,
                Some(b'u') => 5,
                Some(b'U') => 9,
                _ => 1,
            };
            esc_end = i;
        }
        if c == nl {
            if mode == Fold::Block {
                i = more_indented(s, i, indent);
            }
            end = i + indent as isize + end_step;
            split = None;
        } else {
            if c == sp && prev.is_some_and(|p| p != sp && p != nl && p != tab) {
                let next = s.get(i as usize + 1).copied();
                if next.is_some_and(|n| n != sp && n != nl && n != tab) {
                    split = Some(i as usize);
                }
            }
            if i >= end {
                if let Some(at) = split {
                    folds.push(at);
                    end = at as isize + end_step;
                    split = None;
                } else if mode == Fold::Quoted {
                    // Whitespace at the end may stretch past the width.
                    while prev == Some(sp) || prev == Some(tab) {
                        prev = ch;
                        i += 1;
                        ch = s.get(i as usize).copied();
                        overflow = true;
                    }
                    let mut j = if i > esc_end + 1 { i - 2 } else { esc_start - 1 };
                    // Never between the two halves of a character outside the BMP.
                    if j > 0 && s.get(j as usize).is_some_and(|&c| (0xD800..0xDC00).contains(&c)) {
                        j -= 1;
                    }
                    if j < 0 || escaped.contains(&(j as usize)) {
                        return (s.to_vec(), overflow);
                    }
                    folds.push(j as usize);
                    escaped.insert(j as usize);
                    end = j + end_step;
                    split = None;
                } else {
                    overflow = true;
                }
            }
        }
        prev = ch;
        if ch.is_none() {
            break;
        }
    }
    if folds.is_empty() {
        return (s.to_vec(), overflow);
    }
    let pad = u16s(&spaces(indent));
    let mut res: Vec<u16> = s[..folds[0]].to_vec();
    for (n, &f) in folds.iter().enumerate() {
        let stop = folds.get(n + 1).copied().filter(|&x| x != 0).unwrap_or(s.len());
        if f == 0 {
            res = vec![nl];
            res.extend_from_slice(&pad);
            res.extend_from_slice(&s[..stop]);
        } else {
            if mode == Fold::Quoted && escaped.contains(&f) {
                res.push(s[f]);
                res.push(b'\\' as u16);
            }
            res.push(nl);
            res.extend_from_slice(&pad);
            res.extend_from_slice(&s[(f + 1).min(stop)..stop]);
        }
    }
    (res, overflow)
}

/// From `i + 1`, a line start: skips lines indented deeper than `indent`;
/// returns the index of the last line break among them (or `i`).
fn more_indented(s: &[u16], mut i: isize, indent: usize) -> isize {
    let blank = |c: Option<&u16>| c.is_some_and(|&c| c == b' ' as u16 || c == b'\t' as u16);
    let mut end = i;
    let mut start = i + 1;
    let mut ch = s.get(start as usize);
    while blank(ch) {
        if i < start + indent as isize {
            i += 1;
            ch = s.get(i as usize);
        } else {
            loop {
                i += 1;
                ch = s.get(i as usize);
                if ch.is_none() || ch == Some(&(b'\n' as u16)) {
                    break;
                }
            }
            end = i;
            start = i + 1;
            ch = s.get(start as usize);
        }
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn one(key: &str, value: Node) -> String {
        document(&[(key.to_string(), value)])
    }

    fn s(v: &str) -> Node {
        Node::Str(v.to_string())
    }

    #[test]
    fn scalars_are_quoted_as_postman_quotes_them() {
        assert_eq!(one("value", s("1")), "value: \"1\"\n");
        assert_eq!(one("content", s("{\"ok\":true}")), "content: '{\"ok\":true}'\n");
        assert_eq!(one("name", s("Names: a/b ünï")), "name: \"Names: a/b ünï\"\n");
        assert_eq!(one("X-Api-Key", s("{{postman_api_key}}")), "X-Api-Key: \"{{postman_api_key}}\"\n");
        assert_eq!(one("url", s("http://127.0.0.1:{{port}}/one?x=1")), "url: http://127.0.0.1:{{port}}/one?x=1\n");
        assert_eq!(one("content", s("")), "content: \"\"\n");
        assert_eq!(one("content", Node::Map(vec![])), "content: {}\n");
        assert_eq!(one("src", Node::Seq(vec![])), "src: []\n");
        assert_eq!(one("a", s("true")), "a: \"true\"\n");
        assert_eq!(one("a", s("0b1")), "a: \"0b1\"\n");
    }

    #[test]
    fn nesting_and_blocks() {
        let doc = document(&[
            ("variables".into(), Node::Seq(vec![Node::Map(vec![("key".into(), s("port")), ("value".into(), s("1"))])])),
            ("code".into(), s("a\nb")),
            ("m".into(), Node::Map(vec![("k".into(), Node::Bool(true))])),
        ]);
        assert_eq!(doc, "variables:\n  - key: port\n    value: \"1\"\ncode: |-\n  a\n  b\nm:\n  k: true\n");
    }

    #[test]
    fn long_plain_text_folds_at_80_columns() {
        let d = "A simple V2.1 collection to elucidate nested auth helpers, variables, and scripts";
        assert_eq!(
            one("description", s(d)),
            "description: A simple V2.1 collection to elucidate nested auth helpers,\n  variables, and scripts\n"
        );
    }

    fn back(doc: &str) -> serde_json::Value {
        serde_yaml_ng::from_str(doc).unwrap_or_else(|e| panic!("{e}\n{doc}"))
    }

    fn json_strategy() -> impl Strategy<Value = serde_json::Value> {
        let text = prop_oneof![
            "[a-z \\n:#'\"\\-?{}\\[\\],&*!|>%@`\\t]{0,30}",
            "\\PC{0,120}",
            "[ a-z\\n]{60,200}",
            "[a-z]{1,12}( [a-z]{1,12}){0,30}",
            "(\\n|  |x|\\t|\\\\|\"|\u{1}|é|日){0,90}",
        ];
        let leaf = prop_oneof![
            text.prop_map(serde_json::Value::String),
            any::<i64>().prop_map(serde_json::Value::from),
            any::<bool>().prop_map(serde_json::Value::from),
            Just(serde_json::Value::Null),
            (-1e9f64..1e9).prop_map(serde_json::Value::from),
        ];
        leaf.prop_recursive(3, 24, 5, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::Array),
                prop::collection::btree_map("[a-zA-Z0-9 :#\\-{}\\n]{0,12}", inner, 0..4)
                    .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(600))]
        /// Whatever is written reads back as the same value.
        #[test]
        fn round_trips(v in json_strategy(), key in "[a-zA-Z$ :\\-]{1,10}") {
            let doc = document(&[(key.clone(), Node::from_json(&v))]);
            let got = back(&doc);
            prop_assert_eq!(got.get(&key), Some(&v), "{}", doc);
        }
    }
}
