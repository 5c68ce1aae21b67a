import type { Request } from 'express';
import { ApiError } from './errors';

/** DRF's PageNumberPagination, opt-in: `?page=` and `?page_size=` (at most this many). */
const MAX_PAGE_SIZE = 1000;
const DEFAULT_PAGE_SIZE = 100;

interface PageRequest {
  page: number;
  pageSize: number;
}

export interface Page<T> {
  count: number;
  next: string | null;
  previous: string | null;
  results: T[];
}

function positive(req: Request, name: string): number | undefined {
  const value = req.query[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^\d{1,9}$/.test(value) || Number(value) < 1) throw new ApiError(400, `${name}: a whole number from 1 is expected`);
  return Number(value);
}

/**
 * The page a list request asks for, or `undefined` without `page` and `page_size`: the list is then the
 * plain array La Suite front-ends read (docs/api.md, "Pagination").
 */
function pageRequest(req: Request): PageRequest | undefined {
  const page = positive(req, 'page');
  const pageSize = positive(req, 'page_size');
  if (page === undefined && pageSize === undefined) return undefined;
  return { page: page ?? 1, pageSize: Math.min(pageSize ?? DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE) };
}

/** One page of a list, with DRF's `count`, `next` and `previous` (absolute URLs, as DRF gives them). */
async function paginate<T>(
  req: Request,
  { page, pageSize }: PageRequest,
  count: () => Promise<number>,
  fetch: (skip: number, take: number) => Promise<T[]>,
): Promise<Page<T>> {
  const total = await count();
  const pages = Math.max(1, Math.ceil(total / pageSize));
  if (page > pages) throw new ApiError(404, 'Invalid page.');
  const link = (target: number) => {
    const url = new URL(`${req.protocol}://${req.get('host') ?? 'localhost'}${req.baseUrl}${req.path}`);
    url.searchParams.set('page', String(target));
    url.searchParams.set('page_size', String(pageSize));
    return url.href;
  };
  return {
    count: total,
    next: page < pages ? link(page + 1) : null,
    previous: page > 1 ? link(page - 1) : null,
    results: await fetch((page - 1) * pageSize, pageSize),
  };
}

/** A list route's answer: the whole list, or the page asked for (`count` is only run for a page). */
export async function listOrPage<T>(req: Request, count: () => Promise<number>, fetch: (skip?: number, take?: number) => Promise<T[]>): Promise<T[] | Page<T>> {
  const page = pageRequest(req);
  return page ? paginate(req, page, count, fetch) : fetch();
}
