#!/usr/bin/env node
// Thin launcher: the command lives in dist/cli/nn-export.js, built from src/cli/nn-export.ts by `npm run build`.
import { main } from '../dist/cli/nn-export.js';

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
