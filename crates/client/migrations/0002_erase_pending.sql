-- Profiles of earlier versions deleted without `secure_delete`, so a
-- signed-out account's bytes may still sit in free space: erase them once
-- (`erase.rs`). A new profile has no `meta` row yet and nothing to erase.
-- The number also keeps an older apisync, which would ignore a pending
-- erase, from opening the profile.
INSERT OR REPLACE INTO meta (key, value) SELECT 'erase_pending', '1' WHERE EXISTS (SELECT 1 FROM meta);
