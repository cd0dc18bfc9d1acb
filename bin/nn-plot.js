#!/usr/bin/env node
// Thin launcher: the command lives in dist/cli/nn-plot.js, built from src/cli/nn-plot.ts by `npm run build`.
import { main } from '../dist/cli/nn-plot.js';

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
