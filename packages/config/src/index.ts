/**
 * @westream/config — loads `west.yaml` / WESTPA's `west.cfg` into a checked, normalized `WestConfig`.
 *
 * ```ts
 * import { loadConfig, ConfigError } from '@westream/config';
 * const { config, warnings } = loadConfig('west.cfg'); // throws ConfigError (every problem, file:line:col)
 * ```
 */
export { loadConfig, loadConfigText } from './load-config.js';
export type { LoadedConfig } from './load-config.js';
export type { WestConfig, ChildProgram, Dataset, PcoordDtype } from './compile-config.js';
export { isPythonLoader } from './compile-config.js';
export type { StreamTrajectory, StreamPcoord } from './compile-stream.js';
export { GROMACS_PORT_PATTERN } from './compile-stream.js';
export { ConfigError, formatIssue } from './config-error.js';
export type { ConfigIssue } from './config-error.js';
export { WestYamlSchema } from './schema.js';
export type { WestYaml } from './schema.js';
export { westJsonSchema } from './json-schema.js';
export { mapperFromSpec, SUPPORTED_MAPPERS } from './bin-mapper-spec.js';
export type { BinMapperSpec } from './bin-mapper-spec.js';
export { DEFAULT_BIN_LOG_PATH } from './adaptive-mapper-spec.js';
export type { MabSpec, BinlessSpec, AdaptiveSpec } from './adaptive-mapper-spec.js';
export { specIsAdaptive } from './driver-spec.js';
export { parseTemplate, renderTemplate, formatValue, expandPath, TemplateError } from './template.js';
export type { TemplatePart, TemplateField } from './template.js';
export { parseWallclock } from './wallclock.js';
export { configReference } from './config-reference.js';
