/**
 * Reads the zod schema back as rows (path, type, default, description): the tables of the config
 * reference (src/config/README.md), `--help`'s defaults and the config error messages all come
 * from here, so they cannot drift from the schema.
 */
import type { z } from 'zod';
import { configSchema, layerSchema } from './schema.ts';

export interface ConfigRow {
  /** JSON path, e.g. "training.epochs"; for optimizer fields, "optimizer.beta1". */
  path: string;
  type: string;
  /** JSON of the default, or "" when the field is required. */
  default: string;
  description: string;
  /** For optimizer fields: the optimizer types that take this field. */
  optimizers?: string[];
}

type AnySchema = z.core.$ZodType & { description?: string };

function def(s: AnySchema): any {
  return (s as any)._zod.def;
}

/** Strips default/prefault/nullable/optional wrappers, collecting what they say. */
function unwrap(s: AnySchema): { inner: AnySchema; defaultValue?: unknown; nullable: boolean; description?: string } {
  let description = s.description;
  let defaultValue: unknown;
  let nullable = false;
  let cur = s;
  for (;;) {
    const d = def(cur);
    if (d.type === 'default' || d.type === 'prefault') {
      if (defaultValue === undefined) defaultValue = typeof d.defaultValue === 'function' ? d.defaultValue() : d.defaultValue;
    } else if (d.type === 'nullable') {
      nullable = true;
    } else if (d.type !== 'optional') {
      break;
    }
    cur = d.innerType;
    description ??= cur.description;
  }
  return { inner: cur, defaultValue, nullable, description };
}

export function typeName(s: AnySchema): string {
  const { inner, nullable } = unwrap(s);
  const d = def(inner);
  let name: string;
  switch (d.type) {
    case 'number': {
      const checks = (d.checks ?? []).map((c: any) => c._zod.def);
      const isInt = d.format === 'safeint' || checks.some((c: any) => c.check === 'number_format');
      const lo = checks.find((c: any) => c.check === 'greater_than');
      const hi = checks.find((c: any) => c.check === 'less_than');
      const range = [
        lo ? `${lo.inclusive ? '>=' : '>'} ${lo.value}` : '',
        hi ? `${hi.inclusive ? '<=' : '<'} ${hi.value}` : '',
      ].filter(Boolean);
      name = (isInt ? 'integer' : 'number') + (range.length ? ` ${range.join(', ')}` : '');
      break;
    }
    case 'string':
      name = 'string';
      break;
    case 'boolean':
      name = 'boolean';
      break;
    case 'enum':
      name = Object.values(d.entries).map((v) => JSON.stringify(v)).join(' | ');
      break;
    case 'literal':
      name = d.values.map((v: unknown) => JSON.stringify(v)).join(' | ');
      break;
    case 'union':
      name = [...new Set(d.options.map((o: AnySchema) => typeName(o)))].join(' | ');
      break;
    case 'array':
      name = `array of ${typeName(d.element)}`;
      break;
    case 'object':
      name = 'object';
      break;
    default:
      name = d.type;
  }
  return nullable ? `${name} | null` : name;
}

function objectRows(prefix: string, shape: Record<string, AnySchema>, rows: ConfigRow[]): void {
  for (const [key, field] of Object.entries(shape)) {
    const path = prefix ? `${prefix}.${key}` : key;
    const { inner, defaultValue, description } = unwrap(field);
    const d = def(inner);
    if (d.type === 'object') {
      objectRows(path, d.shape, rows);
    } else if (path === 'optimizer') {
      optimizerRows(d.options, rows, description ?? '', defaultValue);
    } else {
      rows.push({
        path,
        type: typeName(field),
        default: defaultValue === undefined ? '' : JSON.stringify(defaultValue),
        description: description ?? '',
      });
    }
  }
}

/** One row per distinct optimizer field, listing the types that take it. */
function optimizerRows(options: AnySchema[], rows: ConfigRow[], description: string, defaultValue: unknown): void {
  const types = options.map((o) => def(def(o).shape.type).values[0] as string);
  rows.push({
    path: 'optimizer.type',
    type: types.map((t) => JSON.stringify(t)).join(' | '),
    default: JSON.stringify((defaultValue as { type: string }).type),
    description,
  });
  const byPath = new Map<string, ConfigRow>();
  options.forEach((option, i) => {
    for (const [key, field] of Object.entries(def(option).shape as Record<string, AnySchema>)) {
      if (key === 'type') continue;
      const path = `optimizer.${key}`;
      const existing = byPath.get(path);
      if (existing) {
        existing.optimizers!.push(types[i]!);
        continue;
      }
      const { defaultValue: dv, description: desc } = unwrap(field);
      const row: ConfigRow = {
        path,
        type: typeName(field),
        default: dv === undefined ? '' : JSON.stringify(dv),
        description: desc ?? '',
        optimizers: [types[i]!],
      };
      byPath.set(path, row);
      rows.push(row);
    }
  });
}

export function describeConfig(): ConfigRow[] {
  const rows: ConfigRow[] = [];
  objectRows('', (configSchema as any)._zod.def.shape, rows);
  return rows;
}

/** The row of one path, e.g. "training.epochs" (throws on a path the schema does not have). */
export function configRow(path: string): ConfigRow {
  const row = describeConfig().find((r) => r.path === path);
  if (!row) throw new Error(`no config field ${path}`);
  return row;
}

/** The config reference's table (src/config/README.md): one Markdown row per field. */
export function configTableMarkdown(): string {
  const lines = ['| field | type | default | meaning |', '| --- | --- | --- | --- |'];
  for (const r of describeConfig()) {
    const who = r.optimizers ? ` (${r.optimizers.join(', ')})` : '';
    const esc = (s: string) => s.replace(/\|/g, '\\|');
    lines.push(`| \`${r.path}\` | ${esc(r.type)} | ${r.default ? `\`${esc(r.default)}\`` : 'required'} | ${esc(r.description)}${who} |`);
  }
  return lines.join('\n');
}

/** One row per field of each layer type of model.layers (the layer table of src/config/README.md). */
export function describeLayers(): { type: string; description: string; fields: ConfigRow[] }[] {
  return (def(layerSchema as AnySchema).options as AnySchema[]).map((option) => {
    const shape = def(option).shape as Record<string, AnySchema>;
    const type = def(shape.type!).values[0] as string;
    const fields: ConfigRow[] = [];
    for (const [key, field] of Object.entries(shape)) {
      if (key === 'type') continue;
      const { defaultValue, description } = unwrap(field);
      fields.push({ path: key, type: typeName(field), default: defaultValue === undefined ? '' : JSON.stringify(defaultValue), description: description ?? '' });
    }
    return { type, description: shape.type!.description ?? '', fields };
  });
}

/** The layer table of src/config/README.md: one Markdown row per layer type and field. */
export function layerTableMarkdown(): string {
  const lines = ['| `type` | field | type | default | meaning |', '| --- | --- | --- | --- | --- |'];
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  for (const layer of describeLayers()) {
    const what = layer.description || `activation: ${layer.type}(x) element by element`;
    if (layer.fields.length === 0) lines.push(`| \`"${layer.type}"\` | | | | ${esc(what)} |`);
    layer.fields.forEach((r, i) => {
      const name = i === 0 ? `\`"${layer.type}"\`` : '';
      const meaning = `${i === 0 ? `${what}: ` : ''}${r.description}`;
      lines.push(`| ${name} | \`${r.path}\` | ${esc(r.type)} | ${r.default ? `\`${esc(r.default)}\`` : 'required'} | ${esc(meaning)} |`);
    });
  }
  return lines.join('\n');
}

/**
 * The same table for a terminal (`nn-train --help-config`): one block per field, its path with the
 * type and the default, then the meaning wrapped to `width` columns.
 *
 *   training.epochs   integer >= 1, <= 100000; default 10
 *                     passes over the training set
 */
export function configReference(width: number): string {
  const rows = describeConfig();
  const indent = Math.max(...rows.map((r) => r.path.length)) + 3;
  const wrap = (text: string): string[] => {
    const room = Math.max(20, width - indent - 1);
    const lines: string[] = [];
    let line = '';
    for (const word of text.split(' ')) {
      if (line !== '' && line.length + 1 + word.length > room) {
        lines.push(line);
        line = word;
      } else {
        line = line === '' ? word : `${line} ${word}`;
      }
    }
    if (line !== '') lines.push(line);
    return lines;
  };
  const out = [
    'Config fields (a JSON file given with --config; every field has a default unless marked required).',
    'The command-line flags (--epochs, --lr, ...) override the field named in their help.',
    '',
  ];
  for (const r of rows) {
    const who = r.optimizers ? ` (${r.optimizers.join(', ')})` : '';
    out.push(`${r.path.padEnd(indent)}${r.type}; ${r.default ? `default ${r.default}` : 'required'}`);
    for (const line of wrap(r.description + who)) out.push(' '.repeat(indent) + line);
  }
  out.push('', 'Layer types of model.layers ({"type": ..., fields}), input side first, ending with {"type": "dense", "units": 1}:', '');
  for (const layer of describeLayers()) {
    out.push(`${layer.type.padEnd(indent)}${layer.description || `activation: ${layer.type}(x) element by element`}`);
    for (const r of layer.fields) {
      out.push(`${' '.repeat(indent)}${r.path}: ${r.type}; ${r.default ? `default ${r.default}` : 'required'}${r.description ? ` (${r.description})` : ''}`);
    }
  }
  return out.join('\n') + '\n';
}
