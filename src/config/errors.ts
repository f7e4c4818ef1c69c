/**
 * A bad flag, file or environment. The message is meant for an operator reading one line of
 * stderr, so it names the flag, the cluster and the path involved.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}
