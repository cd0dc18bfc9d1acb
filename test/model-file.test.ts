import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readModelFile, writeModelFile } from '../src/io/files.ts';
import {
  Network,
  Rng,
  initParams,
  parameterCount,
  type Architecture,
} from '../src/nn/index.ts';
import { encodeModel, type Model } from '../src/io/model-file.ts';
import { rmSync } from 'node:fs';

const arch: Architecture = { inputSize: 4 * 4 * 3, hidden: [8, 5], activation: 'relu' };
let dir: string;

function makeModel(): Model {
  const params = new Float32Array(parameterCount(arch));
  initParams(arch, params, new Rng(5));
  params[3] = 1e-42; // a subnormal float32 must survive too
  params[4] = -0; // and the sign of zero
  return {
    architecture: arch,
    preprocessing: { width: 4, height: 4, channels: 3, fit: 'fill', scale: 1 / 255, mean: [0.5, 0.4, 0.3], std: [0.2, 0.2, 0.25] },
    params,
    meta: { epoch: 3, note: 'test' },
  };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'nn-model-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('model file', () => {
  it('round-trips to bit-identical weights and predictions', () => {
    const model = makeModel();
    const path = join(dir, 'model.json');
    writeModelFile(path, model);
    const loaded = readModelFile(path);
    expect(loaded.architecture).toEqual(model.architecture);
    expect(loaded.preprocessing).toEqual(model.preprocessing);
    expect(loaded.meta).toEqual(model.meta);
    expect(new Uint8Array(loaded.params.buffer)).toEqual(new Uint8Array(model.params.buffer));

    const X = new Float32Array(2 * arch.inputSize).map((_, i) => Math.sin(i));
    const before = new Float32Array(2);
    const after = new Float32Array(2);
    new Network(arch, 2, model.params).predict(X, 2, before);
    new Network(arch, 2, loaded.params).predict(X, 2, after);
    expect(after).toEqual(before);
  });

  describe('refuses a bad file with one line naming the file and what is wrong', () => {
    const good = () => JSON.parse(encodeModel(makeModel())) as Record<string, any>;
    const cases: [string, () => string, RegExp][] = [
      ['empty', () => '', /the file is empty/],
      ['truncated', () => encodeModel(makeModel()).slice(0, 200), /not valid JSON.*truncated/],
      ['not JSON', () => 'hello: world', /not valid JSON/],
      ['a JSON array', () => '[1,2]', /expected an object/],
      ['another format', () => JSON.stringify({ ...good(), format: 'keras' }), /format: expected "nn-train-model", found the string "keras"/],
      ['a newer version', () => JSON.stringify({ ...good(), version: 2 }), /version: expected 1, found number 2 \(written by a newer nn-train\)/],
      ['too few weights', () => {
        const doc = good();
        doc.weights.count = 12;
        return JSON.stringify(doc);
      }, /weights\.count: the architecture needs 443 weights, the file says number 12/],
      ['weights shorter than the count', () => {
        const doc = good();
        doc.weights.data = doc.weights.data.slice(0, 40);
        return JSON.stringify(doc);
      }, /weights\.data: holds 30 bytes, expected 1772 \(443 float32\)/],
      ['bad base64', () => {
        const doc = good();
        doc.weights.data = '@@@@' + doc.weights.data.slice(4);
        return JSON.stringify(doc);
      }, /weights\.data: is not valid base64/],
      ['an unknown activation', () => {
        const doc = good();
        doc.architecture.activation = 'swish';
        return JSON.stringify(doc);
      }, /architecture\.activation: expected one of relu, leaky_relu, sigmoid, tanh, linear/],
      ['a hidden size of zero', () => {
        const doc = good();
        doc.architecture.hidden = [8, 0];
        return JSON.stringify(doc);
      }, /architecture\.hidden\[1\]: expected a whole number/],
      ['input size not matching the image size', () => {
        const doc = good();
        doc.preprocessing.width = 5;
        return JSON.stringify(doc);
      }, /architecture\.inputSize: is 48 but preprocessing gives 5x4x3 = 60/],
      ['a NaN weight', () => {
        const m = makeModel();
        m.params[7] = NaN;
        return encodeModel(m);
      }, /weights\.data: weight 7 is NaN/],
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
      const text = encodeModel(makeModel()).replace('"architecture":', '"__proto__":{"polluted":true,"inputSize":1},"architecture":');
      writeFileSync(join(dir, 'proto.json'), text);
      const loaded = readModelFile(join(dir, 'proto.json'));
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(loaded.architecture.inputSize).toBe(doc.architecture.inputSize);

      const noArch = JSON.stringify({ ...doc, architecture: undefined }).replace('"preprocessing"', '"__proto__":{"inputSize":48,"hidden":[],"activation":"relu"},"preprocessing"');
      writeFileSync(join(dir, 'proto2.json'), noArch);
      expect(() => readModelFile(join(dir, 'proto2.json'))).toThrow(/architecture: expected an object, found nothing/);
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
});
