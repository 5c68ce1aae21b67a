import { createRequire } from 'node:module';
import { join } from 'node:path';

/**
 * `require` as the host app's own code would call it: relative paths and package names resolve from
 * the working directory, not from inside this package (a custom ENTITLEMENTS_BACKEND module).
 */
export function hostRequire(): NodeJS.Require {
  return createRequire(join(process.cwd(), 'noop.js'));
}
