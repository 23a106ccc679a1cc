/**
 * The customer's photo, checked in the browser before anything is uploaded: its first bytes say its type (a renamed
 * HEIC or PDF is caught here, not after the upload), and its size is within the deployment's limit. The upload then
 * names the type its bytes have, so the server's suffix and type checks agree with it.
 */
export interface CheckedPhoto {
  contentType: string;
  /** The suffix POST /uploads gets (`photo.jpg`): the type the bytes have, whatever the file was called. */
  suffix: string;
}

/** Each type the page takes, by its magic number (the suffixes IMAGE_SUFFIXES may list for it). */
const TYPES: { contentType: string; suffixes: string[]; matches: (head: Uint8Array) => boolean }[] = [
  { contentType: 'image/jpeg', suffixes: ['.jpg', '.jpeg'], matches: (head) => head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff },
  { contentType: 'image/png', suffixes: ['.png'], matches: (head) => ascii(head, 1, 4) === 'PNG' && head[0] === 0x89 },
  { contentType: 'image/webp', suffixes: ['.webp'], matches: (head) => ascii(head, 0, 4) === 'RIFF' && ascii(head, 8, 12) === 'WEBP' },
];

const ascii = (bytes: Uint8Array, from: number, to: number): string => String.fromCharCode(...bytes.subarray(from, to));

export type PhotoProblem = { problem: 'type' } | { problem: 'size'; bytes: number };

/** The photo's type, or why it cannot be uploaded here (a type it is not, or more bytes than maxBytes). */
export async function checkPhoto(file: File, allowedSuffixes: string[], maxBytes: number): Promise<CheckedPhoto | PhotoProblem> {
  const head = new Uint8Array(await file.slice(0, 12).arrayBuffer());
  const type = TYPES.find((candidate) => candidate.matches(head));
  const suffix = type?.suffixes.find((candidate) => allowedSuffixes.includes(candidate));
  if (!type || !suffix) return { problem: 'type' };
  if (file.size > maxBytes) return { problem: 'size', bytes: file.size };
  return { contentType: type.contentType, suffix };
}

/** The photo as a data: URL, which the page's CSP allows as an image (img-src data:) without a new source. */
export function readAsDataUrl(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}
