import { WestYamlSchema } from './schema.js';

/** The JSON Schema of west.yaml for editors (e.g. the YAML language server's `# yaml-language-server: $schema=`). */
export function westJsonSchema(): Record<string, unknown> {
  // TypeBox schemas are JSON Schema already; a JSON round trip drops its symbol-keyed metadata.
  return { $schema: 'http://json-schema.org/draft-07/schema#', ...(JSON.parse(JSON.stringify(WestYamlSchema)) as Record<string, unknown>) };
}
