//! Postman's dynamic variables (`{{$guid}}`, `{{$randomInt}}`, ...): a fresh
//! value at each use, from small built-in word lists rather than a faker
//! library (the values only need the right shape).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

const FIRST: &[&str] = &["Ada", "Alan", "Grace", "Linus", "Margaret", "Ken", "Barbara", "Dennis", "Frances", "Tim", "Radia", "Guido"];
const LAST: &[&str] = &["Lovelace", "Turing", "Hopper", "Torvalds", "Hamilton", "Thompson", "Liskov", "Ritchie", "Allen", "Berners-Lee"];
const PREFIX: &[&str] = &["Mr.", "Mrs.", "Ms.", "Miss", "Dr."];
const SUFFIX: &[&str] = &["Jr.", "Sr.", "I", "II", "III", "IV", "V", "MD", "DDS", "PhD"];
const WORDS: &[&str] = &[
    "bandwidth",
    "protocol",
    "matrix",
    "array",
    "circuit",
    "panel",
    "driver",
    "sensor",
    "firewall",
    "system",
    "pixel",
    "capacitor",
    "alarm",
    "monitor",
    "program",
    "feed",
    "interface",
    "card",
    "port",
    "transmitter",
];
const LOREM: &[&str] = &[
    "lorem",
    "ipsum",
    "dolor",
    "sit",
    "amet",
    "consectetur",
    "adipiscing",
    "elit",
    "sed",
    "do",
    "eiusmod",
    "tempor",
    "incididunt",
    "labore",
    "magna",
    "aliqua",
];
const COLORS: &[&str] = &["red", "green", "blue", "cyan", "magenta", "yellow", "black", "white", "orange", "purple", "teal", "olive"];
const ABBREVIATIONS: &[&str] =
    &["TCP", "HTTP", "SDD", "RAM", "GB", "CSS", "SSL", "AGP", "SQL", "FTP", "PCI", "AI", "ADP", "RSS", "XML", "EXE"];
const LOCALES: &[&str] = &["en", "de", "fr", "es", "it", "nl", "pt", "ja", "zh", "ko", "sv", "pl"];
const USER_AGENTS: &[&str] = &[
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
];
const DOMAINS: &[&str] = &["com", "net", "org", "info", "biz", "io"];
const CITIES: &[&str] = &["Lisbon", "Oslo", "Nairobi", "Osaka", "Lima", "Perth", "Quebec", "Tbilisi", "Hanoi", "Cork"];
const COUNTRIES: &[(&str, &str)] = &[
    ("Portugal", "PT"),
    ("Norway", "NO"),
    ("Kenya", "KE"),
    ("Japan", "JP"),
    ("Peru", "PE"),
    ("Australia", "AU"),
    ("Canada", "CA"),
    ("Georgia", "GE"),
    ("Vietnam", "VN"),
    ("Ireland", "IE"),
];
const STREETS: &[&str] = &["Maple", "Oak", "Cedar", "Elm", "Pine", "Birch", "Willow", "Harbor", "Mill", "Station"];
const STREET_KINDS: &[&str] = &["Street", "Avenue", "Road", "Lane", "Way", "Court"];
const CURRENCIES: &[&str] = &["EUR", "USD", "GBP", "JPY", "CHF", "NOK", "KES", "AUD", "CAD", "BRL"];
const MONTHS: &[&str] =
    &["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
const WEEKDAYS: &[&str] = &["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
const JOB_LEVEL: &[&str] = &["Senior", "Lead", "Principal", "Junior", "Chief", "Staff"];
const JOB_AREA: &[&str] = &["Data", "Security", "Infrastructure", "Marketing", "Research", "Quality"];
const JOB_TYPE: &[&str] = &["Engineer", "Analyst", "Designer", "Manager", "Architect", "Consultant"];
const COMPANY_SUFFIX: &[&str] = &["Inc", "LLC", "Group", "and Sons", "Ltd"];
const MIME: &[(&str, &str)] = &[
    ("application/json", "json"),
    ("text/plain", "txt"),
    ("text/html", "html"),
    ("image/png", "png"),
    ("image/jpeg", "jpg"),
    ("application/pdf", "pdf"),
    ("text/csv", "csv"),
    ("application/xml", "xml"),
];
const PROTOCOLS: &[&str] = &["http", "https"];

/// A random number below `n` (0 when `n` is 0).
fn below(n: u64) -> u64 {
    if n == 0 {
        return 0;
    }
    let mut b = [0u8; 8];
    // An unusable system random source leaves zeros: a dynamic value only
    // needs a plausible shape, never secrecy.
    let _ = getrandom::fill(&mut b);
    u64::from_le_bytes(b) % n
}

fn pick<T: Copy>(list: &[T]) -> T {
    list[below(list.len() as u64) as usize]
}

fn hex(n: usize) -> String {
    (0..n).map(|_| char::from_digit(below(16) as u32, 16).unwrap_or('0')).collect()
}

fn alnum(n: usize) -> String {
    const A: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    (0..n).map(|_| A[below(A.len() as u64) as usize] as char).collect()
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// Now, as [`iso_time`] writes it.
pub fn now_iso() -> String {
    iso_time(now_ms())
}

/// An ISO 8601 UTC time (`2024-05-01T12:00:00.000Z`) for Unix milliseconds.
pub fn iso_time(ms: u64) -> String {
    let secs = ms / 1000;
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z", rem / 3600, rem % 3600 / 60, rem % 60, ms % 1000)
}

fn date_shift(past: bool, max: Duration) -> String {
    let shift = below(max.as_millis() as u64).max(1000);
    let now = now_ms();
    iso_time(if past { now.saturating_sub(shift) } else { now + shift })
}

fn full_name() -> String {
    format!("{} {}", pick(FIRST), pick(LAST))
}

fn domain() -> String {
    format!("{}.{}", pick(WORDS), pick(DOMAINS))
}

/// Set by [`pin`]: every dynamic variable resolves to its own name.
static PINNED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Makes every dynamic variable resolve to `<$name>` instead of a random or
/// clock value, for this process: comparisons with newman (whose generators
/// the test harness pins alike) then see the same bytes from both.
pub fn pin() {
    PINNED.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// The value of dynamic variable `name` (without its `$`), or `None` when
/// Postman has no such variable (or apisync does not make it).
pub fn value(name: &str) -> Option<String> {
    if PINNED.load(std::sync::atomic::Ordering::Relaxed) {
        return generated(name).map(|_| format!("<${name}>"));
    }
    generated(name)
}

fn generated(name: &str) -> Option<String> {
    const DAY: u64 = 86_400;
    let v = match name {
        "guid" | "randomUUID" => uuid::Uuid::new_v4().to_string(),
        "timestamp" => (now_ms() / 1000).to_string(),
        "isoTimestamp" => iso_time(now_ms()),
        "randomInt" => below(1001).to_string(),
        "randomAlphaNumeric" => alnum(1),
        "randomBoolean" => (below(2) == 1).to_string(),
        "randomColor" => pick(COLORS).into(),
        "randomHexColor" => format!("#{}", hex(6)),
        "randomAbbreviation" => pick(ABBREVIATIONS).into(),
        "randomIP" => format!("{}.{}.{}.{}", below(256), below(256), below(256), below(256)),
        "randomIPV6" => (0..8).map(|_| hex(4)).collect::<Vec<_>>().join(":"),
        "randomMACAddress" => (0..6).map(|_| hex(2)).collect::<Vec<_>>().join(":"),
        "randomPassword" => alnum(15),
        "randomLocale" => pick(LOCALES).into(),
        "randomUserAgent" => pick(USER_AGENTS).into(),
        "randomProtocol" => pick(PROTOCOLS).into(),
        "randomSemver" => format!("{}.{}.{}", below(10), below(10), below(10)),
        "randomFirstName" => pick(FIRST).into(),
        "randomLastName" => pick(LAST).into(),
        "randomFullName" => full_name(),
        "randomNamePrefix" => pick(PREFIX).into(),
        "randomNameSuffix" => pick(SUFFIX).into(),
        "randomEmail" | "randomExampleEmail" => {
            format!("{}.{}{}@example.com", pick(FIRST).to_lowercase(), pick(LAST).to_lowercase(), below(100))
        }
        "randomUserName" => format!("{}.{}{}", pick(FIRST), pick(LAST), below(100)),
        "randomUrl" => format!("https://{}", domain()),
        "randomDomainName" => domain(),
        "randomDomainSuffix" => pick(DOMAINS).into(),
        "randomDomainWord" | "randomWord" | "randomNoun" => pick(WORDS).into(),
        "randomWords" => (0..3).map(|_| pick(WORDS)).collect::<Vec<_>>().join(" "),
        "randomPhoneNumber" => format!("{}-{}-{}", 200 + below(800), 100 + below(900), 1000 + below(9000)),
        "randomCity" => pick(CITIES).into(),
        "randomCountry" => pick(COUNTRIES).0.into(),
        "randomCountryCode" => pick(COUNTRIES).1.into(),
        "randomStreetName" => format!("{} {}", pick(STREETS), pick(STREET_KINDS)),
        "randomStreetAddress" => format!("{} {} {}", 1 + below(9999), pick(STREETS), pick(STREET_KINDS)),
        "randomLatitude" => format!("{:.4}", below(1_800_000) as f64 / 10_000.0 - 90.0),
        "randomLongitude" => format!("{:.4}", below(3_600_000) as f64 / 10_000.0 - 180.0),
        "randomPrice" => format!("{}.{:02}", below(1000), below(100)),
        "randomCurrencyCode" => pick(CURRENCIES).into(),
        "randomDateFuture" => date_shift(false, Duration::from_secs(365 * DAY)),
        "randomDatePast" => date_shift(true, Duration::from_secs(365 * DAY)),
        "randomDateRecent" => date_shift(true, Duration::from_secs(DAY)),
        "randomMonth" => pick(MONTHS).into(),
        "randomWeekday" => pick(WEEKDAYS).into(),
        "randomJobTitle" => format!("{} {} {}", pick(JOB_LEVEL), pick(JOB_AREA), pick(JOB_TYPE)),
        "randomJobArea" => pick(JOB_AREA).into(),
        "randomJobType" => pick(JOB_TYPE).into(),
        "randomCompanyName" => format!("{} {}", pick(LAST), pick(COMPANY_SUFFIX)),
        "randomLoremWord" => pick(LOREM).into(),
        "randomLoremWords" => (0..3).map(|_| pick(LOREM)).collect::<Vec<_>>().join(" "),
        "randomLoremSentence" => {
            let words: Vec<&str> = (0..6).map(|_| pick(LOREM)).collect();
            let s = words.join(" ");
            let mut c = s.chars();
            c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str() + ".").unwrap_or_default()
        }
        "randomFileName" => format!("{}.{}", pick(WORDS), pick(MIME).1),
        "randomFileExt" => pick(MIME).1.into(),
        "randomMimeType" => pick(MIME).0.into(),
        _ => return None,
    };
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_have_their_shapes() {
        let g = value("guid").unwrap();
        assert!(uuid::Uuid::parse_str(&g).is_ok(), "{g}");
        assert_ne!(value("guid"), value("guid"), "a fresh value at each use");
        let t: u64 = value("timestamp").unwrap().parse().unwrap();
        assert!(t > 1_700_000_000, "{t}");
        let n: u64 = value("randomInt").unwrap().parse().unwrap();
        assert!(n <= 1000);
        assert!(matches!(value("randomBoolean").as_deref(), Some("true" | "false")));
        let ip = value("randomIP").unwrap();
        assert_eq!(ip.split('.').filter(|p| p.parse::<u8>().is_ok()).count(), 4, "{ip}");
        let hc = value("randomHexColor").unwrap();
        assert!(hc.len() == 7 && hc.starts_with('#') && hc[1..].chars().all(|c| c.is_ascii_hexdigit()), "{hc}");
        assert_eq!(value("randomMACAddress").unwrap().split(':').count(), 6);
        assert_eq!(value("randomIPV6").unwrap().split(':').count(), 8);
        assert!(value("randomEmail").unwrap().contains('@'));
        assert_eq!(value("randomSemver").unwrap().split('.').count(), 3);
        let lat: f64 = value("randomLatitude").unwrap().parse().unwrap();
        assert!((-90.0..=90.0).contains(&lat));
        assert!(value("randomUrl").unwrap().starts_with("https://"));
        assert_eq!(value("randomPassword").unwrap().len(), 15);
        assert_eq!(value("nope"), None);
    }

    #[test]
    fn iso_time_is_utc_iso8601() {
        assert_eq!(iso_time(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso_time(1_709_210_096_789), "2024-02-29T12:34:56.789Z");
        let now = value("isoTimestamp").unwrap();
        assert!(now.len() == 24 && now.ends_with('Z'), "{now}");
        assert!(value("randomDatePast").unwrap() < now && value("randomDateFuture").unwrap() > now);
    }
}
