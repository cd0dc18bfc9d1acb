import { closeSync, linkSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTIVATION_NAMES, Network, initParams, planNetwork, type LayerSpec, type NetworkSpec } from '../src/nn/index.ts';
import { Rng } from '../src/random/rng.ts';
import { encodeModel, type Model, readModelFile, writeModelFile } from '../src/io/model-file.ts';
import { encodeFloats } from '../src/io/json-document.ts';
import { rmSync } from 'node:fs';

/** A small CNN with every kind of buffer: conv weights, batch norm parameters and statistics, dense. */
const LAYERS: LayerSpec[] = [
  { type: 'conv', filters: 3, kernel: 3, stride: 1, padding: 'same', bias: false },
  { type: 'batchnorm', momentum: 0.1, epsilon: 1e-5 },
  { type: 'relu' },
  { type: 'maxpool', size: 2, stride: 2 },
  { type: 'flatten' },
  { type: 'dense', units: 5, bias: true },
  { type: 'relu' },
  { type: 'dropout', rate: 0.5 },
  { type: 'dense', units: 1, bias: true },
];
const network: NetworkSpec = { input: { height: 4, width: 4, channels: 3 }, layers: LAYERS };
const plan = planNetwork(network);
let dir: string;

function makeModel(): Model {
  const params = new Float32Array(plan.paramCount);
  initParams(plan, params, new Rng(5));
  params[3] = 1e-42; // a subnormal float32 must survive too
  params[4] = -0; // and the sign of zero
  const stats = Float32Array.from({ length: plan.statCount }, (_, i) => 0.1 + i / 7);
  return {
    network,
    preprocessing: { width: 4, height: 4, channels: 3, fit: 'fill', scale: 1 / 255, mean: [0.5, 0.4, 0.3], std: [0.2, 0.2, 0.25] },
    params,
    stats,
    meta: { epoch: 3, note: 'test' },
  };
}

/** A model file of version 1 (a dense stack), as nn-train wrote them before layer lists. */
function version1Text(): { text: string; params: Float32Array } {
  const v1 = planNetwork({ input: { height: 4, width: 4, channels: 3 }, layers: [{ type: 'dense', units: 8, bias: true }, { type: 'relu' }, { type: 'dense', units: 1, bias: true }] });
  const params = new Float32Array(v1.paramCount);
  initParams(v1, params, new Rng(6));
  const doc = {
    format: 'nn-train-model',
    version: 1,
    architecture: { inputSize: 48, hidden: [8], activation: 'relu' },
    preprocessing: { width: 4, height: 4, channels: 3, fit: 'fill', scale: 1 / 255, mean: null, std: null },
    weights: encodeFloats(params),
    meta: { epoch: 1 },
  };
  return { text: JSON.stringify(doc), params };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'nn-model-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('model file', () => {
  it('round-trips the layer list, bit-identical weights and statistics, and predictions', () => {
    const model = makeModel();
    const path = join(dir, 'model.json');
    writeModelFile(path, model);
    const loaded = readModelFile(path);
    expect(loaded.network).toEqual(model.network);
    expect(loaded.preprocessing).toEqual(model.preprocessing);
    expect(loaded.meta).toEqual(model.meta);
    expect(new Uint8Array(loaded.params.buffer)).toEqual(new Uint8Array(model.params.buffer));
    expect(new Uint8Array(loaded.stats.buffer)).toEqual(new Uint8Array(model.stats.buffer));

    const X = new Float32Array(2 * 48).map((_, i) => Math.sin(i));
    const before = new Float32Array(2);
    const after = new Float32Array(2);
    new Network(plan, 2, model.params, { stats: model.stats }).predict(X, 2, before);
    new Network(plan, 2, loaded.params, { stats: loaded.stats }).predict(X, 2, after);
    expect(after).toEqual(before);
  });

  it('still reads version 1 files (a dense stack, no statistics) with their weights in place', () => {
    const { text, params } = version1Text();
    const path = join(dir, 'v1.json');
    writeFileSync(path, text);
    const loaded = readModelFile(path);
    expect(loaded.network).toEqual({
      input: { height: 4, width: 4, channels: 3 },
      layers: [{ type: 'dense', units: 8, bias: true }, { type: 'relu' }, { type: 'dense', units: 1, bias: true }],
    });
    expect(loaded.params).toEqual(params);
    expect(loaded.stats.length).toBe(0);
  });

  describe('refuses a bad file with one line naming the file and what is wrong', () => {
    const good = () => JSON.parse(encodeModel(makeModel())) as Record<string, any>;
    const cases: [string, () => string, RegExp][] = [
      ['empty', () => '', /the file is empty/],
      ['truncated', () => encodeModel(makeModel()).slice(0, 200), /not valid JSON.*truncated/],
      ['not JSON', () => 'hello: world', /not valid JSON/],
      ['a JSON array', () => '[1,2]', /expected an object/],
      ['another format', () => JSON.stringify({ ...good(), format: 'keras' }), /format: expected "nn-train-model", found "keras"/],
      ['a newer version', () => JSON.stringify({ ...good(), version: 3 }), /version: expected 1 or 2, found 3 \(written by a newer nn-train\)/],
      ['too few weights', () => {
        const doc = good();
        doc.weights.count = 12;
        return JSON.stringify(doc);
      }, new RegExp(`weights\\.count: the network needs ${plan.paramCount} weights, the file says 12`)],
      ['weights shorter than the count', () => {
        const doc = good();
        doc.weights.data = doc.weights.data.slice(0, 40);
        return JSON.stringify(doc);
      }, new RegExp(`weights\\.data: holds 30 bytes, expected ${plan.paramCount * 4} \\(${plan.paramCount} float32\\)`)],
      ['bad base64', () => {
        const doc = good();
        doc.weights.data = '@@@@' + doc.weights.data.slice(4);
        return JSON.stringify(doc);
      }, /weights\.data: is not valid base64/],
      ['a character base64 does not have, mid-way (which a decoder would skip)', () => {
        const doc = good();
        const d = doc.weights.data;
        doc.weights.data = d.slice(0, 20) + '.' + d.slice(20, -4) + d.slice(-3);
        return JSON.stringify(doc);
      }, /weights\.data: is not valid base64/],
      ['statistics of another network', () => {
        const doc = good();
        doc.statistics = encodeFloats(new Float32Array(4));
        return JSON.stringify(doc);
      }, new RegExp(`statistics\\.count: the network needs ${plan.statCount} statistics, the file says 4`)],
      ['an unknown layer type', () => {
        const doc = good();
        doc.network.layers[2].type = 'swish';
        return JSON.stringify(doc);
      }, /network\.layers\[2\]\.type: expected "type" to be one of/],
      ['a layer field out of range', () => {
        const doc = good();
        doc.network.layers[0].kernel = 9;
        return JSON.stringify(doc);
      }, /network\.layers\[0\]\.kernel: expected a number <= 7, found 9/],
      ['layers whose shapes do not fit', () => {
        const doc = good();
        doc.network.layers[3].size = 5;
        return JSON.stringify(doc);
      }, /network\.layers\[3\]: maxpool 5x5, stride 2 does not fit its input of 4x4x3/],
      ['an unknown activation (version 1)', () => {
        const doc = JSON.parse(version1Text().text);
        doc.architecture.activation = 'swish';
        return JSON.stringify(doc);
      }, new RegExp(`architecture\\.activation: expected one of ${ACTIVATION_NAMES.map((name) => `"${name}"`).join(', ')}, found "swish"`)],
      ['a hidden size of zero (version 1)', () => {
        const doc = JSON.parse(version1Text().text);
        doc.architecture.hidden = [8, 0];
        return JSON.stringify(doc);
      }, /architecture\.hidden\[1\]: expected a number >= 1, found 0/],
      ['input size not matching the image size (version 1)', () => {
        const doc = JSON.parse(version1Text().text);
        doc.preprocessing.width = 5;
        return JSON.stringify(doc);
      }, /architecture\.inputSize: is 48 but preprocessing gives 5x4x3 = 60/],
      ['a network input not matching the image size', () => {
        const doc = good();
        doc.preprocessing.width = 5;
        return JSON.stringify(doc);
      }, /network\.input: is 4x4x3 but preprocessing gives 4x5x3/],
      ['a NaN weight', () => {
        const m = makeModel();
        m.params[7] = NaN;
        return encodeModel(m);
      }, /weights\.data: value 7 is NaN/],
    ];
    for (const [name, text, message] of cases) {
      it(name, () => {
        const path = join(dir, `bad-${name.replace(/\W+/g, '-')}.json`);
        writeFileSync(path, text());
        let error: Error | undefined;
        try {
          readModelFile(path);
        } catch (e) {
          error = e as Error;
        }
        expect(error?.name).toBe('UserError');
        expect(error?.message.startsWith(`${path}: bad model file: `)).toBe(true);
        expect(error?.message).toMatch(message);
        expect(error?.message).not.toContain('\n');
      });
    }

    it('a missing path or a folder', () => {
      expect(() => readModelFile(join(dir, 'nope.json'))).toThrow(`${join(dir, 'nope.json')}: cannot read the model file: no such file or folder`);
      mkdirSync(join(dir, 'folder.json'));
      expect(() => readModelFile(join(dir, 'folder.json'))).toThrow(/folder\.json: cannot read the model file: is a folder/);
    });

    it('__proto__ keys neither pollute prototypes nor stand in for real fields', () => {
      const doc = good();
      const text = encodeModel(makeModel()).replace('"network":', '"__proto__":{"polluted":true,"input":{"height":1,"width":1,"channels":1}},"network":');
      writeFileSync(join(dir, 'proto.json'), text);
      const loaded = readModelFile(join(dir, 'proto.json'));
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(loaded.network.input).toEqual(doc.network.input);

      const noNetwork = JSON.stringify({ ...doc, network: undefined }).replace('"preprocessing"', '"__proto__":{"input":{"height":4,"width":4,"channels":3},"layers":[]},"preprocessing"');
      writeFileSync(join(dir, 'proto2.json'), noNetwork);
      expect(() => readModelFile(join(dir, 'proto2.json'))).toThrow(/network: required, expected an object/);
    });
  });

  it('writes atomically: the previous file stays whole if the new one cannot be written', () => {
    const path = join(dir, 'atomic.json');
    writeModelFile(path, makeModel());
    const before = readFileSync(path, 'utf8');
    const broken = makeModel();
    broken.params = new Float32Array(3); // encodeModel refuses: wrong count
    expect(() => writeModelFile(path, broken)).toThrow();
    expect(readFileSync(path, 'utf8')).toBe(before);
  });

  it('writes atomically: the new file replaces the old one whole, never rewriting it in place', () => {
    // What a write in place (truncate, then write) would show from outside: a reader that opened
    // the old file, or a second name (hard link) for it, sees the bytes change under it, and a
    // crash in the middle leaves a cut-off file at the path. A replacement by rename leaves the
    // old file untouched for whoever holds it, and puts the new one at the path in one step.
    const folder = join(dir, 'atomic-replace');
    mkdirSync(folder);
    const path = join(folder, 'model.json');
    writeModelFile(path, makeModel());
    const before = readFileSync(path);
    const oldInode = statSync(path).ino;
    const held = join(dir, 'atomic-replace-held.json');
    linkSync(path, held);
    const fd = openSync(path, 'r');
    try {
      const changed = makeModel();
      changed.params[0] = 42;
      changed.meta = { epoch: 4, note: 'the new one, longer than the old one' };
      writeModelFile(path, changed);
      // The path holds the new model, as a new file.
      expect(readModelFile(path).params[0]).toBe(42);
      expect(statSync(path).ino).not.toBe(oldInode);
      // The old file, through its other name and through the open descriptor, is what it was.
      expect(readFileSync(held).equals(before)).toBe(true);
      const seen = Buffer.alloc(before.length + 16);
      const n = readSync(fd, seen, 0, seen.length, 0);
      expect(seen.subarray(0, n).equals(before)).toBe(true);
    } finally {
      closeSync(fd);
    }
    // No temporary file is left beside it.
    expect(readdirSync(folder)).toEqual(['model.json']);
  });
});
