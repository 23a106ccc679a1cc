/**
 * What an image file's first bytes say it is: the magic numbers of the formats browsers and ICE's precheck read
 * (JPEG, PNG, GIF, WebP, BMP). A file named `.jpg` whose bytes are none of these is not an image, whatever its name.
 */
const SIGNATURES: readonly { type: string; bytes: readonly number[]; at?: number; and?: { bytes: readonly number[]; at: number } }[] = [
  { type: 'image/jpeg', bytes: [0xff, 0xd8, 0xff] },
  { type: 'image/png', bytes: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] },
  { type: 'image/gif', bytes: [0x47, 0x49, 0x46, 0x38] },
  // RIFF....WEBP
  { type: 'image/webp', bytes: [0x52, 0x49, 0x46, 0x46], and: { bytes: [0x57, 0x45, 0x42, 0x50], at: 8 } },
  { type: 'image/bmp', bytes: [0x42, 0x4d] },
];

/** How many leading bytes imageTypeOf reads. */
export const IMAGE_MAGIC_BYTES = 12;

/** The image type the bytes start with, or undefined when they are no image (text, a PDF, an empty file). */
export function imageTypeOf(bytes: Uint8Array): string | undefined {
  const startsWith = (signature: readonly number[], at = 0) => signature.every((byte, index) => bytes[at + index] === byte);
  return SIGNATURES.find((candidate) => startsWith(candidate.bytes, candidate.at) && (!candidate.and || startsWith(candidate.and.bytes, candidate.and.at)))
    ?.type;
}
