#!/usr/bin/env node
// Validates AsyncAPI documents with the AsyncAPI project's own parser (@asyncapi/parser), as tools will read them.
// Usage: node validate.js FILE...
// Prints every error-severity diagnostic as "FILE: error CODE: MESSAGE (where)", then "FILE: N error(s)" for each
// file, and exits 1 if any file has an error (2 if it could not run). ASYNCAPI_VERBOSE=1 prints the other severities.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { Parser, DiagnosticSeverity } = require('@asyncapi/parser');

const SEVERITY_NAMES = ['error', 'warning', 'information', 'hint'];

function where(diagnostic) {
  const pointer = (diagnostic.path || []).join('/');
  const line = diagnostic.range ? diagnostic.range.start.line + 1 : '?';
  return `line ${line}${pointer ? ` at /${pointer}` : ''}`;
}

async function validate(parser, file) {
  const text = fs.readFileSync(file, 'utf8');
  // The source lets the parser resolve relative $refs against the file; the documents keep theirs internal.
  const { diagnostics } = await parser.parse(text, { source: path.resolve(file) });
  const errors = diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error);
  for (const d of diagnostics) {
    if (d.severity === DiagnosticSeverity.Error || process.env.ASYNCAPI_VERBOSE === '1') {
      console.log(`${file}: ${SEVERITY_NAMES[d.severity] || d.severity} ${d.code}: ${d.message} (${where(d)})`);
    }
  }
  console.log(`${file}: ${errors.length} error(s)`);
  return errors.length;
}

async function main(files) {
  if (files.length === 0) {
    console.error('usage: node validate.js FILE...');
    return 2;
  }
  const parser = new Parser();
  let errors = 0;
  for (const file of files) {
    errors += await validate(parser, file);
  }
  return errors === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(2);
  },
);
