import { readFileSync } from 'node:fs';
import ts from 'typescript';

/*
 * `npm run check:package`: every type a public signature names is exported. The bundled declaration
 * file holds a top-level declaration for each type the public API reaches; one that the file's export
 * list leaves out is a type a host sees but cannot import by name.
 */
const files = process.argv.slice(2);
let problems = 0;
for (const file of files) {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  const declared: string[] = [];
  const exported = new Set<string>();
  for (const statement of source.statements) {
    if (ts.isExportDeclaration(statement) && statement.exportClause && ts.isNamedExports(statement.exportClause)) {
      for (const element of statement.exportClause.elements) exported.add((element.propertyName ?? element.name).text);
    } else if (
      (ts.isInterfaceDeclaration(statement) ||
        ts.isTypeAliasDeclaration(statement) ||
        ts.isClassDeclaration(statement) ||
        ts.isFunctionDeclaration(statement) ||
        ts.isEnumDeclaration(statement)) &&
      statement.name
    ) {
      declared.push(statement.name.text);
    }
  }
  const missing = declared.filter((name) => !exported.has(name));
  for (const name of missing) console.error(`${file}: ${name} is part of the public API but not exported`);
  problems += missing.length;
  if (missing.length === 0) console.log(`${file}: ${declared.length} declarations, all exported`);
}
process.exitCode = problems > 0 ? 1 : 0;
