/**
 * A very small SVG writer: enough to build charts as strings, with no dependency and no DOM.
 *
 * Every piece of text that reaches the file (element text and attribute values) goes through
 * `escapeXml`, so a series called `a<b & "c"` or a run folder with odd characters in its name
 * cannot break the document. Numbers are written with at most two decimals: a hundredth of a
 * pixel is finer than any screen, and short numbers keep the files small and diffable.
 */

export type Attrs = Record<string, string | number | undefined>;

/**
 * Characters XML 1.0 forbids outright (C0 controls other than tab, newline and carriage return,
 * U+FFFE, U+FFFF, and unpaired surrogates). Escaping cannot make them legal, so they are dropped.
 */
const FORBIDDEN_XML_CHARS =
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Escapes text for use as element content or inside a double- or single-quoted attribute. */
export function escapeXml(text: string): string {
  return text.replace(FORBIDDEN_XML_CHARS, '').replace(/[&<>"']/g, (c) => {
    switch (c) {
      case '&':
        return '&amp;';
      case '<':
        return '&lt;';
      case '>':
        return '&gt;';
      case '"':
        return '&quot;';
      default:
        return '&#39;';
    }
  });
}

/** A coordinate or length as short text: at most two decimals, no "-0", no exponent for pixel values. */
export function num(x: number): string {
  if (!Number.isFinite(x)) throw new RangeError(`svg: cannot write the non-finite number ${x}`);
  const rounded = Math.round(x * 100) / 100;
  return Object.is(rounded, -0) ? '0' : String(rounded);
}

function attrText(attrs: Attrs): string {
  let out = '';
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined) continue;
    // Attribute names are always ours (never user text); a bad one is a programming error.
    if (!/^[A-Za-z_:][\w:.-]*$/.test(name)) throw new Error(`svg: bad attribute name ${JSON.stringify(name)}`);
    const text = typeof value === 'number' ? num(value) : escapeXml(value);
    out += ` ${name}="${text}"`;
  }
  return out;
}

/**
 * One element. `children` is markup that is already safe (built by these functions); use `text`
 * for plain text content, which is escaped.
 */
export function el(name: string, attrs: Attrs = {}, children: string | string[] = ''): string {
  const inner = Array.isArray(children) ? children.join('') : children;
  return inner === '' ? `<${name}${attrText(attrs)}/>` : `<${name}${attrText(attrs)}>${inner}</${name}>`;
}

/** A `<text>` element whose content is escaped. */
export function text(content: string, attrs: Attrs = {}): string {
  return `<text${attrText(attrs)}>${escapeXml(content)}</text>`;
}

/** The `points` attribute of a polyline: "x1,y1 x2,y2 ...". */
export function pointList(points: readonly (readonly [number, number])[]): string {
  return points.map(([x, y]) => `${num(x)},${num(y)}`).join(' ');
}

/**
 * A complete standalone SVG document of the given pixel size, on a white background so that it
 * reads the same in a dark-themed viewer as on paper.
 */
export function svgDocument(width: number, height: number, body: string | string[], title?: string): string {
  const parts = [
    '<?xml version="1.0" encoding="UTF-8"?>\n',
    `<svg xmlns="http://www.w3.org/2000/svg" width="${num(width)}" height="${num(height)}"`,
    ` viewBox="0 0 ${num(width)} ${num(height)}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">\n`,
    title === undefined ? '' : `<title>${escapeXml(title)}</title>\n`,
    el('rect', { width, height, fill: '#ffffff' }),
    '\n',
    Array.isArray(body) ? body.join('\n') : body,
    '\n</svg>\n',
  ];
  return parts.join('');
}

/**
 * Rough width in pixels of a line of text in a sans-serif font: SVG has no text metrics without a
 * renderer, and legends and margins only need to avoid overlaps, not to be exact.
 */
export function textWidth(content: string, fontSize: number): number {
  return [...content].length * fontSize * 0.6;
}
