/**
 * What the decoder needs to know about a JPEG before handing it to sharp, read from its header
 * without decoding anything: the stored size (to choose libjpeg's scale-on-decode factor) and the
 * EXIF orientation (an upright photo needs no rotation step).
 *
 *   FF D8 (start of image), then segments: FF <marker> <length: 2 bytes, big-endian, counts itself> ...
 *   APP1 (E1) "Exif\0\0" + a TIFF block: "II" (little-endian) or "MM", 42, offset of IFD0; IFD0 is
 *     <count: 2> then count entries of 12 bytes: <tag: 2> <type: 2> <count: 4> <value or offset: 4>;
 *     tag 0x0112 (a SHORT) is the orientation, 1 = upright
 *   SOFn (C0-C3, C5-C7, C9-CB, CD-CF): FF Cn <length> <precision: 1> <height: 2> <width: 2> ...
 *
 * C4 (Huffman tables), C8 (reserved) and CC (arithmetic conditioning) share the range but are not
 * frames. Application segments come before the frame header, so reading up to it sees them all.
 * The size is the stored one, before EXIF orientation (a rotated photo is stored on its side).
 */

export interface JpegHeader {
  width: number;
  height: number;
  /**
   * The EXIF orientation (1..8; 1 when the file has none), or null when it cannot be told for sure
   * (an EXIF block that does not parse, or more than one): then let libvips read it.
   */
  orientation: number | null;
}

/** The header of the JPEG in `bytes`, or null when it is not a JPEG or its header cannot be read. */
export function jpegHeader(bytes: Uint8Array): JpegHeader | null {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return null;
  let orientation: number | null = 1;
  let exifBlocks = 0;
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
      return width > 0 && height > 0 ? { width, height, orientation: exifBlocks > 1 ? null : orientation } : null;
    }
    if (marker === 0xe1 && isExif(bytes, at + 4, length - 2)) {
      exifBlocks++;
      orientation = exifOrientation(bytes.subarray(at + 10, Math.min(bytes.length, at + 2 + length)));
    }
    at += 2 + length;
  }
  return null;
}

/** Width and height of the JPEG in `bytes` (as stored), or null when it is not a JPEG or its header cannot be read. */
export function jpegSize(bytes: Uint8Array): { width: number; height: number } | null {
  const header = jpegHeader(bytes);
  return header === null ? null : { width: header.width, height: header.height };
}

function isExif(bytes: Uint8Array, at: number, length: number): boolean {
  const EXIF = [0x45, 0x78, 0x69, 0x66, 0, 0]; // "Exif\0\0"
  return length >= 6 && at + 6 <= bytes.length && EXIF.every((b, i) => bytes[at + i] === b);
}

/** Tag 0x0112 of IFD0 of a TIFF block (1 when absent), or null when the block does not parse. */
function exifOrientation(tiff: Uint8Array): number | null {
  if (tiff.length < 8) return null;
  const little = tiff[0] === 0x49 && tiff[1] === 0x49;
  if (!little && !(tiff[0] === 0x4d && tiff[1] === 0x4d)) return null;
  const u16 = (i: number): number => (little ? tiff[i]! | (tiff[i + 1]! << 8) : (tiff[i]! << 8) | tiff[i + 1]!);
  const u32 = (i: number): number => (little ? (u16(i) | (u16(i + 2) << 16)) >>> 0 : ((u16(i) << 16) | u16(i + 2)) >>> 0);
  if (u16(2) !== 42) return null;
  const ifd = u32(4);
  if (ifd < 8 || ifd + 2 > tiff.length) return null;
  const entries = u16(ifd);
  if (ifd + 2 + 12 * entries > tiff.length) return null;
  for (let e = 0; e < entries; e++) {
    const entry = ifd + 2 + 12 * e;
    if (u16(entry) !== 0x0112) continue;
    const value = u16(entry + 8); // type SHORT, count 1: the value sits in the first two bytes of the field
    return u16(entry + 2) === 3 && u32(entry + 4) === 1 && value >= 1 && value <= 8 ? value : null;
  }
  return 1;
}
