import express, { type RequestHandler } from 'express';

/** JSON nested deeper than this is refused (400): deeper values overflow the stack of whoever walks them. */
export const MAX_JSON_DEPTH = 64;
const BODY_LIMIT = '1mb';

const OPEN = new Set([0x5b, 0x7b]); // [ {
const CLOSE = new Set([0x5d, 0x7d]); // ] }
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** The deepest nesting of arrays and objects in a JSON text, read without parsing it (strings skipped). */
export function jsonDepth(text: Buffer): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const byte = text[i]!;
    if (inString) {
      if (byte === BACKSLASH) i += 1;
      else if (byte === QUOTE) inString = false;
    } else if (byte === QUOTE) inString = true;
    else if (OPEN.has(byte)) deepest = Math.max(deepest, ++depth);
    else if (CLOSE.has(byte)) depth -= 1;
  }
  return deepest;
}

export class JsonTooDeepError extends Error {
  readonly status = 400;
  readonly type = 'entity.too.deep';
  constructor() {
    super(`JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
  }
}

/** express.json with the API's bounds: 1 MiB (413 beyond) and 64 levels of nesting (400 beyond), checked before parsing. */
export function jsonBody(): RequestHandler {
  return express.json({
    limit: BODY_LIMIT,
    verify: (_req, _res, buffer) => {
      if (jsonDepth(buffer) > MAX_JSON_DEPTH) throw new JsonTooDeepError();
    },
  });
}
