/** Configuration: schema, defaults, loading (YAML + env + flags) and error formatting. */
export { AppConfigSchema, SourceKindSchema, type AppConfig, type AppConfigInput, type SourceKind } from './schema.js';
export { DEFAULTS } from './defaults.js';
export { loadConfig, validateConfig, parseConfigText, type LoadConfigOptions, type LoadedConfig } from './load.js';
export { ConfigError } from './errors.js';
export { configAdvice, type ConfigAdvice } from './advice.js';
export { ENV_PREFIX, envOverrides, resolveEnvPath } from './env.js';
