import { crc32, deflateSync } from 'node:zlib';

/**
 * A PNG drawn here (no image files in the repo): a portrait-sized stand-in for a customer's photo, a head and
 * shoulders on a warm background, so the customer page's preview and its screenshots look like what a customer sees.
 * Encoded as the PNG specification says (signature, IHDR, IDAT of deflated filter-0 rows, IEND; www.w3.org/TR/png-3/).
 */
export function portraitPng(width = 300, height = 400): Buffer {
  const rows = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    for (let x = 0; x < width; x++) {
      const head = ((x - width / 2) / (width * 0.2)) ** 2 + ((y - height * 0.38) / (height * 0.2)) ** 2 <= 1;
      const shoulders = y > height * 0.62 && ((x - width / 2) / (width * 0.42)) ** 2 + ((y - height) / (height * 0.4)) ** 2 <= 1;
      const [r, g, b] = head ? [236, 188, 160] : shoulders ? [38, 70, 120] : [255 - Math.round((y / height) * 60), 210, 170];
      rows.set([r, g, b], row + 1 + x * 3);
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB, deflate, filter 0, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}
