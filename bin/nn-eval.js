#!/usr/bin/env node
// Thin launcher: the command lives in dist/cli/nn-eval.js, built from src/cli/nn-eval.ts by `npm run build`.
import { main } from '../dist/cli/nn-eval.js';

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
