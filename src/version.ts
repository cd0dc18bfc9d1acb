/**
 * nn-train's version, from package.json (bundled into dist/ by the build, so it is right however the
 * command is started: through npm, npx, a link or `node bin/...`).
 */
import packageJson from '../package.json' with { type: 'json' };

export const NN_TRAIN_VERSION: string = packageJson.version;
