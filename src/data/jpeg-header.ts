/**
 * The stored size of a JPEG, read from its frame header (SOF marker) without decoding anything:
 * what the decoder needs to choose libjpeg's scale-on-decode factor before handing the file to sharp.
 *
 *   FF D8 (start of image), then segments: FF <marker> <length: 2 bytes, big-endian, counts itself> ...
 *   SOFn (C0-C3, C5-C7, C9-CB, CD-CF): FF Cn <length> <precision: 1> <height: 2> <width: 2> <components: 1>
 *
 * C4 (Huffman tables), C8 (reserved) and CC (arithmetic conditioning) share the range but are not frames.
 * The size is the stored one, before EXIF orientation (a rotated photo is stored on its side).
 */

/** Width and height of the JPEG in `bytes`, or null when it is not a JPEG or its header cannot be read. */
export function jpegSize(bytes: Uint8Array): { width: number; height: number } | null {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return null;
  let at = 2;
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) return null; // not at a marker: a corrupt header
    const marker = bytes[at + 1]!;
    if (marker === 0xff) {
      at++; // fill byte
      continue;
    }
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      at += 2; // markers without a length
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) return null; // end of image or start of scan before any frame header
    const length = (bytes[at + 2]! << 8) | bytes[at + 3]!;
    if (length < 2) return null;
    const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isFrame) {
      if (at + 9 > bytes.length || length < 7) return null;
      const height = (bytes[at + 5]! << 8) | bytes[at + 6]!;
      const width = (bytes[at + 7]! << 8) | bytes[at + 8]!;
      return width > 0 && height > 0 ? { width, height } : null;
    }
    at += 2 + length;
  }
  return null;
}
