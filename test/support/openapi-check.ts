import Ajv2020 from 'ajv/dist/2020';
import { OPERATIONS, openApiDocument } from '../../src/api/openapi';
import type { Page } from './browser';

const document = openApiDocument() as { components: { schemas: Record<string, object> } };
const ajv = new Ajv2020({ strict: false, allErrors: true });
for (const [name, schema] of Object.entries(document.components.schemas)) ajv.addSchema(schema, `#/components/schemas/${name}`);

/** Every route template of the document as a regular expression of a concrete path under /api/v1.0. */
const templates = Object.keys(OPERATIONS).map((template) => ({
  template,
  pattern: new RegExp(`^/api/v1\\.0${template.replace(/\{\w+\}/g, '[^/]+')}$`),
}));

/** The status and body of an actual response are those the OpenAPI document declares for the route. */
export function expectDocumented(page: Page): void {
  const path = new URL(page.url).pathname;
  const match = templates.find(({ pattern }) => pattern.test(path));
  if (!match) throw new Error(`${path} is not in the OpenAPI document`);
  const operation = OPERATIONS[match.template]![page.method.toLowerCase()];
  if (!operation) throw new Error(`${page.method} ${match.template} is not in the OpenAPI document`);
  const response = operation.responses[page.status];
  if (!response) throw new Error(`${page.method} ${match.template} answered ${page.status}, which the document does not declare`);
  if (!response.body) {
    if (page.body !== '') throw new Error(`${page.method} ${match.template} ${page.status} should have no body`);
    return;
  }
  const validate = ajv.getSchema(`#/components/schemas/${response.body}`)!;
  if (!validate(JSON.parse(page.body))) {
    throw new Error(`${page.method} ${match.template} ${page.status}: ${ajv.errorsText(validate.errors)} in ${page.body.slice(0, 300)}`);
  }
}
