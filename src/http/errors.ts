import type { Request, Response } from 'express';

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/**
 * An error answer: `{"detail": ...}` for API clients, a small page for browsers (a login is a browser
 * navigation). Never a stack trace.
 */
export function sendError(req: Request, res: Response, status: number, detail: string): void {
  if (res.headersSent) return;
  res.status(status);
  if (req.accepts(['json', 'html']) === 'html') {
    res
      .type('html')
      .send(
        `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${status}</title></head>` +
          `<body><h1>${status === 403 ? 'Access refused' : 'Something went wrong'}</h1><p>${escapeHtml(detail)}</p><p><a href="/">Back</a></p></body></html>`,
      );
  } else {
    res.json({ detail });
  }
}
