/**
 * nn-export: a model file as an ONNX file, for onnxruntime and every other ONNX runtime.
 *
 *   nn-export runs/cnn/model.json                    writes runs/cnn/model.onnx
 *   nn-export model.json -o cat-or-dog.onnx --input float32
 *   nn-export model.json -o - | gzip > model.onnx.gz
 *
 * A thin layer over src/export/onnx.ts: parse the command line (pure, for tests), read the model
 * (one line naming the file and the field for any defect), check where the file goes before any
 * work, build the graph, write it atomically (or to stdout with -o -, never onto a terminal).
 * A line for people on stderr; the ONNX bytes only where -o says.
 *
 * Exit codes: 0 written; 1 runtime failure (a full disk); 2 usage error, a missing or invalid model
 * file (a checkpoint, an unknown version), an output path whose folder is missing or unwritable.
 */
import { basename, dirname, extname, join } from 'node:path';
import { Command, Option } from 'commander';
import { describeFsError, EXIT, UserError } from '../errors.ts';
import type { OnnxInputType } from '../export/onnx.ts';
import { checkOutputFile, writeFileAtomic } from '../files.ts';
import { readModelFileOrRunFolder } from '../io/model-file.ts';
import { NN_TRAIN_VERSION } from '../version.ts';
import { parseOrHelp, runCommand } from './common.ts';

// The choices of --input, listed here rather than imported from src/export/onnx.ts, which loads
// onnx-proto: the Record makes the compiler check them against the exporter's type both ways.
const INPUT_TYPE_SET: Record<OnnxInputType, true> = { uint8: true, float32: true };
const INPUT_TYPES = Object.keys(INPUT_TYPE_SET) as OnnxInputType[];

export interface ExportArgs {
  model: string;
  /** The ONNX file, or '-' for stdout. */
  output: string;
  inputType: OnnxInputType;
  quiet: boolean;
}

export type ParsedExportCli = { kind: 'help'; text: string } | { kind: 'run'; args: ExportArgs };

/** The default output: the model's path with .onnx in place of its extension (model.json -> model.onnx). */
export function defaultOutputPath(model: string): string {
  const ext = extname(model);
  return join(dirname(model), `${basename(model, ext)}.onnx`);
}

function buildProgram(): Command {
  return new Command('nn-export')
    .description('Write a model trained by nn-train as an ONNX file: input image [N, height, width, channels] pixels, output p_dog [N, 1].')
    .argument('<model>', 'model file written by nn-train (model.json in a run folder)')
    .option('-o, --output <file>', 'the ONNX file to write, or - for stdout (default: the model path with .onnx in place of .json)')
    .addOption(new Option('--input <type>', "the input's element type: uint8 (pixel bytes, as decoders give them) or float32 (the same 0-255 values as floats)").choices(INPUT_TYPES).default('uint8'))
    .option('-q, --quiet', 'print only errors on stderr', false)
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  nn-export runs/cnn/model.json                      # writes runs/cnn/model.onnx',
        '  nn-export model.json -o cat-or-dog.onnx --input float32',
        '  nn-export model.json -o - | gzip > model.onnx.gz   # stdout (never onto a terminal)',
        '',
        'The graph does the scaling and standardisation itself: feed it the image resized as the',
        'model was trained (size, fit and colour are in the metadata_props of the file), HWC, RGB or grey.',
        'The file is written atomically: a failed export leaves any file already there untouched.',
        'Exit codes: 0 written, 1 runtime failure (a full disk), 2 usage error, missing or invalid',
        'model file (a checkpoint, an unknown version), output folder missing or not writable.',
      ].join('\n'),
    )
    .version(NN_TRAIN_VERSION);
}

/** Parses nn-export's arguments (argv without node and the script); pure, for tests. */
export function parseExportCli(argv: readonly string[]): ParsedExportCli {
  const program = buildProgram();
  const help = parseOrHelp(program, argv, 'nn-export');
  if (help !== null) return { kind: 'help', text: help };
  const [model] = program.processedArgs as [string];
  const opts = program.opts();
  const output = (opts.output as string | undefined) ?? defaultOutputPath(model);
  if (output === '') throw new UserError('-o: expected a file name or - (see nn-export --help)');
  return { kind: 'run', args: { model, output, inputType: opts.input as OnnxInputType, quiet: opts.quiet as boolean } };
}

export async function main(argv: string[]): Promise<number> {
  return runCommand('nn-export', async () => {
    const parsed = parseExportCli(argv);
    if (parsed.kind === 'help') {
      process.stdout.write(parsed.text);
      return EXIT.ok;
    }
    const { model: modelPath, output, inputType, quiet } = parsed.args;
    const toStdout = output === '-';
    if (toStdout && process.stdout.isTTY) {
      throw new UserError('will not write a binary ONNX file onto the terminal: give -o FILE, or redirect stdout (-o - > model.onnx)');
    }
    const model = readModelFileOrRunFolder(modelPath);
    if (!toStdout) checkOutputFile(output, 'the ONNX file', modelPath);

    // onnx-proto (and protobufjs) load only once the command line, the model and the path are good.
    const { exportOnnx } = await import('../export/onnx.ts');
    const onnx = exportOnnx(model, inputType);
    if (toStdout) await writeStdout(onnx.bytes);
    else writeOutput(output, onnx.bytes);

    if (!quiet) {
      const { height, width, channels } = onnx.input;
      const where = toStdout ? 'stdout' : output;
      process.stderr.write(
        `nn-export: wrote ${where}: ${onnx.bytes.length.toLocaleString('en-US')} bytes, ${onnx.ops.length} nodes; ` +
          `input image [N, ${height}, ${width}, ${channels}] ${inputType}, output p_dog [N, 1]\n`,
      );
    }
    return EXIT.ok;
  });
}

/** Atomic write; a failure here (the checks passed) is a runtime failure such as a full disk. */
function writeOutput(path: string, bytes: Uint8Array): void {
  try {
    writeFileAtomic(path, bytes);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const exit = code === 'EACCES' || code === 'EPERM' || code === 'ENOENT' || code === 'ENOTDIR' || code === 'EROFS' ? EXIT.usage : EXIT.failure;
    throw new UserError(`${path}: cannot write the ONNX file: ${describeFsError(err)}`, exit);
  }
}

/** Writes the bytes to stdout and waits until they are handed over (errors: runCommand's handler). */
function writeStdout(bytes: Uint8Array): Promise<void> {
  return new Promise((resolve) => process.stdout.write(bytes, () => resolve()));
}
