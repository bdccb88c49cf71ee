//! Any bytes into every importer: no panic, and whatever imports is valid
//! and exports again.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut n = 0u128;
    let mut mint = || {
        n += 1;
        model::Id::from_u128(n)
    };
    if let Ok(imported) = formats::import(data, model::Id::nil(), &mut mint) {
        for d in &imported.documents {
            assert!(model::schema::check_document(d.kind, &d.fields).is_ok(), "an import produced an invalid document");
        }
        for c in imported.documents.iter().filter(|d| d.kind == model::Kind::Collection) {
            let _ = formats::export_collection(c, &imported.documents);
        }
        let _ = formats::export_dump(&imported.documents);
    }
});
