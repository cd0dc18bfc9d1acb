#!/usr/bin/env node
// Thin launcher: the command lives in dist/cli/nn-train.js, built from src/cli/nn-train.ts by `npm run build`.
import { main } from '../dist/cli/nn-train.js';

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
