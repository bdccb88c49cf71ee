/*
 * The Postman Collection Format v2.1.0 schema check (draft-07, ajv), shared by check.js (the
 * Postman tools check of the formats crate) and the app's browser checks of exported downloads.
 */
'use strict';

const fs = require('fs');
const path = require('path');
const Ajv = require('ajv');

/** The schema file the repository keeps (tests/fixtures/postman/schema). */
const SCHEMA_V210 = path.join(__dirname, '../fixtures/postman/schema/collection-v2.1.0.json');

/** A validator for `schemaFile`: gives the distinct errors of a value, none when it is valid. */
function schemaValidator (schemaFile) {
    const ajv = new Ajv({ allErrors: true, strict: false }); // ajv's default class is draft-07
    const validate = ajv.compile(JSON.parse(fs.readFileSync(schemaFile, 'utf8')));
    return (json) => {
        if (validate(json)) { return []; }
        return [...new Set(validate.errors.map((e) => `${e.instancePath || '/'} ${e.message}` +
            (e.params && Object.keys(e.params).length ? ` ${JSON.stringify(e.params)}` : '')))];
    };
}

module.exports = { schemaValidator, SCHEMA_V210 };
