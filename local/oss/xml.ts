/**
 * The XML of the local OSS server's answers (ListBucketResult, CopyObjectResult, PostResponse, Error): a tiny
 * renderer, so each answer is written as a tree of elements in OSS's element order and every text is escaped.
 */
import type { ServerResponse } from 'node:http';

export const XML_CONTENT_TYPE = 'application/xml';
const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>';

/** An element with text, or with child elements. */
export type XmlNode = readonly [name: string, content: string | readonly XmlNode[]];

/** Two-space indentation as in OSS's answers; text is written as is (escaped), so multi-line text stays intact. */
export function xmlDocument(root: XmlNode): string {
  return `${XML_DECLARATION}\n${renderXml(root, 0)}\n`;
}

function renderXml([name, content]: XmlNode, depth: number): string {
  const indent = '  '.repeat(depth);
  if (typeof content === 'string') return `${indent}<${name}>${escapeXml(content)}</${name}>`;
  return `${indent}<${name}>\n${content.map((child) => renderXml(child, depth + 1)).join('\n')}\n${indent}</${name}>`;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A 200 answer with an XML body. */
export function sendXml(res: ServerResponse, xml: string): void {
  res.writeHead(200, { 'Content-Type': XML_CONTENT_TYPE, 'Content-Length': Buffer.byteLength(xml) });
  res.end(xml);
}
