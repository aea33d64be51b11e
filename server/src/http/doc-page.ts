/**
 * A human-readable page for the OpenAPI document at /doc: plain server-rendered HTML with no
 * script, stylesheet or font from anywhere else (the usual viewers load theirs from a CDN, or
 * phone home on install), so it works on a machine without internet access.
 */
// biome-ignore lint/suspicious/noExplicitAny: an OpenAPI document, walked by key; its shape is checked by the document's tests
type Json = Record<string, any>;

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (char) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[char]!);

const schemaBlock = (schema: unknown) => `<pre>${escapeHtml(JSON.stringify(schema, null, 2))}</pre>`;

function operation(path: string, method: string, op: Json, shared: Json[]): string {
  const parameters = [...shared, ...(op.parameters ?? [])] as Json[];
  const rows = parameters
    .map(
      (p) =>
        `<tr><td><code>${escapeHtml(p.name)}</code></td><td>${escapeHtml(p.in)}</td><td>${p.required ? "yes" : "no"}</td><td><code>${escapeHtml(JSON.stringify(p.schema))}</code>${p.description ? ` ${escapeHtml(p.description)}` : ""}</td></tr>`,
    )
    .join("");
  const responses = Object.entries(op.responses as Json)
    .map(
      ([status, response]) =>
        `<li><b>${escapeHtml(status)}</b> ${escapeHtml(response.description)} <code>${escapeHtml(response.content?.["application/json"]?.schema?.$ref?.split("/").at(-1) ?? "")}</code></li>`,
    )
    .join("");
  return [
    `<section id="${escapeHtml(op.operationId)}"><h2><code>${method.toUpperCase()} ${escapeHtml(path)}</code></h2>`,
    `<p>${escapeHtml(op.summary ?? "")} <small>(${escapeHtml(op.operationId)})</small></p>`,
    rows ? `<table><tr><th>parameter</th><th>in</th><th>required</th><th>schema</th></tr>${rows}</table>` : "",
    op.requestBody ? `<h3>Request body (application/json)</h3>${schemaBlock(op.requestBody.content["application/json"].schema)}` : "",
    `<h3>Responses</h3><ul>${responses}</ul></section>`,
  ].join("\n");
}

export function renderDocPage(document: Json): string {
  const operations: string[] = [];
  for (const [path, item] of Object.entries(document.paths as Json)) {
    for (const [method, op] of Object.entries(item as Json)) {
      if (method !== "parameters") operations.push(operation(path, method, op as Json, (item as Json).parameters ?? []));
    }
  }
  const schemas = Object.entries(document.components.schemas as Json)
    .map(([name, schema]) => `<section id="schema-${escapeHtml(name)}"><h3>${escapeHtml(name)}</h3>${schemaBlock(schema)}</section>`)
    .join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(document.info.title)} API</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}pre{background:#f4f4f4;padding:.5rem;overflow:auto}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2rem .5rem;text-align:left}</style>
</head><body>
<h1>${escapeHtml(document.info.title)} ${escapeHtml(document.info.version)}</h1>
<p>${escapeHtml(document.info.description)} The machine-readable document: <a href="openapi.json">openapi.json</a> (OpenAPI ${escapeHtml(document.openapi)}).</p>
${operations.join("\n")}
<h2>Schemas</h2>
${schemas}
</body></html>
`;
}
