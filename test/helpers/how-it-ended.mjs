// Runs a command and prints how it ended, "[ended: signal SIGINT]" or "[ended: exit 130]": a shell's
// $? cannot tell a program killed by SIGINT from one that called exit(130), and shells act on the
// difference (see src/cli/signals.ts). The terminal's Ctrl-C reaches this process too: it ignores it.
//   node test/helpers/how-it-ended.mjs node bin/nn-train.js --config x.json
import { spawnSync } from 'node:child_process';

process.on('SIGINT', () => {});
process.on('SIGTERM', () => {});
const [command, ...args] = process.argv.slice(2);
const r = spawnSync(command, args, { stdio: 'inherit' });
process.stdout.write(r.signal !== null ? `[ended: signal ${r.signal}]\n` : `[ended: exit ${r.status}]\n`);
